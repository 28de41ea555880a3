//! Rules for the user fields a support agent types: uid, name, URLs, role, tags, metadata,
//! and the uid lists of bulk files. They mirror what the CometChat API accepts, so a form can
//! refuse a value under the field before any request is sent.

use std::collections::HashSet;
use std::fmt;

use serde_json::Value;

/// Longest uid, name, role or tag the API accepts, in characters.
pub const MAX_CHARS: usize = 100;
/// Longest avatar or link URL, in characters.
pub const MAX_URL_CHARS: usize = 3000;
/// Most tags a user can have.
pub const MAX_TAGS: usize = 25;
/// Largest metadata object, serialised, in bytes.
pub const MAX_METADATA_BYTES: usize = 5 * 1024;

/// The uid as the API stores it: trimmed and lower-cased.
pub fn normalize_uid(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Why a uid is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UidProblem {
    Empty,
    TooLong(usize),
    /// The characters that are not allowed, each once, in order of appearance.
    BadChars(Vec<char>),
}

impl fmt::Display for UidProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UidProblem::Empty => write!(f, "Enter a uid"),
            UidProblem::TooLong(n) => {
                write!(f, "A uid has at most {MAX_CHARS} characters (this has {n})")
            }
            UidProblem::BadChars(chars) => {
                let shown: Vec<String> = chars
                    .iter()
                    .map(|c| match c {
                        ' ' => "space".to_owned(),
                        '\t' => "tab".to_owned(),
                        c => format!("“{c}”"),
                    })
                    .collect();
                write!(
                    f,
                    "A uid may only use a–z, 0–9, - and _ (not {})",
                    shown.join(", ")
                )
            }
        }
    }
}

/// Checks a typed uid and returns it as it will be stored (lower-cased).
pub fn check_uid(raw: &str) -> Result<String, UidProblem> {
    let uid = normalize_uid(raw);
    let n = uid.chars().count();
    if n == 0 {
        return Err(UidProblem::Empty);
    }
    let mut bad: Vec<char> = Vec::new();
    for c in uid.chars() {
        let ok = c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !ok && !bad.contains(&c) {
            bad.push(c);
        }
    }
    if !bad.is_empty() {
        return Err(UidProblem::BadChars(bad));
    }
    if n > MAX_CHARS {
        return Err(UidProblem::TooLong(n));
    }
    Ok(uid)
}

/// A display name: required, at most 100 characters.
pub fn check_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 {
        Err("Enter a name".to_owned())
    } else if n > MAX_CHARS {
        Err(format!(
            "A name has at most {MAX_CHARS} characters (this has {n})"
        ))
    } else {
        Ok(name.to_owned())
    }
}

/// An optional http(s) URL with a host; empty means none.
pub fn check_url(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > MAX_URL_CHARS {
        return Err(format!("A URL has at most {MAX_URL_CHARS} characters"));
    }
    match url::Url::parse(s) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host_str().is_some() => {
            Ok(Some(s.to_owned()))
        }
        Ok(_) => Err("Use an http:// or https:// address".to_owned()),
        Err(_) => Err("Not a URL; it should look like https://example.com/…".to_owned()),
    }
}

/// An optional role; empty means the API's `default`.
pub fn check_role(raw: &str) -> Result<Option<String>, String> {
    let r = raw.trim();
    let n = r.chars().count();
    if n == 0 {
        Ok(None)
    } else if n > MAX_CHARS {
        Err(format!("A role has at most {MAX_CHARS} characters"))
    } else {
        Ok(Some(r.to_owned()))
    }
}

/// Comma-separated tags: trimmed, empty ones dropped, duplicates removed, at most 25.
pub fn parse_tags(raw: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for t in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if t.chars().count() > MAX_CHARS {
            return Err(format!(
                "Tag “{}…” is longer than {MAX_CHARS} characters",
                prefix(t, 20)
            ));
        }
        if !tags.iter().any(|x| x == t) {
            tags.push(t.to_owned());
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("At most {MAX_TAGS} tags (this has {})", tags.len()));
    }
    Ok(tags)
}

/// Metadata as typed: empty means none; otherwise a JSON object of at most 5 KB.
pub fn parse_metadata(raw: &str) -> Result<Option<Value>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(raw).map_err(|e| {
        format!(
            "Not valid JSON: {} (line {}, column {})",
            first_sentence(&e.to_string()),
            e.line(),
            e.column()
        )
    })?;
    if !v.is_object() {
        return Err("Metadata must be a JSON object, like {\"plan\": \"pro\"}".to_owned());
    }
    let bytes = v.to_string().len();
    if bytes > MAX_METADATA_BYTES {
        return Err(format!(
            "Metadata is at most 5 KB (this is {:.1} KB)",
            bytes as f64 / 1024.0
        ));
    }
    Ok(Some(v))
}

fn first_sentence(s: &str) -> &str {
    s.split(" at line ").next().unwrap_or(s)
}

fn prefix(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// One line of a bulk file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UidLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// The text as found (first column, quotes removed).
    pub raw: String,
    /// The uid as stored, or why it is refused.
    pub uid: Result<String, UidProblem>,
}

/// What a bulk file holds: one entry per distinct uid, plus how many repeats were dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UidList {
    pub lines: Vec<UidLine>,
    pub duplicates: usize,
}

/// Reads uids from a CSV or text file: the first column of each line; blank lines, `#`
/// comments and a header line `uid` are skipped; repeats of a uid are dropped.
pub fn parse_uid_list(text: &str) -> UidList {
    let mut out = UidList::default();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim().trim_start_matches('\u{feff}');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let first = trimmed
            .split([',', ';', '\t'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"')
            .trim();
        if out.lines.is_empty() && first.eq_ignore_ascii_case("uid") {
            continue;
        }
        let uid = check_uid(first);
        let key = match &uid {
            Ok(u) => u.clone(),
            Err(_) => format!("\u{0}{first}"),
        };
        if !seen.insert(key) {
            out.duplicates += 1;
            continue;
        }
        out.lines.push(UidLine {
            line: line_no,
            raw: first.to_owned(),
            uid,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uid_is_stored_lower_cased_and_refused_with_the_reason() {
        assert_eq!(check_uid("  Alice_01 "), Ok("alice_01".to_owned()));
        assert_eq!(check_uid(""), Err(UidProblem::Empty));
        assert_eq!(
            check_uid("bad uid!"),
            Err(UidProblem::BadChars(vec![' ', '!']))
        );
        assert!(matches!(
            check_uid(&"a".repeat(101)),
            Err(UidProblem::TooLong(101))
        ));
        assert!(check_uid(&"a".repeat(100)).is_ok());
        assert!(
            UidProblem::BadChars(vec![' ', '!'])
                .to_string()
                .contains("space, “!”")
        );
    }

    #[test]
    fn urls_tags_and_metadata_are_checked_as_the_api_does() {
        assert_eq!(check_url(""), Ok(None));
        assert!(check_url("https://example.com/a.png").is_ok());
        assert!(check_url("ftp://example.com").is_err());
        assert!(check_url("not a url").is_err());
        assert_eq!(
            parse_tags(" vip, beta ,vip,,"),
            Ok(vec!["vip".into(), "beta".into()])
        );
        let many: Vec<String> = (0..26).map(|i| format!("t{i}")).collect();
        assert!(parse_tags(&many.join(",")).is_err());
        assert_eq!(parse_metadata("  "), Ok(None));
        assert!(parse_metadata("{\"plan\":\"pro\"}").is_ok());
        assert!(parse_metadata("[1]").is_err());
        assert!(
            parse_metadata("{oops")
                .unwrap_err()
                .starts_with("Not valid JSON")
        );
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(6000));
        assert!(parse_metadata(&big).is_err());
        assert!(check_name(" ").is_err());
        assert_eq!(check_role(""), Ok(None));
    }

    #[test]
    fn a_bulk_file_yields_each_uid_once_with_invalid_ones_named() {
        let text = "uid,name\nalice,Alice\n\"Bob\",B\n# comment\n\nalice\nbad uid\ncarol;x\n";
        let list = parse_uid_list(text);
        let uids: Vec<_> = list.lines.iter().map(|l| l.uid.clone()).collect();
        assert_eq!(list.duplicates, 1);
        assert_eq!(uids.len(), 4);
        assert_eq!(uids[0], Ok("alice".to_owned()));
        assert_eq!(uids[1], Ok("bob".to_owned()));
        assert!(uids[2].is_err());
        assert_eq!(list.lines[2].line, 7);
        assert_eq!(uids[3], Ok("carol".to_owned()));
    }
}
