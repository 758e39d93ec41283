//! ESS signing-certificate-v2 (RFC 5035), which binds a CMS signature to its certificate.
//! No maintained crate of the der 0.8 generation provides it.

use der::asn1::OctetString;
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use crate::{Error, oids};

/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer         GeneralNames,
///     serialNumber   CertificateSerialNumber }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct IssuerSerial {
    /// The issuer of the certificate, as a directoryName.
    pub issuer: Vec<GeneralName>,
    /// The certificate's serial number.
    pub serial_number: SerialNumber,
}

/// ```text
/// ESSCertIDv2 ::= SEQUENCE {
///     hashAlgorithm  AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///     certHash       Hash,
///     issuerSerial   IssuerSerial OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct EssCertIdV2 {
    /// Absent means SHA-256 (DER omits the default).
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// Hash of the whole DER certificate.
    pub cert_hash: OctetString,
    /// Issuer and serial of the certificate.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// ```text
/// SigningCertificateV2 ::= SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SigningCertificateV2 {
    /// The signing certificate first; we never add others.
    pub certs: Vec<EssCertIdV2>,
    /// Not used.
    #[asn1(optional = "true")]
    pub policies: Option<der::Any>,
}

impl SigningCertificateV2 {
    /// The attribute value naming `cert` (SHA-256, with issuer and serial).
    pub fn for_certificate(cert: &Certificate) -> Result<Self, Error> {
        let der = cert.to_der()?;
        let hash = ring::digest::digest(&ring::digest::SHA256, &der);
        let tbs = cert.tbs_certificate();
        Ok(Self {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(hash.as_ref())?,
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                    serial_number: tbs.serial_number().clone(),
                }),
            }],
            policies: None,
        })
    }

    /// Checks that the first ESSCertIDv2 names `cert` (SHA-256 hash, and issuer/serial when
    /// present), as RFC 5035 §5.4 asks of relying parties.
    pub fn check_names(&self, cert: &Certificate) -> Result<(), Error> {
        let first = self
            .certs
            .first()
            .ok_or_else(|| Error::Cms("signing-certificate-v2 lists no certificate".into()))?;
        if let Some(alg) = first
            .hash_algorithm
            .as_ref()
            .filter(|a| a.oid != oids::SHA256)
        {
            return Err(Error::Cms(format!(
                "signing-certificate-v2 uses hash {}; only SHA-256 is accepted",
                alg.oid
            )));
        }
        let hash = ring::digest::digest(&ring::digest::SHA256, &cert.to_der()?);
        if first.cert_hash.as_bytes() != hash.as_ref() {
            return Err(Error::Cms(
                "signing-certificate-v2 does not match the signer's certificate".into(),
            ));
        }
        if let Some(is) = &first.issuer_serial {
            let tbs = cert.tbs_certificate();
            let issuer_matches = is
                .issuer
                .iter()
                .any(|g| matches!(g, GeneralName::DirectoryName(n) if n == tbs.issuer()));
            if !issuer_matches || &is.serial_number != tbs.serial_number() {
                return Err(Error::Cms(
                    "signing-certificate-v2 issuer/serial does not match the signer's certificate"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// Decodes the attribute value.
    pub fn from_attribute_value(value: &der::Any) -> Result<Self, Error> {
        Ok(Self::from_der(&value.to_der()?)?)
    }
}
