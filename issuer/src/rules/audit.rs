//! The hash-chained audit log: every state change is appended, in the transaction that makes
//! it, as an entry whose hash covers the previous entry's hash. Rewriting, inserting or
//! deleting an entry breaks the chain from there on, which [`verify_chain`] reports.

use serde::Serialize;

/// The hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who (`cli:<user>`, later a staff account).
    pub actor: String,
    /// What, e.g. `certificate.issued`, `certificate.revoked`.
    pub action: String,
    /// On what, e.g. a certificate number.
    pub subject: String,
    /// Further facts (JSON text; never secrets).
    pub detail: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// The hash of an entry: SHA-256 over the length-prefixed fields and the previous hash, so
/// no field can bleed into another.
pub fn entry_hash(
    id: i64,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    prev_hash: &str,
) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(id.to_be_bytes());
    for field in [at, actor, action, subject, detail, prev_hash] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// Ids are not 1, 2, 3, … (an entry was deleted or inserted).
    #[error("entry {found} follows entry {previous}: the sequence has a gap")]
    Gap {
        /// The id before.
        previous: i64,
        /// The id found.
        found: i64,
    },
    /// An entry does not point at its predecessor's hash.
    #[error("entry {0} does not follow its predecessor (prev_hash differs)")]
    Link(i64),
    /// An entry's content does not match its hash.
    #[error("entry {0} was altered (its hash does not match its content)")]
    Content(i64),
}

/// Checks a whole chain, in id order.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<usize, ChainBreak> {
    let mut prev_hash = GENESIS;
    let mut prev_id = 0;
    for e in entries {
        if e.id != prev_id + 1 {
            return Err(ChainBreak::Gap {
                previous: prev_id,
                found: e.id,
            });
        }
        if e.prev_hash != prev_hash {
            return Err(ChainBreak::Link(e.id));
        }
        if entry_hash(
            e.id,
            &e.at,
            &e.actor,
            &e.action,
            &e.subject,
            &e.detail,
            &e.prev_hash,
        ) != e.hash
        {
            return Err(ChainBreak::Content(e.id));
        }
        prev_hash = &e.hash;
        prev_id = e.id;
    }
    Ok(entries.len())
}
