//! Issue 5 must-show 1–2 in headless Chromium (Debian's /usr/bin/chromium, driven by
//! `tests/browser/run.mjs` through playwright-core): the verification page served by
//! `verifier serve` against a live `issuer serve`.
//!
//! a. Uploading a PDF (file input or drop zone) shows the same verdict as `verifier check
//!    --status online`, for the whole table of issue 5: valid, expired (issued 100 days ago),
//!    revoked, suspended, superseded (re-issued), tampered (one byte flipped), malformed (text)
//!    and untrusted (another PKI's) files.
//! b. The QR landing page (`<verifier>/verify#<token>`) verifies the token in the browser:
//!    VALID; after `issuer revoke` and the list's republication the page's in-memory copy still
//!    answers within its ttl (no new fetch), and once the page's clock (`?now=`, moved without a
//!    reload) is past the ttl it fetches the list again and shows REVOKED, "status as of"; the
//!    CLI's `verifier token` agrees at both instants. A token with a broken signature, half a
//!    token and another PKI's token show INVALID_SIGNATURE, MALFORMED and UNTRUSTED, and none
//!    of their fields.
//! c. No request the browser made carries the token or any 16-character piece of it (URL,
//!    headers or body); the detector itself is shown to work on an upload of the PDF, which
//!    does contain the token.
//!
//! Skipped (with a printed reason) when node, the npm packages (`npm ci --prefix
//! tests/browser`) or Chromium are missing, unless `CCR_REQUIRE_ORACLES=1`.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ccr_pki::token::decimal;
use ccr_tests::{
    Out, Report, Workspace, bin_command, etag_of, fixture, free_port, http_get, pdf,
    spawn_until_healthy, verifier, wait_for_republish,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

// ---------------------------------------------------------------------------------------------
// The browser driver

use ccr_tests::BrowserDriver as Browser;

fn browser() -> Option<Browser> {
    ccr_tests::browser_driver("run.mjs")
}

/// What `run.mjs` printed: its JSON summary and the transcript.
struct Run {
    out: Out,
    json: Value,
}

impl Run {
    fn from_out(out: Out) -> Self {
        let json: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("run.mjs printed no JSON summary ({e}):\n{out}"));
        Run { out, json }
    }

    #[track_caller]
    fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.json["ok"],
            json!(true),
            "the browser run failed: {}\n{}",
            self.json["failures"],
            self.out
        );
        assert_eq!(self.out.code, Some(0), "{}", self.out);
        self
    }

    fn verdicts(&self) -> Vec<String> {
        self.json["verdicts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().unwrap_or("<none>").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn requests(&self) -> Vec<Value> {
        self.json["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The `i`-th verdict shown, with its checks, fields and status age.
    fn result(&self, i: usize) -> &Value {
        self.json["results"]
            .get(i)
            .unwrap_or_else(|| panic!("no verdict #{i}: {}", self.json))
    }
}

trait Scenario {
    fn command(&self, scenario: &Value, dir: &Path) -> Command;
    fn run(&self, scenario: &Value, dir: &Path) -> Run;
    fn start(&self, scenario: &Value, dir: &Path) -> Running;
}

impl Scenario for Browser {
    fn command(&self, scenario: &Value, dir: &Path) -> Command {
        let file = dir.join(format!("scenario-{}.json", ccr_tests::unique()));
        std::fs::write(&file, serde_json::to_vec_pretty(scenario).expect("json")).expect("write");
        let mut cmd = Command::new(&self.node);
        cmd.arg(&self.script).arg(&file);
        cmd
    }

    /// Runs a scenario to completion.
    fn run(&self, scenario: &Value, dir: &Path) -> Run {
        let out =
            ccr_tests::run_with_timeout(&mut self.command(scenario, dir), Duration::from_secs(240));
        Run::from_out(out)
    }

    /// Starts a scenario and returns a handle to finish it (for scenarios that `wait_for` a file
    /// the test creates).
    fn start(&self, scenario: &Value, dir: &Path) -> Running {
        let command = format!("node run.mjs {}", scenario["steps"]);
        let mut child = self
            .command(scenario, dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn node");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let readers = (
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = stdout.read_to_string(&mut s);
                s
            }),
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = stderr.read_to_string(&mut s);
                s
            }),
        );
        Running {
            child: Some(child),
            readers: Some(readers),
            command,
        }
    }
}

type Readers = (
    std::thread::JoinHandle<String>,
    std::thread::JoinHandle<String>,
);

struct Running {
    child: Option<Child>,
    readers: Option<Readers>,
    command: String,
}

impl Running {
    /// Waits (at most 30 s) for `file` to appear, failing early if the driver exits first.
    #[track_caller]
    fn wait_for_file(&mut self, file: &Path) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !file.exists() {
            let child = self.child.as_mut().expect("running");
            if let Ok(Some(_)) = child.try_wait() {
                let run = self.finish();
                panic!(
                    "the browser run ended before {}:\n{}",
                    file.display(),
                    run.out
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not appear within 30 s",
                file.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn finish(&mut self) -> Run {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(180);
        let status = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the browser run did not finish within 180 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let (out, err) = self.readers.take().expect("readers");
        Run::from_out(Out {
            command: self.command.clone(),
            code: status.code(),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------

fn check_online(pdf: &Path, root: &Path, cache: &Path) -> Report {
    Report::parse(ccr_tests::check_online_out(pdf, root, cache, None))
}

fn token_online(url: &str, issuer: &str, root: &Path, cache: &Path, at: OffsetDateTime) -> Report {
    let at = at.format(&Rfc3339).expect("format");
    Report::parse(verifier([
        "token".as_ref(),
        url.as_ref(),
        "--trust".as_ref(),
        root.as_os_str(),
        "--issuer".as_ref(),
        issuer.as_ref(),
        "--bundle".as_ref(),
        "online".as_ref(),
        "--status".as_ref(),
        "online".as_ref(),
        "--cache-dir".as_ref(),
        cache.as_os_str(),
        "--at".as_ref(),
        at.as_ref(),
        "--json".as_ref(),
    ]))
}

/// Every `len`-character piece of `s`.
fn pieces(s: &str, len: usize) -> Vec<&str> {
    (0..=s.len().saturating_sub(len))
        .map(|i| &s[i..i + len])
        .collect()
}

/// Asserts that no request in `run` carries the token (run.mjs checked URL, headers and body;
/// the URLs are checked again here), and that the browser only ever sent GETs.
#[track_caller]
fn assert_no_request_carries(run: &Run, token_fragment: &str) {
    let requests = run.requests();
    assert!(!requests.is_empty(), "no request observed:\n{}", run.out);
    let windows = pieces(token_fragment, 16);
    for r in &requests {
        let url = r["url"].as_str().unwrap_or_default();
        assert_eq!(
            r["method"], "GET",
            "the QR page made a non-GET request: {r}"
        );
        assert_eq!(r["post_length"], json!(0), "a request with a body: {r}");
        assert_ne!(r["carries_token"], json!(true), "{r}");
        assert!(!url.contains('#'), "a request URL with a fragment: {url}");
        if let Some(w) = windows.iter().find(|w| url.contains(**w)) {
            panic!("request {url} carries a piece of the token ({w})");
        }
    }
}

#[test]
fn the_verification_page_in_chromium() {
    let Some(browser) = browser() else {
        return;
    };

    let iport = free_port();
    let vport = free_port();
    let issuer_url = format!("http://127.0.0.1:{iport}");
    let vbase = format!("http://127.0.0.1:{vport}");
    let ws = Workspace::with_init_args(&["--public-url", &issuer_url]);
    // Republish within a second of a change, for a quick test (default 20 s, SPEC max 60 s).
    let config = ws.home.join("issuer.toml");
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace("status_poll_seconds = 20", "status_poll_seconds = 1");
    std::fs::write(&config, text).expect("config");

    let qr = ws.issue(&fixture("chan-tai-man.json"));
    let valid = ws.issue(&fixture("portuguese-name.json"));
    let revoked = ws.issue(&fixture("hkscs-name.json"));
    // Revoked, suspended and superseded before any server starts, so no cache anywhere holds
    // an older list.
    ws.revoke(&revoked.number, "test revocation");
    let suspended = ws.issue(&fixture("vietnamese-name.json"));
    ws.issuer(
        "suspend",
        [suspended.number.as_str(), "--reason", "enquiry"],
    )
    .assert_success();
    let superseded = ws.issue(&fixture("transfer-dsal.json"));
    let replacement = ws.file("replacement.pdf");
    ws.issuer(
        "reissue",
        [
            superseded.number.as_str(),
            "--reason",
            "name corrected",
            "--out",
            replacement.to_str().expect("utf-8 path"),
        ],
    )
    .assert_success();
    // Issued 100 days ago: past its validity now, with no clock injected anywhere.
    let long_ago = (OffsetDateTime::now_utc() - time::Duration::days(100))
        .format(&Rfc3339)
        .expect("format");
    let expired = ws.issue_with(&fixture("with-records.json"), &["--issued-at", &long_ago]);
    let trust = ws.export_trust();
    // A certificate from another (development) PKI: validly signed, not by the bureau's. Its
    // status URL points at a closed port.
    let foreign_ws = Workspace::with_init_args(&["--public-url", "http://127.0.0.1:9"]);
    let foreign = foreign_ws.issue(&fixture("chan-tai-man.json"));

    let mut cmd = bin_command("issuer");
    cmd.arg("serve")
        .arg("--home")
        .arg(&ws.home)
        .arg("--listen")
        .arg(format!("127.0.0.1:{iport}"));
    let _issuer = spawn_until_healthy(cmd, iport, "issuer serve");
    let mut cmd = bin_command("verifier");
    cmd.arg("serve")
        .arg("--trust")
        .arg(&trust.root)
        .arg("--issuer")
        .arg(&issuer_url)
        .arg("--listen")
        .arg(format!("127.0.0.1:{vport}"));
    let _verifier = spawn_until_healthy(cmd, vport, "verifier serve");

    // ---- a. PDF uploads give the CLI's verdicts.
    let valid_bytes = std::fs::read(&valid.pdf).expect("read");
    let tampered = ws.file("tampered.pdf");
    std::fs::write(
        &tampered,
        pdf::flip_byte(&valid_bytes, pdf::header_comment_byte(&valid_bytes), 0x01),
    )
    .expect("write");
    let malformed = ws.file("notes.txt");
    std::fs::write(&malformed, "This is a text file, not a certificate.\n").expect("write");

    let cases: [(&str, &Path, &str); 8] = [
        ("valid", &valid.pdf, "VALID"),
        ("expired", &expired.pdf, "EXPIRED"),
        ("revoked", &revoked.pdf, "REVOKED"),
        ("suspended", &suspended.pdf, "SUSPENDED"),
        ("superseded", &superseded.pdf, "SUPERSEDED"),
        ("tampered", &tampered, "INVALID_SIGNATURE"),
        ("malformed", &malformed, "MALFORMED"),
        ("untrusted", &foreign.pdf, "UNTRUSTED"),
    ];
    let mut steps = vec![json!({"open": "/verify"})];
    for (i, (name, file, expected)) in cases.iter().enumerate() {
        let cli = check_online(file, &trust.root, &ws.file(format!("cli-cache-{name}")));
        assert_eq!(
            cli.verdict(),
            *expected,
            "{name}: `verifier check --status online`:\n{cli}"
        );
        // The first by the file input, the second dropped on the drop zone, and so on.
        let how = if i % 2 == 0 { "upload" } else { "drop" };
        steps.push(json!({ how: file }));
        let mut expect = json!({"expect": cli.verdict()});
        if *name != "untrusted" {
            // Authenticated certificates show their fields; broken files show none.
            expect["fields"] = json!(!matches!(*name, "tampered" | "malformed"));
        }
        steps.push(expect);
    }
    let uploads = browser.run(&json!({"base": vbase, "steps": steps}), ws.dir());
    uploads.assert_ok();
    assert_eq!(
        uploads.verdicts(),
        cases.iter().map(|c| c.2).collect::<Vec<_>>(),
        "{}",
        uploads.out
    );
    let posts: Vec<Value> = uploads
        .requests()
        .into_iter()
        .filter(|r| r["method"] == "POST")
        .collect();
    assert_eq!(posts.len(), cases.len(), "one POST per file: {posts:?}");
    for (post, (name, file, _)) in posts.iter().zip(cases.iter()) {
        assert_eq!(
            post["url"],
            json!(format!("{vbase}/api/v1/verify")),
            "{name}"
        );
        let size = std::fs::metadata(file).expect("metadata").len();
        assert_eq!(
            post["post_length"],
            json!(size),
            "{name}: the whole file is sent"
        );
    }

    // ---- b. The QR landing page.
    let qr_bytes = std::fs::read(&qr.pdf).expect("read");
    let token = ccr_pki::pades::inspect(&qr_bytes, &ccr_pki::pdf::Limits::default())
        .expect("inspect")
        .token;
    let url = ccr_pki::token::to_url(&format!("{vbase}/verify"), &token);
    let fragment = url.split_once('#').expect("a fragment").1.to_owned();
    // run.mjs takes the token to watch for in base64url and also looks for its decimal form.
    let forbidden = URL_SAFE_NO_PAD.encode(&token);
    // SPEC §4: the fragment is the token in decimal digits.
    assert_eq!(fragment, decimal::encode(&token));
    let mut broken = token.clone();
    *broken.last_mut().expect("non-empty") ^= 0x01;
    let broken_fragment = decimal::encode(&broken);
    let truncated_fragment = decimal::encode(&token[..token.len() / 2]);
    let foreign_token = ccr_pki::pades::inspect(
        &std::fs::read(&foreign.pdf).expect("read"),
        &Default::default(),
    )
    .expect("inspect")
    .token;
    let foreign_fragment = decimal::encode(&foreign_token);

    let cli_cache = ws.file("cli-cache-token");
    let t0 = OffsetDateTime::now_utc();
    token_online(&url, &issuer_url, &trust.root, &cli_cache, t0).assert_verdict("VALID");

    let t0_secs = t0.unix_timestamp();
    // Past the list's 300 s ttl, for the copy fetched at t0 and for the one republished on the
    // revocation a few seconds later, yet well before either's exp (1 h).
    let later_by = 600;
    let later = t0_secs + later_by;
    let shown = ws.file("shown-valid");
    let go = ws.file("revoked");
    let (_, head) = http_get(iport, "/status/1", "").expect("status list");
    let etag = etag_of(&head);
    let scenario = json!({
        "base": vbase,
        "forbid": forbidden,
        "steps": [
            // expectation 0: the token as scanned, the clock at t0
            {"open": format!("/verify?now={t0_secs}#{fragment}")},
            {"expect": "VALID", "authoritative": true, "fields": true},
            {"signal": shown},
            {"wait_for": go},
            // 1: revoked meanwhile, but the page's copy is within its ttl
            {"recheck": true},
            {"expect": "VALID", "authoritative": true, "fields": true},
            // 2: the page's clock moved past the ttl, without a reload
            {"set_now": later},
            {"recheck": true},
            {"expect": "REVOKED", "authoritative": false, "fields": true},
            {"lang": "pt"},
            {"screenshot": ws.file("revoked-pt.png")},
            // 3: a fresh page at the device's clock
            {"open": format!("/verify#{fragment}")},
            {"expect": "REVOKED", "authoritative": true, "fields": true},
            // 4: a token whose signature is broken shows nothing it says
            {"open": format!("/verify#{broken_fragment}")},
            {"expect": "INVALID_SIGNATURE", "fields": false},
            // 5: half a token
            {"open": format!("/verify#{truncated_fragment}")},
            {"expect": "MALFORMED", "fields": false},
            // 6: a token signed by a key the verifier does not trust
            {"open": format!("/verify#{foreign_fragment}")},
            {"expect": "UNTRUSTED", "fields": false},
        ],
    });
    let mut running = browser.start(&scenario, ws.dir());
    running.wait_for_file(&shown);
    ws.revoke(&qr.number, "revoked while the page was open");
    wait_for_republish(iport, &etag);
    std::fs::write(&go, "go\n").expect("write");
    let qr_run = running.finish();
    qr_run.assert_ok();
    assert_eq!(
        qr_run.verdicts(),
        [
            "VALID",
            "VALID",
            "REVOKED",
            "REVOKED",
            "INVALID_SIGNATURE",
            "MALFORMED",
            "UNTRUSTED"
        ],
        "{}",
        qr_run.out
    );
    let first = qr_run.result(0);
    assert_eq!(first["fields"]["number"], json!(qr.number), "{first}");
    assert!(
        qr_run.result(2)["status_age"]
            .as_str()
            .is_some_and(|s| s.contains("as of")),
        "the stale list is shown \"as of\": {}",
        qr_run.result(2)
    );
    // The CLI agrees at the same instant.
    token_online(
        &url,
        &issuer_url,
        &trust.root,
        &cli_cache,
        t0 + time::Duration::seconds(later_by),
    )
    .assert_verdict("REVOKED");

    // The list was fetched whole, from the issuer, at exactly its URI: for the first check,
    // not for the re-check within the ttl, again once the page's clock passed the ttl, on the
    // fresh page, and not for a token whose signature fails.
    let list_uri = format!("{issuer_url}/status/1");
    let list_fetched_for: Vec<u64> = qr_run
        .requests()
        .iter()
        .filter(|r| r["url"].as_str().is_some_and(|u| u.contains("/status/")))
        .map(|r| {
            assert_eq!(r["url"], json!(list_uri), "{r}");
            r["expectation"].as_u64().expect("expectation")
        })
        .collect();
    assert_eq!(
        list_fetched_for,
        [0, 2, 3],
        "status list fetches by verdict: {}",
        qr_run.json["requests"]
    );

    // ---- c. No request carried the token.
    assert_no_request_carries(&qr_run, &fragment);
    let qr_requests = qr_run.requests();
    assert!(
        qr_requests.iter().all(|r| {
            let u = r["url"].as_str().unwrap_or_default();
            u.starts_with(&vbase) || u == list_uri
        }),
        "only the verifier and the issuer's status list were contacted: {qr_requests:?}"
    );
    // The detector finds the token where it is: in an uploaded PDF.
    let leak = browser.run(
        &json!({"base": vbase, "forbid": forbidden, "pdf": qr.pdf, "expect": "REVOKED"}),
        ws.dir(),
    );
    assert_eq!(leak.out.code, Some(1), "{}", leak.out);
    assert!(
        leak.requests()
            .iter()
            .any(|r| r["method"] == "POST" && r["carries_token"] == json!(true)),
        "the upload of the PDF (which embeds the token) is flagged: {}",
        leak.json["requests"]
    );
}
