//! The window's chrome: the top bar (tabs, connection switcher, settings, theme), the
//! banners under it and the status bar.

use egui::{RichText, Ui};

use crate::config::ConnectionKind;
use crate::core::session::{KeychainState, Session};
use crate::ui::context::{Command, Tab};
use crate::ui::theme::{self, Tone};
use crate::ui::widgets;
use crate::vault::Backend;

use super::{KeydeckApp, ThemeChoice};

/// The smallest window Keydeck opens at (`window.rs`): the top bar and every dialog are
/// checked to fit it (`tests/ui_layout.rs`).
pub const MIN_WINDOW_SIZE: [f32; 2] = [960.0, 600.0];

/// Where the top bar remembers the window width below which its full form did not fit.
fn compact_below_id() -> egui::Id {
    egui::Id::unique("keydeck-top-bar-compact-below")
}

/// The width all the tab titles need side by side, selected (strong) text included.
fn tabs_width(ui: &Ui) -> f32 {
    let font = egui::TextStyle::Button.resolve(ui.style());
    let spacing = ui.spacing();
    Tab::ALL
        .iter()
        .map(|t| {
            let text = ui
                .painter()
                .layout_no_wrap(t.title().to_owned(), font.clone(), egui::Color32::WHITE)
                .size()
                .x;
            // Strong text is a little wider; a few points of slack per tab.
            text + 2.0 * spacing.button_padding.x + spacing.item_spacing.x + 4.0
        })
        .sum()
}

impl KeydeckApp {
    /// The top bar: the right-hand controls first, then the tabs in what is left. When the
    /// tabs do not fit, the bar turns compact (no Presentation mode button, which stays in
    /// Settings, no name beside the icon, a narrower connection switcher) for windows up to
    /// that width; if they still do not fit, the selected tab shows and the others go in a
    /// "More tabs" menu. Every tab stays reachable down to [`MIN_WINDOW_SIZE`].
    pub(super) fn top_bar_ui(&mut self, ui: &mut Ui, commands: &mut Vec<Command>) {
        let ctx = ui.ctx().clone();
        let width = ctx.content_rect().width();
        let compact_below = ctx.data(|d| d.get_temp::<f32>(compact_below_id()));
        let compact = compact_below.is_some_and(|w| width < w);
        ui.horizontal(|ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                self.theme_toggle_ui(ui, commands);
                if !compact {
                    let presenting = self.ui_state.presentation_mode;
                    let r = ui
                        .selectable_label(presenting, "Presentation mode")
                        .on_hover_text("Mask every secret and disable reveal (for screen sharing)");
                    if r.clicked() {
                        commands.push(Command::SetPresentationMode(!presenting));
                    }
                }
                if ui.button("Activity…").clicked() {
                    self.activity.open = true;
                    self.activity.mark_stale();
                }
                self.settings_menu_ui(ui, commands);
                ui.add_space(theme::SPACE_S);
                self.connection_switcher_ui(ui, if compact { 200.0 } else { 280.0 }, commands);
                ui.add_space(theme::SPACE_S);
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    let fits = self.brand_and_tabs_ui(ui, compact, commands);
                    if !fits && !compact {
                        // Lay this frame out again, compact up to this window width.
                        ctx.data_mut(|d| d.insert_temp(compact_below_id(), width + 1.0));
                        ctx.request_discard("the top bar turns compact");
                    }
                });
            });
        });
    }

    /// The icon, the name (not when compact) and the tabs, in the width left by the controls.
    /// Returns whether every tab fitted (else the overflow menu holds the others).
    fn brand_and_tabs_ui(
        &mut self,
        ui: &mut Ui,
        compact: bool,
        commands: &mut Vec<Command>,
    ) -> bool {
        let dark = ui.visuals().dark_mode;
        if let Some(icon) = &self.icon {
            ui.add(
                egui::Image::new(icon)
                    .fit_to_exact_size(egui::vec2(22.0, 22.0))
                    .alt_text("Keydeck"),
            );
        }
        if !compact {
            ui.label(RichText::new("Keydeck").strong().size(16.0));
            ui.add_space(theme::SPACE_L);
        }
        let title = |tab: Tab, selected: bool| {
            if selected {
                RichText::new(tab.title())
                    .strong()
                    .color(theme::accent(dark))
            } else {
                RichText::new(tab.title())
            }
        };
        let findings = self.tabs.hygiene.inventory.finding_count();
        // Room for the findings count beside the Hygiene tab.
        let badge = if findings > 0 { 32.0 } else { 0.0 };
        let fits = tabs_width(ui) + badge <= ui.available_width();
        for tab in Tab::ALL {
            let selected = self.ui_state.tab == tab;
            if (fits || selected)
                && ui
                    .selectable_label(selected, title(tab, selected))
                    .clicked()
            {
                commands.push(Command::SelectTab(tab));
            }
            if tab == Tab::Hygiene && findings > 0 && (fits || selected) {
                widgets::badge(
                    ui,
                    &crate::words::thousands(findings as u64),
                    theme::tone(Tone::Warning, dark),
                )
                .on_hover_text(crate::words::count(
                    findings,
                    "hygiene finding",
                    "hygiene findings",
                ));
            }
        }
        if !fits {
            ui.menu_button("More tabs", |ui| {
                for tab in Tab::ALL.into_iter().filter(|t| *t != self.ui_state.tab) {
                    if ui.button(tab.title()).clicked() {
                        commands.push(Command::SelectTab(tab));
                        ui.close();
                    }
                }
            });
        }
        fits
    }

    fn settings_menu_ui(&mut self, ui: &mut Ui, commands: &mut Vec<Command>) {
        ui.menu_button("Settings", |ui| {
            let mut presenting = self.ui_state.presentation_mode;
            if ui
                .checkbox(&mut presenting, "Presentation mode (mask every secret)")
                .changed()
            {
                commands.push(Command::SetPresentationMode(presenting));
            }
            ui.horizontal(|ui| {
                ui.label("Clear copied secrets after");
                let r = ui.add(
                    egui::DragValue::new(&mut self.ui_state.clear_clipboard_secs)
                        .range(5..=600)
                        .suffix(" s"),
                );
                widgets::name_widget(ui, &r, "Clear copied secrets after (seconds)");
            });
            if self.clipboard.is_none() {
                widgets::muted(
                    ui,
                    "The system clipboard is not available: copies are not cleared",
                );
            }
            ui.separator();
            if ui.button("Copy diagnostics").clicked() {
                commands.push(Command::CopyDiagnostics);
                ui.close();
            }
        });
    }

    fn theme_toggle_ui(&mut self, ui: &mut Ui, commands: &mut Vec<Command>) {
        let dark = ui.visuals().dark_mode;
        let (text, name) = if dark {
            ("Light", "Switch to the light theme")
        } else {
            ("Dark", "Switch to the dark theme")
        };
        let r = ui.button(text);
        let label = name.to_owned();
        ui.ctx()
            .accesskit_node_builder(r.id, |n| n.set_label(label));
        let r = r.on_hover_text(format!("{name} (right-click to follow the system)"));
        if r.clicked() {
            commands.push(Command::ToggleTheme);
        }
        r.context_menu(|ui| {
            if ui
                .selectable_label(
                    self.ui_state.theme == ThemeChoice::System,
                    "Follow the system theme",
                )
                .clicked()
            {
                self.ui_state.theme = ThemeChoice::System;
                ui.close();
            }
        });
    }

    fn connection_switcher_ui(&mut self, ui: &mut Ui, width: f32, commands: &mut Vec<Command>) {
        let active = self.session.active_connection().cloned();
        if let Some(c) = &active {
            widgets::environment_badge(ui, c.environment);
        }
        let selected_text = match &active {
            Some(c) => format!(
                "{}  ·  {}",
                c.label,
                crate::core::kinds::spec(&c.kind).provider()
            ),
            None => "No connection".to_owned(),
        };
        let combo = egui::ComboBox::from_id_salt("keydeck-connection")
            .selected_text(selected_text)
            .width(width)
            .truncate()
            .show_ui(ui, |ui| {
                if self.session.config().connections.is_empty() {
                    widgets::muted(ui, "No connections yet");
                }
                for c in &self.session.config().connections {
                    let selected = active.as_ref().is_some_and(|a| a.id == c.id);
                    ui.horizontal(|ui| {
                        let r = ui.selectable_label(
                            selected,
                            format!(
                                "{}  ·  {}",
                                c.label,
                                crate::core::kinds::spec(&c.kind).provider()
                            ),
                        );
                        widgets::environment_badge(ui, c.environment);
                        if r.clicked() {
                            commands.push(Command::SelectConnection(c.id.clone()));
                        }
                    });
                }
                ui.separator();
                if ui.button("Manage connections…").clicked() {
                    commands.push(Command::SelectTab(Tab::Connections));
                }
            })
            .response;
        ui.ctx()
            .accesskit_node_builder(combo.id, |n| n.set_label("Connection"));
    }

    pub(super) fn banners_ui(&mut self, ui: &mut Ui) {
        let show_sandbox = !self.sandbox.banner_dismissed
            && self
                .session
                .active_connection()
                .is_some_and(|c| c.embedded_sandbox);
        let keychain = keychain_banner(&self.session);
        let config_problem = self.session.config_problem().map(str::to_owned);
        let chain_break = self
            .session
            .recorder()
            .chain_break()
            .filter(|_| !self.activity.chain_break_dismissed);
        let hygiene = &self.tabs.hygiene.inventory;
        let due: Vec<String> = if hygiene.banner_dismissed {
            Vec::new()
        } else {
            hygiene.due_soon().iter().map(|f| f.title.clone()).collect()
        };
        if !show_sandbox
            && keychain.is_none()
            && config_problem.is_none()
            && chain_break.is_none()
            && due.is_empty()
        {
            return;
        }
        let shown = egui::Panel::top("keydeck-banners")
            // Sized by its messages every frame: a resizable panel keeps an old height and
            // cuts off a message that wrapped onto another line in a narrower window.
            .resizable(false)
            .frame(
                // Filled: with no fill the window's clear colour (black) shows through, and a
                // light theme's messages were unreadable on it.
                egui::Frame::new()
                    .fill(ui.visuals().panel_fill)
                    .inner_margin(egui::Margin {
                        left: 16,
                        right: 16,
                        top: 10,
                        bottom: 0,
                    }),
            )
            .show_separator_line(false)
            .show(ui, |ui| {
                if let Some((title, body, actions)) = keychain {
                    if widgets::message(ui, Tone::Warning, title, &body, actions).is_some() {
                        self.commands.push(Command::RetryKeychain);
                    }
                    ui.add_space(theme::SPACE_XS);
                }
                self.alert_banners_ui(ui, chain_break, &due);
                if let Some(problem) = config_problem {
                    widgets::message(
                        ui,
                        Tone::Error,
                        "The connections file could not be read",
                        &format!("Keydeck started without connections and will not overwrite it until you change a connection. {problem}"),
                        &[],
                    );
                    ui.add_space(theme::SPACE_XS);
                }
                if show_sandbox {
                    let provider = self
                        .session
                        .active_connection()
                        .map(|c| match c.kind {
                            ConnectionKind::AblyAccount { .. } => "Ably",
                            ConnectionKind::Cometly => "Cometly",
                            _ => "CometChat",
                        })
                        .unwrap_or("CometChat");
                    let body = format!(
                        "This connection talks to the {provider} emulator built into Keydeck, running on this machine. Everything here is demo data; nothing reaches {provider}."
                    );
                    let clicked = widgets::message(
                        ui,
                        Tone::Info,
                        "Local sandbox, not a live service",
                        &body,
                        &["Dismiss"],
                    );
                    if clicked.is_some() {
                        self.sandbox.banner_dismissed = true;
                    }
                    ui.add_space(theme::SPACE_XS);
                }
            });
        // A message that wrapped onto another line (a narrower window) made the panel taller
        // than the space it was given this frame: draw once more rather than leave it cut off
        // until the next event.
        let height = shown.response.rect.height();
        let id = egui::Id::unique("keydeck-banners-height");
        let before = ui.ctx().data(|d| d.get_temp::<f32>(id));
        if before != Some(height) {
            ui.ctx().data_mut(|d| d.insert_temp(id, height));
            ui.ctx().request_repaint();
        }
    }

    /// The audit trail found altered, and the hygiene findings due this week.
    fn alert_banners_ui(
        &mut self,
        ui: &mut Ui,
        chain_break: Option<crate::audit::ChainBreak>,
        due: &[String],
    ) {
        if let Some(found) = chain_break {
            match widgets::message(
                ui,
                Tone::Error,
                &found.headline(),
                &found.body(),
                &["Show activity", "Dismiss"],
            ) {
                Some(0) => self.activity.open = true,
                Some(_) => self.activity.chain_break_dismissed = true,
                None => {}
            }
            ui.add_space(theme::SPACE_XS);
        }
        if !due.is_empty() {
            let title = format!(
                "Key hygiene: {} due within a week",
                crate::words::count(due.len(), "finding", "findings")
            );
            let mut body = due.iter().take(3).cloned().collect::<Vec<_>>().join(". ");
            if due.len() > 3 {
                body.push_str(&format!(". And {} more.", due.len() - 3));
            }
            match widgets::message(
                ui,
                Tone::Warning,
                &title,
                &body,
                &["Open Hygiene", "Dismiss"],
            ) {
                Some(0) => self.commands.push(Command::SelectTab(Tab::Hygiene)),
                Some(_) => self.tabs.hygiene.inventory.banner_dismissed = true,
                None => {}
            }
            ui.add_space(theme::SPACE_XS);
        }
    }

    pub(super) fn status_bar_ui(&self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = theme::SPACE_M;
            let secrets = match (self.session.keychain(), self.session.vault().backend()) {
                (KeychainState::Checking, _) if self.session.keychain_waiting() => {
                    "Secrets: waiting for the keychain to be unlocked…"
                }
                (KeychainState::Checking, _) => "Secrets: opening the OS keychain…",
                (_, Backend::Os) => "Secrets: OS keychain",
                (_, Backend::Memory) => "Secrets: memory only (this session)",
            };
            widgets::muted(ui, secrets);
            if let Some(line) = self.sandbox.status_line() {
                widgets::muted(ui, line);
            }
            if let Err(p) = &self.client
                && p.is_transient()
            {
                ui.spinner();
            }
            self.retry.ui(ui);
        });
    }
}

/// What the banner says about the keychain, when there is something to say: (title, body,
/// the action that asks the keychain again).
fn keychain_banner(session: &Session) -> Option<(&'static str, String, &'static [&'static str])> {
    match session.keychain() {
        KeychainState::Checking if session.keychain_waiting() => Some((
            "The OS keychain is locked: waiting for you to unlock it",
            "Keydeck asked your keychain for its secrets and a system prompt should be open; unlock it there. Secrets you save meanwhile are kept in memory and written to the keychain once it opens.".to_owned(),
            &[],
        )),
        KeychainState::Unavailable(reason) => {
            let locked = reason.contains("locked");
            Some((
                "No OS keychain: secrets are kept in memory for this session only",
                format!(
                    "Keydeck never writes secrets to a file, so they are lost when it quits unless the keychain opens. {}The keychain said: {reason}",
                    if locked {
                        "Unlock it, and Keydeck writes them there. "
                    } else {
                        "Start it (or install a Secret Service such as GNOME Keyring) and try again. "
                    }
                ),
                if locked { &["Unlock…"] } else { &["Try again"] },
            ))
        }
        _ => None,
    }
}
