//! The bureau's certificate hierarchy (SPEC §4): profiles, certificate and CRL issuance.
//!
//! Root CA → Issuing CA → end-entity certificates by purpose (document signing, time
//! stamping, token signing). Certificates are assembled from their RFC 5280 ASN.1 here
//! because x509-cert 0.3 keeps `TBSCertificate` fields private outside its builder, and its
//! builder wants the RustCrypto `signature` traits where our keys sit behind [`Signer`].

use std::str::FromStr;

use der::asn1::{BitString, OctetString, SetOfVec, Uint};
use der::{Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, CrlNumber, ExtendedKeyUsage,
    KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, Extensions};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::signer::{SignatureEncoding, Signer};
use crate::{Error, oids};

/// What a certificate is for; each purpose has one fixed profile of extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The offline trust anchor.
    RootCa,
    /// The online CA that issues the end-entity certificates and the CRL.
    IssuingCa,
    /// PDF signatures: digitalSignature + nonRepudiation, EKU documentSigning.
    DocumentSigning,
    /// RFC 3161 time stamps: EKU timeStamping, critical.
    TimeStamping,
    /// QR tokens and status lists.
    TokenSigning,
}

/// What to put in a new certificate.
#[derive(Debug)]
pub struct CertificateTemplate<'a> {
    /// The profile.
    pub purpose: Purpose,
    /// The subject as an RFC 4514 string, e.g. `CN=…,O=…,C=MO`.
    pub subject: &'a str,
    /// The subject's public key (DER SubjectPublicKeyInfo).
    pub subject_spki_der: &'a [u8],
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Where relying parties fetch the issuer's CRL (absent on the root).
    pub crl_uri: Option<&'a str>,
}

/// The issuer of a certificate or CRL: its certificate and key.
#[derive(Clone, Copy, Debug)]
pub struct Issuer<'a> {
    /// The issuer's certificate.
    pub certificate: &'a Certificate,
    /// The issuer's key.
    pub key: &'a dyn Signer,
}

/// TBSCertificate (RFC 5280 §4.1), mirrored because x509-cert 0.3 does not let us build it.
///
/// ```text
/// TBSCertificate  ::=  SEQUENCE  {
///      version         [0]  EXPLICIT Version DEFAULT v1,
///      serialNumber         CertificateSerialNumber,
///      signature            AlgorithmIdentifier,
///      issuer               Name,
///      validity             Validity,
///      subject              Name,
///      subjectPublicKeyInfo SubjectPublicKeyInfo,
///      extensions      [3]  EXPLICIT Extensions OPTIONAL }
/// ```
#[derive(Sequence)]
struct TbsCertificateV3 {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Extensions,
}

/// Certificate (RFC 5280 §4.1) around an already-encoded TBSCertificate.
///
/// ```text
/// Certificate  ::=  SEQUENCE  {
///      tbsCertificate       TBSCertificate,
///      signatureAlgorithm   AlgorithmIdentifier,
///      signatureValue       BIT STRING  }
/// ```
#[derive(Sequence)]
struct SignedEnvelope {
    tbs: der::Any,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// The algorithm identifier of our signatures (ecdsa-with-SHA256, parameters absent).
pub fn ecdsa_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oids::ECDSA_WITH_SHA256,
        parameters: None,
    }
}

/// Converts an instant to an X.509 time (UTCTime before 2050, GeneralizedTime after).
pub fn x509_time(at: OffsetDateTime) -> Result<Time, Error> {
    let secs = u64::try_from(at.unix_timestamp())
        .map_err(|_| Error::Certificate("times before 1970 are not supported".into()))?;
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))?;
    Ok(Time::from(dt))
}

/// Converts an X.509 time to an instant.
pub fn from_x509_time(t: &Time) -> Result<OffsetDateTime, Error> {
    let secs = i64::try_from(t.to_unix_duration().as_secs())
        .map_err(|_| Error::Certificate("time out of range".into()))?;
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| Error::Certificate(e.to_string()))
}

fn extension(
    oid: der::asn1::ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> Result<Extension, Error> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// The key identifier of a public key: SHA-256 of the subjectPublicKey bits, truncated to 160
/// bits (RFC 7093 §2 method 1).
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, Error> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, spki.subject_public_key.raw_bytes());
    Ok(digest.as_ref()[..20].to_vec())
}

fn random_serial() -> Result<SerialNumber, Error> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| Error::Key("random generator failed".into()))?;
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x40; // and exactly 16 bytes long
    Ok(SerialNumber::new(&bytes)?)
}

fn crl_distribution_point(uri: &str) -> Result<CrlDistributionPoints, Error> {
    let uri = der::asn1::Ia5String::new(uri)?;
    Ok(CrlDistributionPoints(vec![DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![
            GeneralName::UniformResourceIdentifier(uri),
        ])),
        reasons: None,
        crl_issuer: None,
    }]))
}

fn profile_extensions(
    template: &CertificateTemplate<'_>,
    issuer_spki_der: &[u8],
) -> Result<Extensions, Error> {
    let is_ca = matches!(template.purpose, Purpose::RootCa | Purpose::IssuingCa);
    let mut exts = Vec::new();
    let path_len = match template.purpose {
        Purpose::RootCa => None,
        Purpose::IssuingCa => Some(0),
        _ => None,
    };
    exts.push(extension(
        oids::EXT_BASIC_CONSTRAINTS,
        true,
        &BasicConstraints {
            ca: is_ca,
            path_len_constraint: path_len,
        },
    )?);
    let usages = match template.purpose {
        Purpose::RootCa | Purpose::IssuingCa => KeyUsages::KeyCertSign | KeyUsages::CRLSign,
        Purpose::DocumentSigning | Purpose::TimeStamping => {
            KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
        }
        Purpose::TokenSigning => KeyUsages::DigitalSignature.into(),
    };
    exts.push(extension(oids::EXT_KEY_USAGE, true, &KeyUsage(usages))?);
    // RFC 3161 §2.3: the TSA certificate's EKU is timeStamping only, and critical.
    // documentSigning (RFC 9336) names the purpose; emailProtection rides along because NSS
    // (poppler's pdfsig, Firefox's PDF viewer) judges PDF signers by the S/MIME usage and
    // rejects a signer whose EKU lacks it.
    let eku = match template.purpose {
        Purpose::RootCa | Purpose::IssuingCa => None,
        Purpose::DocumentSigning => Some((
            false,
            vec![oids::EKU_DOCUMENT_SIGNING, oids::EKU_EMAIL_PROTECTION],
        )),
        Purpose::TimeStamping => Some((true, vec![oids::EKU_TIME_STAMPING])),
        Purpose::TokenSigning => Some((false, vec![oids::EKU_CCR_TOKEN_SIGNING])),
    };
    if let Some((critical, purposes)) = eku {
        exts.push(extension(
            oids::EXT_EXTENDED_KEY_USAGE,
            critical,
            &ExtendedKeyUsage(purposes),
        )?);
    }
    exts.push(extension(
        oids::EXT_SUBJECT_KEY_ID,
        false,
        &SubjectKeyIdentifier(OctetString::new(key_identifier(
            template.subject_spki_der,
        )?)?),
    )?);
    if template.purpose != Purpose::RootCa {
        exts.push(extension(
            oids::EXT_AUTHORITY_KEY_ID,
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(key_identifier(issuer_spki_der)?)?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?);
    }
    if let Some(uri) = template.crl_uri {
        exts.push(extension(
            oids::EXT_CRL_DISTRIBUTION_POINTS,
            false,
            &crl_distribution_point(uri)?,
        )?);
    }
    Ok(exts)
}

/// Signs DER `tbs` with `key` and wraps it as `SEQUENCE { tbs, algorithm, signature }`, the
/// shape shared by certificates and CRLs.
fn sign_envelope(tbs_der: Vec<u8>, key: &dyn Signer) -> Result<Vec<u8>, Error> {
    let signature = key.sign(&tbs_der, SignatureEncoding::Der)?;
    let envelope = SignedEnvelope {
        tbs: der::Any::from_der(&tbs_der)?,
        signature_algorithm: ecdsa_sha256(),
        signature: BitString::from_bytes(&signature)?,
    };
    Ok(envelope.to_der()?)
}

/// Issues a certificate. `issuer` is `None` for a self-signed root, whose key is `self_key`.
pub fn issue_certificate(
    template: &CertificateTemplate<'_>,
    issuer: Option<Issuer<'_>>,
    self_key: Option<&dyn Signer>,
) -> Result<Vec<u8>, Error> {
    let subject = Name::from_str(template.subject)?;
    let (issuer_name, issuer_spki, key) = match (issuer, self_key) {
        (Some(i), _) => (
            i.certificate.tbs_certificate().subject().clone(),
            i.certificate
                .tbs_certificate()
                .subject_public_key_info()
                .to_der()?,
            i.key,
        ),
        (None, Some(k)) => (subject.clone(), template.subject_spki_der.to_vec(), k),
        (None, None) => {
            return Err(Error::Certificate(
                "no issuer and no self-signing key".into(),
            ));
        }
    };
    let tbs = TbsCertificateV3 {
        version: 2,
        serial_number: random_serial()?,
        signature: ecdsa_sha256(),
        issuer: issuer_name,
        validity: Validity::new(
            x509_time(template.not_before)?,
            x509_time(template.not_after)?,
        ),
        subject,
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(template.subject_spki_der)?,
        extensions: profile_extensions(template, &issuer_spki)?,
    };
    sign_envelope(tbs.to_der()?, key)
}

/// A revoked certificate as listed in a CRL.
#[derive(Clone, Debug)]
pub struct Revocation {
    /// The certificate's serial number (big-endian, as in the certificate).
    pub serial: Vec<u8>,
    /// When it was revoked (for a key compromise: from when it is no longer trusted).
    pub revoked_at: OffsetDateTime,
    /// The reason code entry extension (RFC 5280 §5.3.1), if any.
    pub reason: Option<x509_cert::ext::pkix::CrlReason>,
}

/// Issues a v2 CRL signed by `issuer`.
pub fn issue_crl(
    issuer: Issuer<'_>,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    crl_number: u64,
    revoked: &[Revocation],
) -> Result<Vec<u8>, Error> {
    let issuer_spki = issuer
        .certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()?;
    let revoked_certificates = if revoked.is_empty() {
        None
    } else {
        let mut list: Vec<RevokedCert> = Vec::with_capacity(revoked.len());
        for r in revoked {
            list.push(RevokedCert {
                serial_number: SerialNumber::new(&r.serial)?,
                revocation_date: x509_time(r.revoked_at)?,
                crl_entry_extensions: match r.reason {
                    Some(reason) => Some(vec![extension(
                        <x509_cert::ext::pkix::CrlReason as const_oid::AssociatedOid>::OID,
                        false,
                        &reason,
                    )?]),
                    None => None,
                },
            });
        }
        Some(list)
    };
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: ecdsa_sha256(),
        issuer: issuer.certificate.tbs_certificate().subject().clone(),
        this_update: x509_time(this_update)?,
        next_update: Some(x509_time(next_update)?),
        revoked_certificates,
        crl_extensions: Some(vec![
            extension(
                oids::EXT_AUTHORITY_KEY_ID,
                false,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(key_identifier(&issuer_spki)?)?),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                },
            )?,
            extension(
                oids::EXT_CRL_NUMBER,
                false,
                &CrlNumber(Uint::new(&crl_number.to_be_bytes())?),
            )?,
        ]),
    };
    let der = sign_envelope(tbs.to_der()?, issuer.key)?;
    // Round-trip through the typed structure so an encoding slip is caught here, not by a
    // relying party.
    CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&der)?;
    Ok(der)
}

/// Checks that `cert` names `issuer` as its issuer and carries an ecdsa-with-SHA256
/// signature by `issuer`'s key (nothing else: paths are validated by `chain`).
pub fn verify_issued_by(cert: &Certificate, issuer: &Certificate) -> Result<(), Error> {
    let refused = |why: &str| Error::Certificate(format!("certificate: {why}"));
    if cert.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return Err(refused("its issuer is not the given issuer's subject"));
    }
    signed_by(
        &cert.tbs_certificate().to_der()?,
        &cert.signature_algorithm().oid,
        cert.signature(),
        issuer,
    )
    .map_err(refused)
}

/// Checks an ecdsa-with-SHA256 signature over `tbs_der` by `issuer`'s P-256 key; says why not.
fn signed_by(
    tbs_der: &[u8],
    algorithm: &const_oid::ObjectIdentifier,
    signature: &BitString,
    issuer: &Certificate,
) -> Result<(), &'static str> {
    if *algorithm != oids::ECDSA_WITH_SHA256 {
        return Err("not signed with ecdsa-with-SHA256");
    }
    let spki = issuer
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|_| "the issuer's key cannot be encoded")?;
    let point =
        crate::x509::spki_ec_point(&spki).map_err(|_| "the issuer's key is not a P-256 key")?;
    let signature = signature
        .as_bytes()
        .ok_or("the signature has unused bits")?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, point)
        .verify(tbs_der, signature)
        .map_err(|_| "the signature does not verify with the issuer's key")
}

/// What a CRL verified by [`verify_crl`] says.
#[derive(Clone, Debug)]
pub struct VerifiedCrl {
    /// Its CRL number (RFC 5280 §5.2.3).
    pub number: u64,
    /// `thisUpdate`.
    pub this_update: OffsetDateTime,
    /// `nextUpdate`.
    pub next_update: Option<OffsetDateTime>,
    /// What it lists: each serial (big-endian, as in the certificates) with its revocation
    /// date and reason code.
    pub revoked: Vec<Revocation>,
}

impl VerifiedCrl {
    /// Whether it lists the certificate with serial number `serial` (big-endian).
    pub fn lists(&self, serial: &[u8]) -> bool {
        self.revoked.iter().any(|r| r.serial == serial)
    }
}

/// Checks that `crl_der` is a v2 CRL issued by `issuer` (its name, and its ecdsa-with-SHA256
/// signature under `issuer`'s key) with a CRL number, and says what it lists.
pub fn verify_crl(crl_der: &[u8], issuer: &Certificate) -> Result<VerifiedCrl, Error> {
    let refused = |why: String| Error::Certificate(format!("CRL: {why}"));
    let crl = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(crl_der)
        .map_err(|e| refused(format!("not a DER CRL: {e}")))?;
    let tbs = &crl.tbs_cert_list;
    if tbs.issuer != *issuer.tbs_certificate().subject() {
        return Err(refused(format!(
            "issued by {}, not by {}",
            tbs.issuer,
            issuer.tbs_certificate().subject()
        )));
    }
    signed_by(
        &tbs.to_der()?,
        &crl.signature_algorithm.oid,
        &crl.signature,
        issuer,
    )
    .map_err(|why| refused(why.into()))?;
    let number = tbs
        .crl_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == oids::EXT_CRL_NUMBER)
        .ok_or_else(|| refused("no CRL number".into()))
        .and_then(|e| {
            let number = CrlNumber::from_der(e.extn_value.as_bytes())?;
            let bytes = number.0.as_bytes();
            if bytes.len() > 8 {
                return Err(refused("a CRL number wider than 64 bits".into()));
            }
            let mut wide = [0u8; 8];
            wide[8 - bytes.len()..].copy_from_slice(bytes);
            Ok(u64::from_be_bytes(wide))
        })?;
    Ok(VerifiedCrl {
        number,
        this_update: from_x509_time(&tbs.this_update)?,
        next_update: tbs.next_update.as_ref().map(from_x509_time).transpose()?,
        revoked: tbs
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| {
                let reason = r
                    .crl_entry_extensions
                    .iter()
                    .flatten()
                    .find(|e| {
                        e.extn_id
                            == <x509_cert::ext::pkix::CrlReason as const_oid::AssociatedOid>::OID
                    })
                    .map(|e| x509_cert::ext::pkix::CrlReason::from_der(e.extn_value.as_bytes()))
                    .transpose()?;
                Ok(Revocation {
                    serial: r.serial_number.as_bytes().to_vec(),
                    revoked_at: from_x509_time(&r.revocation_date)?,
                    reason,
                })
            })
            .collect::<Result<_, Error>>()?,
    })
}

/// The DER of `bytes`, given either as DER or as one PEM block labelled `label` (e.g.
/// `X509 CRL`, `CERTIFICATE REQUEST`), as operators carry them between machines.
pub fn der_from_pem_or_der(bytes: &[u8], label: &str) -> Result<Vec<u8>, Error> {
    if !bytes.starts_with(b"-----BEGIN") {
        return Ok(bytes.to_vec());
    }
    let (found, der) = der::pem::decode_vec(bytes)
        .map_err(|e| Error::Certificate(format!("not a {label} PEM block: {e}")))?;
    if found != label {
        return Err(Error::Certificate(format!(
            "expected a {label} PEM block, found {found}"
        )));
    }
    Ok(der)
}

/// Parses a DER certificate.
pub fn parse_certificate(der: &[u8]) -> Result<Certificate, Error> {
    Certificate::from_der(der)
        .map_err(|e| Error::Certificate(format!("not a DER certificate: {e}")))
}

/// The certificates of a PEM bundle, in order, as DER.
pub fn pem_chain_to_der(pem: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let certs = Certificate::load_pem_chain(pem)
        .map_err(|e| Error::Certificate(format!("not a PEM certificate bundle: {e}")))?;
    certs
        .iter()
        .map(|c| c.to_der().map_err(Error::from))
        .collect()
}

/// Encodes DER certificates as one PEM bundle.
pub fn der_to_pem(label: &str, der: &[u8]) -> Result<String, Error> {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der)
        .map_err(|e| Error::Der(e.to_string()))
}

/// Helper for callers building attribute sets.
pub fn set_of<T: der::DerOrd + Clone>(items: Vec<T>) -> Result<SetOfVec<T>, Error> {
    Ok(SetOfVec::try_from(items)?)
}

/// One key and certificate of the hierarchy, as generated.
#[derive(Debug)]
pub struct GeneratedEntity {
    /// The purpose.
    pub purpose: Purpose,
    /// PKCS#8 DER of the private key (to be stored with mode 0600).
    pub pkcs8: Vec<u8>,
    /// DER certificate.
    pub certificate_der: Vec<u8>,
}

/// A whole hierarchy generated for development and tests.
#[derive(Debug)]
pub struct GeneratedHierarchy {
    /// Root CA.
    pub root: GeneratedEntity,
    /// Issuing CA.
    pub issuing_ca: GeneratedEntity,
    /// Document signer.
    pub document_signer: GeneratedEntity,
    /// Time-stamp authority.
    pub tsa: GeneratedEntity,
    /// Token signer.
    pub token_signer: GeneratedEntity,
}

/// Subject names of the hierarchy. The development PKI marks itself in the OU so that nobody
/// mistakes its certificates for the bureau's.
#[derive(Clone, Debug)]
pub struct HierarchyNames {
    /// Appended to every subject, e.g. `OU=DEVELOPMENT PKI - NOT FOR PRODUCTION,O=…,C=MO`.
    pub suffix: String,
    /// Which issuing CA an issuing-CA certificate is for: 1 for the first, n for the one
    /// the (n-1)th rotation made (see [`issuing_ca_common_name`]).
    pub issuing_generation: u32,
}

impl HierarchyNames {
    /// The names of a development hierarchy.
    pub fn development() -> Self {
        Self {
            suffix: "OU=DEVELOPMENT PKI - NOT FOR PRODUCTION,O=Identification Services Bureau,C=MO"
                .into(),
            issuing_generation: 1,
        }
    }

    /// The same names for the issuing CA of `generation` (1 for the first).
    pub fn for_issuing_generation(mut self, generation: u32) -> Self {
        self.issuing_generation = generation.max(1);
        self
    }

    /// The subject (RFC 4514) of the entity with common name `cn`.
    pub fn subject(&self, cn: &str) -> String {
        format!("CN={cn},{}", self.suffix)
    }
}

/// Lifetimes of the generated certificates.
const ROOT_YEARS: i64 = 20;
const ISSUING_YEARS: i64 = 10;
const END_ENTITY_YEARS: i64 = 3;

/// The common name of each entity of the bureau's hierarchy.
pub fn common_name(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::RootCa => "DSI Criminal Record Root CA",
        Purpose::IssuingCa => "DSI Criminal Record Issuing CA",
        Purpose::DocumentSigning => "DSI Criminal Record Document Signer",
        Purpose::TimeStamping => "DSI Time-Stamping Authority",
        Purpose::TokenSigning => "DSI Criminal Record Token Signer",
    }
}

/// The common name of the bureau's issuing CA of `generation`: the first is
/// "DSI Criminal Record Issuing CA", the next "… Issuing CA G2" and so on. Two issuing CAs
/// never share a name, since a CRL is matched to its issuer by name (RFC 5280 §6.3.3) and
/// the old CA keeps publishing CRLs for what it certified while the new one issues.
pub fn issuing_ca_common_name(generation: u32) -> String {
    let base = common_name(Purpose::IssuingCa);
    match generation {
        0 | 1 => base.to_owned(),
        n => format!("{base} G{n}"),
    }
}

/// The generation of an issuing CA certificate, read back from its common name
/// ([`issuing_ca_common_name`]); 1 for any other name.
pub fn issuing_ca_generation(ca: &Certificate) -> u32 {
    subject_common_name(ca)
        .as_deref()
        .and_then(|cn| cn.strip_prefix(common_name(Purpose::IssuingCa)))
        .and_then(|rest| rest.strip_prefix(" G"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// The file name, under `<public url>/crl/`, of the CRL of the issuing CA of `generation`:
/// `issuing-ca.crl` for the first, `issuing-ca-g<n>.crl` after.
pub fn issuing_ca_crl_file(generation: u32) -> String {
    match generation {
        0 | 1 => "issuing-ca.crl".to_owned(),
        n => format!("issuing-ca-g{n}.crl"),
    }
}

/// The first common name (CN) of a certificate's subject.
pub fn subject_common_name(cert: &Certificate) -> Option<String> {
    cert.tbs_certificate()
        .subject()
        .to_string()
        .split(',')
        .find_map(|part| part.trim().strip_prefix("CN="))
        .map(str::to_owned)
}

/// Certifies the public key `subject_spki_der` for `purpose` in the bureau's hierarchy,
/// valid from `now` minus a small clock allowance, with the profile's lifetime. `issuer` is
/// the root for the issuing CA and the issuing CA for the end entities; `None` self-signs
/// the root with `self_key`. `public_url` is where the CRLs are published
/// (`<url>/crl/root.crl`, and the issuer's [`issuing_ca_crl_file`] for end entities). An
/// issuing CA is named for `names.issuing_generation`. Used for the development hierarchy
/// and for keys generated in a token, whatever signer holds them.
pub fn certify(
    names: &HierarchyNames,
    purpose: Purpose,
    subject_spki_der: &[u8],
    issuer: Option<Issuer<'_>>,
    self_key: Option<&dyn Signer>,
    public_url: &str,
    now: OffsetDateTime,
) -> Result<Vec<u8>, Error> {
    let years = |n: i64| now + time::Duration::days(365 * n);
    let root_crl = format!("{public_url}/crl/root.crl");
    let issuer_generation = issuer
        .as_ref()
        .map_or(1, |i| issuing_ca_generation(i.certificate));
    let issuing_crl = format!(
        "{public_url}/crl/{}",
        issuing_ca_crl_file(issuer_generation)
    );
    let (not_after, crl_uri) = match purpose {
        Purpose::RootCa => (years(ROOT_YEARS), None),
        Purpose::IssuingCa => (years(ISSUING_YEARS), Some(root_crl.as_str())),
        _ => (years(END_ENTITY_YEARS), Some(issuing_crl.as_str())),
    };
    issue_certificate(
        &CertificateTemplate {
            purpose,
            subject: &match purpose {
                Purpose::IssuingCa => {
                    names.subject(&issuing_ca_common_name(names.issuing_generation))
                }
                _ => names.subject(common_name(purpose)),
            },
            subject_spki_der,
            not_before: now - time::Duration::minutes(10),
            not_after,
            crl_uri,
        },
        issuer,
        self_key,
    )
}

/// A fresh root: its P-256 key, the key's PKCS#8 (to be stored with mode 0600) and its
/// self-signed certificate (DER), valid from `now` minus a small clock allowance.
pub fn generate_root(
    names: &HierarchyNames,
    public_url: &str,
    now: OffsetDateTime,
) -> Result<(crate::signer::FileKey, Vec<u8>, Vec<u8>), Error> {
    let (key, pkcs8) = crate::signer::FileKey::generate()?;
    let der = certify(
        names,
        Purpose::RootCa,
        key.public_key_spki_der(),
        None,
        Some(&key),
        public_url,
        now,
    )?;
    Ok((key, pkcs8, der))
}

/// Generates a complete hierarchy (fresh P-256 keys) valid from `now` minus a small clock
/// allowance. `public_url` is where the CRLs are published (`<url>/crl/root.crl`, …).
pub fn generate_hierarchy(
    names: &HierarchyNames,
    public_url: &str,
    now: OffsetDateTime,
) -> Result<GeneratedHierarchy, Error> {
    use crate::signer::FileKey;
    let (root_key, root_pkcs8, root_der) = generate_root(names, public_url, now)?;
    let root_cert = parse_certificate(&root_der)?;

    let (ca_key, ca_pkcs8) = FileKey::generate()?;
    let ca_der = certify(
        names,
        Purpose::IssuingCa,
        ca_key.public_key_spki_der(),
        Some(Issuer {
            certificate: &root_cert,
            key: &root_key,
        }),
        None,
        public_url,
        now,
    )?;
    let ca_cert = parse_certificate(&ca_der)?;

    let leaf = |purpose: Purpose| -> Result<GeneratedEntity, Error> {
        let (key, pkcs8) = FileKey::generate()?;
        let der = certify(
            names,
            purpose,
            key.public_key_spki_der(),
            Some(Issuer {
                certificate: &ca_cert,
                key: &ca_key,
            }),
            None,
            public_url,
            now,
        )?;
        Ok(GeneratedEntity {
            purpose,
            pkcs8,
            certificate_der: der,
        })
    };
    let document_signer = leaf(Purpose::DocumentSigning)?;
    let tsa = leaf(Purpose::TimeStamping)?;
    let token_signer = leaf(Purpose::TokenSigning)?;
    Ok(GeneratedHierarchy {
        root: GeneratedEntity {
            purpose: Purpose::RootCa,
            pkcs8: root_pkcs8,
            certificate_der: root_der,
        },
        issuing_ca: GeneratedEntity {
            purpose: Purpose::IssuingCa,
            pkcs8: ca_pkcs8,
            certificate_der: ca_der,
        },
        document_signer,
        tsa,
        token_signer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{CertPurpose, TrustRoot};
    use crate::signer::FileKey;

    fn crl_of(
        issuer_der: &[u8],
        issuer_pkcs8: &[u8],
        now: OffsetDateTime,
        revoked: &[Revocation],
    ) -> Vec<u8> {
        let cert = parse_certificate(issuer_der).expect("cert");
        let key = FileKey::from_pkcs8(issuer_pkcs8).expect("key");
        issue_crl(
            Issuer {
                certificate: &cert,
                key: &key,
            },
            now,
            now + time::Duration::days(7),
            1,
            revoked,
        )
        .expect("crl")
    }

    #[test]
    fn a_second_issuing_ca_has_its_own_name_and_crl_and_its_end_entities_point_there() {
        let now = OffsetDateTime::now_utc();
        let names = HierarchyNames::development();
        let h = generate_hierarchy(&names, "http://127.0.0.1:8080", now).expect("hierarchy");
        let root = parse_certificate(&h.root.certificate_der).expect("root");
        let root_key = FileKey::from_pkcs8(&h.root.pkcs8).expect("root key");
        let first = parse_certificate(&h.issuing_ca.certificate_der).expect("ca");
        assert_eq!(issuing_ca_generation(&first), 1);
        let (key, key_pkcs8) = FileKey::generate().expect("key");
        let second_der = certify(
            &names.clone().for_issuing_generation(2),
            Purpose::IssuingCa,
            key.public_key_spki_der(),
            Some(Issuer {
                certificate: &root,
                key: &root_key,
            }),
            None,
            "http://127.0.0.1:8080",
            now,
        )
        .expect("second CA");
        let second = parse_certificate(&second_der).expect("second");
        assert_eq!(issuing_ca_generation(&second), 2);
        assert_ne!(
            first.tbs_certificate().subject(),
            second.tbs_certificate().subject()
        );
        assert_eq!(issuing_ca_crl_file(1), "issuing-ca.crl");
        assert_eq!(issuing_ca_crl_file(2), "issuing-ca-g2.crl");
        let (signer, _) = FileKey::generate().expect("key");
        let signer_der = certify(
            &names,
            Purpose::DocumentSigning,
            signer.public_key_spki_der(),
            Some(Issuer {
                certificate: &second,
                key: &key,
            }),
            None,
            "http://127.0.0.1:8080",
            now,
        )
        .expect("signer");
        let crl_uri = b"http://127.0.0.1:8080/crl/issuing-ca-g2.crl";
        assert!(signer_der.windows(crl_uri.len()).any(|w| w == crl_uri));
        // Both CAs' paths hold, each with its own CRL only.
        let anchor = TrustRoot::from_der(h.root.certificate_der.clone()).expect("root");
        let crl = crl_of(&second_der, &key_pkcs8, now, &[]);
        let root_crl = crl_of(&h.root.certificate_der, &h.root.pkcs8, now, &[]);
        anchor
            .verify(
                &signer_der,
                &[
                    h.issuing_ca.certificate_der.as_slice(),
                    second_der.as_slice(),
                ],
                CertPurpose::DocumentSigning,
                now,
                Some(&[root_crl.as_slice(), crl.as_slice()]),
            )
            .expect("the G2 path");
    }

    #[test]
    fn generated_hierarchy_validates_for_each_purpose_and_nothing_else() {
        let now = OffsetDateTime::now_utc();
        let h = generate_hierarchy(&HierarchyNames::development(), "http://127.0.0.1:8080", now)
            .expect("generate");
        let root = TrustRoot::from_der(h.root.certificate_der.clone()).expect("root");
        let root_crl = crl_of(&h.root.certificate_der, &h.root.pkcs8, now, &[]);
        let ca_crl = crl_of(&h.issuing_ca.certificate_der, &h.issuing_ca.pkcs8, now, &[]);
        let crls: [&[u8]; 2] = [&root_crl, &ca_crl];
        let inter: [&[u8]; 1] = [&h.issuing_ca.certificate_der];
        for (entity, purpose) in [
            (&h.document_signer, CertPurpose::DocumentSigning),
            (&h.tsa, CertPurpose::TimeStamping),
            (&h.token_signer, CertPurpose::TokenSigning),
        ] {
            root.verify(&entity.certificate_der, &inter, purpose, now, Some(&crls))
                .expect("valid for its purpose");
        }
        // Least privilege: the token signer cannot sign documents, the document signer cannot
        // time-stamp.
        assert!(
            root.verify(
                &h.token_signer.certificate_der,
                &inter,
                CertPurpose::DocumentSigning,
                now,
                None
            )
            .is_err()
        );
        assert!(
            root.verify(
                &h.document_signer.certificate_der,
                &inter,
                CertPurpose::TimeStamping,
                now,
                None
            )
            .is_err()
        );
        // A look-alike hierarchy with identical names is not trusted.
        let fake = generate_hierarchy(&HierarchyNames::development(), "http://127.0.0.1:8080", now)
            .expect("generate");
        let fake_inter: [&[u8]; 1] = [&fake.issuing_ca.certificate_der];
        let err = root
            .verify(
                &fake.document_signer.certificate_der,
                &fake_inter,
                CertPurpose::DocumentSigning,
                now,
                None,
            )
            .expect_err("look-alike must fail");
        assert!(
            matches!(err, crate::chain::ChainError::Untrusted { .. }),
            "{err}"
        );
    }

    #[test]
    fn remembered_paths_still_respect_time_and_crls() {
        let now = OffsetDateTime::now_utc();
        let h = generate_hierarchy(&HierarchyNames::development(), "http://127.0.0.1:8080", now)
            .expect("generate");
        let root = TrustRoot::from_der(h.root.certificate_der.clone()).expect("root");
        let root_crl = crl_of(&h.root.certificate_der, &h.root.pkcs8, now, &[]);
        let ca_crl = crl_of(&h.issuing_ca.certificate_der, &h.issuing_ca.pkcs8, now, &[]);
        let crls: [&[u8]; 2] = [&root_crl, &ca_crl];
        let inter: [&[u8]; 1] = [&h.issuing_ca.certificate_der];
        let ds = &h.document_signer.certificate_der;
        root.verify(ds, &inter, CertPurpose::DocumentSigning, now, Some(&crls))
            .expect("valid");
        // Served from memory only inside the window: past the CRLs' nextUpdate it fails.
        root.verify(
            ds,
            &inter,
            CertPurpose::DocumentSigning,
            now + time::Duration::hours(1),
            Some(&crls),
        )
        .expect("still valid an hour later");
        assert!(
            root.verify(
                ds,
                &inter,
                CertPurpose::DocumentSigning,
                now + time::Duration::days(30),
                Some(&crls)
            )
            .is_err()
        );
        // Other purposes and other CRLs are other entries.
        assert!(
            root.verify(ds, &inter, CertPurpose::TokenSigning, now, Some(&crls))
                .is_err()
        );
        let serial = parse_certificate(ds)
            .expect("cert")
            .tbs_certificate()
            .serial_number()
            .as_bytes()
            .to_vec();
        let revoking = crl_of(
            &h.issuing_ca.certificate_der,
            &h.issuing_ca.pkcs8,
            now,
            &[Revocation {
                reason: None,
                serial,
                revoked_at: now,
            }],
        );
        let crls2: [&[u8]; 2] = [&root_crl, &revoking];
        assert!(
            root.verify(ds, &inter, CertPurpose::DocumentSigning, now, Some(&crls2))
                .is_err()
        );
        let none: [&[u8]; 0] = [];
        assert!(matches!(
            root.verify(ds, &inter, CertPurpose::DocumentSigning, now, Some(&none)),
            Err(crate::chain::ChainError::NoRevocationData)
        ));
    }

    #[test]
    fn revoked_signer_is_refused() {
        let now = OffsetDateTime::now_utc();
        let h = generate_hierarchy(&HierarchyNames::development(), "http://127.0.0.1:8080", now)
            .expect("generate");
        let signer = parse_certificate(&h.document_signer.certificate_der).expect("cert");
        let serial = signer.tbs_certificate().serial_number().as_bytes().to_vec();
        let root = TrustRoot::from_der(h.root.certificate_der.clone()).expect("root");
        let root_crl = crl_of(&h.root.certificate_der, &h.root.pkcs8, now, &[]);
        let ca_crl = crl_of(
            &h.issuing_ca.certificate_der,
            &h.issuing_ca.pkcs8,
            now,
            &[Revocation {
                reason: None,
                serial,
                revoked_at: now,
            }],
        );
        let crls: [&[u8]; 2] = [&root_crl, &ca_crl];
        let inter: [&[u8]; 1] = [&h.issuing_ca.certificate_der];
        let err = root
            .verify(
                &h.document_signer.certificate_der,
                &inter,
                CertPurpose::DocumentSigning,
                now,
                Some(&crls),
            )
            .expect_err("revoked");
        assert!(matches!(err, crate::chain::ChainError::Revoked), "{err}");
    }
}
