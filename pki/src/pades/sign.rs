//! PAdES baseline signing (ETSI EN 319 142-1): B-B/B-T in one incremental update.
//!
//! The update adds an invisible signature field (PDF/A allows a zero-size widget without an
//! appearance), the signature dictionary with a fixed-width `/ByteRange` and a zero-filled
//! `/Contents` placeholder, and the certificate data with its token in the catalog's
//! `/PieceInfo`, so that the signature covers them too. The placeholder is then patched in
//! place: the ByteRange covers the whole file except the `/Contents` hex string.

use std::fmt::Write as _;

use time::OffsetDateTime;
use x509_cert::Certificate;

use super::update::{
    IncrementalUpdate, carried_trailer_entries, dict_with_entries, find, hex_string,
};
use super::{PIECE_INFO_KEY, first_page, newest_catalog, pdf_date};
use crate::cades::{self, SignedDataRequest};
use crate::pdf::{Limits, PdfFile};
use crate::signer::Signer;
use crate::tsp::TimestampSource;
use crate::{Error, oids};

/// Default room for the DER CMS in `/Contents` (two hex digits per byte in the file).
pub const DEFAULT_CONTENTS_RESERVE: usize = 5 * 1024;

/// `/ByteRange [0 a b c]` is written with each number padded to this many digits.
const BYTE_RANGE_DIGITS: usize = 10;

/// Who signs: the document signer's key and certificate, its chain, and the TSA.
#[derive(Clone, Copy)]
pub struct PadesSigner<'a> {
    /// The document-signing certificate.
    pub certificate: &'a Certificate,
    /// The issuing CA (included in the CMS for validators).
    pub chain: &'a [Certificate],
    /// The document-signing key.
    pub key: &'a dyn Signer,
    /// The signature time-stamp source (B-T).
    pub timestamp: &'a dyn TimestampSource,
}

impl std::fmt::Debug for PadesSigner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PadesSigner").finish_non_exhaustive()
    }
}

/// Machine-readable certificate data carried in the signed revision (SPEC §3).
#[derive(Clone, Copy, Debug)]
pub struct EmbeddedData<'a> {
    /// The exact JSON bytes of the certificate data (the token's digest covers them).
    pub certificate_json: &'a [u8],
    /// The COSE_Sign1 token printed in the QR code.
    pub token: &'a [u8],
}

/// Signs `pdf` (a single-revision or already-updated file) and returns the signed file.
pub fn sign_pdf(
    pdf: &[u8],
    signer: &PadesSigner<'_>,
    signing_time: OffsetDateTime,
    data: &EmbeddedData<'_>,
    contents_reserve: usize,
) -> Result<Vec<u8>, Error> {
    let file = PdfFile::parse(pdf, &Limits::default()).map_err(|e| Error::Pdf(e.to_string()))?;
    let (revision, catalog) = newest_catalog(&file)?;
    let page = first_page(&file, revision, &catalog)?;

    let mut update = IncrementalUpdate::new(pdf, &file)?;
    let field_id = update.allocate();
    let sig_id = update.allocate();
    let form_id = update.allocate();
    let data_id = update.allocate();

    let when = pdf_date(signing_time);
    let catalog_body = dict_with_entries(
        pdf,
        &catalog,
        &[b"AcroForm", b"PieceInfo", b"Perms", b"DSS"],
        &format!(
            "/AcroForm {form_id} R /PieceInfo << /{PIECE_INFO_KEY} << /LastModified ({when}) \
             /Private << /CertificateData {data_id} R /Token {} >> >> >>",
            hex_string(data.token)
        ),
    )?;
    update.write_object(catalog.id, &catalog_body);
    let page_body =
        dict_with_entries(pdf, &page, &[b"Annots"], &format!("/Annots [{field_id} R]"))?;
    update.write_object(page.id, &page_body);
    // Print (4) + Locked (128): PDF/A wants Print set and the hidden flags clear.
    let field = format!(
        "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /F 132 /Rect [0 0 0 0] \
         /P {} R /V {sig_id} R >>",
        page.id
    );
    update.write_object(field_id, field.as_bytes());
    update.write_object(
        form_id,
        format!("<< /Fields [{field_id} R] /SigFlags 3 >>").as_bytes(),
    );
    // A plain private stream, not an /EmbeddedFile: PDF/A-2 admits embedded files only when
    // they are PDF/A themselves.
    update.write_stream(data_id, "", data.certificate_json);

    let placeholder = write_signature_placeholder(
        &mut update,
        sig_id,
        &format!("/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M ({when})"),
        contents_reserve,
    );
    let new_id = ring::digest::digest(&ring::digest::SHA256, when.as_bytes());
    let trailer = carried_trailer_entries(&file, &new_id.as_ref()[..16])?;
    let out = update.finish(&file, &trailer);
    seal(out, &placeholder, |digest| {
        cades::sign(&SignedDataRequest {
            content_type: oids::ID_DATA,
            content_digest: digest,
            encapsulated: None,
            signer_certificate: signer.certificate,
            extra_certificates: signer.chain,
            signer: signer.key,
            timestamp: Some(signer.timestamp),
        })
    })
}

/// Where a signature dictionary's placeholders were written.
pub(super) struct Placeholder {
    sig_start: usize,
    byte_range: String,
    contents_reserve: usize,
}

/// Writes signature dictionary `id` (`entries` then a fixed-width `/ByteRange` and a
/// zero-filled `/Contents` of `contents_reserve` bytes) for [`seal`] to patch.
pub(super) fn write_signature_placeholder(
    update: &mut IncrementalUpdate<'_>,
    id: crate::pdf::ObjectId,
    entries: &str,
    contents_reserve: usize,
) -> Placeholder {
    let byte_range = format!("[0 {0} {0} {0}]", "0".repeat(BYTE_RANGE_DIGITS));
    let sig_start = update.position();
    let mut sig = String::with_capacity(contents_reserve * 2 + 256);
    let _ = write!(sig, "<< {entries} /ByteRange {byte_range} /Contents <");
    sig.push_str(&"0".repeat(contents_reserve * 2));
    sig.push_str("> >>");
    update.write_object(id, sig.as_bytes());
    Placeholder {
        sig_start,
        byte_range,
        contents_reserve,
    }
}

/// Patches the `/ByteRange` to cover all of `out` but the `/Contents` string, then fills
/// `/Contents` with what `contents` makes from the SHA-256 of the covered bytes.
pub(super) fn seal(
    mut out: Vec<u8>,
    placeholder: &Placeholder,
    contents: impl FnOnce(&[u8]) -> Result<Vec<u8>, Error>,
) -> Result<Vec<u8>, Error> {
    let Placeholder {
        sig_start,
        ref byte_range,
        contents_reserve,
    } = *placeholder;
    let byte_range_placeholder = byte_range;
    // Locate the placeholders in our own signature object (searching from its start, so a
    // look-alike string elsewhere in the document cannot be picked).
    let sig_region = out
        .get(sig_start..)
        .ok_or_else(|| Error::Pdf("lost the signature object".into()))?;
    let br_rel = find(sig_region, byte_range_placeholder.as_bytes())
        .ok_or_else(|| Error::Pdf("lost the /ByteRange placeholder".into()))?;
    let contents_rel = find(sig_region, b"/Contents <")
        .ok_or_else(|| Error::Pdf("lost the /Contents placeholder".into()))?
        + "/Contents ".len();
    let contents_start = sig_start + contents_rel;
    let contents_end = contents_start + contents_reserve * 2 + 2;
    let byte_range = [0, contents_start, contents_end, out.len() - contents_end];
    let mut br_text = format!("[0 {} {} {}]", byte_range[1], byte_range[2], byte_range[3]);
    if br_text.len() > byte_range_placeholder.len() {
        return Err(Error::Pdf(
            "document too large for the /ByteRange field".into(),
        ));
    }
    while br_text.len() < byte_range_placeholder.len() {
        br_text.push(' ');
    }
    let br_start = sig_start + br_rel;
    out[br_start..br_start + br_text.len()].copy_from_slice(br_text.as_bytes());

    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&out[..contents_start]);
    ctx.update(&out[contents_end..]);
    let digest = ctx.finish();
    let cms = contents(digest.as_ref())?;
    if cms.len() > contents_reserve {
        return Err(Error::Pdf(format!(
            "the signature ({} bytes) does not fit the reserved {contents_reserve} bytes",
            cms.len()
        )));
    }
    let hex = hex::encode_upper(&cms);
    out[contents_start + 1..contents_start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(out)
}
