//! Every JSON document we exchange conforms to its schema in `schemas/`, judged by the
//! independent Python `jsonschema` library (draft 2020-12, formats checked): each schema's
//! own examples, and real outputs of the issuer and the verifier.

use std::path::{Path, PathBuf};
use std::process::Command;

use ccr_tests::{Workspace, check, fixture, python_with, run, workspace_root};

fn schema(name: &str) -> PathBuf {
    workspace_root().join("schemas").join(name)
}

/// Runs the validator; `instances` empty means the schema's own examples.
#[track_caller]
fn assert_valid(python: &Path, schema: &Path, instances: &[&Path]) {
    let script = workspace_root().join("tests/oracles/validate_schema.py");
    let out = run(Command::new(python).arg(script).arg(schema).args(instances));
    assert!(
        out.success(),
        "{} rejected {instances:?}:\n{out}",
        schema.display()
    );
}

#[test]
fn every_schema_is_valid_and_its_examples_conform() {
    let Some(python) = python_with(&["jsonschema"]) else {
        return;
    };
    let dir = workspace_root().join("schemas");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("schemas dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            assert_valid(&python, &path, &[]);
            count += 1;
        }
    }
    assert!(count >= 5, "expected the five schemas, found {count}");
}

#[test]
fn real_documents_conform_to_their_schemas() {
    let Some(python) = python_with(&["jsonschema"]) else {
        return;
    };
    let ws = Workspace::new();
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();

    // Requests: every good fixture; a bad one is refused by the schema too.
    let good: Vec<PathBuf> = std::fs::read_dir(workspace_root().join("fixtures/requests"))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    let good_refs: Vec<&Path> = good.iter().map(PathBuf::as_path).collect();
    assert_valid(
        &python,
        &schema("certificate-request.schema.json"),
        &good_refs,
    );
    let script = workspace_root().join("tests/oracles/validate_schema.py");
    let bad = run(Command::new(&python)
        .arg(&script)
        .arg(schema("certificate-request.schema.json"))
        .arg(fixture("bad/missing-holder-name.json")));
    assert_eq!(
        bad.code,
        Some(1),
        "the schema must refuse a request without a name:\n{bad}"
    );

    // Verification reports: VALID, and MALFORMED for a non-PDF.
    let valid = check(&issued.pdf, &trust.root, Some(trust.status_list()), None);
    let not_pdf = ws.file("not.pdf");
    std::fs::write(&not_pdf, b"hello").expect("write");
    let malformed = check(&not_pdf, &trust.root, None, None);
    let reports = [ws.file("valid.json"), ws.file("malformed.json")];
    std::fs::write(&reports[0], &valid.out.stdout).expect("write");
    std::fs::write(&reports[1], &malformed.out.stdout).expect("write");
    assert_valid(
        &python,
        &schema("verification-report.schema.json"),
        &[&reports[0], &reports[1]],
    );

    // The signed trust bundle written by export-trust, and the bundle it carries.
    let signed = trust.dir.join("bundle.json");
    assert_valid(
        &python,
        &schema("signed-trust-bundle.schema.json"),
        &[&signed],
    );
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&signed).expect("bundle.json")).expect("json");
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        envelope["payload"].as_str().expect("payload"),
    )
    .expect("base64url payload");
    let payload_path = ws.file("bundle-payload.json");
    std::fs::write(&payload_path, payload).expect("write");
    assert_valid(
        &python,
        &schema("trust-bundle.schema.json"),
        &[&payload_path],
    );

    // Token claims and the status list, as the Rust types serialise them.
    let bytes = std::fs::read(&issued.pdf).expect("pdf");
    let doc = ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default()).expect("inspect");
    let claims = ccr_pki::token::parse(&doc.token)
        .expect("token")
        .claims_unverified()
        .clone();
    let claims_path = ws.file("claims.json");
    std::fs::write(&claims_path, serde_json::to_vec(&claims).expect("json")).expect("write");
    assert_valid(
        &python,
        &schema("token-claims.schema.json"),
        &[&claims_path],
    );

    let list_bytes = std::fs::read(trust.status_list()).expect("status list");
    let unverified = ccr_pki::status_list::parse_status_list(&list_bytes, 1 << 24).expect("parse");
    let signer = unverified.chain_der().first().expect("x5chain").clone();
    let cert = ccr_pki::hierarchy::parse_certificate(&signer).expect("cert");
    let spki = der::Encode::to_der(cert.tbs_certificate().subject_public_key_info()).expect("spki");
    let list = unverified.verify(&spki).expect("verify");
    let list_path = ws.file("status-list.json");
    std::fs::write(&list_path, serde_json::to_vec(&list).expect("json")).expect("write");
    assert_valid(&python, &schema("status-list.schema.json"), &[&list_path]);
}
