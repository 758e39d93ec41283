//! CWT verification tokens in COSE_Sign1 (RFC 8392, RFC 9052), as carried by the QR code.
//!
//! A token is a tagged `COSE_Sign1` signed with ES256 by the token-signing key. The protected
//! header holds `alg` (ES256) and `kid` ([`kid_for_certificate`]); the payload is a compact CWT
//! claims set with integer keys:
//!
//! ```cddl
//! ; RFC 8392 claims, the status claim of draft-ietf-oauth-status-list §6.3, one private claim
//! Claims = {
//!   2 => tstr,                 ; sub: certificate number
//!   4 => int,                  ; exp: last instant of validity (SPEC §2), seconds
//!   6 => int,                  ; iat: issue instant, seconds
//!   65535 => Status,           ; status
//!   -65537 => Certificate,     ; private use: what the certificate states
//!   * int => any               ; ignored
//! }
//! Status = { "status_list" => StatusListInfo, * tstr => any }
//! StatusListInfo = { "idx" => uint, "uri" => tstr }
//! Certificate = {
//!   1 => tstr,                 ; holder's name in Latin script
//!   ? 2 => tstr,               ; holder's name in Chinese
//!   3 => int,                  ; date of birth: days since 1970-01-01 (RFC 8943 day count)
//!   4 => [uint, tstr],         ; identity document: type (0 BIR, 1 TI, 2 PASSPORT), last 3 characters
//!   5 => tstr,                 ; usage code
//!   6 => uint,                 ; record result: 0 nothing on record, else number of entries
//!   ? 7 => tstr,               ; receiving department code (transfer copies)
//!   8 => bstr .size 16,        ; binding digest of the embedded certificate data
//!   * int => any               ; ignored
//! }
//! ```
//!
//! The QR code encodes [`to_url`]: `<verify base URL>#<the COSE_Sign1 in decimal>`.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ciborium::Value;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::Error;
use crate::cose::{self, Map, err};
use crate::document::{
    BINDING_DIGEST_LEN, CertificateData, DocumentType, MaskedDocument, StatusReference,
};
use crate::signer::Signer;

/// Largest token accepted by [`parse`] and produced by [`sign`], in bytes.
pub const MAX_TOKEN_LEN: usize = 2048;

/// Largest URL or text accepted by [`from_url_or_text`], in bytes.
pub const MAX_URL_LEN: usize = 4096;

/// Length of a token's `kid`.
pub const KID_LEN: usize = cose::KID_LEN;

/// CWT claim keys (IANA "CBOR Web Token (CWT) Claims").
const CLAIM_SUB: i64 = 2;
const CLAIM_EXP: i64 = 4;
const CLAIM_IAT: i64 = 6;
const CLAIM_STATUS: i64 = 65535;
/// The private-use claim carrying the certificate's disclosed fields.
const CLAIM_CERTIFICATE: i64 = -65537;

/// Keys inside the private-use claim.
const CERT_NAME_LATIN: i64 = 1;
const CERT_NAME_CHINESE: i64 = 2;
const CERT_DATE_OF_BIRTH: i64 = 3;
const CERT_DOCUMENT: i64 = 4;
const CERT_USAGE: i64 = 5;
const CERT_RECORD_RESULT: i64 = 6;
const CERT_TRANSFER_TO: i64 = 7;
const CERT_DIGEST: i64 = 8;

time::serde::format_description!(ymd, Date, "[year]-[month]-[day]");

/// base64url without padding; decoding also accepts padding.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What a token states about a certificate (the decoded CWT claims).
///
/// Serialises to the JSON of `schemas/token-claims.schema.json` (times RFC 3339, digest hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The certificate number (`sub`).
    pub number: String,
    /// The holder's name in Latin script.
    pub name_latin: String,
    /// The holder's name in Chinese, if any.
    pub name_chinese: Option<String>,
    /// The holder's date of birth.
    #[serde(with = "ymd")]
    pub date_of_birth: Date,
    /// The masked identity document.
    pub document: MaskedDocument,
    /// The usage code.
    pub usage: String,
    /// 0 when nothing is on record, else the number of entries.
    pub record_result: u32,
    /// The receiving department code of a transfer copy.
    pub transfer_to: Option<String>,
    /// The issue instant (`iat`, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// The last instant of validity (`exp`, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Where the certificate's status is published.
    pub status: StatusReference,
    /// The digest binding the token to the embedded certificate data.
    #[serde(with = "hex_digest")]
    pub digest: [u8; BINDING_DIGEST_LEN],
}

/// The instant truncated to whole seconds, in UTC (as a CWT NumericDate carries it).
fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.unix_timestamp()).unwrap_or(t)
}

impl TokenClaims {
    /// The claims of the token for a certificate whose embedded JSON is `embedded_json`.
    pub fn from_certificate(data: &CertificateData, embedded_json: &[u8]) -> Self {
        Self {
            number: data.number.clone(),
            name_latin: data.holder.name_latin.clone(),
            name_chinese: data.holder.name_chinese.clone(),
            date_of_birth: data.holder.date_of_birth,
            document: data.holder.document.masked(),
            usage: data.usage.code.clone(),
            record_result: data.record_result(),
            transfer_to: data.transfer_to.as_ref().map(|d| d.code.clone()),
            issued_at: whole_seconds(data.issued_at),
            expires_at: whole_seconds(data.valid_until),
            status: data.status.clone(),
            digest: CertificateData::binding_digest(embedded_json),
        }
    }

    /// The fields on which this token and the certificate disagree, named as in the JSON form;
    /// empty when they match. Times are compared in whole seconds.
    pub fn disagreements(&self, data: &CertificateData, embedded_json: &[u8]) -> Vec<&'static str> {
        let expected = Self::from_certificate(data, embedded_json);
        let checks = [
            ("number", self.number == expected.number),
            ("name_latin", self.name_latin == expected.name_latin),
            ("name_chinese", self.name_chinese == expected.name_chinese),
            (
                "date_of_birth",
                self.date_of_birth == expected.date_of_birth,
            ),
            ("document", self.document == expected.document),
            ("usage", self.usage == expected.usage),
            (
                "record_result",
                self.record_result == expected.record_result,
            ),
            ("transfer_to", self.transfer_to == expected.transfer_to),
            (
                "issued_at",
                self.issued_at.unix_timestamp() == expected.issued_at.unix_timestamp(),
            ),
            (
                "expires_at",
                self.expires_at.unix_timestamp() == expected.expires_at.unix_timestamp(),
            ),
            ("status", self.status == expected.status),
            ("digest", self.digest == expected.digest),
        ];
        checks
            .into_iter()
            .filter(|(_, same)| !same)
            .map(|(name, _)| name)
            .collect()
    }

    /// The CWT claims set (see the module documentation for the CDDL).
    fn to_cbor(&self) -> Result<Vec<u8>, Error> {
        let date_of_birth = day_count(self.date_of_birth);
        let mut certificate = vec![(CERT_NAME_LATIN, Value::Text(self.name_latin.clone()))];
        if let Some(name) = &self.name_chinese {
            certificate.push((CERT_NAME_CHINESE, Value::Text(name.clone())));
        }
        certificate.extend([
            (CERT_DATE_OF_BIRTH, cose::int_value(date_of_birth)),
            (
                CERT_DOCUMENT,
                Value::Array(vec![
                    cose::int_value(document_type_number(self.document.kind)),
                    Value::Text(self.document.last3.clone()),
                ]),
            ),
            (CERT_USAGE, Value::Text(self.usage.clone())),
            (CERT_RECORD_RESULT, cose::int_value(self.record_result)),
        ]);
        if let Some(department) = &self.transfer_to {
            certificate.push((CERT_TRANSFER_TO, Value::Text(department.clone())));
        }
        certificate.push((CERT_DIGEST, Value::Bytes(self.digest.to_vec())));
        let status = cose::text_map(vec![(
            "status_list",
            cose::text_map(vec![
                ("idx", cose::int_value(self.status.idx)),
                ("uri", Value::Text(self.status.uri.clone())),
            ]),
        )]);
        // Keys in RFC 8949 §4.2.1 order: 2, 4, 6, 65535, -65537.
        cose::to_vec(&cose::int_map(vec![
            (CLAIM_SUB, Value::Text(self.number.clone())),
            (CLAIM_EXP, cose::int_value(self.expires_at.unix_timestamp())),
            (CLAIM_IAT, cose::int_value(self.issued_at.unix_timestamp())),
            (CLAIM_STATUS, status),
            (CLAIM_CERTIFICATE, cose::int_map(certificate)),
        ]))
    }

    /// Decodes a CWT claims set strictly: required claims present with the right types,
    /// unknown claims ignored.
    fn from_cbor(payload: &[u8]) -> Result<Self, Error> {
        let value = cose::from_slice(payload, "token claims")?;
        let claims = Map::new(&value, "token claims")?;
        let number = cose::nonempty_text(claims.required(CLAIM_SUB, "sub")?, "sub")?;
        let expires_at = cose::numeric_date(claims.required(CLAIM_EXP, "exp")?, "exp")?;
        let issued_at = cose::numeric_date(claims.required(CLAIM_IAT, "iat")?, "iat")?;

        let status = Map::new(claims.required(CLAIM_STATUS, "status")?, "status")?;
        let list = Map::new(status.field("status_list")?, "status_list")?;
        let status = StatusReference {
            idx: cose::uint(list.field("idx")?, "status_list.idx")?,
            uri: cose::nonempty_text(list.field("uri")?, "status_list.uri")?,
        };

        let cert = Map::new(
            claims.required(CLAIM_CERTIFICATE, "certificate")?,
            "certificate claim",
        )?;
        let name_latin = cose::nonempty_text(cert.required(CERT_NAME_LATIN, "name")?, "name")?;
        let name_chinese = cert
            .int(CERT_NAME_CHINESE)
            .map(|v| cose::nonempty_text(v, "Chinese name"))
            .transpose()?;
        let date_of_birth =
            date_from_day_count(cert.required(CERT_DATE_OF_BIRTH, "date of birth")?)?;
        let document = match cert.required(CERT_DOCUMENT, "document")?.as_array() {
            Some(pair) if pair.len() == 2 => {
                let number: u8 = cose::uint(&pair[0], "document type")?;
                let kind = DOCUMENT_TYPES
                    .get(usize::from(number))
                    .copied()
                    .ok_or_else(|| err(format!("document type: unknown number {number}")))?;
                let last3 = cose::text(&pair[1], "document number")?;
                if last3.chars().count() > 3 {
                    return Err(err("document number: more than 3 characters"));
                }
                MaskedDocument {
                    kind,
                    last3: last3.to_owned(),
                }
            }
            _ => return Err(err("document: not a [type, last3] array")),
        };
        let usage = cose::nonempty_text(cert.required(CERT_USAGE, "usage")?, "usage")?;
        let record_result = cose::uint(
            cert.required(CERT_RECORD_RESULT, "record result")?,
            "record result",
        )?;
        let transfer_to = cert
            .int(CERT_TRANSFER_TO)
            .map(|v| cose::nonempty_text(v, "receiving department"))
            .transpose()?;
        let digest = cose::bytes(cert.required(CERT_DIGEST, "digest")?, "digest")?
            .try_into()
            .map_err(|_| err(format!("digest: not {BINDING_DIGEST_LEN} bytes")))?;
        Ok(Self {
            number,
            name_latin,
            name_chinese,
            date_of_birth,
            document,
            usage,
            record_result,
            transfer_to,
            issued_at,
            expires_at,
            status,
            digest,
        })
    }
}

/// Document types by their number in the token (the index).
const DOCUMENT_TYPES: [DocumentType; 3] =
    [DocumentType::Bir, DocumentType::Ti, DocumentType::Passport];

/// The number of a document type in the token.
fn document_type_number(kind: DocumentType) -> u8 {
    match kind {
        DocumentType::Bir => 0,
        DocumentType::Ti => 1,
        DocumentType::Passport => 2,
    }
}

/// The RFC 8943 day count of `date`: days since 1970-01-01 (negative before).
fn day_count(date: Date) -> i64 {
    i64::from(date.to_julian_day() - UNIX_EPOCH_JULIAN_DAY)
}

/// The date of an RFC 8943 day count (an integer; years 1–9999 only).
fn date_from_day_count(value: &Value) -> Result<Date, Error> {
    let days = value
        .as_integer()
        .and_then(|i| i32::try_from(i128::from(i)).ok())
        .ok_or_else(|| err("date of birth: not an integer day count"))?;
    days.checked_add(UNIX_EPOCH_JULIAN_DAY)
        .and_then(|julian| Date::from_julian_day(julian).ok())
        .filter(|d| (1..=9999).contains(&d.year()))
        .ok_or_else(|| err(format!("date of birth: day count {days} out of range")))
}

/// The Julian day number of 1970-01-01, the RFC 8943 epoch.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// The `kid` naming a signing certificate: its key's id, the first 8 bytes of SHA-256 of the
/// raw public key (SPEC §10), the same as the key registry's and a token's `CKA_ID`; `None`
/// if `cert_der` is not a certificate.
pub fn kid_for_certificate(cert_der: &[u8]) -> Option<[u8; KID_LEN]> {
    cose::kid_for_certificate(cert_der)
}

/// Signs `claims` as a tagged ES256 `COSE_Sign1` naming the token-signing certificate `kid`.
///
/// Refuses claims that would not read back identically (e.g. sub-second times, an empty
/// name) and tokens larger than [`MAX_TOKEN_LEN`], so every issued token passes [`parse`].
pub fn sign(
    claims: &TokenClaims,
    signer: &dyn Signer,
    kid: [u8; KID_LEN],
) -> Result<Vec<u8>, Error> {
    let payload = claims.to_cbor()?;
    if TokenClaims::from_cbor(&payload)? != *claims {
        return Err(err(
            "claims do not survive encoding (times must be whole seconds)",
        ));
    }
    let token = cose::sign1(
        cose::es256_protected(kid, Vec::new()),
        coset::Header::default(),
        payload,
        signer,
    )?;
    if token.len() > MAX_TOKEN_LEN {
        return Err(err(format!(
            "token of {} bytes exceeds {MAX_TOKEN_LEN}",
            token.len()
        )));
    }
    Ok(token)
}

/// A token that parsed strictly but whose signature has not been checked.
///
/// Its claims are reachable only through [`UnverifiedToken::verify`] or the explicitly named
/// [`UnverifiedToken::claims_unverified`].
#[derive(Clone, Debug)]
pub struct UnverifiedToken {
    sign1: cose::Sign1,
    claims: TokenClaims,
}

/// Parses a token strictly: at most [`MAX_TOKEN_LEN`] bytes, tag 18 optional, alg ES256 in the
/// protected header, no `crit`, an 8-byte `kid`, the required claims with the right types.
pub fn parse(bytes: &[u8]) -> Result<UnverifiedToken, Error> {
    let sign1 = cose::parse_sign1(bytes, MAX_TOKEN_LEN, "token")?;
    let claims = TokenClaims::from_cbor(&sign1.payload)?;
    Ok(UnverifiedToken { sign1, claims })
}

impl UnverifiedToken {
    /// The `kid` naming the token-signing certificate.
    pub fn kid(&self) -> [u8; KID_LEN] {
        self.sign1.kid
    }

    /// The claims, NOT authenticated: for diagnostics only (e.g. to find the status list).
    pub fn claims_unverified(&self) -> &TokenClaims {
        &self.claims
    }

    /// Checks the signature with the token-signing certificate's public key (DER
    /// `SubjectPublicKeyInfo`, P-256) and returns the authenticated claims. The caller picks
    /// that certificate by [`UnverifiedToken::kid`] and validates its chain and key usage;
    /// currency (`exp`) and status are checked by the caller too.
    pub fn verify(&self, signer_spki_der: &[u8]) -> Result<TokenClaims, Error> {
        self.sign1.verify(signer_spki_der, "token")?;
        Ok(self.claims.clone())
    }
}

/// The URL the QR code encodes: `<verify_base>#<the token in decimal>` ([`decimal`], SPEC §4).
pub fn to_url(verify_base: &str, token: &[u8]) -> String {
    let mut url = String::with_capacity(verify_base.len() + 1 + token.len() / 7 * 17 + 17);
    url.push_str(verify_base);
    url.push('#');
    decimal::encode_into(token, &mut url);
    url
}

/// The token bytes from a verification URL (the part after `#`) or from bare fragment text:
/// decimal digits ([`decimal::decode`], strict), or the older base64url form. Surrounding
/// whitespace is ignored; input over [`MAX_URL_LEN`] bytes is refused.
pub fn from_url_or_text(s: &str) -> Result<Vec<u8>, Error> {
    if s.len() > MAX_URL_LEN {
        return Err(err(format!(
            "token text of {} bytes exceeds {MAX_URL_LEN}",
            s.len()
        )));
    }
    let s = s.trim();
    let encoded = s.split_once('#').map_or(s, |(_, fragment)| fragment);
    if encoded.is_empty() {
        return Err(err("no token in the text"));
    }
    if decimal::is_decimal(encoded) {
        return decimal::decode(encoded, MAX_TOKEN_LEN);
    }
    let token = B64URL
        .decode(encoded)
        .map_err(|e| err(format!("token is neither decimal nor base64url: {e}")))?;
    if token.len() > MAX_TOKEN_LEN {
        return Err(err(format!(
            "token of {} bytes exceeds {MAX_TOKEN_LEN}",
            token.len()
        )));
    }
    Ok(token)
}

/// Hex (de)serialisation of the binding digest.
mod hex_digest {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::document::BINDING_DIGEST_LEN;

    pub(super) fn serialize<S: Serializer>(
        digest: &[u8; BINDING_DIGEST_LEN],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(digest))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<[u8; BINDING_DIGEST_LEN], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; BINDING_DIGEST_LEN];
        hex::decode_to_slice(&text, &mut out).map_err(D::Error::custom)?;
        Ok(out)
    }
}

pub mod decimal;
pub mod qr;

#[cfg(test)]
mod tests;
