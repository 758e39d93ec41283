//! The transfer service (issue 13, SPEC §9): certificates pushed to departments with signed
//! receipts, and status changes that reach the holding department in order. Over real HTTP:
//! `issuer serve` pushing to `verifier receive` and to stub receivers that misbehave.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use ccr_pki::transfer::{Receipt, ReceiptKey, ReceiptResult, ReceiptSigner, TransferSigner};
use ccr_tests::api::{IssuerService, SECURITY, holder_with_bir};
use ccr_tests::{Report, Server, bin_command, check_online_out, free_port, spawn_until_healthy};

/// A department's receipt key pair: the private PEM for the receiver, the public PEM for the
/// bureau's registry.
struct DepartmentKey {
    private_pem: String,
    public_pem: String,
}

fn department_key() -> DepartmentKey {
    let (signer, pkcs8) = TransferSigner::generate().expect("key");
    DepartmentKey {
        private_pem: der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &pkcs8)
            .expect("pem"),
        public_pem: ReceiptKey::Ed25519(signer.public_key().to_vec()).to_pem(),
    }
}

/// Registers `code`'s endpoint and receipt key over the API.
#[track_caller]
fn register(svc: &IssuerService, code: &str, endpoint: &str, public_pem: &str) {
    let security = svc.staff_token(SECURITY);
    svc.api
        .put(
            &format!("/api/v1/departments/{code}/endpoint"),
            Some(&security),
            &json!({ "endpoint": endpoint, "receipt_key_pem": public_pem }),
        )
        .expect(200);
}

/// The issuer's trust bundle and root, saved for a receiver.
fn save_trust(svc: &IssuerService) -> (PathBuf, PathBuf) {
    let bundle = svc.api.get("/trust", None);
    bundle.expect(200);
    let bundle_path = svc.ws.file("bundle.json");
    std::fs::write(&bundle_path, &bundle.body).expect("bundle");
    (svc.home().join("pki/root.pem"), bundle_path)
}

/// A running `verifier receive`.
struct Receiver {
    port: u16,
    out: PathBuf,
    _server: Server,
}

fn start_receiver(svc: &IssuerService, code: &str, key: &DepartmentKey) -> Receiver {
    let (_, bundle) = save_trust(svc);
    start_receiver_with(svc, code, key, bundle.as_os_str(), &[])
}

/// Like [`start_receiver`], with the bundle given as `bundle` (a file, or the issuer's
/// `/trust` URL, fetched again when a delivery is signed by a key it does not list) and
/// `extra` arguments.
fn start_receiver_with(
    svc: &IssuerService,
    code: &str,
    key: &DepartmentKey,
    bundle: &std::ffi::OsStr,
    extra: &[&str],
) -> Receiver {
    let root = svc.home().join("pki/root.pem");
    let key_path = svc.ws.file(format!("{code}-receipt.key.pem"));
    std::fs::write(&key_path, &key.private_pem).expect("key");
    let out = svc.ws.file(format!("{code}-inbox"));
    std::fs::create_dir_all(&out).expect("out");
    let port = free_port();
    let mut cmd = bin_command("verifier");
    cmd.arg("receive")
        .arg("--trust")
        .arg(&root)
        .arg("--bundle")
        .arg(bundle)
        .arg("--key")
        .arg(&key_path)
        .arg("--department")
        .arg(code)
        .arg("--out")
        .arg(&out)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .args(extra);
    let server = spawn_until_healthy(cmd, port, "verifier receive");
    Receiver {
        port,
        out,
        _server: server,
    }
}

impl Receiver {
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/inbox", self.port)
    }

    /// The stored deliveries by kind: (delivery id, file) for each receipt, sorted by name.
    fn files(&self, suffix: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .expect("out")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .collect();
        files.sort();
        files
    }

    /// The status changes stored, in sequence order: (sequence, status).
    fn status_changes(&self) -> Vec<(u64, String)> {
        let mut changes: Vec<(u64, String)> = self
            .files(".status.json")
            .iter()
            .map(|p| {
                let v: Value =
                    serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json");
                (
                    v["sequence"].as_u64().expect("sequence"),
                    v["status"].as_str().expect("status").to_owned(),
                )
            })
            .collect();
        changes.sort();
        changes
    }
}

/// Waits up to `limit` for `done`, polling.
#[track_caller]
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what}: not within {} s", limit.as_secs());
}

/// An applicant's electronic application with a transfer to `code`, taken to ISSUED.
/// Returns (applicant token, application id, certificate number).
fn issue_transfer(svc: &IssuerService, subject: &str, code: &str) -> (String, String, String) {
    let token = svc.applicant_token(subject);
    let security = svc.staff_token(SECURITY);
    let created = svc.api.post(
        "/api/v1/applications",
        Some(&token),
        &json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 1,
                 "express": false, "transfer_to": code }),
    );
    created.expect(201);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    svc.confirm(
        &token,
        &id,
        &holder_with_bir("CHAN TAI MAN", "1234567(8)"),
        "6123 4567",
    )
    .expect(200);
    svc.pass_otp(&security, &token, &id, "+85361234567")
        .expect(200);
    svc.pass_face(&token, &id).expect(200);
    svc.pay_in_sandbox(&token, &id);
    svc.forward(&id);
    svc.decide(&id, &json!({ "approve": true })).expect(200);
    let pdf = svc.issued_pdf(&token, &id);
    assert!(pdf.starts_with(b"%PDF"));
    let list = svc.api.get(
        &format!("/api/v1/applications/{id}/certificates"),
        Some(&token),
    );
    let number = list.json()[0]["number"]
        .as_str()
        .expect("number")
        .to_owned();
    (token, id, number)
}

fn change_status(svc: &IssuerService, number: &str, action: &str) {
    let security = svc.staff_token(SECURITY);
    svc.api
        .post(
            &format!("/api/v1/certificates/{number}/{action}"),
            Some(&security),
            &json!({ "reason": format!("transfer test: {action}") }),
        )
        .expect(200);
}

fn ledger(svc: &IssuerService, token: &str, id: &str) -> Value {
    let reply = svc
        .api
        .get(&format!("/api/v1/applications/{id}/transfers"), Some(token));
    reply.expect(200);
    reply.json()
}

#[test]
fn a_transfer_and_its_status_changes_reach_verifier_receive_in_order() {
    let svc = IssuerService::start(None, "", &[]);
    let key = department_key();
    let receiver = start_receiver(&svc, "DSAL", &key);
    register(&svc, "DSAL", &receiver.endpoint(), &key.public_pem);

    let (token, id, number) = issue_transfer(&svc, "transfer-e2e", "DSAL");
    wait_for(Duration::from_secs(60), "the PDF at the receiver", || {
        receiver.files(".receipt").len() == 1
    });
    let pdfs = receiver.files(".pdf");
    assert_eq!(pdfs.len(), 1, "exactly one PDF stored");
    let cache = svc.ws.file("verifier-cache");
    let report = Report::parse(check_online_out(
        &pdfs[0],
        &svc.home().join("pki/root.pem"),
        &cache,
        None,
    ));
    report.assert_verdict("VALID");
    assert!(report.mentions("DSAL"), "the token names DSAL");
    // The page names the receiving department too (its names in the three languages).
    if let Some(text) = ccr_tests::tools::pdftotext(&pdfs[0]) {
        let text = text.stdout;
        for name in ["勞工事務局", "Labour Affairs Bureau"] {
            assert!(text.contains(name), "the page names {name}: {text}");
        }
    }

    // The applicant sees it delivered, with when.
    wait_for(Duration::from_secs(10), "delivered in the ledger", || {
        ledger(&svc, &token, &id)["transfers"][0]["state"] == "delivered"
    });
    let view = ledger(&svc, &token, &id);
    assert_eq!(view["transfers"][0]["department"], "DSAL");
    assert!(view["transfers"][0]["delivered_at"].is_string(), "{view}");
    assert!(
        view["downloads"].as_array().is_some_and(|d| !d.is_empty()),
        "the applicant's download is listed: {view}"
    );

    // Suspension, reinstatement and revocation arrive in order, each within 60 s.
    let started = Instant::now();
    for action in ["suspend", "reinstate", "revoke"] {
        change_status(&svc, &number, action);
    }
    wait_for(Duration::from_secs(60), "three status changes", || {
        receiver.status_changes().len() == 3
    });
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(
        receiver.status_changes(),
        vec![
            (2, "SUSPENDED".to_owned()),
            (3, "VALID".to_owned()),
            (4, "REVOKED".to_owned())
        ]
    );
    wait_for(Duration::from_secs(10), "all delivered", || {
        ledger(&svc, &token, &id)["transfers"]
            .as_array()
            .is_some_and(|t| t.len() == 4 && t.iter().all(|d| d["state"] == "delivered"))
    });
    assert_eq!(receiver.files(".receipt").len(), 4);
}

/// One request a stub receiver saw.
#[derive(Clone, Debug)]
struct Seen {
    webhook_id: String,
    body: Vec<u8>,
}

/// A stub department endpoint answering each request with `answer(n, request)` (n from 0),
/// recording every request.
struct Stub {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

type Answer = (u16, Vec<u8>);

/// A request's lower-cased headers and its body.
type Request = (Vec<(String, String)>, Vec<u8>);

fn read_request(stream: &mut std::net::TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some((headers, data[head_end..head_end + length].to_vec()))
}

fn start_stub(answer: impl Fn(usize, &Seen) -> Answer + Send + 'static) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some((headers, body)) = read_request(&mut stream) else {
                continue;
            };
            let request = Seen {
                webhook_id: headers
                    .iter()
                    .find(|(k, _)| k == "webhook-id")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                body,
            };
            let n = {
                let mut log = log.lock().expect("log");
                log.push(request.clone());
                log.len() - 1
            };
            let (status, reply) = answer(n, &request);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            let _ = stream.write_all(&reply);
        }
    });
    Stub { port, seen }
}

/// A receipt for `seen` signed by `signer`, with the body digest given.
fn receipt_for(signer: &ReceiptSigner, seen: &Seen, body_sha256: String) -> Vec<u8> {
    let envelope = ccr_pki::transfer::Envelope::parse(&seen.body).expect("envelope");
    let receipt = Receipt {
        delivery_id: envelope.delivery_id.clone(),
        department: envelope.department.clone(),
        body_sha256,
        pdf_sha256: envelope
            .pdf_bytes()
            .expect("pdf")
            .map(|p| ccr_pki::transfer::sha256_hex(&p)),
        result: ReceiptResult::Accepted,
        reason: None,
        received_at: "2026-12-04T10:00:00Z".into(),
    };
    signer.sign(&receipt).expect("sign").into_bytes()
}

/// A staff view of one department's lane.
fn lane(svc: &IssuerService, code: &str) -> Value {
    let security = svc.staff_token(SECURITY);
    let reply = svc.api.get(
        &format!("/api/v1/departments/{code}/deliveries?limit=500"),
        Some(&security),
    );
    reply.expect(200);
    reply.json()
}

#[test]
fn bad_answers_are_retried_and_never_count_as_delivered() {
    // Retries a thousand times faster than §9's schedule (the injected clock of this test).
    let svc = IssuerService::start(None, "", &[("CCR_TRANSFER_BACKOFF_DIVISOR", "1000")]);
    let key = department_key();
    let signer = ReceiptSigner::from_pem(key.private_pem.as_bytes()).expect("signer");
    let other = ReceiptSigner::from_pem(department_key().private_pem.as_bytes()).expect("other");
    let stub = start_stub(move |n, seen| {
        let right = ccr_pki::transfer::sha256_hex(&seen.body);
        match n {
            0 => (500, b"down".to_vec()),
            1 => (200, Vec::new()),
            2 => (200, receipt_for(&signer, seen, "00".repeat(32))),
            3 => (200, receipt_for(&other, seen, right)),
            4 => (202, receipt_for(&signer, seen, right)),
            5 => {
                // A valid receipt, but after the issuer's send timeout: not delivered.
                std::thread::sleep(
                    ccr_issuer::notify::transfer::SEND_TIMEOUT + Duration::from_secs(2),
                );
                (200, receipt_for(&signer, seen, right))
            }
            _ => (200, receipt_for(&signer, seen, right)),
        }
    });
    register(
        &svc,
        "DSAL",
        &format!("http://127.0.0.1:{}/inbox", stub.port),
        &key.public_pem,
    );
    let (token, id, _) = issue_transfer(&svc, "transfer-faults", "DSAL");
    wait_for(
        Duration::from_secs(120),
        "delivered after the bad answers",
        || ledger(&svc, &token, &id)["transfers"][0]["state"] == "delivered",
    );
    let seen = stub.seen.lock().expect("seen").clone();
    assert_eq!(seen.len(), 7, "six bad answers, then one good: {seen:?}");
    assert!(
        seen.iter()
            .all(|s| s.webhook_id == seen[0].webhook_id && s.body == seen[0].body),
        "every retry carries the same delivery id and body"
    );
    let lane = lane(&svc, "DSAL");
    assert_eq!(lane["deliveries"][0]["failures"], 6, "{lane}");
    assert_eq!(lane["deliveries"][0]["state"], "delivered", "{lane}");
    // After the 4th failure the security officer and the department were told.
    let security = svc.staff_token(SECURITY);
    let alerts = svc.api.get(
        "/api/v1/dev/outbox?recipient=security-officer",
        Some(&security),
    );
    alerts.expect(200);
    let text = String::from_utf8_lossy(&alerts.body);
    assert!(text.contains("failed 4 times"), "alert: {text}");
}

/// Posts `body` to a receiver with Standard Webhooks headers signed by `signer` at `timestamp`.
fn post_signed(
    port: u16,
    signer: &TransferSigner,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut reply = agent
        .post(format!("http://127.0.0.1:{port}/inbox"))
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signer.sign_webhook(id, timestamp, body).expect("sign"),
        )
        .send(body)
        .expect("post");
    let status = reply.status().as_u16();
    (
        status,
        reply.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn status_change_body(id: &str, department: &str) -> Vec<u8> {
    ccr_pki::transfer::Envelope {
        delivery_id: id.into(),
        kind: ccr_pki::transfer::EnvelopeKind::StatusChange,
        department: department.into(),
        sequence: 7,
        certificate_number: "CR-2026-000001".into(),
        pdf: None,
        status: Some("REVOKED".into()),
        reason: Some("test".into()),
        created_at: "2026-12-04T10:00:00Z".into(),
    }
    .to_body()
}

fn folder_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn verifier_receive_refuses_forgeries_and_repeats_its_receipt() {
    let svc = IssuerService::start(None, "", &[]);
    let key = department_key();
    let receiver = start_receiver(&svc, "DSAL", &key);
    let bureau = TransferSigner::from_pkcs8(
        &std::fs::read(svc.home().join("pki/transfer-signer.key.p8")).expect("transfer key"),
    )
    .expect("bureau key");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    let body = status_change_body("T-FIRST", "DSAL");
    let (status, first) = post_signed(receiver.port, &bureau, "T-FIRST", now, &body);
    assert_eq!(status, 200, "{first}");
    let receipt = ReceiptKey::from_pem(&key.public_pem)
        .expect("key")
        .verify(&first)
        .expect("a receipt signed by the department's key");
    assert_eq!(receipt.body_sha256, ccr_pki::transfer::sha256_hex(&body));
    assert_eq!(receipt.result, ReceiptResult::Accepted);
    let stored = folder_listing(&receiver.out);
    assert_eq!(stored, ["T-FIRST.receipt", "T-FIRST.status.json"]);

    // The same delivery again: the stored receipt, byte for byte.
    let (status, again) = post_signed(receiver.port, &bureau, "T-FIRST", now + 1, &body);
    assert_eq!((status, again.as_str()), (200, first.as_str()));

    // Refused, with nothing written: tampered, stale, another department, another signer.
    let signed = status_change_body("T-TAMPER", "DSAL");
    let tampered = String::from_utf8(signed.clone())
        .expect("utf-8")
        .replace("REVOKED", "SUSPENDED")
        .into_bytes();
    assert_eq!(
        post_tampered(receiver.port, &bureau, "T-TAMPER", now, &signed, &tampered),
        401,
        "tampered body"
    );
    let stale = status_change_body("T-STALE", "DSAL");
    assert_eq!(
        post_signed(receiver.port, &bureau, "T-STALE", now - 301, &stale).0,
        401
    );
    let misaddressed = status_change_body("T-PSP", "PSP");
    assert_eq!(
        post_signed(receiver.port, &bureau, "T-PSP", now, &misaddressed).0,
        422
    );
    let (impostor, _) = TransferSigner::generate().expect("impostor");
    let forged = status_change_body("T-FORGED", "DSAL");
    assert_eq!(
        post_signed(receiver.port, &impostor, "T-FORGED", now, &forged).0,
        401
    );
    assert_eq!(
        folder_listing(&receiver.out),
        stored,
        "nothing written for refusals"
    );
}

/// Posts `sent` with a signature made over `signed` (a body changed in transit).
fn post_tampered(
    port: u16,
    signer: &TransferSigner,
    id: &str,
    timestamp: i64,
    signed: &[u8],
    sent: &[u8],
) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    agent
        .post(format!("http://127.0.0.1:{port}/inbox"))
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signer.sign_webhook(id, timestamp, signed).expect("sign"),
        )
        .send(sent)
        .expect("post")
        .status()
        .as_u16()
}

#[test]
fn an_independent_python_receiver_gets_envelopes_the_bureau_accepts_receipts_from() {
    let Some(python) = ccr_tests::python_with(&["cryptography"]) else {
        return;
    };
    let svc = IssuerService::start(None, "", &[]);
    let key = department_key();
    let (root, bundle) = save_trust(&svc);
    let key_path = svc.ws.file("python-receipt.key.pem");
    std::fs::write(&key_path, &key.private_pem).expect("key");
    let out = svc.ws.file("python-inbox");
    std::fs::create_dir_all(&out).expect("out");
    let port = free_port();
    let mut cmd = std::process::Command::new(python);
    cmd.arg(ccr_tests::workspace_root().join("tests/oracles/transfer_receiver.py"))
        .arg("--trust")
        .arg(&root)
        .arg("--bundle")
        .arg(&bundle)
        .arg("--key")
        .arg(&key_path)
        .arg("--department")
        .arg("DSAL")
        .arg("--out")
        .arg(&out)
        .arg("--port")
        .arg(port.to_string());
    let _receiver = spawn_until_healthy(cmd, port, "transfer_receiver.py");
    register(
        &svc,
        "DSAL",
        &format!("http://127.0.0.1:{port}/inbox"),
        &key.public_pem,
    );
    let (token, id, number) = issue_transfer(&svc, "transfer-python", "DSAL");
    change_status(&svc, &number, "suspend");
    wait_for(Duration::from_secs(60), "both delivered", || {
        ledger(&svc, &token, &id)["transfers"]
            .as_array()
            .is_some_and(|t| t.len() == 2 && t.iter().all(|d| d["state"] == "delivered"))
    });
    let stored = folder_listing(&out);
    assert_eq!(
        stored.len(),
        4,
        "two envelopes and two receipts: {stored:?}"
    );

    // The Python receiver refuses what `verifier receive` refuses, writing nothing.
    let bureau = TransferSigner::from_pkcs8(
        &std::fs::read(svc.home().join("pki/transfer-signer.key.p8")).expect("transfer key"),
    )
    .expect("bureau key");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed = status_change_body("T-TAMPER", "DSAL");
    let tampered = String::from_utf8(signed.clone())
        .expect("utf-8")
        .replace("REVOKED", "SUSPENDED")
        .into_bytes();
    assert_eq!(
        post_tampered(port, &bureau, "T-TAMPER", now, &signed, &tampered),
        401
    );
    let stale = status_change_body("T-STALE", "DSAL");
    assert_eq!(
        post_signed(port, &bureau, "T-STALE", now - 301, &stale).0,
        401
    );
    let misaddressed = status_change_body("T-PSP", "PSP");
    assert_eq!(
        post_signed(port, &bureau, "T-PSP", now, &misaddressed).0,
        422
    );
    assert_eq!(folder_listing(&out), stored, "nothing written for refusals");
}

/// Issues `count` transfer copies in this process with the bureau's own library (the
/// `issuer issue` path, without a process per certificate), alternating `departments`.
/// Returns when all are committed (and so queued).
fn issue_in_process(home: &Path, database: &str, departments: &[&str], count: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let bureau = ccr_issuer::bureau::Bureau::open(
            ccr_issuer::setup::home::Home::locate(Some(home.to_owned())),
            Some(database),
        )
        .await
        .expect("open the registry");
        for i in 0..count {
            let request = json!({
                "holder": { "name_latin": "LEI KA WAI", "name_chinese": "李嘉慧",
                            "date_of_birth": "1995-12-24",
                            "document": { "type": "BIR", "number": "7654321(0)" } },
                "usage": "EMPLOYMENT", "language": "zh", "express": false, "records": [],
                "transfer_to": departments[i % departments.len()],
            });
            bureau
                .issue(
                    "test:scale",
                    &serde_json::to_vec(&request).expect("json"),
                    time::OffsetDateTime::now_utc(),
                    None,
                )
                .await
                .expect("issue");
        }
    });
}

/// A stub department that records each POST and answers a valid receipt.
fn receipting_stub(key: &DepartmentKey) -> Stub {
    let signer = ReceiptSigner::from_pem(key.private_pem.as_bytes()).expect("signer");
    start_stub(move |_, seen| {
        (
            200,
            receipt_for(&signer, seen, ccr_pki::transfer::sha256_hex(&seen.body)),
        )
    })
}

/// The (delivery id, sequence) of each POST a stub saw, in arrival order.
fn arrivals(stub: &Stub) -> Vec<(String, u64)> {
    stub.seen
        .lock()
        .expect("seen")
        .iter()
        .map(|s| {
            let envelope = ccr_pki::transfer::Envelope::parse(&s.body).expect("envelope");
            assert_eq!(envelope.delivery_id, s.webhook_id);
            (s.webhook_id.clone(), envelope.sequence)
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Issue 13's scale item: two `issuer serve` instances on one PostgreSQL database, 200
/// transfers to two receivers: each delivered exactly once (never POSTed twice), in sequence
/// order per department; and the benchmark figures (deliveries per second draining a queued
/// backlog; "issued" to "receipt stored" for certificates issued while the lanes are live).
/// `CCR_SCALE_TRANSFERS` (default 200) and `CCR_LATENCY_TRANSFERS` (default 40).
#[test]
fn two_instances_on_one_postgresql_deliver_each_transfer_once_in_order() {
    let Some(db) = ccr_tests::api::PgDatabase::create() else {
        return;
    };
    let count: usize = std::env::var("CCR_SCALE_TRANSFERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let later: usize = std::env::var("CCR_LATENCY_TRANSFERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let svc = IssuerService::start(Some(&db.url), "", &[]);
    let port = free_port();
    let mut cmd = bin_command("issuer");
    cmd.arg("serve")
        .arg("--home")
        .arg(svc.home())
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .args(["--database", &db.url]);
    let _second = spawn_until_healthy(cmd, port, "second issuer serve");

    let departments = ["DSAL", "PSP"];
    let keys = [department_key(), department_key()];
    let stubs = [receipting_stub(&keys[0]), receipting_stub(&keys[1])];

    // The backlog: queued while no endpoint is registered (the lanes wait).
    let started = Instant::now();
    issue_in_process(svc.home(), &db.url, &departments, count);
    eprintln!(
        "issued {count} transfer copies in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (lane_code, _) in departments.iter().zip(&stubs) {
        let view = lane(&svc, lane_code);
        let open = view["deliveries"].as_array().expect("deliveries");
        assert!(
            open.iter().all(|d| d["state"] == "queued"
                && d["waiting_because"]
                    .as_str()
                    .is_some_and(|w| w.contains("no push endpoint"))),
            "{view}"
        );
    }
    let drain = Instant::now();
    for ((code, key), stub) in departments.iter().zip(&keys).zip(&stubs) {
        register(
            &svc,
            code,
            &format!("http://127.0.0.1:{}/inbox", stub.port),
            &key.public_pem,
        );
    }
    let per_department = count / departments.len();
    wait_for(Duration::from_secs(600), "the backlog delivered", || {
        stubs
            .iter()
            .all(|s| s.seen.lock().expect("seen").len() >= per_department)
    });
    let drain_seconds = drain.elapsed().as_secs_f64();
    let all_delivered = |expected: usize| {
        departments.iter().all(|code| {
            let view = lane(&svc, code);
            let list = view["deliveries"].as_array().expect("deliveries").clone();
            list.len() == expected && list.iter().all(|d| d["state"] == "delivered")
        })
    };
    wait_for(Duration::from_secs(30), "receipts stored", || {
        all_delivered(per_department)
    });

    // Phase 2: certificates issued one by one while the lanes are live.
    issue_in_process(svc.home(), &db.url, &departments, later);
    let expected = per_department + later / departments.len();
    wait_for(Duration::from_secs(300), "the live ones delivered", || {
        all_delivered(expected)
    });
    // Let any duplicate send that was in flight arrive before counting.
    std::thread::sleep(Duration::from_secs(2));

    let mut latencies = Vec::new();
    for ((code, stub), _) in departments.iter().zip(&stubs).zip(&keys) {
        let seen = arrivals(stub);
        let sequences: Vec<u64> = seen.iter().map(|(_, s)| *s).collect();
        let wanted: Vec<u64> = (1..=expected as u64).collect();
        assert_eq!(
            sequences, wanted,
            "{code}: each sequence number POSTed exactly once, in order"
        );
        let mut ids: Vec<&String> = seen.iter().map(|(id, _)| id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), expected, "{code}: no delivery id sent twice");
        let view = lane(&svc, code);
        for d in view["deliveries"].as_array().expect("deliveries") {
            assert_eq!(d["failures"], 0, "{d}");
            if d["sequence"].as_u64().expect("sequence") > per_department as u64 {
                let queued = ccr_tests::parse_rfc3339(d["queued_at"].as_str().expect("queued"));
                let done = ccr_tests::parse_rfc3339(d["delivered_at"].as_str().expect("done"));
                latencies.push((done - queued).as_seconds_f64() * 1000.0);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    eprintln!(
        "BENCH transfer: {count} queued deliveries to 2 loopback receivers drained by 2 instances in {drain_seconds:.2} s = {:.1} deliveries/s; issued -> receipt stored over {} live transfers: p50 {:.0} ms, p99 {:.0} ms",
        count as f64 / drain_seconds,
        latencies.len(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
    );
}

/// A proxy in front of a receiver: forwards each POST (with its webhook headers) and relays
/// the answer, except that the first one, once forwarded, is never answered (the issuer is
/// killed while it waits). Returns the port and the webhook ids it saw.
fn hanging_proxy(target: u16) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let Some((headers, body)) = read_request(&mut stream) else {
                    return;
                };
                let first = {
                    let mut log = log.lock().expect("log");
                    let id = headers
                        .iter()
                        .find(|(k, _)| k == "webhook-id")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    log.push(id);
                    log.len() == 1
                };
                let mut request = ureq::post(format!("http://127.0.0.1:{target}/inbox"))
                    .config()
                    .http_status_as_error(false)
                    .build();
                for (name, value) in &headers {
                    if name.starts_with("webhook-") || name == "content-type" {
                        request = request.header(name.as_str(), value.as_str());
                    }
                }
                let Ok(mut answer) = request.send(&body[..]) else {
                    return;
                };
                let status = answer.status().as_u16();
                let reply = answer.body_mut().read_to_vec().unwrap_or_default();
                if first {
                    // The receiver has stored it and signed a receipt; the issuer never
                    // hears of it.
                    std::thread::sleep(Duration::from_secs(3600));
                    return;
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    reply.len()
                );
                let _ = stream.write_all(&reply);
            });
        }
    });
    (port, seen)
}

/// `kill -9` of the issuer while a delivery is in flight (the receiver has stored it, the
/// receipt is on its way back), then a restart: once the dead worker's lease runs out the
/// delivery is sent again with the same id, the receiver answers its stored receipt, and the
/// bureau records it: delivered, nothing lost, one receipt per delivery id at the receiver.
#[test]
fn kill_9_in_the_middle_of_a_delivery_then_restart_delivers_once() {
    let mut svc = IssuerService::start(None, "", &[]);
    let key = department_key();
    let receiver = start_receiver(&svc, "DSAL", &key);
    let (proxy, seen) = hanging_proxy(receiver.port);
    register(
        &svc,
        "DSAL",
        &format!("http://127.0.0.1:{proxy}/inbox"),
        &key.public_pem,
    );
    let (token, id, _) = issue_transfer(&svc, "transfer-kill", "DSAL");
    wait_for(Duration::from_secs(60), "stored at the receiver", || {
        receiver.files(".receipt").len() == 1
    });
    assert_eq!(seen.lock().expect("seen").len(), 1);
    svc.kill_9();
    svc.restart();
    let view = ledger(&svc, &token, &id);
    assert_eq!(view["transfers"][0]["state"], "queued", "{view}");
    // The lease (60 s) of the killed worker must run out before anyone sends it again.
    wait_for(
        Duration::from_secs(120),
        "delivered after the restart",
        || ledger(&svc, &token, &id)["transfers"][0]["state"] == "delivered",
    );
    let ids = seen.lock().expect("seen").clone();
    assert_eq!(
        ids.len(),
        2,
        "sent once before the kill, once after: {ids:?}"
    );
    assert_eq!(ids[0], ids[1], "the same delivery id");
    assert_eq!(
        receiver.files(".receipt").len(),
        1,
        "one receipt per delivery id"
    );
    assert_eq!(receiver.files(".pdf").len(), 1, "one PDF");
    let view = ledger(&svc, &token, &id);
    assert_eq!(
        view["transfers"].as_array().map(Vec::len),
        Some(1),
        "{view}"
    );
}

/// A department endpoint inside the test: down (every send fails) until the simulated clock
/// passes `up_at`, then answering valid receipts. Records each attempt.
struct SimulatedReceiver {
    signer: ReceiptSigner,
    clock: Arc<Mutex<time::OffsetDateTime>>,
    up_at: time::OffsetDateTime,
    /// (simulated instant, delivery id, sequence, answered with a receipt).
    attempts: Mutex<Vec<(time::OffsetDateTime, String, u64, bool)>>,
}

impl ccr_issuer::notify::transfer::Transport for SimulatedReceiver {
    fn post(
        &self,
        _url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<ccr_issuer::notify::transfer::Answer, String> {
        let now = *self.clock.lock().expect("clock");
        let envelope = ccr_pki::transfer::Envelope::parse(body).expect("envelope");
        let id = headers
            .iter()
            .find(|(k, _)| *k == "webhook-id")
            .map(|(_, v)| v.clone())
            .expect("webhook-id");
        assert_eq!(id, envelope.delivery_id);
        let up = now >= self.up_at;
        self.attempts
            .lock()
            .expect("attempts")
            .push((now, id, envelope.sequence, up));
        if !up {
            return Err("connection refused (simulated outage)".into());
        }
        let seen = Seen {
            webhook_id: envelope.delivery_id.clone(),
            body: body.to_vec(),
        };
        Ok(ccr_issuer::notify::transfer::Answer {
            status: 200,
            body: receipt_for(&self.signer, &seen, ccr_pki::transfer::sha256_hex(body)),
        })
    }
}

/// The receiver is down for a simulated 74 hours (the clock injected into the delivery
/// worker, no waiting): the head of the lane is tried on §9's schedule (immediately, 5 s,
/// 1 min, 5 min, every 15 min for 72 h, then hourly), the lane behind it waits, the security
/// officer and the department are told once after the 4th failure; when it comes back, the
/// three deliveries land once each, in order.
#[test]
fn a_receiver_down_for_days_gets_everything_once_in_order_on_the_backoff_schedule() {
    use ccr_issuer::notify::transfer::{Transport, deliver_due};
    use time::Duration as Span;
    let ws = ccr_tests::Workspace::new();
    let key = department_key();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let bureau = Arc::new(
            ccr_issuer::bureau::Bureau::open(
                ccr_issuer::setup::home::Home::locate(Some(ws.home.clone())),
                None,
            )
            .await
            .expect("open"),
        );
        bureau
            .set_department_endpoint(
                "DSAL",
                "https://dsal.example/inbox",
                &key.public_pem,
                "test",
            )
            .await
            .expect("endpoint");
        let request = std::fs::read(ccr_tests::fixture("transfer-dsal.json")).expect("request");
        let t0 = time::OffsetDateTime::now_utc();
        let issued = bureau
            .issue("test", &request, t0, None)
            .await
            .expect("issue");
        use ccr_pki::status_list::Status;
        for status in [Status::Suspended, Status::Valid] {
            bureau
                .change_status(&issued.number, status, "test", "outage test")
                .await
                .expect("status");
        }
        let clock = Arc::new(Mutex::new(time::OffsetDateTime::now_utc()));
        let start = *clock.lock().expect("clock");
        let receiver = Arc::new(SimulatedReceiver {
            signer: ReceiptSigner::from_pem(key.private_pem.as_bytes()).expect("signer"),
            clock: Arc::clone(&clock),
            up_at: start + Span::hours(74),
            attempts: Mutex::new(Vec::new()),
        });
        let transport: Arc<dyn Transport> = receiver.clone();
        // Drive the worker: send whatever is due, else jump the clock to the next attempt.
        for _ in 0..2000 {
            let now = *clock.lock().expect("clock");
            if deliver_due(&bureau, &transport, "W-sim", now)
                .await
                .expect("deliver")
            {
                continue;
            }
            let lane = bureau.store().lane("DSAL", 0, 10).await.expect("lane");
            // The head of the lane decides; those behind it wait for it.
            let Some(next) = lane
                .iter()
                .find(|(d, _)| d.state == "queued")
                .map(|(d, _)| ccr_tests::parse_rfc3339(&d.next_attempt_at))
            else {
                break;
            };
            let mut clock = clock.lock().expect("clock");
            *clock = (*clock).max(next);
        }
        let attempts = receiver.attempts.lock().expect("attempts").clone();
        let failed: Vec<_> = attempts.iter().filter(|a| !a.3).collect();
        assert!(
            failed.iter().all(|a| a.2 == 1),
            "only the head of the lane is tried while the receiver is down"
        );
        let gaps: Vec<i64> = failed
            .windows(2)
            .map(|w| (w[1].0 - w[0].0).whole_seconds())
            .collect();
        assert_eq!(&gaps[..3], &[5, 60, 300], "the first retries: {gaps:?}");
        let first_failure = failed[0].0;
        for (gap, attempt) in gaps[3..].iter().zip(&failed[4..]) {
            let since = attempt.0 - first_failure;
            let wanted = if since <= Span::hours(72) + Span::minutes(15) {
                900
            } else {
                3600
            };
            assert_eq!(*gap, wanted, "retry after {gap} s at {since}: {gaps:?}");
        }
        assert!(gaps.contains(&3600), "hourly after 72 h: {gaps:?}");
        assert!(
            failed.len() > 24 * 4,
            "tried every 15 minutes through the first day: {}",
            failed.len()
        );
        let landed: Vec<u64> = attempts.iter().filter(|a| a.3).map(|a| a.2).collect();
        assert_eq!(
            landed,
            vec![1, 2, 3],
            "each once, in order, once it is back"
        );
        let lane = bureau.store().lane("DSAL", 0, 10).await.expect("lane");
        assert!(lane.iter().all(|(d, _)| d.state == "delivered"));
        assert_eq!(lane[0].0.failures, failed.len() as i64);
        for recipient in ["security-officer", "DSAL"] {
            let alerts: Vec<_> = bureau
                .store()
                .messages_to(recipient, 100)
                .await
                .expect("outbox")
                .into_iter()
                .filter(|m| m.body.contains("failed 4 times"))
                .collect();
            assert_eq!(
                alerts.len(),
                1,
                "{recipient} told once after the 4th failure"
            );
        }
    });
}

/// Issue 14: the transfer-signing key rotates while a receiver is running. The new key is
/// published in the bundle first; after the hand-over the bureau signs with it, and a
/// `verifier receive` that started with the old bundle (only the old key) fetches the bundle
/// again on the first unknown signature and accepts the delivery. The old key is retired,
/// not removed, and both stay in the bundle.
#[test]
fn rotating_the_transfer_key_keeps_deliveries_flowing() {
    let svc = IssuerService::start(None, "", &[]);
    let key = department_key();
    let trust_url = format!("{}/trust", svc.api.base);
    let receiver = start_receiver_with(&svc, "DSAL", &key, trust_url.as_ref(), &[]);
    register(&svc, "DSAL", &receiver.endpoint(), &key.public_pem);
    let keys = |svc: &IssuerService| -> Vec<Value> {
        let out = svc.ws.keys(["list", "--json"]);
        out.assert_success();
        let all: Value = serde_json::from_str(&out.stdout).expect("keys JSON");
        all["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter(|k| k["role"] == "transfer-signer")
            .cloned()
            .collect()
    };
    let before = keys(&svc);
    assert_eq!(before.len(), 1, "{before:?}");
    let old_id = before[0]["key_id"].as_str().expect("key id").to_owned();

    issue_transfer(&svc, "rotation-1", "DSAL");
    wait_for(Duration::from_secs(60), "the first PDF", || {
        receiver.files(".receipt").len() == 1
    });

    let rotated = svc
        .ws
        .keys(["rotate", "transfer-signer", "--publish-for", "2"]);
    rotated.assert_success();
    std::thread::sleep(Duration::from_secs(3));
    let after = keys(&svc);
    let state_of = |id: &str| {
        after
            .iter()
            .find(|k| k["key_id"] == id)
            .map(|k| k["state"].as_str().unwrap_or("").to_owned())
    };
    let new_id = after
        .iter()
        .find(|k| k["key_id"] != old_id.as_str())
        .and_then(|k| k["key_id"].as_str())
        .expect("a new transfer key")
        .to_owned();
    assert_eq!(state_of(&new_id).as_deref(), Some("active"), "{after:?}");
    assert_eq!(state_of(&old_id).as_deref(), Some("retired"), "{after:?}");
    let bundle = svc.api.get("/trust", None);
    bundle.expect(200);
    let text = String::from_utf8_lossy(&bundle.body);
    let payload = ccr_pki::bundle::signed::payload_unverified(&bundle.body).expect("payload");
    let listed: Value = serde_json::from_slice(&payload).expect("bundle JSON");
    let transfer_ids: Vec<&str> = listed["transfer_keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no transfer_keys in {text}"))
        .iter()
        .filter_map(|k| k["key_id"].as_str())
        .collect();
    assert!(
        transfer_ids.contains(&old_id.as_str()) && transfer_ids.contains(&new_id.as_str()),
        "both transfer keys are in the bundle: {transfer_ids:?}"
    );

    // Signed with the new key only: the receiver learns it from the bundle it fetches again.
    issue_transfer(&svc, "rotation-2", "DSAL");
    wait_for(Duration::from_secs(60), "the second PDF", || {
        receiver.files(".receipt").len() == 2
    });
    assert_eq!(receiver.files(".pdf").len(), 2);
}

/// The transfer signer's compromise (SPEC §10): `issuer keys compromise transfer-signer`
/// withdraws the key from the bundle and signs on with a fresh one. A receiver whose bundle
/// is past its maximum age fetches it again before trusting a delivery, so an envelope signed
/// with the stolen key is refused (nothing written) even before any delivery under the new
/// key; the bureau's own deliveries go on under the new key.
#[test]
fn a_compromised_transfer_key_is_refused_and_deliveries_go_on() {
    let svc = IssuerService::start(None, "", &[]);
    let key = department_key();
    let trust_url = format!("{}/trust", svc.api.base);
    let receiver = start_receiver_with(
        &svc,
        "DSAL",
        &key,
        trust_url.as_ref(),
        &["--bundle-max-age", "1"],
    );
    register(&svc, "DSAL", &receiver.endpoint(), &key.public_pem);
    let stolen = TransferSigner::from_pkcs8(
        &std::fs::read(svc.home().join("pki/transfer-signer.key.p8")).expect("transfer key"),
    )
    .expect("the key a thief copied");
    issue_transfer(&svc, "compromise-1", "DSAL");
    wait_for(Duration::from_secs(60), "the first PDF", || {
        receiver.files(".receipt").len() == 1
    });
    let now = time::OffsetDateTime::now_utc();
    let body = status_change_body("T-BEFORE", "DSAL");
    let (status, answer) = post_signed(
        receiver.port,
        &stolen,
        "T-BEFORE",
        now.unix_timestamp(),
        &body,
    );
    assert_eq!(
        status, 200,
        "the key was the bureau's until declared: {answer}"
    );

    let since = (now - time::Duration::seconds(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    let declared = svc.ws.keys([
        "compromise",
        "transfer-signer",
        "--since",
        &since,
        "--reason",
        "drill: the transfer key was copied",
    ]);
    declared.assert_success();
    let bundle = svc.api.get("/trust", None);
    bundle.expect(200);
    let payload = ccr_pki::bundle::signed::payload_unverified(&bundle.body).expect("payload");
    let listed: Value = serde_json::from_slice(&payload).expect("bundle JSON");
    let transfer_ids: Vec<&str> = listed["transfer_keys"]
        .as_array()
        .expect("transfer_keys")
        .iter()
        .filter_map(|k| k["key_id"].as_str())
        .collect();
    assert!(
        !transfer_ids.contains(&stolen.key_id().as_str()) && !transfer_ids.is_empty(),
        "the bundle still lists the stolen key or none: {transfer_ids:?}"
    );

    std::thread::sleep(Duration::from_millis(1500));
    let stored = folder_listing(&receiver.out);
    let forged = status_change_body("T-FORGED", "DSAL");
    let (status, answer) = post_signed(
        receiver.port,
        &stolen,
        "T-FORGED",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        &forged,
    );
    assert_eq!(status, 401, "an envelope under the stolen key: {answer}");
    assert_eq!(folder_listing(&receiver.out), stored, "nothing written");

    issue_transfer(&svc, "compromise-2", "DSAL");
    wait_for(
        Duration::from_secs(60),
        "the PDF sent under the fresh key",
        || receiver.files(".receipt").len() == 3,
    );
    assert_eq!(receiver.files(".pdf").len(), 2);
}
