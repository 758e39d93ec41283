//! Strict structural reading of a signed certificate PDF, before any cryptography.
//!
//! The policy is the simplest safe one for our own documents (FIELD-NOTES, PDF-Insecurity):
//! exactly one approval signature, of the PAdES form we produce; its `/ByteRange` is
//! `[0 a b c]` with the gap exactly the `/Contents` string of that same signature dictionary
//! and `b + c` the end of the revision that added it. Later revisions (SPEC §3) may only add
//! validation data (a `/DSS`, `/VRI` included) or a document time-stamp (an invisible
//! `/DocTimeStamp` field placed by the same anti-wrapping rules), each new object reachable
//! from the DSS or the time-stamp field. Anything else is refused with the reason.

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
    /// How many revisions follow the signed one.
    pub revisions_after_signature: usize,
    /// Document time-stamps added after the signature, oldest first.
    pub document_timestamps: Vec<DocumentTimestamp>,
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

/// A document time-stamp (`/SubFilter /ETSI.RFC3161`, B-LTA) added after the signature. The
/// inspection checks only its place in the file; its token is the verifier's to check.
#[derive(Debug)]
pub struct DocumentTimestamp {
    /// The revision (counted from 1) that added it.
    pub revision: usize,
    /// Its `/ByteRange`.
    pub byte_range: [usize; 4],
    /// SHA-256 over its two ranges: what its message imprint must be.
    pub covered_digest: [u8; 32],
    /// The DER TimeStampToken from its `/Contents`, without the zero padding.
    pub token_der: Vec<u8>,
}

/// A signature dictionary's place in the file, checked against wrapping.
struct Placed {
    byte_range: [usize; 4],
    /// The revision whose end the signature covers.
    revision: usize,
    der: Vec<u8>,
    digest: [u8; 32],
}

/// The anti-wrapping rules shared by the bureau's signature and document time-stamps: the
/// `/ByteRange` is `[0 a b c]`, its gap is exactly this dictionary's hex `/Contents`, `b + c`
/// ends a revision and that revision defines the dictionary.
fn place(
    file: &PdfFile<'_>,
    bytes: &[u8],
    sig: &Dict,
    defined_in: usize,
) -> Result<Placed, InspectError> {
    let contents = sig
        .get_string(b"Contents")
        .ok_or_else(|| sig_err("the signature has no /Contents string"))?;
    if !contents.hex {
        return Err(sig_err("/Contents must be a hex string"));
    }
    let byte_range = byte_range(sig)?;
    let [_, a, b, c] = byte_range;
    if contents.span.start != a || contents.span.end != b {
        return Err(sig_err(
            "/ByteRange does not exclude exactly the signature's /Contents",
        ));
    }
    let signed_end = b
        .checked_add(c)
        .ok_or_else(|| sig_err("/ByteRange overflows"))?;
    let revision = file
        .revisions()
        .iter()
        .position(|r| r.end == signed_end)
        .ok_or_else(|| {
            InspectError::Modified("the signature does not end at a revision boundary".into())
        })?;
    if defined_in != revision || !(a < b && b <= signed_end && signed_end <= bytes.len()) {
        return Err(sig_err(
            "the signature dictionary does not belong to the revision it signs",
        ));
    }
    let der = der_without_padding(&contents.bytes)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(bytes.get(..a).ok_or_else(|| sig_err("bad /ByteRange"))?);
    ctx.update(
        bytes
            .get(b..signed_end)
            .ok_or_else(|| sig_err("bad /ByteRange"))?,
    );
    let mut digest = [0u8; 32];
    digest.copy_from_slice(ctx.finish().as_ref());
    Ok(Placed {
        byte_range,
        revision,
        der,
        digest,
    })
}

/// A signature field of the newest revision and what its value is.
struct SigField {
    field_id: Option<ObjectId>,
    field: Dict,
    value: IndirectObject,
    is_document_timestamp: bool,
}

/// The form's fields: the bureau's one approval signature, and document time-stamps only.
fn signature_fields(
    file: &PdfFile<'_>,
    last: usize,
    root: &Dict,
) -> Result<Vec<SigField>, InspectError> {
    let form = root
        .get(b"AcroForm")
        .ok_or_else(|| sig_err("the document is not signed (no /AcroForm)"))?;
    let form = resolve_dict(file, last, form)?;
    let fields = form
        .get(b"Fields")
        .map(|f| file.resolve(f, last))
        .transpose()?;
    let fields = fields
        .as_ref()
        .and_then(Object::as_array)
        .ok_or_else(|| sig_err("the form has no /Fields"))?;
    let only_one = fields.len() == 1;
    let mut out = Vec::new();
    for field_obj in fields {
        let field = resolve_dict(file, last, field_obj)?;
        let not_allowed = |what: &str| {
            if only_one {
                sig_err(format!("the only form field {what}"))
            } else {
                InspectError::Modified(format!(
                    "a form field {what}: only the bureau's signature and document time-stamps are allowed"
                ))
            }
        };
        if field.get_name(b"FT") != Some(b"Sig") {
            return Err(not_allowed("is not a signature field"));
        }
        let value_id = field
            .get_ref(b"V")
            .ok_or_else(|| not_allowed("is an unsigned signature field"))?;
        let value = file.indirect_object(last, value_id)?;
        let dict = value
            .object
            .as_dict()
            .ok_or_else(|| sig_err("the signature value is not a dictionary"))?;
        let is_document_timestamp = dict.get_name(b"SubFilter") == Some(b"ETSI.RFC3161");
        if is_document_timestamp && !dict.has_type(b"DocTimeStamp") {
            return Err(InspectError::Modified(
                "an ETSI.RFC3161 signature is not a /DocTimeStamp".into(),
            ));
        }
        out.push(SigField {
            field_id: field_obj.as_ref(),
            field,
            value,
            is_document_timestamp,
        });
    }
    let approvals = out.iter().filter(|f| !f.is_document_timestamp).count();
    match approvals {
        1 => Ok(out),
        0 => Err(sig_err("the document has no approval signature")),
        n => Err(InspectError::Modified(format!(
            "exactly one approval signature (the bureau's) is allowed, found {n}"
        ))),
    }
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

    let fields = signature_fields(&file, last, root_dict)?;
    let (timestamps, bureau): (Vec<_>, Vec<_>) =
        fields.into_iter().partition(|f| f.is_document_timestamp);
    let bureau = bureau
        .first()
        .ok_or_else(|| sig_err("the document has no approval signature"))?;
    let sig = bureau
        .value
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
    let signed = place(&file, bytes, sig, bureau.value.revision)?;
    let signed_rev = signed.revision;

    let mut document_timestamps = Vec::new();
    for ts in &timestamps {
        let dict = ts
            .value
            .object
            .as_dict()
            .ok_or_else(|| sig_err("the time-stamp value is not a dictionary"))?;
        let placed = place(&file, bytes, dict, ts.value.revision)?;
        if placed.revision <= signed_rev {
            return Err(InspectError::Modified(
                "a document time-stamp precedes the bureau's signature".into(),
            ));
        }
        if !invisible(&ts.field) {
            return Err(InspectError::Modified(
                "a document time-stamp has a visible widget (it could cover the page)".into(),
            ));
        }
        document_timestamps.push(DocumentTimestamp {
            revision: placed.revision + 1,
            byte_range: placed.byte_range,
            covered_digest: placed.digest,
            token_der: placed.der,
        });
    }
    for later in signed_rev + 1..=last {
        let added_field = timestamps
            .iter()
            .find(|t| t.value.revision == later)
            .map(|t| {
                t.field_id.ok_or_else(|| {
                    InspectError::Modified(
                        "a document time-stamp field is not an indirect object".into(),
                    )
                })
            })
            .transpose()?;
        check_later_revision(&file, later, added_field)?;
    }

    // The embedded data, as of the signed revision.
    let signed_root = catalog(&file, signed_rev)?;
    let (certificate_json, token) = embedded_data(&file, signed_rev, &signed_root)?;
    let DssContents {
        certificates: dss_certificates,
        crls: dss_crls,
    } = dss_contents(&file, last, root_dict)?;
    Ok(SignedDocument {
        byte_range: signed.byte_range,
        content_digest: signed.digest,
        cms_der: signed.der,
        claimed_signing_time,
        certificate_json,
        token,
        dss_certificates,
        dss_crls,
        revisions_after_signature: last - signed_rev,
        document_timestamps,
    })
}

/// A widget with a zero-area `/Rect` (or none) draws nothing over the page.
fn invisible(field: &Dict) -> bool {
    let Some(rect) = field.get_array(b"Rect") else {
        return true;
    };
    let n: Vec<f64> = rect.iter().filter_map(Object::as_number).collect();
    match n.as_slice() {
        [x1, y1, x2, y2] => (x2 - x1).abs() < f64::EPSILON || (y2 - y1).abs() < f64::EPSILON,
        _ => false,
    }
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

/// Catalog entries a later revision may change: validation data, and the declaration of the
/// ETSI extensions that pyHanko and EU DSS write with it.
const CATALOG_VALIDATION_KEYS: [&[u8]; 2] = [b"DSS", b"Extensions"];
/// `/Info` entries a writer refreshes on every save.
const INFO_WRITER_KEYS: [&[u8]; 2] = [b"ModDate", b"Producer"];

/// A later revision may only add validation data (a `/DSS`, with `/VRI`) or one document
/// time-stamp (`timestamp_field`, its field added to the form and to one page's `/Annots`);
/// the writer's refresh of `/ModDate`, `/Producer` and the same in XMP is tolerated. Every
/// added object must be reachable from the DSS or the time-stamp field.
fn check_later_revision(
    file: &PdfFile<'_>,
    rev: usize,
    timestamp_field: Option<ObjectId>,
) -> Result<(), InspectError> {
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
    let mut ignored: Vec<&[u8]> = CATALOG_VALIDATION_KEYS.to_vec();
    if timestamp_field.is_some() {
        ignored.push(b"AcroForm");
    }
    if !same_dict_except_keys(b, a, &ignored) {
        return Err(modified(
            "it changes the catalog beyond adding validation data".into(),
        ));
    }
    let mut may_redefine: BTreeSet<ObjectId> = BTreeSet::from([after.id]);
    let mut roots: Vec<ObjectId> = Vec::new();
    match (b.get(b"DSS"), a.get(b"DSS")) {
        (_, Some(Object::Reference(now))) => {
            may_redefine.insert(*now);
            roots.push(*now);
            if let Some(dss) = file.object(rev, *now)?.as_dict() {
                if !dss.has_type(b"DSS") && dss.contains_key(b"Type") {
                    return Err(modified("/DSS is not a /DSS dictionary".into()));
                }
            } else {
                return Err(modified("/DSS is not a dictionary".into()));
            }
        }
        (None, None) => {}
        _ => return Err(modified("/DSS is not an indirect dictionary".into())),
    }
    if let Some(id) = writer_metadata_refresh(file, rev, a)? {
        may_redefine.extend(id);
    } else {
        return Err(modified(
            "it changes the document information or XMP metadata beyond the modification date and producer"
                .into(),
        ));
    }
    if let Some(field) = timestamp_field {
        roots.push(field);
        may_redefine.extend(timestamp_form_update(file, rev, b, a, field).map_err(modified)?);
    }
    let changes = file.changes(rev)?;
    if let Some(id) = changes.freed.first() {
        return Err(modified(format!("it deletes object {id}")));
    }
    if let Some(id) = changes
        .redefined
        .iter()
        .find(|id| !may_redefine.contains(id))
    {
        return Err(modified(format!("it replaces existing object {id}")));
    }
    let added: BTreeSet<ObjectId> = changes.added.iter().copied().collect();
    let reachable = reachable_new_objects(file, rev, &roots, &added)?;
    if let Some(id) = added.iter().find(|id| !reachable.contains(id)) {
        return Err(modified(format!(
            "it adds object {id}, which is not validation data"
        )));
    }
    Ok(())
}

/// The objects added in `rev` that `roots` reach through other added objects.
fn reachable_new_objects(
    file: &PdfFile<'_>,
    rev: usize,
    roots: &[ObjectId],
    added: &BTreeSet<ObjectId>,
) -> Result<BTreeSet<ObjectId>, InspectError> {
    let mut seen = BTreeSet::new();
    let mut queue: Vec<ObjectId> = roots.to_vec();
    while let Some(id) = queue.pop() {
        if !added.contains(&id) && !roots.contains(&id) {
            continue;
        }
        if !seen.insert(id) {
            continue;
        }
        collect_refs(&file.object(rev, id)?, &mut queue);
    }
    Ok(seen)
}

fn collect_refs(object: &Object, out: &mut Vec<ObjectId>) {
    match object {
        Object::Reference(id) => out.push(*id),
        Object::Array(items) => items.iter().for_each(|o| collect_refs(o, out)),
        Object::Dict(d) => d.iter().for_each(|(_, o)| collect_refs(o, out)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, o)| collect_refs(o, out)),
        _ => {}
    }
}

/// The `/Info` and XMP objects a revision may redefine, or `None` when it changes more than
/// the writer's modification date and producer in them.
fn writer_metadata_refresh(
    file: &PdfFile<'_>,
    rev: usize,
    catalog_now: &Dict,
) -> Result<Option<Vec<ObjectId>>, InspectError> {
    let mut ids = Vec::new();
    let info_before = file.revision(rev - 1)?.trailer.get(b"Info");
    let info_after = file.revision(rev)?.trailer.get(b"Info");
    match (info_before, info_after) {
        (None, None) => {}
        (Some(Object::Reference(x)), Some(Object::Reference(y))) if x == y => {
            let (old, new) = (file.object(rev - 1, *x)?, file.object(rev, *y)?);
            match (old.as_dict(), new.as_dict()) {
                (Some(o), Some(n)) if same_dict_except_keys(o, n, &INFO_WRITER_KEYS) => {
                    ids.push(*x)
                }
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    }
    if let Some(id) = catalog_now.get_ref(b"Metadata") {
        let (old, new) = (file.object(rev - 1, id)?, file.object(rev, id)?);
        if old != new {
            let (Some(o), Some(n)) = (old.as_stream(), new.as_stream()) else {
                return Ok(None);
            };
            let (o, n) = (file.decode_stream(o)?, file.decode_stream(n)?);
            if super::xmp::properties(&o) != super::xmp::properties(&n) {
                return Ok(None);
            }
        }
        ids.push(id);
    }
    Ok(Some(ids))
}

/// What a document time-stamp's revision may redefine: the form (its `/Fields` gaining
/// `field`) and one page (its `/Annots` gaining `field`).
fn timestamp_form_update(
    file: &PdfFile<'_>,
    rev: usize,
    catalog_before: &Dict,
    catalog_after: &Dict,
    field: ObjectId,
) -> Result<Vec<ObjectId>, String> {
    let pdf = |e: PdfError| e.to_string();
    let mut ids = Vec::new();
    let (Some(form_before), Some(form_after)) = (
        catalog_before.get(b"AcroForm"),
        catalog_after.get(b"AcroForm"),
    ) else {
        return Err("the form is missing".into());
    };
    if let (Object::Reference(x), Object::Reference(y)) = (form_before, form_after) {
        if x != y {
            return Err("it replaces the form".into());
        }
        ids.push(*x);
    }
    let old = file.resolve(form_before, rev - 1).map_err(pdf)?;
    let new = file.resolve(form_after, rev).map_err(pdf)?;
    let (Some(old), Some(new)) = (old.as_dict(), new.as_dict()) else {
        return Err("the form is not a dictionary".into());
    };
    if !same_dict_except_keys(old, new, &[b"Fields", b"SigFlags"]) {
        return Err("it changes the form beyond adding the time-stamp field".into());
    }
    let (Some(old_fields), Some(new_fields)) = (old.get_array(b"Fields"), new.get_array(b"Fields"))
    else {
        return Err("the form's /Fields is not a direct array".into());
    };
    if !appends_only(old_fields, new_fields, field) {
        return Err("it changes the form's fields beyond adding the time-stamp field".into());
    }
    let changes = file.changes(rev).map_err(pdf)?;
    for id in &changes.redefined {
        let (Ok(before), Ok(after)) = (file.object(rev - 1, *id), file.object(rev, *id)) else {
            continue;
        };
        let (Some(b), Some(a)) = (before.as_dict(), after.as_dict()) else {
            continue;
        };
        if !(b.has_type(b"Page") && a.has_type(b"Page")) {
            continue;
        }
        let old_annots = b.get_array(b"Annots").unwrap_or(&[]);
        let new_annots = a.get_array(b"Annots").unwrap_or(&[]);
        if same_dict_except_keys(b, a, &[b"Annots"]) && appends_only(old_annots, new_annots, field)
        {
            ids.push(*id);
        }
    }
    Ok(ids)
}

/// `new` is `old` followed by a reference to `added` and nothing else.
fn appends_only(old: &[Object], new: &[Object], added: ObjectId) -> bool {
    new.len() == old.len() + 1
        && old.iter().zip(new).all(|(p, q)| same_object(p, q))
        && new.last().and_then(Object::as_ref) == Some(added)
}

/// Structural equality of two dictionaries ignoring where their tokens sit and one key.
fn same_dict_except_keys(a: &Dict, b: &Dict, ignored: &[&[u8]]) -> bool {
    let a_keys: Vec<_> = a.keys().filter(|k| !ignored.contains(k)).collect();
    let b_keys: Vec<_> = b.keys().filter(|k| !ignored.contains(k)).collect();
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
        (Object::Dict(x), Object::Dict(y)) => same_dict_except_keys(x, y, &[]),
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
