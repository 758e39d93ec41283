//! Evidence bundles (SPEC §11): what a verification relied on, kept so that it can be
//! re-proved offline later (`verifier replay`). Format `ccr-evidence` version 1, a JSON
//! object described by `schemas/evidence-bundle.schema.json`.
//!
//! Threat model. A bundle is kept by the party that verified (a department clerk) and shown
//! later to someone who doubts the decision. A digest alone proves nothing to that person:
//! whoever alters a bundle can recompute it. What cannot be forged without the bureau's keys
//! are the signed parts, so replay re-verifies every one of them from scratch: the PDF's
//! signature and time-stamps, the token, and the status-list CWT, against the trust anchor
//! recorded (which the replayer may pin with `--trust`), at the recorded instant; the report
//! it gets must equal the recorded one field for field. The digest over the canonical
//! encoding then makes any other change (a byte of whitespace, the recorded report) visible:
//! the file must be exactly the canonical encoding of its content, and `bundle_sha256` the
//! SHA-256 of that encoding with the digest field empty. What a forger can still do is choose
//! a different trusted instant and re-run the verification honestly: the instant is the
//! verifier's claim, not a signed fact; it is bounded below by the status list's signed `iat`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use ccr_pki::chain::TrustRoot;
use ccr_pki::pdf::Limits;

use crate::check::{CheckContext, StatusInput, check_pdf};
use crate::report::Report;
use crate::status;

/// The format name.
pub const FORMAT: &str = "ccr-evidence";
/// The format version this verifier writes and reads.
pub const VERSION: u32 = 1;
/// Largest bundle read (the PDF, the status list and the report, base64).
pub const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// The bundle, in the order its fields are encoded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The instant the verification judged at (RFC 3339, UTC).
    pub trusted_instant: String,
    /// SHA-256 of the PDF, hex.
    pub pdf_sha256: String,
    /// The PDF, base64 (so the bundle replays without it).
    pub pdf: String,
    /// The trust anchor used (PEM).
    pub trust_root_pem: String,
    /// The exact status-list CWT used, base64, if any.
    pub status_list_cwt: Option<String>,
    /// Why no status list could be used, when a source was given but failed (a fetch error,
    /// a certificate too broken to name its list). The verifier's statement, like the instant;
    /// absent when a list was used or none was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_unavailable: Option<String>,
    /// The report the verification gave.
    pub report: serde_json::Value,
    /// SHA-256 (hex) of this bundle's canonical encoding with this field empty.
    pub bundle_sha256: String,
}

/// Why a bundle is refused.
#[derive(Debug, thiserror::Error)]
#[error("the evidence bundle is refused: {0}")]
pub struct Refused(pub String);

fn refused(m: impl Into<String>) -> Refused {
    Refused(m.into())
}

/// The canonical encoding: compact JSON in field order, then a newline.
fn encode(bundle: &Bundle) -> Result<Vec<u8>, Refused> {
    let mut out = serde_json::to_vec(bundle).map_err(|e| refused(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

fn digest_of(bundle: &Bundle) -> Result<String, Refused> {
    let mut unsealed = bundle.clone();
    unsealed.bundle_sha256 = String::new();
    Ok(hex::encode(Sha256::digest(encode(&unsealed)?)))
}

/// Sets `bundle_sha256` and returns the canonical encoding. Anyone can do this: it is what a
/// forger would do too, which is why replay re-verifies the signed parts.
pub fn seal(bundle: &mut Bundle) -> Result<Vec<u8>, Refused> {
    bundle.bundle_sha256 = digest_of(bundle)?;
    encode(bundle)
}

/// The status information a verification relied on, as recorded.
#[derive(Debug, Clone, Copy)]
pub enum StatusUsed<'a> {
    /// No status source was given.
    None,
    /// A source was given but no list could be used, for this reason.
    Unavailable(&'a str),
    /// This exact signed list (CWT bytes) was used.
    List(&'a [u8]),
}

/// Makes the bundle of a verification that judged `pdf` with `root_pem` and `status` at
/// `at` and gave `report`.
pub fn write(
    pdf: &[u8],
    root_pem: &[u8],
    status: StatusUsed<'_>,
    at: OffsetDateTime,
    report: &Report,
) -> Result<Vec<u8>, Refused> {
    let (status_cwt, status_unavailable) = match status {
        StatusUsed::None => (None, None),
        StatusUsed::Unavailable(why) => (None, Some(why.to_owned())),
        StatusUsed::List(cwt) => (Some(cwt), None),
    };
    let mut bundle = Bundle {
        format: FORMAT.to_owned(),
        version: VERSION,
        trusted_instant: at
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|e| refused(e.to_string()))?,
        pdf_sha256: hex::encode(Sha256::digest(pdf)),
        pdf: B64.encode(pdf),
        trust_root_pem: String::from_utf8(root_pem.to_vec())
            .map_err(|_| refused("the trust anchor is not PEM text"))?,
        status_list_cwt: status_cwt.map(|b| B64.encode(b)),
        status_unavailable,
        report: serde_json::to_value(report).map_err(|e| refused(e.to_string()))?,
        bundle_sha256: String::new(),
    };
    seal(&mut bundle)
}

/// Re-proves a bundle: canonical and sealed, the PDF (and `pdf_beside`, if given) the one
/// recorded, the anchor `pinned_root` (if given) the one recorded, every signed part
/// re-verified at the recorded instant, and the same report. Returns the replayed report.
pub fn replay(
    bytes: &[u8],
    pdf_beside: Option<&[u8]>,
    pinned_root: Option<&[u8]>,
    limits: &Limits,
) -> Result<Report, Refused> {
    let bundle: Bundle =
        serde_json::from_slice(bytes).map_err(|e| refused(format!("not a bundle: {e}")))?;
    if bundle.format != FORMAT || bundle.version != VERSION {
        return Err(refused(format!(
            "format {:?} version {} is not {FORMAT} version {VERSION}",
            bundle.format, bundle.version
        )));
    }
    if encode(&bundle)? != bytes {
        return Err(refused(
            "the file is not the canonical encoding of its content",
        ));
    }
    if digest_of(&bundle)? != bundle.bundle_sha256 {
        return Err(refused("bundle_sha256 does not match the content"));
    }
    let pdf = B64
        .decode(&bundle.pdf)
        .map_err(|e| refused(format!("pdf: {e}")))?;
    if hex::encode(Sha256::digest(&pdf)) != bundle.pdf_sha256 {
        return Err(refused("pdf_sha256 is not the SHA-256 of the PDF"));
    }
    if let Some(beside) = pdf_beside
        && beside != pdf.as_slice()
    {
        return Err(refused("the PDF given is not the one the bundle records"));
    }
    if let Some(pinned) = pinned_root {
        let pinned = TrustRoot::from_pem(pinned).map_err(|e| refused(e.to_string()))?;
        let recorded = TrustRoot::from_pem(bundle.trust_root_pem.as_bytes())
            .map_err(|e| refused(e.to_string()))?;
        if pinned.der() != recorded.der() {
            return Err(refused("the recorded trust anchor is not the one given"));
        }
    }
    let root = TrustRoot::from_pem(bundle.trust_root_pem.as_bytes())
        .map_err(|e| refused(format!("trust_root_pem: {e}")))?;
    let at = OffsetDateTime::parse(&bundle.trusted_instant, &Rfc3339)
        .map_err(|e| refused(format!("trusted_instant: {e}")))?;
    let list = match &bundle.status_list_cwt {
        None => None,
        Some(b64) => {
            let cwt = B64
                .decode(b64)
                .map_err(|e| refused(format!("status_list_cwt: {e}")))?;
            let list = status::authenticate(&cwt, &root)
                .map_err(|e| refused(format!("status_list_cwt: {e}")))?;
            if at < list.issued_at {
                return Err(refused(
                    "the trusted instant is earlier than the status list's signed time",
                ));
            }
            Some(list)
        }
    };
    let status = match (&list, &bundle.status_unavailable) {
        (Some(list), None) => StatusInput::List(list),
        (None, Some(why)) => StatusInput::Unavailable(why),
        (None, None) => StatusInput::None,
        (Some(_), Some(_)) => {
            return Err(refused(
                "both a status list and a reason it was unavailable are recorded",
            ));
        }
    };
    let ctx = CheckContext {
        root: &root,
        status,
        at,
        limits,
        windows: &[],
    };
    let report = check_pdf(&pdf, &ctx);
    let replayed = serde_json::to_value(&report).map_err(|e| refused(e.to_string()))?;
    if replayed != bundle.report {
        return Err(refused(format!(
            "re-verification gives {:?}, not the recorded report",
            report.verdict
        )));
    }
    Ok(report)
}
