//! Strict, bounded, lazy PDF reading for signature verification.
//!
//! [`PdfFile::parse`] reads only the file structure: the header, every classic
//! cross-reference table and trailer, and the `/Prev` chain of incremental updates. Objects
//! are parsed on demand with [`PdfFile::object`], as seen by a chosen revision, and nothing
//! is cached, so the reader holds no state beyond the revision list and a decoded-bytes
//! counter.
//!
//! # Scope
//! What the service's own certificates use, and nothing more:
//! - a `%PDF-1.x` / `%PDF-2.0` header at offset 0;
//! - classic `xref` tables (20-byte entries ending in `\r\n`, ` \n` or ` \r`), trailers,
//!   `startxref`, `%%EOF`, and `/Prev` chains;
//! - all basic object types, indirect objects, and streams with a direct or indirect
//!   `/Length`, decoded with no filter or `/FlateDecode` only.
//!
//! Cross-reference streams, hybrid files (`/XRefStm`), object streams, encryption, other
//! filters and predictors are [`PdfError::Unsupported`].
//!
//! # Strictness (why)
//! A verifier must see exactly what a viewer sees, so ambiguity is an error rather than
//! something to repair: no searching for objects when an offset is wrong, no guessing
//! stream lengths, no duplicate dictionary keys, no bytes after the last `%%EOF` except a
//! little white-space (reported by [`PdfFile::trailing_whitespace`]). Each `/Prev` must
//! point strictly backwards (which rules out loops), each section's `startxref` must name
//! that section, revisions must not overlap, and an object must end before the
//! cross-reference table that lists it.
//!
//! # Bounds
//! Every size an attacker controls is bounded by [`Limits`]; parsing never recurses (open
//! arrays and dictionaries live on an explicit stack bounded by `max_nesting`), never indexes
//! without a check, and never inflates more than the remaining decompression budget plus
//! one byte. The total bytes of object syntax parsed are budgeted too, so even walking every
//! object of a hostile file (overlapping or nested objects) takes bounded time.
//!
//! ```no_run
//! use ccr_pki::pdf::{Limits, PdfFile};
//! # fn demo(bytes: &[u8]) -> Result<(), ccr_pki::pdf::PdfError> {
//! let file = PdfFile::parse(bytes, &Limits::default())?;
//! let newest = file.last_revision();
//! let catalog = file.catalog(newest)?;
//! if let Some(acroform) = catalog.get(b"AcroForm") {
//!     let acroform = file.resolve(acroform, newest)?;
//!     // … find the signature field, its /V dictionary, /ByteRange and /Contents …
//! #   let _ = acroform;
//! }
//! for (index, revision) in file.revisions().iter().enumerate() {
//!     let changes = file.changes(index)?;
//!     println!("revision {index} ends at {}: {changes:?}", revision.end);
//! }
//! # Ok(()) }
//! ```

mod error;
mod lexer;
mod limits;
mod object;
mod parser;
mod stream;
#[cfg(test)]
mod tests;
mod xref;

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

pub use error::PdfError;
use lexer::{Lexer, describe};
pub use limits::Limits;
pub use object::{Dict, IndirectObject, Object, ObjectId, PdfString, Span, Stream};
use parser::Parser;
pub use xref::{Revision, XrefEntry};

/// A PDF file borrowed from memory, with its revisions read and its objects available lazily.
pub struct PdfFile<'a> {
    bytes: &'a [u8],
    limits: Limits,
    version: (u8, u8),
    revisions: Vec<Revision>,
    trailing_whitespace: usize,
    /// Decoded stream bytes so far, across the whole file (atomic so the file stays `Sync`).
    decompressed: AtomicU64,
    /// Object bytes parsed so far, across the whole file.
    parsed: AtomicU64,
}

impl fmt::Debug for PdfFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdfFile")
            .field("len", &self.bytes.len())
            .field("version", &self.version)
            .field("revisions", &self.revisions.len())
            .field("trailing_whitespace", &self.trailing_whitespace)
            .field("decompressed", &self.decompressed_bytes())
            .field("parsed", &self.parsed_bytes())
            .finish_non_exhaustive()
    }
}

/// What one revision's cross-reference table changes relative to the revisions before it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevisionChanges {
    /// In use here, and not in use in any earlier revision.
    pub added: Vec<ObjectId>,
    /// In use here and already in use before (replaced, or re-listed at the same offset).
    pub redefined: Vec<ObjectId>,
    /// Marked free here while in use before (the ids are the previous ones).
    pub freed: Vec<ObjectId>,
    /// Listed in use here (added or redefined) but located before this revision's `start`,
    /// in bytes an earlier revision (and any signature over it) already covers. An honest
    /// update writes the objects it lists; pointing back at hidden bytes is a shadow attack.
    pub in_earlier_bytes: Vec<ObjectId>,
}

impl<'a> PdfFile<'a> {
    /// Check the header and read every revision. Objects are not parsed yet.
    pub fn parse(bytes: &'a [u8], limits: &Limits) -> Result<Self, PdfError> {
        if bytes.len() as u64 > limits.max_file_bytes {
            return Err(PdfError::limit(
                "file size",
                bytes.len(),
                limits.max_file_bytes,
            ));
        }
        let (revisions, trailing_whitespace) = xref::read_revisions(bytes, limits)?;
        let digit = |i: usize| bytes.get(i).map_or(0, |b| b.wrapping_sub(b'0'));
        Ok(Self {
            bytes,
            limits: limits.clone(),
            version: (digit(5), digit(7)),
            revisions,
            trailing_whitespace,
            decompressed: AtomicU64::new(0),
            parsed: AtomicU64::new(0),
        })
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The header version, e.g. `(1, 7)`.
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    /// All revisions, oldest first (never empty).
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Index of the newest revision.
    pub fn last_revision(&self) -> usize {
        self.revisions.len().saturating_sub(1)
    }

    /// One revision by index.
    pub fn revision(&self, index: usize) -> Result<&Revision, PdfError> {
        self.revisions.get(index).ok_or_else(|| {
            PdfError::Xref(format!(
                "revision {index} does not exist (the file has {})",
                self.revisions.len()
            ))
        })
    }

    /// White-space bytes after the final `%%EOF` and its end-of-line (bytes no revision covers).
    pub fn trailing_whitespace(&self) -> usize {
        self.trailing_whitespace
    }

    /// The cross-reference entry for `number` as seen by `revision`: the newest revision at or
    /// before it that lists the number, with that revision's index.
    pub fn entry(
        &self,
        revision: usize,
        number: u32,
    ) -> Result<Option<(usize, XrefEntry)>, PdfError> {
        self.revision(revision)?;
        Ok(self
            .revisions
            .iter()
            .enumerate()
            .take(revision.saturating_add(1))
            .rev()
            .find_map(|(i, r)| r.entries.get(&number).map(|e| (i, *e))))
    }

    /// The object `id` as seen by `revision`.
    pub fn object(&self, revision: usize, id: ObjectId) -> Result<Object, PdfError> {
        Ok(self.indirect_object(revision, id)?.object)
    }

    /// The object `id` as seen by `revision`, with its byte span and defining revision.
    pub fn indirect_object(
        &self,
        revision: usize,
        id: ObjectId,
    ) -> Result<IndirectObject, PdfError> {
        let (defined_in, entry) = self
            .entry(revision, id.number)?
            .ok_or(PdfError::MissingObject(id))?;
        if !entry.in_use || entry.generation != id.generation {
            return Err(PdfError::MissingObject(id));
        }
        self.read_indirect(revision, defined_in, entry.offset, id, true)
    }

    /// `object` itself, or for a reference the object it points to as seen by `revision`
    /// (following at most `max_reference_chain` references).
    pub fn resolve(&self, object: &Object, revision: usize) -> Result<Object, PdfError> {
        let &Object::Reference(mut id) = object else {
            return Ok(object.clone());
        };
        for _ in 0..self.limits.max_reference_chain {
            match self.object(revision, id)? {
                Object::Reference(next) => id = next,
                other => return Ok(other),
            }
        }
        Err(PdfError::limit(
            "reference chain length",
            u64::from(self.limits.max_reference_chain) + 1,
            self.limits.max_reference_chain,
        ))
    }

    /// The document catalog (trailer `/Root`) as seen by `revision`.
    pub fn catalog(&self, revision: usize) -> Result<Dict, PdfError> {
        let root = self
            .revision(revision)?
            .trailer
            .get_ref(b"Root")
            .ok_or_else(|| PdfError::Xref("the trailer has no /Root reference".to_owned()))?;
        match self.object(revision, root)? {
            Object::Dict(d) if d.has_type(b"Catalog") => Ok(d),
            other => Err(PdfError::Xref(format!(
                "/Root {root} of revision {revision} is a {}, not a /Catalog dictionary",
                other.kind()
            ))),
        }
    }

    /// Which object ids `revision` adds, redefines or frees, so a verifier can check that an
    /// update after the signature only adds validation data.
    pub fn changes(&self, revision: usize) -> Result<RevisionChanges, PdfError> {
        let mut changes = RevisionChanges::default();
        let this = self.revision(revision)?;
        for (&number, entry) in &this.entries {
            if entry.in_use && entry.offset < this.start {
                changes
                    .in_earlier_bytes
                    .push(ObjectId::new(number, entry.generation));
            }
            let before = match revision.checked_sub(1) {
                Some(previous) => self.entry(previous, number)?.map(|(_, e)| e),
                None => None,
            };
            let before = before.filter(|e| e.in_use);
            match (entry.in_use, before) {
                (true, None) => changes.added.push(ObjectId::new(number, entry.generation)),
                (true, Some(_)) => changes
                    .redefined
                    .push(ObjectId::new(number, entry.generation)),
                (false, Some(e)) => changes.freed.push(ObjectId::new(number, e.generation)),
                (false, None) => {}
            }
        }
        Ok(changes)
    }

    /// The raw (encoded) data of a stream read from this file.
    pub fn stream_data(&self, stream: &Stream) -> Result<&'a [u8], PdfError> {
        stream
            .data
            .slice(self.bytes)
            .ok_or_else(|| PdfError::syntax(stream.data.start, "stream data lies outside the file"))
    }

    /// The decoded data of a stream (no filter or `/FlateDecode`), charged to the file's
    /// `max_decompressed_bytes` budget. Once the budget is exceeded, further decoding fails.
    pub fn decode_stream(&self, stream: &Stream) -> Result<Vec<u8>, PdfError> {
        let raw = self.stream_data(stream)?;
        let filter = stream::filter_of(stream)?;
        let max = self.limits.max_decompressed_bytes;
        let budget = max.saturating_sub(self.decompressed.load(Ordering::Relaxed));
        let (out, produced, error) = match filter {
            // Checked before copying, so an over-long raw stream costs nothing.
            stream::Filter::None if raw.len() as u64 > budget => {
                (Vec::new(), raw.len() as u64, None)
            }
            stream::Filter::None => (raw.to_vec(), raw.len() as u64, None),
            stream::Filter::Flate => {
                let (out, error) = stream::inflate(raw, budget);
                let produced = out.len() as u64;
                (out, produced, error)
            }
        };
        // Charged even when decoding fails, so repeated attempts cannot redo the work for free.
        let before = self.decompressed.fetch_add(produced, Ordering::Relaxed);
        let total = before.saturating_add(produced);
        if total > max {
            return Err(PdfError::limit("decompressed bytes", total, max));
        }
        if let Some(e) = error {
            return Err(PdfError::Decode {
                offset: stream.data.start,
                message: format!("FlateDecode: {e}"),
            });
        }
        Ok(out)
    }

    /// Decoded stream bytes charged so far.
    pub fn decompressed_bytes(&self) -> u64 {
        self.decompressed.load(Ordering::Relaxed)
    }

    /// Object bytes parsed so far (see [`Limits::max_parsed_bytes`]).
    pub fn parsed_bytes(&self) -> u64 {
        self.parsed.load(Ordering::Relaxed)
    }

    /// [`Self::parse_indirect`] under the `max_parsed_bytes` budget.
    fn read_indirect(
        &self,
        view: usize,
        defined_in: usize,
        offset: usize,
        id: ObjectId,
        allow_stream: bool,
    ) -> Result<IndirectObject, PdfError> {
        let max = self.limits.max_parsed_bytes;
        let used = self.parsed_bytes();
        if used > max {
            return Err(PdfError::limit("parsed bytes", used, max));
        }
        let bound = self.revision(defined_in)?.xref_offset;
        let result = self.parse_indirect(view, bound, offset, id, allow_stream);
        let cost = match &result {
            Ok(o) => {
                let data = o.object.as_stream().map_or(0, |s| s.data.len());
                o.span.len().saturating_sub(data)
            }
            // How far it got is unknown: charge all it could have scanned.
            Err(_) => bound.saturating_sub(offset),
        };
        self.parsed.fetch_add(cost as u64, Ordering::Relaxed);
        result.map(|o| IndirectObject {
            revision: defined_in,
            ..o
        })
    }

    /// Read `N G obj … endobj` at `offset`, ending before `bound` (the table that lists
    /// it); indirect `/Length`s are resolved as seen by `view`. `allow_stream` is false when
    /// reading a `/Length` itself, which bounds that lookup to one level.
    fn parse_indirect(
        &self,
        view: usize,
        bound: usize,
        offset: usize,
        id: ObjectId,
        allow_stream: bool,
    ) -> Result<IndirectObject, PdfError> {
        // Only the bytes before the listing table: an object cannot run into or past it.
        let data = self.bytes.get(..bound).unwrap_or(self.bytes);
        let mut lex = Lexer::new(data, offset);
        let number = lex.unsigned("an object number")?;
        if lex.skip_whitespace() == 0 {
            return Err(lex.error("expected white-space after the object number"));
        }
        let generation = lex.unsigned("a generation number")?;
        if lex.skip_whitespace() == 0 {
            return Err(lex.error("expected white-space after the generation number"));
        }
        lex.expect_keyword("obj")?;
        if number != u64::from(id.number) || generation != u64::from(id.generation) {
            return Err(PdfError::Xref(format!(
                "the entry for object {id} points to offset {offset}, which holds object {number} {generation}"
            )));
        }
        let mut parser = Parser::new(lex, &self.limits);
        let object = parser.parse_object()?;
        let mut lex = parser.lex;
        lex.skip_whitespace_and_comments();
        let object = if lex.at_keyword(b"stream") {
            Object::Stream(self.read_stream_body(&mut lex, object, view, allow_stream)?)
        } else {
            object
        };
        lex.skip_whitespace_and_comments();
        if !lex.at_keyword(b"endobj") {
            return Err(lex.error(format!(
                "expected `endobj` to close object {id}, found {}",
                describe(lex.rest())
            )));
        }
        lex.advance(6);
        Ok(IndirectObject {
            id,
            object,
            span: Span {
                start: offset,
                end: lex.pos(),
            },
            revision: 0, // set by `read_indirect`
        })
    }

    /// From the `stream` keyword to just past `endstream`.
    fn read_stream_body(
        &self,
        lex: &mut Lexer<'_>,
        object: Object,
        view: usize,
        allow_stream: bool,
    ) -> Result<Stream, PdfError> {
        let keyword = lex.pos();
        let Object::Dict(dict) = object else {
            return Err(lex.error(format!(
                "`stream` follows a {}, not a dictionary",
                object.kind()
            )));
        };
        if !allow_stream {
            return Err(lex.error("a stream /Length must be an integer object, not a stream"));
        }
        for (ty, what) in [
            (b"ObjStm".as_slice(), "object streams (/Type /ObjStm)"),
            (b"XRef", "cross-reference streams (/Type /XRef)"),
        ] {
            if dict.has_type(ty) {
                return Err(PdfError::Unsupported(format!("{what} are not supported")));
            }
        }
        lex.advance(6);
        // ISO 32000-1 7.3.8.1: CRLF or LF, never CR alone (it could be the first data byte).
        if !(lex.eat(b"\r\n") || lex.eat(b"\n")) {
            return Err(lex.error("`stream` must be followed by CRLF or LF"));
        }
        let length = match dict.get(b"Length") {
            Some(Object::Integer(n)) => *n,
            Some(Object::Reference(r)) => self.stream_length(view, *r)?,
            Some(other) => {
                return Err(PdfError::syntax(
                    keyword,
                    format!("stream /Length is a {}, not an integer", other.kind()),
                ));
            }
            None => return Err(PdfError::syntax(keyword, "stream without /Length")),
        };
        let start = lex.pos();
        let end = usize::try_from(length)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&end| end <= lex.data().len())
            .ok_or_else(|| {
                PdfError::syntax(
                    start,
                    format!(
                        "stream /Length {length} is negative or runs past the object's revision"
                    ),
                )
            })?;
        lex.set_pos(end);
        lex.eat_eol();
        if !lex.at_keyword(b"endstream") {
            return Err(lex.error(format!(
                "expected `endstream` after {length} bytes of stream data (wrong /Length?), found {}",
                describe(lex.rest())
            )));
        }
        lex.advance(9);
        Ok(Stream {
            dict,
            data: Span { start, end },
        })
    }

    /// An indirect `/Length`: an integer object, read without following further references.
    fn stream_length(&self, view: usize, id: ObjectId) -> Result<i64, PdfError> {
        let (defined_in, entry) = self
            .entry(view, id.number)?
            .ok_or(PdfError::MissingObject(id))?;
        if !entry.in_use || entry.generation != id.generation {
            return Err(PdfError::MissingObject(id));
        }
        let length = self.read_indirect(view, defined_in, entry.offset, id, false)?;
        length.object.as_int().ok_or_else(|| {
            PdfError::syntax(
                length.span.start,
                format!(
                    "stream /Length {id} R is a {}, not an integer",
                    length.object.kind()
                ),
            )
        })
    }
}

/// Parse `bytes` with default limits and walk every object of every revision, decoding
/// streams, ignoring all errors. An entry point for fuzzing: it must never panic.
pub fn fuzz_parse(bytes: &[u8]) {
    let Ok(file) = PdfFile::parse(bytes, &Limits::default()) else {
        return;
    };
    let _ = file.trailing_whitespace();
    for (index, revision) in file.revisions().iter().enumerate() {
        let _ = file.changes(index);
        let _ = file.catalog(index);
        for (&number, entry) in &revision.entries {
            if !entry.in_use {
                continue;
            }
            let Ok(object) = file.object(index, ObjectId::new(number, entry.generation)) else {
                continue;
            };
            match &object {
                Object::Stream(s) => {
                    let _ = file.decode_stream(s);
                }
                Object::Dict(d) => {
                    for (_, value) in d.iter() {
                        let _ = file.resolve(value, index);
                    }
                }
                _ => {}
            }
        }
    }
}
