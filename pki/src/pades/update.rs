//! Writing an incremental update (ISO 32000-1 §7.5.6): new and replaced objects appended after
//! the original bytes, which stay an exact prefix, with a classic cross-reference section
//! chained to the previous one through `/Prev`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::Error;
use crate::pdf::{Dict, IndirectObject, ObjectId, PdfFile};

/// An update being assembled after `original`.
#[derive(Debug)]
pub(crate) struct IncrementalUpdate<'a> {
    original: &'a [u8],
    appended: Vec<u8>,
    offsets: BTreeMap<u32, (usize, u16)>,
    next_number: u32,
}

impl<'a> IncrementalUpdate<'a> {
    /// Starts an update of `file`; new objects are numbered from the trailer's `/Size`.
    pub(crate) fn new(original: &'a [u8], file: &PdfFile<'_>) -> Result<Self, Error> {
        let size = super::last_trailer(file)
            .get_int(b"Size")
            .and_then(|s| u32::try_from(s).ok())
            .ok_or_else(|| Error::Pdf("trailer has no valid /Size".into()))?;
        let mut appended = Vec::with_capacity(32 * 1024);
        // The original must end with an end-of-line so our first object starts on its own line.
        if !original.ends_with(b"\n") && !original.ends_with(b"\r") {
            appended.push(b'\n');
        }
        Ok(Self {
            original,
            appended,
            offsets: BTreeMap::new(),
            next_number: size,
        })
    }

    /// Reserves a number for a new object.
    pub(crate) fn allocate(&mut self) -> ObjectId {
        let id = ObjectId::new(self.next_number, 0);
        self.next_number += 1;
        id
    }

    /// The absolute offset where the next appended byte will sit.
    pub(crate) fn position(&self) -> usize {
        self.original.len() + self.appended.len()
    }

    /// Appends `id` with the serialised `body` (the text between `obj` and `endobj`).
    pub(crate) fn write_object(&mut self, id: ObjectId, body: &[u8]) {
        self.offsets
            .insert(id.number, (self.position(), id.generation));
        self.appended
            .extend_from_slice(format!("{} {} obj\n", id.number, id.generation).as_bytes());
        self.appended.extend_from_slice(body);
        self.appended.extend_from_slice(b"\nendobj\n");
    }

    /// Appends a stream object holding `data` as is, with extra dictionary entries.
    pub(crate) fn write_stream(&mut self, id: ObjectId, extra_entries: &str, data: &[u8]) {
        let mut body =
            format!("<< /Length {} {extra_entries}>>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.write_object(id, &body);
    }

    /// Writes the cross-reference section and trailer and returns the whole new file.
    /// `trailer_entries` are copied into the trailer after `/Size` and `/Prev`.
    pub(crate) fn finish(mut self, file: &PdfFile<'_>, trailer_entries: &str) -> Vec<u8> {
        let xref_offset = self.position();
        let mut xref = String::from("xref\n");
        // One subsection per run of consecutive object numbers.
        let numbers: Vec<u32> = self.offsets.keys().copied().collect();
        let mut i = 0;
        while i < numbers.len() {
            let mut j = i;
            while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
                j += 1;
            }
            let _ = writeln!(xref, "{} {}", numbers[i], j - i + 1);
            for n in &numbers[i..=j] {
                let (offset, generation) = self.offsets[n];
                let _ = write!(xref, "{offset:010} {generation:05} n\r\n");
            }
            i = j + 1;
        }
        let _ = write!(
            xref,
            "trailer\n<< /Size {} /Prev {} {trailer_entries}>>\nstartxref\n{xref_offset}\n%%EOF\n",
            self.next_number,
            file.revisions().last().map_or(0, |r| r.xref_offset),
        );
        self.appended.extend_from_slice(xref.as_bytes());
        let mut out = Vec::with_capacity(self.original.len() + self.appended.len());
        out.extend_from_slice(self.original);
        out.extend_from_slice(&self.appended);
        out
    }
}

/// The text of a dictionary object with `extra` entries added before its closing `>>`.
///
/// Splicing the original bytes, rather than re-serialising a parsed dictionary, keeps every
/// entry exactly as the producer wrote it. Keys in `must_be_absent` must not already exist.
pub(crate) fn dict_with_entries(
    data: &[u8],
    object: &IndirectObject,
    must_be_absent: &[&[u8]],
    extra: &str,
) -> Result<Vec<u8>, Error> {
    let dict: &Dict = object
        .object
        .as_dict()
        .ok_or_else(|| Error::Pdf(format!("object {} is not a dictionary", object.id)))?;
    for key in must_be_absent {
        if dict.contains_key(key) {
            return Err(Error::Pdf(format!(
                "object {} already has /{}; documents with it are not supported",
                object.id,
                String::from_utf8_lossy(key)
            )));
        }
    }
    let raw = object
        .span
        .slice(data)
        .ok_or_else(|| Error::Pdf("object span outside the file".into()))?;
    let open = find(raw, b"obj")
        .map(|p| p + 3)
        .ok_or_else(|| Error::Pdf("no obj keyword".into()))?;
    let close = rfind(raw, b">>").ok_or_else(|| Error::Pdf("no dictionary end".into()))?;
    let body = raw
        .get(open..close)
        .ok_or_else(|| Error::Pdf("bad object layout".into()))?;
    let mut out = body.trim_ascii_start().to_vec();
    out.extend_from_slice(b" ");
    out.extend_from_slice(extra.as_bytes());
    out.extend_from_slice(b" >>");
    Ok(out)
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// A PDF string in hex form.
pub(crate) fn hex_string(bytes: &[u8]) -> String {
    format!("<{}>", hex::encode_upper(bytes))
}

/// The trailer entries an update must carry over (`/Root`, `/Info`, `/ID`), with the second
/// file identifier replaced as ISO 32000-1 §14.4 asks of an updated file.
pub(crate) fn carried_trailer_entries(
    file: &PdfFile<'_>,
    new_instance_id: &[u8],
) -> Result<String, Error> {
    let trailer = super::last_trailer(file);
    let root = trailer
        .get_ref(b"Root")
        .ok_or_else(|| Error::Pdf("trailer has no /Root".into()))?;
    let mut out = format!("/Root {root} R ");
    if let Some(info) = trailer.get_ref(b"Info") {
        let _ = write!(out, "/Info {info} R ");
    }
    let first_id = trailer
        .get_array(b"ID")
        .and_then(|a| a.first())
        .and_then(|o| o.as_string())
        .map(|s| s.bytes.clone())
        .unwrap_or_else(|| new_instance_id.to_vec());
    let _ = write!(
        out,
        "/ID [{} {}] ",
        hex_string(&first_id),
        hex_string(new_instance_id)
    );
    Ok(out)
}
