//! What a command prints: a readable table for people, JSON for scripts. Tables mask every
//! secret unless `--reveal`; JSON carries a secret only where the command exists to produce it
//! (a new key, an issued token), and each command decides that when it builds its JSON.

use std::io::Write;

use serde_json::Value;

use crate::secret::Secret;

/// `--output`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// How this run prints.
#[derive(Clone, Copy, Debug)]
pub struct Out {
    pub format: Format,
    pub reveal: bool,
}

impl Out {
    /// A secret for a table: masked unless `--reveal`.
    pub fn secret(&self, s: &Secret) -> String {
        if self.reveal {
            s.expose().to_owned()
        } else {
            s.masked()
        }
    }

    /// Prints the table, or the JSON, as asked.
    pub fn emit(&self, table: &Table, json: &Value) {
        match self.format {
            Format::Table => table.print(),
            Format::Json => print_json(json),
        }
    }

    /// A one-line confirmation for people ("Deleted key ci-bot"), or the JSON.
    pub fn done(&self, line: &str, json: &Value) {
        match self.format {
            Format::Table => print_line(line),
            Format::Json => print_json(json),
        }
    }

    /// After a table that masked what the command produced: how to see it. `what` is the
    /// start of the sentence: "The new key is".
    pub fn note_masked(&self, what: &str) {
        if self.format == Format::Table && !self.reveal {
            eprintln!("{what} shown masked: add --reveal to see it, or use --output json.");
        }
    }
}

/// Writes one line to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

pub fn print_json(v: &Value) {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    print_line(&text);
}

/// Columns padded to their widest cell; the header in capitals, as `gh` does.
#[derive(Clone, Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_uppercase()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) -> &mut Self {
        self.rows.push(cells);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row.
    pub fn render(&self) -> Vec<String> {
        let columns = self.header.len();
        let mut widths = vec![0usize; columns];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|r| {
                let cells: Vec<String> = r
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect();
                cells.join("  ").trim_end().to_owned()
            })
            .collect()
    }

    pub fn print(&self) {
        if self.is_empty() {
            eprintln!("Nothing to show.");
            return;
        }
        for line in self.render() {
            print_line(&line);
        }
    }
}

/// Unix seconds as `2026-11-23 20:30` (UTC), or "—" for none.
pub fn time(unix_secs: i64) -> String {
    if unix_secs <= 0 {
        return "—".to_owned();
    }
    let t = crate::audit::format_utc_ms(unix_secs.saturating_mul(1000));
    format!("{} {}", &t[..10], &t[11..16])
}

/// A bar on stderr, "{pos}/{len} `what` ({eta} left)", when stderr is a terminal; hidden
/// otherwise (a pipe, a log file).
pub fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what} ({{eta}} left)"
    )) {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_pads_its_columns_and_trims_the_last() {
        let mut t = Table::new(&["name", "scope"]);
        t.row(vec!["ci-bot".into(), "fullAccess".into()]);
        t.row(vec!["a".into(), "".into()]);
        assert_eq!(
            t.render(),
            ["NAME    SCOPE", "ci-bot  fullAccess", "a"].map(String::from)
        );
    }

    #[test]
    fn secrets_are_masked_unless_revealed() {
        let s = Secret::new("0123456789abcdef");
        let masked = Out {
            format: Format::Table,
            reveal: false,
        };
        assert_eq!(masked.secret(&s), "0123…");
        let shown = Out {
            reveal: true,
            ..masked
        };
        assert_eq!(shown.secret(&s), "0123456789abcdef");
        assert_eq!(time(0), "—");
        assert_eq!(time(1_795_000_000), "2026-11-18 11:06");
    }
}
