//! Issue 2 must-show 4 (requests): a bad certificate request gets a clear error and writes
//! nothing: no PDF (not even a temporary file) and no registry row.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ccr_tests::{Out, Workspace, fixture, oracle, run};
use serde_json::Value;

/// The rows of every SQLite database under `dir` (an empty file named `*.sqlite` counts as an
/// empty database), dumped with the `sqlite3` command-line tool (an
/// independent reader), without rows of audit/log tables (recording a refused attempt there
/// is allowed). `None` when `sqlite3` is missing.
fn registry_dump(dir: &Path) -> Option<BTreeMap<PathBuf, String>> {
    let sqlite3 = oracle("sqlite3")?;
    let mut dumps = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            let name = path.to_string_lossy().to_lowercase();
            let sqlite_name = [".sqlite", ".sqlite3", ".db"]
                .iter()
                .any(|e| name.ends_with(e));
            let is_db =
                bytes.starts_with(b"SQLite format 3\0") || (bytes.is_empty() && sqlite_name);
            if !is_db {
                continue;
            }
            let out = run(Command::new(&sqlite3).arg(&path).arg(".dump"));
            out.assert_success();
            // Rows only: creating the schema (and sqlx's migration bookkeeping) on first use is
            // not a registry row.
            let dump: Vec<&str> = out
                .stdout
                .lines()
                .filter(|l| {
                    let l = l.to_lowercase();
                    l.starts_with("insert into")
                        && !l.contains("_sqlx_migrations")
                        && !l.contains("audit")
                        && !l.contains("log")
                })
                .collect();
            dumps.insert(path, dump.join("\n"));
        }
    }
    assert!(
        !dumps.is_empty(),
        "no SQLite database in the issuer home {}",
        dir.display()
    );
    Some(dumps)
}

/// Files in `dir` (recursively) that are not the database or its journal.
fn non_database_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned();
                let journal = ["-wal", "-shm", "-journal"]
                    .iter()
                    .any(|s| name.ends_with(s));
                if !journal {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    out
}

/// The first certificate number a fresh home gives.
fn first_number_of_a_fresh_home() -> String {
    Workspace::new().issue(&fixture("chan-tai-man.json")).number
}

/// Runs a refused issuance and checks that it failed cleanly, named the problem (one of
/// `problem`, case-insensitive) and left nothing behind.
#[track_caller]
fn assert_refused(ws: &Workspace, request: &Path, problem: &[&str]) -> Out {
    let before_db = registry_dump(&ws.home);
    let before_files = non_database_files(&ws.home);
    let out_dir = ws.file(format!("out-{}", ccr_tests::unique()));
    std::fs::create_dir(&out_dir).expect("out dir");
    let out_pdf = out_dir.join("certificate.pdf");

    let out = ws.try_issue(request, &out_pdf, &[]);
    let what = request.display();
    assert!(
        out.code.is_some_and(|c| c != 0),
        "{what}: `issuer issue` must fail (not crash):\n{out}"
    );
    assert!(
        !out.stderr.trim().is_empty(),
        "{what}: no error message on stderr:\n{out}"
    );
    assert!(
        !out.stderr.contains("panicked"),
        "{what}: the issuer panicked:\n{out}"
    );
    let stderr = out.stderr.to_lowercase();
    assert!(
        problem.iter().any(|p| stderr.contains(&p.to_lowercase())),
        "{what}: the message does not name the problem (expected one of {problem:?}):\n{out}"
    );

    assert!(
        !out_pdf.exists(),
        "{what}: a PDF was written despite the error"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out_dir)
        .expect("out dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert!(
        leftovers.is_empty(),
        "{what}: files left in the output directory: {leftovers:?}"
    );
    assert_eq!(
        before_files,
        non_database_files(&ws.home),
        "{what}: files appeared in the issuer home"
    );
    if let (Some(before), Some(after)) = (before_db, registry_dump(&ws.home)) {
        for (db, dump) in &before {
            assert_eq!(
                Some(dump),
                after.get(db),
                "{what}: the registry {} changed",
                db.display()
            );
        }
    }
    eprintln!("{what} refused: {}", out.stderr.trim());
    out
}

#[test]
fn a_request_without_the_latin_name_is_refused_and_leaves_nothing() {
    let ws = Workspace::new();
    assert_refused(
        &ws,
        &fixture("bad/missing-holder-name.json"),
        &["name_latin"],
    );
    let before = registry_dump(&ws.home);
    assert_eq!(
        ws.issue(&fixture("chan-tai-man.json")).number,
        first_number_of_a_fresh_home(),
        "the number sequence moved"
    );
    // The dump sees a successful issuance (so it would have seen a refused one's row).
    if let (Some(before), Some(after)) = (before, registry_dump(&ws.home)) {
        assert_ne!(before, after, "a successful issuance adds registry rows");
    }
}

#[test]
fn a_request_with_an_unknown_usage_is_refused_and_leaves_nothing() {
    let ws = Workspace::new();
    assert_refused(&ws, &fixture("bad/unknown-usage.json"), &["SMUGGLING"]);
    assert_eq!(
        ws.issue(&fixture("chan-tai-man.json")).number,
        first_number_of_a_fresh_home(),
        "the number sequence moved"
    );
}

#[test]
fn a_name_with_a_character_no_shipped_font_covers_is_refused_and_leaves_nothing() {
    let ws = Workspace::new();
    // The message names the character (U+17000 TANGUT IDEOGRAPH) one way or another.
    assert_refused(
        &ws,
        &fixture("bad/uncovered-character.json"),
        &["U+17000", "\u{17000}", "0x17000", "\\u{17000}"],
    );
    assert_eq!(
        ws.issue(&fixture("chan-tai-man.json")).number,
        first_number_of_a_fresh_home(),
        "the number sequence moved"
    );
}

#[test]
fn an_emoji_in_a_name_is_refused_too() {
    let ws = Workspace::new();
    let mut request: Value =
        serde_json::from_slice(&std::fs::read(fixture("chan-tai-man.json")).expect("fixture"))
            .expect("json");
    request["holder"]["name_chinese"] = Value::from("陳大文\u{1F600}");
    let file = ws.file("emoji.json");
    std::fs::write(&file, serde_json::to_vec(&request).expect("json")).expect("write");
    assert_refused(
        &ws,
        &file,
        &["U+1F600", "\u{1F600}", "0x1F600", "\\u{1f600}"],
    );
}

#[test]
fn several_refusals_in_a_row_do_not_move_the_number_sequence() {
    let ws = Workspace::new();
    for bad in [
        "bad/missing-holder-name.json",
        "bad/unknown-usage.json",
        "bad/uncovered-character.json",
    ] {
        let out = ws.try_issue(&fixture(bad), &ws.file("x.pdf"), &[]);
        assert!(!out.success(), "{bad} must be refused:\n{out}");
        assert!(!ws.file("x.pdf").exists(), "{bad}: PDF written");
    }
    let first = ws.issue(&fixture("chan-tai-man.json"));
    assert_eq!(
        first.number,
        first_number_of_a_fresh_home(),
        "the number sequence moved after refusals"
    );
}

fn variant(ws: &Workspace, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut request: Value =
        serde_json::from_slice(&std::fs::read(fixture("chan-tai-man.json")).expect("fixture"))
            .expect("json");
    edit(&mut request);
    let file = ws.file(name);
    std::fs::write(&file, serde_json::to_vec_pretty(&request).expect("json")).expect("write");
    file
}

#[test]
fn other_invalid_requests_are_refused_and_leave_nothing() {
    let ws = Workspace::new();
    let not_json = ws.file("not-json.json");
    std::fs::write(&not_json, b"{ \"holder\": ").expect("write");
    let cases = [
        (not_json, &["json", "parse", "eof", "expected"][..]),
        (
            ws.file("does-not-exist.json"),
            &["does-not-exist.json", "no such file", "not found"],
        ),
        (
            variant(&ws, "bad-date.json", |r| {
                r["holder"]["date_of_birth"] = Value::from("1990-02-30")
            }),
            &["date_of_birth", "date"],
        ),
        (
            variant(&ws, "unknown-department.json", |r| {
                r["transfer_to"] = Value::from("NOPE")
            }),
            &["NOPE", "transfer_to", "department"],
        ),
        (
            variant(&ws, "unknown-language.json", |r| {
                r["language"] = Value::from("fr")
            }),
            &["language", "\"fr\"", "`fr`", "'fr'"],
        ),
        (
            variant(&ws, "no-usage.json", |r| {
                r.as_object_mut().map(|o| o.remove("usage"));
            }),
            &["usage"],
        ),
        (
            variant(&ws, "missing-document.json", |r| {
                r["holder"].as_object_mut().map(|o| o.remove("document"));
            }),
            &["document"],
        ),
    ];
    for (file, problem) in cases {
        assert_refused(&ws, &file, problem);
    }
    assert_eq!(
        ws.issue(&fixture("chan-tai-man.json")).number,
        first_number_of_a_fresh_home(),
        "the number sequence moved"
    );
}
