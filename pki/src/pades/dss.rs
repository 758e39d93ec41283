//! PAdES B-LT: the Document Security Store (ETSI EN 319 142-1 §5.4.2) added in its own
//! incremental update after the signature, so a verifier needs no network.

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::newest_catalog;
use super::update::{IncrementalUpdate, carried_trailer_entries, dict_with_entries};
use crate::Error;
use crate::pdf::{Limits, PdfFile};

/// Appends a `/DSS` with the given DER certificates and CRLs to a signed file.
pub fn add_dss(
    pdf: &[u8],
    certificates: &[&[u8]],
    crls: &[&[u8]],
    at: OffsetDateTime,
) -> Result<Vec<u8>, Error> {
    let file = PdfFile::parse(pdf, &Limits::default()).map_err(|e| Error::Pdf(e.to_string()))?;
    let (_, catalog) = newest_catalog(&file)?;

    let mut update = IncrementalUpdate::new(pdf, &file)?;
    let dss_id = update.allocate();
    let mut cert_refs = String::new();
    for der in certificates {
        let id = update.allocate();
        update.write_stream(id, "", der);
        let _ = write!(cert_refs, "{id} R ");
    }
    let mut crl_refs = String::new();
    for der in crls {
        let id = update.allocate();
        update.write_stream(id, "", der);
        let _ = write!(crl_refs, "{id} R ");
    }
    update.write_object(
        dss_id,
        format!("<< /Type /DSS /Certs [{cert_refs}] /CRLs [{crl_refs}] >>").as_bytes(),
    );
    let catalog_body = dict_with_entries(pdf, &catalog, &[b"DSS"], &format!("/DSS {dss_id} R"))?;
    update.write_object(catalog.id, &catalog_body);
    let stamp = format!("DSS {}", at.unix_timestamp());
    let new_id = ring::digest::digest(&ring::digest::SHA256, stamp.as_bytes());
    let trailer = carried_trailer_entries(&file, &new_id.as_ref()[..16])?;
    Ok(update.finish(&file, &trailer))
}
