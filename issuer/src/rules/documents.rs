//! Supporting documents uploaded by applicants: the content must be what its declared type
//! says, whole and nothing more (no polyglots), and readable within explicit bounds; file
//! names carry no characters that hide or reorder what a clerk reads.
//!
//! - PDF: the bounded reader of `ccr_pki::pdf` reads every revision, every object and every
//!   stream (so a Flate bomb hits its decompression budget), and refuses bytes after `%%EOF`.
//! - PNG: the chunk structure ends with `IEND` at the end of the file; the image decodes
//!   with the `png` crate under [`MAX_IMAGE_DECODE_BYTES`] and [`MAX_IMAGE_PIXELS`].
//! - JPEG: the marker structure ends with `EOI` at the end of the file; the image decodes
//!   with `zune-jpeg` under [`MAX_IMAGE_SIDE`] and [`MAX_IMAGE_PIXELS`].
//! - HEIC/HEIF (iPhone photos) is refused by name, with what to do instead.

use std::fmt;

/// Media types accepted.
pub const MEDIA_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

/// Largest width or height of an image, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 10_000;
/// Most pixels in an image (a 48-megapixel phone photo fits).
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;
/// Most bytes an image decoder may allocate.
pub const MAX_IMAGE_DECODE_BYTES: usize = 200 * 1024 * 1024;
/// Most decoded stream bytes in one PDF (the pki reader's budget, counted over the file).
pub const MAX_PDF_DECOMPRESSED_BYTES: u64 = 32 * 1024 * 1024;
/// Longest file name, in characters.
pub const MAX_FILENAME_CHARS: usize = 200;

/// What the content really is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    Pdf,
    Jpeg,
    Png,
    Heic,
    Unknown,
}

impl fmt::Display for Sniffed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pdf => "a PDF",
            Self::Jpeg => "a JPEG image",
            Self::Png => "a PNG image",
            Self::Heic => "a HEIC/HEIF image",
            Self::Unknown => "of no accepted type",
        })
    }
}

const HEIC_REFUSAL: &str = "HEIC photos from iPhones are not accepted; export as JPEG";

fn sniff(bytes: &[u8]) -> Sniffed {
    const HEIF_BRANDS: [&[u8; 4]; 10] = [
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1",
    ];
    if bytes.starts_with(b"%PDF-") {
        Sniffed::Pdf
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Sniffed::Jpeg
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Sniffed::Png
    } else if bytes.get(4..8) == Some(b"ftyp")
        && bytes
            .get(8..12)
            .is_some_and(|brand| HEIF_BRANDS.iter().any(|b| b.as_slice() == brand))
    {
        Sniffed::Heic
    } else {
        Sniffed::Unknown
    }
}

/// Checks a declared media type: one of [`MEDIA_TYPES`] (HEIC refused by name).
pub fn check_media_type(media_type: &str) -> Result<(), String> {
    if matches!(media_type, "image/heic" | "image/heif") {
        Err(HEIC_REFUSAL.into())
    } else if MEDIA_TYPES.contains(&media_type) {
        Ok(())
    } else {
        Err(format!(
            "{media_type:?} is not one of {}",
            MEDIA_TYPES.join(", ")
        ))
    }
}

/// Checks that `bytes` are a whole, readable file of `media_type` (one of [`MEDIA_TYPES`]);
/// the error says what is wrong, for a 422.
pub fn check_content(media_type: &str, bytes: &[u8]) -> Result<(), String> {
    check_media_type(media_type)?;
    let declared = match media_type {
        "application/pdf" => Sniffed::Pdf,
        "image/jpeg" => Sniffed::Jpeg,
        _ => Sniffed::Png,
    };
    let actual = sniff(bytes);
    if actual == Sniffed::Heic {
        return Err(HEIC_REFUSAL.into());
    }
    if actual != declared {
        return Err(format!(
            "the content is {actual}, not {media_type} as declared"
        ));
    }
    match actual {
        Sniffed::Pdf => check_pdf(bytes),
        Sniffed::Png => check_png(bytes),
        Sniffed::Jpeg => check_jpeg(bytes),
        Sniffed::Heic | Sniffed::Unknown => Err(format!("the content is {actual}")),
    }
}

/// Reads every object and stream of every revision within the pki reader's limits.
fn check_pdf(bytes: &[u8]) -> Result<(), String> {
    use ccr_pki::pdf::{Limits, Object, ObjectId, PdfFile};
    let limits = Limits {
        max_decompressed_bytes: MAX_PDF_DECOMPRESSED_BYTES,
        ..Limits::default()
    };
    let bad = |e: ccr_pki::pdf::PdfError| format!("not a readable PDF: {e}");
    let file = PdfFile::parse(bytes, &limits).map_err(bad)?;
    let last = file.last_revision();
    file.catalog(last).map_err(bad)?;
    for (index, revision) in file.revisions().iter().enumerate() {
        for (&number, entry) in &revision.entries {
            if !entry.in_use {
                continue;
            }
            let object = file
                .object(index, ObjectId::new(number, entry.generation))
                .map_err(bad)?;
            if let Object::Stream(stream) = &object {
                file.decode_stream(stream).map_err(bad)?;
            }
        }
    }
    Ok(())
}

fn check_dimensions(width: u64, height: u64) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err("the image has no pixels".into());
    }
    let side = u64::from(MAX_IMAGE_SIDE);
    if width > side || height > side || width * height > MAX_IMAGE_PIXELS {
        return Err(format!(
            "the image is {width} × {height} pixels; the limit is {MAX_IMAGE_SIDE} on a side and {MAX_IMAGE_PIXELS} pixels"
        ));
    }
    Ok(())
}

/// The chunks end with `IEND` at the end of the file; the image decodes within limits.
fn check_png(bytes: &[u8]) -> Result<(), String> {
    let mut at = 8usize;
    loop {
        let header = bytes
            .get(at..at + 8)
            .ok_or("the PNG image is cut short (no IEND chunk)")?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let end = at
            .checked_add(12)
            .and_then(|n| n.checked_add(length))
            .filter(|&n| n <= bytes.len())
            .ok_or("the PNG image is cut short (a chunk runs past the end)")?;
        if &header[4..8] == b"IEND" {
            if end != bytes.len() {
                return Err(format!(
                    "{} bytes follow the end of the PNG image",
                    bytes.len() - end
                ));
            }
            break;
        }
        at = end;
    }
    let limits = png::Limits {
        bytes: MAX_IMAGE_DECODE_BYTES,
    };
    let bad = |e: png::DecodingError| format!("not a readable PNG image: {e}");
    let decoder = png::Decoder::new_with_limits(std::io::Cursor::new(bytes), limits);
    let mut reader = decoder.read_info().map_err(bad)?;
    let info = reader.info();
    check_dimensions(u64::from(info.width), u64::from(info.height))?;
    let size = reader
        .output_buffer_size()
        .filter(|&n| n <= MAX_IMAGE_DECODE_BYTES)
        .ok_or("the PNG image would decode to more than the limit")?;
    let mut pixels = vec![0; size];
    reader.next_frame(&mut pixels).map_err(bad)?;
    Ok(())
}

/// Where the `EOI` marker of the JPEG in `bytes` ends, walking its marker segments.
fn jpeg_end(bytes: &[u8]) -> Result<usize, String> {
    const CUT: &str = "the JPEG image is cut short (no EOI marker)";
    let mut at = 2usize; // after SOI
    loop {
        if bytes.get(at) != Some(&0xFF) {
            return Err("the JPEG image has a broken marker structure".into());
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at).ok_or(CUT)?;
        at += 1;
        match marker {
            0xD9 => return Ok(at),
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let length = bytes.get(at..at + 2).ok_or(CUT)?;
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        if length < 2 {
            return Err("the JPEG image has a broken segment length".into());
        }
        at = at
            .checked_add(length)
            .filter(|&n| n <= bytes.len())
            .ok_or(CUT)?;
        if marker == 0xDA {
            // Entropy-coded data: up to the next marker other than a stuffed 0x00 or a restart.
            loop {
                let next = bytes
                    .get(at..)
                    .and_then(|rest| rest.iter().position(|&b| b == 0xFF));
                let Some(offset) = next else {
                    return Err(CUT.into());
                };
                at += offset;
                match bytes.get(at + 1) {
                    Some(0x00 | 0xD0..=0xD7 | 0xFF) => at += 1,
                    Some(_) => break,
                    None => return Err(CUT.into()),
                }
            }
        }
    }
}

/// The markers end with `EOI` at the end of the file; the image decodes within limits.
fn check_jpeg(bytes: &[u8]) -> Result<(), String> {
    use zune_jpeg::zune_core::options::DecoderOptions;
    let end = jpeg_end(bytes)?;
    if end != bytes.len() {
        return Err(format!(
            "{} bytes follow the end of the JPEG image",
            bytes.len() - end
        ));
    }
    let side = MAX_IMAGE_SIDE as usize;
    let options = DecoderOptions::default()
        .set_max_width(side)
        .set_max_height(side)
        .set_strict_mode(true);
    let mut decoder =
        zune_jpeg::JpegDecoder::new_with_options(std::io::Cursor::new(bytes), options);
    let bad = |e: zune_jpeg::errors::DecodeErrors| format!("not a readable JPEG image: {e}");
    decoder.decode_headers().map_err(bad)?;
    let info = decoder.info().ok_or("not a readable JPEG image")?;
    check_dimensions(u64::from(info.width), u64::from(info.height))?;
    decoder.decode().map_err(bad)?;
    Ok(())
}

/// Whether `c` is a Unicode format character (general category Cf: bidirectional controls,
/// zero-width characters, the BOM, tags…), or a line or paragraph separator.
pub fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// A file name as stored: 1 to [`MAX_FILENAME_CHARS`] characters, no path separators, and no
/// control or format characters. Such names are refused rather than silently cleaned, so
/// that what is stored is exactly what the applicant sent; the error names the character.
pub fn check_filename(name: &str) -> Result<(), String> {
    let count = name.chars().count();
    if count == 0 || count > MAX_FILENAME_CHARS {
        return Err(format!("1 to {MAX_FILENAME_CHARS} characters"));
    }
    if let Some(c) = name.chars().find(|&c| c == '/' || c == '\\') {
        return Err(format!("the path separator {c:?} is not allowed"));
    }
    if let Some(c) = name.chars().find(|&c| c.is_control() || is_format_char(c)) {
        return Err(format!(
            "U+{:04X} is a control, bidirectional or invisible formatting character, which a file name may not contain",
            u32::from(c)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 × 1 PNG.
    fn tiny_png() -> Vec<u8> {
        png_of(1, 1)
    }

    fn png_of(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, width, height);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().expect("header");
            let data = vec![0u8; (width * height) as usize];
            writer.write_image_data(&data).expect("data");
        }
        out
    }

    #[test]
    fn a_well_formed_png_is_accepted_and_a_mislabelled_one_is_not() {
        let png = tiny_png();
        assert_eq!(check_content("image/png", &png), Ok(()));
        let refused = check_content("application/pdf", &png).expect_err("mismatch");
        assert!(
            refused.contains("a PNG image, not application/pdf"),
            "{refused}"
        );
    }

    #[test]
    fn bytes_after_the_end_of_an_image_are_refused() {
        let mut png = tiny_png();
        png.extend_from_slice(b"%PDF-1.7 trailing");
        let refused = check_content("image/png", &png).expect_err("polyglot");
        assert!(
            refused.contains("bytes follow the end of the PNG"),
            "{refused}"
        );
        let jpeg: &[u8] = &[0xFF, 0xD8, 0xFF, 0xD9, b'%', b'P', b'D', b'F'];
        let refused = check_content("image/jpeg", jpeg).expect_err("polyglot");
        assert!(
            refused.contains("bytes follow the end of the JPEG"),
            "{refused}"
        );
    }

    #[test]
    fn huge_images_are_refused_before_decoding() {
        let refused = check_content("image/png", &png_of(20_000, 1)).expect_err("too wide");
        assert!(refused.contains("20000 × 1 pixels"), "{refused}");
    }

    #[test]
    fn heic_is_refused_by_name() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(check_content("image/jpeg", heic), Err(HEIC_REFUSAL.into()));
        assert_eq!(check_content("image/heic", heic), Err(HEIC_REFUSAL.into()));
    }

    #[test]
    fn file_names_without_hidden_characters_only() {
        assert_eq!(check_filename("exemption form.pdf"), Ok(()));
        assert_eq!(check_filename("表格.pdf"), Ok(()));
        for bad in [
            "invoice\u{202E}fdp.exe",
            "a\u{2066}b.pdf",
            "a\u{200B}b.pdf",
            "a\u{061C}b.pdf",
            "a\u{200E}.pdf",
            "tag\u{E0041}.pdf",
            "line\nbreak.pdf",
            "../etc/passwd",
            "",
        ] {
            assert!(check_filename(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_filename(&"a".repeat(201)).is_err());
    }
}
