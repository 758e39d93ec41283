//! The trust bundle (SPEC §4): the certificates a verifier caches besides its root — the
//! issuing CA, the token signer and the TSA — and where the status lists are published.
//!
//! It is not signed: every certificate in it must chain to the verifier's configured root,
//! so a forged bundle can only fail to verify. `schemas/trust-bundle.schema.json` describes it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Error;

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
}

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
        }
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
    }
}
