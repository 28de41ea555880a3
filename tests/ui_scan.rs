//! The Hygiene tab's leak scan through the whole app (kittest, a sandbox over loopback, the
//! in-memory keychain): a folder with the connection's key in it is scanned; the finding names
//! the file, the line and the masked prefix, never the key; the scan is audited without it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use keydeck::config::Environment;
use keydeck::ui::{Command, Tab};
use ui_common::{KeyChoice, click, fixture, step_until};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn a_folder_holding_the_connections_key_is_found_masked_and_audited_without_it() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let key = f.sandbox.info().cometchat.apps[0].rest_api_key.clone();
    f.wait_for_keys();

    // A checkout: the key in a committed file, and in a folder .gitignore leaves out.
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("config")).unwrap();
    std::fs::create_dir_all(repo.path().join("ignored")).unwrap();
    std::fs::write(repo.path().join(".gitignore"), "ignored/\n").unwrap();
    std::fs::write(
        repo.path().join("config/app.env"),
        format!("# settings\nREGION=us\nCOMETCHAT_KEY={key}\n"),
    )
    .unwrap();
    std::fs::write(repo.path().join("ignored/leak.txt"), &key).unwrap();
    std::fs::write(repo.path().join("README.md"), "nothing here\n").unwrap();

    f.harness
        .state_mut()
        .push_command(Command::SelectTab(Tab::Hygiene));
    ui_common::settle(&mut f.harness);
    ui_common::type_into(
        &mut f.harness,
        "Folder to scan",
        &repo.path().display().to_string(),
    );
    click(&mut f.harness, "Scan");
    step_until(
        &mut f.harness,
        "the scan finishes",
        |h| h.state().tabs.hygiene.report().is_some(),
        WAIT,
    );
    let report = f.harness.state().tabs.hygiene.report().unwrap().clone();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let found = &report.findings[0];
    assert_eq!((found.line, found.column), (3, 15));
    assert!(found.path.ends_with("config/app.env"));
    step_until(
        &mut f.harness,
        "the finding is shown",
        |h| {
            h.query_by_label(&format!("1 secret found in {}", repo.path().display()))
                .is_some()
        },
        WAIT,
    );
    for shown in [
        "config/app.env",
        "3:15",
        "CometChat API key",
        "Test app · REST API key",
    ] {
        assert!(
            f.harness.query_by_label(shown).is_some(),
            "{shown} is shown"
        );
    }
    assert!(
        f.harness
            .query_all_by_label(&keydeck::secret::mask(&key))
            .count()
            >= 1,
        "the masked prefix is shown (in the finding, and in the inventory above it)"
    );
    assert!(
        f.harness.query_by_label_contains(&key).is_none(),
        "the key itself is shown nowhere"
    );

    // Audited: the folder and the counts, never the value.
    step_until(
        &mut f.harness,
        "the audit record lands",
        |h| h.state().is_settled(),
        WAIT,
    );
    let path = f.harness.state().audit_path().unwrap().to_owned();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("scan.completed"), "{text}");
    assert!(!text.contains(&key));

    // Open goes to the key's connection, on the API keys tab.
    click(&mut f.harness, "Open REST API key of Test app");
    step_until(
        &mut f.harness,
        "the API keys tab",
        |h| h.state().selected_tab() == Tab::Keys,
        WAIT,
    );
}
