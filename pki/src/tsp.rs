//! The RFC 3161 time-stamp protocol: TSTInfo, requests, responses, and the bureau's TSA.
//!
//! The x509-tsp crate targets the older der 0.7 generation, so the structures are declared
//! here from the RFC's ASN.1 module (IMPLICIT TAGS).

use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString, Uint};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;

use crate::cades::{self, SignedDataRequest};
use crate::signer::Signer;
use crate::{Error, oids};

/// RFC 3161's `genTime`: a GeneralizedTime in UTC that, unlike X.509's, may carry a fraction
/// of a second (`YYYYMMDDhhmmss[.s+]Z`, §2.4.2), as most TSAs write it. The fraction is kept
/// as written and ignored for the instant (whole seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenTime(Vec<u8>);

/// The longest genTime accepted (14 digits, a point, 9 fraction digits, `Z`).
const MAX_GEN_TIME_LEN: usize = 25;

impl GenTime {
    /// The genTime of a whole-second Unix time.
    pub fn from_unix(secs: u64) -> Result<Self, Error> {
        let t = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))?;
        Ok(Self(t.to_der()?.get(2..).unwrap_or_default().to_vec()))
    }

    /// The instant, to the second.
    pub fn instant(&self) -> Result<OffsetDateTime, Error> {
        let bad = || Error::Timestamp("genTime is not YYYYMMDDhhmmss[.fraction]Z".into());
        let text = std::str::from_utf8(&self.0).map_err(|_| bad())?;
        let body = text.strip_suffix('Z').ok_or_else(bad)?;
        let (whole, fraction) = body.split_once('.').unwrap_or((body, "0"));
        if whole.len() != 14
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || fraction.is_empty()
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| whole.get(r).and_then(|d| d.parse::<u32>().ok());
        let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
            num(0..4),
            num(4..6),
            num(6..8),
            num(8..10),
            num(10..12),
            num(12..14),
        ) else {
            return Err(bad());
        };
        let month =
            time::Month::try_from(u8::try_from(mo).map_err(|_| bad())?).map_err(|_| bad())?;
        let date = time::Date::from_calendar_date(
            i32::try_from(y).map_err(|_| bad())?,
            month,
            u8::try_from(d).map_err(|_| bad())?,
        )
        .map_err(|_| bad())?;
        let clock = time::Time::from_hms(
            u8::try_from(h).map_err(|_| bad())?,
            u8::try_from(mi).map_err(|_| bad())?,
            u8::try_from(sec).map_err(|_| bad())?,
        )
        .map_err(|_| bad())?;
        Ok(time::PrimitiveDateTime::new(date, clock).assume_utc())
    }
}

impl der::FixedTag for GenTime {
    const TAG: der::Tag = der::Tag::GeneralizedTime;
}

impl<'a> der::DecodeValue<'a> for GenTime {
    type Error = der::Error;
    fn decode_value<R: der::Reader<'a>>(reader: &mut R, header: der::Header) -> der::Result<Self> {
        let len = usize::try_from(header.length()).map_err(|_| der::ErrorKind::Overflow)?;
        if len > MAX_GEN_TIME_LEN {
            return Err(der::ErrorKind::Length {
                tag: der::Tag::GeneralizedTime,
            }
            .into());
        }
        let mut bytes = vec![0u8; len];
        reader.read_into(&mut bytes)?;
        Ok(Self(bytes))
    }
}

impl der::EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<der::Length> {
        der::Length::try_from(self.0.len())
    }
    fn encode_value(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}

/// ```text
/// MessageImprint ::= SEQUENCE  {
///      hashAlgorithm                AlgorithmIdentifier,
///      hashedMessage                OCTET STRING  }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct MessageImprint {
    /// The hash algorithm (SHA-256 only).
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash of the time-stamped data.
    pub hashed_message: OctetString,
}

impl MessageImprint {
    /// The SHA-256 imprint of `data`.
    pub fn sha256_of(data: &[u8]) -> Result<Self, Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, data);
        Ok(Self {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: oids::SHA256,
                parameters: None,
            },
            hashed_message: OctetString::new(digest.as_ref())?,
        })
    }
}

/// ```text
/// Accuracy ::= SEQUENCE {
///      seconds        INTEGER              OPTIONAL,
///      millis     [0] INTEGER  (1..999)    OPTIONAL,
///      micros     [1] INTEGER  (1..999)    OPTIONAL  }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct Accuracy {
    /// Whole seconds.
    #[asn1(optional = "true")]
    pub seconds: Option<u32>,
    /// Milliseconds.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    /// Microseconds.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}

/// ```text
/// TSTInfo ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    policy                       TSAPolicyId,
///    messageImprint               MessageImprint,
///    serialNumber                 INTEGER,
///    genTime                      GeneralizedTime,
///    accuracy                     Accuracy                 OPTIONAL,
///    ordering                     BOOLEAN             DEFAULT FALSE,
///    nonce                        INTEGER                  OPTIONAL,
///    tsa                          [0] GeneralName          OPTIONAL,
///    extensions                   [1] IMPLICIT Extensions   OPTIONAL  }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TstInfo {
    /// Always 1.
    pub version: u8,
    /// The TSA's policy.
    pub policy: ObjectIdentifier,
    /// What was time-stamped.
    pub message_imprint: MessageImprint,
    /// Unique per token.
    pub serial_number: Uint,
    /// The time.
    pub gen_time: GenTime,
    /// The accuracy of `gen_time`.
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    /// Ordering is not claimed.
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    /// The requester's nonce.
    #[asn1(optional = "true")]
    pub nonce: Option<Uint>,
    /// The TSA's name (a CHOICE, so the tag is explicit).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<GeneralName>,
    /// Not used.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<x509_cert::ext::Extensions>,
}

/// ```text
/// TimeStampReq ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    messageImprint               MessageImprint,
///    reqPolicy                    TSAPolicyId              OPTIONAL,
///    nonce                        INTEGER                  OPTIONAL,
///    certReq                      BOOLEAN                  DEFAULT FALSE,
///    extensions               [0] IMPLICIT Extensions      OPTIONAL  }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TimeStampReq {
    /// Always 1.
    pub version: u8,
    /// What to time-stamp.
    pub message_imprint: MessageImprint,
    /// A policy the requester wants.
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    /// Echoed back in the token.
    #[asn1(optional = "true")]
    pub nonce: Option<Uint>,
    /// Whether the TSA certificate must be included in the token.
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    /// Not supported.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<x509_cert::ext::Extensions>,
}

/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL  }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PkiStatusInfo {
    /// 0 granted, 2 rejection.
    pub status: u8,
    /// Free text (a SEQUENCE OF UTF8String).
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    /// Failure bits.
    #[asn1(optional = "true")]
    pub fail_info: Option<der::asn1::BitString>,
}

/// ```text
/// TimeStampResp ::= SEQUENCE  {
///      status                  PKIStatusInfo,
///      timeStampToken          TimeStampToken     OPTIONAL  }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TimeStampResp {
    /// Granted or rejected.
    pub status: PkiStatusInfo,
    /// The token (a CMS ContentInfo) when granted.
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<der::Any>,
}

/// A time-stamp authority: its certificate (EKU timeStamping) and key.
#[derive(Debug)]
pub struct Tsa<'a> {
    /// The TSA certificate.
    pub certificate: &'a Certificate,
    /// Certificates to include after the TSA's own (the issuing CA), for validators.
    pub chain: &'a [Certificate],
    /// The TSA's key.
    pub key: &'a dyn Signer,
}

/// Where signature time stamps come from: the bureau's own TSA in-process, or a remote one.
pub trait TimestampSource: Send + Sync {
    /// Returns a DER TimeStampToken (a CMS ContentInfo) over `imprint`.
    fn timestamp(&self, imprint: &MessageImprint) -> Result<Vec<u8>, Error>;
}

impl Tsa<'_> {
    /// Issues a token over `imprint` at `at`.
    pub fn issue(
        &self,
        imprint: &MessageImprint,
        nonce: Option<Uint>,
        at: OffsetDateTime,
    ) -> Result<Vec<u8>, Error> {
        if imprint.hash_algorithm.oid != oids::SHA256
            || imprint.hashed_message.as_bytes().len() != 32
        {
            return Err(Error::Timestamp(
                "only SHA-256 message imprints are accepted".into(),
            ));
        }
        let secs = u64::try_from(at.unix_timestamp())
            .map_err(|_| Error::Timestamp("time before 1970".into()))?;
        let mut serial = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial)
            .map_err(|_| Error::Key("random generator failed".into()))?;
        serial[0] &= 0x7f;
        let info = TstInfo {
            version: 1,
            policy: oids::TSA_POLICY,
            message_imprint: imprint.clone(),
            serial_number: Uint::new(&serial)?,
            gen_time: GenTime::from_unix(secs)?,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce,
            tsa: None,
            extensions: None,
        };
        let content = info.to_der()?;
        cades::sign(&SignedDataRequest {
            content_type: oids::ID_CT_TSTINFO,
            content_digest: ring::digest::digest(&ring::digest::SHA256, &content).as_ref(),
            encapsulated: Some(&content),
            signer_certificate: self.certificate,
            extra_certificates: self.chain,
            signer: self.key,
            timestamp: None,
        })
    }

    /// Answers a DER TimeStampReq with a DER TimeStampResp (RFC 3161 §2.4).
    pub fn respond(&self, request_der: &[u8], at: OffsetDateTime) -> Vec<u8> {
        let granted = TimeStampReq::from_der(request_der)
            .map_err(|e| Error::Timestamp(format!("bad request: {e}")))
            .and_then(|req| {
                if req.version != 1 || req.extensions.is_some() {
                    return Err(Error::Timestamp(
                        "unsupported request version or extensions".into(),
                    ));
                }
                if req.req_policy.is_some_and(|p| p != oids::TSA_POLICY) {
                    return Err(Error::Timestamp("unknown policy".into()));
                }
                self.issue(&req.message_imprint, req.nonce, at)
            })
            .and_then(|token| Ok(der::Any::from_der(&token)?));
        let resp = match granted {
            Ok(token) => TimeStampResp {
                status: PkiStatusInfo {
                    status: 0,
                    status_string: None,
                    fail_info: None,
                },
                time_stamp_token: Some(token),
            },
            Err(_) => TimeStampResp {
                status: PkiStatusInfo {
                    status: 2,
                    status_string: None,
                    // badRequest (bit 2)
                    fail_info: der::asn1::BitString::new(5, vec![0x20]).ok(),
                },
                time_stamp_token: None,
            },
        };
        resp.to_der().unwrap_or_default()
    }
}

impl TimestampSource for Tsa<'_> {
    fn timestamp(&self, imprint: &MessageImprint) -> Result<Vec<u8>, Error> {
        self.issue(imprint, None, OffsetDateTime::now_utc())
    }
}

/// A time-stamp token that was checked: its TSTInfo and the certificate that signed it.
#[derive(Debug)]
pub struct VerifiedTimestamp {
    /// The token's content.
    pub info: TstInfo,
    /// The time of the token.
    pub time: OffsetDateTime,
    /// The TSA certificate (chain validation is the caller's).
    pub tsa_certificate: Certificate,
    /// The other certificates in the token.
    pub certificates: Vec<Certificate>,
}

/// Verifies a DER TimeStampToken over `data`: the CMS signature, its attributes, and that the
/// message imprint is SHA-256 of `data`. The TSA certificate's chain is checked by the caller.
pub fn verify_token(token_der: &[u8], data: &[u8]) -> Result<VerifiedTimestamp, Error> {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    verify_token_over_digest(token_der, digest.as_ref())
}

/// As [`verify_token`], for data known by its SHA-256 (a document time-stamp's ByteRange).
pub fn verify_token_over_digest(
    token_der: &[u8],
    sha256: &[u8],
) -> Result<VerifiedTimestamp, Error> {
    let signed = cades::verify(token_der, cades::Expect::TimestampToken)?;
    let content = signed
        .encapsulated_content
        .as_deref()
        .ok_or_else(|| Error::Timestamp("token has no TSTInfo".into()))?;
    let info =
        TstInfo::from_der(content).map_err(|e| Error::Timestamp(format!("bad TSTInfo: {e}")))?;
    if info.version != 1 {
        return Err(Error::Timestamp("TSTInfo version is not 1".into()));
    }
    // SHA-256's parameters may be absent or NULL (RFC 5754 §2); other TSAs write either.
    let imprint = &info.message_imprint;
    if imprint.hash_algorithm.oid != oids::SHA256
        || imprint
            .hash_algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| der::Tagged::tag(p) != der::Tag::Null)
        || imprint.hashed_message.as_bytes() != sha256
    {
        return Err(Error::Timestamp(
            "the time stamp's message imprint is not over the time-stamped data".into(),
        ));
    }
    let time = info.gen_time.instant()?;
    Ok(VerifiedTimestamp {
        info,
        time,
        tsa_certificate: signed.signer_certificate,
        certificates: signed.certificates,
    })
}
