//! Issue 14, must-shows 1 and 4: the bureau's online keys in a PKCS#11 token (SoftHSM2).
//!
//! Each test makes its own SoftHSM2 configuration and token folder, and runs the issuer with
//! `SOFTHSM2_CONF` pointing at it; tokens are found by label. Without SoftHSM2 the tests print
//! `SKIP` and pass, unless `CCR_REQUIRE_ORACLES=1`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use ccr_tests::tools::{self, bundle_certificate_pem, python_verify_cose, read_qr, write_temp};
use ccr_tests::{Out, Workspace, bin_command, fixture, missing_oracle, oracle, run};

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
        let mut cmd = bin_command("issuer");
        cmd.env("SOFTHSM2_CONF", &self.conf)
            .current_dir(ws.dir())
            .args([
                "init",
                "--public-url",
                "https://ccr-test.example.mo",
                "--home",
            ])
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
    let out = run(Command::new(sqlite3)
        .arg(ws.home.join("registry.sqlite"))
        .arg("SELECT count(*) FROM certificates"));
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
