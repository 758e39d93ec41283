//! Issue 14, must-shows 1 and 4: the bureau's online keys in a PKCS#11 token (SoftHSM2).
//!
//! Each test makes its own SoftHSM2 configuration and token folder, and runs the issuer with
//! `SOFTHSM2_CONF` pointing at it; tokens are found by label. Without SoftHSM2 the tests print
//! `SKIP` and pass, unless `CCR_REQUIRE_ORACLES=1`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use ccr_tests::tools::{self, bundle_certificate_pem, python_verify_cose, read_qr, write_temp};
use std::time::{Duration, Instant};

use ccr_tests::api::{IssuerService, SECURITY, append_toml, holder_with_bir};
use ccr_tests::{Out, Workspace, bin_command, fixture, missing_oracle, oracle, run};
use serde_json::json;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const LABEL: &str = "ccr-online";
const PIN: &str = "4711";

/// A private SoftHSM2 with one initialised token.
struct Hsm {
    conf: PathBuf,
    pin_file: PathBuf,
    softhsm_util: PathBuf,
}

impl Hsm {
    fn new(ws: &Workspace) -> Option<Self> {
        let softhsm_util = oracle("softhsm2-util")?;
        if !Path::new(MODULE).is_file() {
            return missing_oracle(MODULE, "apt-get install softhsm2");
        }
        let tokens = ws.file("tokens");
        std::fs::create_dir(&tokens).expect("token dir");
        let conf = ws.file("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("conf");
        let pin_file = ws.file("token.pin");
        write_pin(&pin_file, PIN);
        let hsm = Hsm {
            conf,
            pin_file,
            softhsm_util,
        };
        let out = run(hsm
            .command(&hsm.softhsm_util)
            .args(["--init-token", "--free", "--label", LABEL])
            .args(["--pin", PIN, "--so-pin", "0000"]));
        out.assert_success();
        Some(hsm)
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SOFTHSM2_CONF", &self.conf);
        cmd
    }

    /// `issuer <subcommand> --home <home> <args>` with this SoftHSM2.
    fn issuer<I, S>(&self, ws: &Workspace, subcommand: &str, args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = bin_command("issuer");
        cmd.env("SOFTHSM2_CONF", &self.conf)
            .current_dir(ws.dir())
            .arg(subcommand)
            .arg("--home")
            .arg(&ws.home)
            .args(args);
        run(&mut cmd)
    }

    /// An HSM-backed home: every online role's key generated in the token.
    fn init(&self, ws: &Workspace) {
        self.init_at(ws, "https://ccr-test.example.mo");
    }

    /// Like [`Hsm::init`], with the issuer's public URL.
    fn init_at(&self, ws: &Workspace, public_url: &str) {
        let mut cmd = bin_command("issuer");
        cmd.env("SOFTHSM2_CONF", &self.conf)
            .current_dir(ws.dir())
            .args(["init", "--public-url", public_url, "--home"])
            .arg(&ws.home)
            .args([
                "--pkcs11-module",
                MODULE,
                "--token-label",
                LABEL,
                "--pin-file",
            ])
            .arg(&self.pin_file);
        run(&mut cmd).assert_success();
    }

    fn issue(&self, ws: &Workspace, request: &str) -> (Out, PathBuf) {
        let pdf = ws.file(format!("{request}-{}.pdf", ccr_tests::unique()));
        let out = self.issuer(
            ws,
            "issue",
            [
                OsStr::new("--request"),
                fixture(request).as_os_str(),
                OsStr::new("--out"),
                pdf.as_os_str(),
            ],
        );
        (out, pdf)
    }
}

fn write_pin(path: &Path, pin: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("{pin}\n")).expect("pin");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// Every file under `dir` whose name says it holds a private key.
fn private_key_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(private_key_files(&path));
        } else if path
            .file_name()
            .and_then(OsStr::to_str)
            .is_some_and(|n| n.ends_with(".p8") || n.ends_with(".key"))
        {
            found.push(path);
        }
    }
    found
}

/// How many certificates the registry holds.
fn certificates_in_registry(ws: &Workspace) -> Option<i64> {
    let sqlite3 = oracle("sqlite3")?;
    let out = run(
        ccr_tests::sqlite3_on(&sqlite3, &ws.home.join("registry.sqlite"))
            .arg("SELECT count(*) FROM certificates"),
    );
    out.assert_success();
    Some(out.stdout.trim().parse().expect("a count"))
}

#[test]
fn every_online_role_signs_in_softhsm_and_the_oracles_accept_the_result() {
    let ws = Workspace::uninitialised();
    let Some(hsm) = Hsm::new(&ws) else { return };
    hsm.init(&ws);
    // No private key of an online role on disk; only the development root's, which
    // `issuer init` keeps in the home and marks as such.
    let keys = private_key_files(&ws.home);
    assert_eq!(
        keys,
        vec![ws.home.join("pki/root.key.p8")],
        "only the development root key may be a file"
    );
    let config = std::fs::read_to_string(ws.home.join("issuer.toml")).expect("config");
    for role in [
        "issuing-ca",
        "document-signer",
        "tsa",
        "token-signer",
        "transfer-signer",
    ] {
        assert!(
            config.contains(&format!("[keys.{role}]\nbackend = \"pkcs11\"")),
            "{role} is not configured for the token:\n{config}"
        );
    }

    let (out, pdf) = hsm.issue(&ws, "chan-tai-man.json");
    out.assert_success();
    let trust_dir = ws.file("trust");
    hsm.issuer(
        &ws,
        "export-trust",
        [OsStr::new("--out"), trust_dir.as_os_str()],
    )
    .assert_success();
    let root = trust_dir.join("root.pem");
    let status = trust_dir.join("status-1.cwt");

    // Our verifier.
    let mut check = bin_command("verifier");
    check
        .arg("check")
        .arg(&pdf)
        .arg("--trust")
        .arg(&root)
        .arg("--status")
        .arg(&status)
        .arg("--json");
    let verdict = run(&mut check);
    assert!(
        verdict.stdout.contains("\"verdict\":\"VALID\"")
            || verdict.stdout.contains("\"verdict\": \"VALID\""),
        "our verifier:\n{verdict}"
    );

    // pyHanko (AdES verification) and pdfsig.
    if let Some(result) = tools::pyhanko_adesverify(&pdf, &root) {
        assert!(
            result.is_good(),
            "pyHanko adesverify: {:?}\n{}",
            result.fields(),
            result.out
        );
    }
    if let Some(sig) = tools::pdfsig(&pdf, &root, ws.dir()) {
        assert_eq!(
            sig.signature_validation().as_deref(),
            Some("Signature is Valid."),
            "{}",
            sig.out
        );
        assert_eq!(
            sig.certificate_validation().as_deref(),
            Some("Certificate is Trusted."),
            "{}",
            sig.out
        );
    }

    // The QR token, signed in the token, verified by pycose against the token-signing
    // certificate.
    if let Some((_render, scan)) = read_qr(&pdf, ws.dir()) {
        scan.assert_success();
        let url = scan.stdout.trim().to_owned();
        let token_file = write_temp(ws.dir(), "token-url.txt", url.as_bytes());
        let cert = write_temp(
            ws.dir(),
            "token-signer.pem",
            bundle_certificate_pem(&trust_dir.join("bundle.pem"), "Token").as_bytes(),
        );
        if let Some(out) = python_verify_cose(&token_file, &cert) {
            assert!(out.success(), "pycose rejects the token:\n{out}");
        }
    }
}

/// Must-show 4: each fault is a clear error, issues nothing, and never falls back to a file
/// key; once the fault is fixed, issuance works again.
#[test]
fn token_faults_are_clear_errors_that_issue_nothing() {
    let ws = Workspace::uninitialised();
    let Some(hsm) = Hsm::new(&ws) else { return };
    hsm.init(&ws);
    let (out, _) = hsm.issue(&ws, "chan-tai-man.json");
    out.assert_success();
    let Some(before) = certificates_in_registry(&ws) else {
        return;
    };
    assert_eq!(before, 1);
    let config_path = ws.home.join("issuer.toml");
    let config = std::fs::read_to_string(&config_path).expect("config");

    let expect_failure = |what: &str, needle: &str| {
        let (out, pdf) = hsm.issue(&ws, "chan-tai-man.json");
        assert!(!out.success(), "{what}: issuance succeeded:\n{out}");
        assert!(
            out.stderr.contains(needle),
            "{what}: expected {needle:?} in:\n{out}"
        );
        assert!(!pdf.exists(), "{what}: a PDF was written");
        assert_eq!(
            certificates_in_registry(&ws),
            Some(before),
            "{what}: the registry changed"
        );
        assert_eq!(
            private_key_files(&ws.home),
            vec![ws.home.join("pki/root.key.p8")],
            "{what}: a key file appeared"
        );
    };

    write_pin(&hsm.pin_file, "0000");
    expect_failure("wrong PIN", "refused the PIN");
    write_pin(&hsm.pin_file, PIN);

    std::fs::write(&config_path, config.replace(LABEL, "no-such-token")).expect("config");
    expect_failure(
        "missing token",
        "no PKCS#11 token labelled \"no-such-token\"",
    );

    std::fs::write(
        &config_path,
        config.replace(MODULE, "/nonexistent/libpkcs11.so"),
    )
    .expect("config");
    expect_failure("missing module", "cannot be loaded");
    std::fs::write(&config_path, &config).expect("config");

    // The document signer's key deleted from the token: "no key", not a file key.
    let Some(tool) = oracle("pkcs11-tool") else {
        return;
    };
    let cert = ccr_tests::tools::pem_certificates(&ws.home.join("pki/document-signer.pem"));
    let spki =
        der::Encode::to_der(cert[0].tbs_certificate().subject_public_key_info()).expect("spki");
    let key_id = hex::encode(ccr_pki::signer::key_id_of_spki(&spki).expect("key id"));
    let pkcs11_tool = |args: &[&str]| {
        run(hsm
            .command(&tool)
            .args([
                "--module",
                MODULE,
                "--token-label",
                LABEL,
                "--login",
                "--pin",
                PIN,
            ])
            .args(args))
        .assert_success();
    };

    // A second key given the same id: refused, neither key is picked.
    pkcs11_tool(&[
        "--keypairgen",
        "--key-type",
        "EC:prime256v1",
        "--id",
        &key_id,
    ]);
    expect_failure("two keys with one id", "refusing to choose one");
    // pkcs11-tool deletes one object per call: both keys go.
    for _ in 0..2 {
        pkcs11_tool(&["--delete-object", "--type", "privkey", "--id", &key_id]);
    }
    expect_failure(
        "key not found",
        &format!("holds no private key with id {key_id}"),
    );
}

/// Runs `sql` on the home's SQLite registry with the sqlite3 command.
fn registry(home: &Path, sql: &str) -> Option<String> {
    let sqlite3 = oracle("sqlite3")?;
    let out = run(ccr_tests::sqlite3_on(&sqlite3, &home.join("registry.sqlite")).arg(sql));
    out.assert_success();
    Some(out.stdout.trim().to_owned())
}

#[track_caller]
fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Must-show 4's last fault: the token goes away while `issuer serve` works through a batch.
/// The jobs it cannot sign fail with the token named and wait (transient, retried with
/// backoff, the reserved number kept); no certificate is half issued and no file key
/// appears. SoftHSM2 does not come back inside a process that saw its token go, so once the
/// token folder is back the service is restarted, as an operator would after an HSM outage:
/// every job then completes, numbers without gaps, every PDF VALID and signed in the token.
#[test]
fn the_token_vanishing_mid_batch_issues_nothing_half_and_every_job_completes_after() {
    let ws = Workspace::uninitialised();
    let Some(hsm) = Hsm::new(&ws) else { return };
    let Some(_) = oracle("sqlite3") else { return };
    let port = ccr_tests::free_port();
    let base = format!("http://127.0.0.1:{port}");
    hsm.init_at(&ws, &base);
    append_toml(
        &ws.home,
        "[application]\nissuance_workers = 1\nissuance_backoff_seconds = 1\n\
         issuance_max_attempts = 100\nissuance_lease_seconds = 5\n",
    );
    let home = ws.home.clone();
    let tokens = ws.file("tokens");
    let conf = hsm.conf.to_str().expect("utf-8").to_owned();
    let signer_before = std::fs::read(home.join("pki/document-signer.pem")).expect("cert");
    // Each job holds its reservation 1.5 s before signing, so the token can go mid-batch.
    let mut svc = IssuerService::start_on(
        ws,
        port,
        None,
        &[
            ("SOFTHSM2_CONF", conf.as_str()),
            (ccr_issuer::issuance::jobs::FAULT_PAUSE_ENV, "1500"),
        ],
    );
    let security = svc.staff_token(SECURITY);
    let subject = "7777777";
    let applicant = svc.applicant_token(subject);
    let created = svc.api.post(
        "/api/v1/applications",
        Some(&applicant),
        &json!({ "usage": "EMPLOYMENT", "format": "electronic", "quantity": 6, "express": false }),
    );
    created.expect(201);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    svc.confirm(
        &applicant,
        &id,
        &holder_with_bir("CHAN TAI MAN", &format!("{subject}(8)")),
        "6123 4567",
    )
    .expect(200);
    svc.pass_otp(&security, &applicant, &id, "+85361234567")
        .expect(200);
    svc.pass_face(&applicant, &id).expect(200);
    svc.pay_in_sandbox(&applicant, &id);
    svc.forward(&id);
    svc.decide(&id, &json!({ "approve": true })).expect(200);

    let count = |sql: &str| -> i64 {
        registry(&home, sql)
            .expect("sqlite3")
            .parse()
            .expect("a count")
    };
    wait_until("two certificates", Duration::from_secs(60), || {
        count("SELECT COUNT(*) FROM certificates") >= 2
    });
    // The only private keys on disk: the development root's (and the payment sandbox's
    // callback secret); every online role's key is in the token.
    let key_files = private_key_files(&home);
    assert_eq!(
        key_files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "p8"))
            .collect::<Vec<_>>(),
        vec![&home.join("pki/root.key.p8")]
    );
    let away = ws_sibling(&tokens, "tokens.away");
    std::fs::rename(&tokens, &away).expect("the token goes");
    wait_until(
        "a job failing on the missing token",
        Duration::from_secs(30),
        || {
            count("SELECT COUNT(*) FROM issuance_jobs WHERE state = 'queued' AND attempts >= 2")
                >= 1
        },
    );
    let issued_while_away = count("SELECT COUNT(*) FROM certificates");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        count("SELECT COUNT(*) FROM certificates"),
        issued_while_away,
        "a certificate was issued without the token"
    );
    assert!(
        issued_while_away < 6,
        "the whole batch finished before the token went"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM issuance_jobs WHERE state = 'failed'"),
        0,
        "a job was given up while the token was away"
    );
    let errors = registry(
        &home,
        "SELECT last_error FROM issuance_jobs WHERE state = 'queued' AND last_error IS NOT NULL",
    )
    .expect("sqlite3");
    assert!(
        errors.contains(LABEL),
        "the jobs' errors do not name the token:\n{errors}"
    );
    assert!(svc.log().contains("will retry"), "{}", svc.log());
    assert_eq!(private_key_files(&home), key_files, "a key file appeared");
    // No half-issued certificate: the numbers held by waiting jobs are reserved, not issued,
    // and each recorded certificate is a whole signed PDF.
    assert_eq!(
        count("SELECT COUNT(*) FROM certificates WHERE substr(pdf, 1, 5) <> CAST('%PDF-' AS BLOB)"),
        0
    );

    std::fs::rename(&away, &tokens).expect("the token returns");
    svc.env
        .retain(|(k, _)| k != ccr_issuer::issuance::jobs::FAULT_PAUSE_ENV);
    svc.restart();
    let pdf = svc.issued_pdf(&applicant, &id);
    assert!(pdf.starts_with(b"%PDF-"));
    let numbers =
        registry(&home, "SELECT number FROM certificates ORDER BY number").expect("sqlite3");
    let numbers: Vec<&str> = numbers.lines().collect();
    let year = &numbers[0][3..7];
    let expected: Vec<String> = (1..=6).map(|n| format!("CR-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected, "no number skipped or issued twice");
    assert_eq!(
        std::fs::read(home.join("pki/document-signer.pem")).expect("cert"),
        signer_before,
        "the document signer changed"
    );
    let list = svc.api.get(
        &format!("/api/v1/applications/{id}/certificates"),
        Some(&applicant),
    );
    list.expect(200);
    let trust_dir = svc.ws.file("trust");
    run(bin_command("issuer")
        .env("SOFTHSM2_CONF", &conf)
        .args(["export-trust", "--home"])
        .arg(&home)
        .arg("--out")
        .arg(&trust_dir))
    .assert_success();
    let status = std::fs::read_dir(&trust_dir)
        .expect("trust dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "cwt"))
        .expect("a status list");
    for certificate in list.json().as_array().expect("certificates") {
        let download = certificate["download"].as_str().expect("download");
        let bytes = svc.api.get(download, Some(&applicant));
        bytes.expect(200);
        let file = svc.ws.file(format!("{}.pdf", ccr_tests::unique()));
        std::fs::write(&file, &bytes.body).expect("write");
        ccr_tests::check(&file, &trust_dir.join("root.pem"), Some(&status), None)
            .assert_verdict("VALID");
    }
    assert_eq!(private_key_files(&home), key_files, "a key file appeared");
}

fn ws_sibling(path: &Path, name: &str) -> PathBuf {
    path.parent().expect("parent").join(name)
}
