//! The data a certificate states, as carried inside the signed PDF and bound by the token.
//!
//! The issuer serialises one [`CertificateData`] to JSON and embeds those exact bytes in the
//! PDF; the token carries a digest of the same bytes ([`CertificateData::binding_digest`]), so
//! no canonicalisation is needed: the verifier hashes the bytes it finds.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// Length of the digest that binds a token to the certificate data (SHA-256, truncated).
pub const BINDING_DIGEST_LEN: usize = 16;

/// Identity document types (SPEC §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentType {
    /// Macao SAR Resident Identity Card.
    #[serde(rename = "BIR")]
    Bir,
    /// Non-resident Worker's Identification Card.
    #[serde(rename = "TI")]
    Ti,
    /// Passport or other travel document.
    #[serde(rename = "PASSPORT")]
    Passport,
}

impl DocumentType {
    /// The code used in requests and tokens.
    pub fn code(self) -> &'static str {
        match self {
            Self::Bir => "BIR",
            Self::Ti => "TI",
            Self::Passport => "PASSPORT",
        }
    }

    /// Parses a code used in requests and tokens.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "BIR" => Some(Self::Bir),
            "TI" => Some(Self::Ti),
            "PASSPORT" => Some(Self::Passport),
            _ => None,
        }
    }
}

/// An identity document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDocument {
    /// The document type.
    #[serde(rename = "type")]
    pub kind: DocumentType,
    /// The document number exactly as printed on it.
    pub number: String,
}

impl IdentityDocument {
    /// The masked form disclosed by tokens: the type and the last three characters.
    pub fn masked(&self) -> MaskedDocument {
        let chars: Vec<char> = self.number.chars().collect();
        let tail: String = chars[chars.len().saturating_sub(3)..].iter().collect();
        MaskedDocument {
            kind: self.kind,
            last3: tail,
        }
    }
}

/// The part of an identity document a token may disclose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedDocument {
    /// The document type.
    #[serde(rename = "type")]
    pub kind: DocumentType,
    /// The last three characters of the number.
    pub last3: String,
}

/// The person a certificate is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Name in Latin script, exactly as on the identity document.
    pub name_latin: String,
    /// Name in Chinese characters, if the document has one.
    pub name_chinese: Option<String>,
    /// Date of birth.
    pub date_of_birth: Date,
    /// The identity document.
    pub document: IdentityDocument,
}

/// A text in the three languages of the certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trilingual {
    /// Traditional Chinese.
    pub zh: String,
    /// Portuguese.
    pub pt: String,
    /// English.
    pub en: String,
}

/// A coded value with its printed names (a usage, a department).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coded {
    /// The code carried in tokens, e.g. `EMPLOYMENT` or `DSAL`.
    pub code: String,
    /// The printed names.
    pub name: Trilingual,
}

/// One entry of the criminal record that may be disclosed for the chosen usage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordEntry {
    /// The court that decided.
    pub court: String,
    /// The case number.
    pub case_number: String,
    /// The date of the decision.
    pub decision_date: Date,
    /// The offence.
    pub offence: String,
    /// The sentence.
    pub sentence: String,
}

/// Where the certificate's status is published (draft-ietf-oauth-status-list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReference {
    /// The status list's URI.
    pub uri: String,
    /// The certificate's index in that list.
    pub idx: u32,
}

/// Everything one certificate states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateData {
    /// The certificate number, unique across the registry.
    pub number: String,
    /// The person.
    pub holder: Holder,
    /// The usage the certificate was requested for.
    pub usage: Coded,
    /// The disclosed record entries; empty means nothing is on record.
    pub records: Vec<RecordEntry>,
    /// The receiving department of a transfer copy.
    pub transfer_to: Option<Coded>,
    /// The issue instant.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// The last instant of validity (SPEC §2).
    #[serde(with = "time::serde::rfc3339")]
    pub valid_until: OffsetDateTime,
    /// The issuing authority, as printed.
    pub authority: Trilingual,
    /// Where the status is published.
    pub status: StatusReference,
}

impl CertificateData {
    /// The JSON bytes embedded in the PDF.
    pub fn to_embedded_json(&self) -> Vec<u8> {
        // Serialising plain structs of strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses the JSON bytes embedded in a PDF.
    pub fn from_embedded_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The digest of embedded bytes that a token carries.
    pub fn binding_digest(embedded_json: &[u8]) -> [u8; BINDING_DIGEST_LEN] {
        let full = ring::digest::digest(&ring::digest::SHA256, embedded_json);
        let mut out = [0u8; BINDING_DIGEST_LEN];
        out.copy_from_slice(&full.as_ref()[..BINDING_DIGEST_LEN]);
        out
    }

    /// The record result disclosed by tokens: 0 when nothing is on record, else the number of
    /// entries (never the entries).
    pub fn record_result(&self) -> u32 {
        u32::try_from(self.records.len()).unwrap_or(u32::MAX)
    }
}
