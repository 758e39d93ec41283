//! COSE_Sign1 and CBOR helpers shared by the verification token ([`crate::token`]) and the
//! status list ([`crate::status_list`]).
//!
//! Only what both need lives here: producing and strictly parsing an ES256 `COSE_Sign1`,
//! verifying its signature with ring, and reading CBOR maps with typed, named errors.

use ciborium::Value;
use coset::{AsCborValue, CborSerializable, CoseSign1, Header, ProtectedHeader, iana};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use time::OffsetDateTime;

use crate::Error;
use crate::signer::{KeyAlgorithm, SignatureEncoding, Signer};

/// CBOR tag of a `COSE_Sign1` (RFC 9052 §2).
const TAG_COSE_SIGN1: u64 = 18;

/// Length of a raw `r || s` ES256 signature (RFC 9053 §2.1).
const ES256_SIGNATURE_LEN: usize = 64;

/// Length of the key identifier (first bytes of the SHA-256 of the signing certificate).
pub(crate) const KID_LEN: usize = 8;

/// Nesting depth accepted when decoding CBOR (our structures nest at most 4 deep).
const MAX_CBOR_DEPTH: usize = 16;

/// Entries accepted in one CBOR map (bounds the duplicate-key check).
const MAX_MAP_ENTRIES: usize = 64;

/// The error for a token or status list that is not acceptable.
pub(crate) fn err(message: impl Into<String>) -> Error {
    Error::Token(message.into())
}

/// Serialises a CBOR value (preferred serialisation: ciborium writes the shortest heads).
pub(crate) fn to_vec(value: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).map_err(|e| err(format!("CBOR encoding: {e}")))?;
    Ok(out)
}

/// Decodes exactly one CBOR data item, refusing trailing bytes and deep nesting.
pub(crate) fn from_slice(bytes: &[u8], what: &str) -> Result<Value, Error> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_CBOR_DEPTH)
        .map_err(|e| err(format!("{what}: not well-formed CBOR: {e}")))?;
    if !rest.is_empty() {
        return Err(err(format!(
            "{what}: {} bytes after the CBOR item",
            rest.len()
        )));
    }
    Ok(value)
}

/// Signs `payload` as a tagged ES256 `COSE_Sign1` with an empty external_aad.
///
/// ```cddl
/// COSE_Sign1_Tagged = #6.18(COSE_Sign1)
/// COSE_Sign1 = [ Headers, payload : bstr / nil, signature : bstr ]
/// Sig_structure = [ context : "Signature1", body_protected : empty_or_serialized_map,
///                   external_aad : bstr, payload : bstr ]      ; RFC 9052 §4.4
/// ```
pub(crate) fn sign1(
    protected: Header,
    unprotected: Header,
    payload: Vec<u8>,
    signer: &dyn Signer,
) -> Result<Vec<u8>, Error> {
    if signer.algorithm() != KeyAlgorithm::EcdsaP256Sha256 {
        return Err(err("the signer's key is not ECDSA P-256 (ES256 needed)"));
    }
    if protected.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::ES256)) {
        return Err(err("protected header must name ES256"));
    }
    // Serialise the protected header once, so the signed bytes and the sent bytes are the same.
    let protected_bytes = protected
        .clone()
        .to_vec()
        .map_err(|e| err(format!("COSE header: {e}")))?;
    let mut sign1 = CoseSign1 {
        protected: ProtectedHeader {
            original_data: Some(protected_bytes),
            header: protected,
        },
        unprotected,
        payload: Some(payload),
        signature: Vec::new(),
    };
    let tbs = sign1.tbs_data(&[]);
    let signature = signer.sign(&tbs, SignatureEncoding::Fixed)?;
    if signature.len() != ES256_SIGNATURE_LEN {
        return Err(err(format!(
            "signer returned a {}-byte signature, not r||s",
            signature.len()
        )));
    }
    sign1.signature = signature;
    let value = sign1
        .to_cbor_value()
        .map_err(|e| err(format!("COSE encoding: {e}")))?;
    to_vec(&Value::Tag(TAG_COSE_SIGN1, Box::new(value)))
}

/// A `COSE_Sign1` that parsed strictly but whose signature is not checked yet.
#[derive(Clone, Debug)]
pub(crate) struct Sign1 {
    /// The protected header (parsed from the signed bytes).
    pub(crate) protected: Header,
    /// The unprotected header (not signed).
    pub(crate) unprotected: Header,
    /// The key identifier (from either header, exactly [`KID_LEN`] bytes).
    pub(crate) kid: [u8; KID_LEN],
    /// The payload (signed).
    pub(crate) payload: Vec<u8>,
    /// The `Sig_structure` bytes the signature is over.
    tbs: Vec<u8>,
    /// The raw `r || s` signature.
    signature: Vec<u8>,
}

/// Parses a `COSE_Sign1` strictly: at most `max_len` bytes, tag 18 optional but no other tag,
/// alg ES256 in the protected header (and not in the unprotected one), no `crit`, an attached
/// payload, a 64-byte signature and a [`KID_LEN`]-byte `kid` in exactly one header.
pub(crate) fn parse_sign1(bytes: &[u8], max_len: usize, what: &str) -> Result<Sign1, Error> {
    if bytes.len() > max_len {
        return Err(err(format!(
            "{what}: {} bytes exceed the limit of {max_len}",
            bytes.len()
        )));
    }
    let value = match from_slice(bytes, what)? {
        Value::Tag(TAG_COSE_SIGN1, inner) => *inner,
        Value::Tag(tag, _) => {
            return Err(err(format!(
                "{what}: CBOR tag {tag}, expected {TAG_COSE_SIGN1} (COSE_Sign1)"
            )));
        }
        untagged => untagged,
    };
    let sign1 = CoseSign1::from_cbor_value(value)
        .map_err(|e| err(format!("{what}: not a COSE_Sign1: {e}")))?;
    let protected = &sign1.protected.header;
    if protected.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::ES256)) {
        return Err(err(format!("{what}: protected header alg is not ES256")));
    }
    if sign1.unprotected.alg.is_some() {
        return Err(err(format!(
            "{what}: alg must not be in the unprotected header"
        )));
    }
    if !protected.crit.is_empty() || !sign1.unprotected.crit.is_empty() {
        return Err(err(format!(
            "{what}: critical header parameters are not supported"
        )));
    }
    let kid_bytes = match (
        protected.key_id.is_empty(),
        sign1.unprotected.key_id.is_empty(),
    ) {
        (false, true) => &protected.key_id,
        (true, false) => &sign1.unprotected.key_id,
        (true, true) => return Err(err(format!("{what}: no kid"))),
        (false, false) => return Err(err(format!("{what}: kid in both headers"))),
    };
    let kid: [u8; KID_LEN] = kid_bytes.as_slice().try_into().map_err(|_| {
        err(format!(
            "{what}: kid is {} bytes, expected {KID_LEN}",
            kid_bytes.len()
        ))
    })?;
    if sign1.signature.len() != ES256_SIGNATURE_LEN {
        return Err(err(format!(
            "{what}: signature is {} bytes, expected {ES256_SIGNATURE_LEN}",
            sign1.signature.len()
        )));
    }
    let tbs = sign1.tbs_data(&[]);
    let CoseSign1 {
        protected,
        unprotected,
        payload,
        signature,
    } = sign1;
    let payload = payload.ok_or_else(|| err(format!("{what}: detached payload")))?;
    Ok(Sign1 {
        protected: protected.header,
        unprotected,
        kid,
        payload,
        tbs,
        signature,
    })
}

impl Sign1 {
    /// Checks the ES256 signature with the P-256 public key in `spki_der`.
    pub(crate) fn verify(&self, spki_der: &[u8], what: &str) -> Result<(), Error> {
        let point = crate::x509::spki_ec_point(spki_der)?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(&self.tbs, &self.signature)
            .map_err(|_| err(format!("{what}: signature does not verify")))
    }

    /// A header parameter with an integer label from the protected header, else the
    /// unprotected one; an error if both carry it.
    pub(crate) fn header_param(&self, label: i64, what: &str) -> Result<Option<&Value>, Error> {
        fn find(h: &Header, label: i64) -> Option<&Value> {
            h.rest
                .iter()
                .find(|(l, _)| *l == coset::Label::Int(label))
                .map(|(_, v)| v)
        }
        let p = find(&self.protected, label);
        let u = find(&self.unprotected, label);
        match (p, u) {
            (Some(_), Some(_)) => Err(err(format!("{what}: header {label} in both headers"))),
            (p, u) => Ok(p.or(u)),
        }
    }
}

/// A decoded CBOR map with no duplicate keys.
#[derive(Debug)]
pub(crate) struct Map<'a> {
    entries: &'a [(Value, Value)],
    what: &'a str,
}

impl<'a> Map<'a> {
    /// Views `value` as a map named `what` in error messages.
    pub(crate) fn new(value: &'a Value, what: &'a str) -> Result<Self, Error> {
        let entries = value
            .as_map()
            .ok_or_else(|| err(format!("{what}: not a map")))?;
        if entries.len() > MAX_MAP_ENTRIES {
            return Err(err(format!("{what}: more than {MAX_MAP_ENTRIES} entries")));
        }
        for (i, (key, _)) in entries.iter().enumerate() {
            if entries[..i].iter().any(|(k, _)| k == key) {
                return Err(err(format!("{what}: duplicate key")));
            }
        }
        Ok(Self { entries, what })
    }

    /// The value under an integer key.
    pub(crate) fn int(&self, key: i64) -> Option<&'a Value> {
        self.entries
            .iter()
            .find(|(k, _)| {
                k.as_integer()
                    .is_some_and(|i| i128::from(i) == i128::from(key))
            })
            .map(|(_, v)| v)
    }

    /// The value under a text key.
    pub(crate) fn text(&self, key: &str) -> Option<&'a Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v)
    }

    /// The value under an integer key, which must be present.
    pub(crate) fn required(&self, key: i64, name: &str) -> Result<&'a Value, Error> {
        self.int(key)
            .ok_or_else(|| err(format!("{}: missing {name} ({key})", self.what)))
    }

    /// The value under a text key, which must be present.
    pub(crate) fn field(&self, key: &str) -> Result<&'a Value, Error> {
        self.text(key)
            .ok_or_else(|| err(format!("{}: missing {key:?}", self.what)))
    }
}

/// A text string.
pub(crate) fn text<'a>(value: &'a Value, name: &str) -> Result<&'a str, Error> {
    value
        .as_text()
        .ok_or_else(|| err(format!("{name}: not a text string")))
}

/// A non-empty text string.
pub(crate) fn nonempty_text(value: &Value, name: &str) -> Result<String, Error> {
    let t = text(value, name)?;
    if t.is_empty() {
        return Err(err(format!("{name}: empty")));
    }
    Ok(t.to_owned())
}

/// A byte string.
pub(crate) fn bytes<'a>(value: &'a Value, name: &str) -> Result<&'a [u8], Error> {
    value
        .as_bytes()
        .map(Vec::as_slice)
        .ok_or_else(|| err(format!("{name}: not a byte string")))
}

/// An unsigned integer that fits `T`.
pub(crate) fn uint<T: TryFrom<i128>>(value: &Value, name: &str) -> Result<T, Error> {
    let i = value
        .as_integer()
        .ok_or_else(|| err(format!("{name}: not an integer")))?;
    let i = i128::from(i);
    if i < 0 {
        return Err(err(format!("{name}: negative")));
    }
    T::try_from(i).map_err(|_| err(format!("{name}: {i} out of range")))
}

/// An integer NumericDate (RFC 8392 §2: seconds since the epoch; we accept integers only).
pub(crate) fn numeric_date(value: &Value, name: &str) -> Result<OffsetDateTime, Error> {
    let i = value
        .as_integer()
        .ok_or_else(|| err(format!("{name}: not an integer NumericDate")))?;
    let secs = i64::try_from(i128::from(i)).map_err(|_| err(format!("{name}: out of range")))?;
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| err(format!("{name}: out of range")))
}

/// An integer CBOR value.
pub(crate) fn int_value(i: impl Into<ciborium::value::Integer>) -> Value {
    Value::Integer(i.into())
}

/// A map with integer keys, written in the given order (callers list keys in the RFC 8949
/// §4.2.1 bytewise order of their encodings).
pub(crate) fn int_map(entries: Vec<(i64, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (int_value(k), v))
            .collect(),
    )
}

/// A map with text keys, written in the given order.
pub(crate) fn text_map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.to_owned()), v))
            .collect(),
    )
}

/// The kid of a certificate: its key's id (SPEC §10), the first [`KID_LEN`] bytes of SHA-256
/// of the raw public key ([`crate::signer::key_id_bytes`]); `None` if `cert_der` is not a
/// certificate (it then names no key).
pub(crate) fn kid_for_certificate(cert_der: &[u8]) -> Option<[u8; KID_LEN]> {
    let cert = crate::hierarchy::parse_certificate(cert_der).ok()?;
    let spki = der::Encode::to_der(cert.tbs_certificate().subject_public_key_info()).ok()?;
    crate::signer::key_id_of_spki(&spki).ok()
}

/// A header carrying alg ES256 and the kid, plus `extra` parameters with integer labels
/// outside the core range 1..=7 (typ, x5chain...).
pub(crate) fn es256_protected(kid: [u8; KID_LEN], extra: Vec<(i64, Value)>) -> Header {
    let mut header = coset::HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(kid.to_vec())
        .build();
    header.rest.extend(
        extra
            .into_iter()
            .map(|(label, value)| (coset::Label::Int(label), value)),
    );
    header
}
