//! The trust bundle (SPEC §4): the certificates a verifier caches besides its root — the
//! issuing CA, the token signer and the TSA — and where the status lists are published.
//!
//! Every certificate in it must chain to the verifier's configured root, so a forged bundle
//! cannot add a key; what only the bureau may say (which keys are retired or compromised, and
//! since when) is authenticated by publishing the bundle signed ([`signed`], SPEC §10), with a
//! `sequence` that only grows. `schemas/trust-bundle.schema.json` describes it.
//! It also names the configured usages in the three languages (display only: the usage
//! code itself is in the signed token).
//!
//! [`TrustAnswer`] is what the verification page's script fetches at `GET /api/v1/trust` from
//! whichever service serves the page (the verifier, or the issuer itself): the token signers
//! as JWKs, kept only when they chain to the root, and the usages' names.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Error;
use crate::chain::{CertPurpose, TrustRoot};
use crate::hierarchy::{from_x509_time, parse_certificate};

pub mod signed;

/// Largest bundle accepted.
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024;

/// One certificate of the bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleCertificate {
    /// `issuing-ca`, `token-signing` or `time-stamping`.
    pub purpose: String,
    /// The certificate, DER in standard base64.
    pub der: String,
}

/// The trust bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustBundle {
    /// The issuer's public base URL.
    pub issuer: String,
    /// The version of the bureau's key registry this bundle publishes: it grows with every
    /// rotation, retirement or compromise, and a verifier refuses a bundle with a lower one
    /// than it has seen (0 in bundles made before the key lifecycle).
    #[serde(default)]
    pub sequence: u64,
    /// When this bundle was produced.
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    /// The certificates.
    pub certificates: Vec<BundleCertificate>,
    /// The URIs of the current status lists.
    pub status_lists: Vec<String>,
    /// The usages a token's usage code may name, with their names (absent in older bundles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usages: Vec<Usage>,
    /// The bureau's transfer-signing keys (SPEC §9): raw Ed25519 keys, not certificates, so
    /// they are trusted only through a bundle the receiver fetched from the bureau it trusts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_keys: Vec<TransferKey>,
    /// Each published key's lifecycle (SPEC §10): when it became active, when it was retired
    /// or compromised. A key absent from this list is judged by its certificate alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyWindow>,
}

/// One key's window of use, as the bureau's key registry records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyWindow {
    /// `issuing-ca`, `document-signer`, `tsa`, `token-signer` or `transfer-signer`.
    pub role: String,
    /// Its key id (first 8 bytes of SHA-256 of the raw public key, hex; SPEC §10).
    pub key_id: String,
    /// `published`, `active` or `retired` (removed keys are not listed).
    pub state: String,
    /// From when it signs; absent while only published.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub active_from: Option<OffsetDateTime>,
    /// From when it no longer signs (verify-only for what it signed before).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub retired_at: Option<OffsetDateTime>,
    /// Set when the key was declared compromised: nothing it signed from then on is trusted.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub compromised_since: Option<OffsetDateTime>,
}

impl KeyWindow {
    /// Whether something this key signed at `signed_at` (an instant the verifier trusts: a
    /// time stamp from another key, or the token's own `iat` if nothing better) is within
    /// the key's window. A compromised key is judged from `compromised_since`: whatever
    /// claims a later time may be a forgery.
    pub fn judge(&self, signed_at: OffsetDateTime) -> Result<(), String> {
        if let Some(since) = self.compromised_since
            && signed_at >= since
        {
            return Err(format!(
                "key {} ({}) was declared compromised as of {since}; a signature made at \
                 {signed_at} is not trusted",
                self.key_id, self.role
            ));
        }
        match self.active_from {
            None => Err(format!(
                "key {} ({}) is published but was never active: it signs nothing yet",
                self.key_id, self.role
            )),
            Some(from) if signed_at < from => Err(format!(
                "key {} ({}) signed at {signed_at}, before it became active at {from}",
                self.key_id, self.role
            )),
            _ => match self.retired_at {
                Some(retired) if signed_at >= retired => Err(format!(
                    "key {} ({}) signed at {signed_at}, after it was retired at {retired}",
                    self.key_id, self.role
                )),
                _ => Ok(()),
            },
        }
    }
}

/// One transfer-signing key of the bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferKey {
    /// Its key id (first 8 bytes of SHA-256 of the public key, hex).
    pub key_id: String,
    /// `Ed25519`.
    pub algorithm: String,
    /// The raw public key in standard base64.
    pub public_key: String,
}

/// A usage of the certificate (SPEC §2): its code, as carried in the token, and its names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// The code carried in the token (`EMPLOYMENT`…).
    pub code: String,
    /// Traditional Chinese name.
    pub zh: String,
    /// Portuguese name.
    pub pt: String,
    /// English name.
    pub en: String,
}

/// Most usages a bundle may name (the schema's bound).
pub const MAX_USAGES: usize = 64;

impl TrustBundle {
    /// A bundle of `(purpose, DER)` certificates.
    pub fn new(
        issuer: &str,
        published_at: OffsetDateTime,
        certificates: &[(&str, &[u8])],
        status_lists: Vec<String>,
    ) -> Self {
        Self {
            issuer: issuer.to_owned(),
            sequence: 0,
            published_at,
            certificates: certificates
                .iter()
                .map(|(purpose, der)| BundleCertificate {
                    purpose: (*purpose).to_owned(),
                    der: STANDARD.encode(der),
                })
                .collect(),
            status_lists,
            usages: Vec::new(),
            transfer_keys: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// The same bundle publishing the key registry at `sequence` with these windows.
    #[must_use]
    pub fn with_keys(mut self, sequence: u64, keys: Vec<KeyWindow>) -> Self {
        self.sequence = sequence;
        self.keys = keys;
        self
    }

    /// The window the bundle gives the key with id `key_id` (hex), if any.
    pub fn window(&self, key_id: &str) -> Option<&KeyWindow> {
        self.keys.iter().find(|k| k.key_id == key_id)
    }

    /// The same bundle naming `usages`.
    #[must_use]
    pub fn with_usages(mut self, usages: Vec<Usage>) -> Self {
        self.usages = usages;
        self
    }

    /// The usages named by a bundle given as JSON; none for a PEM chain or an unreadable or
    /// oversized bundle (names are for display only: a page without them shows the code).
    pub fn usages_from_bytes(bytes: &[u8]) -> Vec<Usage> {
        if signed::is_signed(bytes) {
            return signed::payload_unverified(bytes)
                .map(|payload| Self::usages_from_bytes(&payload))
                .unwrap_or_default();
        }
        if bytes.len() > MAX_BUNDLE_BYTES || !bytes.trim_ascii_start().starts_with(b"{") {
            return Vec::new();
        }
        serde_json::from_slice::<Self>(bytes)
            .map(|b| b.usages.into_iter().take(MAX_USAGES).collect())
            .unwrap_or_default()
    }

    /// Adds the transfer-signing public key (raw Ed25519).
    #[must_use]
    pub fn with_transfer_key(mut self, public_key: &[u8]) -> Self {
        self.transfer_keys.push(TransferKey {
            key_id: crate::transfer::key_id(public_key),
            algorithm: "Ed25519".into(),
            public_key: STANDARD.encode(public_key),
        });
        self
    }

    /// Reads a JSON bundle (size-capped).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(Error::Certificate(format!(
                "trust bundle exceeds {MAX_BUNDLE_BYTES} bytes"
            )));
        }
        serde_json::from_slice(bytes)
            .map_err(|e| Error::Certificate(format!("not a trust bundle: {e}")))
    }

    /// The raw transfer-signing public keys.
    pub fn transfer_public_keys(&self) -> Result<Vec<Vec<u8>>, Error> {
        self.transfer_keys
            .iter()
            .filter(|k| k.algorithm == "Ed25519")
            .map(|k| {
                STANDARD
                    .decode(&k.public_key)
                    .map_err(|e| Error::Certificate(format!("transfer key {}: {e}", k.key_id)))
            })
            .collect()
    }

    /// The JSON form.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// The DER certificates of a bundle given as JSON or as a PEM chain.
    /// A signed bundle's certificates are read without checking its signature: each one
    /// must chain to the root wherever it is used.
    pub fn certificates_from_bytes(bytes: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        if signed::is_signed(bytes) {
            let payload = signed::payload_unverified(bytes)
                .ok_or_else(|| Error::Bundle("unreadable signed trust bundle".into()))?;
            return Self::certificates_from_bytes(&payload);
        }
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(Error::Certificate(format!(
                "trust bundle exceeds {MAX_BUNDLE_BYTES} bytes"
            )));
        }
        if bytes.trim_ascii_start().starts_with(b"{") {
            let bundle: Self = serde_json::from_slice(bytes)
                .map_err(|e| Error::Certificate(format!("not a trust bundle: {e}")))?;
            bundle
                .certificates
                .iter()
                .map(|c| {
                    STANDARD.decode(&c.der).map_err(|e| {
                        Error::Certificate(format!("bundle certificate {}: {e}", c.purpose))
                    })
                })
                .collect()
        } else {
            crate::hierarchy::pem_chain_to_der(bytes)
        }
    }
}

/// The answer of `GET /api/v1/trust`: what the verification page needs to verify a QR token
/// in the browser and to show it (the `Trust` schema of both services' OpenAPI documents).
#[derive(Debug, Clone, Serialize)]
pub struct TrustAnswer {
    /// The issuer's public base URL.
    pub issuer: String,
    /// Token signers that chain to the root.
    pub token_signers: Vec<TokenSigner>,
    /// How long a browser may use a fetched status list without fetching it again.
    pub status_list_ttl_seconds: u64,
    /// The usages' names, by code, for the page to show a token's usage in its language.
    pub usages: Vec<Usage>,
}

/// One token-signing key.
#[derive(Debug, Clone, Serialize)]
pub struct TokenSigner {
    /// The token's `kid`: hex of the first 8 bytes of SHA-256 over the certificate.
    pub kid: String,
    /// The public key (RFC 7517).
    pub jwk: Jwk,
    /// Start of the certificate's validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of the certificate's validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// A P-256 public key as a JWK, ready for WebCrypto's `importKey("jwk", …)`.
#[derive(Debug, Clone, Serialize)]
pub struct Jwk {
    /// Always `EC`.
    pub kty: &'static str,
    /// Always `P-256`.
    pub crv: &'static str,
    /// The x coordinate, base64url without padding.
    pub x: String,
    /// The y coordinate, base64url without padding.
    pub y: String,
}

/// The token signers among `certificates` (DER, the whole bundle), each validated for token
/// signing at `now` or, outside its validity, at the nearest instant inside it: a key
/// rotated out still verifies the tokens it signed, and the browser checks the token's `iat`
/// against `not_before`/`not_after`, narrowed to the key's window in `windows` (from its
/// activation to its retirement). A key declared compromised is left out: its tokens carry
/// an `iat` of the thief's choosing.
pub fn token_signers(
    root: &TrustRoot,
    certificates: &[Vec<u8>],
    windows: &[KeyWindow],
    now: OffsetDateTime,
) -> Vec<TokenSigner> {
    let pool: Vec<&[u8]> = certificates.iter().map(Vec::as_slice).collect();
    certificates
        .iter()
        .filter_map(|der| {
            let cert = parse_certificate(der).ok()?;
            let validity = cert.tbs_certificate().validity();
            let not_before = from_x509_time(&validity.not_before).ok()?;
            let not_after = from_x509_time(&validity.not_after).ok()?;
            if not_before > not_after {
                return None;
            }
            let at = now.clamp(not_before, not_after);
            root.verify(der, &pool, CertPurpose::TokenSigning, at, None)
                .ok()?;
            let spki =
                der::Encode::to_der(cert.tbs_certificate().subject_public_key_info()).ok()?;
            let key_id = hex::encode(crate::signer::key_id_of_spki(&spki).ok()?);
            let window = windows.iter().find(|w| w.key_id == key_id);
            if window.is_some_and(|w| w.compromised_since.is_some()) {
                return None;
            }
            let not_before = window
                .and_then(|w| w.active_from)
                .map_or(not_before, |from| from.max(not_before));
            let not_after = window
                .and_then(|w| w.retired_at)
                .map_or(not_after, |until| until.min(not_after));
            let point = crate::x509::spki_ec_point(&spki).ok()?;
            // An uncompressed P-256 point: 0x04, then x and y of 32 bytes each.
            let (x, y) = match point.as_slice() {
                [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                _ => return None,
            };
            Some(TokenSigner {
                kid: hex::encode(crate::signer::key_id_bytes(&point)),
                jwk: Jwk {
                    kty: "EC",
                    crv: "P-256",
                    x: URL_SAFE_NO_PAD.encode(x),
                    y: URL_SAFE_NO_PAD.encode(y),
                },
                not_before,
                not_after,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_pem_give_the_same_certificates() {
        let h = crate::hierarchy::generate_hierarchy(
            &crate::hierarchy::HierarchyNames::development(),
            "http://127.0.0.1:8080",
            OffsetDateTime::now_utc(),
        )
        .expect("hierarchy");
        let certs: [(&str, &[u8]); 2] = [
            ("issuing-ca", &h.issuing_ca.certificate_der),
            ("token-signing", &h.token_signer.certificate_der),
        ];
        let bundle = TrustBundle::new(
            "http://127.0.0.1:8080",
            OffsetDateTime::now_utc(),
            &certs,
            vec![],
        );
        let from_json = TrustBundle::certificates_from_bytes(&bundle.to_json()).expect("json");
        let mut pem = String::new();
        for (_, der) in certs {
            pem.push_str(&crate::hierarchy::der_to_pem("CERTIFICATE", der).expect("pem"));
        }
        let from_pem = TrustBundle::certificates_from_bytes(pem.as_bytes()).expect("pem");
        assert_eq!(from_json, from_pem);
        assert!(TrustBundle::certificates_from_bytes(b"{\"issuer\": 1}").is_err());
        assert!(TrustBundle::usages_from_bytes(&bundle.to_json()).is_empty());
        assert!(TrustBundle::usages_from_bytes(pem.as_bytes()).is_empty());
    }

    #[test]
    fn a_key_window_admits_only_what_was_signed_while_active() {
        let t = |h: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1_000_000 + h);
        let mut window = KeyWindow {
            role: "token-signer".into(),
            key_id: "00112233aabbccdd".into(),
            state: "published".into(),
            active_from: None,
            retired_at: None,
            compromised_since: None,
        };
        assert!(window.judge(t(0)).is_err(), "published, never active");
        window.active_from = Some(t(10));
        assert!(window.judge(t(9)).is_err(), "before activation");
        assert!(window.judge(t(10)).is_ok());
        window.retired_at = Some(t(20));
        assert!(
            window.judge(t(19)).is_ok(),
            "signed while active: still trusted"
        );
        assert!(window.judge(t(20)).is_err(), "after retirement");
        window.compromised_since = Some(t(15));
        assert!(window.judge(t(14)).is_ok(), "before the compromise");
        let err = window.judge(t(15)).expect_err("compromised");
        assert!(err.contains("compromised"), "{err}");
    }

    #[test]
    fn usages_travel_in_the_bundle_and_older_bundles_still_parse() {
        let usage = Usage {
            code: "EMPLOYMENT".into(),
            zh: "就業".into(),
            pt: "Emprego".into(),
            en: "Employment".into(),
        };
        let bundle = TrustBundle::new(
            "http://127.0.0.1:8080",
            OffsetDateTime::now_utc(),
            &[],
            vec![],
        )
        .with_usages(vec![usage.clone()]);
        let json = bundle.to_json();
        assert_eq!(TrustBundle::usages_from_bytes(&json), vec![usage]);
        let old = br#"{"issuer": "http://x", "published_at": "2026-11-21T08:00:00Z",
            "certificates": [], "status_lists": []}"#;
        assert!(TrustBundle::certificates_from_bytes(old).is_ok());
        assert!(TrustBundle::usages_from_bytes(old).is_empty());
    }
}
