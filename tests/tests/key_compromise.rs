//! The key-compromise drill (SPEC §10, issue 14 must-show 3), against a served issuer and the
//! verifier's command line:
//!
//! - **token signer**: certificates are issued (2,000 by default, `CCR_DRILL_CERTIFICATES`
//!   to change it), the thief's forged tokens verify, the compromise is declared; then every
//!   forgery is refused by a verifier that fetches the new bundle, every affected certificate
//!   has a replacement that verifies, and the bundle from before is refused once the new one
//!   was seen. The figures are printed (`--nocapture`).
//! - **document signer**, compromised at T: a certificate time-stamped before T stays VALID;
//!   one signed with the same key and time-stamped after T is refused.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use ccr_issuer::bureau::Bureau;
use ccr_issuer::setup::home::Home;
use ccr_tests::api::IssuerService;
use ccr_tests::{Report, fixture, verifier};

/// Certificates issued before the token signer's compromise.
fn drill_size() -> usize {
    std::env::var("CCR_DRILL_CERTIFICATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The embedded token of a certificate PDF.
fn token_of(pdf: &[u8]) -> Vec<u8> {
    ccr_pki::pades::inspect(pdf, &ccr_pki::pdf::Limits::default())
        .expect("inspect")
        .token
}

/// `verifier <what…> --trust <root> --status online --issuer <base> --cache-dir <cache>
/// --json`: a verifier that fetches what it needs from the issuer.
fn online(what: Vec<OsString>, root: &Path, base: &str, cache: &Path) -> Report {
    let mut args = what;
    for (flag, value) in [
        ("--trust", root.as_os_str()),
        ("--status", "online".as_ref()),
        ("--issuer", base.as_ref()),
        ("--cache-dir", cache.as_os_str()),
    ] {
        args.extend([OsString::from(flag), value.to_owned()]);
    }
    args.push("--json".into());
    Report::parse(verifier(args))
}

/// `verifier token <token> --bundle online …` (see [`online`]).
fn verify_token_online(token: &[u8], root: &Path, base: &str, cache: &Path) -> Report {
    let url = ccr_pki::token::to_url(&format!("{base}/verify"), token);
    online(
        vec![
            "token".into(),
            url.into(),
            "--bundle".into(),
            "online".into(),
        ],
        root,
        base,
        cache,
    )
}

/// `verifier check <pdf> …` (see [`online`]).
fn check_online(pdf: &Path, root: &Path, base: &str, cache: &Path) -> Report {
    online(vec!["check".into(), pdf.into()], root, base, cache)
}

/// A token the thief makes with the stolen key: a genuine certificate's claims with another
/// holder's name, signed under the genuine key id.
fn forge(stolen: &ccr_pki::signer::FileKey, genuine: &[u8], name: &str) -> Vec<u8> {
    let parsed = ccr_pki::token::parse(genuine).expect("token");
    let mut claims = parsed.claims_unverified().clone();
    claims.name_latin = name.to_owned();
    ccr_pki::token::sign(&claims, stolen, parsed.kid()).expect("forge")
}

fn issue_many(home: &Path, count: usize) -> (Vec<(String, Vec<u8>)>, f64) {
    let request = std::fs::read(fixture("chan-tai-man.json")).expect("request");
    runtime().block_on(async {
        let bureau = Bureau::open(Home::locate(Some(home.to_owned())), None)
            .await
            .expect("open the bureau");
        let started = Instant::now();
        let mut issued = Vec::with_capacity(count);
        for _ in 0..count {
            let now = OffsetDateTime::now_utc();
            let one = bureau
                .issue("drill", &request, now, None)
                .await
                .expect("issue");
            issued.push((one.number, one.pdf));
        }
        (issued, started.elapsed().as_secs_f64())
    })
}

fn keys_command(home: &Path, args: &[&str]) -> ccr_tests::Out {
    let mut cmd = ccr_tests::bin_command("issuer");
    cmd.arg("keys").args(args).arg("--home").arg(home);
    ccr_tests::run(&mut cmd)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("format")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn token_signer_compromise_drill() {
    let svc = IssuerService::start(None, "", &[]);
    let home = svc.ws.home.clone();
    let root = home.join("pki/root.pem");
    let base = svc.api.base.clone();
    let count = drill_size();
    let (issued, issue_seconds) = issue_many(&home, count);

    // The thief has the token signer's key (a copy of the file).
    let stolen = ccr_pki::signer::FileKey::load(&home.join("pki/token-signer.key.p8"))
        .expect("the stolen key");
    let genuine = token_of(&issued[0].1);
    let before_cache = svc.ws.file("cache-before");
    let forged = forge(&stolen, &genuine, "MALLORY FORGED");
    verify_token_online(&forged, &root, &base, &before_cache).assert_verdict("VALID");
    // The thief can also sign status lists: keep one the stolen key signed.
    let list_uri = ccr_pki::token::parse(&genuine)
        .expect("token")
        .claims_unverified()
        .status
        .uri
        .clone();
    let list_path = list_uri
        .strip_prefix(&base)
        .expect("the list is served here");
    let old_list = svc.api.get(list_path, None);
    old_list.expect(200);
    let old_list = write(&svc.ws.file("."), "list-before.cwt", &old_list.body);
    let old_bundle = svc.api.get("/trust", None);
    old_bundle.expect(200);
    let old_bundle = write(
        svc.ws.file(".").as_path(),
        "bundle-before.json",
        &old_bundle.body,
    );

    // The security officer declares the compromise; meanwhile a verifier that fetches the
    // bundle (a fresh cache each time) keeps trying the forgery.
    let declared = Instant::now();
    let since = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let mut command = std::process::Command::new(ccr_tests::bin("issuer"));
    command
        .args(["keys", "compromise", "token-signer", "--since"])
        .arg(rfc3339(since))
        .args(["--reason", "drill: key copied", "--json", "--home"])
        .arg(&home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("issuer keys compromise");
    let mut rejected_seconds = None;
    for attempt in 0.. {
        let cache = svc.ws.file(format!("cache-poll-{attempt}"));
        let report = verify_token_online(&forged, &root, &base, &cache);
        if report.verdict() == "UNTRUSTED" {
            rejected_seconds = Some(declared.elapsed().as_secs_f64());
            break;
        }
        report.assert_verdict("VALID");
        assert!(
            declared.elapsed().as_secs() < 900,
            "the forgery was never rejected"
        );
    }
    let out = ccr_tests::Out::from_output(child.wait_with_output().expect("wait"));
    out.assert_success();
    let compromise_seconds = declared.elapsed().as_secs_f64();
    let rejected_seconds = rejected_seconds.expect("rejected");
    let done: Value = serde_json::from_str(out.stdout.trim()).expect("json");

    // After convergence, every forgery is refused.
    let after_cache = svc.ws.file("cache-after");
    let forgeries: Vec<Vec<u8>> = (0..20)
        .map(|i| {
            forge(
                &stolen,
                &token_of(&issued[i % issued.len()].1),
                &format!("MALLORY {i}"),
            )
        })
        .collect();
    let accepted = forgeries
        .iter()
        .filter(|f| {
            let report = verify_token_online(f, &root, &base, &after_cache);
            report.verdict() == "VALID"
        })
        .count();
    assert_eq!(accepted, 0, "forgeries accepted after convergence");

    // Every certificate the key signed has a replacement, and replacements verify.
    let superseded = done["superseded"].as_array().expect("superseded");
    let reissued = done["reissued"].as_array().expect("reissued");
    assert_eq!(superseded.len(), count, "{done:#}");
    assert_eq!(reissued.len(), count, "{done:#}");
    let numbers: std::collections::HashSet<&str> = issued.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        superseded
            .iter()
            .all(|n| n.as_str().is_some_and(|n| numbers.contains(n))),
        "only the affected certificates were superseded"
    );
    // The served issuer re-signs its lists when it sees the registry changed; a verifier
    // without a cached list sees the supersession once it has.
    let old_pdf = write(&svc.ws.file("."), "old.pdf", &issued[0].1);
    let mut verdict = String::new();
    for attempt in 0..60 {
        let cache = svc.ws.file(format!("cache-superseded-{attempt}"));
        verdict = check_online(&old_pdf, &root, &base, &cache)
            .verdict()
            .to_owned();
        if verdict == "SUPERSEDED" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    assert_eq!(verdict, "SUPERSEDED", "the old certificate after the drill");
    let new_number = reissued[0].as_str().expect("number");
    assert!(!numbers.contains(new_number));
    let replacement = runtime().block_on(async {
        let bureau = Bureau::open(Home::locate(Some(home.clone())), None)
            .await
            .expect("open the bureau");
        bureau
            .store()
            .certificate_pdf(new_number, "drill", OffsetDateTime::now_utc())
            .await
            .expect("the replacement")
    });
    let replacement_token = token_of(&replacement);
    let fresh = svc.ws.file("cache-replacement");
    verify_token_online(&replacement_token, &root, &base, &fresh).assert_verdict("VALID");
    let replacement_pdf = write(&svc.ws.file("."), "replacement.pdf", &replacement);
    check_online(&replacement_pdf, &root, &base, &fresh).assert_verdict("VALID");

    // A status list signed with the stolen key is not used, whatever time it claims.
    let url = ccr_pki::token::to_url(&format!("{base}/verify"), &replacement_token);
    let with_old_list = Report::parse(verifier([
        OsString::from("token"),
        url.into(),
        "--trust".into(),
        root.clone().into(),
        "--bundle".into(),
        "online".into(),
        "--issuer".into(),
        base.clone().into(),
        "--status".into(),
        old_list.into(),
        "--cache-dir".into(),
        fresh.clone().into(),
        "--json".into(),
    ]));
    with_old_list.assert_verdict("STATUS_UNKNOWN");
    assert!(
        with_old_list.json.to_string().contains("compromised"),
        "{}",
        with_old_list.json
    );

    // The bundle from before the compromise is refused by a verifier that saw the new one.
    let stale = verifier([
        OsString::from("token"),
        ccr_pki::token::to_url(&format!("{base}/verify"), &genuine).into(),
        "--trust".into(),
        root.clone().into(),
        "--bundle".into(),
        old_bundle.into(),
        "--cache-dir".into(),
        after_cache.clone().into(),
        "--json".into(),
    ]);
    assert_eq!(
        stale.code,
        Some(2),
        "an older bundle was accepted:\n{stale}"
    );
    assert!(stale.stderr.contains("older"), "{stale}");

    println!(
        "drill (token signer): {count} certificates issued in {issue_seconds:.1} s; \
         first forgery rejected {rejected_seconds:.1} s after the declaration began (a \
         verifier fetching the bundle); declaration with {} re-issues done in \
         {compromise_seconds:.1} s; 0 of {} forgeries accepted after; 0 older bundles accepted",
        reissued.len(),
        forgeries.len()
    );
}

#[test]
fn document_signer_compromise_keeps_what_was_time_stamped_before() {
    let svc = IssuerService::start(None, "", &[]);
    let home = svc.ws.home.clone();
    let root = home.join("pki/root.pem");
    let base = svc.api.base.clone();
    let (before, _) = issue_many(&home, 1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let since = OffsetDateTime::now_utc();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // Signed with the key after T (as the thief could), time-stamped after T.
    let (after, _) = issue_many(&home, 1);
    let out = keys_command(
        &home,
        &[
            "compromise",
            "document-signer",
            "--since",
            &rfc3339(since),
            "--reason",
            "drill",
            "--json",
        ],
    );
    out.assert_success();
    let done: Value = serde_json::from_str(out.stdout.trim()).expect("json");
    assert_eq!(
        done["superseded"],
        serde_json::json!([after[0].0]),
        "{done:#}"
    );

    let cache = svc.ws.file("cache");
    let before_pdf = write(&svc.ws.file("."), "before.pdf", &before[0].1);
    let after_pdf = write(&svc.ws.file("."), "after.pdf", &after[0].1);
    check_online(&before_pdf, &root, &base, &cache).assert_verdict("VALID");
    let refused = check_online(&after_pdf, &root, &base, &cache);
    refused.assert_verdict("UNTRUSTED");
    assert!(
        refused.json.to_string().contains("compromised"),
        "{}",
        refused.json
    );
    // The CRL now lists the compromised key's certificate with reason keyCompromise.
    let crl = svc.api.get("/crl/issuing-ca.crl", None);
    crl.expect(200);
    let crl_path = write(&svc.ws.file("."), "issuing-ca.crl", &crl.body);
    let text = ccr_tests::run(
        std::process::Command::new("openssl")
            .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
            .arg(&crl_path),
    );
    assert!(text.success(), "{text}");
    assert!(text.stdout.contains("Key Compromise"), "{text}");
}

/// Copies the home's files (not its registry) as a thief holding a backup would have them.
fn copy_home(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_home(&entry.path(), &target);
        } else if !entry
            .file_name()
            .to_string_lossy()
            .starts_with("registry.sqlite")
        {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// What the thief makes with a stolen issuing CA key: a document signer and a TSA of its own,
/// certified by that CA, and with them a certificate for another holder, time-stamped at
/// `at` (the thief's TSA says whatever time it likes).
fn forge_under_stolen_ca(thief: &Path, genuine: &[u8], at: OffsetDateTime) -> Vec<u8> {
    use ccr_issuer::setup::keystore::Role;
    let home = Home::locate(Some(thief.to_owned()));
    for role in [Role::DocumentSigner, Role::Tsa] {
        home.rotate(role, at, time::Duration::ZERO)
            .expect("the thief certifies a key");
    }
    let signing = ccr_issuer::setup::lifecycle::second_up(at);
    let engine = ccr_issuer::issuance::engine::Engine::new(
        home.load_pki_at(signing).expect("the thief's PKI"),
        "https://ccr.invalid/verify",
    )
    .expect("engine");
    let doc = ccr_pki::pades::inspect(genuine, &ccr_pki::pdf::Limits::default()).expect("inspect");
    let mut data = ccr_pki::document::CertificateData::from_embedded_json(&doc.certificate_json)
        .expect("data");
    data.holder.name_latin = "MALLORY FORGED".into();
    engine.produce(&data, signing).expect("forge").pdf
}

#[test]
fn issuing_ca_compromise_revokes_it_at_the_root_and_refuses_what_its_thief_certifies() {
    let svc = IssuerService::start(None, "", &[]);
    let home = svc.ws.home.clone();
    let root = home.join("pki/root.pem");
    let base = svc.api.base.clone();
    // The thief's copy: every key of the home, the issuing CA's included.
    let thief = svc.ws.file("thief-home");
    copy_home(&home, &thief);
    let bundle_before = svc.api.get("/trust", None);
    bundle_before.expect(200);
    let root_crl_before = svc.api.get("/crl/root.crl", None);
    root_crl_before.expect(200);
    let (before, _) = issue_many(&home, 1);
    std::thread::sleep(std::time::Duration::from_millis(2200));
    // A forgery under the stolen CA, dated before the compromise will be declared from.
    let forged_at = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let forged = forge_under_stolen_ca(&thief, &before[0].1, forged_at);
    let forged_pdf = write(&svc.ws.file("."), "forged.pdf", &forged);
    let cache = svc.ws.file("cache-before");
    check_online(&forged_pdf, &root, &base, &cache).assert_verdict("VALID");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let since = OffsetDateTime::now_utc();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (after, _) = issue_many(&home, 1);

    let out = keys_command(
        &home,
        &[
            "compromise",
            "issuing-ca",
            "--since",
            &rfc3339(since),
            "--reason",
            "drill: CA key copied",
            "--json",
        ],
    );
    out.assert_success();
    let done: Value = serde_json::from_str(out.stdout.trim()).expect("json");
    // The CA and its document signer, TSA and token signer; every certificate the token
    // signer signed is re-issued under the next CA.
    assert_eq!(
        done["compromised"].as_array().map(Vec::len),
        Some(4),
        "{done:#}"
    );
    assert_eq!(
        done["superseded"],
        serde_json::json!([before[0].0, after[0].0]),
        "{done:#}"
    );

    // The root's CRL revokes the CA as of T with reason keyCompromise (openssl).
    let crl = svc.api.get("/crl/root.crl", None);
    crl.expect(200);
    let crl_path = write(&svc.ws.file("."), "root.crl", &crl.body);
    let text = ccr_tests::run(
        std::process::Command::new("openssl")
            .args(["crl", "-inform", "DER", "-noout", "-text", "-CAfile"])
            .arg(&root)
            .arg("-in")
            .arg(&crl_path),
    );
    assert!(text.success(), "{text}");
    assert!(text.all_output().contains("verify OK"), "{text}");
    assert!(text.stdout.contains("Key Compromise"), "{text}");

    // What was time-stamped before T is authentic still (now superseded); what the stolen
    // CA's end entities signed after T, and anything its thief certified, is refused.
    let cache = svc.ws.file("cache-after");
    let before_pdf = write(&svc.ws.file("."), "before.pdf", &before[0].1);
    let after_pdf = write(&svc.ws.file("."), "after.pdf", &after[0].1);
    let mut verdict = String::new();
    for attempt in 0..60 {
        let fresh = svc.ws.file(format!("cache-superseded-{attempt}"));
        let report = check_online(&before_pdf, &root, &base, &fresh);
        assert!(
            report.not_passed().iter().all(|c| c.starts_with("status=")),
            "{}",
            report.json
        );
        verdict = report.verdict().to_owned();
        if verdict == "SUPERSEDED" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    assert_eq!(
        verdict, "SUPERSEDED",
        "the certificate time-stamped before T"
    );
    let refused = check_online(&after_pdf, &root, &base, &cache);
    refused.assert_verdict("UNTRUSTED");
    let forgery = check_online(&forged_pdf, &root, &base, &cache);
    forgery.assert_verdict("UNTRUSTED");
    assert!(
        forgery
            .json
            .to_string()
            .contains("not one the bureau lists"),
        "{}",
        forgery.json
    );

    // The replacement chains to the next CA and verifies, PDF and bare token.
    let number = done["reissued"][0].as_str().expect("number").to_owned();
    let replacement = runtime().block_on(async {
        let bureau = Bureau::open(Home::locate(Some(home.clone())), None)
            .await
            .expect("open the bureau");
        bureau
            .store()
            .certificate_pdf(&number, "drill", OffsetDateTime::now_utc())
            .await
            .expect("the replacement")
    });
    let doc =
        ccr_pki::pades::inspect(&replacement, &ccr_pki::pdf::Limits::default()).expect("inspect");
    assert!(
        doc.dss_certificates.iter().any(|der| {
            ccr_pki::hierarchy::parse_certificate(der).is_ok_and(|c| {
                c.tbs_certificate()
                    .subject()
                    .to_string()
                    .contains("Issuing CA G2")
            })
        }),
        "the replacement does not carry the next CA"
    );
    let replacement_pdf = write(&svc.ws.file("."), "replacement.pdf", &replacement);
    check_online(&replacement_pdf, &root, &base, &cache).assert_verdict("VALID");
    verify_token_online(&token_of(&replacement), &root, &base, &cache).assert_verdict("VALID");
    verify_token_online(&token_of(&before[0].1), &root, &base, &cache).assert_verdict("UNTRUSTED");

    // The thief also signs a trust bundle with the stolen CA key, numbered far ahead and
    // forgiving everything, and serves it where a verifier looks (a hijacked host). The
    // root's CRL, which only the offline root signs, refuses it; a host that then serves the
    // older CRL cannot take the revocation back from a verifier that saw the newer one.
    let stolen_ca = ccr_pki::signer::FileKey::load(&thief.join("pki/issuing-ca.key.p8"))
        .expect("the stolen CA key");
    let stolen_ca_der = ccr_pki::hierarchy::pem_chain_to_der(
        &std::fs::read(thief.join("pki/issuing-ca.pem")).expect("CA"),
    )
    .expect("pem")
    .remove(0);
    let payload =
        ccr_pki::bundle::signed::payload_unverified(&bundle_before.body).expect("payload");
    let genuine_bundle = ccr_pki::bundle::TrustBundle::from_json(&payload).expect("bundle");
    let keys = genuine_bundle.keys.clone();
    let forged_bundle = ccr_pki::bundle::signed::sign(
        &genuine_bundle.with_keys(1 << 40, keys),
        &stolen_ca,
        &stolen_ca_der,
    )
    .expect("sign");
    let hijacked = StaticHost::start(&[
        ("/trust", forged_bundle),
        ("/crl/root.crl", crl.body.clone()),
    ]);
    let token_url = ccr_pki::token::to_url(&format!("{base}/verify"), &token_of(&replacement));
    let with_hijacked = |cache: &Path| {
        verifier([
            OsString::from("token"),
            token_url.clone().into(),
            "--trust".into(),
            root.clone().into(),
            "--bundle".into(),
            format!("{}/trust", hijacked.base).into(),
            "--cache-dir".into(),
            cache.into(),
            "--json".into(),
        ])
    };
    let seen_newer = svc.ws.file("cache-hijacked");
    let refused = with_hijacked(&seen_newer);
    assert_eq!(
        refused.code,
        Some(2),
        "a bundle signed by the revoked CA was accepted:\n{refused}"
    );
    assert!(refused.stderr.contains("revoked"), "{refused}");
    hijacked.serve("/crl/root.crl", root_crl_before.body.clone());
    let rolled_back = with_hijacked(&seen_newer);
    assert_eq!(
        rolled_back.code,
        Some(2),
        "an older root CRL took the revocation back:\n{rolled_back}"
    );
    // What remains (docs/key-compromise.md): a verifier that never saw the newer CRL, fed
    // the older one by the hijacked host, opens the thief's bundle.
    let never_saw = with_hijacked(&svc.ws.file("cache-never-saw"));
    assert_ne!(never_saw.code, Some(2), "{never_saw}");
}

type Bodies = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>;

/// A host answering GETs with fixed bodies (what a thief who hijacked the issuer's address
/// would serve); bodies can be changed while it runs.
struct StaticHost {
    base: String,
    bodies: Bodies,
}

impl StaticHost {
    fn start(bodies: &[(&str, Vec<u8>)]) -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let bodies: Bodies = std::sync::Arc::new(std::sync::Mutex::new(
            bodies
                .iter()
                .map(|(path, body)| ((*path).to_owned(), body.clone()))
                .collect(),
        ));
        let served = std::sync::Arc::clone(&bodies);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_owned();
                let body = served.lock().expect("lock").get(&path).cloned();
                let mut stream = &stream;
                let _ = match body {
                    Some(body) => write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .and_then(|()| stream.write_all(&body)),
                    None => stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                };
            }
        });
        Self { base, bodies }
    }

    fn serve(&self, path: &str, body: Vec<u8>) {
        self.bodies
            .lock()
            .expect("lock")
            .insert(path.to_owned(), body);
    }
}
