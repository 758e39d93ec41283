//! Issue 5: `verifier serve` answers as the command line does, keeps no state but caches, and
//! holds its limits.
//!
//! 1. One table of inputs (valid, expired, revoked, suspended, superseded, tampered,
//!    untrusted, malformed) gives the same verdict and checks from `verifier check --status
//!    online` and `POST /api/v1/verify`; a QR token gives the same from `verifier token` and
//!    `POST /api/v1/verify-token`.
//! 2. 413 over `--max-body-bytes` (declared or streamed), 429 past `--max-concurrent`, 503 past
//!    `--timeout-ms`, 422 on bad JSON, 404 and 405.
//! 3. A restarted instance and a second instance answer identically.
//! 4. `/metrics` counts; `/api/openapi.json` is OpenAPI 3.1 with every path.
//!
//! Everything runs as real processes over loopback HTTP.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ccr_tests::{
    Report, Server, Workspace, bin_command, fixture, free_port, pdf, spawn_until_healthy,
    start_issuer_serve, verifier,
};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An HTTP answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                self.head,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value (names compared case-insensitively).
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// A raw HTTP/1.1 exchange (`Connection: close`). Write errors are ignored: a server may
/// answer 413 and close before the whole body is sent, and the answer is still read.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && *v == "chunked");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !chunked && (method == "POST" || !body.is_empty()) {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    let _ = stream.write_all(request.as_bytes());
    if chunked {
        for chunk in body.chunks(16 * 1024) {
            if write!(stream, "{:x}\r\n", chunk.len()).is_err()
                || stream.write_all(chunk).is_err()
                || stream.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    } else {
        let _ = stream.write_all(body);
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no HTTP answer to {method} {path}: {:?}",
                String::from_utf8_lossy(&response)
            )
        });
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let body = response[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head}"));
    let answer = Answer { status, head, body };
    assert!(
        answer
            .header("transfer-encoding")
            .is_none_or(|te| !te.contains("chunked")),
        "this client expects sized bodies: {}",
        answer.head
    );
    answer
}

fn get(port: u16, path: &str) -> Answer {
    http(port, "GET", path, &[], b"")
}

/// `verifier serve --trust <root> [--issuer <issuer>] <extra>` on `port`.
fn start_verifier(root: &Path, issuer: Option<&str>, port: u16, extra: &[&str]) -> Server {
    let mut cmd = bin_command("verifier");
    cmd.arg("serve")
        .arg("--trust")
        .arg(root)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .args(extra);
    if let Some(issuer) = issuer {
        cmd.arg("--issuer").arg(issuer);
    }
    spawn_until_healthy(cmd, port, "verifier serve")
}

fn post_pdf(port: u16, bytes: &[u8], at: Option<&str>) -> Answer {
    let path = match at {
        Some(at) => format!("/api/v1/verify?at={}", at.replace('+', "%2B")),
        None => "/api/v1/verify".to_owned(),
    };
    http(
        port,
        "POST",
        &path,
        &[("Content-Type", "application/pdf")],
        bytes,
    )
}

/// `POST /api/v1/verify`, which must answer 200 with a report.
#[track_caller]
fn service_report(port: u16, bytes: &[u8], at: Option<&str>) -> Value {
    let answer = post_pdf(port, bytes, at);
    assert_eq!(answer.status, 200, "{}\n{}", answer.head, answer.text());
    assert_eq!(answer.header("cache-control").as_deref(), Some("no-store"));
    answer.json()
}

/// `verifier check <pdf> --trust <root> --status online` with a fresh cache.
fn cli_report(ws: &Workspace, pdf: &Path, root: &Path, at: Option<&str>) -> Report {
    let cache = ws.file(format!("cli-cache-{}", ccr_tests::unique()));
    let mut args: Vec<OsString> = vec![
        "check".into(),
        pdf.into(),
        "--trust".into(),
        root.into(),
        "--status".into(),
        "online".into(),
        "--cache-dir".into(),
        cache.into(),
        "--json".into(),
    ];
    if let Some(at) = at {
        args.push("--at".into());
        args.push(at.into());
    }
    Report::parse(verifier(args))
}

/// The verdict and each check's name and outcome (the details carry times and ages).
fn outline(report: &Value) -> (String, Vec<(String, String)>) {
    let verdict = report["verdict"].as_str().unwrap_or_default().to_owned();
    let checks = report["checks"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or_default().to_owned(),
                        c["outcome"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (verdict, checks)
}

/// The report without what legitimately differs between two runs: the time of the check,
/// and the age of the status list (two instances may hold copies signed seconds apart).
fn normalised(report: &Value) -> Value {
    let mut report = report.clone();
    if let Some(map) = report.as_object_mut() {
        map.remove("checked_at");
    }
    if let Some(status) = report.get_mut("status").and_then(Value::as_object_mut) {
        for key in ["age_seconds", "list_issued_at", "list_expires_at"] {
            status.remove(key);
        }
    }
    if let Some(checks) = report.get_mut("checks").and_then(Value::as_array_mut) {
        for check in checks.iter_mut().filter(|c| c["name"] == "status") {
            let detail = check["detail"].as_str().unwrap_or_default();
            let head = detail.split(';').next().unwrap_or_default().to_owned();
            check["detail"] = Value::String(head);
        }
    }
    report
}

fn write(ws: &Workspace, name: &str, bytes: &[u8]) -> PathBuf {
    let path = ws.file(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

/// The token URL embedded in a signed certificate (what its QR code carries).
fn token_url(pdf: &Path) -> String {
    let bytes = std::fs::read(pdf).expect("read pdf");
    let doc = ccr_pki::pades::inspect(&bytes, &ccr_pki::pdf::Limits::default()).expect("inspect");
    ccr_pki::token::to_url("http://127.0.0.1:8081/verify", &doc.token)
}

/// A counter's value in a Prometheus text exposition (0 if absent).
fn counter(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn the_service_agrees_with_the_cli_and_a_restart_or_second_instance_answers_the_same() {
    let issuer_port = free_port();
    let issuer_url = format!("http://127.0.0.1:{issuer_port}");
    let ws = Workspace::with_init_args(&["--public-url", &issuer_url]);
    let valid = ws.issue(&fixture("chan-tai-man.json"));
    let revoked = ws.issue(&fixture("portuguese-name.json"));
    let suspended = ws.issue(&fixture("hkscs-name.json"));
    let superseded = ws.issue(&fixture("vietnamese-name.json"));
    ws.revoke(&revoked.number, "issued in error");
    ws.issuer(
        "suspend",
        [suspended.number.as_str(), "--reason", "enquiry"],
    )
    .assert_success();
    let reissued = ws.file("reissued.pdf");
    ws.issuer(
        "reissue",
        [
            superseded.number.as_str(),
            "--reason",
            "name corrected",
            "--out",
            reissued.to_str().expect("utf-8"),
        ],
    )
    .assert_success();
    let trust = ws.export_trust();
    // A look-alike PKI: same names and the same issuer URL, another root.
    let other = Workspace::with_init_args(&["--public-url", &issuer_url]);
    let untrusted = other.issue(&fixture("chan-tai-man.json"));

    let valid_bytes = std::fs::read(&valid.pdf).expect("read");
    let tampered = write(
        &ws,
        "tampered.pdf",
        &pdf::flip_byte(&valid_bytes, pdf::header_comment_byte(&valid_bytes), 0x01),
    );
    let malformed = write(&ws, "malformed.pdf", b"this is a text file, not a PDF\n");
    let expired_at = (OffsetDateTime::now_utc() + time::Duration::days(92))
        .format(&Rfc3339)
        .expect("format");

    // The issuer signs every list as it starts, so the changes above are published.
    let _issuer = start_issuer_serve(&ws, issuer_port);
    let port = free_port();
    let service = start_verifier(&trust.root, Some(&issuer_url), port, &[]);

    let table: [(&str, &Path, Option<&str>, &str); 9] = [
        ("valid", &valid.pdf, None, "VALID"),
        ("expired", &valid.pdf, Some(&expired_at), "EXPIRED"),
        ("revoked", &revoked.pdf, None, "REVOKED"),
        ("suspended", &suspended.pdf, None, "SUSPENDED"),
        ("superseded", &superseded.pdf, None, "SUPERSEDED"),
        ("reissued", &reissued, None, "VALID"),
        ("tampered", &tampered, None, "INVALID_SIGNATURE"),
        ("untrusted", &untrusted.pdf, None, "UNTRUSTED"),
        ("malformed", &malformed, None, "MALFORMED"),
    ];
    let mut first_answers = Vec::new();
    for (name, file, at, expected) in table {
        let bytes = std::fs::read(file).expect("read");
        let cli = cli_report(&ws, file, &trust.root, at);
        cli.assert_verdict(expected);
        let served = service_report(port, &bytes, at);
        assert_eq!(
            outline(&served),
            outline(&cli.json),
            "{name}: the service and the CLI disagree\nservice: {served:#}\ncli: {cli}"
        );
        first_answers.push((name, bytes, at, served));
    }

    // A QR token: `verifier token --bundle online --status online` and the service agree.
    for (name, issued, expected) in [("valid", &valid, "VALID"), ("revoked", &revoked, "REVOKED")] {
        let url = token_url(&issued.pdf);
        let cache = ws.file(format!("token-cache-{}", ccr_tests::unique()));
        let cli = Report::parse(verifier([
            "token".as_ref(),
            url.as_ref(),
            "--trust".as_ref(),
            trust.root.as_os_str(),
            "--issuer".as_ref(),
            issuer_url.as_ref(),
            "--bundle".as_ref(),
            "online".as_ref(),
            "--status".as_ref(),
            "online".as_ref(),
            "--cache-dir".as_ref(),
            cache.as_os_str(),
            "--json".as_ref(),
        ]));
        cli.assert_verdict(expected);
        let body = serde_json::json!({ "token": url }).to_string();
        let answer = http(
            port,
            "POST",
            "/api/v1/verify-token",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(
            outline(&answer.json()),
            outline(&cli.json),
            "token {name}: the service and the CLI disagree"
        );
    }

    // The browser's keys: the token's kid, as a P-256 JWK.
    let keys = get(port, "/api/v1/trust");
    assert_eq!(keys.status, 200, "{}", keys.text());
    let keys = keys.json();
    assert_eq!(keys["issuer"], issuer_url.as_str());
    assert_eq!(keys["status_list_ttl_seconds"], 300);
    let doc =
        ccr_pki::pades::inspect(&valid_bytes, &ccr_pki::pdf::Limits::default()).expect("inspect");
    let kid = hex::encode(ccr_pki::token::parse(&doc.token).expect("token").kid());
    let signers = keys["token_signers"].as_array().expect("token_signers");
    assert_eq!(signers.len(), 1, "only the token signer: {keys:#}");
    assert_eq!(signers[0]["kid"], kid.as_str());
    assert_eq!(signers[0]["jwk"]["kty"], "EC");
    assert_eq!(signers[0]["jwk"]["crv"], "P-256");
    assert_eq!(signers[0]["jwk"]["x"].as_str().map(str::len), Some(43));

    // Metrics move with the traffic.
    let before = get(port, "/metrics").text();
    service_report(port, &valid_bytes, None);
    let after = get(port, "/metrics").text();
    for series in [
        "ccr_verifier_verifications_total{kind=\"pdf\",verdict=\"VALID\"}",
        "ccr_verifier_http_requests_total{route=\"/api/v1/verify\",status=\"200\"}",
        "ccr_verifier_verification_duration_seconds_count",
    ] {
        assert_eq!(
            counter(&after, series),
            counter(&before, series) + 1.0,
            "{series}\nbefore:\n{before}\nafter:\n{after}"
        );
    }
    assert!(
        counter(
            &after,
            "ccr_verifier_verifications_total{kind=\"pdf\",verdict=\"REVOKED\"}"
        ) >= 1.0
    );
    assert!(after.contains("# TYPE ccr_verifier_verification_duration_seconds histogram"));
    assert!(after.contains("ccr_verifier_verifications_in_flight 0"));

    // A restart, then a second instance on another port: the same answers.
    drop(service);
    let restarted = start_verifier(&trust.root, Some(&issuer_url), port, &[]);
    let second_port = free_port();
    let _second = start_verifier(&trust.root, Some(&issuer_url), second_port, &[]);
    for (name, bytes, at, first) in &first_answers {
        for (label, p) in [("restarted", port), ("second instance", second_port)] {
            let again = service_report(p, bytes, *at);
            assert_eq!(
                normalised(&again),
                normalised(first),
                "{name}: the {label} answers differently"
            );
        }
    }
    drop(restarted);

    // Past --max-concurrent, requests are refused at once, never queued, and nothing fails.
    let narrow_port = free_port();
    let _narrow = start_verifier(
        &trust.root,
        Some(&issuer_url),
        narrow_port,
        &["--max-concurrent", "1"],
    );
    let shared = Arc::new(valid_bytes.clone());
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let bytes = Arc::clone(&shared);
            std::thread::spawn(move || post_pdf(narrow_port, &bytes, None))
        })
        .collect();
    let answers: Vec<Answer> = threads
        .into_iter()
        .map(|t| t.join().expect("client thread"))
        .collect();
    let codes: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(codes.contains(&429), "no 429 among {codes:?}");
    assert!(codes.iter().all(|c| *c < 500), "a 5xx among {codes:?}");
    for answer in &answers {
        match answer.status {
            200 => assert_eq!(answer.json()["verdict"], "VALID"),
            429 => {
                assert_eq!(answer.header("retry-after").as_deref(), Some("1"));
                let message = answer.json()["error"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                assert!(message.contains("--max-concurrent"), "{message}");
            }
            other => panic!("unexpected {other}: {}", answer.text()),
        }
    }
}

/// An "issuer" that accepts connections and never answers: status fetches hang.
fn black_hole() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

#[test]
fn limits_answer_413_429_and_503_at_once_and_never_hang() {
    let hole = black_hole();
    let issuer_url = format!("http://127.0.0.1:{hole}");
    let ws = Workspace::with_init_args(&["--public-url", &issuer_url]);
    let issued = ws.issue(&fixture("chan-tai-man.json"));
    let trust = ws.export_trust();
    let bytes = std::fs::read(&issued.pdf).expect("read");
    let port = free_port();
    let _service = start_verifier(
        &trust.root,
        Some(&issuer_url),
        port,
        &[
            "--max-body-bytes",
            "100000",
            "--max-concurrent",
            "1",
            "--timeout-ms",
            "2000",
        ],
    );
    assert!(bytes.len() < 100_000, "the certificate fits the limit");

    // Over the limit, declared or streamed: 413 naming the limit, before reading it all.
    let big = vec![b'%'; 300_000];
    let declared = post_pdf(port, &big, None);
    let streamed = http(
        port,
        "POST",
        "/api/v1/verify",
        &[
            ("Content-Type", "application/pdf"),
            ("Transfer-Encoding", "chunked"),
        ],
        &big,
    );
    for answer in [declared, streamed] {
        assert_eq!(answer.status, 413, "{}", answer.text());
        let message = answer.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains("100000") && message.contains("--max-body-bytes"),
            "{message}"
        );
    }

    // One verification stuck on the issuer holds the only slot: another is refused at once;
    // the stuck one ends with 503 at the deadline.
    let stuck = {
        let bytes = bytes.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (post_pdf(port, &bytes, None), started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let refused = post_pdf(port, &bytes, None);
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "429 is immediate"
    );
    let (timed_out, took) = stuck.join().expect("client thread");
    assert_eq!(timed_out.status, 503, "{}", timed_out.text());
    let message = timed_out.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("--timeout-ms"), "{message}");
    assert!(
        took < Duration::from_secs(5),
        "the deadline is kept: {took:?}"
    );
    // The service is still healthy.
    assert_eq!(get(port, "/healthz").status, 200);
}

#[test]
fn the_page_api_errors_and_openapi_are_served_as_documented() {
    let ws = Workspace::new();
    let trust = ws.export_trust();
    let port = free_port();
    let _service = start_verifier(&trust.root, Some("http://127.0.0.1:9"), port, &[]);

    let health = get(port, "/healthz");
    assert_eq!((health.status, health.text().as_str()), (200, "ok"));

    for path in ["/", "/verify"] {
        let page = get(port, path);
        assert_eq!(page.status, 200);
        assert_eq!(
            page.header("content-type").as_deref(),
            Some("text/html; charset=utf-8")
        );
        let csp = page.header("content-security-policy").unwrap_or_default();
        for directive in [
            "default-src 'self'",
            "connect-src 'self' http://127.0.0.1:9;",
            "img-src 'self' data:",
            "style-src 'self'",
            "script-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{directive} missing from {csp}");
        }
        assert_eq!(
            page.header("referrer-policy").as_deref(),
            Some("no-referrer")
        );
        assert_eq!(
            page.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
    }
    for (path, mime) in [
        ("/assets/verify.js", "text/javascript"),
        ("/assets/style.css", "text/css"),
    ] {
        let asset = get(port, path);
        assert_eq!(asset.status, 200, "{path}");
        assert!(
            asset
                .header("content-type")
                .is_some_and(|t| t.starts_with(mime)),
            "{path}: {:?}",
            asset.header("content-type")
        );
    }

    let openapi = get(port, "/api/openapi.json");
    assert_eq!(openapi.status, 200);
    let doc = openapi.json();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/api/v1/verify",
        "/api/v1/verify-token",
        "/api/v1/trust",
        "/",
        "/verify",
        "/healthz",
        "/metrics",
        "/api/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    assert!(
        doc["components"]["schemas"]["VerificationReport"]["properties"]["verdict"].is_object(),
        "the report schema is in the document"
    );

    // Bad JSON, a JSON without a token, and a token that is not base64url: 422, said clearly.
    for body in [
        &b"{not json"[..],
        b"{\"at\": \"2026-01-01T00:00:00Z\"}",
        b"{\"token\": \"***\"}",
    ] {
        let answer = http(
            port,
            "POST",
            "/api/v1/verify-token",
            &[("Content-Type", "application/json")],
            body,
        );
        assert_eq!(answer.status, 422, "{}", answer.text());
        assert!(
            answer.json()["error"]
                .as_str()
                .is_some_and(|m| m.len() > 10)
        );
    }
    let bad_at = post_pdf(port, b"%PDF-1.7", Some("yesterday"));
    assert_eq!(bad_at.status, 422, "{}", bad_at.text());
    let form = http(
        port,
        "POST",
        "/api/v1/verify",
        &[("Content-Type", "multipart/form-data; boundary=x")],
        b"--x--",
    );
    assert_eq!(form.status, 415, "{}", form.text());

    let unknown = get(port, "/api/v1/nothing");
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["error"].is_string());
    let wrong = get(port, "/api/v1/verify");
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow").as_deref(), Some("POST"));
    assert!(wrong.json()["error"].is_string());
    assert_eq!(http(port, "DELETE", "/", &[], b"").status, 405);

    // Nothing reachable at the issuer: the keys cannot be published, said without details.
    let keys = get(port, "/api/v1/trust");
    assert_eq!(keys.status, 503, "{}", keys.text());
    assert!(keys.json()["error"].is_string());

    let metrics = get(port, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics.text().contains(
        "ccr_verifier_http_requests_total{route=\"/api/v1/verify-token\",status=\"422\"} 3"
    ));
    assert!(
        metrics
            .text()
            .contains("ccr_verifier_http_requests_total{route=\"unmatched\",status=\"404\"} 1")
    );
}

/// Without `--issuer`, each certificate's own list is used. Two certificates of one PKI naming
/// two lists (the issuer's public URL changed between them) are both VALID, in any order: the
/// service's "last list" hint never decides a status.
#[test]
fn without_issuer_each_certificate_is_judged_by_the_list_it_names() {
    let (p1, p2) = (free_port(), free_port());
    let (url1, url2) = (
        format!("http://127.0.0.1:{p1}"),
        format!("http://127.0.0.1:{p2}"),
    );
    let ws = Workspace::with_init_args(&["--public-url", &url1]);
    let first = ws.issue(&fixture("chan-tai-man.json"));
    let _issuer1 = start_issuer_serve(&ws, p1);
    let config = ws.home.join("issuer.toml");
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace(&url1, &url2);
    std::fs::write(&config, text).expect("config");
    let second = ws.issue(&fixture("portuguese-name.json"));
    let _issuer2 = start_issuer_serve(&ws, p2);
    let trust = ws.export_trust();

    let port = free_port();
    let _service = start_verifier(&trust.root, None, port, &[]);
    let a = std::fs::read(&first.pdf).expect("read");
    let b = std::fs::read(&second.pdf).expect("read");
    for (bytes, list) in [(&a, &url1), (&b, &url2), (&b, &url2), (&a, &url1)] {
        let report = service_report(port, bytes, None);
        assert_eq!(report["verdict"], "VALID", "{report:#}");
        assert_eq!(
            report["status"]["list"].as_str(),
            Some(format!("{list}/status/1").as_str())
        );
    }
    for issued in [&first, &second] {
        let cli = cli_report(&ws, &issued.pdf, &trust.root, None);
        cli.assert_verdict("VALID");
    }

    // A token is never trusted to name where its bundle is (issue 9): without --issuer,
    // tokens are refused with 503 naming the option.
    let body = serde_json::json!({ "token": token_url(&second.pdf) }).to_string();
    let answer = http(
        port,
        "POST",
        "/api/v1/verify-token",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert!(answer.text().contains("--issuer"), "{}", answer.text());

    // No configured issuer: no keys to publish.
    let keys = get(port, "/api/v1/trust");
    assert_eq!(keys.status, 404, "{}", keys.text());
    assert!(
        keys.json()["error"]
            .as_str()
            .is_some_and(|m| m.contains("--issuer"))
    );
}
