//! The key lifecycle (SPEC §10, issue 14 must-show 2): rotating each role while certificates
//! signed by the old keys exist. Old certificates stay VALID; new ones carry the new keys; a
//! verifier that cached the bundle published before the hand-over verifies both; a verifier
//! fed an older bundle after a newer one refuses it.

use std::ffi::OsString;
use std::path::Path;

use serde_json::Value;

use ccr_tests::{Report, Trust, Workspace, check, fixture, tools, verifier};

/// The token URL embedded in a signed certificate (what its QR code carries).
fn token_url(pdf: &Path) -> String {
    let bytes = std::fs::read(pdf).expect("read pdf");
    let doc = ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default()).expect("inspect");
    ccr_pki::token::to_url("http://127.0.0.1:8080/verify", &doc.token)
}

/// `verifier token <url> --bundle <bundle> --status <list> --cache-dir <cache> --json`.
fn verify_token(url: &str, trust: &Trust, bundle: &Path, cache: &Path) -> Report {
    let args: Vec<OsString> = vec![
        "token".into(),
        url.into(),
        "--trust".into(),
        trust.root.clone().into(),
        "--bundle".into(),
        bundle.into(),
        "--status".into(),
        trust.status_list().into(),
        "--cache-dir".into(),
        cache.into(),
        "--json".into(),
    ];
    Report::parse(verifier(args))
}

/// `issuer keys list --json`.
fn keys(ws: &Workspace) -> Value {
    let out = ws.keys(["list", "--json"]);
    out.assert_success();
    serde_json::from_str(&out.stdout).expect("keys list --json")
}

/// The key id (hex) of `role`'s key in state `state`.
fn key_id(keys: &Value, role: &str, state: &str) -> String {
    keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["role"] == role && k["state"] == state)
        .and_then(|k| k["key_id"].as_str())
        .unwrap_or_else(|| panic!("no {state} key of {role}: {keys:#}"))
        .to_owned()
}

/// The key id of the certificate `der`'s public key.
fn key_id_of(der: &[u8]) -> String {
    let cert = ccr_pki::hierarchy::parse_certificate(der).expect("certificate");
    let spki = der::Encode::to_der(cert.tbs_certificate().subject_public_key_info()).expect("spki");
    hex::encode(ccr_pki::signer::key_id_of_spki(&spki).expect("key id"))
}

/// The key ids of the document signer and the token signer a certificate PDF names.
fn signer_key_ids(pdf: &Path) -> (String, String) {
    let bytes = std::fs::read(pdf).expect("pdf");
    let doc = ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default()).expect("inspect");
    let token = ccr_pki::token::parse(&doc.token).expect("token");
    (
        key_id_of(&signer_certificate(pdf)),
        hex::encode(token.kid()),
    )
}

#[test]
fn rotating_every_signing_role_never_breaks_an_issued_certificate() {
    let ws = Workspace::new();
    let before = ws.issue(&fixture("chan-tai-man.json"));
    let first = keys(&ws);
    let old_token_key = key_id(&first, "token-signer", "active");
    let old_document_key = key_id(&first, "document-signer", "active");
    assert_eq!(
        signer_key_ids(&before.pdf),
        (old_document_key.clone(), old_token_key.clone())
    );
    let trust_before = ws.export_trust();

    // The token signer rotates with a publication period: the new key is in the bundle
    // before it signs anything.
    let rotated = ws.keys(["rotate", "token-signer", "--publish-for", "3"]);
    rotated.assert_success();
    let published = keys(&ws);
    let new_token_key = key_id(&published, "token-signer", "published");
    assert_eq!(key_id(&published, "token-signer", "active"), old_token_key);
    assert!(published["sequence"].as_u64() > first["sequence"].as_u64());
    let trust_published = ws.export_trust();
    std::thread::sleep(std::time::Duration::from_secs(4));

    // The document signer and the TSA rotate at once.
    for role in ["document-signer", "tsa"] {
        ws.keys(["rotate", role, "--publish-for", "0"])
            .assert_success();
    }
    // "At once" is the next whole second: the registry's instants are whole, as tokens' are.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let after = ws.issue(&fixture("chan-tai-man.json"));
    let now = keys(&ws);
    assert_eq!(key_id(&now, "token-signer", "active"), new_token_key);
    assert_eq!(key_id(&now, "token-signer", "retired"), old_token_key);
    let new_document_key = key_id(&now, "document-signer", "active");
    assert_ne!(new_document_key, old_document_key);
    assert_eq!(
        signer_key_ids(&after.pdf),
        (new_document_key, new_token_key),
        "the new certificate carries the new keys"
    );
    let trust_after = ws.export_trust();

    // Both certificates verify, as PDFs and as tokens, with the newest bundle.
    for pdf in [&before.pdf, &after.pdf] {
        check(
            pdf,
            &trust_after.root,
            Some(trust_after.status_list()),
            None,
        )
        .assert_verdict("VALID");
    }
    let cache = ws.file("verifier-cache");
    let newest = trust_after.dir.join("bundle.json");
    for issued in [&before, &after] {
        verify_token(&token_url(&issued.pdf), &trust_after, &newest, &cache)
            .assert_verdict("VALID");
    }

    // A verifier that cached the bundle of the publication period verifies both as well.
    let cached_cache = ws.file("cached-verifier-cache");
    let published_bundle = trust_published.dir.join("bundle.json");
    for issued in [&before, &after] {
        verify_token(
            &token_url(&issued.pdf),
            &trust_after,
            &published_bundle,
            &cached_cache,
        )
        .assert_verdict("VALID");
    }

    // Fed the bundle from before the rotation after the newer one, a verifier refuses it.
    let older = trust_before.dir.join("bundle.json");
    let refused = verifier([
        OsString::from("token"),
        token_url(&before.pdf).into(),
        "--trust".into(),
        trust_after.root.clone().into(),
        "--bundle".into(),
        older.into(),
        "--cache-dir".into(),
        cache.clone().into(),
        "--json".into(),
    ]);
    assert_eq!(refused.code, Some(2), "{refused}");
    assert!(refused.stderr.contains("older"), "{refused}");

    // A token signed by the retired key after its retirement is refused: the window is the
    // bureau's word, from the signed bundle.
    let retired = ws.keys([
        "retire",
        &key_id(&now, "token-signer", "active"),
        "--reason",
        "x",
    ]);
    assert!(
        !retired.success(),
        "the only signing key cannot be retired:\n{retired}"
    );
    assert!(retired.all_output().contains("rotate first"), "{retired}");
}

#[test]
fn a_registry_change_reaches_the_served_bundle_and_the_keys_list() {
    let ws = Workspace::new();
    let listed = ws.keys(["list"]);
    listed.assert_success();
    for role in [
        "issuing-ca",
        "document-signer",
        "tsa",
        "token-signer",
        "transfer-signer",
    ] {
        assert!(listed.stdout.contains(role), "{listed}");
    }
    let unknown = ws.keys(["rotate", "root"]);
    assert!(
        !unknown.success() && unknown.all_output().contains("unknown role"),
        "{unknown}"
    );
    let missing = ws.keys(["retire", "0011223344556677", "--reason", "test"]);
    assert!(
        !missing.success() && missing.all_output().contains("no key"),
        "{missing}"
    );
    let negative = ws.keys(["rotate", "tsa", "--publish-for=-5"]);
    assert!(!negative.success(), "{negative}");
    let audit = ws.issuer("audit-verify", Vec::<&str>::new());
    audit.assert_success();
}

/// The certificate (DER) that made a PDF's signature.
fn signer_certificate(pdf: &Path) -> Vec<u8> {
    let bytes = std::fs::read(pdf).expect("pdf");
    let doc = ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default()).expect("inspect");
    let signed = ccr_pki::cades::verify(
        &doc.cms_der,
        ccr_pki::cades::Expect::Pades {
            content_digest: &doc.content_digest,
        },
    )
    .expect("cms");
    ccr_pki::chain::certificate_der(&signed.signer_certificate).expect("der")
}

/// Issue 14 must-show 2 for the issuing CA: `issuer keys rotate issuing-ca` makes a CA of the
/// next generation (its own name and CRL) with a new key for every end entity, published
/// together. What the old hierarchy signed stays VALID, for us, pyHanko and pdfsig; what is
/// signed after the hand-over chains to the new CA; a verifier holding the bundle of the
/// publication period verifies both.
#[test]
fn rotating_the_issuing_ca_moves_every_end_entity_and_breaks_nothing() {
    let ws = Workspace::new();
    let before = ws.issue(&fixture("chan-tai-man.json"));
    let first = keys(&ws);
    let old_ca = key_id(&first, "issuing-ca", "active");
    let old_ends: Vec<String> = ["document-signer", "tsa", "token-signer"]
        .iter()
        .map(|role| key_id(&first, role, "active"))
        .collect();

    let rotated = ws.keys(["rotate", "issuing-ca", "--publish-for", "3"]);
    rotated.assert_success();
    for role in ["issuing-ca", "document-signer", "tsa", "token-signer"] {
        assert!(
            rotated.stdout.contains(&format!("{role}: key ")),
            "{rotated}"
        );
    }
    let published = keys(&ws);
    let new_ca = key_id(&published, "issuing-ca", "published");
    assert_eq!(key_id(&published, "issuing-ca", "active"), old_ca);
    let again = ws.keys(["rotate", "issuing-ca", "--publish-for", "3"]);
    assert!(
        !again.success() && again.all_output().contains("already published"),
        "a second CA rotation during the first's publication:\n{again}"
    );
    let meanwhile = ws.keys(["rotate", "tsa", "--publish-for", "0"]);
    assert!(
        !meanwhile.success() && meanwhile.all_output().contains("takes over"),
        "an end entity of the outgoing CA rotated during the hand-over:\n{meanwhile}"
    );
    let trust_published = ws.export_trust();
    // Signed during the publication period: still the old hierarchy.
    let during = ws.issue(&fixture("chan-tai-man.json"));
    std::thread::sleep(std::time::Duration::from_secs(4));

    let after = ws.issue(&fixture("chan-tai-man.json"));
    let now = keys(&ws);
    assert_eq!(key_id(&now, "issuing-ca", "active"), new_ca);
    assert_eq!(key_id(&now, "issuing-ca", "retired"), old_ca);
    for (role, old) in ["document-signer", "tsa", "token-signer"]
        .iter()
        .zip(&old_ends)
    {
        assert_ne!(&key_id(&now, role, "active"), old, "{role} did not move");
        assert_eq!(&key_id(&now, role, "retired"), old);
    }
    assert_eq!(signer_key_ids(&during.pdf).0, old_ends[0]);
    assert_eq!(
        signer_key_ids(&after.pdf),
        (
            key_id(&now, "document-signer", "active"),
            key_id(&now, "token-signer", "active")
        )
    );
    // The new signer chains to "… Issuing CA G2", whose CRL has its own name.
    let signer =
        ccr_pki::hierarchy::parse_certificate(&signer_certificate(&after.pdf)).expect("signer");
    let issuer_name = signer.tbs_certificate().issuer().to_string();
    assert!(
        issuer_name.contains("CN=DSI Criminal Record Issuing CA G2,"),
        "{issuer_name}"
    );
    let signer_pem = ccr_pki::hierarchy::der_to_pem("CERTIFICATE", &signer_certificate(&after.pdf))
        .expect("pem");
    let signer_file = ws.file("new-signer.pem");
    std::fs::write(&signer_file, signer_pem).expect("write");
    if let Some(openssl) = ccr_tests::oracle("openssl") {
        let text = ccr_tests::run(
            std::process::Command::new(openssl)
                .args(["x509", "-noout", "-text", "-in"])
                .arg(&signer_file),
        );
        text.assert_success();
        assert!(text.stdout.contains("/crl/issuing-ca-g2.crl"), "{text}");
    }

    let trust_after = ws.export_trust();
    for (name, pdf) in [
        ("before", &before.pdf),
        ("during", &during.pdf),
        ("after", &after.pdf),
    ] {
        check(
            pdf,
            &trust_after.root,
            Some(trust_after.status_list()),
            None,
        )
        .assert_verdict("VALID");
        if let Some(result) = tools::pyhanko_adesverify(pdf, &trust_after.root) {
            assert!(
                result.is_good(),
                "pyHanko adesverify, {name}: {:?}\n{}",
                result.fields(),
                result.out
            );
        }
        if let Some(sig) = tools::pdfsig(pdf, &trust_after.root, ws.dir()) {
            assert_eq!(
                sig.certificate_validation().as_deref(),
                Some("Certificate is Trusted."),
                "pdfsig, {name}:\n{}",
                sig.out
            );
        }
    }
    let cache = ws.file("verifier-cache");
    let newest = trust_after.dir.join("bundle.json");
    let cached_cache = ws.file("cached-verifier-cache");
    let published_bundle = trust_published.dir.join("bundle.json");
    for issued in [&before, &after] {
        verify_token(&token_url(&issued.pdf), &trust_after, &newest, &cache)
            .assert_verdict("VALID");
        verify_token(
            &token_url(&issued.pdf),
            &trust_after,
            &published_bundle,
            &cached_cache,
        )
        .assert_verdict("VALID");
    }
}

/// After an issuing-CA rotation the service publishes each CA's CRL under its own name, each
/// signed by its CA (openssl checks the signatures), and nothing under a name no CA has.
#[test]
fn each_issuing_ca_serves_its_own_crl_after_a_rotation() {
    let svc = ccr_tests::api::IssuerService::start(None, "", &[]);
    svc.ws
        .keys(["rotate", "issuing-ca", "--publish-for", "0"])
        .assert_success();
    // The hand-over is at the next whole second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let listed = keys(&svc.ws);
    let pki = svc.home().join("pki");
    let certificate_of = |state: &str| {
        let entry = listed["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["role"] == "issuing-ca" && k["state"] == state)
            .unwrap_or_else(|| panic!("no {state} issuing CA: {listed:#}"));
        pki.join(entry["certificate"].as_str().expect("certificate file"))
    };
    for (name, ca) in [
        ("issuing-ca.crl", certificate_of("retired")),
        ("issuing-ca-g2.crl", certificate_of("active")),
    ] {
        let crl = svc.api.get(&format!("/crl/{name}"), None);
        crl.expect(200);
        let path = svc.ws.file(name);
        std::fs::write(&path, &crl.body).expect("write");
        if let Some(openssl) = ccr_tests::oracle("openssl") {
            let out = ccr_tests::run(
                std::process::Command::new(openssl)
                    .args(["crl", "-inform", "DER", "-noout", "-in"])
                    .arg(&path)
                    .arg("-CAfile")
                    .arg(&ca),
            );
            assert!(
                out.success() && out.all_output().contains("verify OK"),
                "{name} against {}:\n{out}",
                ca.display()
            );
        }
    }
    svc.api.get("/crl/issuing-ca-g3.crl", None).expect(404);
}
