//! PAdES signatures on the certificate PDF: assembly ([`sign_pdf`], [`add_dss`]) and the
//! strict structural reading a verifier needs ([`inspect`]).

mod dss;
mod inspect;
mod sign;
mod timestamp;
mod update;
mod xmp;

pub use dss::add_dss;
pub use inspect::{DocumentTimestamp, InspectError, SignedDocument, inspect};
pub use sign::{DEFAULT_CONTENTS_RESERVE, EmbeddedData, PadesSigner, sign_pdf};
pub use timestamp::{TIMESTAMP_CONTENTS_RESERVE, add_document_timestamp};

use time::OffsetDateTime;

use crate::Error;
use crate::pdf::{IndirectObject, PdfFile};

/// The key of the bureau's entry in the catalog's `/PieceInfo` (ISO 32000-1 §14.5), which
/// carries the certificate data and token inside the signed revision.
pub const PIECE_INFO_KEY: &str = "MO.GOV.DSI.CCR";

/// A PDF date string (ISO 32000-1 §7.9.4) in Macao time, e.g. `D:20261121153000+08'00'`.
pub fn pdf_date(at: OffsetDateTime) -> String {
    let t = at.to_offset(crate::validity::MACAO);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+08'00'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn last_trailer<'f>(file: &'f PdfFile<'_>) -> &'f crate::pdf::Dict {
    // `PdfFile::parse` guarantees at least one revision.
    &file.revisions()[file.last_revision()].trailer
}

fn last_revision(file: &PdfFile<'_>) -> Result<usize, Error> {
    file.revisions()
        .len()
        .checked_sub(1)
        .ok_or_else(|| Error::Pdf("no revisions".into()))
}

/// The newest revision's index and its document catalog, where an update starts.
fn newest_catalog(file: &PdfFile<'_>) -> Result<(usize, IndirectObject), Error> {
    let revision = last_revision(file)?;
    let root_id = last_trailer(file)
        .get_ref(b"Root")
        .ok_or_else(|| Error::Pdf("trailer has no /Root".into()))?;
    let catalog = file
        .indirect_object(revision, root_id)
        .map_err(|e| Error::Pdf(e.to_string()))?;
    Ok((revision, catalog))
}

/// The first page object, following `/Pages` `/Kids` (bounded depth).
fn first_page(
    file: &PdfFile<'_>,
    revision: usize,
    catalog: &IndirectObject,
) -> Result<IndirectObject, Error> {
    let mut node_id = catalog
        .object
        .as_dict()
        .and_then(|d| d.get_ref(b"Pages"))
        .ok_or_else(|| Error::Pdf("catalog has no /Pages".into()))?;
    for _ in 0..16 {
        let node = file
            .indirect_object(revision, node_id)
            .map_err(|e| Error::Pdf(e.to_string()))?;
        let dict = node
            .object
            .as_dict()
            .ok_or_else(|| Error::Pdf("page tree node is not a dictionary".into()))?;
        if dict.has_type(b"Page") {
            return Ok(node);
        }
        node_id = dict
            .get_array(b"Kids")
            .and_then(|k| k.first())
            .and_then(|o| o.as_ref())
            .ok_or_else(|| Error::Pdf("page tree has no kids".into()))?;
    }
    Err(Error::Pdf("page tree too deep".into()))
}
