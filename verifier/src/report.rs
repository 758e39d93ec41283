//! The verification report (SPEC §5, `schemas/verification-report.schema.json`).

use serde::Serialize;
use time::OffsetDateTime;

use ccr_pki::document::MaskedDocument;

/// The verdicts, in precedence order: when several checks fail, the first listed wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Cannot be read, or a limit was exceeded.
    Malformed,
    /// Cryptographic or digest failure, or no signature.
    InvalidSignature,
    /// Changed after signing.
    Modified,
    /// A valid signature, but not from the bureau's PKI.
    Untrusted,
    /// The token and the document disagree.
    Mismatch,
    /// Revoked by the bureau.
    Revoked,
    /// Replaced by a re-issue.
    Superseded,
    /// Suspended by the bureau.
    Suspended,
    /// Past its validity.
    Expired,
    /// Before its issue instant.
    NotYetValid,
    /// No fresh status information: never shown as valid.
    StatusUnknown,
    /// Authentic, unmodified, current and not revoked.
    Valid,
}

/// A check's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Failed (the report's verdict says how bad).
    Fail,
    /// Not run because an earlier check failed.
    Skip,
}

/// One check in the report.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// Stable name, e.g. `signature_structure`.
    pub name: &'static str,
    /// The outcome.
    pub outcome: Outcome,
    /// Why, in words.
    pub detail: String,
    /// The verdict a failure implies (not serialised; the report carries the result).
    #[serde(skip)]
    pub verdict_if_failed: Verdict,
}

/// The certificate's disclosed fields (those the token carries: never the record entries).
#[derive(Clone, Debug, Serialize)]
pub struct Disclosed {
    /// Certificate number.
    pub number: String,
    /// Holder's Latin name.
    pub name_latin: String,
    /// Holder's Chinese name.
    pub name_chinese: Option<String>,
    /// Date of birth.
    pub date_of_birth: String,
    /// Masked identity document.
    pub document: MaskedDocument,
    /// Usage code.
    pub usage: String,
    /// 0 nothing on record, else the number of entries.
    pub record_result: u32,
    /// Receiving department of a transfer copy.
    pub transfer_to: Option<String>,
    /// Issue instant.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// Last valid instant.
    #[serde(with = "time::serde::rfc3339")]
    pub valid_until: OffsetDateTime,
    /// Whole Macao days left (0 on the last day, negative after).
    pub days_remaining: i64,
}

/// Signature facts.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureFacts {
    /// The signer's subject.
    pub signer: String,
    /// `/M`, the time the signer claims.
    pub claimed_signing_time: String,
    /// The time-stamp's time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub timestamp_time: Option<OffsetDateTime>,
}

/// Status facts.
#[derive(Clone, Debug, Serialize)]
pub struct StatusFacts {
    /// The list's URI.
    pub list: String,
    /// The certificate's index.
    pub index: u32,
    /// The status found, if a list was read.
    pub value: Option<&'static str>,
    /// When the list was signed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub list_issued_at: Option<OffsetDateTime>,
    /// When the list stops being usable.
    #[serde(with = "time::serde::rfc3339::option")]
    pub list_expires_at: Option<OffsetDateTime>,
    /// Seconds since the list was signed.
    pub age_seconds: Option<i64>,
    /// Younger than its `ttl`: authoritative; otherwise the verdict is "as of" the list.
    pub authoritative: bool,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The verdict.
    pub verdict: Verdict,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The disclosed fields, once authenticated.
    pub certificate: Option<Disclosed>,
    /// Signature facts.
    pub signature: Option<SignatureFacts>,
    /// Status facts.
    pub status: Option<StatusFacts>,
    /// The instant the certificate was judged at.
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
}

impl AsRef<Report> for Report {
    fn as_ref(&self) -> &Report {
        self
    }
}

/// Collects checks as verification proceeds.
#[derive(Debug, Default)]
pub struct Checks {
    checks: Vec<Check>,
}

impl Checks {
    /// Records a passed check.
    pub fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            outcome: Outcome::Pass,
            detail: detail.into(),
            verdict_if_failed: Verdict::Valid,
        });
    }

    /// Records a failed check and the verdict it implies.
    pub fn fail(&mut self, name: &'static str, verdict: Verdict, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            outcome: Outcome::Fail,
            detail: detail.into(),
            verdict_if_failed: verdict,
        });
    }

    /// Records checks not run.
    pub fn skip(&mut self, names: &[&'static str], why: &str) {
        for name in names {
            self.checks.push(Check {
                name,
                outcome: Outcome::Skip,
                detail: why.to_owned(),
                verdict_if_failed: Verdict::Valid,
            });
        }
    }

    /// The verdict: the highest-precedence failure, else VALID.
    pub fn verdict(&self) -> Verdict {
        self.checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .map(|c| c.verdict_if_failed)
            .min()
            .unwrap_or(Verdict::Valid)
    }

    /// The checks.
    pub fn into_vec(self) -> Vec<Check> {
        self.checks
    }
}
