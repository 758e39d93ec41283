//! Renders a certificate as a one-page A4 PDF/A-2b document in Traditional Chinese, Portuguese
//! and English (SPEC §3).
//!
//! One font is shipped and embedded in the binary (Noto Sans CJK HK, subset to Big5 + HKSCS +
//! all CJK Unified Ideographs + Latin; see `issuer/fonts/README.md`); krilla subsets it again
//! per document, writes CID fonts with ToUnicode maps (so names copy out of the PDF unchanged)
//! and validates PDF/A-2b.
//!
//! The output is deterministic: the same data and page extras give the same bytes (the creation
//! date is the issue instant and the file identifier is a hash of the content).

mod fonts;
mod layout;
mod qr;
#[doc(hidden)]
pub mod sample;
mod shape;
mod text;

use ccr_pki::document::{CertificateData, RecordEntry};
use ccr_pki::validity::MACAO;
use krilla::Document;
use krilla::SerializeSettings;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;

use self::fonts::LoadedFont;
use self::layout::{Op, Rgb};
use self::shape::Shaper;

/// The `Creator` written into the document information and XMP metadata.
pub const CREATOR: &str = "DSI Certificate of Criminal Record issuer";
/// The document's main language (BCP 47); Portuguese and English follow on the page.
pub const LANGUAGE: &str = "zh-Hant-MO";

/// How far the QR image is drawn inside its place on every side, in points (0.007 px at
/// 100 dpi, 0.02 px at 300 dpi); see the drawing of `Op::Qr`.
const QR_INSET: f32 = 0.005;

/// Renders after which an unused memoized font subset is dropped.
const COMEMO_MAX_AGE: usize = 64;

/// What the page shows besides the certificate data.
#[derive(Debug, Clone, Copy)]
pub struct PageExtras<'a> {
    /// The verification URL encoded in the QR code (`<verify base URL>#<token>`).
    pub token_url: &'a str,
    /// Where a person can upload the PDF to verify it; printed under the QR code.
    pub verify_hint_url: &'a str,
    /// The signer, printed in the human-readable signature line.
    pub signer_name: &'a str,
}

/// Why a certificate could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A printed string holds a character the shipped font cannot show.
    #[error("{field} contains {character:?} (U+{code:04X}), which the certificate font cannot print", code = u32::from(*character))]
    UnsupportedCharacter {
        /// The field, e.g. `holder.name_chinese`.
        field: &'static str,
        /// The first character the font lacks.
        character: char,
    },
    /// A record entry holds a character the shipped font cannot show.
    #[error("record entry {entry} {field}: character U+{code:04X} ({character:?}) is not covered by the certificate font", code = u32::from(*character))]
    UnsupportedRecordCharacter {
        /// The entry's position on the certificate, from 1.
        entry: usize,
        /// The entry's field, e.g. `offence`.
        field: &'static str,
        /// The first character the font lacks.
        character: char,
    },
    /// The shipped font could not be read.
    #[error("certificate font: {0}")]
    Font(String),
    /// The QR code could not be built (the token URL is too long for any QR version).
    #[error("QR code: {0}")]
    Qr(String),
    /// The content does not fit the page limit.
    #[error("layout: {0}")]
    Layout(String),
    /// krilla refused to write the PDF (e.g. a PDF/A-2b validation error).
    #[error("PDF generation failed: {0}")]
    Pdf(String),
}

/// Renders certificates; holds the parsed font (parsed once per process and shared).
#[derive(Debug, Clone)]
pub struct Renderer {
    font: LoadedFont,
    shaper: &'static Shaper,
}

impl Renderer {
    /// Loads the shipped font (parsed on first use in the process, then shared).
    pub fn new() -> Result<Self, RenderError> {
        let font = fonts::load().map_err(RenderError::Font)?;
        let shaper = shape::shaper().map_err(RenderError::Font)?;
        Ok(Self { font, shaper })
    }

    /// Checks that every string the page prints from `data` is covered by the font.
    pub fn check_coverage(&self, data: &CertificateData) -> Result<(), RenderError> {
        let h = &data.holder;
        self.check("number", &data.number)?;
        self.check("holder.name_latin", &h.name_latin)?;
        if let Some(name) = &h.name_chinese {
            self.check("holder.name_chinese", name)?;
        }
        self.check("holder.document.number", &h.document.number)?;
        self.check("usage.name.zh", &data.usage.name.zh)?;
        self.check("usage.name.pt", &data.usage.name.pt)?;
        self.check("usage.name.en", &data.usage.name.en)?;
        for (i, entry) in data.records.iter().enumerate() {
            self.check_record(i + 1, entry)?;
        }
        if let Some(dept) = &data.transfer_to {
            self.check("transfer_to.name.zh", &dept.name.zh)?;
            self.check("transfer_to.name.pt", &dept.name.pt)?;
            self.check("transfer_to.name.en", &dept.name.en)?;
        }
        self.check("authority.zh", &data.authority.zh)?;
        self.check("authority.pt", &data.authority.pt)?;
        self.check("authority.en", &data.authority.en)?;
        Ok(())
    }

    /// Checks that every field of record entry number `entry` (from 1) is covered by the font.
    pub fn check_record(&self, entry: usize, record: &RecordEntry) -> Result<(), RenderError> {
        for (field, value) in [
            ("court", &record.court),
            ("case_number", &record.case_number),
            ("offence", &record.offence),
            ("sentence", &record.sentence),
        ] {
            if let Some(character) = value.chars().find(|&c| !self.font.metrics.covers(c)) {
                return Err(RenderError::UnsupportedRecordCharacter {
                    entry,
                    field,
                    character,
                });
            }
        }
        Ok(())
    }

    /// Checks that the certificate can be rendered without producing the PDF: every printed
    /// character is covered and the layout fits the page cap. Returns the number of pages.
    /// Cheap (no PDF is written): run before a certificate is promised.
    pub fn check_layout(
        &self,
        data: &CertificateData,
        page: &PageExtras<'_>,
    ) -> Result<usize, RenderError> {
        Ok(self.lay_out(data, page)?.len())
    }

    fn lay_out(
        &self,
        data: &CertificateData,
        page: &PageExtras<'_>,
    ) -> Result<Vec<Vec<Op>>, RenderError> {
        self.check_coverage(data)?;
        self.check("page.verify_hint_url", page.verify_hint_url)?;
        self.check("page.signer_name", page.signer_name)?;
        let qr = qr::encode(page.token_url).map_err(RenderError::Qr)?;
        layout::layout(self.font.metrics, data, page, qr).map_err(RenderError::Layout)
    }

    fn check(&self, field: &'static str, value: &str) -> Result<(), RenderError> {
        match value.chars().find(|&c| !self.font.metrics.covers(c)) {
            Some(character) => Err(RenderError::UnsupportedCharacter { field, character }),
            None => Ok(()),
        }
    }

    /// Renders the certificate: one A4 page (more only when record entries need them),
    /// PDF/A-2b, with the QR code of `page.token_url`.
    pub fn render(
        &self,
        data: &CertificateData,
        page: &PageExtras<'_>,
    ) -> Result<Vec<u8>, RenderError> {
        let pages = self.lay_out(data, page)?;

        let configuration = ConfigurationBuilder::new()
            .with_archival_validator(Archival::A2_B)
            .finish()
            .map_err(|e| RenderError::Pdf(format!("PDF/A-2b configuration: {e:?}")))?;
        let settings = SerializeSettings {
            configuration,
            compress_content_streams: true,
            ascii_compatible: false,
            xmp_metadata: true,
            enable_tagging: false,
            ..SerializeSettings::default()
        };
        let mut document = Document::new_with(settings);
        document.set_metadata(metadata(data));
        let page_settings = PageSettings::from_wh(layout::PAGE_W, layout::PAGE_H)
            .ok_or_else(|| RenderError::Pdf("bad page size".to_owned()))?;
        for ops in &pages {
            let mut pdf_page = document.start_page_with(page_settings.clone());
            let mut surface = pdf_page.surface();
            for op in ops {
                self.draw(&mut surface, op)?;
            }
            surface.finish();
            pdf_page.finish();
        }
        let pdf = document
            .finish()
            .map_err(|e| RenderError::Pdf(e.to_string()));
        // krilla memoizes font subsets (and their deflated streams) per distinct glyph set:
        // keep what the last renders used, drop the rest, so memory stays bounded.
        comemo::evict(COMEMO_MAX_AGE);
        pdf
    }

    fn draw(&self, surface: &mut Surface<'_>, op: &Op) -> Result<(), RenderError> {
        match op {
            Op::Text {
                x,
                y,
                size,
                color,
                bold,
                text,
            } => {
                surface.set_fill(Some(fill(*color)));
                surface.set_stroke(bold.then(|| Stroke {
                    paint: paint(*color).into(),
                    width: size * 0.028,
                    ..Stroke::default()
                }));
                let glyphs = self.shaper.glyphs(text);
                surface.draw_glyphs(
                    Point::from_xy(*x, *y),
                    &glyphs,
                    self.font.font.clone(),
                    text,
                    *size,
                    false,
                );
                surface.set_stroke(None);
            }
            Op::Rect { x, y, w, h, color } => {
                if let Some(path) = rect_path(std::iter::once((*x, *y, *w, *h))) {
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(*color)));
                    surface.draw_path(&path);
                }
            }
            Op::Qr { x, y, module, qr } => {
                // The symbol and its quiet zone as one image drawn without interpolation:
                // viewers and printers scale it with hard module edges (see `QrModules::image`).
                //
                // The image is inset by QR_INSET on every side: poppler fills the pixels from
                // floor(left) to floor(right) + 1, so an image whose edges fall exactly on pixel
                // edges gets one pixel more than its size, every module is resampled and a
                // 100 dpi render turns grey at the module edges (zbarimg then failed on some
                // tokens). Inset, the edges fall just inside the pixels and the symbol keeps
                // exactly 2, 3 or 6 pixels a module at 100, 150 or 300 dpi.
                let side = qr.total_width() as f32 * module - 2.0 * QR_INSET;
                let image = Image::from_custom(qr.image(), false)
                    .map_err(|e| RenderError::Pdf(format!("QR image: {e}")))?;
                let size = Size::from_wh(side, side)
                    .ok_or_else(|| RenderError::Pdf(format!("QR side {side}")))?;
                surface.push_transform(&Transform::from_translate(*x + QR_INSET, *y + QR_INSET));
                surface.draw_image(image, size);
                surface.pop();
            }
        }
        Ok(())
    }
}

fn paint(c: Rgb) -> rgb::Color {
    rgb::Color::new(c.0, c.1, c.2)
}

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: paint(c).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

/// One path made of rectangles (x, y, width, height).
fn rect_path(rects: impl Iterator<Item = (f32, f32, f32, f32)>) -> Option<krilla::geom::Path> {
    let mut builder = PathBuilder::new();
    for (x, y, w, h) in rects {
        builder.push_rect(Rect::from_xywh(x, y, w, h)?);
    }
    builder.finish()
}

fn metadata(data: &CertificateData) -> Metadata {
    let at = data.issued_at.to_offset(MACAO);
    let created = DateTime::new(u16::try_from(at.year()).unwrap_or(0))
        .month(u8::from(at.month()))
        .day(at.day())
        .hour(at.hour())
        .minute(at.minute())
        .second(at.second())
        .utc_offset_hour(MACAO.whole_hours())
        .utc_offset_minute(0);
    Metadata::new()
        .title(format!(
            "{} / {} / {} {}",
            text::TITLE.zh,
            text::TITLE.pt,
            text::TITLE.en,
            data.number
        ))
        .description(format!("{} {}", text::CERT_NO.en, data.number))
        .language(LANGUAGE.to_owned())
        .creator(CREATOR.to_owned())
        .authors(vec![format!(
            "{} / {} / {}",
            data.authority.zh, data.authority.pt, data.authority.en
        )])
        .creation_date(created)
        .document_id(data.number.clone())
}

#[cfg(test)]
mod tests;
