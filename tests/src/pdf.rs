//! Reading the signature of a certificate PDF from its bytes, and tampering with the file.
//!
//! Deliberately independent of the workspace's own PDF reader: the signature is found by
//! scanning for `/ByteRange [`, and incremental updates are written by hand after reading the
//! document structure with `lopdf`.

use std::ops::Range;

use lopdf::{Dictionary, Object, ObjectId};

/// The first (the bureau's) signature of a PDF.
#[derive(Clone, Debug)]
pub struct Signature {
    /// `/ByteRange [a b c d]`.
    pub byte_range: [usize; 4],
    /// The offsets of the `/Contents` hex digits (between `<` and `>`).
    pub contents_hex: Range<usize>,
    /// The DER CMS (hex-decoded, without the zero padding).
    pub cms: Vec<u8>,
}

impl Signature {
    /// The bytes the signature covers (the two ranges concatenated).
    pub fn signed_bytes(&self, pdf: &[u8]) -> Vec<u8> {
        let [a, b, c, d] = self.byte_range;
        let mut out = pdf[a..a + b].to_vec();
        out.extend_from_slice(&pdf[c..c + d]);
        out
    }

    /// The end of the signed revision (`c + d`).
    pub fn signed_end(&self) -> usize {
        self.byte_range[2] + self.byte_range[3]
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | b'\0') {
        i += 1;
    }
    i
}

fn read_uint(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    let start = skip_ws(bytes, i);
    let mut end = start;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    let n = std::str::from_utf8(&bytes[start..end]).ok()?.parse().ok()?;
    Some((n, end))
}

/// Length of the DER TLV at the start of `der` (tag + length + value).
fn der_tlv_len(der: &[u8]) -> Option<usize> {
    let first = *der.get(1)?;
    if first < 0x80 {
        return Some(2 + first as usize);
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | *der.get(2 + i)? as usize;
    }
    Some(2 + n + len)
}

/// Finds the first `/ByteRange [a b c d]` and the `/Contents` hex string it leaves out.
#[track_caller]
pub fn signature(pdf: &[u8]) -> Signature {
    let at = find(pdf, b"/ByteRange").expect("no /ByteRange in the PDF");
    let mut i = skip_ws(pdf, at + b"/ByteRange".len());
    assert_eq!(
        pdf.get(i),
        Some(&b'['),
        "/ByteRange is not followed by an array"
    );
    i += 1;
    let mut br = [0usize; 4];
    for slot in &mut br {
        let (n, next) = read_uint(pdf, i).expect("/ByteRange holds four integers");
        *slot = n;
        i = next;
    }
    let [a, b, c, d] = br;
    assert_eq!(a, 0, "the signed range must start at 0");
    assert!(
        b < c && c + d <= pdf.len(),
        "/ByteRange {br:?} does not fit a {}-byte file",
        pdf.len()
    );
    assert_eq!(
        pdf[b], b'<',
        "the gap of /ByteRange must start with the /Contents '<'"
    );
    assert_eq!(
        pdf[c - 1],
        b'>',
        "the gap of /ByteRange must end with the /Contents '>'"
    );
    let contents_hex = b + 1..c - 1;
    let hex_text: Vec<u8> = pdf[contents_hex.clone()]
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let raw = hex::decode(&hex_text).expect("/Contents is a hex string");
    let len = der_tlv_len(&raw).expect("/Contents starts with a DER SEQUENCE");
    assert!(len <= raw.len(), "the CMS is longer than /Contents");
    assert!(
        raw[len..].iter().all(|&b| b == 0),
        "/Contents has non-zero bytes after the CMS"
    );
    Signature {
        byte_range: br,
        contents_hex,
        cms: raw[..len].to_vec(),
    }
}

/// A copy of `pdf` with the byte at `pos` XOR-ed with `mask`.
pub fn flip_byte(pdf: &[u8], pos: usize, mask: u8) -> Vec<u8> {
    let mut out = pdf.to_vec();
    out[pos] ^= mask;
    out
}

/// The offset of the first byte of the header's binary comment (`%âãÏÓ` on line 2): flipping
/// its low bit keeps it a comment, so the file still parses exactly as before, but the signed
/// bytes differ.
#[track_caller]
pub fn header_comment_byte(pdf: &[u8]) -> usize {
    let eol = pdf
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .expect("a header line");
    let mut i = eol;
    while matches!(pdf[i], b'\n' | b'\r') {
        i += 1;
    }
    assert_eq!(pdf[i], b'%', "the second line of the PDF is not a comment");
    assert!(
        pdf[i + 1] >= 0x80,
        "the header comment does not start with a binary byte"
    );
    i + 1
}

/// Byte ranges of every stream's data (`stream` EOL … `endstream`) that lies before `limit`.
pub fn stream_data_ranges(pdf: &[u8], limit: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(pos) = find(&pdf[i..limit], b"stream") {
        let start_kw = i + pos;
        // Skip `endstream`.
        if start_kw >= 3 && &pdf[start_kw - 3..start_kw] == b"end" {
            i = start_kw + 6;
            continue;
        }
        let mut data = start_kw + 6;
        if pdf.get(data) == Some(&b'\r') {
            data += 1;
        }
        if pdf.get(data) != Some(&b'\n') {
            i = start_kw + 6;
            continue;
        }
        data += 1;
        let Some(end) = find(&pdf[data..limit], b"endstream") else {
            break;
        };
        out.push(data..data + end);
        i = data + end + 9;
    }
    out
}

/// Serialises a lopdf object (strings as hex, names escaped).
pub fn write_object(o: &Object, out: &mut Vec<u8>) {
    match o {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(format!("{r}").as_bytes()),
        Object::Name(n) => write_name(n, out),
        Object::String(s, _) => {
            out.push(b'<');
            out.extend_from_slice(hex::encode(s).as_bytes());
            out.push(b'>');
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(item, out);
            }
            out.push(b']');
        }
        Object::Dictionary(d) => write_dict(d, out),
        Object::Stream(s) => {
            let mut dict = s.dict.clone();
            dict.set("Length", Object::Integer(s.content.len() as i64));
            write_dict(&dict, out);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&s.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((n, g)) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
    }
}

fn write_name(n: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in n {
        if (0x21..=0x7e).contains(&b) && !b"#()<>[]{}/%".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

fn write_dict(d: &Dictionary, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<<");
    for (k, v) in d.iter() {
        write_name(k, out);
        out.push(b' ');
        write_object(v, out);
        out.push(b' ');
    }
    out.extend_from_slice(b">>");
}

/// A document parsed with lopdf, ready for an appended update.
#[derive(Debug)]
pub struct Updater {
    original: Vec<u8>,
    /// The parsed document (latest revision).
    pub doc: lopdf::Document,
    objects: Vec<(ObjectId, Vec<u8>)>,
    next_id: u32,
    new_info: Option<ObjectId>,
}

impl Updater {
    /// Parses `pdf` with lopdf.
    #[track_caller]
    pub fn new(pdf: &[u8]) -> Self {
        let doc = lopdf::Document::load_mem(pdf)
            .unwrap_or_else(|e| panic!("lopdf cannot read the PDF: {e}"));
        let size = doc
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .unwrap_or(0)
            .max(0) as u32;
        let next_id = size.max(doc.max_id + 1);
        Updater {
            original: pdf.to_vec(),
            doc,
            objects: Vec::new(),
            next_id,
            new_info: None,
        }
    }

    /// The object id of the first page.
    #[track_caller]
    pub fn first_page(&self) -> ObjectId {
        *self
            .doc
            .get_pages()
            .values()
            .next()
            .expect("the PDF has a page")
    }

    /// A fresh object number.
    pub fn allocate(&mut self) -> ObjectId {
        let id = (self.next_id, 0);
        self.next_id += 1;
        id
    }

    /// Adds (or redefines) an object in the update.
    pub fn put(&mut self, id: ObjectId, object: &Object) {
        let mut body = Vec::new();
        write_object(object, &mut body);
        self.objects.push((id, body));
    }

    /// Points the trailer's `/Info` at `id`.
    pub fn set_info(&mut self, id: ObjectId) {
        self.new_info = Some(id);
    }

    /// Replaces the first page's content with `content` (a new, uncompressed content stream).
    pub fn replace_first_page_content(&mut self, content: &[u8]) {
        let page_id = self.first_page();
        let mut page = self
            .doc
            .get_object(page_id)
            .and_then(Object::as_dict)
            .expect("the page is a dictionary")
            .clone();
        let stream_id = self.allocate();
        let stream = lopdf::Stream::new(Dictionary::new(), content.to_vec());
        self.put(stream_id, &Object::Stream(stream));
        page.set("Contents", Object::Reference(stream_id));
        self.put(page_id, &Object::Dictionary(page));
    }

    /// The original bytes followed by one incremental update holding the added objects, with an
    /// xref section of the same kind (table or stream) as the previous one and `/Prev` to it.
    pub fn finish(mut self) -> Vec<u8> {
        let mut out = self.original.clone();
        let prev = last_startxref(&out);
        let prev_is_table = out[prev..].starts_with(b"xref");
        if !out.ends_with(b"\n") && !out.ends_with(b"\r") {
            out.push(b'\n');
        }
        let mut offsets: Vec<(ObjectId, usize)> = Vec::new();
        for (id, body) in &self.objects {
            offsets.push((*id, out.len()));
            out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let trailer = &self.doc.trailer;
        let mut common = Vec::new();
        if let Ok(root) = trailer.get(b"Root") {
            common.extend_from_slice(b"/Root ");
            write_object(root, &mut common);
            common.push(b' ');
        }
        match self.new_info {
            Some((n, g)) => common.extend_from_slice(format!("/Info {n} {g} R ").as_bytes()),
            None => {
                if let Ok(info) = trailer.get(b"Info") {
                    common.extend_from_slice(b"/Info ");
                    write_object(info, &mut common);
                    common.push(b' ');
                }
            }
        }
        if let Ok(id) = trailer.get(b"ID") {
            common.extend_from_slice(b"/ID ");
            write_object(id, &mut common);
            common.push(b' ');
        }
        common.extend_from_slice(format!("/Prev {prev} ").as_bytes());
        let xref_at;
        if prev_is_table {
            offsets.sort();
            let size = self.next_id;
            xref_at = out.len();
            out.extend_from_slice(b"xref\n");
            for ((n, g), off) in &offsets {
                out.extend_from_slice(format!("{n} 1\n{off:010} {g:05} n \n").as_bytes());
            }
            out.extend_from_slice(format!("trailer\n<< /Size {size} ").as_bytes());
            out.extend_from_slice(&common);
            out.extend_from_slice(b">>\n");
        } else {
            let xref_id = self.allocate();
            xref_at = out.len();
            offsets.push((xref_id, xref_at));
            offsets.sort();
            let size = self.next_id;
            let mut data = Vec::new();
            let mut index = String::new();
            for ((n, g), off) in &offsets {
                data.push(1u8);
                data.extend_from_slice(&(*off as u32).to_be_bytes());
                data.extend_from_slice(&(*g).to_be_bytes());
                index.push_str(&format!("{n} 1 "));
            }
            out.extend_from_slice(
                format!(
                    "{} 0 obj\n<< /Type /XRef /Size {size} /W [1 4 2] /Index [{}] /Length {} ",
                    xref_id.0,
                    index.trim_end(),
                    data.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(&common);
            out.extend_from_slice(b">>\nstream\n");
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\nendstream\nendobj\n");
        }
        out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        self.objects.clear();
        out
    }
}

/// The offset after the last `startxref`.
#[track_caller]
pub fn last_startxref(pdf: &[u8]) -> usize {
    let at = rfind(pdf, b"startxref").expect("no startxref");
    read_uint(pdf, at + b"startxref".len())
        .expect("startxref offset")
        .0
}

/// The signed PDF plus an appended update that replaces the first page's content with a black
/// rectangle and the word FORGED (a visible change of the certificate's content).
pub fn append_content_change(pdf: &[u8]) -> Vec<u8> {
    let mut up = Updater::new(pdf);
    up.replace_first_page_content(b"q 0 0 0 rg 60 60 475 722 re f Q");
    up.finish()
}

/// The signed PDF plus an appended update that only points `/Info` at a new dictionary.
pub fn append_info_change(pdf: &[u8]) -> Vec<u8> {
    let mut up = Updater::new(pdf);
    let id = up.allocate();
    let mut info = Dictionary::new();
    info.set(
        "Title",
        Object::string_literal("Certificate of Criminal Record (edited)"),
    );
    info.set("Producer", Object::string_literal("ccr-tests tamper"));
    up.put(id, &Object::Dictionary(info));
    up.set_info(id);
    up.finish()
}

/// A small, well-formed one-page PDF (classic cross-reference table) whose page content is
/// `content`, stored with `/FlateDecode` when `deflate` is true: a supporting document that
/// a strict reader accepts, or with a huge `content` compressed, a decompression bomb.
pub fn one_page(content: &[u8], deflate: bool) -> Vec<u8> {
    use std::io::Write as _;
    let (data, filter) = if deflate {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(content).expect("deflate");
        (encoder.finish().expect("deflate"), " /Filter /FlateDecode")
    } else {
        (content.to_vec(), "")
    };
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let objects: [Vec<u8>; 3] = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_vec(),
    ];
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    offsets.push(out.len());
    out.extend_from_slice(
        format!("4 0 obj\n<< /Length {}{filter} >>\nstream\n", data.len()).as_bytes(),
    );
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}
