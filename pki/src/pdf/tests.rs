//! Unit tests of the PDF reader, on hand-built files.

#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use super::lexer::Lexer;
use super::parser::Parser;
use super::*;

// ---------------------------------------------------------------------------------------------
// A small PDF writer: objects, classic xref tables, incremental updates, computed offsets.
// ---------------------------------------------------------------------------------------------

struct Builder {
    buf: Vec<u8>,
    /// Objects written since the last xref table, by number.
    pending: BTreeMap<u32, usize>,
    prev: Option<usize>,
    size: u32,
    /// End of each xref entry.
    entry_eol: &'static [u8],
    /// What follows `%%EOF`.
    eof_eol: &'static [u8],
}

impl Builder {
    fn new() -> Self {
        Self {
            buf: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
            pending: BTreeMap::new(),
            prev: None,
            size: 1,
            entry_eol: b"\r\n",
            eof_eol: b"\n",
        }
    }

    fn obj(&mut self, number: u32, body: &str) -> &mut Self {
        self.raw_obj(number, body.as_bytes())
    }

    fn raw_obj(&mut self, number: u32, body: &[u8]) -> &mut Self {
        self.pending.insert(number, self.buf.len());
        self.buf
            .extend_from_slice(format!("{number} 0 obj\n").as_bytes());
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(b"\nendobj\n");
        self
    }

    fn stream(&mut self, number: u32, extra: &str, data: &[u8]) -> &mut Self {
        let mut body = format!("<< /Length {} {extra} >>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.raw_obj(number, &body)
    }

    fn flate_stream(&mut self, number: u32, data: &[u8]) -> &mut Self {
        self.stream(number, "/Filter /FlateDecode", &zlib(data))
    }

    /// Write the xref table, trailer, startxref and %%EOF; returns the xref offset.
    fn xref(&mut self, trailer_extra: &str) -> usize {
        self.xref_with(|_| trailer_extra.to_owned())
    }

    /// Like `xref`, with trailer entries computed from the xref offset.
    fn xref_with(&mut self, trailer_extra: impl FnOnce(usize) -> String) -> usize {
        let offset = self.buf.len();
        let mut out = b"xref\n".to_vec();
        let first_revision = self.prev.is_none();
        let mut entries: BTreeMap<u32, Option<usize>> =
            self.pending.iter().map(|(&n, &o)| (n, Some(o))).collect();
        if first_revision {
            // One subsection from 0, with free entries for gaps.
            let max = entries.keys().last().copied().unwrap_or(0);
            for n in 0..=max {
                entries.entry(n).or_insert(None);
            }
        }
        let numbers: Vec<u32> = entries.keys().copied().collect();
        let mut i = 0;
        while i < numbers.len() {
            let mut j = i + 1;
            while j < numbers.len() && numbers[j] == numbers[j - 1] + 1 {
                j += 1;
            }
            out.extend_from_slice(format!("{} {}\n", numbers[i], j - i).as_bytes());
            for n in &numbers[i..j] {
                let line = match entries[n] {
                    Some(o) => format!("{o:010} 00000 n"),
                    None => "0000000000 65535 f".to_owned(),
                };
                out.extend_from_slice(line.as_bytes());
                out.extend_from_slice(self.entry_eol);
            }
            i = j;
        }
        if let Some(&max) = self.pending.keys().last() {
            self.size = self.size.max(max + 1);
        }
        let prev = self.prev.map(|p| format!(" /Prev {p}")).unwrap_or_default();
        let extra = trailer_extra(offset);
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R{prev} {extra} >>\nstartxref\n{offset}\n%%EOF",
                self.size
            )
            .as_bytes(),
        );
        out.extend_from_slice(self.eof_eol);
        self.buf.extend_from_slice(&out);
        self.pending.clear();
        self.prev = Some(offset);
        offset
    }

    fn bytes(&self) -> Vec<u8> {
        self.buf.clone()
    }
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const CONTENT: &[u8] = b"BT /F1 12 Tf 72 770 Td (Certificate of Criminal Record) Tj ET";

/// A valid one-page PDF, as a builder ready for incremental updates.
fn one_page() -> Builder {
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        .obj(
            3,
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Contents 4 0 R \
             /Resources << /Font << /F1 5 0 R >> >> >>",
        )
        .flate_stream(4, CONTENT)
        .obj(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        .obj(
            6,
            "<< /Producer (ccr test \\(builder\\)) /Title <FEFF0043> >>",
        );
    b.xref("/Info 6 0 R");
    b
}

/// The one-page PDF plus a signature update, plus a /DSS update.
fn signed() -> (Builder, Vec<usize>) {
    let mut b = one_page();
    let mut ends = vec![b.buf.len()];
    b.obj(
        1,
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] /SigFlags 3 >> >>",
    )
    .obj(
        7,
        "<< /FT /Sig /T (Signature1) /V 8 0 R /Rect [0 0 0 0] /Type /Annot /Subtype /Widget >>",
    )
    .obj(
        8,
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached \
         /ByteRange [0 1 2 3] /Contents <3082ABCD0000000000> >>",
    );
    b.xref("");
    ends.push(b.buf.len());
    b.obj(
        1,
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] /SigFlags 3 >> /DSS 9 0 R >>",
    )
    .obj(9, "<< /Certs [10 0 R] >>")
    .stream(10, "", b"\x30\x82\x01\x00certificate");
    b.xref("");
    ends.push(b.buf.len());
    (b, ends)
}

fn parse(bytes: &[u8]) -> Result<PdfFile<'_>, PdfError> {
    PdfFile::parse(bytes, &Limits::default())
}

fn id(n: u32) -> ObjectId {
    ObjectId::new(n, 0)
}

fn parse_direct(src: &[u8], limits: &Limits) -> Result<Object, PdfError> {
    Parser::new(Lexer::new(src, 0), limits).parse_object()
}

fn limit_name(e: &PdfError) -> Option<&'static str> {
    match e {
        PdfError::LimitExceeded { limit, .. } => Some(limit),
        _ => None,
    }
}

/// A file with object 6 replaced by `body` (one revision).
fn with_object_6(body: &[u8]) -> Vec<u8> {
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .obj(2, "<< /Type /Pages /Kids [] /Count 0 >>")
        .raw_obj(6, body);
    b.xref("");
    b.bytes()
}

// ---------------------------------------------------------------------------------------------
// Structure and lazy access
// ---------------------------------------------------------------------------------------------

#[test]
fn parses_one_page_and_reads_objects_lazily() {
    let bytes = one_page().bytes();
    let file = parse(&bytes).unwrap();
    assert_eq!(file.version(), (1, 7));
    assert_eq!(file.revisions().len(), 1);
    let rev = &file.revisions()[0];
    assert_eq!(rev.start, 0);
    assert_eq!(rev.end, bytes.len());
    assert_eq!(file.trailing_whitespace(), 0);
    assert_eq!(rev.trailer.get_int(b"Size"), Some(7));
    assert_eq!(rev.entries.len(), 7);
    assert!(!rev.entries[&0].in_use);

    let catalog = file.catalog(0).unwrap();
    let pages = file.resolve(catalog.get(b"Pages").unwrap(), 0).unwrap();
    let kids = pages.as_dict().unwrap().get_array(b"Kids").unwrap();
    assert_eq!(kids, &[Object::Reference(id(3))]);
    let page = file.resolve(&kids[0], 0).unwrap();
    let page = page.as_dict().unwrap();
    assert!(page.has_type(b"Page"));
    let media_box: Vec<f64> = page
        .get_array(b"MediaBox")
        .unwrap()
        .iter()
        .map(|o| o.as_number().unwrap())
        .collect();
    assert_eq!(media_box, [0.0, 0.0, 595.28, 841.89]);
    let font = page
        .get_dict(b"Resources")
        .and_then(|r| r.get_dict(b"Font"))
        .and_then(|f| f.get_ref(b"F1"))
        .unwrap();
    assert_eq!(
        file.object(0, font)
            .unwrap()
            .as_dict()
            .unwrap()
            .get_name(b"BaseFont"),
        Some(b"Helvetica".as_slice())
    );

    // The content stream, its span, and decoding.
    let content = file.indirect_object(0, id(4)).unwrap();
    assert!(bytes[content.span.start..].starts_with(b"4 0 obj"));
    assert!(bytes[..content.span.end].ends_with(b"endobj"));
    let stream = content.object.as_stream().unwrap();
    assert_eq!(file.stream_data(stream).unwrap(), zlib(CONTENT).as_slice());
    assert_eq!(file.decode_stream(stream).unwrap(), CONTENT);
    assert_eq!(file.decompressed_bytes(), CONTENT.len() as u64);

    let info = file.object(0, id(6)).unwrap();
    let info = info.as_dict().unwrap();
    assert_eq!(
        info.get_string(b"Producer").unwrap().bytes,
        b"ccr test (builder)"
    );
    assert_eq!(
        info.get_string(b"Title").unwrap().bytes,
        b"\xFE\xFF\x00\x43"
    );

    // Missing, free, wrong generation, revision out of range.
    assert_eq!(file.object(0, id(60)), Err(PdfError::MissingObject(id(60))));
    assert_eq!(file.object(0, id(0)), Err(PdfError::MissingObject(id(0))));
    assert!(matches!(
        file.object(0, ObjectId::new(3, 1)),
        Err(PdfError::MissingObject(_))
    ));
    assert!(matches!(file.object(1, id(1)), Err(PdfError::Xref(_))));
    let changes = file.changes(0).unwrap();
    assert_eq!(changes.added, (1..=6).map(id).collect::<Vec<_>>());
    assert!(changes.redefined.is_empty() && changes.freed.is_empty());
}

#[test]
fn incremental_updates_have_ordered_revisions_and_ends() {
    let (b, ends) = signed();
    let bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    let revs = file.revisions();
    assert_eq!(revs.len(), 3);
    for (i, rev) in revs.iter().enumerate() {
        assert_eq!(rev.end, ends[i], "end of revision {i}");
        assert_eq!(rev.start, if i == 0 { 0 } else { ends[i - 1] });
        assert!(bytes[..rev.end].ends_with(b"%%EOF\n"));
        assert!(bytes[rev.xref_offset..].starts_with(b"xref"));
    }
    assert_eq!(
        revs[2].trailer.get_int(b"Prev"),
        Some(revs[1].xref_offset as i64)
    );

    // Each revision sees its own catalog.
    assert!(!file.catalog(0).unwrap().contains_key(b"AcroForm"));
    assert!(file.catalog(1).unwrap().contains_key(b"AcroForm"));
    assert!(!file.catalog(1).unwrap().contains_key(b"DSS"));
    assert!(file.catalog(2).unwrap().contains_key(b"DSS"));
    assert_eq!(file.indirect_object(2, id(3)).unwrap().revision, 0);
    assert_eq!(file.indirect_object(2, id(1)).unwrap().revision, 2);
    assert_eq!(file.object(0, id(9)), Err(PdfError::MissingObject(id(9))));

    let c1 = file.changes(1).unwrap();
    assert_eq!(c1.added, vec![id(7), id(8)]);
    assert_eq!(c1.redefined, vec![id(1)]);
    let c2 = file.changes(2).unwrap();
    assert_eq!(c2.added, vec![id(9), id(10)]);
    assert_eq!(c2.redefined, vec![id(1)]);
    assert!(c2.freed.is_empty());

    // The prefix up to an older revision's end is itself a valid PDF.
    let older = parse(&bytes[..ends[1]]).unwrap();
    assert_eq!(older.revisions().len(), 2);
}

#[test]
fn contents_hex_string_span_is_exact() {
    let (b, _) = signed();
    let bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    let field = file.object(2, id(7)).unwrap();
    let sig = file
        .resolve(field.as_dict().unwrap().get(b"V").unwrap(), 2)
        .unwrap();
    let sig = sig.as_dict().unwrap();
    let contents = sig.get_string(b"Contents").unwrap();
    assert!(contents.hex);
    assert_eq!(contents.bytes, [0x30, 0x82, 0xAB, 0xCD, 0, 0, 0, 0, 0]);
    assert_eq!(
        contents.span.slice(&bytes).unwrap(),
        b"<3082ABCD0000000000>"
    );
    let byte_range: Vec<i64> = sig
        .get_array(b"ByteRange")
        .unwrap()
        .iter()
        .map(|o| o.as_int().unwrap())
        .collect();
    assert_eq!(byte_range, [0, 1, 2, 3]);
    // Literal strings record their span too.
    let t = field.as_dict().unwrap().get_string(b"T").unwrap();
    assert_eq!(t.span.slice(&bytes).unwrap(), b"(Signature1)");
    assert!(!t.hex);
}

#[test]
fn tolerated_line_endings() {
    for entry_eol in [b"\r\n".as_slice(), b" \n", b" \r"] {
        for eof_eol in [b"\n".as_slice(), b"\r\n", b"\r", b""] {
            let mut b2 = Builder {
                entry_eol,
                eof_eol,
                ..Builder::new()
            };
            b2.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
                .obj(2, "<< /Type /Pages /Kids [] /Count 0 >>");
            b2.xref("");
            let first_end = b2.buf.len();
            if !eof_eol.is_empty() {
                b2.obj(3, "(update)");
                b2.xref("");
            }
            let bytes = b2.bytes();
            let file = parse(&bytes).unwrap_or_else(|e| panic!("{entry_eol:?} {eof_eol:?}: {e}"));
            assert_eq!(file.revisions()[0].end, first_end);
            assert_eq!(file.revisions().last().unwrap().end, bytes.len());
            file.catalog(file.last_revision()).unwrap();
        }
    }
}

#[test]
fn trailing_bytes_after_last_eof() {
    let base = one_page().bytes();
    let mut ws = base.clone();
    ws.extend_from_slice(b"\r\n  \n");
    let file = parse(&ws).unwrap();
    assert_eq!(file.trailing_whitespace(), 5);
    assert_eq!(file.revisions()[0].end, base.len());

    let mut lots = base.clone();
    lots.extend_from_slice(&[b' '; 33]);
    let e = parse(&lots).unwrap_err();
    assert_eq!(limit_name(&e), Some("trailing whitespace"), "{e}");

    let mut garbage = base.clone();
    garbage.extend_from_slice(b"1 0 obj << /Type /Catalog >> endobj\n");
    let e = parse(&garbage).unwrap_err();
    assert!(e.to_string().contains("trailing garbage"), "{e}");
}

#[test]
fn indirect_length_and_comments() {
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >> % the catalog")
        .obj(2, "<< /Type /Pages /Kids [] /Count 0 >>")
        .raw_obj(3, b"<< /Length 4 0 R >>\r\nstream\r\nhello\r\nendstream")
        .obj(4, "5");
    b.xref("");
    let bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    let s = file.object(0, id(3)).unwrap();
    let s = s.as_stream().unwrap();
    assert_eq!(file.decode_stream(s).unwrap(), b"hello");
    file.catalog(0).unwrap();
}

#[test]
fn wrong_offsets_and_lengths_are_errors() {
    // An entry pointing at another object.
    let mut bytes = one_page().bytes();
    let file = parse(&bytes).unwrap();
    let off3 = file.revisions()[0].entries[&3].offset;
    let off5 = file.revisions()[0].entries[&5].offset;
    let xref = file.revisions()[0].xref_offset;
    drop(file);
    let needle = format!("{off3:010} 00000 n");
    let pos = find(&bytes[xref..], needle.as_bytes()).unwrap() + xref;
    bytes[pos..pos + 10].copy_from_slice(format!("{off5:010}").as_bytes());
    let file = parse(&bytes).unwrap();
    assert!(
        matches!(file.object(0, id(3)), Err(PdfError::Xref(m)) if m.contains("holds object 5 0"))
    );

    // A wrong stream /Length.
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .raw_obj(3, b"<< /Length 3 >>\nstream\nhello\nendstream");
    b.xref("");
    let bytes = b.bytes();
    let e = parse(&bytes).unwrap().object(0, id(3)).unwrap_err();
    assert!(e.to_string().contains("endstream"), "{e}");

    // A /Length past the object's revision.
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .raw_obj(3, b"<< /Length 100000 >>\nstream\nhello\nendstream");
    b.xref("");
    let bytes = b.bytes();
    assert!(parse(&bytes).unwrap().object(0, id(3)).is_err());

    // A reference chain that loops.
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .obj(2, "3 0 R")
        .obj(3, "2 0 R");
    b.xref("");
    let bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    let e = file.resolve(&Object::Reference(id(2)), 0).unwrap_err();
    assert_eq!(limit_name(&e), Some("reference chain length"));
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------

#[test]
fn direct_objects() {
    let l = Limits::default();
    let p = |s: &[u8]| parse_direct(s, &l);
    assert_eq!(p(b"null").unwrap(), Object::Null);
    assert_eq!(p(b"true").unwrap(), Object::Bool(true));
    assert_eq!(p(b"  false ").unwrap(), Object::Bool(false));
    assert_eq!(p(b"-12").unwrap(), Object::Integer(-12));
    assert_eq!(p(b"+7").unwrap(), Object::Integer(7));
    assert_eq!(p(b"3.5").unwrap(), Object::Real(3.5));
    assert_eq!(p(b"-.5").unwrap(), Object::Real(-0.5));
    assert_eq!(p(b"4.").unwrap(), Object::Real(4.0));
    assert_eq!(
        p(b"-9223372036854775808").unwrap(),
        Object::Integer(i64::MIN)
    );
    for bad in [
        b"1.2.3".as_slice(),
        b"--5",
        b"99999999999999999999",
        b"1e5",
        b".",
        b"-",
        b"obj",
        b"R",
        b"]",
        b">>",
        b")",
        b"{",
        b"[1 2",
        b"<< /A 1",
        b"<< /A >>",
        b"<< 1 2 >>",
        b"(unterminated",
        b"<4142",
        b"<41X2>",
        b"/A#2",
        b"/A#00",
        b"",
        b"% only a comment",
    ] {
        assert!(
            matches!(p(bad), Err(PdfError::Syntax { .. })),
            "{:?} -> {:?}",
            String::from_utf8_lossy(bad),
            p(bad)
        );
    }
    let name = |s: &[u8]| p(s).unwrap().as_name().unwrap().to_vec();
    assert_eq!(name(b"/A#20B"), b"A B");
    assert_eq!(name(b"/"), b"");
    assert_eq!(name(b"/Type/Page"), b"Type");
    let string = |s: &[u8]| p(s).unwrap().as_string().unwrap().bytes.clone();
    assert_eq!(
        string(b"(a\\(b\\)c (nested) \\n\\r\\t\\b\\f \\\\ \\101\\7\\0612 x\\\r\ny\\q)"),
        b"a(b)c (nested) \n\r\t\x08\x0C \\ A\x07\x312 xyq"
    );
    assert_eq!(string(b"(a\r\nb\rc\nd)"), b"a\nb\nc\nd");
    assert_eq!(string(b"(\\777)"), [0xFF]);
    assert_eq!(string(b"<48 65 6C6C\n6F7>"), b"Hellop");
    assert_eq!(string(b"<>"), b"");
    assert_eq!(
        p(b"[1 0 R 2 3 4 R /X 5 6 7]").unwrap(),
        Object::Array(vec![
            Object::Reference(id(1)),
            Object::Integer(2),
            Object::Reference(ObjectId::new(3, 4)),
            Object::Name(b"X".to_vec()),
            Object::Integer(5),
            Object::Integer(6),
            Object::Integer(7),
        ])
    );
    assert_eq!(
        p(b"[1 %comment ] \n 2]").unwrap(),
        Object::Array(vec![Object::Integer(1), Object::Integer(2)])
    );
    let d = p(b"<</A 1/B[true false null]/C<</D(x)>>/E 1 0 R>>").unwrap();
    let d = d.as_dict().unwrap();
    assert_eq!(d.len(), 4);
    assert_eq!(d.get_int(b"A"), Some(1));
    assert_eq!(d.get_array(b"B").unwrap().len(), 3);
    assert_eq!(
        d.get_dict(b"C").unwrap().get_string(b"D").unwrap().bytes,
        b"x"
    );
    assert_eq!(d.get_ref(b"E"), Some(id(1)));
    assert_eq!(d.keys().collect::<Vec<_>>(), [b"A", b"B", b"C", b"E"]);
    // Duplicate keys, small and large dictionaries.
    assert!(p(b"<< /A 1 /A 2 >>").is_err());
    let mut big = b"<<".to_vec();
    for i in 0..40 {
        big.extend_from_slice(format!(" /K{i} {i}").as_bytes());
    }
    assert!(p(&[big.as_slice(), b">>"].concat()).is_ok());
    assert!(p(&[big.as_slice(), b" /K7 0 >>"].concat()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

#[test]
fn nesting_limit() {
    let deep = [b"[".repeat(100_000), b"]".repeat(100_000)].concat();
    let e = parse_direct(&deep, &Limits::default()).unwrap_err();
    assert_eq!(
        e,
        PdfError::LimitExceeded {
            limit: "nesting depth",
            value: 33,
            max: 32
        }
    );
    assert_eq!(e.to_string(), "nesting depth 33 exceeds the limit of 32");
    assert!(
        parse_direct(
            &[b"[".repeat(32), b"]".repeat(32)].concat(),
            &Limits::default()
        )
        .is_ok()
    );
    let dicts = b"<</A ".repeat(40);
    assert_eq!(
        limit_name(&parse_direct(&dicts, &Limits::default()).unwrap_err()),
        Some("nesting depth")
    );

    // In an object of a file, and in a trailer.
    let bytes = with_object_6(&deep);
    let file = parse(&bytes).unwrap();
    assert_eq!(
        limit_name(&file.object(0, id(6)).unwrap_err()),
        Some("nesting depth")
    );
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog >>");
    b.xref(&format!("/Deep {}", "[".repeat(50_000)));
    assert_eq!(
        limit_name(&parse(&b.bytes()).unwrap_err()),
        Some("nesting depth")
    );
}

#[test]
fn size_limits() {
    let small = Limits {
        max_string_bytes: 16,
        max_array_len: 4,
        max_dict_len: 2,
        max_object_values: 10,
        ..Limits::default()
    };
    let p = |s: &[u8]| parse_direct(s, &small).map_err(|e| limit_name(&e));
    assert!(p(b"(0123456789abcdef)").is_ok());
    assert_eq!(p(b"(0123456789abcdefg)"), Err(Some("string length")));
    assert_eq!(
        p(&[b"<".as_slice(), &b"41".repeat(17), b">"].concat()),
        Err(Some("string length"))
    );
    assert_eq!(
        p(&[b"/".as_slice(), &b"N".repeat(17)].concat()),
        Err(Some("name length"))
    );
    assert!(p(b"[1 2 3 4]").is_ok());
    assert_eq!(p(b"[1 2 3 4 5]"), Err(Some("array length")));
    assert!(p(b"<< /A 1 /B 2 >>").is_ok());
    assert_eq!(p(b"<< /A 1 /B 2 /C 3 >>"), Err(Some("dictionary length")));
    assert_eq!(
        p(b"[[1 2] [3 4] [5 6] [7 8]]"),
        Err(Some("values per object"))
    );
    let e = parse_direct(b"[1 2 3 4 5]", &small).unwrap_err();
    assert_eq!(e.to_string(), "array length 5 exceeds the limit of 4");

    // File size.
    let bytes = one_page().bytes();
    let tiny = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    let e = PdfFile::parse(&bytes, &tiny).unwrap_err();
    assert_eq!(limit_name(&e), Some("file size"));
}

#[test]
fn object_count_limit() {
    // A subsection claiming far more entries than allowed fails before reading or allocating.
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let xref = bytes.len();
    bytes.extend_from_slice(b"xref\n0 4000000000\n0000000000 65535 f\r\n");
    bytes.extend_from_slice(
        format!("trailer\n<< /Size 1 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    let e = parse(&bytes).unwrap_err();
    assert_eq!(
        e,
        PdfError::LimitExceeded {
            limit: "object count",
            value: 4_000_000_000,
            max: 10_000
        }
    );

    // Counted over all revisions.
    let (b, _) = signed();
    let bytes = b.bytes();
    let limits = Limits {
        max_objects: 10,
        ..Limits::default()
    };
    let e = PdfFile::parse(&bytes, &limits).unwrap_err();
    assert_eq!(limit_name(&e), Some("object count"));
    assert!(
        PdfFile::parse(
            &bytes,
            &Limits {
                max_objects: 13,
                ..Limits::default()
            }
        )
        .is_ok()
    );
}

#[test]
fn flate_bomb() {
    // 17 MiB of zeros: ~17 KB compressed, past the default 16 MiB budget.
    let bomb = zlib(&vec![0u8; 17 << 20]);
    assert!(bomb.len() < 20_000, "{}", bomb.len());
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog >>")
        .stream(2, "/Filter /FlateDecode", &bomb);
    b.xref("");
    let bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    let s = file.object(0, id(2)).unwrap();
    let e = file.decode_stream(s.as_stream().unwrap()).unwrap_err();
    assert_eq!(limit_name(&e), Some("decompressed bytes"), "{e}");
    assert!(file.decompressed_bytes() <= (16 << 20) + 1);

    // The budget is shared by all streams of a file; a few KB inflating past a 1 MiB limit.
    let limits = Limits {
        max_decompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let chunk = zlib(&vec![b'x'; 600 << 10]);
    assert!(chunk.len() < 4096);
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog >>")
        .stream(2, "/Filter [/FlateDecode]", &chunk)
        .stream(3, "/Filter /FlateDecode /DecodeParms null", &chunk);
    b.xref("");
    let bytes = b.bytes();
    let file = PdfFile::parse(&bytes, &limits).unwrap();
    let s2 = file.object(0, id(2)).unwrap();
    let s3 = file.object(0, id(3)).unwrap();
    assert_eq!(
        file.decode_stream(s2.as_stream().unwrap()).unwrap().len(),
        600 << 10
    );
    let e = file.decode_stream(s3.as_stream().unwrap()).unwrap_err();
    assert_eq!(limit_name(&e), Some("decompressed bytes"));
    // Once exceeded, even the first stream no longer decodes.
    assert!(file.decode_stream(s2.as_stream().unwrap()).is_err());

    // Truncated data is a decode error, not a silently short result.
    let whole = zlib(CONTENT);
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog >>")
        .stream(2, "/Filter /FlateDecode", &whole[..whole.len() / 2])
        .stream(3, "/Filter /FlateDecode", &whole[..whole.len() - 1]);
    b.xref("");
    let bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    for n in [2, 3] {
        let s = file.object(0, id(n)).unwrap();
        let r = file.decode_stream(s.as_stream().unwrap());
        assert!(matches!(r, Err(PdfError::Decode { .. })), "{n}: {r:?}");
    }

    // Corrupt data is a decode error, not a panic.
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog >>").stream(
        2,
        "/Filter /FlateDecode",
        b"\x78\x9c\xff\xff\xff garbage",
    );
    b.xref("");
    let bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    let s = file.object(0, id(2)).unwrap();
    assert!(matches!(
        file.decode_stream(s.as_stream().unwrap()),
        Err(PdfError::Decode { .. })
    ));
}

#[test]
fn revision_limit_and_prev_loops() {
    let mut b = one_page();
    for i in 0..16 {
        b.obj(6, &format!("<< /Producer (update {i}) >>"));
        b.xref("");
    }
    let bytes = b.bytes();
    let e = parse(&bytes).unwrap_err();
    assert_eq!(
        e,
        PdfError::LimitExceeded {
            limit: "revision count",
            value: 17,
            max: 16
        }
    );
    let ok = Limits {
        max_revisions: 17,
        ..Limits::default()
    };
    assert_eq!(PdfFile::parse(&bytes, &ok).unwrap().revisions().len(), 17);

    // /Prev pointing to its own section, and forward.
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog >>");
    b.xref_with(|offset| format!("/Prev {offset}"));
    let e = parse(&b.bytes()).unwrap_err();
    assert!(matches!(&e, PdfError::Xref(m) if m.contains("loop")), "{e}");

    // /Prev pointing forward.
    let mut bytes = one_page().bytes();
    let xref = bytes.len();
    bytes.extend_from_slice(
        format!("xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 7 /Root 1 0 R /Prev {} >>\nstartxref\n{xref}\n%%EOF\n", xref + 5)
            .as_bytes(),
    );
    let e = parse(&bytes).unwrap_err();
    assert!(matches!(&e, PdfError::Xref(m) if m.contains("loop")), "{e}");

    // A /Prev into the middle of nowhere.
    let mut bytes = one_page().bytes();
    let xref = bytes.len();
    bytes.extend_from_slice(
        format!("xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 7 /Root 1 0 R /Prev 20 >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    assert!(matches!(parse(&bytes), Err(PdfError::Xref(_))));
}

#[test]
fn structural_strictness() {
    // The final startxref pointing to an older section: the update after it would be ignored.
    let (b, _) = signed();
    let mut bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    let old = file.revisions()[1].xref_offset;
    let new = file.revisions()[2].xref_offset;
    drop(file);
    let tail = bytes.len() - 20;
    let pos = find(&bytes[tail..], new.to_string().as_bytes()).unwrap() + tail;
    bytes.splice(pos..pos + new.to_string().len(), old.to_string().bytes());
    let e = parse(&bytes).unwrap_err();
    assert!(
        matches!(&e, PdfError::Xref(m) if m.contains("not the last")),
        "{e}"
    );

    // startxref not naming its own section.
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog >>");
    b.xref("");
    let mut bytes = b.bytes();
    let n = bytes.len();
    bytes.splice(n - 9..n - 7, b"00".iter().copied());
    assert!(parse(&bytes).is_err());

    // Missing /Root or /Size, object 0 in use, entries after the table.
    for trailer in [
        "<< /Size 2 >>",
        "<< /Root 1 0 R >>",
        "<< /Size 1 /Root 1 0 R >>",
    ] {
        let mut bytes = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
        let xref = bytes.len();
        bytes.extend_from_slice(
            format!("xref\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        assert!(matches!(parse(&bytes), Err(PdfError::Xref(_))), "{trailer}");
    }
    let mut bytes = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
    let xref = bytes.len();
    bytes.extend_from_slice(
        format!("xref\n0 2\n0000000009 00000 n\r\n0000009999 00000 n\r\ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    assert!(parse(&bytes).is_err());

    // Bad headers.
    for header in [
        b"%PDF-3.0\n".as_slice(),
        b"%PDF-1.7",
        b" %PDF-1.7\n",
        b"%PDX-1.7\n",
    ] {
        let mut bytes = one_page().bytes();
        bytes.splice(..9, header.iter().copied());
        assert!(matches!(
            parse(&bytes),
            Err(PdfError::Syntax { .. }) | Err(PdfError::Xref(_))
        ));
    }
    let mut bytes = one_page().bytes();
    bytes.splice(..9, b"%PDF-2.0\n".iter().copied());
    assert_eq!(parse(&bytes).unwrap().version(), (2, 0));
}

#[test]
fn unsupported_features() {
    // A cross-reference stream.
    let mut bytes = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
    let xref = bytes.len();
    bytes.extend_from_slice(
        format!("2 0 obj\n<< /Type /XRef /Size 3 /W [1 2 1] /Root 1 0 R /Length 0 >>\nstream\n\nendstream\nendobj\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    let e = parse(&bytes).unwrap_err();
    assert!(
        matches!(&e, PdfError::Unsupported(m) if m.contains("cross-reference streams")),
        "{e}"
    );

    // Hybrid and encrypted files.
    for (extra, what) in [("/XRefStm 10", "XRefStm"), ("/Encrypt 3 0 R", "encrypted")] {
        let mut b = Builder::new();
        b.obj(1, "<< /Type /Catalog >>");
        b.xref(extra);
        let e = parse(&b.bytes()).unwrap_err();
        assert!(
            matches!(&e, PdfError::Unsupported(m) if m.contains(what)),
            "{e}"
        );
    }

    // Object streams and XRef-typed streams read as objects.
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog >>")
        .stream(2, "/Type /ObjStm /N 1 /First 4", b"3 0 42")
        .stream(3, "/Type /XRef", b"")
        .stream(4, "/Filter /DCTDecode", b"jpeg")
        .stream(5, "/Filter [/FlateDecode /ASCIIHexDecode]", b"x")
        .stream(
            6,
            "/Filter /FlateDecode /DecodeParms << /Predictor 12 >>",
            b"x",
        )
        .stream(7, "/F (external.dat)", b"");
    b.xref("");
    let bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    for n in [2, 3] {
        assert!(
            matches!(file.object(0, id(n)), Err(PdfError::Unsupported(_))),
            "{n}"
        );
    }
    for n in 4..=7 {
        let s = file.object(0, id(n)).unwrap();
        let e = file.decode_stream(s.as_stream().unwrap()).unwrap_err();
        assert!(matches!(e, PdfError::Unsupported(_)), "{n}: {e}");
    }
}

#[test]
fn parsed_bytes_budget_bounds_overlapping_objects() {
    // Object k is a string holding object k+1, and so on: walking all is quadratic work.
    let n = 1000u32;
    let mut body = Vec::new();
    let mut offsets = Vec::new();
    for k in 1..=n {
        offsets.push((k, body.len()));
        body.extend_from_slice(format!("{k} 0 obj\n(").as_bytes());
    }
    body.push(b'x');
    for _ in 1..=n {
        body.extend_from_slice(b")\nendobj");
    }
    body.push(b'\n');
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let base = bytes.len();
    bytes.extend_from_slice(&body);
    let xref = bytes.len();
    bytes.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", n + 1).as_bytes());
    for (_, o) in &offsets {
        bytes.extend_from_slice(format!("{:010} 00000 n\r\n", base + o).as_bytes());
    }
    bytes.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            n + 1
        )
        .as_bytes(),
    );
    let limits = Limits {
        max_parsed_bytes: 2 << 20,
        ..Limits::default()
    };
    let file = PdfFile::parse(&bytes, &limits).unwrap();
    assert!(file.object(0, id(n)).is_ok());
    let outer = file.object(0, id(1)).unwrap();
    assert!(outer.as_string().unwrap().bytes.len() > 10_000);
    let started = Instant::now();
    let mut first_error = None;
    let mut ok = 0;
    for k in 1..=n {
        match file.object(0, id(k)) {
            Ok(_) => ok += 1,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let e = first_error.unwrap();
    assert_eq!(limit_name(&e), Some("parsed bytes"), "{e}");
    assert!(ok < n);
    assert!(file.parsed_bytes() <= file.limits().max_parsed_bytes + bytes.len() as u64);
    eprintln!(
        "{ok} objects read before the budget ran out, in {:?}",
        started.elapsed()
    );
    fuzz_parse(&bytes);
}

#[test]
fn update_pointing_into_earlier_bytes_is_reported() {
    let mut b = one_page();
    let file_bytes = b.bytes();
    let file = parse(&file_bytes).unwrap();
    let old6 = file.revisions()[0].entries[&6].offset;
    drop(file);
    // The update lists object 6 at its old offset, and writes object 7 itself.
    b.obj(7, "(new)");
    b.pending.insert(6, old6);
    b.xref("");
    let bytes = b.bytes();
    let file = parse(&bytes).unwrap();
    let changes = file.changes(1).unwrap();
    assert_eq!(changes.added, vec![id(7)]);
    assert_eq!(changes.redefined, vec![id(6)]);
    assert_eq!(changes.in_earlier_bytes, vec![id(6)]);
    assert!(file.changes(0).unwrap().in_earlier_bytes.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_and_truncated_files() {
    assert!(matches!(
        parse(b""),
        Err(PdfError::Syntax { offset: 0, .. })
    ));
    assert!(parse(b"%PDF-1.7\n").is_err());
    assert!(parse(b"%PDF-1.7\n%%EOF\n").is_err());

    let bytes = one_page().bytes();
    let complete = bytes.len() - 1; // "%%EOF" without its LF is still complete.
    for len in 0..bytes.len() {
        let prefix = &bytes[..len];
        let result = parse(prefix);
        if len < complete {
            assert!(result.is_err(), "prefix of {len} bytes parsed");
        }
        fuzz_parse(prefix);
    }

    let (b, ends) = signed();
    let bytes = b.bytes();
    for len in 0..=bytes.len() {
        let prefix = &bytes[..len];
        match parse(prefix) {
            Ok(file) => assert!(
                ends.iter().any(|&e| len == e || len + 1 == e),
                "prefix of {len} bytes parsed with {} revisions",
                file.revisions().len()
            ),
            Err(_) => assert!(!ends.contains(&len)),
        }
        fuzz_parse(prefix);
    }
}

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn random_mutations_never_panic() {
    let (b, _) = signed();
    let base = b.bytes();
    let interesting: &[&[u8]] = &[
        b"[",
        b"<<",
        b">>",
        b"(",
        b")",
        b"<",
        b">",
        b"\\",
        b"/",
        b"%",
        b" ",
        b"\n",
        b"\r",
        b"0",
        b"9",
        b"R",
        b"obj",
        b"endobj",
        b"stream",
        b"xref",
        b"trailer",
        b"%%EOF",
        b"-",
        b".",
        b"#",
        b"99999999999999999999",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut parsed = 0;
    for _ in 0..20_000 {
        let mut m = base.clone();
        for _ in 0..=rng.below(4) {
            let pos = rng.below(m.len());
            match rng.below(6) {
                0 => m[pos] = rng.next() as u8,
                1 => m[pos] ^= 1 << rng.below(8),
                2 => {
                    m.remove(pos);
                }
                3 => {
                    let token = interesting[rng.below(interesting.len())];
                    m.splice(pos..pos, token.iter().copied());
                }
                4 => {
                    let digit = b'0' + rng.below(10) as u8;
                    m[pos] = digit;
                }
                _ => {
                    let len = rng.below(32).min(m.len() - pos);
                    let chunk = m[pos..pos + len].to_vec();
                    let at = rng.below(m.len());
                    m.splice(at..at, chunk);
                }
            }
        }
        let t = Instant::now();
        if parse(&m).is_ok() {
            parsed += 1;
        }
        fuzz_parse(&m);
        slowest = slowest.max(t.elapsed());
    }
    eprintln!(
        "20000 mutations in {:?} ({parsed} still parsed), slowest {:?}",
        started.elapsed(),
        slowest
    );
    assert!(
        slowest < Duration::from_secs(2),
        "slowest input took {slowest:?}"
    );
}

/// Ad hoc timing: `cargo test --release -p ccr-pki pdf::tests::timing -- --ignored --nocapture`.
#[test]
#[ignore = "timing, run in release"]
fn timing() {
    // About 60 KB: a large content stream, a 16 KB-hex signature, a few objects, a signature update and a /DSS update.
    let mut b = Builder::new();
    b.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        .obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        .obj(
            3,
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Contents 4 0 R >>",
        );
    let mut content = Vec::new();
    for i in 0..1000 {
        content.extend_from_slice(format!("BT /F1 9 Tf 72 {i} Td (line {i}) Tj ET\n").as_bytes());
    }
    b.stream(4, "", &content);
    for n in 5..30 {
        b.obj(n, &format!("<< /Type /Dummy /N {n} /A [1 2 3 (x) <41>] >>"));
    }
    b.xref("");
    b.obj(
        1,
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [30 0 R] >> >>",
    )
    .obj(30, "<< /FT /Sig /V 31 0 R >>")
    .obj(
        31,
        &format!(
            "<< /Type /Sig /ByteRange [0 1 2 3] /Contents <{}> >>",
            "00".repeat(8192)
        ),
    );
    b.xref("");
    b.obj(
        1,
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [30 0 R] >> /DSS 32 0 R >>",
    )
    .obj(32, "<< /Certs [] >>");
    b.xref("");
    let bytes = b.bytes();
    let run = || {
        let file = parse(&bytes).unwrap();
        let last = file.last_revision();
        let catalog = file.catalog(last).unwrap();
        let mut n = 0;
        for k in [2, 3, 4, 5, 6, 30, 31, 32, 7] {
            n += file.object(last, id(k)).map(|_| 1).unwrap_or(0);
        }
        let _ = file.changes(last).unwrap();
        n + catalog.len()
    };
    for _ in 0..100 {
        run();
    }
    let time = |name: &str, f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..10_000 {
            f();
        }
        eprintln!("  {name}: {:?}", t.elapsed() / 10_000);
    };
    time("parse", &|| {
        std::hint::black_box(parse(&bytes).unwrap());
    });
    // One file read 10 000 times over would exhaust its parsed-bytes budget.
    let unbounded = Limits {
        max_parsed_bytes: u64::MAX,
        ..Limits::default()
    };
    let file = PdfFile::parse(&bytes, &unbounded).unwrap();
    for k in [1, 2, 3, 4, 5, 30, 31, 32] {
        time(&format!("object {k}"), &|| {
            std::hint::black_box(file.object(2, id(k)).unwrap());
        });
    }
    let iterations = 10_000;
    let t = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(run());
    }
    eprintln!(
        "{} bytes, 3 revisions: parse + catalog + 9 objects + changes: {:?} per file",
        bytes.len(),
        t.elapsed() / iterations
    );
}
