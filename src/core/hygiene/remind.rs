//! Rotate-by reminders as desktop notifications (issue 14, item 3): which keys' dates are due,
//! which of those were not yet announced today, and sending them where the OS offers a
//! notification service (`notify-rust`: the freedesktop D-Bus service on Linux and the BSDs,
//! the notification centre on macOS, toasts on Windows).
//!
//! At most one notification per key per day: the date a key was last announced is kept in
//! `hygiene.json` ([`Local::notified`]). A notification holds the key's name, its masked prefix
//! and its connection, never a value. Sending blocks (a D-Bus round trip), so callers run it off
//! the UI thread; when no service answers (a server without a desktop, CI) it fails, and the
//! caller falls back on the start-up banner, which shows the same findings.

use super::inventory::{DUE_SOON_DAYS, KeyRow, KeyState, Local};

/// One key whose rotate-by date is near or past.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    /// Which key (SHA-256 of its value), to remember it was announced.
    pub key_sha256: String,
    /// The notification's title: "Rotate ci-bot (a1b2…)".
    pub summary: String,
    /// Its text: the connection and the date.
    pub body: String,
}

/// The reminders due at `now_unix` and not yet announced today: an active key whose rotate-by
/// date is within [`DUE_SOON_DAYS`] or past (the same keys as the rotate-by findings).
pub fn due_reminders(rows: &[KeyRow], local: &Local, now_unix: i64) -> Vec<Reminder> {
    let today = crate::words::date(now_unix);
    rows.iter()
        .filter(|r| r.state == KeyState::Active)
        .filter_map(|r| r.rotate_by_unix.map(|by| (r, by)))
        .filter(|(_, by)| by - now_unix <= DUE_SOON_DAYS * 86_400)
        .filter(|(r, _)| local.notified.get(&r.key_sha256) != Some(&today))
        .map(|(r, by)| {
            let when = if by <= now_unix {
                format!("was to be rotated by {}", crate::words::date(by))
            } else {
                format!("is to be rotated by {}", crate::words::date(by))
            };
            Reminder {
                key_sha256: r.key_sha256.clone(),
                summary: format!("Rotate {} ({})", r.name, r.masked),
                body: format!("The key of {} {when}.", r.connection),
            }
        })
        .collect()
}

/// Remembers that these keys were announced today (so no second notification until tomorrow),
/// and forgets keys that no longer have a rotate-by date.
pub fn mark_notified(local: &mut Local, key_sha256s: &[String], now_unix: i64) {
    let today = crate::words::date(now_unix);
    for k in key_sha256s {
        local.notified.insert(k.clone(), today.clone());
    }
    let dated = &local.rotate_by;
    local.notified.retain(|k, _| dated.contains_key(k));
}

/// Shows a notification. [`DesktopNotifier`] in the app; a test passes its own.
pub trait Notifier: Send + Sync {
    /// Blocks until the service answered; `Err` when there is none or it refused.
    fn notify(&self, reminder: &Reminder) -> Result<(), String>;
}

/// The OS's notification service, through `notify-rust`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DesktopNotifier;

impl Notifier for DesktopNotifier {
    fn notify(&self, reminder: &Reminder) -> Result<(), String> {
        notify_rust::Notification::new()
            .appname("Keydeck")
            .summary(&reminder.summary)
            .body(&reminder.body)
            .show()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Sends each reminder until one fails (no service: the others would fail too). Returns the
/// keys announced; `Err` with why and the keys announced before it failed.
pub fn send(
    notifier: &dyn Notifier,
    reminders: &[Reminder],
) -> Result<Vec<String>, (String, Vec<String>)> {
    let mut sent = Vec::new();
    for r in reminders {
        if let Err(e) = notifier.notify(r) {
            return Err((e, sent));
        }
        sent.push(r.key_sha256.clone());
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn row(name: &str, hash: &str, rotate_by: Option<i64>) -> KeyRow {
        KeyRow {
            provider: "CometChat app",
            connection_id: "c1".to_owned(),
            connection: "Shop".to_owned(),
            app: "app1".to_owned(),
            name: name.to_owned(),
            masked: "a1b2…".to_owned(),
            key_sha256: hash.to_owned(),
            scope: "fullAccess".to_owned(),
            created_unix: None,
            state: KeyState::Active,
            stored_in: Vec::new(),
            rotate_by_unix: rotate_by,
            last_used_unix: None,
            auth_only_work: false,
            allows_everything: false,
        }
    }

    #[test]
    fn keys_due_within_a_week_or_past_are_reminded_and_later_ones_are_not() {
        let now = 100 * DAY + 3600;
        let mut revoked = row("gone", "h5", Some(now - DAY));
        revoked.state = KeyState::Revoked;
        let rows = [
            row("past", "h1", Some(now - 2 * DAY)),
            row("soon", "h2", Some(now + 3 * DAY)),
            row("later", "h3", Some(now + 30 * DAY)),
            row("undated", "h4", None),
            revoked,
        ];
        let due = due_reminders(&rows, &Local::default(), now);
        let keys: Vec<&str> = due.iter().map(|r| r.key_sha256.as_str()).collect();
        assert_eq!(keys, ["h1", "h2"]);
        assert_eq!(due[0].summary, "Rotate past (a1b2…)");
        assert_eq!(
            due[0].body,
            format!(
                "The key of Shop was to be rotated by {}.",
                crate::words::date(now - 2 * DAY)
            )
        );
        assert!(due[1].body.contains("is to be rotated by"));
    }

    #[test]
    fn a_key_announced_today_is_not_announced_again_until_tomorrow() {
        let now = 100 * DAY + 3600;
        let mut local = Local::default();
        local.rotate_by.insert("h1".to_owned(), now - DAY);
        local.rotate_by.insert("h2".to_owned(), now + DAY);
        let rows = [
            row("past", "h1", Some(now - DAY)),
            row("soon", "h2", Some(now + DAY)),
        ];
        mark_notified(&mut local, &["h1".to_owned()], now);
        let keys = |local: &Local, at: i64| -> Vec<String> {
            due_reminders(&rows, local, at)
                .into_iter()
                .map(|r| r.key_sha256)
                .collect()
        };
        assert_eq!(keys(&local, now), ["h2"]);
        assert_eq!(keys(&local, now + 10 * 3600), ["h2"], "later the same day");
        assert_eq!(keys(&local, now + DAY), ["h1", "h2"], "the next day");
        // A key whose date was cleared is forgotten the next time anything is marked.
        local.rotate_by.remove("h1");
        mark_notified(&mut local, &["h2".to_owned()], now);
        assert_eq!(local.notified.keys().collect::<Vec<_>>(), ["h2"]);
    }

    struct Fails;
    impl Notifier for Fails {
        fn notify(&self, _: &Reminder) -> Result<(), String> {
            Err("org.freedesktop.DBus.Error.ServiceUnknown".to_owned())
        }
    }

    struct Counts(std::sync::Mutex<Vec<String>>);
    impl Notifier for Counts {
        fn notify(&self, r: &Reminder) -> Result<(), String> {
            self.0.lock().unwrap().push(r.summary.clone());
            Ok(())
        }
    }

    #[test]
    fn sending_stops_at_the_first_failure_and_says_what_was_sent() {
        let now = 100 * DAY;
        let rows = [row("a", "h1", Some(now)), row("b", "h2", Some(now + DAY))];
        let due = due_reminders(&rows, &Local::default(), now);
        let counts = Counts(std::sync::Mutex::new(Vec::new()));
        assert_eq!(
            send(&counts, &due),
            Ok(vec!["h1".to_owned(), "h2".to_owned()])
        );
        assert_eq!(counts.0.lock().unwrap().len(), 2);
        let (why, sent) = send(&Fails, &due).unwrap_err();
        assert!(why.contains("ServiceUnknown"));
        assert!(sent.is_empty());
    }

    #[test]
    fn without_a_notification_service_the_desktop_notifier_fails_or_shows_but_never_panics_or_hangs()
     {
        // CI has no notification service: the call fails fast. A desktop shows it.
        let reminder = Reminder {
            key_sha256: "h".to_owned(),
            summary: "Keydeck test: rotate ci-bot (a1b2…)".to_owned(),
            body: "A test of Keydeck's reminders; nothing to do.".to_owned(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(DesktopNotifier.notify(&reminder));
        });
        let answered = rx.recv_timeout(std::time::Duration::from_secs(30));
        assert!(
            answered.is_ok(),
            "the notifier answered within 30 s: {answered:?}"
        );
    }
}
