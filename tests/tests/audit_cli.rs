//! `issuer audit-verify`: every state change is in the hash-chained audit log, and an entry
//! rewritten behind the application's back is found.

use std::process::Command;

use ccr_tests::{Workspace, fixture, oracle, run};

#[test]
fn the_audit_chain_covers_changes_and_detects_tampering() {
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    ws.revoke(&issued.number, "issued in error")
        .assert_success();
    let ok = ws.issuer("audit-verify", std::iter::empty::<&str>());
    ok.assert_success();
    assert!(
        ok.stdout.contains("2 entries"),
        "one issuance and one revocation:\n{ok}"
    );

    let Some(sqlite3) = oracle("sqlite3") else {
        return;
    };
    let db = ws.home.join("registry.sqlite");
    let tamper = run(Command::new(sqlite3)
        .arg(&db)
        .arg("UPDATE audit_log SET actor = 'someone else' WHERE id = 1"));
    assert!(tamper.success(), "{tamper}");
    let broken = ws.issuer("audit-verify", std::iter::empty::<&str>());
    assert!(
        !broken.success(),
        "a rewritten entry must be reported:\n{broken}"
    );
    assert!(broken.stderr.contains("entry 1 was altered"), "{broken}");
}
