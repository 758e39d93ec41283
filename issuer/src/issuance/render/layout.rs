//! Page layout: turns certificate data into positioned drawing operations, page by page.
//!
//! Coordinates are PDF points with the origin at the top-left corner of the page and y growing
//! downwards (krilla's convention); text positions are baselines.

use ccr_pki::document::{CertificateData, Trilingual};
use ccr_pki::validity::MACAO;
use time::{Date, OffsetDateTime};

use super::PageExtras;
use super::fonts::FontMetrics;
use super::qr::QrModules;
use super::text::{self, Tri};

/// A4 portrait, in points.
pub(crate) const PAGE_W: f32 = 595.276;
pub(crate) const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.7;
const RIGHT: f32 = PAGE_W - 56.7;
const TOP: f32 = 42.5;
/// Lowest point content may reach; the footer sits below.
const BOTTOM: f32 = PAGE_H - 46.0;
const FOOTER_BASELINE: f32 = PAGE_H - 28.0;
const LABEL_W: f32 = 168.0;
const VALUE_X: f32 = LEFT + 178.0;
const VALUE_W: f32 = RIGHT - VALUE_X;
const ROW_GAP: f32 = 5.5;
/// A name is shrunk down to this size before it takes a second line (values are 11–12 pt).
const NAME_ONE_LINE_MIN: f32 = 10.0;
/// The smallest size of a name on two lines: reached only by names far beyond realistic
/// (120 characters, the request limit, of 10-letter words); a 72-character name stays above
/// 8 pt.
const NAME_MIN: f32 = 6.0;
/// Ascent and descent of the font, as a fraction of the size (Noto Sans CJK: 0.88 / 0.12).
const ASCENT: f32 = 0.88;
const DESCENT: f32 = 0.2;
const LEADING: f32 = 1.28;
/// Width kept free when measuring, for kerning the measurement ignores.
const SLACK: f32 = 0.97;
/// The largest QR symbol, quiet zone included: a version-14 symbol (73 modules and the quiet
/// zone, 81) at [`QR_MODULE`], 41.1 mm. The longest realistic token URL (SPEC §4, version 14)
/// then still has 2-pixel modules at 100 dpi, which zbarimg needs; larger versions shrink.
const QR_MAX: f32 = 81.0 * QR_MODULE;
/// The preferred module size: 3 pixels at 150 dpi.
const QR_MODULE: f32 = 1.44;
/// The smallest module SPEC §4 allows: 0.4 mm.
#[cfg(test)]
pub(crate) const QR_MIN_MODULE: f32 = 0.4 * 72.0 / 25.4;

/// The printed module size, in points, of a symbol `total_modules` wide (quiet zone
/// included): [`QR_MODULE`], shrunk only as far as needed to stay within [`QR_MAX`].
pub(crate) fn qr_module_size(total_modules: usize) -> f32 {
    let total = total_modules as f32;
    if total * QR_MODULE <= QR_MAX {
        QR_MODULE
    } else {
        QR_MAX / total
    }
}

/// One pixel at 50 dpi (= [`QR_MODULE`]): a whole number of pixels at 100, 150, 200 and
/// 300 dpi. The symbol's corner on this grid puts every module edge on a pixel edge in those
/// renders; on the 150 dpi grid alone, a 100 dpi render had modules straddling pixels, grey
/// edges all round, and zbarimg sometimes read nothing (seen in CI, depending on the token).
const GRID_50_DPI: f32 = 72.0 / 50.0;
/// More pages than this is not a certificate any more; derived from the request limits.
pub(crate) const MAX_PAGES: usize = crate::rules::request::MAX_CERTIFICATE_PAGES;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rgb(pub(crate) u8, pub(crate) u8, pub(crate) u8);

const BLACK: Rgb = Rgb(0, 0, 0);
const GREY: Rgb = Rgb(0x44, 0x44, 0x44);
const RULE: Rgb = Rgb(0x70, 0x70, 0x70);
const LIGHT_RULE: Rgb = Rgb(0xc8, 0xc8, 0xc8);

/// One drawing operation.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// One line of text; `bold` adds a thin outline of the glyphs (the font has one weight).
    Text {
        x: f32,
        y: f32,
        size: f32,
        color: Rgb,
        bold: bool,
        text: String,
    },
    /// A filled rectangle (rules).
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
    /// The QR code: white background (quiet zone included) and black modules.
    Qr {
        x: f32,
        y: f32,
        module: f32,
        qr: QrModules,
    },
}

/// A line of a text column.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    size: f32,
    color: Rgb,
    bold: bool,
    /// Extra space above this line.
    gap: f32,
}

impl Line {
    fn new(text: impl Into<String>, size: f32) -> Self {
        Self {
            text: text.into(),
            size,
            color: BLACK,
            bold: false,
            gap: 0.0,
        }
    }
    fn grey(mut self) -> Self {
        self.color = GREY;
        self
    }
    fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    fn gap(mut self, gap: f32) -> Self {
        self.gap = gap;
        self
    }
}

/// Baselines of a column starting at 0 whose first line's ascent is `first_ascent`; and the
/// column's total height.
fn baselines(lines: &[Line], first_ascent: f32) -> (Vec<f32>, f32) {
    let mut out = Vec::with_capacity(lines.len());
    let mut y = 0.0;
    for (i, line) in lines.iter().enumerate() {
        y = if i == 0 {
            first_ascent + line.gap
        } else {
            y + line.gap + line.size * LEADING
        };
        out.push(y);
    }
    let height = lines.last().map_or(0.0, |l| y + l.size * DESCENT);
    (out, height)
}

/// Lays out one certificate.
pub(crate) fn layout(
    m: &FontMetrics,
    data: &CertificateData,
    extras: &PageExtras<'_>,
    qr: QrModules,
) -> Result<Vec<Vec<Op>>, String> {
    let mut b = Builder {
        m,
        pages: vec![Vec::new()],
        y: TOP,
        page_top: TOP,
        number: &data.number,
    };
    b.first_header();
    b.fields(data);
    b.tail(data, extras, qr);
    if b.pages.len() > MAX_PAGES {
        return Err(format!(
            "the certificate needs {} pages (limit {MAX_PAGES})",
            b.pages.len()
        ));
    }
    b.footers();
    Ok(b.pages)
}

struct Builder<'a> {
    m: &'a FontMetrics,
    pages: Vec<Vec<Op>>,
    y: f32,
    /// Where content starts on the current page (below its header).
    page_top: f32,
    number: &'a str,
}

impl Builder<'_> {
    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn push_text(&mut self, x: f32, y: f32, line: &Line) {
        if line.text.is_empty() {
            return;
        }
        let op = Op::Text {
            x,
            y,
            size: line.size,
            color: line.color,
            bold: line.bold,
            text: line.text.clone(),
        };
        self.ops().push(op);
    }

    fn rule(&mut self, y: f32, thickness: f32, color: Rgb) {
        self.ops().push(Op::Rect {
            x: LEFT,
            y,
            w: RIGHT - LEFT,
            h: thickness,
            color,
        });
    }

    fn centered(&mut self, line: Line) {
        let (base, h) = baselines(std::slice::from_ref(&line), line.size * ASCENT);
        let w = self.m.width(&line.text, line.size);
        let x = (PAGE_W - w) / 2.0;
        self.push_text(x, self.y + base[0], &line);
        self.y += h;
    }

    /// `text` in one line at `size` if it fits `max_w`, else shrunk down to `min`, else wrapped
    /// at `min`.
    fn fit(&self, text: &str, size: f32, min: f32, max_w: f32) -> Vec<Line> {
        let mut s = size;
        while s > min && self.m.width(text, s) > max_w * SLACK {
            s = (s - 0.5).max(min);
        }
        self.wrap(text, s, max_w)
    }

    /// A holder's name (SPEC §3): one line at `size` if it fits, else one line shrunk as far as
    /// [`NAME_ONE_LINE_MIN`], else two lines at the largest size from `size` down to `min`, broken only at
    /// spaces (never inside a word or at a hyphen, so `pdftotext` gives the name back exactly).
    /// A name that needs more than two lines at `min` gets them, still broken only at spaces.
    fn fit_name(&self, name: &str, size: f32, min: f32, max_w: f32) -> Vec<Line> {
        let lines_at = |s: f32| -> Vec<Line> {
            wrap_at_spaces(self.m, name, s, max_w * SLACK)
                .into_iter()
                .map(|t| Line::new(t, s))
                .collect()
        };
        // Sizes from `size` down to `floor` in half points.
        let sizes = |floor: f32| {
            std::iter::successors(Some(size), move |&s| {
                (s > floor).then(|| (s - 0.5).max(floor))
            })
        };
        sizes(NAME_ONE_LINE_MIN.min(size))
            .map(|s| (1, lines_at(s)))
            .chain(sizes(min).map(|s| (2, lines_at(s))))
            .find(|(limit, lines)| lines.len() <= *limit)
            .map_or_else(|| lines_at(min), |(_, lines)| lines)
    }

    /// `text` wrapped to `max_w` at `size`: at spaces, around CJK characters, after `/` and
    /// `-`, and inside a word only when the word alone is too wide.
    fn wrap(&self, text: &str, size: f32, max_w: f32) -> Vec<Line> {
        wrap(self.m, text, size, max_w * SLACK)
            .into_iter()
            .map(|t| Line::new(t, size))
            .collect()
    }

    fn tri_lines(&self, t: &Trilingual, size: f32, max_w: f32) -> Vec<Line> {
        let mut lines = self.fit(&t.zh, size + 0.5, size - 2.0, max_w);
        lines.extend(self.fit(&t.pt, size - 0.5, size - 2.5, max_w));
        lines.extend(self.fit(&t.en, size - 0.5, size - 2.5, max_w));
        lines
    }

    fn label(&self, t: Tri) -> Vec<Line> {
        let mut lines = self.wrap(t.zh, 9.0, LABEL_W);
        let latin = format!("{} / {}", t.pt, t.en);
        lines.extend(self.wrap(&latin, 7.2, LABEL_W).into_iter().map(Line::grey));
        lines
    }

    fn first_header(&mut self) {
        self.centered(Line::new(text::BUREAU.zh, 13.0));
        self.centered(Line::new(text::BUREAU.pt, 9.5).gap(2.0));
        self.centered(Line::new(text::BUREAU.en, 9.5));
        self.y += 9.0;
        self.centered(Line::new(text::TITLE.zh, 22.0).bold());
        self.centered(Line::new(text::TITLE.pt, 13.0).gap(4.0).bold());
        self.centered(Line::new(text::TITLE.en, 13.0).bold());
        self.y += 6.0;
        self.rule(self.y, 0.9, RULE);
        self.rule(self.y + 2.2, 0.3, RULE);
        self.y += 10.0;
        self.page_top = self.y;
    }

    fn continuation_header(&mut self) {
        let title = format!(
            "{}  ·  {}  ·  {}",
            text::TITLE.zh,
            text::TITLE.pt,
            text::TITLE.en
        );
        self.centered(Line::new(title, 10.0).bold());
        let sub = format!(
            "{} {}  {} / {} / {}",
            text::CERT_NO.zh,
            self.number,
            text::CONTINUED.zh,
            text::CONTINUED.pt,
            text::CONTINUED.en
        );
        let lines = self.fit(&sub, 8.0, 6.0, RIGHT - LEFT);
        for line in lines {
            self.centered(line.grey().gap(2.0));
        }
        self.y += 6.0;
        self.rule(self.y, 0.5, RULE);
        self.y += 10.0;
        self.page_top = self.y;
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
        self.continuation_header();
    }

    /// A labelled row: the label column on the left, the value column on the right, first
    /// baselines aligned. Starts a new page when the row does not fit; a row taller than a
    /// whole page continues line by line.
    fn row(&mut self, label: Vec<Line>, value: Vec<Line>) {
        let ascent = label
            .first()
            .map_or(0.0, |l| l.size * ASCENT)
            .max(value.first().map_or(0.0, |l| l.size * ASCENT));
        let (label_base, label_h) = baselines(&label, ascent);
        let (value_base, value_h) = baselines(&value, ascent);
        let h = label_h.max(value_h);
        if self.y + h > BOTTOM && self.y > self.page_top {
            self.new_page();
        }
        let top = self.y;
        for (line, base) in label.iter().zip(&label_base) {
            self.push_text(LEFT, top + base, line);
        }
        // Value lines; a line that would cross the bottom goes to a new page.
        let mut shift = top;
        let mut end = top + h;
        for (i, (line, base)) in value.iter().zip(&value_base).enumerate() {
            let mut y = shift + base;
            if y + line.size * DESCENT > BOTTOM && i > 0 {
                self.new_page();
                shift = self.y - base + line.size * ASCENT;
                y = shift + base;
                end = y;
            }
            self.push_text(VALUE_X, y, line);
            if shift != top {
                end = y + line.size * DESCENT;
            }
        }
        self.y = end + ROW_GAP / 2.0;
        let y = self.y;
        self.rule(y, 0.3, LIGHT_RULE);
        self.y += ROW_GAP / 2.0 + 0.3;
    }

    fn fields(&mut self, data: &CertificateData) {
        let lines = self.fit(&data.number, 12.0, 8.0, VALUE_W);
        self.row(
            self.label(text::CERT_NO),
            lines.into_iter().map(Line::bold).collect(),
        );

        let lines = self.fit_name(&data.holder.name_latin, 12.5, NAME_MIN, VALUE_W);
        self.row(
            self.label(text::NAME_LATIN),
            lines.into_iter().map(Line::bold).collect(),
        );

        if let Some(name) = &data.holder.name_chinese {
            let lines = self.fit_name(name, 14.0, NAME_MIN, VALUE_W);
            self.row(
                self.label(text::NAME_CHINESE),
                lines.into_iter().map(Line::bold).collect(),
            );
        }

        let dob = vec![Line::new(format_date(data.holder.date_of_birth), 11.0)];
        self.row(self.label(text::DATE_OF_BIRTH), dob);

        let doc = &data.holder.document;
        let kind = text::document_type(doc.kind);
        let mut lines = self.fit(&doc.number, 11.0, 7.0, VALUE_W);
        lines.extend(
            self.wrap(kind.zh, 8.0, VALUE_W)
                .into_iter()
                .map(|l| l.gap(1.0)),
        );
        lines.extend(
            self.wrap(&format!("{} / {}", kind.pt, kind.en), 7.2, VALUE_W)
                .into_iter()
                .map(Line::grey),
        );
        self.row(self.label(text::IDENTITY_DOCUMENT), lines);

        let lines = self.tri_lines(&data.usage.name, 10.0, VALUE_W);
        self.row(self.label(text::USAGE), lines);

        self.records(data);

        let lines = self.instant(data.issued_at);
        self.row(self.label(text::ISSUED_AT), lines);
        let lines = self.instant(data.valid_until);
        self.row(self.label(text::VALID_UNTIL), lines);

        let lines = self.tri_lines(&data.authority, 10.0, VALUE_W);
        self.row(self.label(text::AUTHORITY), lines);

        if let Some(dept) = &data.transfer_to {
            let mut lines = self.tri_lines(&dept.name, 10.0, VALUE_W);
            if let Some(first) = lines.first_mut() {
                first.bold = true;
            }
            self.row(self.label(text::TRANSFER_TO), lines);
        }
    }

    fn instant(&self, at: OffsetDateTime) -> Vec<Line> {
        let note = format!(
            "{} UTC+8 / {} / {}",
            text::MACAO_TIME.zh,
            text::MACAO_TIME.pt,
            text::MACAO_TIME.en
        );
        let mut lines = vec![Line::new(format_instant(at), 11.0)];
        lines.extend(self.wrap(&note, 7.2, VALUE_W).into_iter().map(Line::grey));
        lines
    }

    fn records(&mut self, data: &CertificateData) {
        if data.records.is_empty() {
            let t = text::NOTHING_ON_RECORD;
            let lines = vec![
                Line::new(t.zh, 12.5).bold(),
                Line::new(t.pt, 11.0).bold().gap(1.0),
                Line::new(t.en, 11.0).bold(),
            ];
            self.row(self.label(text::RECORD), lines);
            return;
        }
        let intro = text::records_intro(data.records.len());
        let mut lines = self.wrap(&intro[0], 10.5, VALUE_W);
        lines.extend(self.wrap(&intro[1], 9.5, VALUE_W));
        lines.extend(self.wrap(&intro[2], 9.5, VALUE_W));
        self.row(self.label(text::RECORD), lines);

        for (i, entry) in data.records.iter().enumerate() {
            let n = i + 1;
            let label = vec![
                Line::new(format!("{} {n}", text::ENTRY.zh), 9.0).bold(),
                Line::new(
                    format!("{} {n} / {} {n}", text::ENTRY.pt, text::ENTRY.en),
                    7.2,
                )
                .grey(),
            ];
            let date = format_date(entry.decision_date);
            let fields: [(Tri, &str); 5] = [
                (text::COURT, &entry.court),
                (text::CASE_NUMBER, &entry.case_number),
                (text::DECISION_DATE, &date),
                (text::OFFENCE, &entry.offence),
                (text::SENTENCE, &entry.sentence),
            ];
            let mut lines = Vec::new();
            for (k, (t, value)) in fields.iter().enumerate() {
                let caption = format!("{} / {} / {}", t.zh, t.pt, t.en);
                let gap = if k == 0 { 0.0 } else { 2.5 };
                let mut caption = self.wrap(&caption, 7.0, VALUE_W);
                if let Some(first) = caption.first_mut() {
                    first.gap = gap;
                }
                lines.extend(caption.into_iter().map(Line::grey));
                lines.extend(self.wrap(value, 10.0, VALUE_W));
            }
            self.row(label, lines);
        }
    }

    /// The QR code, how to verify, the signer, and the legal note, at the bottom of the last
    /// page.
    fn tail(&mut self, data: &CertificateData, extras: &PageExtras<'_>, qr: QrModules) {
        let total = qr.total_width() as f32;
        let module = qr_module_size(qr.total_width());
        let qr_size = total * module;

        let col_x = LEFT + qr_size + 8.0;
        let col_w = RIGHT - col_x;
        let verify = text::verify_instructions(extras.verify_hint_url);
        let mut col = self.wrap(&verify[0], 8.0, col_w);
        col.extend(
            self.wrap(&verify[1], 7.5, col_w)
                .into_iter()
                .map(|l| l.gap(0.5)),
        );
        col.extend(
            self.wrap(&verify[2], 7.5, col_w)
                .into_iter()
                .map(|l| l.gap(0.5)),
        );
        let by = format!(
            "{} / {} / {}",
            text::SIGNED_BY.zh,
            text::SIGNED_BY.pt,
            text::SIGNED_BY.en
        );
        let mut by = self.wrap(&by, 7.0, col_w);
        if let Some(first) = by.first_mut() {
            first.gap = 7.0;
        }
        col.extend(by.into_iter().map(Line::grey));
        col.extend(self.fit(extras.signer_name, 9.5, 7.0, col_w));
        let at = format!(
            "{} / {} / {}",
            text::SIGNED_AT.zh,
            text::SIGNED_AT.pt,
            text::SIGNED_AT.en
        );
        let mut at = self.wrap(&at, 7.0, col_w);
        if let Some(first) = at.first_mut() {
            first.gap = 2.0;
        }
        col.extend(at.into_iter().map(Line::grey));
        col.push(Line::new(
            format!("{} (UTC+8)", format_instant(data.issued_at)),
            9.5,
        ));
        let (col_base, col_h) = baselines(&col, col.first().map_or(0.0, |l| l.size * ASCENT));

        let legal = text::LEGAL_EFFECT;
        let mut notes = self.wrap(legal.zh, 7.5, RIGHT - LEFT);
        notes.extend(
            self.wrap(legal.pt, 7.0, RIGHT - LEFT)
                .into_iter()
                .map(Line::grey),
        );
        notes.extend(
            self.wrap(legal.en, 7.0, RIGHT - LEFT)
                .into_iter()
                .map(Line::grey),
        );
        let (note_base, note_h) = baselines(&notes, notes.first().map_or(0.0, |l| l.size * ASCENT));

        // The QR quiet zone is white space: text may come as close as its dark modules.
        let block_h = qr_size.max(col_h + 4.0 * module);
        let tail_h = 4.0 + block_h + 4.0 + note_h;
        if self.y + tail_h > BOTTOM && self.y > self.page_top {
            self.new_page();
        }
        let top = BOTTOM - tail_h;
        let qr_x = (LEFT / GRID_50_DPI).round() * GRID_50_DPI - 4.0 * module;
        let qr_y = ((top + 4.0) / GRID_50_DPI).round() * GRID_50_DPI;
        self.ops().push(Op::Qr {
            x: qr_x,
            y: qr_y,
            module,
            qr,
        });
        let col_top = top + 4.0 + 4.0 * module;
        for (line, base) in col.iter().zip(&col_base) {
            self.push_text(col_x, col_top + base, line);
        }
        let notes_top = top + 4.0 + block_h + 4.0;
        for (line, base) in notes.iter().zip(&note_base) {
            self.push_text(LEFT, notes_top + base, line);
        }
        self.y = BOTTOM;
    }

    fn footers(&mut self) {
        let pages = self.pages.len();
        for p in 0..pages {
            let text = text::page_of(p + 1, pages, self.number);
            let mut lines = self.fit(&text, 7.0, 5.0, RIGHT - LEFT);
            lines.truncate(1);
            for line in lines {
                let w = self.m.width(&line.text, line.size);
                let op = Op::Text {
                    x: (PAGE_W - w) / 2.0,
                    y: FOOTER_BASELINE,
                    size: line.size,
                    color: GREY,
                    bold: false,
                    text: line.text,
                };
                self.pages[p].push(op);
            }
        }
    }
}

/// `YYYY-MM-DD`.
pub(crate) fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `YYYY-MM-DD hh:mm:ss` in Macao time.
pub(crate) fn format_instant(at: OffsetDateTime) -> String {
    let at = at.to_offset(MACAO);
    format!(
        "{} {:02}:{:02}:{:02}",
        format_date(at.date()),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c), 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Characters that must not start a line.
fn no_break_before(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '：'
            | '；'
            | '）'
            | '」'
            | '』'
            | '！'
            | '？'
            | ')'
            | ','
            | '.'
            | ':'
            | ';'
    )
}

/// Characters that must not end a line.
fn no_break_after(c: char) -> bool {
    matches!(c, '（' | '「' | '『' | '(')
}

/// Whether a line may break between `chars[p - 1]` and `chars[p]`.
fn break_allowed(chars: &[char], p: usize) -> bool {
    let (Some(&before), Some(&after)) = (p.checked_sub(1).and_then(|q| chars.get(q)), chars.get(p))
    else {
        return false;
    };
    let slash = before == '/'
        && after != '/'
        && p.checked_sub(2)
            .and_then(|q| chars.get(q))
            .is_some_and(|&c| c != '/');
    let opportunity = slash || matches!(before, ' ' | '-') || is_cjk(before) || is_cjk(after);
    opportunity && !no_break_after(before) && !no_break_before(after)
}

/// Greedy line breaking of a name at `size` into lines at most `max_w` wide, only at spaces.
/// Only a word wider than a whole line (a Chinese name, which has no spaces, or a degenerate
/// one) is broken inside, by [`wrap`]'s rules.
pub(crate) fn wrap_at_spaces(m: &FontMetrics, text: &str, size: f32, max_w: f32) -> Vec<String> {
    let space = m.advance(' ') * size;
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut width = 0.0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let w: f32 = word.chars().map(|c| m.advance(c) * size).sum();
        if !line.is_empty() && width + space + w > max_w {
            lines.push(std::mem::take(&mut line));
            width = 0.0;
        }
        if w > max_w {
            let mut pieces = wrap(m, word, size, max_w);
            let last = pieces.pop().unwrap_or_default();
            lines.extend(pieces);
            width = m.width(&last, size);
            line = last;
            continue;
        }
        if !line.is_empty() {
            line.push(' ');
            width += space;
        }
        line.push_str(word);
        width += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Greedy line breaking of `text` at `size` into lines at most `max_w` wide (a word wider
/// than a line is broken anywhere).
pub(crate) fn wrap(m: &FontMetrics, text: &str, size: f32, max_w: f32) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut width = 0.0;
    let mut last_break: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if i > start && break_allowed(&chars, i) {
            last_break = Some(i);
        }
        let w = m.advance(c) * size;
        if width + w > max_w && i > start && c != ' ' {
            let end = match last_break {
                Some(b) if b > start => b,
                _ => i,
            };
            let line: String = chars[start..end].iter().collect();
            lines.push(line.trim_end().to_owned());
            let mut next = end;
            while next < chars.len() && chars[next] == ' ' {
                next += 1;
            }
            start = next;
            i = next;
            width = 0.0;
            last_break = None;
            continue;
        }
        width += w;
        i += 1;
    }
    if start < chars.len() {
        let line: String = chars[start..].iter().collect();
        lines.push(line.trim_end().to_owned());
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}
