//! Clipboard hygiene, presentation mode and the audit trail, through the whole app in a
//! kittest harness against an in-process sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use keydeck::audit;
use keydeck::config::Environment;
use keydeck::providers::cometchat::{NewAuthToken, NewUser, Scope};
use keydeck::ui::clipboard::MemoryClipboard;
use keydeck::ui::tabs::activity::{self, ExportFormat};
use keydeck::ui::{Tab, UiState};
use ui_common::{KeyChoice, click, fixture, row, settle, step_until};

const WAIT: Duration = Duration::from_secs(10);

fn with_memory_clipboard(f: &mut ui_common::Fixture, clear_secs: u64) -> MemoryClipboard {
    let mem = MemoryClipboard::default();
    let app = f.harness.state_mut();
    app.set_clipboard(mem.clone());
    app.restore_ui_state(UiState {
        clear_clipboard_secs: clear_secs,
        ..UiState::default()
    });
    mem
}

#[test]
fn a_copied_key_is_cleared_from_the_clipboard_after_the_delay() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let mem = with_memory_clipboard(&mut f, 1);
    let key = f.create_key("copy-bot", Scope::AuthOnly);
    f.wait_for_key("copy-bot");

    click(&mut f.harness, &format!("Copy key {}", row(&key)));
    step_until(
        &mut f.harness,
        "the key is on the clipboard",
        |_| mem.contents().as_deref() == Some(key.api_key.expose()),
        WAIT,
    );
    assert!(
        f.harness
            .state()
            .toasts()
            .any(|t| t.text.contains("clears in 1 s")),
        "the toast says when it will be cleared"
    );
    step_until(
        &mut f.harness,
        "the clipboard is cleared",
        |_| mem.contents().is_none(),
        WAIT,
    );
}

#[test]
fn something_copied_after_the_key_is_not_cleared() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let mem = with_memory_clipboard(&mut f, 1);
    let key = f.create_key("copy-bot", Scope::AuthOnly);
    f.wait_for_key("copy-bot");

    click(&mut f.harness, &format!("Copy key {}", row(&key)));
    step_until(
        &mut f.harness,
        "the key is on the clipboard",
        |_| mem.contents().as_deref() == Some(key.api_key.expose()),
        WAIT,
    );
    mem.put("the user's own text");
    step_until(
        &mut f.harness,
        "the clear has run",
        |h| h.state().clipboard().is_some_and(|c| !c.clear_pending()),
        WAIT,
    );
    assert_eq!(mem.contents().as_deref(), Some("the user's own text"));
}

#[test]
fn presentation_mode_masks_secrets_and_hides_reveal() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let key = f.create_key("show-bot", Scope::AuthOnly);
    f.wait_for_key("show-bot");

    // Revealed before presentation mode is turned on: it must be masked again.
    click(&mut f.harness, &format!("Reveal key {}", row(&key)));
    assert!(f.harness.query_by_label(key.api_key.expose()).is_some());

    ui_common::toggle_presentation(&mut f.harness);
    assert!(f.harness.state().ui_state().presentation_mode);
    assert!(
        f.harness.query_by_label(key.api_key.expose()).is_none(),
        "masked in presentation mode"
    );
    assert!(
        f.harness
            .query_by_label(&format!("Reveal key {}", row(&key)))
            .is_none()
            && f.harness
                .query_by_label(&format!("Hide key {}", row(&key)))
                .is_none(),
        "no reveal button in presentation mode"
    );

    ui_common::toggle_presentation(&mut f.harness);
    assert!(
        f.harness
            .query_by_label(&format!("Reveal key {}", row(&key)))
            .is_some()
    );
}

#[test]
fn reveal_and_copy_are_audited_with_masked_targets_and_an_intact_chain() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let mem = with_memory_clipboard(&mut f, 30);
    let key = f.create_key("audit-bot", Scope::AuthOnly);
    f.wait_for_key("audit-bot");

    click(&mut f.harness, &format!("Reveal key {}", row(&key)));
    click(&mut f.harness, &format!("Copy key {}", row(&key)));
    step_until(&mut f.harness, "copied", |_| mem.contents().is_some(), WAIT);
    // Audit records are appended off the UI thread.
    step_until(
        &mut f.harness,
        "the audit records land",
        |h| h.state().is_settled(),
        WAIT,
    );

    let path = f
        .harness
        .state()
        .audit_path()
        .expect("the audit trail is open")
        .to_owned();
    let records = audit::read_all(&path).expect("readable");
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    assert!(actions.contains(&"key.revealed"), "{actions:?}");
    assert!(actions.contains(&"secret.copied"), "{actions:?}");
    assert!(records.iter().all(|r| r.connection == "Test app"));
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(!text.contains(key.api_key.expose()), "no key in the trail");
    assert!(text.contains(&key.api_key.masked()));
    assert_eq!(
        audit::verify(&path, &f.vault).expect("intact").entries,
        records.len()
    );

    // The Activity window lists them newest first, filters, and exports.
    click(&mut f.harness, "Activity…");
    // The trail is read and checked off the UI thread.
    step_until(
        &mut f.harness,
        "the Activity window says the chain is intact",
        |h| h.query_by_label_contains("Chain intact").is_some(),
        WAIT,
    );
    let app = f.harness.state_mut();
    assert_eq!(app.activity.visible()[0].action, "secret.copied");
    app.activity.filter = "revealed".to_owned();
    assert_eq!(app.activity.visible().len(), 1);
    let out = f.dirs.path().join("activity.csv");
    activity::export(app.activity.records(), ExportFormat::Csv, &out).expect("exported");
    let csv = std::fs::read_to_string(&out).expect("readable");
    assert!(csv.starts_with("seq,time,user"));
    assert!(csv.contains("key.revealed"));
    settle(&mut f.harness);
}

#[test]
fn presentation_mode_masks_auth_tokens_and_hides_their_reveal() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    // The Users tab draws symbols the test font lacks (as in the users flows).
    f.harness = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .allow_missing_glyphs()
        .build_ui_state(
            |ui, app: &mut keydeck::ui::KeydeckApp| app.ui_root(ui),
            ui_common::app(&f.rt, &f.dirs, f.vault.clone(), false),
        );
    let admin = f.admin();
    let token =
        f.rt.block_on(async {
            admin
                .create_user(&NewUser {
                    uid: "shown".to_owned(),
                    name: "Shown User".to_owned(),
                    ..NewUser::default()
                })
                .await?;
            admin
                .create_auth_token("shown", &NewAuthToken::default())
                .await
        })
        .expect("user and token")
        .auth_token;
    f.harness.state_mut().restore_ui_state(UiState {
        tab: Tab::Users,
        presentation_mode: true,
        ..UiState::default()
    });
    step_until(
        &mut f.harness,
        "the user is listed",
        |h| h.query_by_label("Shown User").is_some(),
        WAIT,
    );
    click(&mut f.harness, "Shown User");
    step_until(
        &mut f.harness,
        "the token is listed",
        |h| h.query_by_label("Auth tokens (1)").is_some(),
        WAIT,
    );
    assert!(f.harness.query_by_label(token.expose()).is_none());
    assert!(
        f.harness
            .query_by_label(&format!("Reveal auth token {}", token.masked()))
            .is_none(),
        "no reveal in presentation mode"
    );
    assert!(
        f.harness
            .query_by_label(&format!("Copy auth token {}", token.masked()))
            .is_some(),
        "copy still works"
    );

    ui_common::toggle_presentation(&mut f.harness);
    click(
        &mut f.harness,
        &format!("Reveal auth token {}", token.masked()),
    );
    assert!(f.harness.query_by_label(token.expose()).is_some());
}

#[test]
fn an_audit_trail_edited_between_runs_is_named_in_a_banner_and_recording_goes_on() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let key = f.create_key("edited-bot", Scope::AuthOnly);
    f.wait_for_key("edited-bot");
    click(&mut f.harness, &format!("Reveal key {}", row(&key)));
    step_until(
        &mut f.harness,
        "the audit record lands",
        |h| h.state().is_settled(),
        WAIT,
    );
    let path = f
        .harness
        .state()
        .audit_path()
        .expect("the audit trail is open")
        .to_owned();
    let before = audit::read_all(&path).expect("readable");
    assert!(!before.is_empty());
    // Someone edits the first line's target between two runs.
    let text = std::fs::read_to_string(&path).expect("readable");
    let first = &before[0].target;
    let edited = text.replacen(first.as_str(), "nothing to see", 1);
    assert_ne!(edited, text);
    std::fs::write(&path, &edited).expect("written");

    // The next run says so, loudly, and names the line and the kept file.
    f.harness = ui_common::harness(ui_common::app(&f.rt, &f.dirs, f.vault.clone(), false));
    step_until(
        &mut f.harness,
        "the banner names the broken line",
        |h| {
            h.query_by_label_contains("The audit trail was changed outside Keydeck at line 1")
                .is_some()
        },
        WAIT,
    );
    assert!(
        f.harness
            .query_by_label_contains("The altered file is kept unchanged as")
            .is_some()
    );
    let kept: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("audit.broken-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), edited);

    // Recording goes on: the next action lands in the new segment, which verifies.
    f.wait_for_key("edited-bot");
    click(&mut f.harness, &format!("Reveal key {}", row(&key)));
    step_until(
        &mut f.harness,
        "the audit record lands",
        |h| h.state().is_settled(),
        WAIT,
    );
    let after = audit::read_all(&path).expect("readable");
    let actions: Vec<&str> = after.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions[0], "audit.segment_started", "{actions:?}");
    assert!(actions.contains(&"key.revealed"), "{actions:?}");
    assert!(audit::verify(&path, &f.vault).expect("intact").is_proven());

    // The Activity window says it too, above the new segment's entries.
    click(&mut f.harness, "Show activity");
    step_until(
        &mut f.harness,
        "the Activity window shows the new segment",
        |h| h.query_by_label_contains("Chain intact").is_some(),
        WAIT,
    );
    assert!(
        f.harness
            .query_all_by_label_contains("The audit trail was changed outside Keydeck")
            .count()
            >= 2,
        "banner and Activity window both say it"
    );
    click(&mut f.harness, "Dismiss");
    settle(&mut f.harness);
    assert_eq!(
        f.harness
            .query_all_by_label_contains("The audit trail was changed outside Keydeck")
            .count(),
        1,
        "the banner is gone; the Activity window still says it"
    );
}
