//! Revisions: classic cross-reference tables, trailers, `startxref` and the `/Prev` chain.

use std::collections::BTreeMap;

use super::error::{PdfError, Result};
use super::lexer::{Lexer, describe, is_whitespace};
use super::limits::Limits;
use super::object::Dict;
use super::parser::Parser;

/// How far from the end of the file the last `startxref` is searched for, besides the
/// tolerated trailing white-space: `startxref`, a 20-digit offset, `%%EOF` and EOLs fit easily.
const TAIL_WINDOW: usize = 1024;

/// One cross-reference table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XrefEntry {
    /// For an in-use entry, the byte offset of `N G obj`; for a free entry, the next free
    /// object number.
    pub offset: usize,
    /// Generation number.
    pub generation: u16,
    /// `n` (in use) rather than `f` (free).
    pub in_use: bool,
}

/// One revision of the file: the original document or an incremental update.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// Where this revision's bytes begin: 0 for the first, else the previous revision's `end`.
    pub start: usize,
    /// Offset of the `xref` keyword of its cross-reference table.
    pub xref_offset: usize,
    /// Offset just past the `%%EOF` (and its end-of-line, if any) closing this revision.
    pub end: usize,
    /// The trailer dictionary.
    pub trailer: Dict,
    /// The entries of this revision's table only, by object number.
    pub entries: BTreeMap<u32, XrefEntry>,
}

/// What a section parse yields before the chain is assembled.
struct Section {
    revision: Revision,
    /// Offset of this section's `startxref` keyword.
    startxref_pos: usize,
    /// `/Prev`, if any.
    prev: Option<usize>,
}

/// Check the header and read every revision, oldest first, plus the count of trailing
/// white-space bytes after the last `%%EOF`.
pub(crate) fn read_revisions(data: &[u8], limits: &Limits) -> Result<(Vec<Revision>, usize)> {
    let header_end = check_header(data)?;

    // The last `startxref` near the end of the file.
    let window = TAIL_WINDOW
        .saturating_add(usize::try_from(limits.max_trailing_whitespace).unwrap_or(usize::MAX));
    let tail_start = data.len().saturating_sub(window);
    let tail = data.get(tail_start..).unwrap_or(&[]);
    let startxref_pos = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .map(|p| p + tail_start)
        .ok_or_else(|| PdfError::Xref("no `startxref` near the end of the file".to_owned()))?;
    let (xref_offset, end) = read_startxref(data, startxref_pos)?;

    // After the final %%EOF: only a little white-space.
    let rest = data.get(end..).unwrap_or(&[]);
    if !rest.iter().all(|&b| is_whitespace(b)) {
        return Err(PdfError::syntax(
            end,
            format!(
                "{} bytes of trailing garbage after the final %%EOF (content appended without a cross-reference update)",
                rest.len()
            ),
        ));
    }
    if rest.len() as u64 > limits.max_trailing_whitespace {
        return Err(PdfError::limit(
            "trailing whitespace",
            rest.len(),
            limits.max_trailing_whitespace,
        ));
    }

    let mut newest_first: Vec<Revision> = Vec::new();
    let mut total_entries: u64 = 0;
    let mut next = Some(xref_offset);
    while let Some(offset) = next {
        if newest_first.len() as u64 >= u64::from(limits.max_revisions) {
            return Err(PdfError::limit(
                "revision count",
                newest_first.len() + 1,
                limits.max_revisions,
            ));
        }
        let section = read_section(data, offset, limits, &mut total_entries)?;
        if newest_first.is_empty() && section.startxref_pos != startxref_pos {
            return Err(PdfError::Xref(format!(
                "the final startxref (at offset {startxref_pos}) points to the cross-reference section at {offset}, which is not the last one in the file"
            )));
        }
        if let Some(prev) = section.prev {
            // Strictly backwards: this alone rules out /Prev loops.
            if prev >= offset {
                return Err(PdfError::Xref(format!(
                    "/Prev {prev} of the cross-reference section at {offset} does not point to an earlier section (a /Prev loop?)"
                )));
            }
        }
        next = section.prev;
        newest_first.push(section.revision);
    }

    let mut revisions = newest_first;
    revisions.reverse();
    let mut start = 0;
    for (index, revision) in revisions.iter_mut().enumerate() {
        let lower = if index == 0 { header_end } else { start };
        if revision.xref_offset < lower {
            let what = if index == 0 {
                "the header"
            } else {
                "the previous revision"
            };
            return Err(PdfError::Xref(format!(
                "the cross-reference section at {} of revision {index} overlaps {what}, which ends at {lower}",
                revision.xref_offset
            )));
        }
        if let Some((number, entry)) = revision
            .entries
            .iter()
            .find(|(_, e)| e.in_use && e.offset < header_end)
        {
            return Err(PdfError::Xref(format!(
                "object {number} of revision {index} is at offset {}, inside the header",
                entry.offset
            )));
        }
        revision.start = start;
        start = revision.end;
    }
    Ok((revisions, data.len().saturating_sub(end)))
}

/// `%PDF-1.x` or `%PDF-2.0` at offset 0, then an end-of-line; returns the header's end.
fn check_header(data: &[u8]) -> Result<usize> {
    if data.is_empty() {
        return Err(PdfError::syntax(0, "empty file"));
    }
    let version = data.get(..8).unwrap_or(data);
    let ok = match version {
        [b'%', b'P', b'D', b'F', b'-', b'1', b'.', d] => d.is_ascii_digit(),
        b"%PDF-2.0" => true,
        _ => false,
    };
    if !ok {
        return Err(PdfError::syntax(
            0,
            format!(
                "not a PDF: expected a `%PDF-1.x` or `%PDF-2.0` header, found {}",
                describe(version)
            ),
        ));
    }
    let mut lex = Lexer::new(data, 8);
    if !lex.eat_eol() {
        return Err(PdfError::syntax(
            8,
            "the %PDF header must end with an end-of-line",
        ));
    }
    Ok(lex.pos())
}

/// At a `startxref` keyword: `startxref EOL offset EOL %%EOF [EOL]`.
/// Returns the offset value and the end of the revision.
fn read_startxref(data: &[u8], pos: usize) -> Result<(usize, usize)> {
    let mut lex = Lexer::new(data, pos);
    lex.expect_keyword("startxref")?;
    if lex.skip_whitespace() == 0 {
        return Err(lex.error("expected white-space after `startxref`"));
    }
    let value = lex.unsigned("the startxref offset")?;
    lex.skip_whitespace();
    if !lex.eat(b"%%EOF") {
        return Err(lex.error(format!(
            "expected `%%EOF` after startxref, found {}",
            describe(lex.rest())
        )));
    }
    if !lex.eat_eol() && !lex.at_end() {
        return Err(lex.error("`%%EOF` must be followed by an end-of-line or the end of the file"));
    }
    let value = usize::try_from(value)
        .ok()
        .filter(|&v| v < data.len())
        .ok_or_else(|| {
            PdfError::Xref(format!(
                "startxref offset {value} is beyond the end of the file ({} bytes)",
                data.len()
            ))
        })?;
    Ok((value, lex.pos()))
}

/// One `xref … trailer << … >> startxref … %%EOF` section at `offset`.
fn read_section(
    data: &[u8],
    offset: usize,
    limits: &Limits,
    total_entries: &mut u64,
) -> Result<Section> {
    if offset >= data.len() {
        return Err(PdfError::Xref(format!(
            "cross-reference offset {offset} is beyond the end of the file ({} bytes)",
            data.len()
        )));
    }
    let mut lex = Lexer::new(data, offset);
    if !lex.rest().starts_with(b"xref") {
        if lex.peek().is_some_and(|b| b.is_ascii_digit()) {
            return Err(PdfError::Unsupported(format!(
                "cross-reference streams (an object instead of an `xref` table at offset {offset}) are not supported; only classic cross-reference tables are"
            )));
        }
        return Err(PdfError::Xref(format!(
            "no `xref` table at offset {offset}: found {}",
            describe(lex.rest())
        )));
    }
    lex.expect_keyword("xref")?;
    if !lex.eat_eol() {
        // Some writers put a space before the EOL.
        lex.skip_whitespace();
    }

    let mut entries = BTreeMap::new();
    loop {
        lex.skip_whitespace();
        match lex.peek() {
            Some(b) if b.is_ascii_digit() => {
                read_subsection(&mut lex, offset, limits, total_entries, &mut entries)?;
            }
            _ if lex.rest().starts_with(b"trailer") => break,
            _ => {
                return Err(lex.error(format!(
                    "expected a cross-reference subsection or `trailer`, found {}",
                    describe(lex.rest())
                )));
            }
        }
    }
    lex.expect_keyword("trailer")?;
    let mut parser = Parser::new(lex, limits);
    let trailer_pos = parser.lex.pos();
    let trailer = match parser.parse_object()? {
        super::Object::Dict(d) => d,
        other => {
            return Err(PdfError::syntax(
                trailer_pos,
                format!("the trailer must be a dictionary, found a {}", other.kind()),
            ));
        }
    };
    let mut lex = parser.lex;
    lex.skip_whitespace();
    let startxref_pos = lex.pos();
    if !lex.rest().starts_with(b"startxref") {
        return Err(lex.error(format!(
            "expected `startxref` after the trailer, found {}",
            describe(lex.rest())
        )));
    }
    let (value, end) = read_startxref(data, startxref_pos)?;
    if value != offset {
        return Err(PdfError::Xref(format!(
            "the startxref after the trailer at {startxref_pos} says {value}, but its cross-reference section is at {offset}"
        )));
    }

    let prev = check_trailer(&trailer, &entries, offset)?;
    Ok(Section {
        revision: Revision {
            start: 0,
            xref_offset: offset,
            end,
            trailer,
            entries,
        },
        startxref_pos,
        prev,
    })
}

/// `first count EOL` then `count` entries of exactly 20 bytes.
fn read_subsection(
    lex: &mut Lexer<'_>,
    xref_offset: usize,
    limits: &Limits,
    total_entries: &mut u64,
    entries: &mut BTreeMap<u32, XrefEntry>,
) -> Result<()> {
    let first = lex.unsigned("the first object number of a subsection")?;
    if lex.peek() != Some(b' ') {
        return Err(lex.error("expected a space between the subsection's first number and count"));
    }
    lex.advance(1);
    let count = lex.unsigned("the entry count of a subsection")?;
    // Checked before anything is allocated or read.
    *total_entries = total_entries.saturating_add(count);
    if *total_entries > limits.max_objects {
        return Err(PdfError::limit(
            "object count",
            *total_entries,
            limits.max_objects,
        ));
    }
    let last = first.saturating_add(count);
    if last > u64::from(u32::MAX) {
        return Err(lex.error(format!(
            "subsection {first} {count} has object numbers beyond the maximum"
        )));
    }
    while lex.peek() == Some(b' ') {
        lex.advance(1);
    }
    if !lex.eat_eol() {
        return Err(lex.error("expected an end-of-line after the subsection header"));
    }
    for number in first..last {
        let pos = lex.pos();
        let line = lex
            .rest()
            .get(..20)
            .ok_or_else(|| PdfError::syntax(pos, "truncated cross-reference entry"))?;
        let entry = parse_entry(line).ok_or_else(|| {
            PdfError::syntax(
                pos,
                format!("malformed cross-reference entry {}", describe(line)),
            )
        })?;
        let number = u32::try_from(number).unwrap_or(u32::MAX);
        if entry.in_use {
            if number == 0 {
                return Err(PdfError::syntax(pos, "object 0 must be a free entry"));
            }
            if entry.offset >= xref_offset {
                return Err(PdfError::Xref(format!(
                    "object {number} is at offset {}, not before its cross-reference table at {xref_offset}",
                    entry.offset
                )));
            }
        }
        if entries.insert(number, entry).is_some() {
            return Err(PdfError::Xref(format!(
                "object {number} appears twice in the cross-reference table at {xref_offset}"
            )));
        }
        lex.advance(20);
    }
    Ok(())
}

/// `oooooooooo ggggg n` + one of `\r\n`, ` \n`, ` \r`.
fn parse_entry(line: &[u8]) -> Option<XrefEntry> {
    let digits = |s: &[u8]| -> Option<u64> {
        s.iter().try_fold(0u64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
        })
    };
    let offset = digits(line.get(0..10)?)?;
    let generation = u16::try_from(digits(line.get(11..16)?)?).ok()?;
    let in_use = match line.get(17)? {
        b'n' => true,
        b'f' => false,
        _ => return None,
    };
    let separators_ok = line.get(10) == Some(&b' ') && line.get(16) == Some(&b' ');
    let eol_ok = matches!(line.get(18..20)?, b"\r\n" | b" \n" | b" \r");
    (separators_ok && eol_ok).then_some(XrefEntry {
        offset: usize::try_from(offset).ok()?,
        generation,
        in_use,
    })
}

/// Check the trailer against our scope and the entries; returns `/Prev`.
fn check_trailer(
    trailer: &Dict,
    entries: &BTreeMap<u32, XrefEntry>,
    offset: usize,
) -> Result<Option<usize>> {
    if trailer.contains_key(b"XRefStm") {
        return Err(PdfError::Unsupported(
            "hybrid-reference files (trailer /XRefStm) are not supported".to_owned(),
        ));
    }
    if trailer.contains_key(b"Encrypt") {
        return Err(PdfError::Unsupported(
            "encrypted PDFs are not supported".to_owned(),
        ));
    }
    let size = trailer.get_int(b"Size").filter(|&s| s > 0).ok_or_else(|| {
        PdfError::Xref(format!(
            "the trailer of the section at {offset} has no positive integer /Size"
        ))
    })?;
    if let Some((&number, _)) = entries.last_key_value()
        && i64::from(number) >= size
    {
        return Err(PdfError::Xref(format!(
            "object {number} is listed but the trailer's /Size is {size}"
        )));
    }
    if trailer.get_ref(b"Root").is_none() {
        return Err(PdfError::Xref(format!(
            "the trailer of the section at {offset} has no /Root reference"
        )));
    }
    match trailer.get(b"Prev") {
        None => Ok(None),
        Some(p) => p
            .as_int()
            .and_then(|p| usize::try_from(p).ok())
            .map(Some)
            .ok_or_else(|| {
                PdfError::Xref(format!(
                    "/Prev of the section at {offset} is not a non-negative integer"
                ))
            }),
    }
}
