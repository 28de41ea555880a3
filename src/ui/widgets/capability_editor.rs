//! The Ably capability editor: the dashboard's eight checkboxes and four restriction modes, or a
//! validated JSON editor for capabilities the dashboard cannot express ("Custom"), and the
//! capability diff shown before saving.

use std::collections::BTreeSet;

use egui::{RichText, Ui};

use crate::model::capability::{
    self, Capability, CapabilityError, CapabilityForm, DASHBOARD, DiffLine, Restriction,
};
use crate::ui::theme::{self, Tone};

/// The restriction modes in the order of the dashboard.
const MODES: [&str; 4] = [
    "None",
    "Only channels",
    "Only queues",
    "Selected channels and queues",
];

/// The editor's state; [`CapabilityEditor::capability`] parses it on every frame.
#[derive(Clone, Debug, PartialEq)]
pub struct CapabilityEditor {
    custom: bool,
    ticked: BTreeSet<usize>,
    mode: usize,
    resources: Vec<String>,
    new_resource: String,
    new_resource_error: Option<String>,
    json: String,
}

impl Default for CapabilityEditor {
    fn default() -> Self {
        Self {
            custom: false,
            ticked: BTreeSet::new(),
            mode: 0,
            resources: Vec::new(),
            new_resource: String::new(),
            new_resource_error: None,
            json: "{}".to_owned(),
        }
    }
}

impl CapabilityEditor {
    /// Opens a key's capability: as checkboxes when the dashboard can show it, else as JSON.
    pub fn from_capability(cap: &Capability) -> Self {
        let mut e = Self {
            json: capability::to_json(cap),
            ..Self::default()
        };
        match capability::from_capability(cap) {
            CapabilityForm::Simple {
                ticked,
                restriction,
            } => {
                e.ticked = ticked;
                e.mode = match restriction {
                    Restriction::None => 0,
                    Restriction::OnlyChannels => 1,
                    Restriction::OnlyQueues => 2,
                    Restriction::Selected(list) => {
                        e.resources = list;
                        3
                    }
                };
            }
            CapabilityForm::Custom(_) => e.custom = true,
        }
        e
    }

    pub fn is_custom(&self) -> bool {
        self.custom
    }

    fn restriction(&self) -> Restriction {
        match self.mode {
            0 => Restriction::None,
            1 => Restriction::OnlyChannels,
            2 => Restriction::OnlyQueues,
            _ => Restriction::Selected(self.resources.clone()),
        }
    }

    /// The capability the editor describes, or why it is not valid yet.
    pub fn capability(&self) -> Result<Capability, CapabilityError> {
        if self.custom {
            capability::parse(&self.json)
        } else {
            capability::to_capability(&self.ticked, &self.restriction())
        }
    }

    fn add_resource(&mut self) {
        let r = self.new_resource.trim().to_owned();
        match capability::validate_resource(&r) {
            Ok(()) if self.resources.contains(&r) => {
                self.new_resource_error = Some(format!("{r} is already listed"));
            }
            Ok(()) => {
                self.resources.push(r);
                self.new_resource.clear();
                self.new_resource_error = None;
            }
            Err(e) => self.new_resource_error = Some(e.0),
        }
    }

    pub fn ui(&mut self, ui: &mut Ui) {
        if self.custom {
            self.custom_ui(ui);
        } else {
            self.simple_ui(ui);
        }
        // A new, untouched form says nothing yet.
        let touched = self.custom || !self.ticked.is_empty() || self.mode != 0;
        if touched && let Err(e) = self.capability() {
            super::field_error(ui, &e.0);
        }
    }

    fn simple_ui(&mut self, ui: &mut Ui) {
        ui.label(RichText::new("Capabilities").strong());
        for (i, d) in DASHBOARD.iter().enumerate() {
            let mut on = self.ticked.contains(&i);
            ui.horizontal(|ui| {
                if ui.checkbox(&mut on, d.label).changed() {
                    if on {
                        self.ticked.insert(i);
                    } else {
                        self.ticked.remove(&i);
                    }
                }
                super::muted(ui, d.help);
            });
        }
        ui.add_space(theme::SPACE_XS);
        ui.label(RichText::new("Resource restriction").strong());
        ui.horizontal_wrapped(|ui| {
            for (i, m) in MODES.iter().enumerate() {
                ui.radio_value(&mut self.mode, i, *m);
            }
        });
        if self.mode == 3 {
            let mut remove = None;
            for (i, r) in self.resources.iter().enumerate() {
                ui.horizontal(|ui| {
                    ui.monospace(r);
                    if super::icon_button(ui, "Remove", &format!("Remove {r}")).clicked() {
                        remove = Some(i);
                    }
                });
            }
            if let Some(i) = remove {
                self.resources.remove(i);
            }
            let mut add = false;
            ui.horizontal(|ui| {
                let label = ui.label("Channel or queue").id;
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.new_resource)
                            .hint_text("chat:*, [queue]orders, [meta]log")
                            .desired_width(240.0),
                    )
                    .labelled_by(label);
                if r.changed() {
                    self.new_resource_error = None;
                }
                if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    add = true;
                }
                if ui.button("Add").clicked() {
                    add = true;
                }
            });
            if add {
                self.add_resource();
            }
            if let Some(e) = &self.new_resource_error {
                super::field_error(ui, e);
            }
            super::muted(
                ui,
                "A * at the end of a segment is a wildcard; [queue] and [meta] name queues and metachannels",
            );
        }
        if ui.button("Edit as JSON").clicked() {
            if let Ok(cap) = self.capability() {
                self.json = capability::to_json(&cap);
            }
            self.custom = true;
        }
    }

    fn custom_ui(&mut self, ui: &mut Ui) {
        ui.label(RichText::new("Custom capability").strong());
        super::muted(
            ui,
            "Per-resource operations the checkboxes cannot show: a JSON object of resource: [operations]",
        );
        let label = ui.label("Capability JSON").id;
        ui.add(
            egui::TextEdit::multiline(&mut self.json)
                .code_editor()
                .desired_rows(6)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label);
        if let Ok(cap) = capability::parse(&self.json)
            && let CapabilityForm::Simple { .. } = capability::from_capability(&cap)
            && ui.button("Edit with checkboxes").clicked()
        {
            *self = Self::from_capability(&cap);
        }
    }
}

/// Draws the capability diff; says so when nothing changes.
pub fn diff_ui(ui: &mut Ui, before: &Capability, after: &Capability) {
    let dark = ui.visuals().dark_mode;
    let lines = capability::diff(before, after);
    if lines.is_empty() {
        super::muted(ui, "The capability does not change");
        return;
    }
    let added = theme::tone(Tone::Success, dark).fg;
    let removed = theme::tone(Tone::Error, dark).fg;
    for line in lines {
        match line {
            DiffLine::Added { resource, ops } => {
                ui.label(
                    RichText::new(format!("+ {resource}: {}", ops.join(", ")))
                        .monospace()
                        .color(added),
                );
            }
            DiffLine::Removed { resource, ops } => {
                ui.label(
                    RichText::new(format!("− {resource}: {}", ops.join(", ")))
                        .monospace()
                        .color(removed),
                );
            }
            DiffLine::Changed {
                resource,
                added: a,
                removed: r,
            } => {
                ui.label(RichText::new(format!("~ {resource}")).monospace());
                ui.indent(("capability-diff", &resource), |ui| {
                    if !a.is_empty() {
                        ui.label(
                            RichText::new(format!("+ {}", a.join(", ")))
                                .monospace()
                                .color(added),
                        );
                    }
                    if !r.is_empty() {
                        ui.label(
                            RichText::new(format!("− {}", r.join(", ")))
                                .monospace()
                                .color(removed),
                        );
                    }
                });
            }
        }
    }
}

/// Short badges for a capability: the ticked checkboxes and the restriction, or "Custom".
pub fn badges(cap: &Capability) -> Vec<String> {
    match capability::from_capability(cap) {
        CapabilityForm::Simple {
            ticked,
            restriction,
        } => {
            let mut out: Vec<String> = ticked
                .iter()
                .filter_map(|i| DASHBOARD.get(*i))
                .map(|d| d.label.to_owned())
                .collect();
            match restriction {
                Restriction::Selected(list) => out.extend(list),
                r => out.push(r.label().to_owned()),
            }
            out
        }
        CapabilityForm::Custom(c) if c.values().all(|ops| ops.iter().any(|o| o == "*")) => {
            let mut out = vec!["All operations".to_owned()];
            out.extend(c.keys().cloned());
            out
        }
        CapabilityForm::Custom(_) => vec!["Custom".to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_channels_and_queues_round_trip_through_the_editor() {
        let mut e = CapabilityEditor::default();
        e.ticked.extend([0, 1]);
        e.mode = 3;
        e.new_resource = "chat:*".into();
        e.add_resource();
        e.new_resource = "[queue]orders".into();
        e.add_resource();
        let cap = e.capability().unwrap();
        assert_eq!(cap.len(), 2);
        assert_eq!(cap["chat:*"], vec!["publish", "subscribe"]);
        let back = CapabilityEditor::from_capability(&cap);
        assert!(!back.is_custom());
        assert_eq!(back.mode, 3);
        assert_eq!(back.ticked, e.ticked);
        assert_eq!(back.capability().unwrap(), cap);
    }

    #[test]
    fn an_invalid_resource_is_refused_with_a_reason() {
        let mut e = CapabilityEditor {
            new_resource: "[bogus]x".into(),
            ..CapabilityEditor::default()
        };
        e.add_resource();
        assert!(e.resources.is_empty());
        assert!(e.new_resource_error.unwrap().contains("[bogus]"));
    }

    #[test]
    fn a_per_resource_capability_opens_as_custom_json() {
        let cap: Capability = [
            ("a".to_owned(), vec!["publish".to_owned()]),
            ("b".to_owned(), vec!["subscribe".to_owned()]),
        ]
        .into();
        let e = CapabilityEditor::from_capability(&cap);
        assert!(e.is_custom());
        assert_eq!(e.capability().unwrap(), cap);
        assert_eq!(badges(&cap), vec!["Custom"]);
    }
}
