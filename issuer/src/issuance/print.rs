//! The print-ready batch: the pages of several signed certificates concatenated into one PDF
//! for the counter's printer. The result is for paper only: the signatures do not survive
//! (their widgets are dropped with the source catalogues), and nobody verifies this file.

use lopdf::{Dictionary, Document, Object, ObjectId};

/// Keys a page inherits from its page-tree ancestors (ISO 32000-1, 7.7.3.4).
const INHERITED: [&[u8]; 4] = [b"Resources", b"MediaBox", b"CropBox", b"Rotate"];

/// Why a batch could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// Nothing to print.
    #[error("the batch holds no certificate")]
    Empty,
    /// A stored certificate could not be read as a PDF.
    #[error("certificate {number}: {message}")]
    Unreadable {
        /// Which certificate.
        number: String,
        /// The parser's message.
        message: String,
    },
    /// Writing the batch failed.
    #[error("writing the batch: {0}")]
    Write(String),
}

/// One PDF with every page of `certificates` (`(number, pdf)`), in order.
pub fn concatenate(certificates: &[(String, Vec<u8>)]) -> Result<Vec<u8>, PrintError> {
    if certificates.is_empty() {
        return Err(PrintError::Empty);
    }
    let mut out = Document::with_version("1.7");
    let pages_id = out.new_object_id();
    let mut kids: Vec<Object> = Vec::new();
    for (number, pdf) in certificates {
        let unreadable = |message: String| PrintError::Unreadable {
            number: number.clone(),
            message,
        };
        let mut doc = Document::load_mem(pdf).map_err(|e| unreadable(e.to_string()))?;
        doc.renumber_objects_with(out.max_id + 1);
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if pages.is_empty() {
            return Err(unreadable("no page".into()));
        }
        let mut page_dicts = Vec::with_capacity(pages.len());
        for page_id in &pages {
            let mut page = doc
                .get_dictionary(*page_id)
                .map_err(|e| unreadable(e.to_string()))?
                .clone();
            inherit(&doc, &mut page);
            page.set("Parent", Object::Reference(pages_id));
            // Signature widgets and links point into the source's form: not for paper.
            page.remove(b"Annots");
            page_dicts.push((*page_id, page));
        }
        // Only what the pages reach is kept: the page dictionaries themselves and every
        // object they refer to (fonts, images, content streams).
        let mut wanted: Vec<ObjectId> = pages.clone();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(id) = wanted.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Ok(object) = doc.get_object(id) else {
                continue;
            };
            let object = if pages.contains(&id) {
                page_dicts
                    .iter()
                    .find(|(p, _)| *p == id)
                    .map(|(_, d)| Object::Dictionary(d.clone()))
                    .unwrap_or_else(|| object.clone())
            } else {
                object.clone()
            };
            references(&object, &mut wanted);
            out.objects.insert(id, object);
        }
        out.max_id = out.max_id.max(doc.max_id);
        kids.extend(pages.into_iter().map(Object::Reference));
    }
    let count = i64::try_from(kids.len()).map_err(|e| PrintError::Write(e.to_string()))?;
    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Kids", Object::Array(kids));
    pages.set("Count", Object::Integer(count));
    out.objects.insert(pages_id, Object::Dictionary(pages));
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    let catalog_id = out.add_object(catalog);
    out.trailer.set("Root", Object::Reference(catalog_id));
    out.compress();
    let mut bytes = Vec::new();
    out.save_to(&mut bytes)
        .map_err(|e| PrintError::Write(e.to_string()))?;
    Ok(bytes)
}

/// Copies onto `page` the inheritable attributes it does not set itself.
fn inherit(doc: &Document, page: &mut Dictionary) {
    let mut parent = page.get(b"Parent").and_then(Object::as_reference).ok();
    // A page tree deeper than this is not one of ours.
    for _ in 0..32 {
        let Some(id) = parent else { break };
        let Ok(node) = doc.get_dictionary(id) else {
            break;
        };
        for key in INHERITED {
            if !page.has(key)
                && let Ok(value) = node.get(key)
            {
                page.set(key.to_vec(), value.clone());
            }
        }
        parent = node.get(b"Parent").and_then(Object::as_reference).ok();
    }
}

/// Pushes every object `object` refers to, except the page tree above it.
fn references(object: &Object, into: &mut Vec<ObjectId>) {
    match object {
        Object::Reference(id) => into.push(*id),
        Object::Array(items) => items.iter().for_each(|o| references(o, into)),
        Object::Dictionary(dict) => dict
            .iter()
            .filter(|(k, _)| k.as_slice() != b"Parent")
            .for_each(|(_, o)| references(o, into)),
        Object::Stream(stream) => stream
            .dict
            .iter()
            .filter(|(k, _)| k.as_slice() != b"Parent")
            .for_each(|(_, o)| references(o, into)),
        _ => {}
    }
}
