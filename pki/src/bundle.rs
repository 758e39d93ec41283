//! The trust bundle (SPEC §4): the certificates a verifier caches besides its root — the
//! issuing CA, the token signer and the TSA — and where the status lists are published.
//!
//! It is not signed: every certificate in it must chain to the verifier's configured root,
//! so a forged bundle can only fail to verify. `schemas/trust-bundle.schema.json` describes it.
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
        }
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
        if bytes.len() > MAX_BUNDLE_BYTES || !bytes.trim_ascii_start().starts_with(b"{") {
            return Vec::new();
        }
        serde_json::from_slice::<Self>(bytes)
            .map(|b| b.usages.into_iter().take(MAX_USAGES).collect())
            .unwrap_or_default()
    }

    /// The JSON form.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// The DER certificates of a bundle given as JSON or as a PEM chain.
    pub fn certificates_from_bytes(bytes: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
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
/// against `not_before`/`not_after`.
pub fn token_signers(
    root: &TrustRoot,
    certificates: &[Vec<u8>],
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
            let point = crate::x509::spki_ec_point(&spki).ok()?;
            // An uncompressed P-256 point: 0x04, then x and y of 32 bytes each.
            let (x, y) = match point.as_slice() {
                [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                _ => return None,
            };
            Some(TokenSigner {
                kid: hex::encode(crate::token::kid_for_certificate(der)),
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
