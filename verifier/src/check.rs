//! Verification of a certificate PDF (SPEC §5): structure, CMS, time stamp, chains, token,
//! validity and status, each recorded as a check; the verdict follows their precedence.

use time::OffsetDateTime;

use ccr_pki::bundle::KeyWindow;
use ccr_pki::cades::{self, Expect};
use ccr_pki::chain::{CertPurpose, ChainError, TrustRoot};
use ccr_pki::document::CertificateData;
use ccr_pki::pades::{self, InspectError, SignedDocument};
use ccr_pki::pdf::Limits;
use ccr_pki::status_list::SignedStatusList;
use ccr_pki::token::{self, TokenClaims};
use ccr_pki::tsp;
use ccr_pki::validity::{self, Currency};

use crate::report::{Checks, Disclosed, Report, SignatureFacts, Verdict};
use crate::status;

/// What a verification needs besides the file.
#[derive(Debug)]
pub struct CheckContext<'a> {
    /// The one trust anchor.
    pub root: &'a TrustRoot,
    /// The status information at hand.
    pub status: StatusInput<'a>,
    /// The instant to judge at.
    pub at: OffsetDateTime,
    /// Parsing limits.
    pub limits: &'a Limits,
    /// The bureau's key windows, from an authenticated trust bundle (SPEC §10); empty when
    /// none is at hand, and then keys are judged by their certificates alone.
    pub windows: &'a [KeyWindow],
}

/// What the verifier knows of the certificate's status list.
#[derive(Debug, Clone, Copy)]
pub enum StatusInput<'a> {
    /// No status source was given.
    None,
    /// A source was given but could not be used (the reason is reported).
    Unavailable(&'a str),
    /// An authenticated list.
    List(&'a SignedStatusList),
}

const AFTER_STRUCTURE: [&str; 6] = [
    "cms_signature",
    "timestamp",
    "signer_chain",
    "token",
    "validity",
    "status",
];

/// Verifies a certificate PDF and returns the report.
pub fn check_pdf(bytes: &[u8], ctx: &CheckContext<'_>) -> Report {
    let mut checks = Checks::default();
    let mut report = Report {
        verdict: Verdict::Malformed,
        checks: Vec::new(),
        certificate: None,
        signature: None,
        status: None,
        checked_at: ctx.at,
    };
    run(bytes, ctx, &mut checks, &mut report);
    report.verdict = checks.verdict();
    report.checks = checks.into_vec();
    report
}

/// The status list URI a certificate PDF names, taken only from a token that authenticates
/// (its signer chains to the configured root): a forged file never makes the verifier fetch
/// a URL it chose (issue 9). The PDF is checked once without status to find out.
pub fn authenticated_status_uri(bytes: &[u8], ctx: &CheckContext<'_>) -> Option<String> {
    let unjudged = CheckContext {
        root: ctx.root,
        status: StatusInput::None,
        at: ctx.at,
        limits: ctx.limits,
        windows: ctx.windows,
    };
    // The report discloses the certificate only once its token is authenticated.
    check_pdf(bytes, &unjudged).certificate?;
    let doc = pades::inspect(bytes, ctx.limits).ok()?;
    let token = token::parse(&doc.token).ok()?;
    Some(token.claims_unverified().status.uri.clone())
}

/// The status list URI a bare token names, taken only once the token authenticates against
/// `bundle` (see [`authenticated_status_uri`]).
pub fn authenticated_token_status_uri(
    token_bytes: &[u8],
    bundle: &[Vec<u8>],
    root: &TrustRoot,
    windows: &[KeyWindow],
) -> Option<String> {
    let pool: Vec<&[u8]> = bundle.iter().map(Vec::as_slice).collect();
    let parsed = token::parse(token_bytes).ok()?;
    verify_token(
        &parsed,
        &pool,
        None,
        root,
        None,
        TokenAuth::OwnSignature,
        windows,
    )
    .ok()
    .map(|claims| claims.status.uri)
}

fn chain_verdict(e: &ChainError) -> Verdict {
    match e {
        ChainError::Malformed(_) => Verdict::InvalidSignature,
        _ => Verdict::Untrusted,
    }
}

fn run(bytes: &[u8], ctx: &CheckContext<'_>, checks: &mut Checks, report: &mut Report) {
    let doc: SignedDocument = match pades::inspect(bytes, ctx.limits) {
        Ok(doc) => {
            checks.pass("file", format!("{} bytes read within limits", bytes.len()));
            checks.pass("signature_structure", structure_detail(&doc));
            doc
        }
        Err(InspectError::Malformed(e)) => {
            checks.fail("file", Verdict::Malformed, e.to_string());
            checks.skip(&["signature_structure"], "the file could not be read");
            checks.skip(&AFTER_STRUCTURE, "the file could not be read");
            return;
        }
        Err(e) => {
            checks.pass("file", format!("{} bytes read within limits", bytes.len()));
            // A policy failure is never INVALID_SIGNATURE by itself: only a missing or
            // unreadable signature of the bureau is (SPEC §5; the report schema says so).
            let verdict = match e {
                InspectError::Modified(_) => Verdict::Modified,
                InspectError::MissingData(_) => Verdict::Mismatch,
                InspectError::Malformed(_) | InspectError::Signature(_) => {
                    Verdict::InvalidSignature
                }
            };
            checks.fail("signature_structure", verdict, e.to_string());
            checks.skip(
                &AFTER_STRUCTURE,
                "the signature structure is not acceptable",
            );
            return;
        }
    };

    // The CMS signature and its attributes.
    let signed = match cades::verify(
        &doc.cms_der,
        Expect::Pades {
            content_digest: &doc.content_digest,
        },
    ) {
        Ok(signed) => {
            checks.pass(
                "cms_signature",
                "CMS signature, message digest and signing-certificate-v2 verify; no signing-time",
            );
            signed
        }
        Err(e) => {
            checks.fail("cms_signature", Verdict::InvalidSignature, e.to_string());
            checks.skip(&AFTER_STRUCTURE[1..], "the CMS signature does not verify");
            return;
        }
    };
    let signer_subject = signed
        .signer_certificate
        .tbs_certificate()
        .subject()
        .to_string();
    report.signature = Some(SignatureFacts {
        signer: signer_subject,
        claimed_signing_time: doc.claimed_signing_time.clone(),
        timestamp_time: None,
    });

    // Intermediates: everything the document carries.
    let mut pool: Vec<Vec<u8>> = doc.dss_certificates.clone();
    for c in &signed.certificates {
        if let Ok(der) = ccr_pki::chain::certificate_der(c) {
            pool.push(der);
        }
    }
    let intermediates: Vec<&[u8]> = pool.iter().map(Vec::as_slice).collect();
    let crls: Vec<&[u8]> = doc.dss_crls.iter().map(Vec::as_slice).collect();

    // The signature time stamp (B-T).
    let ts_time = match signed.timestamp_token.as_deref() {
        None => {
            checks.fail(
                "timestamp",
                Verdict::InvalidSignature,
                "the signature has no time stamp (PAdES B-T is required)",
            );
            None
        }
        Some(token) => match tsp::verify_token(token, &signed.signature_value) {
            Err(e) => {
                checks.fail("timestamp", Verdict::InvalidSignature, e.to_string());
                None
            }
            Ok(ts) => {
                let tsa_der =
                    ccr_pki::chain::certificate_der(&ts.tsa_certificate).unwrap_or_default();
                match ctx.root.verify(
                    &tsa_der,
                    &intermediates,
                    CertPurpose::TimeStamping,
                    ts.time,
                    Some(&crls),
                ) {
                    Ok(()) => {
                        match judge_key_window(ctx.windows, &intermediates, &tsa_der, ts.time) {
                            Ok(()) => checks.pass(
                                "timestamp",
                                format!("time-stamped at {} by a TSA of the bureau's PKI", ts.time),
                            ),
                            Err(why) => checks.fail("timestamp", Verdict::Untrusted, why),
                        }
                        Some(ts.time)
                    }
                    Err(e) => {
                        checks.fail(
                            "timestamp",
                            chain_verdict(&e),
                            format!("the time stamp's TSA: {e}"),
                        );
                        Some(ts.time)
                    }
                }
            }
        },
    };
    if let Some(sig) = report.signature.as_mut() {
        sig.timestamp_time = ts_time;
    }
    let Some(signed_at) = ts_time else {
        checks.skip(&AFTER_STRUCTURE[2..], "no trusted signing time");
        return;
    };

    for stamp in &doc.document_timestamps {
        judge_document_timestamp(stamp, ctx.root, &pool, &crls, checks);
    }

    // The signer's chain at the time-stamp time, with the embedded CRLs.
    let signer_der =
        ccr_pki::chain::certificate_der(&signed.signer_certificate).unwrap_or_default();
    if crls.is_empty() {
        checks.fail(
            "signer_chain",
            Verdict::Untrusted,
            "no revocation data is embedded (PAdES B-LT is required)",
        );
    } else {
        match ctx.root.verify(&signer_der, &intermediates, CertPurpose::DocumentSigning, signed_at, Some(&crls)) {
            Ok(()) => match judge_key_window(ctx.windows, &intermediates, &signer_der, signed_at) {
                Ok(()) => checks.pass(
                    "signer_chain",
                    "the document signer chains to the configured root, has documentSigning and nonRepudiation, and was not revoked when time-stamped",
                ),
                Err(why) => checks.fail("signer_chain", Verdict::Untrusted, why),
            },
            Err(e) => checks.fail("signer_chain", chain_verdict(&e), e.to_string()),
        }
    }

    // The embedded token: authentic, and bound to the signed certificate data.
    let data = match CertificateData::from_embedded_json(&doc.certificate_json) {
        Ok(data) => data,
        Err(e) => {
            checks.fail(
                "token",
                Verdict::Mismatch,
                format!("the embedded certificate data is unreadable: {e}"),
            );
            checks.skip(&AFTER_STRUCTURE[4..], "no certificate data");
            return;
        }
    };
    let parsed = match token::parse(&doc.token) {
        Ok(parsed) => parsed,
        Err(e) => {
            checks.fail(
                "token",
                Verdict::Mismatch,
                format!("the embedded token is unreadable: {e}"),
            );
            checks.skip(&AFTER_STRUCTURE[4..], "no readable token");
            return;
        }
    };
    let claims = match verify_token(
        &parsed,
        &intermediates,
        Some(&crls),
        ctx.root,
        Some(signed_at),
        TokenAuth::CoveredByDocumentSignature,
        ctx.windows,
    ) {
        Ok(claims) => claims,
        Err((verdict, why)) => {
            checks.fail("token", verdict, why);
            checks.skip(&AFTER_STRUCTURE[4..], "the token is not authentic");
            return;
        }
    };
    let disagreements = claims.disagreements(&data, &doc.certificate_json);
    if disagreements.is_empty() {
        checks.pass("token", "the QR token, covered by the document signature, names the bureau's token signer and matches the signed certificate data");
    } else {
        checks.fail(
            "token",
            Verdict::Mismatch,
            format!(
                "token and document disagree on: {}",
                disagreements.join(", ")
            ),
        );
    }

    judge_currency_and_status(&claims, ctx, checks, report);
}

/// What the structure check says: the signature, and what later revisions add (SPEC §3).
fn structure_detail(doc: &SignedDocument) -> String {
    let stamps = doc.document_timestamps.len();
    match doc.revisions_after_signature {
        0 => "one PAdES signature covering the whole file".to_owned(),
        n => format!(
            "one PAdES signature; {n} later revision(s): {} adding only validation data (DSS), {stamps} document time-stamp(s)",
            n - stamps
        ),
    }
}

/// A document time-stamp (B-LTA) counts when its token verifies over its ByteRange and its TSA
/// chains to the root with timeStamping at its time; any other is reported as not counted
/// (outcome `skip`): it changes nothing the bureau signed, so it never lowers the verdict.
fn judge_document_timestamp(
    stamp: &pades::DocumentTimestamp,
    root: &TrustRoot,
    pool: &[Vec<u8>],
    crls: &[&[u8]],
    checks: &mut Checks,
) {
    let revision = stamp.revision;
    let verified = match tsp::verify_token_over_digest(&stamp.token_der, &stamp.covered_digest) {
        Ok(ts) => ts,
        Err(e) => {
            checks.skip(
                &["document_timestamp"],
                &format!("revision {revision}: the document time-stamp does not verify ({e}); not counted"),
            );
            return;
        }
    };
    let tsa = verified
        .tsa_certificate
        .tbs_certificate()
        .subject()
        .to_string();
    let mut intermediates: Vec<Vec<u8>> = pool.to_vec();
    intermediates.extend(
        verified
            .certificates
            .iter()
            .filter_map(|c| ccr_pki::chain::certificate_der(c).ok()),
    );
    let intermediates: Vec<&[u8]> = intermediates.iter().map(Vec::as_slice).collect();
    let tsa_der = ccr_pki::chain::certificate_der(&verified.tsa_certificate).unwrap_or_default();
    match root.verify(
        &tsa_der,
        &intermediates,
        CertPurpose::TimeStamping,
        verified.time,
        Some(crls),
    ) {
        Ok(()) => checks.pass(
            "document_timestamp",
            format!(
                "revision {revision}: document time-stamp at {} over the file up to it, by the bureau's TSA ({tsa}); counted",
                verified.time
            ),
        ),
        Err(e) => checks.skip(
            &["document_timestamp"],
            &format!(
                "revision {revision}: document time-stamp at {} by {tsa}, not the bureau's PKI ({e}); reported, not counted",
                verified.time
            ),
        ),
    }
}

/// The checks shared by documents and bare tokens: currency (SPEC §2) and status (§5).
fn judge_currency_and_status(
    claims: &TokenClaims,
    ctx: &CheckContext<'_>,
    checks: &mut Checks,
    report: &mut Report,
) {
    let days = validity::days_remaining(claims.expires_at, ctx.at);
    match validity::currency(claims.issued_at, claims.expires_at, ctx.at) {
        Currency::Current => checks.pass(
            "validity",
            format!(
                "current until {} ({days} day(s) left)",
                validity::in_macao(claims.expires_at)
            ),
        ),
        Currency::Expired => checks.fail(
            "validity",
            Verdict::Expired,
            format!(
                "expired: valid until {}",
                validity::in_macao(claims.expires_at)
            ),
        ),
        Currency::NotYetValid => checks.fail(
            "validity",
            Verdict::NotYetValid,
            format!(
                "issued at {}, after the time checked",
                validity::in_macao(claims.issued_at)
            ),
        ),
    }
    report.certificate = Some(disclosed(claims, days));
    match ctx.status {
        StatusInput::None => checks.fail(
            "status",
            Verdict::StatusUnknown,
            "no status list was given: the status is unknown",
        ),
        StatusInput::Unavailable(why) => checks.fail(
            "status",
            Verdict::StatusUnknown,
            format!("no usable status list ({why}): the status is unknown"),
        ),
        StatusInput::List(list) => match status_signer_refused(ctx.windows, list) {
            Some(why) => checks.fail(
                "status",
                Verdict::StatusUnknown,
                format!("the status list cannot be used ({why}): the status is unknown"),
            ),
            None => report.status = Some(status::judge(list, &claims.status, ctx.at, checks)),
        },
    }
}

/// Verifies a bare QR token (the paper-certificate path): its signer must be in `bundle`
/// (DER certificates) and chain to the root; then currency and status as for a document.
pub fn check_token(token_bytes: &[u8], bundle: &[Vec<u8>], ctx: &CheckContext<'_>) -> Report {
    let mut checks = Checks::default();
    let mut report = Report {
        verdict: Verdict::Malformed,
        checks: Vec::new(),
        certificate: None,
        signature: None,
        status: None,
        checked_at: ctx.at,
    };
    let pool: Vec<&[u8]> = bundle.iter().map(Vec::as_slice).collect();
    let verified = token::parse(token_bytes)
        .map_err(|e| (Verdict::Malformed, format!("the token is unreadable: {e}")))
        .and_then(|parsed| {
            verify_token(
                &parsed,
                &pool,
                None,
                ctx.root,
                None,
                TokenAuth::OwnSignature,
                ctx.windows,
            )
        });
    match verified {
        Ok(claims) => {
            checks.pass(
                "token",
                "signed by the bureau's token signer, which chains to the configured root",
            );
            judge_currency_and_status(&claims, ctx, &mut checks, &mut report);
        }
        Err((verdict, why)) => {
            checks.fail("token", verdict, why);
            checks.skip(
                &["validity", "status"],
                "the token is not authentic: nothing it says is shown",
            );
        }
    }
    report.verdict = checks.verdict();
    report.checks = checks.into_vec();
    report
}

/// What authenticates a token's claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokenAuth {
    /// A bare token (from a QR code or a URL): nothing but its own COSE signature vouches for
    /// it, so that signature is checked.
    OwnSignature,
    /// The token inside a certificate PDF. Its bytes sit in the signed revision's `/PieceInfo`
    /// (`pades::inspect` reads them from that revision only and refuses later revisions that
    /// change anything but validation data), so the document signature, already verified
    /// with its chain to the root at the time-stamp time, covers every byte of it. A
    /// second ECDSA check would only re-authenticate what the bureau's document signer
    /// already signed: a forger who could make it fail would need the document signer's key,
    /// and then could re-sign anything. It is skipped (a third of a warm verification); the
    /// token signer named by the `kid` must still be among the document's certificates and
    /// chain to the root for token signing at the time-stamp time (a cached check), so a
    /// document whose printed QR code names a revoked or foreign token key is still refused.
    CoveredByDocumentSignature,
}

/// Authenticates a token with the token-signing certificate its `kid` names in `pool`.
fn verify_token(
    unverified: &token::UnverifiedToken,
    pool: &[&[u8]],
    crls: Option<&[&[u8]]>,
    root: &TrustRoot,
    at: Option<OffsetDateTime>,
    auth: TokenAuth,
    windows: &[KeyWindow],
) -> Result<TokenClaims, (Verdict, String)> {
    let kid = unverified.kid();
    let signer = pool
        .iter()
        .find(|der| token::kid_for_certificate(der) == Some(kid))
        .ok_or((
            Verdict::Untrusted,
            "the token's signing certificate is not among the certificates given".to_owned(),
        ))?;
    let claims = match auth {
        TokenAuth::CoveredByDocumentSignature => unverified.claims_unverified().clone(),
        TokenAuth::OwnSignature => {
            let cert = ccr_pki::hierarchy::parse_certificate(signer)
                .map_err(|e| (Verdict::InvalidSignature, e.to_string()))?;
            let spki = der::Encode::to_der(cert.tbs_certificate().subject_public_key_info())
                .map_err(|e| (Verdict::InvalidSignature, e.to_string()))?;
            // Signature first, so that the time the signer's chain is judged at (the token's
            // iat when no time stamp is at hand) is authenticated.
            unverified.verify(&spki).map_err(|e| {
                (
                    Verdict::InvalidSignature,
                    format!("the token signature does not verify: {e}"),
                )
            })?
        }
    };
    root.verify(
        signer,
        pool,
        CertPurpose::TokenSigning,
        at.unwrap_or(claims.issued_at),
        crls,
    )
    .map_err(|e| (chain_verdict(&e), format!("the token signer: {e}")))?;
    // A bare token's only time is its own `iat`, which whoever holds a stolen key chooses:
    // nothing under a compromised key is trusted. Inside a PDF, the time stamp (another key)
    // dates it.
    let judged = Windows::of(windows, pool, signer);
    match (auth, judged.as_ref().and_then(Windows::compromised_since)) {
        (TokenAuth::OwnSignature, Some(since)) => Err((
            Verdict::Untrusted,
            format!(
                "the token's signing key (or the issuing CA that certified it) was declared \
                 compromised as of {since}: a bare token under it cannot be dated, so none is \
                 trusted (the bureau has re-issued the certificates it signed)"
            ),
        )),
        _ => judged
            .map_or(Ok(()), |w| w.judge(at.unwrap_or(claims.issued_at)))
            .map_err(|why| (Verdict::Untrusted, format!("the token signer: {why}"))),
    }?;
    Ok(claims)
}

/// The trust bundle's windows for the key of the certificate `cert_der` and for the issuing
/// CA that certified it (found in `pool` by name: the chain check has already tied the two).
struct Windows<'w> {
    key_id: String,
    own: Option<&'w KeyWindow>,
    issuing_ca: Option<&'w KeyWindow>,
}

impl<'w> Windows<'w> {
    fn of(windows: &'w [KeyWindow], pool: &[&[u8]], cert_der: &[u8]) -> Option<Self> {
        if windows.is_empty() {
            return None;
        }
        let key_id_of = |cert: &x509_cert::Certificate| {
            let spki =
                der::Encode::to_der(cert.tbs_certificate().subject_public_key_info()).ok()?;
            Some(hex::encode(ccr_pki::signer::key_id_of_spki(&spki).ok()?))
        };
        let listed = |key_id: &str| windows.iter().find(|w| w.key_id == key_id);
        let cert = ccr_pki::hierarchy::parse_certificate(cert_der).ok()?;
        let key_id = key_id_of(&cert)?;
        let issuer = cert.tbs_certificate().issuer();
        let issuing_ca = pool
            .iter()
            .filter_map(|der| ccr_pki::hierarchy::parse_certificate(der).ok())
            .filter(|ca| ca.tbs_certificate().subject() == issuer)
            .find_map(|ca| listed(&key_id_of(&ca)?));
        Some(Self {
            own: listed(&key_id),
            key_id,
            issuing_ca,
        })
    }

    /// From when nothing the key signed is trusted: its own compromise, or its issuing CA's.
    fn compromised_since(&self) -> Option<OffsetDateTime> {
        let own = self.own.and_then(|w| w.compromised_since);
        let ca = self.issuing_ca.and_then(|w| w.compromised_since);
        own.into_iter().chain(ca).min()
    }

    /// Whether a signature made at `at` by the key is admitted. A key the windows do not list
    /// is judged by its certificate alone, unless its issuing CA was declared compromised: a
    /// stolen CA key certifies whatever key its thief likes, so under it only the bureau's
    /// listed keys are trusted, and only for what they signed before.
    fn judge(&self, at: OffsetDateTime) -> Result<(), String> {
        if let Some(ca) = self.issuing_ca
            && let Some(since) = ca.compromised_since
        {
            if at >= since {
                return Err(format!(
                    "its issuing CA (key {}) was declared compromised as of {since}; a \
                     signature made at {at} under it is not trusted",
                    ca.key_id
                ));
            }
            if self.own.is_none() {
                return Err(format!(
                    "key {} is not one the bureau lists, and its issuing CA (key {}) was \
                     declared compromised as of {since}: under it only the bureau's own keys \
                     are trusted",
                    self.key_id, ca.key_id
                ));
            }
        }
        self.own.map_or(Ok(()), |w| w.judge(at))
    }
}

/// Why the bureau's windows refuse the key that signed `list`, if they do. A list's `iat` is
/// the signer's own word, so nothing signed under a compromised key is used.
fn status_signer_refused(windows: &[KeyWindow], list: &SignedStatusList) -> Option<String> {
    let key_id = list.signer_key_id.as_deref()?;
    let window = windows.iter().find(|w| w.key_id == key_id)?;
    if let Some(since) = window.compromised_since {
        return Some(format!(
            "signed by key {key_id}, declared compromised as of {since}"
        ));
    }
    window.judge(list.issued_at).err()
}

/// Whether the bureau's windows admit a signature made at `at` by the key of `cert_der`
/// ([`Windows::judge`]); without windows, the certificate alone decides.
fn judge_key_window(
    windows: &[KeyWindow],
    pool: &[&[u8]],
    cert_der: &[u8],
    at: OffsetDateTime,
) -> Result<(), String> {
    Windows::of(windows, pool, cert_der).map_or(Ok(()), |w| w.judge(at))
}

/// The report's disclosed fields from authenticated claims.
pub fn disclosed(claims: &TokenClaims, days_remaining: i64) -> Disclosed {
    Disclosed {
        number: claims.number.clone(),
        name_latin: claims.name_latin.clone(),
        name_chinese: claims.name_chinese.clone(),
        date_of_birth: claims.date_of_birth.to_string(),
        document: claims.document.clone(),
        usage: claims.usage.clone(),
        record_result: claims.record_result,
        transfer_to: claims.transfer_to.clone(),
        issued_at: claims.issued_at,
        valid_until: claims.expires_at,
        days_remaining,
    }
}
