//! Ably key capabilities: the JSON the API takes, the dashboard's checkboxes and restriction
//! modes, validation, the wildcard matcher behind "Can this key…?", and a diff for review.
//!
//! Contract: `shared/reference/ably-cometly-api.md` §2.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Resource pattern → operations, exactly as the Control API carries it.
pub type Capability = BTreeMap<String, Vec<String>>;

/// Every operation the API accepts, besides `*`.
pub const OPERATIONS: [&str; 17] = [
    "subscribe",
    "publish",
    "presence",
    "object-subscribe",
    "object-publish",
    "annotation-subscribe",
    "annotation-publish",
    "message-update-own",
    "message-update-any",
    "message-delete-own",
    "message-delete-any",
    "history",
    "stats",
    "push-subscribe",
    "push-admin",
    "channel-metadata",
    "privileged-headers",
];

/// One checkbox of the dashboard's capability list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DashboardCapability {
    pub label: &'static str,
    pub help: &'static str,
    /// The API operations this checkbox stands for.
    pub ops: &'static [&'static str],
}

/// The eight capabilities of the dashboard, in its order.
pub const DASHBOARD: [DashboardCapability; 8] = [
    DashboardCapability {
        label: "Publish",
        help: "Publish messages to channels",
        ops: &["publish"],
    },
    DashboardCapability {
        label: "Subscribe",
        help: "Receive messages and presence changes",
        ops: &["subscribe"],
    },
    DashboardCapability {
        label: "History",
        help: "Read message and presence history",
        ops: &["history"],
    },
    DashboardCapability {
        label: "Presence",
        help: "Enter, update and leave the presence set",
        ops: &["presence"],
    },
    DashboardCapability {
        label: "Channel metadata",
        help: "Read channel status; on every channel, list channels",
        ops: &["channel-metadata"],
    },
    DashboardCapability {
        label: "Push admin and push-subscribe",
        help: "Register devices and manage every push registration",
        ops: &["push-admin", "push-subscribe"],
    },
    DashboardCapability {
        label: "Statistics",
        help: "Read app statistics (only on all channels)",
        ops: &["stats"],
    },
    DashboardCapability {
        label: "Privileged headers",
        help: "Set the privileged section of message extras",
        ops: &["privileged-headers"],
    },
];

/// The dashboard's four resource-restriction modes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restriction {
    /// Every channel, queue and metachannel: `[*]*`.
    None,
    /// Every channel: `*`.
    OnlyChannels,
    /// Every queue: `[queue]*`.
    OnlyQueues,
    /// The listed channels and queues (wildcards, `[queue]` and `[meta]` prefixes allowed).
    Selected(Vec<String>),
}

impl Restriction {
    pub fn label(&self) -> &'static str {
        match self {
            Self::None => "None",
            Self::OnlyChannels => "Only channels",
            Self::OnlyQueues => "Only queues",
            Self::Selected(_) => "Selected channels and queues",
        }
    }
}

/// A capability as the editor shows it: the dashboard's form when it fits, else raw JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapabilityForm {
    /// Ticked checkboxes (indices into [`DASHBOARD`]) applied to one restriction.
    Simple {
        ticked: BTreeSet<usize>,
        restriction: Restriction,
    },
    /// Per-resource operations, or operations the dashboard has no checkbox for.
    Custom(Capability),
}

/// Why a capability or a resource name was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapabilityError(pub String);

impl fmt::Display for CapabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CapabilityError {}

fn err(msg: impl Into<String>) -> CapabilityError {
    CapabilityError(msg.into())
}

/// The operations of the ticked checkboxes, sorted as the API returns them.
pub fn ops_of(ticked: &BTreeSet<usize>) -> Vec<String> {
    let set: BTreeSet<&str> = ticked
        .iter()
        .filter_map(|i| DASHBOARD.get(*i))
        .flat_map(|d| d.ops.iter().copied())
        .collect();
    set.into_iter().map(str::to_owned).collect()
}

/// Builds the capability JSON for a dashboard choice.
pub fn to_capability(
    ticked: &BTreeSet<usize>,
    restriction: &Restriction,
) -> Result<Capability, CapabilityError> {
    let ops = ops_of(ticked);
    if ops.is_empty() {
        return Err(err("Tick at least one capability"));
    }
    // Ably grants statistics on every channel only, as the checkbox says.
    if ops.iter().any(|op| op == "stats")
        && matches!(
            restriction,
            Restriction::OnlyQueues | Restriction::Selected(_)
        )
    {
        return Err(err(
            "Statistics is granted only on all channels: choose None or Only channels, or untick Statistics",
        ));
    }
    let resources: Vec<String> = match restriction {
        Restriction::None => vec!["[*]*".into()],
        Restriction::OnlyChannels => vec!["*".into()],
        Restriction::OnlyQueues => vec!["[queue]*".into()],
        Restriction::Selected(list) => {
            let list: Vec<String> = list
                .iter()
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect();
            if list.is_empty() {
                return Err(err("List at least one channel or queue"));
            }
            for r in &list {
                validate_resource(r)?;
            }
            list
        }
    };
    Ok(resources.into_iter().map(|r| (r, ops.clone())).collect())
}

/// Reads capability JSON back into the dashboard's form, or `Custom` when it does not fit.
pub fn from_capability(cap: &Capability) -> CapabilityForm {
    let custom = || CapabilityForm::Custom(cap.clone());
    let mut values = cap.values();
    let Some(first) = values.next() else {
        return custom();
    };
    let first: BTreeSet<&str> = first.iter().map(String::as_str).collect();
    if values.any(|v| v.iter().map(String::as_str).collect::<BTreeSet<_>>() != first) {
        return custom();
    }
    // Every op must belong to a checkbox, and a checkbox's ops come all together.
    let mut ticked = BTreeSet::new();
    let mut covered = BTreeSet::new();
    for (i, d) in DASHBOARD.iter().enumerate() {
        let present = d.ops.iter().filter(|op| first.contains(**op)).count();
        if present == d.ops.len() {
            ticked.insert(i);
            covered.extend(d.ops.iter().copied());
        } else if present > 0 {
            return custom();
        }
    }
    if covered != first {
        return custom();
    }
    let keys: Vec<&str> = cap.keys().map(String::as_str).collect();
    let restriction = match keys.as_slice() {
        ["[*]*"] => Restriction::None,
        ["*"] => Restriction::OnlyChannels,
        ["[queue]*"] => Restriction::OnlyQueues,
        _ => Restriction::Selected(keys.iter().map(|k| (*k).to_owned()).collect()),
    };
    CapabilityForm::Simple {
        ticked,
        restriction,
    }
}

/// Checks one resource pattern: a channel name, or a `[queue]`, `[meta]` or `[*]` form.
pub fn validate_resource(resource: &str) -> Result<(), CapabilityError> {
    if resource.is_empty() {
        return Err(err("A resource name is empty"));
    }
    if resource.contains('\n') || resource.contains('\r') {
        return Err(err(format!("{resource:?} contains a line break")));
    }
    if resource.starts_with(':') {
        return Err(err(format!("{resource:?} starts with ':'")));
    }
    if resource.chars().count() > 256 {
        return Err(err("A resource name is longer than 256 characters"));
    }
    if let Some(rest) = resource.strip_prefix('[') {
        let Some((qualifier, name)) = rest.split_once(']') else {
            return Err(err(format!("{resource:?} opens '[' without closing it")));
        };
        match qualifier {
            "queue" | "meta" => {
                if name.is_empty() {
                    return Err(err(format!("{resource:?} names no {qualifier}")));
                }
            }
            "*" => {
                if name != "*" {
                    return Err(err("Only [*]* may use the [*] prefix"));
                }
            }
            other => {
                return Err(err(format!(
                    "Unknown prefix [{other}]: use [queue] or [meta]"
                )));
            }
        }
    }
    Ok(())
}

/// Checks a whole capability as the Control API would.
pub fn validate(cap: &Capability) -> Result<(), CapabilityError> {
    if cap.is_empty() {
        return Err(err("A capability needs at least one resource"));
    }
    for (resource, ops) in cap {
        validate_resource(resource)?;
        if ops.is_empty() {
            return Err(err(format!("{resource:?} has no operations")));
        }
        for op in ops {
            if op != "*" && !OPERATIONS.contains(&op.as_str()) {
                return Err(err(format!("Unknown operation {op:?} on {resource:?}")));
            }
        }
    }
    Ok(())
}

/// Parses capability JSON text (the Custom editor) and validates it.
pub fn parse(text: &str) -> Result<Capability, CapabilityError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| err(format!("Not valid JSON: {e}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(err(
            "A capability is a JSON object of resource → operations",
        ));
    };
    let mut cap = Capability::new();
    for (resource, ops) in map {
        let serde_json::Value::Array(items) = ops else {
            return Err(err(format!(
                "{resource:?} must map to a list of operations"
            )));
        };
        let mut list = Vec::with_capacity(items.len());
        for item in items {
            let serde_json::Value::String(op) = item else {
                return Err(err(format!("{resource:?}: operations are strings")));
            };
            list.push(op);
        }
        cap.insert(resource, list);
    }
    validate(&cap)?;
    Ok(normalise(&cap))
}

/// Sorts and de-duplicates each operation list, as the API returns them.
pub fn normalise(cap: &Capability) -> Capability {
    cap.iter()
        .map(|(r, ops)| {
            let set: BTreeSet<&String> = ops.iter().collect();
            (r.clone(), set.into_iter().cloned().collect())
        })
        .collect()
}

/// What `after` grants that `before` does not, as `resource: operation` lines: an operation
/// counts as granted before when the same resource, or the `*` resource, had it or `*`. Other
/// wildcard patterns are not expanded, so a grant under `chat:*` newly named as `chat:lobby`
/// counts as wider (asking once too often, never once too few).
pub fn widening(before: &Capability, after: &Capability) -> Vec<String> {
    let had = |resource: &str, op: &str| {
        [resource, "*"].iter().any(|r| {
            before
                .get(*r)
                .is_some_and(|ops| ops.iter().any(|o| o == op || o == "*"))
        })
    };
    let mut out = Vec::new();
    for (resource, ops) in after {
        for op in ops {
            if !had(resource, op) {
                out.push(format!("{resource}: {op}"));
            }
        }
    }
    out
}

/// A capability in one line: `chat:*: presence, publish; [queue]orders: subscribe`.
pub fn summary(cap: &Capability) -> String {
    cap.iter()
        .map(|(r, ops)| format!("{r}: {}", ops.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Pretty JSON for the Custom editor and the diff.
pub fn to_json(cap: &Capability) -> String {
    serde_json::to_string_pretty(cap).unwrap_or_else(|_| "{}".to_owned())
}

/// What kind of thing a resource name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Channel,
    Queue,
    Meta,
}

fn split_qualifier(name: &str) -> (Option<&str>, &str) {
    if let Some((q, n)) = name.strip_prefix('[').and_then(|rest| rest.split_once(']')) {
        return (Some(q), n);
    }
    (None, name)
}

fn kind_of(resource: &str) -> (Kind, &str) {
    match split_qualifier(resource) {
        (Some("queue"), n) => (Kind::Queue, n),
        (Some("meta"), n) => (Kind::Meta, n),
        _ => (Kind::Channel, resource),
    }
}

/// Whether a capability pattern covers a concrete channel (`chat:room-1`), queue
/// (`[queue]app-orders`) or metachannel (`[meta]log`).
pub fn pattern_matches(pattern: &str, resource: &str) -> bool {
    if pattern == "[*]*" {
        return true;
    }
    let (kind, name) = kind_of(resource);
    let (pkind, pname) = match split_qualifier(pattern) {
        (Some("queue"), n) => (Kind::Queue, n),
        (Some("meta"), n) => (Kind::Meta, n),
        (Some(_), _) => return false,
        (None, n) => (Kind::Channel, n),
    };
    if kind != pkind {
        return false;
    }
    if pname == "*" {
        return !name.is_empty();
    }
    let p: Vec<&str> = pname.split(':').collect();
    let r: Vec<&str> = name.split(':').collect();
    for (i, seg) in p.iter().enumerate() {
        let last = i + 1 == p.len();
        if *seg == "*" && last {
            return r.len() > i;
        }
        match r.get(i) {
            Some(rs) if *seg == "*" || seg == rs => {}
            _ => return false,
        }
    }
    p.len() == r.len()
}

/// The answer to "Can this key … on …?", with the rule that decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The resource pattern that granted the operation (or matched without granting it).
    pub rule: Option<String>,
    pub reason: String,
}

/// Decides whether `op` is allowed on `resource` under `cap`.
pub fn can(cap: &Capability, op: &str, resource: &str) -> Decision {
    let resource = resource.trim();
    let mut matched_without_op = None;
    for (pattern, ops) in cap {
        if !pattern_matches(pattern, resource) {
            continue;
        }
        let grants = ops.iter().any(|o| o == "*" || o == op);
        if grants {
            if op == "stats" && pattern != "*" && pattern != "[*]*" {
                matched_without_op.get_or_insert_with(|| pattern.clone());
                continue;
            }
            return Decision {
                allowed: true,
                rule: Some(pattern.clone()),
                reason: format!("{pattern} grants {op}"),
            };
        }
        matched_without_op.get_or_insert_with(|| pattern.clone());
    }
    match matched_without_op {
        Some(pattern) => Decision {
            allowed: false,
            reason: if op == "stats" {
                format!("{pattern} matches, but stats works only on * or [*]*")
            } else {
                format!("{pattern} matches {resource} but does not grant {op}")
            },
            rule: Some(pattern),
        },
        None => Decision {
            allowed: false,
            rule: None,
            reason: format!("No resource pattern of this key matches {resource}"),
        },
    }
}

/// One line of a capability diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffLine {
    Added {
        resource: String,
        ops: Vec<String>,
    },
    Removed {
        resource: String,
        ops: Vec<String>,
    },
    Changed {
        resource: String,
        added: Vec<String>,
        removed: Vec<String>,
    },
}

/// What changes between two capabilities, resource by resource.
pub fn diff(before: &Capability, after: &Capability) -> Vec<DiffLine> {
    let before = normalise(before);
    let after = normalise(after);
    let mut out = Vec::new();
    for (r, ops) in &before {
        match after.get(r) {
            None => out.push(DiffLine::Removed {
                resource: r.clone(),
                ops: ops.clone(),
            }),
            Some(new_ops) if new_ops != ops => {
                let old: BTreeSet<&String> = ops.iter().collect();
                let new: BTreeSet<&String> = new_ops.iter().collect();
                out.push(DiffLine::Changed {
                    resource: r.clone(),
                    added: new.difference(&old).map(|s| (*s).clone()).collect(),
                    removed: old.difference(&new).map(|s| (*s).clone()).collect(),
                });
            }
            Some(_) => {}
        }
    }
    for (r, ops) in &after {
        if !before.contains_key(r) {
            out.push(DiffLine::Added {
                resource: r.clone(),
                ops: ops.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(json: &str) -> Capability {
        serde_json::from_str(json).unwrap()
    }

    fn ticked(labels: &[&str]) -> BTreeSet<usize> {
        labels
            .iter()
            .map(|l| DASHBOARD.iter().position(|d| d.label == *l).unwrap())
            .collect()
    }

    #[test]
    fn each_restriction_mode_maps_to_its_capability_and_back() {
        let t = ticked(&["Publish", "Subscribe"]);
        let cases = [
            (Restriction::None, r#"{"[*]*":["publish","subscribe"]}"#),
            (
                Restriction::OnlyChannels,
                r#"{"*":["publish","subscribe"]}"#,
            ),
            (
                Restriction::OnlyQueues,
                r#"{"[queue]*":["publish","subscribe"]}"#,
            ),
            (
                Restriction::Selected(vec!["chat:*".into(), "[queue]orders".into()]),
                r#"{"chat:*":["publish","subscribe"],"[queue]orders":["publish","subscribe"]}"#,
            ),
        ];
        for (restriction, json) in cases {
            let built = to_capability(&t, &restriction).unwrap();
            assert_eq!(built, cap(json), "{restriction:?}");
            let back = from_capability(&built);
            let expected_restriction = match restriction {
                Restriction::Selected(mut l) => {
                    l.sort();
                    Restriction::Selected(l)
                }
                other => other,
            };
            assert_eq!(
                back,
                CapabilityForm::Simple {
                    ticked: t.clone(),
                    restriction: expected_restriction
                }
            );
        }
    }

    #[test]
    fn statistics_is_refused_on_a_restricted_resource() {
        let t = ticked(&["Statistics"]);
        for restriction in [
            Restriction::OnlyQueues,
            Restriction::Selected(vec!["chat:*".into()]),
        ] {
            let e = to_capability(&t, &restriction).unwrap_err();
            assert!(e.0.contains("only on all channels"), "{e}");
        }
        assert!(to_capability(&t, &Restriction::None).is_ok());
        assert!(to_capability(&t, &Restriction::OnlyChannels).is_ok());
    }

    #[test]
    fn statistics_is_stats_and_push_comes_as_a_pair() {
        let t = ticked(&["Statistics", "Push admin and push-subscribe"]);
        let built = to_capability(&t, &Restriction::None).unwrap();
        assert_eq!(
            built,
            cap(r#"{"[*]*":["push-admin","push-subscribe","stats"]}"#)
        );
        // Only half of the push pair cannot be shown with checkboxes.
        assert!(matches!(
            from_capability(&cap(r#"{"*":["push-admin"]}"#)),
            CapabilityForm::Custom(_)
        ));
    }

    #[test]
    fn per_resource_and_wildcard_op_capabilities_are_custom() {
        for json in [
            r#"{"ns:*":["publish","subscribe","presence"],"notifications":["subscribe","history"]}"#,
            r#"{"[*]*":["*"]}"#,
            r#"{"*":["object-publish"]}"#,
        ] {
            assert!(
                matches!(from_capability(&cap(json)), CapabilityForm::Custom(_)),
                "{json}"
            );
        }
    }

    #[test]
    fn the_reference_examples_round_trip_through_the_json_editor() {
        for json in [
            r#"{"chat:*":["publish","subscribe"],"[queue]*":["subscribe"]}"#,
            r#"{"[*]*":["*"]}"#,
            r#"{"*":["*"]}"#,
            r#"{"ns:*":["presence","publish","subscribe"],"notifications":["history","subscribe"]}"#,
        ] {
            let parsed = parse(json).unwrap();
            assert_eq!(parse(&to_json(&parsed)).unwrap(), parsed);
        }
    }

    #[test]
    fn invalid_capabilities_are_refused_with_a_reason() {
        for (json, needle) in [
            ("{}", "at least one"),
            (r#"{"chat":[]}"#, "no operations"),
            (r#"{"chat":["shout"]}"#, "Unknown operation"),
            (r#"{"":["publish"]}"#, "empty"),
            (r#"{":x":["publish"]}"#, "starts with"),
            (r#"{"[topic]x":["publish"]}"#, "Unknown prefix"),
            (r#"{"chat":"publish"}"#, "list of operations"),
            ("[1]", "JSON object"),
            ("{", "Not valid JSON"),
        ] {
            let e = parse(json).unwrap_err();
            assert!(e.0.contains(needle), "{json}: {e}");
        }
        assert!(to_capability(&BTreeSet::new(), &Restriction::None).is_err());
        assert!(
            to_capability(
                &ticked(&["Publish"]),
                &Restriction::Selected(vec![" ".into()])
            )
            .is_err()
        );
        assert!(
            to_capability(
                &ticked(&["Publish"]),
                &Restriction::Selected(vec!["[bogus]x".into()])
            )
            .is_err()
        );
    }

    #[test]
    fn wildcards_match_segments_as_the_reference_describes() {
        assert!(pattern_matches("*", "anything"));
        assert!(pattern_matches("*", "a:b:c"));
        assert!(
            !pattern_matches("*", "[queue]app-orders"),
            "* is channels only"
        );
        assert!(!pattern_matches("*", "[meta]log"));
        assert!(pattern_matches("[*]*", "[queue]app-orders"));
        assert!(pattern_matches("[*]*", "[meta]log"));
        assert!(pattern_matches("ns:*", "ns:a"));
        assert!(pattern_matches("ns:*", "ns:a:b"));
        assert!(!pattern_matches("ns:*", "ns"));
        assert!(!pattern_matches("ns:*", "other:a"));
        assert!(pattern_matches("foo:*:baz", "foo:bar:baz"));
        assert!(!pattern_matches("foo:*:baz", "foo:bar:bam:baz"));
        assert!(pattern_matches("foo*", "foo*"));
        assert!(!pattern_matches("foo*", "foobar"));
        assert!(pattern_matches("[queue]*", "[queue]app-orders"));
        assert!(!pattern_matches("[queue]*", "orders"));
        assert!(pattern_matches("[queue]orders", "[queue]orders"));
        assert!(pattern_matches("[meta]*", "[meta]log"));
        assert!(!pattern_matches("chat", "chat:room"));
    }

    #[test]
    fn can_names_the_rule_that_decided() {
        let c = cap(
            r#"{"chat:*":["publish","subscribe"],"[queue]orders":["subscribe"],"*":["stats"]}"#,
        );
        let d = can(&c, "publish", "chat:room-1");
        assert!(d.allowed);
        assert_eq!(d.rule.as_deref(), Some("chat:*"));
        let d = can(&c, "publish", "[queue]orders");
        assert!(!d.allowed);
        assert_eq!(d.rule.as_deref(), Some("[queue]orders"));
        let d = can(&c, "history", "news");
        assert!(!d.allowed);
        assert_eq!(d.rule.as_deref(), Some("*"));
        let d = can(&c, "publish", "[meta]log");
        assert!(!d.allowed);
        assert_eq!(d.rule, None);
        // stats only counts on * or [*]*.
        assert!(can(&c, "stats", "anything").allowed);
        let narrow = cap(r#"{"chat:*":["stats"]}"#);
        assert!(!can(&narrow, "stats", "chat:x").allowed);
        let all = cap(r#"{"[*]*":["*"]}"#);
        assert!(can(&all, "presence", "[queue]x").allowed);
    }

    #[test]
    fn the_diff_names_added_removed_and_changed_resources() {
        let before = cap(r#"{"chat:*":["publish","subscribe"],"old":["history"]}"#);
        let after = cap(r#"{"chat:*":["subscribe","presence"],"[queue]orders":["subscribe"]}"#);
        let d = diff(&before, &after);
        assert_eq!(
            d,
            vec![
                DiffLine::Changed {
                    resource: "chat:*".into(),
                    added: vec!["presence".into()],
                    removed: vec!["publish".into()],
                },
                DiffLine::Removed {
                    resource: "old".into(),
                    ops: vec!["history".into()],
                },
                DiffLine::Added {
                    resource: "[queue]orders".into(),
                    ops: vec!["subscribe".into()],
                },
            ]
        );
        assert!(diff(&before, &before).is_empty());
    }
    #[test]
    fn widening_names_what_is_new_and_treats_star_as_covering() {
        let cap = |pairs: &[(&str, &[&str])]| -> Capability {
            pairs
                .iter()
                .map(|(r, ops)| {
                    (
                        (*r).to_owned(),
                        ops.iter().map(|o| (*o).to_owned()).collect(),
                    )
                })
                .collect()
        };
        let before = cap(&[("chat:*", &["subscribe"]), ("*", &["presence"])]);
        assert!(widening(&before, &before).is_empty());
        assert!(
            widening(&before, &cap(&[("chat:*", &[])])).is_empty(),
            "narrower"
        );
        assert_eq!(
            widening(&before, &cap(&[("chat:*", &["subscribe", "publish"])])),
            ["chat:*: publish"]
        );
        assert!(
            widening(&before, &cap(&[("news", &["presence"])])).is_empty(),
            "the * resource already had presence"
        );
        assert_eq!(
            widening(&before, &cap(&[("*", &["*"])])),
            ["*: *"],
            "every operation everywhere is wider"
        );
        let all = cap(&[("*", &["*"])]);
        assert!(widening(&all, &cap(&[("x", &["publish", "history"])])).is_empty());
    }
}
