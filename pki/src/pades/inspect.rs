//! Strict structural reading of a signed certificate PDF, before any cryptography.
//!
//! The policy is the simplest safe one for our own documents (FIELD-NOTES, PDF-Insecurity):
//! exactly one signature, of the PAdES form we produce; its `/ByteRange` is `[0 a b c]` with
//! the gap exactly the `/Contents` string of that same signature dictionary and `b + c` the
//! end of the revision that added it; later revisions may only add a `/DSS` (the catalog
//! changed by nothing but its `/DSS` entry, every other object new and reachable from the
//! DSS). Anything else is refused with the reason.

use std::collections::BTreeSet;

use super::PIECE_INFO_KEY;
use crate::pdf::{Dict, IndirectObject, Limits, Object, ObjectId, PdfError, PdfFile};

/// Why a file is not a well-formed signed certificate.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The file cannot be read as a PDF within the limits.
    #[error("{0}")]
    Malformed(#[from] PdfError),
    /// No signature, or a signature dictionary we do not accept.
    #[error("{0}")]
    Signature(String),
    /// The file was changed after signing, or the signature does not cover it.
    #[error("{0}")]
    Modified(String),
    /// The signed file lacks the embedded certificate data or token.
    #[error("{0}")]
    MissingData(String),
}

/// What the structure of a signed certificate PDF gives the verifier.
#[derive(Debug)]
pub struct SignedDocument {
    /// `/ByteRange`.
    pub byte_range: [usize; 4],
    /// SHA-256 over the two signed ranges.
    pub content_digest: [u8; 32],
    /// The DER CMS from `/Contents`, without its zero padding.
    pub cms_der: Vec<u8>,
    /// `/M`, the claimed signing time, as written.
    pub claimed_signing_time: String,
    /// The embedded certificate data (exact bytes).
    pub certificate_json: Vec<u8>,
    /// The embedded token (COSE_Sign1 bytes).
    pub token: Vec<u8>,
    /// Certificates from the `/DSS`.
    pub dss_certificates: Vec<Vec<u8>>,
    /// CRLs from the `/DSS`.
    pub dss_crls: Vec<Vec<u8>>,
    /// How many revisions follow the signed one (0, or 1 with a DSS).
    pub revisions_after_signature: usize,
}

fn sig_err(msg: impl Into<String>) -> InspectError {
    InspectError::Signature(msg.into())
}

fn resolve_dict(file: &PdfFile<'_>, rev: usize, obj: &Object) -> Result<Dict, InspectError> {
    match obj {
        Object::Dict(d) => Ok(d.clone()),
        Object::Reference(id) => match file.object(rev, *id)? {
            Object::Dict(d) => Ok(d),
            Object::Stream(s) => Ok(s.dict),
            other => Err(sig_err(format!(
                "object {id} is a {}, not a dictionary",
                other.kind()
            ))),
        },
        other => Err(sig_err(format!(
            "expected a dictionary, found a {}",
            other.kind()
        ))),
    }
}

fn catalog(file: &PdfFile<'_>, rev: usize) -> Result<IndirectObject, InspectError> {
    let trailer = &file
        .revisions()
        .get(rev)
        .ok_or_else(|| sig_err("no such revision"))?
        .trailer;
    let root = trailer
        .get_ref(b"Root")
        .ok_or_else(|| sig_err("trailer has no /Root"))?;
    Ok(file.indirect_object(rev, root)?)
}

/// Reads and checks the structure of a signed certificate PDF.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<SignedDocument, InspectError> {
    let file = PdfFile::parse(bytes, limits)?;
    let last = file
        .revisions()
        .len()
        .checked_sub(1)
        .ok_or_else(|| sig_err("no revisions"))?;
    let root_now = catalog(&file, last)?;
    let root_dict = root_now
        .object
        .as_dict()
        .ok_or_else(|| sig_err("catalog is not a dictionary"))?;

    // Exactly one field, a signature field.
    let form = root_dict
        .get(b"AcroForm")
        .ok_or_else(|| sig_err("the document is not signed (no /AcroForm)"))?;
    let form = resolve_dict(&file, last, form)?;
    let fields = form
        .get_array(b"Fields")
        .ok_or_else(|| sig_err("the form has no /Fields"))?;
    let [field_ref] = fields else {
        return Err(sig_err(format!(
            "exactly one form field (the signature) is allowed, found {}",
            fields.len()
        )));
    };
    let field = resolve_dict(&file, last, field_ref)?;
    if field.get_name(b"FT") != Some(b"Sig") {
        return Err(sig_err("the only form field is not a signature field"));
    }
    let sig_id = field
        .get_ref(b"V")
        .ok_or_else(|| sig_err("the signature field has no value (unsigned)"))?;
    let sig_obj = file.indirect_object(last, sig_id)?;
    let sig = sig_obj
        .object
        .as_dict()
        .ok_or_else(|| sig_err("the signature value is not a dictionary"))?;
    if sig.get_name(b"Type").is_some_and(|t| t != b"Sig") {
        return Err(sig_err("the signature dictionary's /Type is not /Sig"));
    }
    if sig.get_name(b"SubFilter") != Some(b"ETSI.CAdES.detached") {
        return Err(sig_err(
            "the signature's /SubFilter is not /ETSI.CAdES.detached",
        ));
    }
    if sig.contains_key(b"Cert") || sig.contains_key(b"Reference") {
        return Err(sig_err(
            "/Cert and /Reference are not allowed in a PAdES signature",
        ));
    }
    let claimed_signing_time = sig
        .get_string(b"M")
        .map(|s| String::from_utf8_lossy(&s.bytes).into_owned())
        .ok_or_else(|| sig_err("the signature has no /M"))?;
    let contents = sig
        .get_string(b"Contents")
        .ok_or_else(|| sig_err("the signature has no /Contents string"))?;
    if !contents.hex {
        return Err(sig_err("/Contents must be a hex string"));
    }
    let byte_range = byte_range(sig)?;
    let [_, a, b, c] = byte_range;
    // Anti-wrapping: the unsigned gap is exactly this dictionary's /Contents token.
    if contents.span.start != a || contents.span.end != b {
        return Err(sig_err(
            "/ByteRange does not exclude exactly the signature's /Contents",
        ));
    }
    let signed_end = b
        .checked_add(c)
        .ok_or_else(|| sig_err("/ByteRange overflows"))?;
    let signed_rev = file
        .revisions()
        .iter()
        .position(|r| r.end == signed_end)
        .ok_or_else(|| {
            InspectError::Modified("the signature does not end at a revision boundary".into())
        })?;
    if sig_obj.revision != signed_rev || !(a < b && b <= signed_end && signed_end <= bytes.len()) {
        return Err(sig_err(
            "the signature dictionary does not belong to the revision it signs",
        ));
    }
    for later in signed_rev + 1..=last {
        check_dss_only_update(&file, later)?;
    }
    let cms_der = der_without_padding(&contents.bytes)?;

    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(bytes.get(..a).ok_or_else(|| sig_err("bad /ByteRange"))?);
    ctx.update(
        bytes
            .get(b..signed_end)
            .ok_or_else(|| sig_err("bad /ByteRange"))?,
    );
    let mut content_digest = [0u8; 32];
    content_digest.copy_from_slice(ctx.finish().as_ref());

    // The embedded data, as of the signed revision.
    let signed_root = catalog(&file, signed_rev)?;
    let (certificate_json, token) = embedded_data(&file, signed_rev, &signed_root)?;
    let DssContents {
        certificates: dss_certificates,
        crls: dss_crls,
    } = dss_contents(&file, last, root_dict)?;
    Ok(SignedDocument {
        byte_range,
        content_digest,
        cms_der,
        claimed_signing_time,
        certificate_json,
        token,
        dss_certificates,
        dss_crls,
        revisions_after_signature: last - signed_rev,
    })
}

fn byte_range(sig: &Dict) -> Result<[usize; 4], InspectError> {
    let arr = sig
        .get_array(b"ByteRange")
        .ok_or_else(|| sig_err("the signature has no /ByteRange"))?;
    let nums: Vec<usize> = arr
        .iter()
        .map(|o| o.as_int().and_then(|i| usize::try_from(i).ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| sig_err("/ByteRange holds something other than non-negative integers"))?;
    match nums.as_slice() {
        [0, a, b, c] => Ok([0, *a, *b, *c]),
        _ => Err(sig_err("/ByteRange must be [0 a b c]")),
    }
}

/// The DER CMS in `/Contents`: one DER element followed only by zero padding.
fn der_without_padding(contents: &[u8]) -> Result<Vec<u8>, InspectError> {
    let len = der_element_len(contents)
        .ok_or_else(|| sig_err("/Contents does not hold a DER structure"))?;
    let (der, padding) = contents.split_at(len);
    if padding.iter().any(|&b| b != 0) {
        return Err(sig_err("/Contents has data after the CMS structure"));
    }
    Ok(der.to_vec())
}

/// The total length of the DER element at the start of `bytes` (definite lengths only).
fn der_element_len(bytes: &[u8]) -> Option<usize> {
    let first_len = *bytes.get(1)?;
    let (header, len) = if first_len < 0x80 {
        (2, usize::from(first_len))
    } else {
        let n = usize::from(first_len & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*bytes.get(2 + i)?);
        }
        (2 + n, len)
    };
    let total = header.checked_add(len)?;
    (total <= bytes.len()).then_some(total)
}

/// A later revision may only replace the catalog by one that differs in `/DSS` alone, and add
/// new objects reachable from that DSS.
fn check_dss_only_update(file: &PdfFile<'_>, rev: usize) -> Result<(), InspectError> {
    let modified = |m: String| {
        InspectError::Modified(format!("revision {} after the signature: {m}", rev + 1))
    };
    let before = catalog(file, rev - 1)?;
    let after = catalog(file, rev)?;
    if before.id != after.id {
        return Err(modified("it replaces the document catalog".into()));
    }
    let (Some(b), Some(a)) = (before.object.as_dict(), after.object.as_dict()) else {
        return Err(modified("the catalog is not a dictionary".into()));
    };
    if !same_dict_except(b, a, b"DSS") {
        return Err(modified(
            "it changes the catalog beyond adding validation data".into(),
        ));
    }
    let dss_id = a
        .get_ref(b"DSS")
        .ok_or_else(|| modified("it adds objects without a /DSS".into()))?;
    let mut allowed: BTreeSet<ObjectId> = BTreeSet::from([after.id, dss_id]);
    let dss = file.object(rev, dss_id)?;
    let dss = dss
        .as_dict()
        .ok_or_else(|| modified("/DSS is not a dictionary".into()))?;
    for key in [b"Certs".as_slice(), b"CRLs", b"OCSPs"] {
        for item in dss.get_array(key).unwrap_or(&[]) {
            let id = item
                .as_ref()
                .ok_or_else(|| modified("a /DSS entry is not a reference".into()))?;
            allowed.insert(id);
        }
    }
    if dss.contains_key(b"VRI") {
        return Err(modified("/VRI entries are not accepted".into()));
    }
    let changes = file.changes(rev)?;
    if let Some(id) = changes.freed.first() {
        return Err(modified(format!("it deletes object {id}")));
    }
    if let Some(id) = changes.redefined.iter().find(|id| **id != after.id) {
        return Err(modified(format!("it replaces existing object {id}")));
    }
    if let Some(id) = changes.added.iter().find(|id| !allowed.contains(id)) {
        return Err(modified(format!(
            "it adds object {id}, which is not validation data"
        )));
    }
    Ok(())
}

/// Structural equality of two dictionaries ignoring where their tokens sit and one key.
fn same_dict_except(a: &Dict, b: &Dict, ignored: &[u8]) -> bool {
    let a_keys: Vec<_> = a.keys().filter(|k| *k != ignored).collect();
    let b_keys: Vec<_> = b.keys().filter(|k| *k != ignored).collect();
    a_keys.len() == b_keys.len()
        && a_keys.iter().all(|k| match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) => same_object(x, y),
            _ => false,
        })
}

fn same_object(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::String(x), Object::String(y)) => x.bytes == y.bytes,
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_object(p, q))
        }
        (Object::Dict(x), Object::Dict(y)) => same_dict_except(x, y, b""),
        (Object::Stream(_), _) | (_, Object::Stream(_)) => false,
        _ => a == b,
    }
}

fn embedded_data(
    file: &PdfFile<'_>,
    rev: usize,
    root: &IndirectObject,
) -> Result<(Vec<u8>, Vec<u8>), InspectError> {
    let missing =
        |m: &str| InspectError::MissingData(format!("the signed document carries no {m}"));
    let root = root.object.as_dict().ok_or_else(|| missing("catalog"))?;
    let piece = root
        .get(b"PieceInfo")
        .ok_or_else(|| missing("/PieceInfo certificate data"))?;
    let piece = resolve_dict(file, rev, piece)?;
    let entry = piece
        .get(PIECE_INFO_KEY.as_bytes())
        .ok_or_else(|| missing("bureau /PieceInfo entry"))?;
    let entry = resolve_dict(file, rev, entry)?;
    let private = entry
        .get(b"Private")
        .ok_or_else(|| missing("/Private data"))?;
    let private = resolve_dict(file, rev, private)?;
    let token = private
        .get_string(b"Token")
        .ok_or_else(|| missing("token"))?
        .bytes
        .clone();
    let data_id = private
        .get_ref(b"CertificateData")
        .ok_or_else(|| missing("certificate data"))?;
    let data_obj = file.object(rev, data_id)?;
    let stream = data_obj
        .as_stream()
        .ok_or_else(|| missing("certificate data stream"))?;
    let json = file.decode_stream(stream)?;
    Ok((json, token))
}

/// Certificates and CRLs of a DSS, as DER.
struct DssContents {
    certificates: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
}

fn dss_contents(file: &PdfFile<'_>, rev: usize, root: &Dict) -> Result<DssContents, InspectError> {
    let Some(dss) = root.get(b"DSS") else {
        return Ok(DssContents {
            certificates: Vec::new(),
            crls: Vec::new(),
        });
    };
    let dss = resolve_dict(file, rev, dss)?;
    let read = |key: &[u8]| -> Result<Vec<Vec<u8>>, InspectError> {
        let mut out = Vec::new();
        for item in dss.get_array(key).unwrap_or(&[]) {
            let id = item
                .as_ref()
                .ok_or_else(|| sig_err("a /DSS entry is not a reference"))?;
            let obj = file.object(rev, id)?;
            let stream = obj
                .as_stream()
                .ok_or_else(|| sig_err("a /DSS entry is not a stream"))?;
            out.push(file.decode_stream(stream)?);
        }
        Ok(out)
    };
    Ok(DssContents {
        certificates: read(b"Certs")?,
        crls: read(b"CRLs")?,
    })
}
