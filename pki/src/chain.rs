//! Certificate path validation against the one configured root (rustls-webpki), with the
//! purpose checks of SPEC §4 and CRL revocation checking.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use der::{Decode, Encode};
use rustls_pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;
use webpki::{
    BorrowedCertRevocationList, CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage,
    RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage as KeyUsageExt, KeyUsages};

use crate::Error;

/// The purposes an end-entity certificate can be checked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertPurpose {
    /// PDF signatures: EKU documentSigning, key usage digitalSignature + nonRepudiation.
    DocumentSigning,
    /// RFC 3161 time stamps: EKU timeStamping.
    TimeStamping,
    /// Tokens and status lists: the bureau's token-signing EKU.
    TokenSigning,
}

// DER contents (no tag and length) of the EKU OIDs, as webpki wants them; a unit test keeps
// them equal to `oids`.
const EKU_DOCUMENT_SIGNING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x24];
const EKU_TIME_STAMPING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
const EKU_TOKEN_SIGNING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x00, 0x83, 0x3e, 0x01, 0x01];

impl CertPurpose {
    fn eku_der(self) -> &'static [u8] {
        match self {
            Self::DocumentSigning => EKU_DOCUMENT_SIGNING_DER,
            Self::TimeStamping => EKU_TIME_STAMPING_DER,
            Self::TokenSigning => EKU_TOKEN_SIGNING_DER,
        }
    }

    fn required_key_usages(self) -> &'static [KeyUsages] {
        match self {
            Self::DocumentSigning => &[KeyUsages::DigitalSignature, KeyUsages::NonRepudiation],
            Self::TimeStamping | Self::TokenSigning => &[KeyUsages::DigitalSignature],
        }
    }
}

/// Why a path was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The certificate or a CRL could not be parsed.
    #[error("malformed certificate or CRL: {0}")]
    Malformed(String),
    /// No path to the configured root with the required purpose.
    #[error("does not chain to the configured root for {purpose:?}: {reason}")]
    Untrusted {
        /// The purpose checked.
        purpose: CertPurpose,
        /// webpki's reason.
        reason: String,
    },
    /// A certificate on the path is revoked.
    #[error("certificate revoked")]
    Revoked,
    /// A certificate on the path was outside its validity at the time checked.
    #[error("certificate not valid at {0}")]
    Expired(OffsetDateTime),
    /// Revocation checking was asked for, but no CRL was given.
    #[error("no revocation data (CRLs) to check the path against")]
    NoRevocationData,
    /// The key usage extension lacks a bit the purpose needs.
    #[error("key usage lacks {0}")]
    KeyUsage(&'static str),
}

/// Most validated paths remembered (then the memory starts over).
const MAX_CACHED_PATHS: usize = 4096;

/// Paths that validated, by the SHA-256 of everything the result depends on (purpose, end
/// entity, offered intermediates, CRLs), with the interval of time in which those same
/// inputs validate: the intersection of every offered certificate's validity and the CRLs'
/// `nextUpdate`. A long-running verifier sees the bureau's few certificates over and over, so
/// this turns ~12 signature checks per document into none; only successes are kept, and the
/// interval is conservative (it can only be narrower than the truth).
#[derive(Debug, Default)]
struct PathCache {
    entries: Mutex<HashMap<[u8; 32], (OffsetDateTime, OffsetDateTime)>>,
}

/// The one trust anchor a verifier is configured with.
#[derive(Debug, Clone)]
pub struct TrustRoot {
    der: Vec<u8>,
    cache: Arc<PathCache>,
}

impl TrustRoot {
    /// Accepts a DER root certificate (self-signed CA).
    pub fn from_der(der: Vec<u8>) -> Result<Self, Error> {
        webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
            .map_err(|e| Error::Certificate(format!("not a usable trust anchor: {e:?}")))?;
        Ok(Self {
            der,
            cache: Arc::default(),
        })
    }

    /// Accepts a PEM root certificate; the file must hold exactly one certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let mut certs = crate::hierarchy::pem_chain_to_der(pem)?;
        if certs.len() != 1 {
            return Err(Error::Certificate(format!(
                "the trust file must hold exactly one root certificate, found {}",
                certs.len()
            )));
        }
        Self::from_der(certs.remove(0))
    }

    /// The root's DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Validates `end_entity` for `purpose` at `at`, building the path through
    /// `intermediates`, and (when `crls` is given) requiring a CRL for every certificate on
    /// the path below the root.
    pub fn verify(
        &self,
        end_entity: &[u8],
        intermediates: &[&[u8]],
        purpose: CertPurpose,
        at: OffsetDateTime,
        crls: Option<&[&[u8]]>,
    ) -> Result<(), ChainError> {
        let key = cache_key(end_entity, intermediates, purpose, crls);
        let cached = self
            .cache
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .copied();
        if cached.is_some_and(|(from, until)| from <= at && at <= until) {
            return Ok(());
        }
        self.verify_uncached(end_entity, intermediates, purpose, at, crls)?;
        if let Some(window) = valid_window(&self.der, end_entity, intermediates, crls) {
            let mut entries = self
                .cache
                .entries
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if entries.len() >= MAX_CACHED_PATHS {
                entries.clear();
            }
            entries.insert(key, window);
        }
        Ok(())
    }

    fn verify_uncached(
        &self,
        end_entity: &[u8],
        intermediates: &[&[u8]],
        purpose: CertPurpose,
        at: OffsetDateTime,
        crls: Option<&[&[u8]]>,
    ) -> Result<(), ChainError> {
        if crls.is_some_and(<[&[u8]]>::is_empty) {
            return Err(ChainError::NoRevocationData);
        }
        let root = CertificateDer::from(self.der.as_slice());
        let anchor = webpki::anchor_from_trusted_cert(&root)
            .map_err(|e| ChainError::Malformed(format!("{e:?}")))?;
        let ee_der = CertificateDer::from(end_entity);
        let ee = EndEntityCert::try_from(&ee_der)
            .map_err(|e| ChainError::Malformed(format!("{e:?}")))?;
        let inter: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|c| CertificateDer::from(*c))
            .collect();
        let secs = u64::try_from(at.unix_timestamp()).map_err(|_| ChainError::Expired(at))?;
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));

        let parsed_crls: Vec<CertRevocationList<'_>> = match crls {
            Some(list) => list
                .iter()
                .map(|der| {
                    BorrowedCertRevocationList::from_der(der)
                        .map(CertRevocationList::from)
                        .map_err(|e| ChainError::Malformed(format!("CRL: {e:?}")))
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let crl_refs: Vec<&CertRevocationList<'_>> = parsed_crls.iter().collect();
        let revocation = match crls {
            Some(_) => Some(
                RevocationOptionsBuilder::new(&crl_refs)
                    .map_err(|_| ChainError::Malformed("no CRLs given".into()))?
                    .with_depth(RevocationCheckDepth::Chain)
                    .with_status_policy(UnknownStatusPolicy::Deny)
                    .with_expiration_policy(ExpirationPolicy::Enforce)
                    .build(),
            ),
            None => None,
        };
        let anchors = [anchor];
        ee.verify_for_usage(
            &[webpki::ring::ECDSA_P256_SHA256],
            &anchors,
            &inter,
            time,
            // `required_if_present` lets the CAs omit EKU; the end entity's EKU is required
            // below, since webpki applies one rule to every certificate on the path.
            KeyUsage::required_if_present(purpose.eku_der()),
            revocation,
            None,
        )
        .map_err(|e| match e {
            webpki::Error::CertRevoked => ChainError::Revoked,
            webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
                ChainError::Expired(at)
            }
            other => ChainError::Untrusted {
                purpose,
                reason: format!("{other:?}"),
            },
        })?;
        check_key_usage(end_entity, purpose)
    }
}

fn cache_key(
    end_entity: &[u8],
    intermediates: &[&[u8]],
    purpose: CertPurpose,
    crls: Option<&[&[u8]]>,
) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(purpose.eku_der());
    let mut add = |part: &[u8]| {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    };
    add(end_entity);
    for c in intermediates {
        add(c);
    }
    add(b"crls");
    for c in crls.unwrap_or(&[]) {
        add(c);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

/// The interval in which every offered certificate is valid and every CRL is fresh.
fn valid_window(
    root: &[u8],
    end_entity: &[u8],
    intermediates: &[&[u8]],
    crls: Option<&[&[u8]]>,
) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let mut from = OffsetDateTime::UNIX_EPOCH;
    let mut until = OffsetDateTime::now_utc() + time::Duration::days(365 * 100);
    for der in std::iter::once(&root)
        .chain(std::iter::once(&end_entity))
        .chain(intermediates.iter())
    {
        let cert = Certificate::from_der(der).ok()?;
        let validity = cert.tbs_certificate().validity();
        from = from.max(crate::hierarchy::from_x509_time(&validity.not_before).ok()?);
        until = until.min(crate::hierarchy::from_x509_time(&validity.not_after).ok()?);
    }
    for der in crls.unwrap_or(&[]) {
        let crl = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(der).ok()?;
        until = until
            .min(crate::hierarchy::from_x509_time(crl.tbs_cert_list.next_update.as_ref()?).ok()?);
    }
    (from <= until).then_some((from, until))
}

fn check_key_usage(end_entity: &[u8], purpose: CertPurpose) -> Result<(), ChainError> {
    let cert =
        Certificate::from_der(end_entity).map_err(|e| ChainError::Malformed(e.to_string()))?;
    let usage = match cert.tbs_certificate().get_extension::<KeyUsageExt>() {
        Ok(Some((_, ku))) => ku,
        Ok(None) => return Err(ChainError::KeyUsage("the key usage extension")),
        Err(e) => return Err(ChainError::Malformed(e.to_string())),
    };
    let has_eku = match cert.tbs_certificate().get_extension::<ExtendedKeyUsage>() {
        Ok(Some((_, eku))) => eku.0.iter().any(|oid| oid.as_bytes() == purpose.eku_der()),
        Ok(None) => false,
        Err(e) => return Err(ChainError::Malformed(e.to_string())),
    };
    if !has_eku {
        return Err(ChainError::Untrusted {
            purpose,
            reason: "the certificate lacks the extended key usage of its purpose".into(),
        });
    }
    for bit in purpose.required_key_usages() {
        if !usage.0.contains(*bit) {
            return Err(ChainError::KeyUsage(match bit {
                KeyUsages::NonRepudiation => "nonRepudiation",
                _ => "digitalSignature",
            }));
        }
    }
    Ok(())
}

/// The DER of a parsed certificate.
pub fn certificate_der(cert: &Certificate) -> Result<Vec<u8>, Error> {
    Ok(cert.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oids;

    #[test]
    fn eku_constants_match_the_oids() {
        assert_eq!(
            EKU_DOCUMENT_SIGNING_DER,
            oids::EKU_DOCUMENT_SIGNING.as_bytes()
        );
        assert_eq!(EKU_TIME_STAMPING_DER, oids::EKU_TIME_STAMPING.as_bytes());
        assert_eq!(
            EKU_TOKEN_SIGNING_DER,
            oids::EKU_CCR_TOKEN_SIGNING.as_bytes()
        );
    }
}
