//! `keydeck scan PATH`: looks for the secrets Keydeck holds for every connection (read from the
//! keychain) in the files under PATH, through `core::hygiene::scan`. Prints where each was
//! found with its masked prefix, never the value; records the scan in the audit trail.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::core::hygiene::scan::{
    self, DEFAULT_MAX_FILE_BYTES, Finding, Origin, Outcome, Progress, ScanError, ScanOptions,
    ScanReport, Scanner,
};

use super::context::Ctx;
use super::exit::{CliError, CliResult, Exit};
use super::output::{Format, Table};

pub const EXAMPLES: &str = "Examples:
  keydeck scan .
  keydeck scan ~/src/shop --output json > leaks.json
  keydeck scan /srv/deploy --max-file-mib 64

Looks for every secret Keydeck holds (each connection's keys, secrets and access tokens, from
the keychain) in the files under PATH. Honours .gitignore and .ignore; skips .git folders,
binary files and files over the size limit. Ctrl-C stops it and prints what was found so far.
Exit status: 0 nothing found, 6 a secret was found, 130 stopped by Ctrl-C with nothing found.";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder (or file) to scan.
    pub path: PathBuf,
    /// Files larger than this many MiB are skipped (and counted).
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_FILE_BYTES / (1024 * 1024))]
    pub max_file_mib: u64,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let connections = ctx.config().connections.clone();
    // The tokens this process issued: none (each command is a run of its own), kept for the
    // same list as the window's.
    let issued = ctx.recorder_unbound().issued_tokens();
    let targets = scan::held_secrets(&connections, ctx.session().secrets(), &issued);
    let options = ScanOptions {
        max_file_bytes: args.max_file_mib.saturating_mul(1024 * 1024),
        ..ScanOptions::default()
    };
    let scanner = Scanner::new(&targets, options).map_err(|e| match e {
        ScanError::NothingToFind(_) => CliError::not_found(format!(
            "{e}. `keydeck connections list` shows the connections."
        )),
        _ => CliError::usage(e.to_string()),
    })?;
    for r in scanner.refused() {
        eprintln!(
            "keydeck: not looked for: the {} of {} ({}), {}",
            r.kind,
            origin_text(&r.origin),
            r.masked,
            r.reason
        );
    }
    let progress = Progress::default();
    let cancel = std::sync::Arc::new(AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&cancel);
    let ctrl_c = ctx.rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
        }
    });
    let result = with_progress_bar(&progress, || scanner.scan(&args.path, &progress, &cancel));
    ctrl_c.abort();
    let report = result.map_err(|e| CliError::not_found(e.to_string()))?;
    scan::record(&ctx.recorder_unbound(), &report);
    print_report(ctx.out.format, &report);
    verdict(&report)
}

/// Runs `work` while a spinner on stderr (a terminal only) shows the counts.
fn with_progress_bar<T>(progress: &Progress, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                let p = progress.snapshot();
                bar.set_message(format!(
                    "{} files, {} scanned, {} found",
                    p.files_scanned,
                    size(p.bytes_scanned),
                    p.matches
                ));
                bar.tick();
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let out = work();
        done.store(true, Ordering::SeqCst);
        bar.finish_and_clear();
        out
    })
}

fn origin_text(o: &Origin) -> String {
    format!("{} ({})", o.connection, o.item)
}

fn location(f: &Finding) -> String {
    format!("{}:{}:{}", f.path.display(), f.line, f.column)
}

fn print_report(format: Format, report: &ScanReport) {
    match format {
        Format::Table => {
            let mut table = Table::new(&["location", "kind", "secret", "from"]);
            for f in &report.findings {
                let from: Vec<String> = f.origins.iter().map(origin_text).collect();
                table.row(vec![
                    location(f),
                    f.kind.clone(),
                    f.masked.clone(),
                    from.join(", "),
                ]);
            }
            if !table.is_empty() {
                table.print();
            }
            eprintln!("{}", summary(report));
        }
        Format::Json => super::output::print_json(&report_json(report)),
    }
}

/// One line for people, on stderr: what was read, skipped and found.
fn summary(r: &ScanReport) -> String {
    let found = found(r);
    let stopped = match r.outcome {
        Outcome::Completed => "",
        Outcome::Cancelled => " (stopped by Ctrl-C: partial)",
    };
    format!(
        "Scanned {} files ({}) for {} secret{} in {:.1} s{stopped}: {found}. Skipped {} binary files and {} over the size limit{}.",
        r.files_scanned,
        size(r.bytes_scanned),
        r.secrets,
        if r.secrets == 1 { "" } else { "s" },
        r.elapsed.as_secs_f64(),
        r.skipped_binary,
        r.skipped_large,
        if r.unreadable > 0 {
            format!("; {} could not be read", r.unreadable)
        } else {
            String::new()
        }
    )
}

/// "no secret found", or "3 matches in 2 files".
fn found(r: &ScanReport) -> String {
    let files: std::collections::HashSet<_> = r.findings.iter().map(|f| &f.path).collect();
    match r.findings.len() {
        0 => "no secret found".to_owned(),
        n => format!(
            "{n} match{} in {} file{}",
            if n == 1 { "" } else { "es" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ),
    }
}

fn origin_json(o: &Origin) -> Value {
    json!({"connection_id": o.connection_id, "connection": o.connection, "item": o.item})
}

fn report_json(r: &ScanReport) -> Value {
    let findings: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            json!({
                "path": f.path.display().to_string(),
                "line": f.line,
                "column": f.column,
                "byte_offset": f.byte_offset,
                "kind": f.kind,
                "masked": f.masked,
                "origins": f.origins.iter().map(origin_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let refused: Vec<Value> = r
        .refused
        .iter()
        .map(|x| json!({"kind": x.kind, "masked": x.masked, "origin": origin_json(&x.origin), "reason": x.reason}))
        .collect();
    json!({
        "root": r.root.display().to_string(),
        "outcome": match r.outcome { Outcome::Completed => "completed", Outcome::Cancelled => "cancelled" },
        "files_scanned": r.files_scanned,
        "bytes_scanned": r.bytes_scanned,
        "skipped_binary": r.skipped_binary,
        "skipped_large": r.skipped_large,
        "unreadable": r.unreadable,
        "secrets": r.secrets,
        "refused": refused,
        "findings": findings,
    })
}

/// 0 clean, 6 a secret found, 130 stopped by Ctrl-C with nothing found (yet).
fn verdict(r: &ScanReport) -> CliResult {
    if !r.is_clean() {
        return Err(CliError::new(
            Exit::LeaksFound,
            format!(
                "Secrets Keydeck holds were found under {} ({}). Rotate each one found (`keydeck keys rotate`, or in the window), then remove it from the file.",
                r.root.display(),
                found(r)
            ),
        ));
    }
    match r.outcome {
        Outcome::Completed => Ok(()),
        Outcome::Cancelled => Err(CliError::new(
            Exit::Interrupted,
            format!(
                "Stopped after {} files: nothing found so far.",
                r.files_scanned
            ),
        )),
    }
}

/// Bytes in the largest unit that keeps a number before the point (`1.2 GB`).
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}
