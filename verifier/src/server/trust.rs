//! `GET /api/v1/trust`: the token-signing keys a browser needs to verify a QR token itself,
//! taken from the issuer's bundle and kept only when they chain to the configured root.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use time::OffsetDateTime;

use ccr_pki::chain::{CertPurpose, TrustRoot};
use ccr_pki::hierarchy::{from_x509_time, parse_certificate};

/// The answer of `GET /api/v1/trust`.
#[derive(Debug, Clone, Serialize)]
pub struct TrustAnswer {
    /// The issuer's public base URL.
    pub issuer: String,
    /// Token signers that chain to the root.
    pub token_signers: Vec<TokenSigner>,
    /// How long a browser may use a fetched status list without fetching it again.
    pub status_list_ttl_seconds: u64,
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
            let point = ccr_pki::x509::spki_ec_point(&spki).ok()?;
            // An uncompressed P-256 point: 0x04, then x and y of 32 bytes each.
            let (x, y) = match point.as_slice() {
                [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                _ => return None,
            };
            Some(TokenSigner {
                kid: hex::encode(ccr_pki::token::kid_for_certificate(der)),
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
