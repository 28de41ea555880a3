//! Bulk tokens flows: import a file of uids, preview, issue, cancel, export — the whole app in
//! a kittest harness against a sandbox over loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod common;
mod support;
mod users_common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use egui_kittest::kittest::{NodeT, Queryable};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, stream};
use keydeck::ui::file_dialog::Picked;
use keydeck::ui::tabs::users::FilePicker;
use keydeck::ui::tabs::users::bulk::Outcome;
use users_common::{Env, step_until, step_until_label, step_until_label_contains, wait_for_users};

/// Hands out fixed paths instead of opening file dialogs.
struct FixedPaths {
    import: PathBuf,
    export: PathBuf,
}

impl FilePicker for FixedPaths {
    fn pick_import(&self) -> BoxFuture<'static, Picked> {
        let p = self.import.clone();
        async move { Picked::Chosen(p) }.boxed()
    }
    fn pick_export(&self, _suggested: String) -> BoxFuture<'static, Picked> {
        let p = self.export.clone();
        async move { Picked::Chosen(p) }.boxed()
    }
}

fn token_counts(env: &Env, uids: &[String]) -> Vec<usize> {
    let client = env.client.clone();
    let uids = uids.to_vec();
    env.rt.block_on(async move {
        stream::iter(uids)
            .map(|uid| {
                let c = client.clone();
                async move {
                    c.list_auth_tokens(&uid, Some(100), None)
                        .await
                        .expect("tokens")
                        .items
                        .len()
                }
            })
            .buffered(16)
            .collect()
            .await
    })
}

#[test]
fn a_bulk_run_over_200_uids_issues_195_and_names_the_invalid_and_unknown_ones() {
    let env = Env::new();
    let existing: Vec<String> = (0..195).map(|i| format!("member-{i:03}")).collect();
    env.create_users(
        existing
            .iter()
            .map(|u| (u.clone(), format!("Member {u}")))
            .collect(),
    );
    // 200 lines: 195 existing (some written in capitals), 3 invalid, 2 unknown.
    let mut lines = vec!["uid,note".to_owned()];
    for (i, u) in existing.iter().enumerate() {
        lines.push(if i % 50 == 0 {
            format!("{},x", u.to_uppercase())
        } else {
            format!("{u},x")
        });
        match i {
            10 => lines.push("Bad Uid!,x".to_owned()),
            20 => lines.push("ghost-one,x".to_owned()),
            30 => lines.push("has space,x".to_owned()),
            40 => lines.push("ghost-two,x".to_owned()),
            50 => lines.push("ünïcode,x".to_owned()),
            _ => {}
        }
    }
    assert_eq!(lines.len(), 201);
    let file = env.dir.path().join("uids.csv");
    std::fs::write(&file, lines.join("\n")).expect("file written");
    let export = env.dir.path().join("results.csv");

    let mut h = env.harness();
    wait_for_users(&mut h, 195);
    h.state_mut()
        .tabs
        .users
        .bulk
        .set_file_picker(Arc::new(FixedPaths {
            import: file.clone(),
            export: export.clone(),
        }));
    h.get_by_label("Bulk tokens").click();
    step_until_label(&mut h, "Import file…");
    h.get_by_label("Import file…").click();

    // The preview says how many exist, are missing or invalid.
    step_until_label(&mut h, "195 exist");
    step_until_label(&mut h, "Issue 195 tokens");
    assert!(h.query_by_label("200 uids").is_some());
    assert!(h.query_by_label("2 missing").is_some());
    assert!(h.query_by_label("3 invalid").is_some());
    assert!(
        existing.iter().all(|u| env.token_count_quiet(u) == 0),
        "the preview issues nothing"
    );

    h.get_by_label("Issue 195 tokens").click();
    step_until_label(&mut h, "Issued 195 tokens");
    for name in [
        "ghost-one (unknown user)",
        "ghost-two (unknown user)",
        "Bad Uid! (invalid uid)",
        "has space (invalid uid)",
        "ünïcode (invalid uid)",
    ] {
        step_until_label_contains(&mut h, name);
    }
    let c = h.state().tabs.users.bulk.counts();
    assert_eq!((c.issued, c.invalid, c.missing, c.failed), (195, 3, 2, 0));
    assert_eq!(
        token_counts(&env, &existing),
        vec![1; 195],
        "exactly one token per existing uid"
    );

    // Export without tokens by default …
    let n = h
        .state()
        .tabs
        .users
        .bulk
        .export_to(export.clone(), false)
        .expect("exported");
    assert_eq!(n, 200);
    let text = std::fs::read_to_string(&export).expect("export read");
    assert!(text.starts_with("uid,result\n"));
    assert!(text.contains("member-000,issued\n"));
    assert!(text.contains("ghost-one,unknown user\n"));
    let issued: Vec<String> = h
        .state()
        .tabs
        .users
        .bulk
        .rows()
        .iter()
        .filter_map(|r| match &r.outcome {
            Some(Outcome::Issued(t)) => Some(t.expose().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(issued.len(), 195);
    assert!(issued.iter().all(|t| !text.contains(t.as_str())));

    // … and with them only after choosing so, past a warning.
    h.get_by_label("Export results…").click();
    step_until_label(&mut h, "Include tokens");
    assert!(h.query_by_label_contains("in plain text").is_none());
    h.get_by_label("Include tokens").click();
    step_until_label_contains(&mut h, "The file will hold 195 tokens in plain text");
    // The dialog grew; it re-centres a frame later.
    h.step();
    h.step();
    h.get_by_label("Save with tokens…").click();
    step_until(
        &mut h,
        "the export with tokens",
        |_| std::fs::read_to_string(&export).is_ok_and(|t| t.starts_with("uid,result,token\n")),
        Duration::from_secs(30),
    );
    let text = std::fs::read_to_string(&export).expect("export read");
    assert!(issued.iter().all(|t| text.contains(t.as_str())));
    let tokens = env
        .rt
        .block_on(env.client.list_auth_tokens("member-007", None, None))
        .expect("tokens")
        .items;
    assert!(text.contains(&format!(
        "member-007,issued,{}\n",
        tokens[0].auth_token.expose()
    )));
}

#[test]
fn cancel_stops_a_bulk_run_and_reports_what_was_done() {
    let env = Env::new();
    let uids: Vec<String> = (0..1000).map(|i| format!("crowd-{i:04}")).collect();
    env.create_users(uids.iter().map(|u| (u.clone(), u.clone())).collect());
    let file = env.dir.path().join("crowd.txt");
    std::fs::write(&file, uids.join("\n")).expect("file written");

    let mut h = env.harness();
    wait_for_users(&mut h, 1000);
    h.state_mut().tabs.users.show_bulk();
    h.state_mut()
        .tabs
        .users
        .bulk
        .import_path(file)
        .expect("imported");
    step_until_label(&mut h, "Issue 1,000 tokens");

    h.get_by_label("Issue 1,000 tokens").click();
    step_until(
        &mut h,
        "the run to start issuing",
        |h| h.state().tabs.users.bulk.counts().issued > 0,
        Duration::from_secs(30),
    );
    h.get_by_label("Cancel").click();
    step_until_label_contains(&mut h, "before you cancelled");

    let c = h.state().tabs.users.bulk.counts();
    assert!(c.issued > 0 && c.issued < 1000, "issued {}", c.issued);
    assert_eq!(c.issued + c.not_run + c.failed, 1000);
    assert!(
        h.query_by_label(&format!("Issued {} of 1000 before you cancelled", c.issued))
            .is_some()
    );
    step_until_label_contains(&mut h, &format!("{} not run", c.not_run));

    // The server holds exactly the tokens the report counts, on exactly those rows.
    let counts = token_counts(&env, &uids);
    let rows = h.state().tabs.users.bulk.rows();
    for (row, n) in rows.iter().zip(&counts) {
        let expected = usize::from(matches!(row.outcome, Some(Outcome::Issued(_))));
        assert_eq!(*n, expected, "tokens of {}", row.raw);
    }
    assert_eq!(counts.iter().sum::<usize>(), c.issued);
    assert!(!h.state().tabs.users.bulk.is_running());
}

/// A file dropped on the window, as the integration hands it over.
#[derive(Debug)]
struct DroppedPath(PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// A desktop without a file dialog (no portal, no zenity): every pick is unavailable.
struct NoDialog;

impl FilePicker for NoDialog {
    fn pick_import(&self) -> BoxFuture<'static, Picked> {
        async { Picked::Unavailable(keydeck::ui::file_dialog::NO_DIALOG.to_owned()) }.boxed()
    }
    fn pick_export(&self, _suggested: String) -> BoxFuture<'static, Picked> {
        async { Picked::Unavailable(keydeck::ui::file_dialog::NO_DIALOG.to_owned()) }.boxed()
    }
}

#[test]
fn without_a_file_dialog_import_and_export_say_so_and_take_a_typed_or_dropped_path() {
    let env = Env::new();
    env.create_users(vec![
        ("pat".to_owned(), "Pat Typed".to_owned()),
        ("drew".to_owned(), "Drew Dropped".to_owned()),
    ]);
    let typed = env.dir.path().join("typed.csv");
    std::fs::write(&typed, "pat\n").expect("file written");
    let dropped = env.dir.path().join("dropped.txt");
    std::fs::write(&dropped, "drew\npat\n").expect("file written");

    let mut h = env.harness();
    wait_for_users(&mut h, 2);
    h.state_mut()
        .tabs
        .users
        .bulk
        .set_file_picker(Arc::new(NoDialog));
    h.get_by_label("Bulk tokens").click();
    step_until_label(&mut h, "Import file…");
    h.get_by_label("Import file…").click();

    // It says why nothing opened and asks for the path; a wrong one is refused under it.
    step_until_label_contains(&mut h, "No file dialog could be opened on this desktop");
    let field = "Path of the file to import";
    h.get_by_label(field).click();
    h.step();
    h.get_by_label(field)
        .type_text(&env.dir.path().join("nope.csv").display().to_string());
    h.run_steps(2);
    step_until_label_contains(&mut h, "There is no file at");
    assert!(h.get_by_label("Import").accesskit_node().is_disabled());
    users_common::replace_in(&mut h, field, &typed.display().to_string());
    h.get_by_label("Import").click();
    step_until_label(&mut h, "Issue 1 token");
    assert!(h.query_by_label(field).is_none(), "the prompt closed");

    // A file dropped on the window imports at once.
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(dropped.clone())));
    step_until_label(&mut h, "Issue 2 tokens");

    // Export: the same, to a typed path in an existing folder.
    h.get_by_label("Issue 2 tokens").click();
    step_until_label(&mut h, "Issued 2 tokens");
    h.get_by_label("Export results…").click();
    step_until_label(&mut h, "Save CSV…");
    h.get_by_label("Save CSV…").click();
    let save = "Path to save to";
    step_until_label(&mut h, save);
    let out = env.dir.path().join("results.csv");
    users_common::replace_in(&mut h, save, &out.display().to_string());
    h.get_by_label("Save").click();
    step_until(
        &mut h,
        "the results file to be written",
        |_| out.exists(),
        Duration::from_secs(10),
    );
    let csv = std::fs::read_to_string(&out).expect("readable");
    assert!(csv.contains("drew") && csv.contains("pat"), "{csv}");
}
