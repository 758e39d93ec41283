//! Running the independent validators and reading what they say.
//!
//! Every function returns `None` when its tool is missing (and the test should return early),
//! unless `CCR_REQUIRE_ORACLES=1`, which turns a missing tool into a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use der::{Decode, DecodePem};
use x509_cert::Certificate;

use crate::{Out, oracle, python_with, run, unique, workspace_root};

/// pyHanko's one-line result for one signature: `<field>:<sha256 of signer>:<summary>`.
#[derive(Clone, Debug)]
pub struct PyHankoResult {
    /// The transcript.
    pub out: Out,
    /// The summary of each signature found (e.g. `INTACT:TRUSTED,…,EXTENDED_WITH_LTA_UPDATES`).
    pub summaries: Vec<String>,
}

impl PyHankoResult {
    fn parse(out: Out) -> Self {
        let summaries = out
            .stdout
            .lines()
            .filter_map(|line| {
                let mut parts = line.trim().splitn(3, ':');
                let _field = parts.next()?;
                let fingerprint = parts.next()?;
                let summary = parts.next()?;
                (fingerprint.len() == 64 && fingerprint.chars().all(|c| c.is_ascii_hexdigit()))
                    .then(|| summary.to_owned())
            })
            .collect();
        PyHankoResult { out, summaries }
    }

    /// The summary's comma-separated fields (of the one signature).
    #[track_caller]
    pub fn fields(&self) -> Vec<String> {
        assert_eq!(
            self.summaries.len(),
            1,
            "pyHanko should report exactly one signature:\n{}",
            self.out
        );
        self.summaries[0].split(',').map(str::to_owned).collect()
    }

    /// `INTACT:TRUSTED` with the signature time-stamp intact and trusted, only LTV (DSS) updates
    /// after the signature (or none), exit code 0.
    pub fn is_good(&self) -> bool {
        if !self.out.success() || self.summaries.len() != 1 {
            return false;
        }
        let fields: Vec<&str> = self.summaries[0].split(',').collect();
        fields.first() == Some(&"INTACT:TRUSTED")
            && fields
                .iter()
                .any(|f| f.starts_with("TIMESTAMP_TOKEN<INTACT:TRUSTED"))
            && (fields.contains(&"UNTOUCHED") || fields.contains(&"EXTENDED_WITH_LTA_UPDATES"))
            && !fields.contains(&"ILLEGAL_MODIFICATIONS")
    }

    /// A failure that pyHanko reports as such: a non-zero exit code and either no trusted intact
    /// summary or illegal modifications. (An empty output with exit 0 means "no signature found",
    /// which is not a rejection: see FIELD-NOTES.)
    pub fn rejects(&self) -> bool {
        let no_good_summary = self
            .summaries
            .iter()
            .all(|s| !s.starts_with("INTACT:TRUSTED") || s.contains("ILLEGAL_MODIFICATIONS"));
        !self.out.success()
            && no_good_summary
            && self.out.all_output().contains("Validation failed")
    }
}

/// `pyhanko sign validate --trust <root> --trust-replace --no-revocation-check <pdf>`.
pub fn pyhanko_validate(pdf: &Path, root: &Path) -> Option<PyHankoResult> {
    let exe = oracle("pyhanko")?;
    let out = run(Command::new(exe)
        .args(["sign", "validate", "--trust"])
        .arg(root)
        .args(["--trust-replace", "--no-revocation-check"])
        .arg(pdf));
    Some(PyHankoResult::parse(out))
}

/// `pyhanko sign adesverify --trust <root> --trust-replace <pdf>` (EN 319 102-1, uses the DSS).
pub fn pyhanko_adesverify(pdf: &Path, root: &Path) -> Option<PyHankoResult> {
    let exe = oracle("pyhanko")?;
    let out = run(Command::new(exe)
        .args(["sign", "adesverify", "--trust"])
        .arg(root)
        .arg("--trust-replace")
        .arg(pdf));
    Some(PyHankoResult::parse(out))
}

/// poppler's `pdfsig` with a throw-away NSS database trusting only `root`.
#[derive(Clone, Debug)]
pub struct PdfSig {
    /// The transcript.
    pub out: Out,
}

impl PdfSig {
    fn field(&self, label: &str) -> Option<String> {
        self.out.stdout.lines().find_map(|l| {
            let l = l.trim().trim_start_matches("- ");
            l.strip_prefix(label)
                .map(|rest| rest.trim_start_matches(':').trim().to_owned())
        })
    }

    /// The "Signature Validation:" value.
    pub fn signature_validation(&self) -> Option<String> {
        self.field("Signature Validation")
    }

    /// The "Certificate Validation:" value.
    pub fn certificate_validation(&self) -> Option<String> {
        self.field("Certificate Validation")
    }

    /// The "Signature Type:" value.
    pub fn signature_type(&self) -> Option<String> {
        self.field("Signature Type")
    }

    /// Number of `Signature #n:` blocks.
    pub fn signature_count(&self) -> usize {
        self.out
            .stdout
            .lines()
            .filter(|l| l.starts_with("Signature #"))
            .count()
    }
}

/// Runs `pdfsig -nssdir sql:<fresh db trusting only root> <pdf>`.
pub fn pdfsig(pdf: &Path, root: &Path, scratch: &Path) -> Option<PdfSig> {
    let pdfsig = oracle("pdfsig")?;
    let certutil = oracle("certutil")?;
    let db = scratch.join(format!("nssdb-{}", unique()));
    std::fs::create_dir_all(&db).expect("nss dir");
    let sql = format!("sql:{}", db.display());
    run(Command::new(&certutil).args(["-N", "-d", &sql, "--empty-password"])).assert_success();
    run(Command::new(&certutil)
        .args([
            "-A", "-d", &sql, "-n", "ccr-root", "-t", "C,C,C", "-a", "-i",
        ])
        .arg(root))
    .assert_success();
    let out = run(Command::new(pdfsig).args(["-nssdir", &sql]).arg(pdf));
    Some(PdfSig { out })
}

/// Writes `bytes` to a fresh file in `dir`.
pub fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(format!("{}-{name}", unique()));
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

/// `openssl cms -verify -binary -inform DER -in <cms> -content <signed> -CAfile <root> -purpose any`.
pub fn openssl_cms_verify(cms: &Path, signed: &Path, root: &Path) -> Option<Out> {
    let openssl = oracle("openssl")?;
    Some(run(Command::new(openssl)
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
        .arg(cms)
        .arg("-content")
        .arg(signed)
        .arg("-CAfile")
        .arg(root)
        .args(["-purpose", "any", "-out", "/dev/null"])))
}

/// `openssl ts -verify -in <tst> -token_in -data <data> -CAfile <root> -untrusted <untrusted>`.
pub fn openssl_ts_verify(tst: &Path, data: &Path, root: &Path, untrusted: &Path) -> Option<Out> {
    let openssl = oracle("openssl")?;
    Some(run(Command::new(openssl)
        .args(["ts", "-verify", "-in"])
        .arg(tst)
        .arg("-token_in")
        .arg("-data")
        .arg(data)
        .arg("-CAfile")
        .arg(root)
        .arg("-untrusted")
        .arg(untrusted)))
}

/// `qpdf --check <pdf>`.
pub fn qpdf_check(pdf: &Path) -> Option<Out> {
    let qpdf = oracle("qpdf")?;
    Some(run(Command::new(qpdf).arg("--check").arg(pdf)))
}

/// `pdftotext -enc UTF-8 <pdf> -` (layout order).
pub fn pdftotext(pdf: &Path) -> Option<Out> {
    let exe = oracle("pdftotext")?;
    Some(run(Command::new(exe)
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")))
}

/// Renders the pages at 150 dpi (`pdftoppm -r 150 -png`) and reads the QR codes of the last
/// one (`zbarimg`, QR codes only), where the QR code is (page 2 when records need it).
pub fn read_qr(pdf: &Path, scratch: &Path) -> Option<(Out, Out)> {
    let pdftoppm = oracle("pdftoppm")?;
    let zbarimg = oracle("zbarimg")?;
    let dir = scratch.join(format!("render-{}", unique()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    let render = run(Command::new(pdftoppm)
        .args(["-r", "150", "-png"])
        .arg(pdf)
        .arg(dir.join("page")));
    render.assert_success();
    // pdftoppm zero-pads page numbers to one width, so the names sort in page order.
    let last_page: PathBuf = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .max()
        .unwrap_or_else(|| panic!("pdftoppm wrote no page:\n{render}"));
    let scan = run(Command::new(zbarimg).args(QR_ONLY).arg(&last_page));
    Some((render, scan))
}

/// Renders the last page of `pdf` at `dpi` (`pdftoppm -r <dpi> -png`, the page with the QR
/// code) and returns the PNG's path.
pub fn render_last_page(pdf: &Path, dpi: u32, scratch: &Path) -> Option<PathBuf> {
    let pdftoppm = oracle("pdftoppm")?;
    let dir = scratch.join(format!("render-{dpi}-{}", unique()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    let render = run(Command::new(pdftoppm)
        .args(["-r", &dpi.to_string(), "-png"])
        .arg(pdf)
        .arg(dir.join("page")));
    render.assert_success();
    let last_page = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .max()
        .unwrap_or_else(|| panic!("pdftoppm wrote no page:\n{render}"));
    Some(last_page)
}

/// zbarimg's arguments: the raw text of QR codes only (at 100 dpi zbar can take a run of a
/// page's type for a one-dimensional barcode, which is not what these tests read).
const QR_ONLY: [&str; 4] = ["--raw", "-q", "-Sdisable", "-Sqrcode.enable"];

/// The texts of the QR codes `zbarimg` finds in `image` (empty when none).
pub fn zbarimg(image: &Path) -> Option<Vec<String>> {
    let exe = oracle("zbarimg")?;
    let out = run(Command::new(exe).args(QR_ONLY).arg(image));
    // zbarimg exits 4 when it finds no symbol.
    assert!(
        out.success() || out.code == Some(4),
        "zbarimg failed on {}:\n{out}",
        image.display()
    );
    Some(
        out.stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// `tests/oracles/qr_decoders.py`: zxing-cpp on the 150 and 100 dpi renders, OpenCV on the
/// 300 dpi one, and both on a simulated phone photo written to `photo` (its JSON answer).
pub fn python_qr_decoders(
    page150: &Path,
    page100: &Path,
    page300: &Path,
    photo: &Path,
) -> Option<serde_json::Value> {
    let python = crate::python_with(&["zxingcpp", "cv2", "numpy", "PIL"])?;
    let script = workspace_root().join("tests/oracles/qr_decoders.py");
    assert!(script.is_file(), "{} is missing", script.display());
    let out = run(Command::new(python)
        .arg(script)
        .args([page150, page100, page300, photo]));
    eprintln!("{}", out.stderr);
    assert!(out.success(), "qr_decoders.py failed:\n{out}");
    Some(
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("qr_decoders.py printed no JSON ({e}):\n{out}")),
    )
}

/// The certificates of a PEM bundle.
#[track_caller]
pub fn pem_certificates(path: &Path) -> Vec<Certificate> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut certs = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end_marker = "-----END CERTIFICATE-----";
        let end = rest[start..]
            .find(end_marker)
            .expect("an END CERTIFICATE line")
            + start
            + end_marker.len();
        let cert = Certificate::from_pem(&rest.as_bytes()[start..end])
            .unwrap_or_else(|e| panic!("bad certificate in {}: {e}", path.display()));
        certs.push(cert);
        rest = &rest[end..];
    }
    certs
}

/// A certificate's subject as an RFC 4514 string.
pub fn subject(cert: &Certificate) -> String {
    cert.tbs_certificate().subject().to_string()
}

/// The certificate of `bundle` whose subject contains `needle` (e.g. `"Token"`), as PEM.
#[track_caller]
pub fn bundle_certificate_pem(bundle: &Path, needle: &str) -> String {
    use der::EncodePem;
    let certs = pem_certificates(bundle);
    let cert = certs
        .iter()
        .find(|c| subject(c).contains(needle))
        .unwrap_or_else(|| {
            let subjects: Vec<String> = certs.iter().map(subject).collect();
            panic!(
                "no certificate with {needle:?} in its subject in {}: {subjects:?}",
                bundle.display()
            )
        });
    cert.to_pem(der::pem::LineEnding::LF).expect("PEM encoding")
}

/// Parses a DER certificate (for messages).
pub fn der_subject(der_bytes: &[u8]) -> Option<String> {
    Certificate::from_der(der_bytes).ok().map(|c| subject(&c))
}

/// Verifies a COSE_Sign1/CWT token (raw bytes in `token_file`) with the public key of the PEM
/// certificate `cert_pem`, in Python with `cwt` or `pycose`: prefers `tests/oracles/verify_cose.py`
/// when present, else a few lines of `pycose` + `cbor2` here. Returns the transcript; on success
/// stdout holds the claims as JSON (CBOR map keys as strings, byte strings as hex).
pub fn python_verify_cose(token_file: &Path, cert_pem: &Path) -> Option<Out> {
    let python = python_with(&["pycose", "cbor2", "cryptography"])?;
    let script = workspace_root().join("tests/oracles/verify_cose.py");
    if script.is_file() && std::env::var_os("CCR_INLINE_COSE_ORACLE").is_none() {
        return Some(run(Command::new(python)
            .arg(script)
            .arg(token_file)
            .arg(cert_pem)));
    }
    Some(run(Command::new(python)
        .args(["-c", INLINE_COSE_VERIFIER])
        .arg(token_file)
        .arg(cert_pem)))
}

/// Verifies a COSE_Sign1 (ES256) with pycose; prints the CWT claims as JSON.
const INLINE_COSE_VERIFIER: &str = r#"
import sys, json, cbor2
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.messages import Sign1Message
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.headers import Algorithm
from pycose.algorithms import Es256

raw = open(sys.argv[1], 'rb').read()
cert = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())
pub = cert.public_key()
assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == 'secp256r1', 'token key is not P-256'
nums = pub.public_numbers()
key = EC2Key(crv=P256, x=nums.x.to_bytes(32, 'big'), y=nums.y.to_bytes(32, 'big'))
obj = cbor2.loads(raw)
if isinstance(obj, cbor2.CBORTag):
    assert obj.tag == 18, f'unexpected CBOR tag {obj.tag}'
else:
    raw = cbor2.dumps(cbor2.CBORTag(18, obj))
msg = Sign1Message.decode(raw)
assert msg.phdr.get(Algorithm) in (Es256, -7), f'algorithm is {msg.phdr.get(Algorithm)!r}, not ES256'
msg.key = key
if not msg.verify_signature():
    print('signature INVALID', file=sys.stderr)
    sys.exit(1)
def plain(v):
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, cbor2.CBORTag):
        return {'tag': v.tag, 'value': plain(v.value)}
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
claims = cbor2.loads(msg.payload)
print('signature OK', file=sys.stderr)
print(json.dumps(plain(claims), ensure_ascii=False))
"#;

/// How [`pyhanko_extend`] extends a certificate PDF (`tests/oracles/pyhanko_ltv.py`).
#[derive(Clone, Copy, Debug)]
pub enum PyHankoExtension {
    /// What `pyhanko sign ltvfix` writes: a DSS update with `/VRI`.
    LtvFix,
    /// A document time-stamp by the bureau's TSA (its key from the home's `pki/`).
    BureauTimestamp,
    /// A document time-stamp by a throwaway CA and TSA of no one's PKI.
    ForeignTimestamp,
    /// One revision adding a DSS that also rotates the first page.
    DssAndPage,
}

/// Extends `pdf` into `out` with pyHanko, offline: the trust export's root and bundle, the
/// home's root CRL and the DSS already in the file are the validation data.
pub fn pyhanko_extend(
    how: PyHankoExtension,
    pdf: &Path,
    out: &Path,
    home: &Path,
    trust: &crate::Trust,
) -> Option<Out> {
    let python = python_with(&["pyhanko", "pyhanko_certvalidator", "cryptography"])?;
    let script = workspace_root().join("tests/oracles/pyhanko_ltv.py");
    let pki = home.join("pki");
    let mode = match how {
        PyHankoExtension::LtvFix => "ltvfix",
        PyHankoExtension::DssAndPage => "dss-and-page",
        PyHankoExtension::BureauTimestamp | PyHankoExtension::ForeignTimestamp => "timestamp",
    };
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg(mode)
        .arg(pdf)
        .arg(out)
        .arg("--root")
        .arg(&trust.root)
        .arg("--certs")
        .arg(&trust.bundle)
        .arg("--crl")
        .arg(pki.join("root.crl"));
    match how {
        PyHankoExtension::BureauTimestamp => {
            cmd.arg("--tsa-cert")
                .arg(pki.join("tsa.pem"))
                .arg("--tsa-key")
                .arg(pki.join("tsa.key.p8"));
        }
        PyHankoExtension::ForeignTimestamp => {
            cmd.arg("--throwaway-tsa");
        }
        PyHankoExtension::LtvFix | PyHankoExtension::DssAndPage => {}
    }
    Some(run(&mut cmd))
}
