//! CMS SignedData (RFC 5652) in the CAdES form that PAdES baseline signatures and RFC 3161
//! tokens use: one signer, signed attributes content-type, message-digest and
//! signing-certificate-v2, and no signing-time (ETSI EN 319 142-1 §6.3 forbids it in PAdES).
//!
//! The cms 0.3 crate gives the types; it has no verification API, so [`verify`] checks the
//! structure, the attributes and the signature itself.

use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};

use crate::ess::SigningCertificateV2;
use crate::hierarchy::ecdsa_sha256;
use crate::signer::{SignatureEncoding, Signer};
use crate::tsp::{MessageImprint, TimestampSource};
use crate::{Error, oids};

/// Largest CMS structure accepted for verification.
pub const MAX_CMS_BYTES: usize = 64 * 1024;

/// What to sign.
#[derive(Clone, Copy)]
pub struct SignedDataRequest<'a> {
    /// The content type (id-data for PDF signatures, id-ct-TSTInfo for time stamps).
    pub content_type: ObjectIdentifier,
    /// SHA-256 of the content.
    pub content_digest: &'a [u8],
    /// The content, when it is encapsulated (time stamps); `None` for detached signatures.
    pub encapsulated: Option<&'a [u8]>,
    /// The signer's certificate.
    pub signer_certificate: &'a Certificate,
    /// Further certificates for validators (the issuing CA).
    pub extra_certificates: &'a [Certificate],
    /// The signer's key.
    pub signer: &'a dyn Signer,
    /// Where the signature time stamp comes from (PAdES B-T), if any.
    pub timestamp: Option<&'a dyn TimestampSource>,
}

impl std::fmt::Debug for SignedDataRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedDataRequest")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oids::SHA256,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: &impl Encode) -> Result<Attribute, Error> {
    let mut values = SetOfVec::new();
    values.insert(der::Any::from_der(&value.to_der()?)?)?;
    Ok(Attribute { oid, values })
}

/// Produces a DER ContentInfo holding the SignedData.
pub fn sign(request: &SignedDataRequest<'_>) -> Result<Vec<u8>, Error> {
    let cert = request.signer_certificate;
    let mut signed_attrs = SetOfVec::new();
    signed_attrs.insert(attribute(oids::ATTR_CONTENT_TYPE, &request.content_type)?)?;
    signed_attrs.insert(attribute(
        oids::ATTR_MESSAGE_DIGEST,
        &OctetString::new(request.content_digest)?,
    )?)?;
    signed_attrs.insert(attribute(
        oids::ATTR_SIGNING_CERTIFICATE_V2,
        &SigningCertificateV2::for_certificate(cert)?,
    )?)?;
    // The signature is over the DER SET OF (tag 0x31), not the [0] IMPLICIT form.
    let signature = request
        .signer
        .sign(&signed_attrs.to_der()?, SignatureEncoding::Der)?;

    let unsigned_attrs = match request.timestamp {
        None => None,
        Some(tsa) => {
            let token = tsa.timestamp(&MessageImprint::sha256_of(&signature)?)?;
            let mut set = SetOfVec::new();
            set.insert(attribute(
                oids::ATTR_TIMESTAMP_TOKEN,
                &der::Any::from_der(&token)?,
            )?)?;
            Some(set)
        }
    };

    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate().issuer().clone(),
            serial_number: cert.tbs_certificate().serial_number().clone(),
        }),
        digest_alg: sha256_algorithm(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: ecdsa_sha256(),
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let mut certificates = SetOfVec::new();
    for c in std::iter::once(cert).chain(request.extra_certificates) {
        certificates.insert(CertificateChoices::Certificate(c.clone()))?;
    }
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms.insert(sha256_algorithm())?;
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer_info)?;
    let econtent = match request.encapsulated {
        Some(content) => Some(der::Any::from_der(&OctetString::new(content)?.to_der()?)?),
        None => None,
    };
    let signed_data = SignedData {
        // RFC 5652 §5.1: version 3 when eContentType is not id-data.
        version: if request.content_type == oids::ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: request.content_type,
            econtent,
        },
        certificates: Some(CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    };
    let content_info = ContentInfo {
        content_type: oids::ID_SIGNED_DATA,
        content: der::Any::from_der(&signed_data.to_der()?)?,
    };
    Ok(content_info.to_der()?)
}

/// What a SignedData must be.
#[derive(Clone, Copy, Debug)]
pub enum Expect<'a> {
    /// A detached PAdES signature over content whose SHA-256 is given.
    Pades {
        /// SHA-256 of the ByteRange bytes.
        content_digest: &'a [u8],
    },
    /// An RFC 3161 TimeStampToken with encapsulated TSTInfo.
    TimestampToken,
}

/// A SignedData whose signature and attributes were checked (not yet its certificate chain).
#[derive(Debug)]
pub struct VerifiedSignedData {
    /// The certificate that made the signature.
    pub signer_certificate: Certificate,
    /// Every certificate in the structure.
    pub certificates: Vec<Certificate>,
    /// The encapsulated content, if any.
    pub encapsulated_content: Option<Vec<u8>>,
    /// The signature value.
    pub signature_value: Vec<u8>,
    /// The DER signature time-stamp token (unsigned attribute), if any.
    pub timestamp_token: Option<Vec<u8>>,
}

fn single_value<'a>(
    attrs: &'a SetOfVec<Attribute>,
    oid: ObjectIdentifier,
    what: &str,
) -> Result<Option<&'a der::Any>, Error> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() || attr.values.len() != 1 {
        return Err(Error::Cms(format!(
            "the {what} attribute must appear once with one value"
        )));
    }
    Ok(attr.values.get(0))
}

fn find_signer(certs: &[Certificate], sid: &SignerIdentifier) -> Result<Certificate, Error> {
    certs
        .iter()
        .find(|c| {
            let tbs = c.tbs_certificate();
            match sid {
                SignerIdentifier::IssuerAndSerialNumber(isn) => {
                    tbs.issuer() == &isn.issuer && tbs.serial_number() == &isn.serial_number
                }
                SignerIdentifier::SubjectKeyIdentifier(ski) => matches!(
                    tbs.get_extension::<SubjectKeyIdentifier>(),
                    Ok(Some((_, found))) if &found == ski
                ),
            }
        })
        .cloned()
        .ok_or_else(|| Error::Cms("the signer's certificate is not included".into()))
}

/// Checks a DER ContentInfo/SignedData: one signer, SHA-256, the required attributes, the
/// message digest, signing-certificate-v2 and the ECDSA signature.
pub fn verify(der_bytes: &[u8], expect: Expect<'_>) -> Result<VerifiedSignedData, Error> {
    if der_bytes.len() > MAX_CMS_BYTES {
        return Err(Error::Cms(format!(
            "CMS structure of {} bytes exceeds {MAX_CMS_BYTES}",
            der_bytes.len()
        )));
    }
    let content_info = ContentInfo::from_der(der_bytes)
        .map_err(|e| Error::Cms(format!("not a DER ContentInfo: {e}")))?;
    if content_info.content_type != oids::ID_SIGNED_DATA {
        return Err(Error::Cms("ContentInfo does not hold SignedData".into()));
    }
    let signed_data: SignedData = content_info
        .content
        .decode_as()
        .map_err(|e| Error::Cms(format!("bad SignedData: {e}")))?;
    let certificates: Vec<Certificate> = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let mut infos = signed_data.signer_infos.0.iter();
    let (Some(info), None) = (infos.next(), infos.next()) else {
        return Err(Error::Cms("exactly one SignerInfo is required".into()));
    };
    if info.digest_alg.oid != oids::SHA256 {
        return Err(Error::Cms(format!(
            "digest algorithm {} is not SHA-256",
            info.digest_alg.oid
        )));
    }
    if info.signature_algorithm.oid != oids::ECDSA_WITH_SHA256 {
        return Err(Error::Cms(format!(
            "signature algorithm {} is not ecdsa-with-SHA256",
            info.signature_algorithm.oid
        )));
    }
    let attrs = info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| Error::Cms("signed attributes are missing".into()))?;

    let econtent_type = signed_data.encap_content_info.econtent_type;
    let encapsulated_content = match &signed_data.encap_content_info.econtent {
        Some(any) => Some(any.decode_as::<OctetString>()?.into_bytes().into_vec()),
        None => None,
    };
    let (wanted_type, content_digest) = match expect {
        Expect::Pades { content_digest } => {
            if encapsulated_content.is_some() {
                return Err(Error::Cms("a PAdES signature must be detached".into()));
            }
            if single_value(attrs, oids::ATTR_SIGNING_TIME, "signing-time")?.is_some() {
                return Err(Error::Cms(
                    "PAdES forbids the signing-time attribute (the time is /M)".into(),
                ));
            }
            (oids::ID_DATA, content_digest.to_vec())
        }
        Expect::TimestampToken => {
            let content = encapsulated_content.as_deref().ok_or_else(|| {
                Error::Cms("a time-stamp token must encapsulate its TSTInfo".into())
            })?;
            (
                oids::ID_CT_TSTINFO,
                ring::digest::digest(&ring::digest::SHA256, content)
                    .as_ref()
                    .to_vec(),
            )
        }
    };
    if econtent_type != wanted_type {
        return Err(Error::Cms(format!(
            "content type {econtent_type} is not {wanted_type}"
        )));
    }
    let content_type = single_value(attrs, oids::ATTR_CONTENT_TYPE, "content-type")?
        .ok_or_else(|| Error::Cms("the content-type attribute is missing".into()))?
        .decode_as::<ObjectIdentifier>()?;
    if content_type != wanted_type {
        return Err(Error::Cms(
            "the content-type attribute does not match the content".into(),
        ));
    }
    let digest = single_value(attrs, oids::ATTR_MESSAGE_DIGEST, "message-digest")?
        .ok_or_else(|| Error::Cms("the message-digest attribute is missing".into()))?
        .decode_as::<OctetString>()?;
    if digest.as_bytes() != content_digest.as_slice() {
        return Err(Error::Cms(
            "message digest mismatch: the signed bytes were changed".into(),
        ));
    }
    let signer_certificate = find_signer(&certificates, &info.sid)?;
    let signing_cert = single_value(
        attrs,
        oids::ATTR_SIGNING_CERTIFICATE_V2,
        "signing-certificate-v2",
    )?
    .ok_or_else(|| Error::Cms("the signing-certificate-v2 attribute is missing".into()))?;
    SigningCertificateV2::from_attribute_value(signing_cert)?.check_names(&signer_certificate)?;

    let spki = signer_certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()?;
    let point = crate::x509::spki_ec_point(&spki)?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, point)
        .verify(&attrs.to_der()?, info.signature.as_bytes())
        .map_err(|_| {
            Error::Cms("the signature value does not verify with the signer's key".into())
        })?;

    let timestamp_token = match &info.unsigned_attrs {
        Some(unsigned) => {
            single_value(unsigned, oids::ATTR_TIMESTAMP_TOKEN, "signature-time-stamp")?
                .map(|v| v.to_der())
                .transpose()?
        }
        None => None,
    };
    Ok(VerifiedSignedData {
        signer_certificate,
        certificates,
        encapsulated_content,
        signature_value: info.signature.as_bytes().to_vec(),
        timestamp_token,
    })
}
