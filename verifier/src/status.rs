//! Status lists as the verifier uses them: authenticated against the root, matched to the
//! token's reference, and judged for freshness (SPEC §5).

use time::OffsetDateTime;

use ccr_pki::chain::{CertPurpose, TrustRoot};
use ccr_pki::document::StatusReference;
use ccr_pki::status_list::{SignedStatusList, Status, parse_status_list};

use crate::report::{Checks, StatusFacts, Verdict};

/// Largest status list accepted (entries); 2^24 is 16 times the largest list we issue.
pub const MAX_STATUS_ENTRIES: u32 = 1 << 24;

/// Authenticates a signed status list: its `x5chain` must chain to the root for token
/// signing, and its signature must verify.
pub fn authenticate(bytes: &[u8], root: &TrustRoot) -> Result<SignedStatusList, String> {
    let unverified = parse_status_list(bytes, MAX_STATUS_ENTRIES)
        .map_err(|e| format!("unreadable status list: {e}"))?;
    let chain = unverified.chain_der();
    let (signer, intermediates) = chain
        .split_first()
        .ok_or("the status list carries no certificate")?;
    let inter: Vec<&[u8]> = intermediates.iter().map(Vec::as_slice).collect();
    let signer_cert = ccr_pki::hierarchy::parse_certificate(signer).map_err(|e| e.to_string())?;
    let spki = der::Encode::to_der(signer_cert.tbs_certificate().subject_public_key_info())
        .map_err(|e| e.to_string())?;
    // Signature first, so the time the chain is judged at is authenticated.
    let list = unverified
        .verify(&spki)
        .map_err(|e| format!("the status list signature is invalid: {e}"))?;
    root.verify(
        signer,
        &inter,
        CertPurpose::TokenSigning,
        list.issued_at,
        None,
    )
    .map_err(|e| format!("the status list signer is not trusted: {e}"))?;
    Ok(list)
}

/// Judges the certificate at `reference` against an authenticated list at `now`, recording
/// the `status` check and returning the facts for the report.
pub fn judge(
    list: &SignedStatusList,
    reference: &StatusReference,
    now: OffsetDateTime,
    checks: &mut Checks,
) -> StatusFacts {
    let mut facts = StatusFacts {
        list: reference.uri.clone(),
        index: reference.idx,
        value: None,
        list_issued_at: Some(list.issued_at),
        list_expires_at: Some(list.expires_at),
        age_seconds: Some((now - list.issued_at).whole_seconds()),
        authoritative: false,
    };
    if list.uri != reference.uri {
        checks.fail(
            "status",
            Verdict::StatusUnknown,
            format!(
                "the status list given is {}, not {}",
                list.uri, reference.uri
            ),
        );
        return facts;
    }
    if now < list.issued_at {
        checks.fail(
            "status",
            Verdict::StatusUnknown,
            format!(
                "the status list was signed at {}, after the time checked",
                list.issued_at
            ),
        );
        return facts;
    }
    if now > list.expires_at {
        checks.fail(
            "status",
            Verdict::StatusUnknown,
            format!("the status list expired at {}", list.expires_at),
        );
        return facts;
    }
    let Some(status) = list.list.get(reference.idx) else {
        checks.fail(
            "status",
            Verdict::StatusUnknown,
            format!("index {} is outside the status list", reference.idx),
        );
        return facts;
    };
    facts.value = Some(status.name());
    let age = now - list.issued_at;
    facts.authoritative =
        age.whole_seconds() <= i64::try_from(list.ttl_seconds).unwrap_or(i64::MAX);
    let freshness = if facts.authoritative {
        format!("list signed {}s ago (within its ttl)", age.whole_seconds())
    } else {
        format!(
            "status as of {} ({}s old, past its ttl)",
            list.issued_at,
            age.whole_seconds()
        )
    };
    match status {
        Status::Valid => checks.pass("status", format!("VALID; {freshness}")),
        Status::Revoked => checks.fail("status", Verdict::Revoked, format!("REVOKED; {freshness}")),
        Status::Suspended => checks.fail(
            "status",
            Verdict::Suspended,
            format!("SUSPENDED; {freshness}"),
        ),
        Status::Superseded => checks.fail(
            "status",
            Verdict::Superseded,
            format!("SUPERSEDED by a re-issue; {freshness}"),
        ),
    }
    facts
}
