//! Token Status Lists (draft-ietf-oauth-status-list) as signed CWTs.
//!
//! Each certificate has an index in a list of 2-bit statuses ([`Status`]). Entry `i` lives in
//! byte `i * 2 / 8` at bit offset `(i * 2) % 8`, least significant bits first; the byte array
//! is zlib-compressed (RFC 1950) and signed as a CWT in a `COSE_Sign1`:
//!
//! ```cddl
//! ; draft-ietf-oauth-status-list §5.2 (Status List Token in CWT format)
//! protected = { 1 => -7, 4 => bstr .size 8, 16 => "application/statuslist+cwt" }
//! unprotected = { ? 33 => COSE_X509 }          ; x5chain (RFC 9360): [signer, issuing CA]
//! StatusListToken = {
//!   2 => tstr,                                  ; sub: the list URI
//!   6 => int,                                   ; iat
//!   4 => int,                                   ; exp (iat + 1 h by default)
//!   65534 => uint,                              ; ttl in seconds (300 by default)
//!   65533 => StatusList,                        ; status_list
//!   * int => any                                ; ignored
//! }
//! StatusList = { "bits" => 2, "lst" => bstr, * tstr => any }   ; §4.3
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value;
use flate2::{Compression, Decompress, FlushDecompress};
use serde::{Serialize, Serializer, ser::SerializeStruct as _};
use time::{Duration, OffsetDateTime};

use crate::Error;
use crate::cose::{self, Map, err};
use crate::signer::Signer;

/// Bits per entry in our lists.
pub const BITS: u8 = 2;

/// The `typ` of a Status List Token in CWT format.
pub const STATUS_LIST_CWT_TYPE: &str = "application/statuslist+cwt";

/// Default `ttl` of a signed list, in seconds (SPEC §4).
pub const DEFAULT_TTL_SECONDS: u64 = 300;

/// Default lifetime of a signed list: `exp` = `iat` + 1 h (SPEC §4).
pub const DEFAULT_LIFETIME: Duration = Duration::HOUR;

/// Certificates accepted in the `x5chain` header.
pub const MAX_CHAIN_LEN: usize = 4;

/// Bytes a signed list may carry besides its compressed list (headers, claims, chain).
const MAX_OVERHEAD_LEN: usize = 64 * 1024;

/// COSE header labels.
const HEADER_TYP: i64 = 16;
const HEADER_X5CHAIN: i64 = 33;

/// CWT claim keys.
const CLAIM_SUB: i64 = 2;
const CLAIM_EXP: i64 = 4;
const CLAIM_IAT: i64 = 6;
const CLAIM_STATUS_LIST: i64 = 65533;
const CLAIM_TTL: i64 = 65534;

/// The status of one certificate (draft-ietf-oauth-status-list §7; 3 is application-specific).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// 0x00: valid.
    Valid = 0,
    /// 0x01: revoked ("INVALID" in the draft), irreversible.
    Revoked = 1,
    /// 0x02: suspended, reversible.
    Suspended = 2,
    /// 0x03: superseded by a re-issue (application-specific value).
    Superseded = 3,
}

impl Status {
    /// The 2-bit value.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status of a 2-bit value.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Valid),
            1 => Some(Self::Revoked),
            2 => Some(Self::Suspended),
            3 => Some(Self::Superseded),
            _ => None,
        }
    }

    /// The name used in reports (`VALID`, `REVOKED`, `SUSPENDED`, `SUPERSEDED`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Valid => "VALID",
            Self::Revoked => "REVOKED",
            Self::Suspended => "SUSPENDED",
            Self::Superseded => "SUPERSEDED",
        }
    }
}

/// A list of 2-bit statuses.
///
/// Serialises to the draft's JSON form (§4.2): `{"bits": 2, "lst": <base64url of zlib>}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    len: u32,
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of `len` entries, all [`Status::Valid`]. `len` must be a positive multiple of 4
    /// (whole bytes); the issuer enforces its own minimum size (SPEC §4: 131,072).
    pub fn new(len: u32) -> Result<Self, Error> {
        if len == 0 || !len.is_multiple_of(4) {
            return Err(err(format!(
                "status list length {len} is not a positive multiple of 4"
            )));
        }
        Ok(Self {
            bits: BITS,
            len,
            bytes: vec![0; (len / 4) as usize],
        })
    }

    /// Bits per entry (always 2).
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the list has no entries (never, for a list built by [`StatusList::new`]).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The uncompressed byte array.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The status at `idx`, or `None` beyond the end.
    pub fn get(&self, idx: u32) -> Option<Status> {
        if idx >= self.len {
            return None;
        }
        let byte = self.bytes.get((idx / 4) as usize)?;
        Status::from_code((byte >> ((idx % 4) * 2)) & 0b11)
    }

    /// Sets the status at `idx`; an error beyond the end.
    pub fn set(&mut self, idx: u32, status: Status) -> Result<(), Error> {
        let len = self.len;
        let byte = self
            .bytes
            .get_mut((idx / 4) as usize)
            .filter(|_| idx < len)
            .ok_or_else(|| err(format!("status index {idx} beyond the list of {len}")))?;
        let shift = (idx % 4) * 2;
        *byte = (*byte & !(0b11 << shift)) | (status.code() << shift);
        Ok(())
    }

    /// The byte array zlib-compressed (RFC 1950) at the best compression level.
    pub fn compress(&self) -> Result<Vec<u8>, Error> {
        use std::io::Write as _;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), Compression::best());
        encoder
            .write_all(&self.bytes)
            .and_then(|()| encoder.finish())
            .map_err(|e| err(format!("status list compression: {e}")))
    }

    /// Inflates a zlib-compressed 2-bit list of at most `max_len_entries` entries, never
    /// producing more than `max_len_entries * 2 / 8 + 1` bytes; refuses a truncated stream, a
    /// bad checksum, trailing bytes and an empty list.
    pub fn decompress(compressed: &[u8], max_len_entries: u32) -> Result<Self, Error> {
        let limit = (max_len_entries / 4) as usize;
        let mut inflater = Decompress::new(true);
        let mut out: Vec<u8> = Vec::new();
        loop {
            if out.len() == out.capacity() {
                out.reserve_exact((limit + 1 - out.len()).clamp(1, 64 * 1024));
            }
            let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
            let consumed = usize::try_from(in_before).unwrap_or(usize::MAX);
            let input = compressed.get(consumed..).unwrap_or_default();
            let status = inflater
                .decompress_vec(input, &mut out, FlushDecompress::None)
                .map_err(|e| err(format!("status list: bad zlib data: {e}")))?;
            if out.len() > limit {
                return Err(err(format!(
                    "status list: more than {max_len_entries} entries (decompressed size limit)"
                )));
            }
            match status {
                flate2::Status::StreamEnd => break,
                _ if inflater.total_in() == in_before
                    && inflater.total_out() == out_before
                    && out.len() < out.capacity() =>
                {
                    return Err(err("status list: truncated zlib data"));
                }
                _ => {}
            }
        }
        if usize::try_from(inflater.total_in()).ok() != Some(compressed.len()) {
            return Err(err("status list: bytes after the zlib data"));
        }
        if out.is_empty() {
            return Err(err("status list: empty"));
        }
        let len = u32::try_from(out.len() * 4).map_err(|_| err("status list: too long"))?;
        out.shrink_to_fit();
        Ok(Self {
            bits: BITS,
            len,
            bytes: out,
        })
    }
}

impl Serialize for StatusList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let lst = self.compress().map_err(serde::ser::Error::custom)?;
        let mut st = s.serialize_struct("StatusList", 2)?;
        st.serialize_field("bits", &self.bits)?;
        st.serialize_field("lst", &URL_SAFE_NO_PAD.encode(lst))?;
        st.end()
    }
}

/// The claims of a signed status list.
///
/// Serialises to the JSON of `schemas/status-list.schema.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignedStatusList {
    /// The list URI (`sub`), as referenced by tokens.
    pub uri: String,
    /// When the list was signed (`iat`, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// When the list stops being usable (`exp`).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// How long a verifier may cache the list (`ttl`).
    pub ttl_seconds: u64,
    /// The statuses.
    pub list: StatusList,
    /// The key id (hex) of the key whose signature was verified, when read from a signed
    /// list: a verifier judges it against the bureau's key windows (SPEC §10).
    #[serde(skip)]
    pub signer_key_id: Option<String>,
}

impl SignedStatusList {
    /// The claims for `list` published at `uri` and signed at `issued_at` (truncated to whole
    /// seconds), with the default lifetime and ttl.
    pub fn new(uri: impl Into<String>, list: StatusList, issued_at: OffsetDateTime) -> Self {
        let issued_at =
            OffsetDateTime::from_unix_timestamp(issued_at.unix_timestamp()).unwrap_or(issued_at);
        Self {
            uri: uri.into(),
            issued_at,
            expires_at: issued_at.checked_add(DEFAULT_LIFETIME).unwrap_or(issued_at),
            ttl_seconds: DEFAULT_TTL_SECONDS,
            list,
            signer_key_id: None,
        }
    }
}

/// Signs a status list as a CWT naming the token-signing certificate `kid`, with `chain_der`
/// (token-signing certificate first, then the issuing CA) in the unprotected `x5chain`.
pub fn sign_status_list(
    status: &SignedStatusList,
    signer: &dyn Signer,
    kid: [u8; cose::KID_LEN],
    chain_der: &[Vec<u8>],
) -> Result<Vec<u8>, Error> {
    if status.uri.is_empty() {
        return Err(err("status list URI is empty"));
    }
    if chain_der.len() > MAX_CHAIN_LEN {
        return Err(err(format!(
            "x5chain of {} certificates exceeds {MAX_CHAIN_LEN}",
            chain_der.len()
        )));
    }
    let lst = status.list.compress()?;
    // Claim keys in RFC 8949 §4.2.1 order: 2, 4, 6, 65533, 65534; "lst" sorts before "bits".
    let payload = cose::to_vec(&cose::int_map(vec![
        (CLAIM_SUB, Value::Text(status.uri.clone())),
        (
            CLAIM_EXP,
            cose::int_value(status.expires_at.unix_timestamp()),
        ),
        (
            CLAIM_IAT,
            cose::int_value(status.issued_at.unix_timestamp()),
        ),
        (
            CLAIM_STATUS_LIST,
            cose::text_map(vec![
                ("lst", Value::Bytes(lst)),
                ("bits", cose::int_value(status.list.bits())),
            ]),
        ),
        (CLAIM_TTL, cose::int_value(status.ttl_seconds)),
    ]))?;
    let protected = cose::es256_protected(
        kid,
        vec![(HEADER_TYP, Value::Text(STATUS_LIST_CWT_TYPE.to_owned()))],
    );
    let mut unprotected = coset::Header::default();
    if !chain_der.is_empty() {
        let chain = Value::Array(chain_der.iter().cloned().map(Value::Bytes).collect());
        unprotected
            .rest
            .push((coset::Label::Int(HEADER_X5CHAIN), chain));
    }
    cose::sign1(protected, unprotected, payload, signer)
}

/// A status list that parsed strictly but whose signature has not been checked; the list
/// itself is only inflated by [`UnverifiedStatusList::verify`].
#[derive(Clone, Debug)]
pub struct UnverifiedStatusList {
    sign1: cose::Sign1,
    chain_der: Vec<Vec<u8>>,
    uri: String,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    ttl_seconds: u64,
    lst: Vec<u8>,
    max_entries: u32,
}

/// Parses a signed status list of at most `max_entries` entries strictly: size bounded by
/// `max_entries / 4` plus 64 KiB, tag 18 optional, alg ES256 and `typ`
/// `application/statuslist+cwt` in the protected header, an 8-byte `kid`, at most
/// [`MAX_CHAIN_LEN`] certificates in `x5chain`, `sub`, `iat`, `exp`, `ttl` and a 2-bit
/// `status_list` present with the right types.
pub fn parse_status_list(bytes: &[u8], max_entries: u32) -> Result<UnverifiedStatusList, Error> {
    let max_len = (max_entries / 4) as usize + MAX_OVERHEAD_LEN;
    let sign1 = cose::parse_sign1(bytes, max_len, "status list")?;
    match sign1
        .protected
        .rest
        .iter()
        .find(|(l, _)| *l == coset::Label::Int(HEADER_TYP))
    {
        Some((_, Value::Text(t))) if t == STATUS_LIST_CWT_TYPE => {}
        _ => {
            return Err(err(format!(
                "status list: protected typ is not {STATUS_LIST_CWT_TYPE}"
            )));
        }
    }
    let chain_der = match sign1.header_param(HEADER_X5CHAIN, "status list")? {
        None => Vec::new(),
        // RFC 9360: a single certificate is a bstr, more are an array of bstr.
        Some(Value::Bytes(cert)) => vec![cert.clone()],
        Some(Value::Array(certs)) if (1..=MAX_CHAIN_LEN).contains(&certs.len()) => certs
            .iter()
            .map(|c| cose::bytes(c, "x5chain certificate").map(<[u8]>::to_vec))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(err(format!(
                "status list: x5chain is not 1 to {MAX_CHAIN_LEN} certificates"
            )));
        }
    };

    let value = cose::from_slice(&sign1.payload, "status list claims")?;
    let claims = Map::new(&value, "status list claims")?;
    let uri = cose::nonempty_text(claims.required(CLAIM_SUB, "sub")?, "sub")?;
    let issued_at = cose::numeric_date(claims.required(CLAIM_IAT, "iat")?, "iat")?;
    let expires_at = cose::numeric_date(claims.required(CLAIM_EXP, "exp")?, "exp")?;
    let ttl_seconds = cose::uint(claims.required(CLAIM_TTL, "ttl")?, "ttl")?;
    if expires_at < issued_at {
        return Err(err("status list: exp is before iat"));
    }
    let list = Map::new(
        claims.required(CLAIM_STATUS_LIST, "status_list")?,
        "status_list",
    )?;
    let bits: u8 = cose::uint(list.field("bits")?, "status_list.bits")?;
    if bits != BITS {
        return Err(err(format!(
            "status list: {bits} bits per entry, expected {BITS}"
        )));
    }
    let lst = cose::bytes(list.field("lst")?, "status_list.lst")?.to_vec();
    Ok(UnverifiedStatusList {
        sign1,
        chain_der,
        uri,
        issued_at,
        expires_at,
        ttl_seconds,
        lst,
        max_entries,
    })
}

impl UnverifiedStatusList {
    /// The DER certificates of the `x5chain` header (signer first), to be validated against
    /// the root before their key is used.
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain_der
    }

    /// The `kid` naming the signing certificate.
    pub fn kid(&self) -> [u8; cose::KID_LEN] {
        self.sign1.kid
    }

    /// The list URI (`sub`), NOT authenticated: for diagnostics only.
    pub fn uri_unverified(&self) -> &str {
        &self.uri
    }

    /// Checks the signature with the signer's public key (DER `SubjectPublicKeyInfo`, P-256),
    /// then inflates the list (bounded by the `max_entries` given to [`parse_status_list`]).
    /// The caller validates `chain_der()` to the root first (the signer is its first
    /// certificate, whose [`crate::token::kid_for_certificate`] should equal [`Self::kid`]),
    /// and checks that `uri` is the one the token references and that the list is fresh.
    pub fn verify(&self, signer_spki_der: &[u8]) -> Result<SignedStatusList, Error> {
        self.sign1.verify(signer_spki_der, "status list")?;
        Ok(SignedStatusList {
            uri: self.uri.clone(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            ttl_seconds: self.ttl_seconds,
            list: StatusList::decompress(&self.lst, self.max_entries)?,
            signer_key_id: Some(hex::encode(crate::signer::key_id_of_spki(signer_spki_der)?)),
        })
    }
}

#[cfg(test)]
mod tests;
