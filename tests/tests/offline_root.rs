//! Issue 14: the offline root (SPEC §10). The root lives in its own folder (`issuer root
//! init`); the online home is made without it (`issuer init --offline-root`), asks for its
//! issuing CA's certificate with a PKCS #10 request, and issues only once the certificate
//! the root signed is installed (`issuer install-ca`). The root's later CRLs reach the home
//! with `issuer install-root-crl`, never older than the installed one.
//!
//! openssl is the independent oracle for the request, the chain and the CRL; skipped (with a
//! printed reason) without it, unless `CCR_REQUIRE_ORACLES=1`.

use std::path::{Path, PathBuf};

use ccr_tests::{Out, Workspace, bin_command, check, fixture, oracle, run, tools};
use serde_json::Value;
use time::OffsetDateTime;

/// `issuer root <subcommand> --root-home <root> <args>`.
fn root_command(root: &Path, subcommand: &str, args: &[&str]) -> Out {
    run(bin_command("issuer")
        .arg("root")
        .arg(subcommand)
        .arg("--root-home")
        .arg(root)
        .args(args))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// openssl with `args`, which must succeed; `None` when openssl is missing.
fn openssl(args: &[&str]) -> Option<Out> {
    let exe = oracle("openssl")?;
    let out = run(std::process::Command::new(exe).args(args));
    out.assert_success();
    Some(out)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn an_online_home_issues_under_an_offline_root_whose_key_never_reaches_it() {
    let ws = Workspace::uninitialised();
    let root = ws.file("root");
    root_command(&root, "init", &[]).assert_success();
    let root_pem = root.join("root.pem");
    let root_key = std::fs::read(root.join("root.key.p8")).expect("root key");

    // The online home: an issuing CA key and its request, no root key, nothing issued yet.
    let init = ws.init(&["--offline-root"]);
    init.assert_success();
    let request = PathBuf::from(init.last_stdout_line().expect("request path"));
    assert!(
        request.is_file(),
        "no request at {}:\n{init}",
        request.display()
    );
    for file in files_under(&ws.home) {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            !name.starts_with("root.key"),
            "{} in the online home",
            file.display()
        );
        let bytes = std::fs::read(&file).expect("read");
        assert!(
            !bytes
                .windows(root_key.len())
                .any(|w| w == root_key.as_slice()),
            "{} holds the root key",
            file.display()
        );
    }
    let early = ws.try_issue(&fixture("chan-tai-man.json"), &ws.file("early.pdf"), &[]);
    assert!(
        !early.success(),
        "issued before its CA was installed:\n{early}"
    );
    assert!(
        early.all_output().contains("install-ca"),
        "the refusal does not say what to do:\n{early}"
    );
    assert!(!ws.file("early.pdf").exists());
    if let Some(out) = openssl(&["req", "-in", path(&request), "-verify", "-noout"]) {
        assert!(out.all_output().contains("verify OK"), "{out}");
    }

    // The root refuses a request whose signature does not verify with the key it names.
    let pem = std::fs::read_to_string(&request).expect("request");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut der = base64_decode(&body);
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let broken = ws.file("broken.csr.der");
    std::fs::write(&broken, &der).expect("write");
    let refused = root_command(
        &root,
        "sign-ca",
        &["--request", path(&broken), "--out", path(&ws.file("x.pem"))],
    );
    assert!(
        !refused.success(),
        "a broken request was certified:\n{refused}"
    );
    assert!(
        refused.all_output().contains("does not verify"),
        "{refused}"
    );

    let ca = ws.file("issuing-ca.pem");
    root_command(
        &root,
        "sign-ca",
        &["--request", path(&request), "--out", path(&ca)],
    )
    .assert_success();
    openssl(&["verify", "-CAfile", path(&root_pem), path(&ca)]);

    // A certificate the root made for another home's key is refused; the home still waits.
    let other = Workspace::uninitialised();
    let other_init = other.init(&["--offline-root"]);
    other_init.assert_success();
    let other_ca = ws.file("other-ca.pem");
    root_command(
        &root,
        "sign-ca",
        &[
            "--request",
            other_init.last_stdout_line().expect("request"),
            "--out",
            path(&other_ca),
        ],
    )
    .assert_success();
    let crl = root.join("root.crl");
    let install = |certificate: &Path| {
        ws.issuer(
            "install-ca",
            [
                "--certificate",
                path(certificate),
                "--root",
                path(&root_pem),
                "--crl",
                path(&crl),
            ],
        )
    };
    let wrong = install(&other_ca);
    assert!(
        !wrong.success(),
        "another key's certificate was installed:\n{wrong}"
    );
    assert!(wrong.all_output().contains("another key"), "{wrong}");
    assert!(
        !ws.try_issue(&fixture("chan-tai-man.json"), &ws.file("early.pdf"), &[])
            .success()
    );

    install(&ca).assert_success();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    assert_eq!(
        std::fs::read(&trust.root).expect("exported root"),
        std::fs::read(&root_pem).expect("root"),
        "the home exports the offline root as its trust anchor"
    );
    check(&issued.pdf, &root_pem, Some(trust.status_list()), None).assert_verdict("VALID");
    openssl(&[
        "verify",
        "-CAfile",
        path(&root_pem),
        "-untrusted",
        path(&ca),
        path(&ws.home.join("pki/document-signer.pem")),
    ]);

    // The root revokes the issuing CA: a newer CRL is installed, an older one never again.
    let first_crl = std::fs::read(&crl).expect("crl");
    let list = root_command(&root, "list", &[]);
    list.assert_success();
    let listed: Value = serde_json::from_str(&list.stdout).expect("root list JSON");
    let serial = listed[0]["serial"].as_str().expect("serial").to_owned();
    root_command(
        &root,
        "revoke",
        &[
            &serial,
            "--since",
            "2026-01-01T00:00:00Z",
            "--reason",
            "keyCompromise",
        ],
    )
    .assert_success();
    if let Some(out) = openssl(&[
        "crl",
        "-in",
        path(&crl),
        "-inform",
        "DER",
        "-CAfile",
        path(&root_pem),
        "-noout",
        "-text",
    ]) {
        let text = out.all_output();
        assert!(text.contains("verify OK"), "{out}");
        assert!(text.contains("Key Compromise"), "{out}");
        assert!(
            text.to_uppercase().contains(&serial.to_uppercase()),
            "{out}"
        );
    }
    ws.issuer("install-root-crl", [path(&crl)]).assert_success();
    let old = ws.file("old.crl");
    std::fs::write(&old, &first_crl).expect("write");
    let stale = ws.issuer("install-root-crl", [path(&old)]);
    assert!(
        !stale.success(),
        "an older root CRL replaced a newer one:\n{stale}"
    );
    assert!(stale.all_output().contains("not newer"), "{stale}");
    // Nor one from another root, however new.
    let stranger = ws.file("stranger-root");
    root_command(&stranger, "init", &[]).assert_success();
    for _ in 0..3 {
        root_command(&stranger, "crl", &[]).assert_success();
    }
    let foreign = ws.issuer("install-root-crl", [path(&stranger.join("root.crl"))]);
    assert!(
        !foreign.success(),
        "another root's CRL was installed:\n{foreign}"
    );

    // What the home signs now carries the root's CRL listing its own CA: not VALID.
    let after = ws.issue(&fixture("chan-tai-man.json"));
    let report = check(
        &after.pdf,
        &root_pem,
        Some(ws.export_trust().status_list()),
        None,
    );
    eprintln!(
        "after the root revoked the issuing CA: {}",
        report.verdict()
    );
    assert_ne!(report.verdict(), "VALID", "{report}");
}

/// Issue 14 must-show 2 under an offline root: `issuer keys rotate issuing-ca` leaves the
/// home signing with its CA and writes the next CA's request; the root certifies it as
/// generation 2; `issuer install-ca` refuses a certificate for another key and then publishes
/// the new CA with new end entities. Both hierarchies' certificates stay VALID.
#[test]
fn the_issuing_ca_rotates_under_the_offline_root() {
    let ws = Workspace::uninitialised();
    let root = ws.file("root");
    root_command(&root, "init", &[]).assert_success();
    let root_pem = root.join("root.pem");
    let crl = root.join("root.crl");
    let init = ws.init(&["--offline-root"]);
    init.assert_success();
    let request = PathBuf::from(init.last_stdout_line().expect("request path"));
    let ca = ws.file("issuing-ca.pem");
    root_command(
        &root,
        "sign-ca",
        &["--request", path(&request), "--out", path(&ca)],
    )
    .assert_success();
    let install = |certificate: &Path| {
        ws.issuer(
            "install-ca",
            [
                "--certificate",
                path(certificate),
                "--root",
                path(&root_pem),
                "--crl",
                path(&crl),
                "--publish-for",
                "0",
            ],
        )
    };
    install(&ca).assert_success();
    let before = ws.issue(&fixture("chan-tai-man.json"));

    let rotate = ws.keys(["rotate", "issuing-ca", "--publish-for", "0"]);
    rotate.assert_success();
    assert!(rotate.stdout.contains("sign-ca"), "{rotate}");
    let next_request = ws.home.join("pki/issuing-ca-next.csr.pem");
    assert!(next_request.is_file(), "{rotate}");
    // Until the root answers, the home signs with its CA as before.
    let waiting = ws.issue(&fixture("chan-tai-man.json"));
    check(
        &waiting.pdf,
        &root_pem,
        Some(ws.export_trust().status_list()),
        None,
    )
    .assert_verdict("VALID");
    // The moment the first CA's key may have left the building (checked at the end).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let since = OffsetDateTime::now_utc();
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let next = ws.file("next-ca.pem");
    root_command(
        &root,
        "sign-ca",
        &["--request", path(&next_request), "--out", path(&next)],
    )
    .assert_success();
    if let Some(out) = openssl(&["x509", "-in", path(&next), "-noout", "-subject"]) {
        assert!(out.stdout.contains("Issuing CA G2"), "{out}");
    }
    openssl(&["verify", "-CAfile", path(&root_pem), path(&next)]);
    let wrong = install(&ca);
    assert!(
        !wrong.success() && wrong.all_output().contains("another key"),
        "the current CA's certificate ended the rotation:\n{wrong}"
    );
    install(&next).assert_success();
    assert!(!next_request.exists(), "the request outlived its rotation");
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let after = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    for (name, pdf) in [("before", &before.pdf), ("after", &after.pdf)] {
        check(pdf, &root_pem, Some(trust.status_list()), None).assert_verdict("VALID");
        if let Some(result) = tools::pyhanko_adesverify(pdf, &root_pem) {
            assert!(
                result.is_good(),
                "pyHanko adesverify, {name}: {:?}\n{}",
                result.fields(),
                result.out
            );
        }
    }
    let keys = ws.keys(["list", "--json"]);
    keys.assert_success();
    let listed: Value = serde_json::from_str(&keys.stdout).expect("keys JSON");
    let active_signer = listed["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["role"] == "document-signer" && k["state"] == "active")
        .and_then(|k| k["certificate"].as_str())
        .expect("active document signer")
        .to_owned();
    openssl(&[
        "verify",
        "-CAfile",
        path(&root_pem),
        "-untrusted",
        path(&next),
        path(&ws.home.join("pki").join(active_signer)),
    ]);

    // The first CA's key turns out to have been stolen at `since`. The home cannot revoke
    // it: until the root's CRL does, the declaration is refused and changes nothing.
    let first_ca = |listed: &Value| {
        listed["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["role"] == "issuing-ca" && k["state"] == "retired")
            .and_then(|k| k["key_id"].as_str())
            .expect("the first issuing CA")
            .to_owned()
    };
    let first_ca_id = first_ca(&listed);
    let since_text = since
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let declare = || {
        ws.keys([
            "compromise",
            "issuing-ca",
            "--since",
            &since_text,
            "--reason",
            "drill: CA key copied",
            "--json",
        ])
    };
    let refused = declare();
    assert!(
        !refused.success() && refused.all_output().contains("root revoke"),
        "a compromise the root has not revoked was declared:\n{refused}"
    );
    let unchanged = ws.keys(["list", "--json"]);
    let unchanged: Value = serde_json::from_str(&unchanged.stdout).expect("keys JSON");
    assert_eq!(
        unchanged["sequence"], listed["sequence"],
        "the refusal wrote"
    );

    let issued: Value =
        serde_json::from_str(&root_command(&root, "list", &[]).stdout).expect("root list");
    let first_serial = issued[0]["serial"].as_str().expect("serial").to_owned();
    assert_eq!(issued[0]["key_id"], first_ca_id.as_str());
    root_command(
        &root,
        "revoke",
        &[
            &first_serial,
            "--since",
            &since_text,
            "--reason",
            "keyCompromise",
        ],
    )
    .assert_success();
    ws.issuer("install-root-crl", [path(&crl)]).assert_success();
    let declared = declare();
    declared.assert_success();
    let done: Value = serde_json::from_str(declared.stdout.trim()).expect("json");
    let compromised: Vec<&str> = done["compromised"]
        .as_array()
        .expect("compromised")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // The CA and its three end entities; the second CA signs on.
    assert!(compromised.contains(&first_ca_id.as_str()), "{done:#}");
    assert_eq!(compromised.len(), 4, "{done:#}");
    assert_ne!(done["replacement"], first_ca_id.as_str(), "{done:#}");
    // Both certificates the first CA's token signer signed are re-issued under the second.
    let superseded: Vec<&str> = done["superseded"]
        .as_array()
        .expect("superseded")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        superseded,
        [before.number.as_str(), waiting.number.as_str()],
        "{done:#}"
    );
    let trust = ws.export_trust();
    check(&before.pdf, &root_pem, Some(trust.status_list()), None).assert_verdict("SUPERSEDED");
    check(&after.pdf, &root_pem, Some(trust.status_list()), None).assert_verdict("VALID");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}
