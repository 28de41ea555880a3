//! The leak scan's figure: `core::hygiene::scan` against `rg -F -f` (ripgrep) on the same
//! generated tree of at least 1 GiB of text and the same 200 secrets, warm cache.
//!
//! The tree is generated once under the target directory (`bench-scan-tree`, about a minute)
//! and reused while its stamp matches; it holds only text files (64 KiB to 1 MiB of code-like
//! lines) with a few secrets planted, no hidden or ignored files, so both tools read the same
//! files. The secrets file lies outside the tree.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use keydeck::core::hygiene::scan::{Origin, Progress, ScanOptions, Scanner, Target};
use keydeck::secret::Secret;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::{Row, pass, skipped_row};

const TREE_BYTES: u64 = 1 << 30;
const PATTERNS: usize = 200;
const PATTERN_CHARS: usize = 32;
/// Secrets planted in the tree: each in a file of its own, one in every 50 files.
const PLANTED: usize = 24;
const RUNS: usize = 3;
/// Changes whenever the generator below changes, so an old tree is made again.
const STAMP: &str = "keydeck bench-scan-tree v1: 1 GiB, 200 patterns, 24 planted";

const WORDS: &[&str] = &[
    "fn",
    "let",
    "mut",
    "self",
    "return",
    "if",
    "else",
    "match",
    "for",
    "in",
    "while",
    "const",
    "static",
    "pub",
    "struct",
    "impl",
    "use",
    "crate",
    "super",
    "async",
    "await",
    "Some",
    "None",
    "Ok",
    "Err",
    "String",
    "Vec",
    "usize",
    "u64",
    "i32",
    "bool",
    "true",
    "false",
    "config",
    "client",
    "request",
    "response",
    "header",
    "token",
    "user",
    "users",
    "name",
    "value",
    "key",
    "list",
    "page",
    "limit",
    "offset",
    "error",
    "result",
    "status",
    "message",
    "the",
    "a",
    "of",
    "to",
    "and",
    "is",
    "that",
    "this",
    "with",
    "from",
    "when",
    "each",
    "one",
    "which",
    "into",
    "function",
    "import",
    "export",
    "default",
    "class",
    "new",
    "null",
    "undefined",
    "var",
    "console.log",
    "JSON.parse",
    "await",
    "fetch",
    "timeout",
    "retry",
    "connection",
    "region",
    "eu",
    "us",
    "app_id",
    "base_url",
    "version",
    "TODO:",
    "FIXME",
    "//",
    "#",
    "/*",
    "*/",
    "=",
    "==",
    "=>",
    "->",
    "+",
    "-",
    "*",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    ".",
    ":",
    "&&",
    "||",
    "0",
    "1",
    "42",
    "1000",
    "0x7f",
    "\"ok\"",
    "\"error\"",
    "'id'",
    "<div>",
    "</div>",
];

/// Where the tree and the secrets file go: under the target directory, kept between runs.
fn home() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

fn secret(rng: &mut SmallRng) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..PATTERN_CHARS)
        .map(|_| char::from(ALNUM[rng.random_range(0..ALNUM.len())]))
        .collect()
}

/// About `size` bytes of code-like lines.
fn text(rng: &mut SmallRng, size: usize, out: &mut Vec<u8>) {
    out.clear();
    while out.len() < size {
        let indent = rng.random_range(0..4) * 4;
        out.extend(std::iter::repeat_n(b' ', indent));
        let words = rng.random_range(2..14);
        for w in 0..words {
            if w > 0 {
                out.push(b' ');
            }
            if rng.random_range(0..16) == 0 {
                // An identifier or number no vocabulary has.
                let n: u32 = rng.random();
                let _ = write!(out, "id_{n:x}");
            } else {
                out.extend_from_slice(WORDS[rng.random_range(0..WORDS.len())].as_bytes());
            }
        }
        out.push(b'\n');
    }
}

/// The secrets (the same every time) and the tree, made unless the stamp says it is there.
fn prepare() -> (Vec<String>, PathBuf, PathBuf, u64, usize) {
    let mut rng = SmallRng::seed_from_u64(14);
    let secrets: Vec<String> = (0..PATTERNS).map(|_| secret(&mut rng)).collect();
    let tree = home().join("bench-scan-tree");
    let patterns = home().join("bench-scan-patterns.txt");
    std::fs::write(&patterns, secrets.join("\n") + "\n").expect("patterns file");
    let stamp = home().join("bench-scan-tree.stamp");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(STAMP) {
        let started = Instant::now();
        let _ = std::fs::remove_dir_all(&tree);
        let _ = std::fs::remove_file(&stamp);
        generate(&mut rng, &tree, &secrets);
        std::fs::write(&stamp, STAMP).expect("stamp");
        eprintln!(
            "generated {} ({:.0} s)",
            tree.display(),
            started.elapsed().as_secs_f64()
        );
    }
    let (bytes, files) = tree_size(&tree);
    (secrets, tree, patterns, bytes, files)
}

fn generate(rng: &mut SmallRng, tree: &Path, secrets: &[String]) {
    let mut written = 0u64;
    let mut buf = Vec::new();
    let mut i = 0usize;
    while written < TREE_BYTES {
        let size = rng.random_range(64 * 1024..1024 * 1024);
        text(rng, size, &mut buf);
        if i % 50 == 7 && i / 50 < PLANTED {
            // A secret on a line of its own, somewhere in the file.
            let at = rng.random_range(0..buf.len());
            let at = buf[at..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(0, |p| at + p + 1);
            let line = format!(
                "    api_key = \"{}\"\n",
                secrets[(i / 50) * 7 % secrets.len()]
            );
            buf.splice(at..at, line.bytes());
        }
        let dir = tree.join(format!("pkg{:02}/mod{:02}", i % 16, (i / 16) % 8));
        std::fs::create_dir_all(&dir).expect("tree folder");
        std::fs::write(dir.join(format!("file{i:05}.txt")), &buf).expect("tree file");
        written += buf.len() as u64;
        i += 1;
    }
}

/// Bytes and files under `dir` (read whole, which also warms the page cache).
fn tree_size(dir: &Path) -> (u64, usize) {
    let mut bytes = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(dir).expect("tree").flatten() {
        let path = entry.path();
        if path.is_dir() {
            let (b, f) = tree_size(&path);
            bytes += b;
            files += f;
        } else {
            bytes += std::fs::read(&path).map_or(0, |d| d.len() as u64);
            files += 1;
        }
    }
    (bytes, files)
}

/// Keydeck's scan: seconds and the files it found secrets in.
fn keydeck_scan(scanner: &Scanner, tree: &Path) -> (f64, usize) {
    let started = Instant::now();
    let report = scanner
        .scan(tree, &Progress::default(), &AtomicBool::new(false))
        .expect("scan");
    let secs = started.elapsed().as_secs_f64();
    let mut files: Vec<&PathBuf> = report.findings.iter().map(|f| &f.path).collect();
    files.dedup();
    (secs, files.len())
}

/// ripgrep on the same tree: seconds and the files it found secrets in (`-c`: one line each).
fn rg_scan(patterns: &Path, tree: &Path) -> (f64, usize) {
    let started = Instant::now();
    let out = Command::new("rg")
        .args(["-F", "-c", "--no-messages", "-f"])
        .arg(patterns)
        .arg(tree)
        .output()
        .expect("rg runs");
    let secs = started.elapsed().as_secs_f64();
    (secs, String::from_utf8_lossy(&out.stdout).lines().count())
}

pub fn scan_row() -> Row {
    const FIGURE: &str = "leak scan (warm cache, 200 secrets)";
    if !super::have("rg") {
        return skipped_row(FIGURE, "rg missing (Debian: ripgrep)");
    }
    let (secrets, tree, patterns, bytes, files) = prepare();
    let targets: Vec<Target> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let origin = Origin {
                connection_id: format!("c{i}"),
                connection: format!("Bench {i}"),
                item: "REST API key".into(),
            };
            Target::new(Secret::new(s.clone()), "CometChat API key", origin)
        })
        .collect();
    let scanner = Scanner::new(&targets, ScanOptions::default()).expect("scanner");
    // One untimed run of each (the cache is warm from `tree_size`), and the same files found.
    let (_, ours) = keydeck_scan(&scanner, &tree);
    let (_, theirs) = rg_scan(&patterns, &tree);
    assert_eq!(ours, PLANTED, "Keydeck found the planted secrets");
    assert_eq!(theirs, PLANTED, "ripgrep found the planted secrets");
    let mut best_ours = f64::INFINITY;
    let mut best_rg = f64::INFINITY;
    for _ in 0..RUNS {
        best_ours = best_ours.min(keydeck_scan(&scanner, &tree).0);
        best_rg = best_rg.min(rg_scan(&patterns, &tree).0);
    }
    let gbps = |secs: f64| bytes as f64 / secs / 1e9;
    let ratio = gbps(best_ours) / gbps(best_rg);
    Row {
        figure: format!(
            "leak scan ({:.2} GiB in {files} files, {PATTERNS} secrets, warm cache, best of {RUNS})",
            bytes as f64 / f64::from(1u32 << 30)
        ),
        value: format!("{:.2} GB/s ({best_ours:.2} s)", gbps(best_ours)),
        reference: format!("rg -F -f: {:.2} GB/s ({best_rg:.2} s)", gbps(best_rg)),
        target: "≥ 0.8 × rg".into(),
        verdict: format!("{ratio:.2}× → {}", pass(ratio >= 0.8)),
    }
}
