//! Users & tokens flows: the whole app in a kittest harness, against a sandbox over loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod common;
mod support;
mod users_common;

use std::time::Duration;

use egui::{Key, Modifiers};
use egui_kittest::kittest::{NodeT, Queryable};
use keydeck::providers::cometchat::NewAuthToken;
use users_common::{
    Env, copied_text, replace_in, step_until, step_until_label, step_until_label_contains,
    type_into, wait_for_users,
};

#[test]
fn search_finds_a_user_among_5000_and_three_keys_copy_a_new_token() {
    let env = Env::new();
    let mut users: Vec<(String, String)> = (0..5000)
        .filter(|i| *i != 3141)
        .map(|i| (format!("user-{i:05}"), format!("Person {i}")))
        .collect();
    users.push(("user-03141".to_owned(), "Grace Hopper".to_owned()));
    env.create_users(users);

    let mut h = env.harness();
    wait_for_users(&mut h, 5000);
    step_until_label(&mut h, "5,000 users");

    // 1. Type: the list narrows to the one user.
    h.get_by_label("Search users").click();
    h.step();
    h.get_by_label("Search users").type_text("grace hop");
    step_until_label_contains(&mut h, "1 of 5,000 loaded users match");
    assert!(h.query_by_label("Grace Hopper").is_some());
    assert!(h.query_by_label("Person 4999").is_none());

    // 2. Enter opens the user.
    h.key_press(Key::Enter);
    step_until(
        &mut h,
        "the user to open",
        |h| h.state().tabs.users.open_uid() == Some("user-03141"),
        Duration::from_secs(30),
    );
    step_until_label(&mut h, "Auth tokens (0)");

    // 3. Ctrl+Shift+C issues a token and copies it.
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::C);
    let mut copied = None;
    step_until(
        &mut h,
        "the new token on the clipboard",
        |h| {
            copied = copied_text(h);
            copied.is_some()
        },
        Duration::from_secs(30),
    );
    let tokens = env
        .rt
        .block_on(env.client.list_auth_tokens("user-03141", None, None))
        .expect("tokens")
        .items;
    assert_eq!(tokens.len(), 1, "exactly one token was issued");
    assert_eq!(copied.as_deref(), Some(tokens[0].auth_token.expose()));
    step_until_label(&mut h, "Auth tokens (1)");
}

#[test]
fn a_new_user_with_an_invalid_uid_is_refused_under_the_field_and_a_valid_one_appears() {
    let env = Env::new();
    env.create_users(vec![("existing".to_owned(), "Existing User".to_owned())]);
    let mut h = env.harness();
    wait_for_users(&mut h, 1);

    h.get_by_label("New user…").click();
    step_until_label(&mut h, "User ID (uid)");
    type_into(&mut h, "User ID (uid)", "Bad Uid!");
    type_into(&mut h, "Display name", "Jane Doe");
    step_until_label_contains(&mut h, "A uid may only use a–z, 0–9, - and _");
    let create = h.get_by_label("Create user");
    assert!(
        create.accesskit_node().is_disabled(),
        "Create user stays disabled while the uid is invalid"
    );
    create.click();
    h.step();
    h.step();
    assert!(
        env.rt
            .block_on(env.client.get_user("bad uid!", None))
            .is_err(),
        "nothing was sent"
    );

    // Metadata is checked as JSON too.
    type_into(&mut h, "Metadata (JSON)", "{oops");
    step_until_label_contains(&mut h, "Not valid JSON");

    // Fix both fields: the uid is shown as it will be stored.
    replace_in(&mut h, "User ID (uid)", "Jane-Doe");
    replace_in(&mut h, "Metadata (JSON)", "{\"plan\": \"pro\"}");
    step_until_label(&mut h, "Stored as jane-doe");
    assert!(h.query_by_label_contains("A uid may only use").is_none());
    assert!(h.query_by_label_contains("Not valid JSON").is_none());
    h.get_by_label("Issue an auth token now").click();
    h.step();
    let create = h.get_by_label("Create user");
    assert!(
        !create.accesskit_node().is_disabled(),
        "Create user is enabled once the form is valid: {:?}",
        ["User ID (uid)", "Display name", "Metadata (JSON)"].map(|l| h.get_by_label(l).value())
    );
    create.click();

    step_until(
        &mut h,
        "the new user to open",
        |h| h.state().tabs.users.open_uid() == Some("jane-doe"),
        Duration::from_secs(30),
    );
    step_until_label(&mut h, "Auth tokens (1)");
    assert!(
        h.query_by_label("User ID (uid)").is_none(),
        "the dialog closed"
    );
    assert!(
        !h.get_all_by_label("jane-doe")
            .collect::<Vec<_>>()
            .is_empty(),
        "the user is listed"
    );
    let stored = env
        .rt
        .block_on(env.client.get_user("jane-doe", None))
        .expect("user exists");
    assert_eq!(stored.name, "Jane Doe");
    assert_eq!(stored.metadata, Some(serde_json::json!({"plan": "pro"})));
    assert_eq!(env.token_count("jane-doe"), 1);
}

#[test]
fn issuing_copying_and_revoking_a_token_changes_the_list_and_the_server() {
    let env = Env::new();
    env.create_users(vec![
        ("alice".to_owned(), "Alice Liddell".to_owned()),
        ("bob".to_owned(), "Bob Builder".to_owned()),
    ]);
    let mut h = env.harness();
    wait_for_users(&mut h, 2);

    h.get_by_label("Alice Liddell").click();
    step_until(
        &mut h,
        "alice to open",
        |h| h.state().tabs.users.open_uid() == Some("alice"),
        Duration::from_secs(30),
    );
    step_until_label(&mut h, "Auth tokens (0)");

    h.get_by_label("Issue token").click();
    step_until_label(&mut h, "Auth tokens (1)");
    let token = env
        .rt
        .block_on(env.client.list_auth_tokens("alice", None, None))
        .expect("tokens")
        .items
        .remove(0)
        .auth_token;

    // The new token is shown; copy puts exactly it on the clipboard.
    h.get_by_label(&format!("Copy auth token {}", token.masked()))
        .click();
    let mut copied = None;
    step_until(
        &mut h,
        "the token on the clipboard",
        |h| {
            copied = copied_text(h);
            copied.is_some()
        },
        Duration::from_secs(30),
    );
    assert_eq!(copied.as_deref(), Some(token.expose()));
    // Hiding it masks it again.
    h.get_by_label(&format!("Hide auth token {}", token.masked()))
        .click();
    step_until(
        &mut h,
        "the token to be masked again",
        |h| h.query_by_label(token.expose()).is_none(),
        Duration::from_secs(10),
    );
    let masked = format!("{}{}", token.masked().trim_end_matches('…'), "•".repeat(16));
    assert!(h.query_by_label(&masked).is_some(), "shown masked");

    // Revoking asks first, naming the token and the user; Cancel keeps it.
    h.get_by_label(&format!("Revoke auth token {}…", token.masked()))
        .click();
    step_until_label(
        &mut h,
        &format!("Revoke auth token {} of alice?", token.masked()),
    );
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    assert_eq!(env.token_count("alice"), 1, "nothing revoked on Cancel");
    h.get_by_label(&format!("Revoke auth token {}…", token.masked()))
        .click();
    step_until_label(&mut h, &format!("Revoke auth token {}", token.masked()));
    h.get_by_label(&format!("Revoke auth token {}", token.masked()))
        .click();
    step_until_label(&mut h, "Auth tokens (0)");
    assert_eq!(env.token_count("alice"), 0);
    assert_eq!(env.token_count("bob"), 0);
}

#[test]
fn revoke_all_asks_with_the_count_and_empties_the_list_after_confirming() {
    let env = Env::new();
    env.create_users(vec![("bob".to_owned(), "Bob Builder".to_owned())]);
    for _ in 0..3 {
        env.rt
            .block_on(env.client.create_auth_token(
                "bob",
                &NewAuthToken {
                    force: true,
                    ..NewAuthToken::default()
                },
            ))
            .expect("token");
    }
    let mut h = env.harness();
    wait_for_users(&mut h, 1);
    h.get_by_label("Search users").click();
    h.step();
    h.get_by_label("Search users").type_text("bob");
    h.step();
    h.key_press(Key::Enter);
    step_until_label(&mut h, "Auth tokens (3)");

    // Asking first, with the count; cancelling keeps everything.
    h.get_by_label("Revoke all…").click();
    step_until_label(&mut h, "Revoke all 3 tokens of bob?");
    h.get_by_label("Cancel").click();
    h.step();
    h.step();
    assert!(h.query_by_label("Revoke all 3 tokens of bob?").is_none());
    assert_eq!(env.token_count("bob"), 3);

    h.get_by_label("Revoke all…").click();
    step_until_label(&mut h, "Revoke 3 tokens of bob");
    h.get_by_label("Revoke 3 tokens of bob").click();
    step_until_label(&mut h, "Auth tokens (0)");
    assert!(h.query_by_label("Revoke all 3 tokens of bob?").is_none());
    assert_eq!(env.token_count("bob"), 0);
}

#[test]
fn on_prod_revoking_all_tokens_and_deleting_a_user_need_the_uid_typed() {
    let env = Env::new();
    env.create_users(vec![("dana".to_owned(), "Dana Prod".to_owned())]);
    env.rt
        .block_on(
            env.client
                .create_auth_token("dana", &NewAuthToken::default()),
        )
        .expect("token");
    let mut h = env.harness_in(keydeck::config::Environment::Prod);
    wait_for_users(&mut h, 1);
    h.get_by_label("Dana Prod").click();
    step_until_label(&mut h, "Auth tokens (1)");

    h.get_by_label("Revoke all…").click();
    step_until_label(&mut h, "Type dana to confirm");
    let revoke = h.get_by_label("Revoke 1 token of dana");
    assert!(
        revoke.accesskit_node().is_disabled(),
        "disabled until the uid is typed"
    );
    type_into(&mut h, "Type dana to confirm", "dana");
    h.get_by_label("Revoke 1 token of dana").click();
    step_until_label(&mut h, "Auth tokens (0)");
    assert_eq!(env.token_count("dana"), 0);

    h.get_by_label("Delete user dana permanently…")
        .scroll_to_me();
    h.run_steps(5);
    h.get_by_label("Delete user dana permanently…").click();
    step_until_label(&mut h, "Type dana to confirm");
    assert!(
        h.get_by_label("Delete user dana")
            .accesskit_node()
            .is_disabled()
    );
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    assert!(
        env.rt.block_on(env.client.get_user("dana", None)).is_ok(),
        "dana stays"
    );
}

#[test]
fn a_freshly_issued_token_is_masked_after_its_time_when_the_window_loses_focus_or_the_user_changes()
{
    let env = Env::new();
    env.create_users(vec![
        ("erin".to_owned(), "Erin Fresh".to_owned()),
        ("finn".to_owned(), "Finn Other".to_owned()),
    ]);
    let mut h = env.harness();
    wait_for_users(&mut h, 2);
    let open = |h: &mut egui_kittest::Harness<'static, keydeck::ui::KeydeckApp>, name: &str| {
        h.get_by_label(name).click();
        step_until_label_contains(h, "Auth tokens (");
    };
    let issue = |h: &mut egui_kittest::Harness<'static, keydeck::ui::KeydeckApp>, n: usize| {
        h.get_by_label("Issue token").click();
        step_until_label(h, &format!("Auth tokens ({n})"));
    };
    let newest = |env: &Env| {
        let mut items = env
            .rt
            .block_on(env.client.list_auth_tokens("erin", None, None))
            .expect("tokens")
            .items;
        items.sort_by_key(|t| std::cmp::Reverse(t.created_at));
        items.remove(0).auth_token
    };
    open(&mut h, "Erin Fresh");
    step_until_label(&mut h, "Auth tokens (0)");

    // 1. Shown in clear when issued, masked once its time is up (egui time: 1/4 s a step).
    issue(&mut h, 1);
    let token = newest(&env);
    assert!(
        h.query_by_label(token.expose()).is_some(),
        "shown when issued"
    );
    let steps = (keydeck::ui::tabs::users::FRESH_TOKEN_SHOWN_SECS * 4.0) as usize + 8;
    h.run_steps(steps);
    assert!(
        h.query_by_label(token.expose()).is_none(),
        "masked after {}",
        keydeck::ui::tabs::users::FRESH_TOKEN_SHOWN_SECS
    );

    // 2. Leaving the window masks at once.
    issue(&mut h, 2);
    let token = newest(&env);
    assert!(h.query_by_label(token.expose()).is_some());
    h.input_mut().focused = false;
    h.run_steps(2);
    h.input_mut().focused = true;
    h.run_steps(2);
    assert!(
        h.query_by_label(token.expose()).is_none(),
        "masked on focus loss"
    );

    // 3. Opening another user and coming back shows it masked.
    issue(&mut h, 3);
    let token = newest(&env);
    assert!(h.query_by_label(token.expose()).is_some());
    open(&mut h, "Finn Other");
    open(&mut h, "Erin Fresh");
    step_until_label(&mut h, "Auth tokens (3)");
    assert!(
        h.query_by_label(token.expose()).is_none(),
        "masked after the pane's user changed"
    );
}

#[test]
fn create_user_says_why_it_is_disabled_and_enter_submits_the_valid_form() {
    let env = Env::new();
    env.create_users(vec![("zed".to_owned(), "Zed Existing".to_owned())]);
    let mut h = env.harness();
    wait_for_users(&mut h, 1);

    h.get_by_label("New user…").click();
    step_until_label(&mut h, "User ID (uid)");
    assert!(h.get_by_label("Create user").accesskit_node().is_disabled());
    assert!(
        h.query_by_label("Fill in the user ID (uid)").is_some(),
        "an empty form says what to fill in first"
    );
    type_into(&mut h, "User ID (uid)", "gil");
    assert!(h.get_by_label("Create user").accesskit_node().is_disabled());
    assert!(
        h.query_by_label("Fill in the display name").is_some(),
        "then the display name"
    );
    // Enter on a form that is not valid yet does nothing.
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert!(env.rt.block_on(env.client.get_user("gil", None)).is_err());

    type_into(&mut h, "Display name", "Gil Enter");
    assert!(h.query_by_label("Fill in the display name").is_none());
    assert!(!h.get_by_label("Create user").accesskit_node().is_disabled());
    h.key_press(Key::Enter);
    step_until(
        &mut h,
        "gil to be created and opened",
        |h| h.state().tabs.users.open_uid() == Some("gil"),
        Duration::from_secs(30),
    );
    assert!(env.rt.block_on(env.client.get_user("gil", None)).is_ok());
}

#[test]
fn the_users_table_draws_only_the_rows_in_view_while_scrolling() {
    let env = Env::new();
    env.create_users(
        (0..3000)
            .map(|i| (format!("user-{i:05}"), format!("Person {i}")))
            .collect(),
    );
    let mut h = env.harness();
    wait_for_users(&mut h, 3000);
    step_until_label(&mut h, "3,000 users");

    let drawn = |h: &egui_kittest::Harness<'static, keydeck::ui::KeydeckApp>| {
        h.query_all_by_label_contains("Person ")
            // A plain label keeps its text in the node's value.
            .filter_map(|n| {
                let node = n.accesskit_node();
                node.value().or_else(|| node.label())
            })
            .collect::<Vec<_>>()
    };
    let first = drawn(&h);
    assert!(
        first.contains(&"Person 0".to_owned()),
        "the first rows are drawn"
    );
    assert!(
        (10..80).contains(&first.len()),
        "only the rows in view are drawn, not 3,000: {}",
        first.len()
    );

    // Scroll the wheel over the table: other rows come into view, still only a screenful.
    h.get_by_label(&first[2]).hover();
    for _ in 0..20 {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -400.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
    h.run_steps(30);
    let later = drawn(&h);
    assert!(
        !later.contains(&first[0]),
        "the table scrolled away from the top: {} is still drawn",
        first[0]
    );
    assert!(
        (10..80).contains(&later.len()),
        "still only the rows in view: {}",
        later.len()
    );
}

#[test]
fn creating_deactivating_reactivating_and_deleting_a_user_are_audited() {
    let env = Env::new();
    env.create_users(vec![("ann".to_owned(), "Ann Lee".to_owned())]);
    let mut h = env.harness();
    wait_for_users(&mut h, 1);

    // Create one through the dialog.
    h.get_by_label("New user…").click();
    step_until_label(&mut h, "User ID (uid)");
    type_into(&mut h, "User ID (uid)", "bo");
    type_into(&mut h, "Display name", "Bo Lind");
    h.get_by_label("Create user").click();
    step_until(
        &mut h,
        "bo to open",
        |h| h.state().tabs.users.open_uid() == Some("bo"),
        Duration::from_secs(30),
    );

    // Deactivate, reactivate and delete Ann.
    h.get_by_label("Ann Lee").click();
    step_until(
        &mut h,
        "ann to open",
        |h| h.state().tabs.users.open_uid() == Some("ann"),
        Duration::from_secs(30),
    );
    step_until_label(&mut h, "Deactivate user…");
    h.get_by_label("Deactivate user…").click();
    // It asks first, naming the user.
    step_until_label(&mut h, "Deactivate ann?");
    h.get_by_label("Deactivate user ann").click();
    step_until_label(&mut h, "Reactivate user");
    h.get_by_label("Reactivate user").click();
    step_until_label(&mut h, "Deactivate user…");
    // The danger zone is at the foot of the pane: bring it into view first.
    h.get_by_label("Delete user ann permanently…")
        .scroll_to_me();
    h.run_steps(5);
    h.get_by_label("Delete user ann permanently…").click();
    h.run_steps(3);
    step_until_label(&mut h, "Delete user ann");
    h.get_by_label("Delete user ann").click();
    step_until(
        &mut h,
        "ann to be deleted",
        |h| h.state().tabs.users.open_uid().is_none(),
        Duration::from_secs(30),
    );
    assert!(
        env.rt.block_on(env.client.get_user("ann", None)).is_err(),
        "ann is gone"
    );

    // Audit records are written by the operations, off the UI thread.
    step_until(
        &mut h,
        "the audit records land",
        |h| h.state().is_settled(),
        Duration::from_secs(10),
    );
    let path = h.state().audit_path().expect("audit trail open").to_owned();
    let records = keydeck::audit::read_all(&path).expect("readable");
    let seen: Vec<(String, String, bool)> = records
        .iter()
        .filter(|r| r.action.starts_with("user."))
        .map(|r| (r.action.clone(), r.target.clone(), r.outcome == "ok"))
        .collect();
    let want = |a: &str, t: &str| (a.to_owned(), t.to_owned(), true);
    assert_eq!(
        seen,
        vec![
            want("user.created", "user bo"),
            want("user.deactivated", "user ann"),
            want("user.reactivated", "user ann"),
            want("user.deleted", "user ann"),
        ]
    );
    assert_eq!(
        keydeck::audit::verify(&path, h.state().vault())
            .expect("intact")
            .entries,
        records.len()
    );
}

#[test]
fn ctrl_f_selects_the_last_search_so_typing_replaces_it() {
    let env = Env::new();
    env.create_users(vec![
        ("ann".to_owned(), "Ann Lee".to_owned()),
        ("bob".to_owned(), "Bob Stone".to_owned()),
    ]);
    let mut h = env.harness();
    wait_for_users(&mut h, 2);

    h.get_by_label("Search users").click();
    h.step();
    h.get_by_label("Search users").type_text("bob");
    step_until_label_contains(&mut h, "1 of 2 loaded users match");

    // A second search: Ctrl+F, then type. The old text is selected, so it is replaced.
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run_steps(2);
    h.get_by_label("Search users").type_text("ann");
    h.run_steps(2);
    assert_eq!(
        h.get_by_label("Search users").value().as_deref(),
        Some("ann"),
        "the second search replaced the first"
    );
    step_until_label(&mut h, "Ann Lee");
    assert!(h.query_by_label("Bob Stone").is_none());
}

#[test]
fn a_token_whose_answer_was_garbled_is_found_and_shown_not_issued_twice() {
    use keydeck::sandbox::{Fault, FaultRule};
    let env = Env::new();
    env.create_users(vec![("carol".to_owned(), "Carol Danvers".to_owned())]);
    let mut h = env.harness();
    wait_for_users(&mut h, 1);
    h.get_by_label("Carol Danvers").click();
    step_until_label(&mut h, "Auth tokens (0)");

    // The server issues the token, then its answer is not JSON.
    env.sb.set_fault(FaultRule {
        method: Some("POST".to_owned()),
        path_contains: "/auth_tokens".to_owned(),
        fault: Fault::Malformed,
        times: Some(1),
    });
    h.get_by_label("Issue token").click();
    step_until_label(&mut h, "Auth tokens (1)");

    let on_server = env
        .rt
        .block_on(env.client.list_auth_tokens("carol", None, None))
        .expect("tokens")
        .items;
    assert_eq!(on_server.len(), 1, "one token on the server, not two");
    assert!(
        h.query_by_label(&format!(
            "Copy auth token {}",
            on_server[0].auth_token.masked()
        ))
        .is_some(),
        "the pane shows the token the server holds"
    );
    assert!(
        h.query_by_label_contains("Could not issue a token")
            .is_none()
    );
}

#[test]
fn a_failed_load_says_what_is_known_and_an_open_user_does_not_spin_forever() {
    use keydeck::sandbox::{Fault, FaultRule};
    let env = Env::new();
    env.create_users(vec![("dana".to_owned(), "Dana Scully".to_owned())]);
    let mut h = env.harness();
    wait_for_users(&mut h, 1);
    h.get_by_label("Dana Scully").click();
    step_until_label(&mut h, "Auth tokens (0)");

    // Every page of users now fails (403: not retried), and the list is reloaded.
    env.sb.set_fault(FaultRule {
        method: Some("GET".to_owned()),
        path_contains: "/users".to_owned(),
        fault: Fault::Status { status: 403 },
        times: None,
    });
    h.key_press(Key::F5);
    step_until_label_contains(&mut h, "Could not load the users");
    step_until_label(&mut h, "No users loaded");
    assert!(
        h.query_by_label("No users yet").is_none(),
        "not 'no users yet'"
    );
    // The pane of the user that was open says so and offers to look the user up.
    step_until_label(&mut h, "dana is not among the loaded users.");
    assert!(h.query_by_label("Look up dana").is_some());
    assert!(h.query_by_label_contains("Opening dana").is_none());
}

#[test]
fn edit_changes_a_users_profile_with_the_new_user_checks_and_refuses_a_bad_field() {
    let env = Env::new();
    env.create_users(vec![("eddie".to_owned(), "Eddie Before".to_owned())]);
    let mut h = env.harness();
    wait_for_users(&mut h, 1);

    h.get_by_label("Eddie Before").click();
    step_until(
        &mut h,
        "eddie to open",
        |h| h.state().tabs.users.open_uid() == Some("eddie"),
        Duration::from_secs(30),
    );
    h.get_by_label("Edit…").click();
    step_until_label(&mut h, "Edit user eddie");
    // The uid is shown, not editable; the form starts as the server has it, and nothing
    // changed yet says so.
    assert!(h.query_by_label("User ID (uid)").is_some());
    assert_eq!(
        h.get_by_label("Display name").value().as_deref(),
        Some("Eddie Before")
    );
    assert!(
        h.get_by_label("Save changes")
            .accesskit_node()
            .is_disabled()
    );
    assert!(h.query_by_label("Nothing is changed yet").is_some());

    // The same checks as New user: a bad URL is refused under its field.
    type_into(&mut h, "Avatar URL", "not a url");
    step_until_label_contains(&mut h, "http");
    assert!(
        h.get_by_label("Save changes")
            .accesskit_node()
            .is_disabled()
    );
    replace_in(&mut h, "Avatar URL", "https://example.com/eddie.png");
    replace_in(&mut h, "Display name", "Eddie After");
    replace_in(&mut h, "User role", "moderator");
    replace_in(&mut h, "Tags (comma-separated)", "vip, beta");
    replace_in(&mut h, "Metadata (JSON)", "{\"plan\": \"pro\"}");
    h.step();
    assert!(
        !h.get_by_label("Save changes")
            .accesskit_node()
            .is_disabled()
    );
    h.get_by_label("Save changes").click();
    step_until_label_contains(&mut h, "Saved the changes to user eddie");
    assert!(
        h.query_by_label("Edit user eddie").is_none(),
        "the dialog closed"
    );

    let stored = env
        .rt
        .block_on(env.client.get_user("eddie", None))
        .expect("eddie exists");
    assert_eq!(stored.name, "Eddie After");
    assert_eq!(
        stored.avatar.as_deref(),
        Some("https://example.com/eddie.png")
    );
    assert_eq!(stored.role, "moderator");
    assert_eq!(stored.metadata, Some(serde_json::json!({"plan": "pro"})));
    // The list and the pane show the new name at once.
    step_until(
        &mut h,
        "the list and the pane to show the new name",
        |h| h.get_all_by_label("Eddie After").count() >= 2,
        Duration::from_secs(10),
    );
    assert!(h.query_by_label("Eddie Before").is_none());

    // Emptying a field the user had clears it on the server.
    h.get_by_label("Edit…").click();
    step_until_label(&mut h, "Edit user eddie");
    h.get_by_label("Avatar URL").click();
    h.step();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.key_press(Key::Backspace);
    h.run_steps(2);
    assert_eq!(h.get_by_label("Avatar URL").value().as_deref(), Some(""));
    h.get_by_label("Save changes").click();
    step_until_label_contains(&mut h, "Saved the changes to user eddie");
    let stored = env
        .rt
        .block_on(env.client.get_user("eddie", None))
        .expect("eddie exists");
    assert_eq!(stored.avatar, None);
    assert_eq!(stored.name, "Eddie After");
}

#[test]
fn a_dialog_stays_where_it_opened_when_a_message_appears_in_it() {
    let env = Env::new();
    env.create_users(vec![("steady".to_owned(), "Steady State".to_owned())]);
    let mut h = env.harness();
    wait_for_users(&mut h, 1);
    h.get_by_label("New user…").click();
    step_until_label(&mut h, "User ID (uid)");
    h.run_steps(3);
    let heading = h.get_by_label("New user").rect();
    let cancel = h.get_by_label("Cancel").rect();
    // A problem appears under the uid: the dialog grows, downwards only.
    type_into(&mut h, "User ID (uid)", "Bad Uid!");
    step_until_label_contains(&mut h, "A uid may only use a–z, 0–9, - and _");
    h.run_steps(3);
    let heading_after = h.get_by_label("New user").rect();
    let cancel_after = h.get_by_label("Cancel").rect();
    assert_eq!(heading_after.min, heading.min, "the dialog did not move");
    assert_eq!(cancel_after.left(), cancel.left(), "Cancel kept its column");
    assert!(
        cancel_after.top() >= cancel.top(),
        "Cancel moved down, if at all"
    );
    // Nor when the problem goes away.
    replace_in(&mut h, "User ID (uid)", "fine-uid");
    h.run_steps(3);
    assert_eq!(h.get_by_label("New user").rect().min, heading.min);
    assert_eq!(h.get_by_label("Cancel").rect().left(), cancel.left());
}

#[test]
fn a_new_user_whose_answer_was_garbled_is_found_and_opened_never_called_taken() {
    use keydeck::sandbox::{Fault, FaultRule};
    let env = Env::new();
    env.create_users(vec![("zoe".to_owned(), "Zoe Existing".to_owned())]);
    let mut h = env.harness();
    wait_for_users(&mut h, 1);
    h.get_by_label("New user…").click();
    step_until_label(&mut h, "User ID (uid)");
    type_into(&mut h, "User ID (uid)", "qa-walk-1");
    type_into(&mut h, "Display name", "QA Walk");
    // The server creates the user, then its answer is not JSON.
    env.sb.set_fault(FaultRule {
        method: Some("POST".to_owned()),
        path_contains: "/users".to_owned(),
        fault: Fault::Malformed,
        times: Some(1),
    });
    h.get_by_label("Create user").click();
    step_until(
        &mut h,
        "the user made is found and opened",
        |h| h.state().tabs.users.open_uid() == Some("qa-walk-1"),
        Duration::from_secs(30),
    );
    assert!(env.sb.faults().is_empty(), "the answer was garbled");
    assert!(h.query_by_label_contains("is taken").is_none());
    assert!(h.query_by_label_contains("expected value").is_none());
    let all = env
        .rt
        .block_on(env.client.list_users(
            &keydeck::providers::cometchat::UserQuery {
                search_key: Some("qa-walk".to_owned()),
                ..Default::default()
            },
            None,
        ))
        .expect("users")
        .items;
    assert_eq!(all.len(), 1, "one user on the server");
}
