//! Transfers to departments (SPEC §9): the envelope the bureau pushes, its Standard Webhooks
//! signature in the asymmetric form (`webhook-signature: v1a,<base64 Ed25519 signature>` over
//! `<id>.<timestamp>.<body>`), and the department's receipt (a compact JWS, EdDSA with Ed25519
//! or ES256 with P-256).
//!
//! Both sides use this module: the issuer signs envelopes and checks receipts, `verifier
//! receive` checks envelopes and signs receipts. Signatures are always over the raw body
//! bytes, never over a re-serialised JSON value.
//!
//! Schemas: `schemas/transfer-envelope.schema.json`, `schemas/transfer-receipt.schema.json`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use der::Decode as _;
use ring::signature::{self, KeyPair as _};
use serde::{Deserialize, Serialize};

use crate::Error;

/// A receiver accepts a `webhook-timestamp` at most this far from its own clock.
pub const TIMESTAMP_WINDOW_SECONDS: i64 = 300;
/// Largest envelope accepted (a transfer PDF stays within 64 KiB; base64 and JSON add a third).
pub const MAX_ENVELOPE_BYTES: usize = 1024 * 1024;
/// Largest receipt accepted.
pub const MAX_RECEIPT_BYTES: usize = 16 * 1024;
/// Largest delivery id, department code, certificate number or reason code.
const MAX_FIELD_CHARS: usize = 128;

const ED25519_OID: &str = "1.3.101.112";
const EC_PUBLIC_KEY_OID: &str = "1.2.840.10045.2.1";
const P256_OID: &str = "1.2.840.10045.3.1.7";

/// What an envelope carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvelopeKind {
    /// A transfer copy (the PDF).
    Certificate,
    /// A status change of a copy the department holds.
    StatusChange,
}

/// The JSON body of one delivery (`schemas/transfer-envelope.schema.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The delivery id (also `webhook-id`), the same on every retry.
    pub delivery_id: String,
    /// `certificate` or `status-change`.
    pub kind: EnvelopeKind,
    /// The receiving department's code.
    pub department: String,
    /// Position in the department's lane: 1, 2, 3, … without gaps.
    pub sequence: u64,
    /// The certificate concerned.
    pub certificate_number: String,
    /// The PDF, standard base64 (kind `certificate` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf: Option<String>,
    /// The new status: `VALID`, `REVOKED`, `SUSPENDED` or `SUPERSEDED` (kind `status-change`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why the status changed (kind `status-change`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the bureau queued it (RFC 3339).
    pub created_at: String,
}

impl Envelope {
    /// The body bytes as sent and signed.
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads and checks a body: size, fields, and the kind's required parts.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        if body.len() > MAX_ENVELOPE_BYTES {
            return Err(transfer_error(format!(
                "envelope exceeds {MAX_ENVELOPE_BYTES} bytes"
            )));
        }
        let envelope: Self = serde_json::from_slice(body)
            .map_err(|e| transfer_error(format!("not a transfer envelope: {e}")))?;
        for (name, value) in [
            ("delivery_id", &envelope.delivery_id),
            ("department", &envelope.department),
            ("certificate_number", &envelope.certificate_number),
        ] {
            if value.is_empty() || value.chars().count() > MAX_FIELD_CHARS {
                return Err(transfer_error(format!(
                    "{name} must have 1 to {MAX_FIELD_CHARS} characters"
                )));
            }
        }
        let well_formed = match envelope.kind {
            EnvelopeKind::Certificate => {
                envelope.pdf.is_some() && envelope.status.is_none() && envelope.reason.is_none()
            }
            EnvelopeKind::StatusChange => {
                envelope.pdf.is_none()
                    && envelope.reason.is_some()
                    && matches!(
                        envelope.status.as_deref(),
                        Some("VALID" | "REVOKED" | "SUSPENDED" | "SUPERSEDED")
                    )
            }
        };
        if !well_formed || envelope.sequence == 0 {
            return Err(transfer_error(
                "a certificate envelope carries pdf only; a status-change envelope carries status and reason; sequence starts at 1"
                    .into(),
            ));
        }
        Ok(envelope)
    }

    /// The PDF bytes of a certificate envelope.
    pub fn pdf_bytes(&self) -> Result<Option<Vec<u8>>, Error> {
        self.pdf
            .as_deref()
            .map(|b64| {
                STANDARD
                    .decode(b64)
                    .map_err(|e| transfer_error(format!("pdf is not base64: {e}")))
            })
            .transpose()
    }
}

fn transfer_error(message: String) -> Error {
    Error::Token(format!("transfer: {message}"))
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// The key id of a public key: the first 8 bytes of SHA-256 of its raw bytes, hex (SPEC §10).
pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(crate::signer::key_id_bytes(public_key))
}

/// The bureau's transfer-signing key (Ed25519), in a file or a token.
pub struct TransferSigner {
    signer: std::sync::Arc<dyn crate::signer::Signer>,
    public_key: Vec<u8>,
}

impl std::fmt::Debug for TransferSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferSigner")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl TransferSigner {
    /// A fresh key, with its PKCS#8 document (to be stored mode 0600).
    pub fn generate() -> Result<(Self, Vec<u8>), Error> {
        let (key, pkcs8) = crate::signer::Ed25519FileKey::generate()?;
        Ok((Self::from_signer(std::sync::Arc::new(key))?, pkcs8))
    }

    /// Loads a PKCS#8 Ed25519 key.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, Error> {
        let key = crate::signer::Ed25519FileKey::from_pkcs8(pkcs8)?;
        Self::from_signer(std::sync::Arc::new(key))
    }

    /// Wraps an Ed25519 signer (a file key or a key in a token).
    pub fn from_signer(signer: std::sync::Arc<dyn crate::signer::Signer>) -> Result<Self, Error> {
        if signer.algorithm() != crate::signer::KeyAlgorithm::Ed25519 {
            return Err(Error::Key(
                "the transfer signer must be an Ed25519 key".into(),
            ));
        }
        let spki = spki::SubjectPublicKeyInfoRef::from_der(signer.public_key_spki_der())?;
        let public_key = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::Key("bad Ed25519 public key".into()))?
            .to_vec();
        Ok(Self { signer, public_key })
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The key id.
    pub fn key_id(&self) -> String {
        key_id(self.public_key())
    }

    /// The `webhook-signature` value for one send. Fails when the key's token does.
    pub fn sign_webhook(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<String, Error> {
        let signature = self.signer.sign(
            &signed_content(id, timestamp, body),
            crate::signer::SignatureEncoding::Fixed,
        )?;
        Ok(format!("v1a,{}", STANDARD.encode(signature)))
    }
}

fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    content
}

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A header is missing or malformed.
    #[error("header {0} is missing or malformed")]
    Header(&'static str),
    /// The timestamp is outside the window.
    #[error("webhook-timestamp is {0} s from this receiver's clock (window ±300 s)")]
    Stale(i64),
    /// No `v1a` signature verifies.
    #[error("no v1a signature verifies with the bureau's transfer key")]
    Signature,
}

/// Checks the Standard Webhooks headers of a delivery against the bureau's raw Ed25519
/// `public_key`, at `now` (Unix seconds).
pub fn verify_webhook(
    public_key: &[u8],
    id: Option<&str>,
    timestamp: Option<&str>,
    signature_header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), WebhookError> {
    let id = id
        .filter(|v| !v.is_empty() && v.len() <= MAX_FIELD_CHARS)
        .ok_or(WebhookError::Header("webhook-id"))?;
    let timestamp: i64 = timestamp
        .and_then(|v| v.parse().ok())
        .ok_or(WebhookError::Header("webhook-timestamp"))?;
    let skew = now.saturating_sub(timestamp);
    if skew.abs() > TIMESTAMP_WINDOW_SECONDS {
        return Err(WebhookError::Stale(skew));
    }
    let header = signature_header.ok_or(WebhookError::Header("webhook-signature"))?;
    let content = signed_content(id, timestamp, body);
    let key = signature::UnparsedPublicKey::new(&signature::ED25519, public_key);
    // Several space-separated signatures may be sent (key rotation); one valid `v1a` suffices.
    let valid = header.split(' ').take(8).any(|item| {
        item.strip_prefix("v1a,")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .is_some_and(|sig| key.verify(&content, &sig).is_ok())
    });
    if valid {
        Ok(())
    } else {
        Err(WebhookError::Signature)
    }
}

/// `accepted` or `rejected`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptResult {
    /// The department took the delivery.
    Accepted,
    /// The department refuses it for good (with a reason code).
    Rejected,
}

/// The payload of a receipt JWS (`schemas/transfer-receipt.schema.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The delivery id.
    pub delivery_id: String,
    /// The department that received it.
    pub department: String,
    /// SHA-256 (hex) of the exact body bytes received.
    pub body_sha256: String,
    /// SHA-256 (hex) of the PDF, for kind `certificate`.
    pub pdf_sha256: Option<String>,
    /// `accepted` or `rejected`.
    pub result: ReceiptResult,
    /// The reason code of a rejection.
    pub reason: Option<String>,
    /// When the department received it (RFC 3339).
    pub received_at: String,
}

/// A department's receipt-verification key (SPKI PEM: Ed25519 or P-256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptKey {
    /// Raw 32-byte Ed25519 key; receipts use `EdDSA`.
    Ed25519(Vec<u8>),
    /// Uncompressed P-256 point; receipts use `ES256`.
    P256(Vec<u8>),
}

impl ReceiptKey {
    /// Reads a `PUBLIC KEY` PEM.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let (label, der) = der::pem::decode_vec(pem.as_bytes())
            .map_err(|e| Error::Key(format!("receipt key is not PEM: {e}")))?;
        if label != "PUBLIC KEY" {
            return Err(Error::Key(format!(
                "receipt key must be a PUBLIC KEY PEM, not {label}"
            )));
        }
        let spki = spki::SubjectPublicKeyInfoRef::from_der(&der)?;
        let raw = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::Key("receipt key bits are not whole bytes".into()))?
            .to_vec();
        let oid = spki.algorithm.oid.to_string();
        let curve = spki
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
            .map(|o| o.to_string());
        match (oid.as_str(), curve.as_deref()) {
            (ED25519_OID, None) if raw.len() == 32 => Ok(Self::Ed25519(raw)),
            (EC_PUBLIC_KEY_OID, Some(P256_OID)) if raw.len() == 65 => Ok(Self::P256(raw)),
            _ => Err(Error::Key(
                "receipt key must be Ed25519 or ECDSA P-256".into(),
            )),
        }
    }

    /// The `PUBLIC KEY` PEM (SPKI) of this key.
    pub fn to_pem(&self) -> String {
        // The fixed SPKI prefixes of RFC 8410 (Ed25519) and RFC 5480 (P-256, uncompressed).
        const ED25519_PREFIX: &str = "302a300506032b6570032100";
        const P256_PREFIX: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200";
        let (prefix, raw) = match self {
            Self::Ed25519(k) => (ED25519_PREFIX, k),
            Self::P256(k) => (P256_PREFIX, k),
        };
        let mut der = hex::decode(prefix).unwrap_or_default();
        der.extend_from_slice(raw);
        der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &der).unwrap_or_default()
    }

    fn alg(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => "EdDSA",
            Self::P256(_) => "ES256",
        }
    }

    /// Verifies a compact JWS receipt and returns its payload. The header's `alg` must be the
    /// one of this key (no algorithm is taken on the sender's word).
    pub fn verify(&self, jws: &str) -> Result<Receipt, Error> {
        let jws = jws.trim();
        if jws.len() > MAX_RECEIPT_BYTES {
            return Err(transfer_error(format!(
                "receipt exceeds {MAX_RECEIPT_BYTES} bytes"
            )));
        }
        let mut parts = jws.split('.');
        let (Some(header), Some(payload), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(transfer_error("receipt is not a compact JWS".into()));
        };
        let decode = |part: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|e| transfer_error(format!("receipt {what} is not base64url: {e}")))
        };
        let header_json: serde_json::Value = serde_json::from_slice(&decode(header, "header")?)
            .map_err(|e| transfer_error(format!("receipt header: {e}")))?;
        if header_json.get("alg").and_then(|a| a.as_str()) != Some(self.alg()) {
            return Err(transfer_error(format!(
                "receipt alg must be {} for this department's key",
                self.alg()
            )));
        }
        let signature_bytes = decode(sig, "signature")?;
        let signing_input = format!("{header}.{payload}");
        let (algorithm, key): (&dyn signature::VerificationAlgorithm, &[u8]) = match self {
            Self::Ed25519(k) => (&signature::ED25519, k),
            Self::P256(k) => (&signature::ECDSA_P256_SHA256_FIXED, k),
        };
        signature::UnparsedPublicKey::new(algorithm, key)
            .verify(signing_input.as_bytes(), &signature_bytes)
            .map_err(|_| transfer_error("receipt signature does not verify".into()))?;
        serde_json::from_slice(&decode(payload, "payload")?)
            .map_err(|e| transfer_error(format!("receipt payload: {e}")))
    }
}

/// A department's receipt-signing key (PKCS#8 PEM: Ed25519 or P-256).
pub enum ReceiptSigner {
    /// Signs `EdDSA`.
    Ed25519(signature::Ed25519KeyPair),
    /// Signs `ES256`.
    P256(signature::EcdsaKeyPair),
}

impl std::fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ed25519(_) => "ReceiptSigner(Ed25519)",
            Self::P256(_) => "ReceiptSigner(P-256)",
        })
    }
}

impl ReceiptSigner {
    /// Reads a `PRIVATE KEY` PEM (PKCS#8).
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let (label, der) = der::pem::decode_vec(pem)
            .map_err(|e| Error::Key(format!("receipt signing key is not PEM: {e}")))?;
        if label != "PRIVATE KEY" {
            return Err(Error::Key(format!(
                "receipt signing key must be a PKCS#8 PRIVATE KEY PEM, not {label}"
            )));
        }
        if let Ok(pair) = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der) {
            return Ok(Self::Ed25519(pair));
        }
        signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &ring::rand::SystemRandom::new(),
        )
        .map(Self::P256)
        .map_err(|_| Error::Key("receipt signing key must be Ed25519 or P-256".into()))
    }

    /// The matching verification key.
    pub fn public_key(&self) -> ReceiptKey {
        match self {
            Self::Ed25519(k) => ReceiptKey::Ed25519(k.public_key().as_ref().to_vec()),
            Self::P256(k) => ReceiptKey::P256(k.public_key().as_ref().to_vec()),
        }
    }

    /// Signs `receipt` as a compact JWS.
    pub fn sign(&self, receipt: &Receipt) -> Result<String, Error> {
        let alg = self.public_key().alg();
        let header = URL_SAFE_NO_PAD
            .encode(serde_json::json!({ "alg": alg, "typ": "transfer-receipt+jws" }).to_string());
        let payload = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(receipt).map_err(|e| transfer_error(format!("receipt: {e}")))?,
        );
        let input = format!("{header}.{payload}");
        let signature = match self {
            Self::Ed25519(k) => k.sign(input.as_bytes()).as_ref().to_vec(),
            Self::P256(k) => k
                .sign(&ring::rand::SystemRandom::new(), input.as_bytes())
                .map_err(|_| Error::Key("cannot sign the receipt".into()))?
                .as_ref()
                .to_vec(),
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            delivery_id: "T-1".into(),
            kind: EnvelopeKind::Certificate,
            department: "DSAL".into(),
            sequence: 1,
            certificate_number: "CR-2026-000001".into(),
            pdf: Some(STANDARD.encode(b"%PDF-1.7")),
            status: None,
            reason: None,
            created_at: "2026-12-04T10:00:00Z".into(),
        }
    }

    #[test]
    fn webhook_signature_verifies_and_refuses_tampering_and_stale_timestamps() {
        let (signer, _) = TransferSigner::generate().expect("key");
        let body = envelope().to_body();
        let sig = signer.sign_webhook("T-1", 1_000, &body).expect("sign");
        let verify = |id: &str, ts: &str, body: &[u8], now: i64| {
            verify_webhook(
                signer.public_key(),
                Some(id),
                Some(ts),
                Some(&format!("v1,xx {sig}")),
                body,
                now,
            )
        };
        assert_eq!(verify("T-1", "1000", &body, 1_300), Ok(()));
        assert_eq!(
            verify("T-1", "1000", &body, 1_301),
            Err(WebhookError::Stale(301))
        );
        assert_eq!(
            verify("T-1", "1000", &body, 699),
            Err(WebhookError::Stale(-301))
        );
        assert_eq!(
            verify("T-2", "1000", &body, 1_000),
            Err(WebhookError::Signature)
        );
        let mut tampered = body.clone();
        tampered[10] ^= 1;
        assert_eq!(
            verify("T-1", "1000", &tampered, 1_000),
            Err(WebhookError::Signature)
        );
        let (other, _) = TransferSigner::generate().expect("key");
        assert_eq!(
            verify_webhook(
                other.public_key(),
                Some("T-1"),
                Some("1000"),
                Some(&sig),
                &body,
                1_000
            ),
            Err(WebhookError::Signature)
        );
    }

    #[test]
    fn envelope_kinds_carry_exactly_their_parts() {
        assert!(Envelope::parse(&envelope().to_body()).is_ok());
        let mut bad = envelope();
        bad.status = Some("REVOKED".into());
        assert!(Envelope::parse(&bad.to_body()).is_err());
        let mut change = envelope();
        change.kind = EnvelopeKind::StatusChange;
        change.pdf = None;
        change.status = Some("REVOKED".into());
        change.reason = Some("court order".into());
        assert!(Envelope::parse(&change.to_body()).is_ok());
        change.status = Some("LOST".into());
        assert!(Envelope::parse(&change.to_body()).is_err());
        assert!(Envelope::parse(br#"{"delivery_id":"x"}"#).is_err());
    }

    fn receipt() -> Receipt {
        Receipt {
            delivery_id: "T-1".into(),
            department: "DSAL".into(),
            body_sha256: sha256_hex(b"body"),
            pdf_sha256: None,
            result: ReceiptResult::Accepted,
            reason: None,
            received_at: "2026-12-04T10:00:00Z".into(),
        }
    }

    fn pem(label: &str, der: &[u8]) -> String {
        der::pem::encode_string(label, der::pem::LineEnding::LF, der).expect("pem")
    }

    #[test]
    fn receipts_round_trip_with_ed25519_and_p256_and_refuse_other_keys() {
        let rng = ring::rand::SystemRandom::new();
        let ed = signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("ed25519");
        let ec = signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .expect("p256");
        let ed_signer =
            ReceiptSigner::from_pem(pem("PRIVATE KEY", ed.as_ref()).as_bytes()).expect("ed signer");
        let ec_signer =
            ReceiptSigner::from_pem(pem("PRIVATE KEY", ec.as_ref()).as_bytes()).expect("ec signer");
        for signer in [&ed_signer, &ec_signer] {
            let jws = signer.sign(&receipt()).expect("sign");
            assert_eq!(signer.public_key().verify(&jws).expect("verify"), receipt());
            let mut forged = jws.clone();
            forged.pop();
            forged.push(if jws.ends_with('A') { 'B' } else { 'A' });
            assert!(signer.public_key().verify(&forged).is_err());
        }
        let ed_jws = ed_signer.sign(&receipt()).expect("sign");
        assert!(
            ec_signer.public_key().verify(&ed_jws).is_err(),
            "alg and key must match"
        );
        assert!(ReceiptKey::from_pem("not pem").is_err());
    }

    #[test]
    fn receipt_keys_are_read_from_spki_pem() {
        let rng = ring::rand::SystemRandom::new();
        let ec = signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .expect("p256");
        let pair = signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            ec.as_ref(),
            &rng,
        )
        .expect("pair");
        let expected = ReceiptKey::P256(pair.public_key().as_ref().to_vec());
        assert_eq!(
            ReceiptKey::from_pem(&expected.to_pem()).expect("key"),
            expected
        );
        let ed = ReceiptKey::Ed25519(vec![7; 32]);
        assert_eq!(ReceiptKey::from_pem(&ed.to_pem()).expect("key"), ed);
    }
}
