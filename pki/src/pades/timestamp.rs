//! PAdES B-LTA: a document time-stamp (ETSI EN 319 142-1 §5.5, `/SubFilter /ETSI.RFC3161`)
//! appended in its own incremental update, as the bureau's archive copy may get (SPEC §3).
//!
//! The update adds an invisible signature field (not placed on a page, so no page changes) to
//! the form and a `/DocTimeStamp` dictionary whose `/Contents` is an RFC 3161 token over the
//! ByteRange, the same placeholder-and-patch scheme as the signature.

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::newest_catalog;
use super::sign::{seal, write_signature_placeholder};
use super::update::{IncrementalUpdate, carried_trailer_entries};
use crate::Error;
use crate::pdf::{Limits, Object, PdfFile};
use crate::tsp::{MessageImprint, TimestampSource};

/// Room for the time-stamp token in `/Contents`.
pub const TIMESTAMP_CONTENTS_RESERVE: usize = 4 * 1024;

/// Appends a document time-stamp from `tsa` to a signed certificate PDF.
pub fn add_document_timestamp(
    pdf: &[u8],
    tsa: &dyn TimestampSource,
    at: OffsetDateTime,
) -> Result<Vec<u8>, Error> {
    let file = PdfFile::parse(pdf, &Limits::default()).map_err(|e| Error::Pdf(e.to_string()))?;
    let (revision, catalog) = newest_catalog(&file)?;
    let form_id = catalog
        .object
        .as_dict()
        .and_then(|c| c.get_ref(b"AcroForm"))
        .ok_or_else(|| Error::Pdf("the document has no indirect /AcroForm (unsigned?)".into()))?;
    let form = file
        .object(revision, form_id)
        .map_err(|e| Error::Pdf(e.to_string()))?;
    let form = form
        .as_dict()
        .ok_or_else(|| Error::Pdf("/AcroForm is not a dictionary".into()))?;
    if form.keys().any(|k| k != b"Fields" && k != b"SigFlags") {
        return Err(Error::Pdf(
            "only a form of /Fields and /SigFlags can be extended".into(),
        ));
    }
    let mut fields = String::new();
    for field in form.get_array(b"Fields").unwrap_or(&[]) {
        let Object::Reference(id) = field else {
            return Err(Error::Pdf("a form field is not a reference".into()));
        };
        let _ = write!(fields, "{id} R ");
    }

    let mut update = IncrementalUpdate::new(pdf, &file)?;
    let field_id = update.allocate();
    let stamp_id = update.allocate();
    let count = form.get_array(b"Fields").map_or(0, <[Object]>::len);
    update.write_object(
        field_id,
        format!(
            "<< /Type /Annot /Subtype /Widget /FT /Sig /T (DocTimeStamp{count}) /F 132 \
             /Rect [0 0 0 0] /V {stamp_id} R >>"
        )
        .as_bytes(),
    );
    update.write_object(
        form_id,
        format!("<< /Fields [{fields}{field_id} R] /SigFlags 3 >>").as_bytes(),
    );
    let placeholder = write_signature_placeholder(
        &mut update,
        stamp_id,
        "/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161",
        TIMESTAMP_CONTENTS_RESERVE,
    );
    let stamp = format!("DocTimeStamp {}", at.unix_timestamp());
    let new_id = ring::digest::digest(&ring::digest::SHA256, stamp.as_bytes());
    let trailer = carried_trailer_entries(&file, &new_id.as_ref()[..16])?;
    let out = update.finish(&file, &trailer);
    seal(out, &placeholder, |digest| {
        let imprint = MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifierOwned {
                oid: crate::oids::SHA256,
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(digest)?,
        };
        tsa.timestamp(&imprint)
    })
}
