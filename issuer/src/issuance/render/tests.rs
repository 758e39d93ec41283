#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use super::sample::{self, CHINESE_NAME_HKSCS, LATIN_NAME_CHAN, PORTUGUESE_NAME, VIETNAMESE_NAME};
use super::*;
use ccr_pki::document::Trilingual;

const MAX_PDF_BYTES: usize = 64 * 1024;

/// A realistic token URL: the verifier base URL and a typical 251-byte token in decimal.
fn token_url() -> String {
    let mut state: u32 = 0x1234_5678;
    let token: Vec<u8> = (0..251)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    ccr_pki::token::to_url("http://127.0.0.1:8080/verify", &token)
}

fn extras(token_url: &str) -> PageExtras<'_> {
    PageExtras {
        token_url,
        verify_hint_url: "http://127.0.0.1:8081/",
        signer_name: "DSI Document Signing (development)",
    }
}

fn renderer() -> Renderer {
    Renderer::new().unwrap()
}

fn tool(name: &str) -> bool {
    Command::new(name).arg("-v").output().is_ok()
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn all_samples() -> Vec<CertificateData> {
    vec![
        sample::sample_certificate(),
        sample::sample_certificate_named(PORTUGUESE_NAME, None),
        sample::sample_certificate_named(VIETNAMESE_NAME, Some("阮氏明開")),
        sample::sample_transfer_copy(),
    ]
}

#[test]
fn renderer_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Renderer>();
}

#[test]
fn fixed_text_is_covered_by_the_font() {
    let r = renderer();
    for s in text::all_fixed() {
        for c in s.chars() {
            assert!(
                r.font.metrics.covers(c),
                "font lacks {c:?} (U+{:04X}) of {s:?}",
                u32::from(c)
            );
        }
    }
}

#[test]
fn font_covers_hkscs_portuguese_and_vietnamese() {
    let r = renderer();
    for s in [
        CHINESE_NAME_HKSCS,
        "㗎嘅咗噉啲",
        PORTUGUESE_NAME,
        VIETNAMESE_NAME,
        "ĂăĐđƠơƯưỹỵ",
        "áàâãçéêíóôõúü",
    ] {
        for c in s.chars() {
            assert!(r.font.metrics.covers(c), "font lacks {c:?}");
        }
    }
}

#[test]
fn renders_pdfa_samples_within_budget() {
    let r = renderer();
    let url = token_url();
    for data in all_samples() {
        let pdf = r.render(&data, &extras(&url)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        assert!(
            pdf.len() <= MAX_PDF_BYTES,
            "{} bytes > {MAX_PDF_BYTES}",
            pdf.len()
        );
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains("pdfaid:part>2<") || text.contains("pdfaid:part=\"2\""),
            "no PDF/A-2 identification"
        );
        assert!(
            text.contains("pdfaid:conformance>B<") || text.contains("pdfaid:conformance=\"B\"")
        );
        assert!(text.contains(CREATOR), "creator missing");
    }
}

#[test]
fn output_is_deterministic() {
    let r = renderer();
    let url = token_url();
    let data = sample::sample_certificate();
    let a = r.render(&data, &extras(&url)).unwrap();
    let b = r.render(&data, &extras(&url)).unwrap();
    assert_eq!(a, b);
}

/// The signing step appends an incremental update with a classic xref section; it relies on
/// this shape of krilla's output.
#[test]
fn file_structure_suits_incremental_signing() {
    let pdf = renderer()
        .render(&sample::sample_certificate(), &extras(&token_url()))
        .unwrap();
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("\nxref\n"), "no classic xref table");
    assert!(text.contains("\ntrailer\n"), "no classic trailer");
    assert!(!text.contains("/XRef"), "cross-reference stream present");
    assert!(!text.contains("/ObjStm"), "object stream present");
    let trailer = &text[text.rfind("trailer").unwrap()..];
    assert!(trailer.contains("/ID"), "trailer without /ID");
    assert!(text.trim_end().ends_with("%%EOF"));
    assert_eq!(text.matches("startxref").count(), 1);
}

#[test]
fn text_layer_carries_the_names() {
    if !tool("pdftotext") {
        println!("skipped: pdftotext not on PATH (Debian poppler-utils)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = renderer();
    let url = token_url();
    let cases = [
        (LATIN_NAME_CHAN, Some(CHINESE_NAME_HKSCS)),
        (PORTUGUESE_NAME, None),
        (VIETNAMESE_NAME, Some("阮氏明開")),
        ("ZHANG WEI", Some("张伟")),
    ];
    for (i, (latin, chinese)) in cases.iter().enumerate() {
        let data = sample::sample_certificate_named(latin, *chinese);
        let pdf = r.render(&data, &extras(&url)).unwrap();
        let path = write_temp(dir.path(), &format!("c{i}.pdf"), &pdf);
        let text = pdftotext(&path);
        assert!(text.contains(latin), "{latin:?} not in text layer:\n{text}");
        if let Some(chinese) = chinese {
            assert!(
                text.contains(chinese),
                "{chinese:?} not in text layer:\n{text}"
            );
        }
        for s in [
            "沒有刑事紀錄",
            "Nada consta",
            "No criminal record",
            "刑事紀錄證明書",
            "Certificate of Criminal Record",
        ] {
            assert!(text.contains(s), "{s:?} not in text layer");
        }
        assert!(text.contains(&data.number));
        assert!(text.contains("2026-11-21 10:30:15"), "issue time missing");
        assert!(text.contains("2027-02-19 23:59:59"), "valid-until missing");
    }
    let pdf = r
        .render(&sample::sample_transfer_copy(), &extras(&url))
        .unwrap();
    let text = pdftotext(&write_temp(dir.path(), "transfer.pdf", &pdf));
    for s in ["勞工事務局", "Labour Affairs Bureau", "轉交部門"] {
        assert!(text.contains(s), "{s:?} not in transfer copy");
    }
}

/// The font has only five combining marks (U+0300, U+0301, U+0304, U+0307, U+030C), so a
/// Vietnamese name typed decomposed (NFD) is rejected naming the mark; requests should be
/// NFC-normalised on intake (the precomposed letters are all covered).
#[test]
fn decomposed_vietnamese_is_rejected_with_the_mark() {
    let nfd = "NGUYE\u{302}\u{303}N THI\u{323} MINH KHAI";
    let r = renderer();
    let data = sample::sample_certificate_named(nfd, None);
    assert!(matches!(
        r.check_coverage(&data),
        Err(RenderError::UnsupportedCharacter {
            field: "holder.name_latin",
            character: '\u{302}'
        })
    ));
    // Marks the font has render through shaping: e + U+0301 (é), a + U+0300 (à).
    let data = sample::sample_certificate_named("JOSE\u{301} MARIA\u{300}", None);
    let pdf = r.render(&data, &extras(&token_url())).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn qr_code_scans_at_150_dpi() {
    if !tool("pdftoppm") || Command::new("zbarimg").arg("--version").output().is_err() {
        println!("skipped: pdftoppm or zbarimg not on PATH (Debian poppler-utils, zbar-tools)");
        return;
    }
    let url = token_url();
    assert_eq!(url.len(), 639, "token URL length");
    let dir = tempfile::tempdir().unwrap();
    let pdf = renderer()
        .render(&sample::sample_certificate(), &extras(&url))
        .unwrap();
    let path = write_temp(dir.path(), "qr.pdf", &pdf);
    let prefix = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-singlefile"])
        .arg(&path)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(prefix.with_extension("png"))
        .output()
        .unwrap();
    let decoded = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        decoded.trim_end_matches('\n'),
        url,
        "zbarimg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn qr_uses_level_m_and_the_smallest_version() {
    let url = token_url();
    let qr = qr::encode(&url).unwrap();
    // 29 prefix bytes in byte mode (252 bits) and 610 digits in numeric mode (2,050 bits):
    // 2,302 of the 2,320 data bits of version 12-M (SPEC §4).
    assert_eq!(url.len(), 639);
    assert_eq!(qr.version, 12);
    assert_eq!(qr.width, 65);
    assert_eq!(qr.dark.len(), qr.width * qr.width);
    let dark_at = |row: usize, col: usize| qr.dark[row * qr.width + col];
    // Finder pattern in the top-left corner: a dark 7×7 ring around a dark 3×3 centre.
    for i in 0..7 {
        assert!(dark_at(0, i) && dark_at(6, i) && dark_at(i, 0) && dark_at(i, 6));
    }
    assert!(!dark_at(1, 1));
    assert!(dark_at(3, 3));
    let dark = qr.dark.iter().filter(|&&d| d).count();
    assert!(dark * 100 / qr.dark.len() > 35 && dark * 100 / qr.dark.len() < 65);
    // The image: 4 pixels a module side, a light quiet zone of 4 modules, dark modules black.
    let image = qr.image();
    let k = qr::PIXELS_PER_MODULE;
    let side = qr.total_width() * k;
    assert_eq!(
        krilla::image::CustomImage::size(&image),
        (side as u32, side as u32)
    );
    let pixels = krilla::image::CustomImage::color_channel(&image);
    assert_eq!(pixels.len(), side * side);
    for (y, x) in (0..side).flat_map(|y| (0..side).map(move |x| (y, x))) {
        let (row, col) = (y / k, x / k);
        let inside = (qr::QUIET_ZONE..qr::QUIET_ZONE + qr.width).contains(&row)
            && (qr::QUIET_ZONE..qr::QUIET_ZONE + qr.width).contains(&col);
        let expected = if inside && dark_at(row - qr::QUIET_ZONE, col - qr::QUIET_ZONE) {
            0
        } else {
            255
        };
        assert_eq!(pixels[y * side + x], expected, "pixel ({y}, {x})");
    }
    let small = qr::encode("http://127.0.0.1:8080/verify#abc").unwrap();
    assert!(small.version <= 3);
}

#[test]
fn coverage_rejects_missing_characters_naming_the_field() {
    let r = renderer();
    let data = sample::sample_certificate_named("SMILEY \u{1F600}", None);
    match r.check_coverage(&data) {
        Err(RenderError::UnsupportedCharacter { field, character }) => {
            assert_eq!(field, "holder.name_latin");
            assert_eq!(character, '\u{1F600}');
        }
        other => panic!("expected UnsupportedCharacter, got {other:?}"),
    }
    let data = sample::sample_certificate_named("X", Some("陳\u{17000}"));
    let err = r.render(&data, &extras("http://x/#a")).unwrap_err();
    assert!(
        matches!(
            err,
            RenderError::UnsupportedCharacter {
                field: "holder.name_chinese",
                character: '\u{17000}'
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("U+17000"), "{err}");
    let mut data = sample::sample_certificate();
    data.holder.name_latin.push('\n');
    assert!(matches!(
        r.check_coverage(&data),
        Err(RenderError::UnsupportedCharacter {
            field: "holder.name_latin",
            character: '\n'
        })
    ));
    let mut data = sample::sample_with_records(1);
    data.records[0].sentence.push('\u{1F600}');
    assert!(matches!(
        r.check_coverage(&data),
        Err(RenderError::UnsupportedRecordCharacter {
            entry: 1,
            field: "sentence",
            character: '\u{1F600}'
        })
    ));
    assert!(r.check_coverage(&sample::sample_with_records(3)).is_ok());
}

fn pages_of(data: &CertificateData) -> Vec<Vec<Op>> {
    let r = renderer();
    let url = token_url();
    let qr = qr::encode(&url).unwrap();
    layout::layout(r.font.metrics, data, &extras(&url), qr).unwrap()
}

/// Every text op stays inside the page's side margins.
fn assert_inside(pages: &[Vec<Op>]) {
    let m = renderer().font.metrics;
    for ops in pages {
        for op in ops {
            if let Op::Text {
                x, size, text, y, ..
            } = op
            {
                let right = x + m.width(text, *size);
                assert!(
                    *x >= 50.0 && right <= layout::PAGE_W - 50.0,
                    "{text:?} spans {x}..{right}"
                );
                assert!(*y > 20.0 && *y < layout::PAGE_H - 20.0, "{text:?} at y {y}");
            }
        }
    }
}

#[test]
fn nothing_on_record_fits_one_page_even_with_long_names() {
    let mut data = sample::sample_transfer_copy();
    data.holder.name_latin =
        "MARIA DA CONCEIÇÃO DOS SANTOS GONÇALVES DE NOVAIS RIBEIRO FERREIRA DA SILVA E ALBUQUERQUE XAVIER".to_owned();
    data.holder.name_chinese = Some("歐陽𨋢㗎文慧玲瑪利亞康塞桑德蘇沙費雷拉達施華".to_owned());
    data.usage.name = Trilingual {
        zh: "向外地當局申請居留、入境或長期逗留簽證之用".to_owned(),
        pt: "Pedido de autorização de residência, de entrada ou de visto de longa duração junto de autoridades do exterior".to_owned(),
        en: "Application for residence, entry or a long-stay visa to authorities outside Macao".to_owned(),
    };
    let pages = pages_of(&data);
    assert_eq!(pages.len(), 1);
    assert_inside(&pages);
    let pdf = renderer().render(&data, &extras(&token_url())).unwrap();
    assert!(pdf.len() <= MAX_PDF_BYTES);
}

#[test]
fn records_overflow_to_more_pages_only_when_needed() {
    assert_eq!(pages_of(&sample::sample_with_records(1)).len(), 1);
    let pages = pages_of(&sample::sample_with_records(12));
    assert!(pages.len() >= 2, "12 entries on {} page(s)", pages.len());
    assert_inside(&pages);
    // Exactly one QR code, on the last page.
    let qr_pages: Vec<usize> = pages
        .iter()
        .enumerate()
        .filter(|(_, ops)| ops.iter().any(|op| matches!(op, Op::Qr { .. })))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(qr_pages, vec![pages.len() - 1]);
    let pdf = renderer()
        .render(&sample::sample_with_records(12), &extras(&token_url()))
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
}

/// The largest request the limits accept (every record entry at its limits, in the widest
/// script, and the longest names) renders; the page cap follows from the same constants.
#[test]
fn largest_accepted_request_renders() {
    use crate::rules::request::{
        MAX_CASE_NUMBER_CHARS, MAX_CERTIFICATE_PAGES, MAX_CHINESE_NAME_CHARS, MAX_LATIN_NAME_CHARS,
        MAX_RECORD_FIELD_CHARS, MAX_RECORDS,
    };
    let mut data = sample::sample_transfer_copy();
    data.holder.name_latin = "W".repeat(MAX_LATIN_NAME_CHARS);
    data.holder.name_chinese = Some("國".repeat(MAX_CHINESE_NAME_CHARS));
    let widest = "國".repeat(MAX_RECORD_FIELD_CHARS);
    data.records = sample::sample_with_records(MAX_RECORDS).records;
    for entry in &mut data.records {
        entry.court.clone_from(&widest);
        entry.offence.clone_from(&widest);
        entry.sentence.clone_from(&widest);
        entry.case_number = "W".repeat(MAX_CASE_NUMBER_CHARS);
    }
    let url = token_url();
    let pages = renderer()
        .check_layout(&data, &extras(&url))
        .expect("the largest accepted request fits the page cap");
    assert!(pages <= MAX_CERTIFICATE_PAGES, "{pages} pages");
    assert_inside(&pages_of(&data));
    let pdf = renderer().render(&data, &extras(&url)).expect("renders");
    assert!(pdf.starts_with(b"%PDF-"));
    // One more such entry is past the cap: the request validation refuses it first.
    data.records.push(data.records[0].clone());
    assert!(matches!(
        renderer().check_layout(&data, &extras(&url)),
        Err(RenderError::Layout(_))
    ));
}

#[test]
fn huge_fields_are_bounded() {
    let mut data = sample::sample_with_records(1);
    data.records[0].sentence = "很長的刑罰描述".repeat(20_000);
    let r = renderer();
    assert!(matches!(
        r.render(&data, &extras(&token_url())),
        Err(RenderError::Layout(_))
    ));
}

#[test]
fn wrapping_breaks_at_spaces_and_between_cjk() {
    let m = renderer().font.metrics;
    let lines = layout::wrap(m, "AAAA BBBB CCCC", 10.0, m.width("AAAA BBBB", 10.0) + 0.1);
    assert_eq!(lines, vec!["AAAA BBBB", "CCCC"]);
    let lines = layout::wrap(m, "一二三四五六", 10.0, 30.5);
    assert_eq!(lines, vec!["一二三", "四五六"]);
    let lines = layout::wrap(m, "一二，三四", 10.0, 20.5);
    assert_eq!(lines, vec!["一", "二，", "三四"]);
    let long = "X".repeat(100);
    for line in layout::wrap(m, &long, 10.0, 100.0) {
        assert!(m.width(&line, 10.0) <= 100.0);
    }
}

/// Median render time, release mode: `cargo test -p ccr-issuer --release -- --ignored --nocapture render_time`.
#[test]
#[ignore = "timing; run in release mode"]
fn render_time() {
    let r = renderer();
    let url = token_url();
    let data = sample::sample_certificate();
    let extras = extras(&url);
    for _ in 0..20 {
        r.render(&data, &extras).unwrap();
    }
    let mut times: Vec<f64> = (0..200)
        .map(|_| {
            let start = std::time::Instant::now();
            let pdf = r.render(&data, &extras).unwrap();
            std::hint::black_box(pdf);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = |f: &mut dyn FnMut()| {
        let mut t: Vec<f64> = (0..100)
            .map(|_| {
                let start = std::time::Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let qr_ms = median(&mut || {
        std::hint::black_box(qr::encode(&url).unwrap());
    });
    let layout_ms = median(&mut || {
        let qr = qr::encode(&url).unwrap();
        std::hint::black_box(layout::layout(r.font.metrics, &data, &extras, qr).unwrap());
    });
    println!("phases: qr::encode {qr_ms:.3} ms, qr+layout {layout_ms:.3} ms");
    println!(
        "render: median {:.3} ms, p10 {:.3} ms, p90 {:.3} ms over {} renders",
        times[times.len() / 2],
        times[times.len() / 10],
        times[times.len() * 9 / 10],
        times.len()
    );
}

/// Writes sample PDFs to $RENDER_DUMP_DIR for a visual check.
#[test]
#[ignore = "writes files for manual inspection"]
fn dump_samples() {
    let dir = std::env::var("RENDER_DUMP_DIR").unwrap();
    let r = renderer();
    let url = token_url();
    let cases = [
        ("sample", sample::sample_certificate()),
        ("transfer", sample::sample_transfer_copy()),
        ("records1", sample::sample_with_records(1)),
        ("records4", sample::sample_with_records(4)),
    ];
    for (name, data) in cases {
        let pdf = r.render(&data, &extras(&url)).unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.pdf")), pdf).unwrap();
    }
}

/// SPEC §4: modules of at least 0.4 mm and a 4-module quiet zone, up to the version-14 budget
/// of the longest realistic certificate (and a little beyond).
#[test]
fn qr_modules_are_at_least_0_4_mm_with_a_4_module_quiet_zone() {
    assert_eq!(qr::QUIET_ZONE, 4);
    for version in 1..=16 {
        let total = 17 + 4 * version + 2 * qr::QUIET_ZONE;
        let module = layout::qr_module_size(total);
        assert!(
            module >= layout::QR_MIN_MODULE,
            "version {version}: module {:.3} mm",
            module * 25.4 / 72.0
        );
    }
}

/// The 72-character name the hidden-name run found broken at its hyphen (issue 12).
const LONG_NAME_72: &str =
    "AHMED BIN MOHAMED ABDULLAH IBRAHIM KHALIL OSMAN YOUSSEF HASSAN AL-FARUQI";
/// The longest realistic name of SPEC §4 (60 characters, hyphen, apostrophe, diacritics).
const LONG_NAME_60: &str = "MARIA DA CONCEIÇÃO D'ALMEIDA-FERREIRA DOS SANTOS SOUSA LEITE";

/// The text drawn for the holder's Latin name on page 1: the bold lines right after the
/// certificate number, which are pieces of `name`.
fn name_lines(data: &CertificateData) -> Vec<(String, f32)> {
    let url = token_url();
    let qr = qr::encode(&url).unwrap();
    let pages = layout::layout(renderer().font.metrics, data, &extras(&url), qr).unwrap();
    pages[0]
        .iter()
        .filter_map(|op| match op {
            layout::Op::Text {
                text, size, bold, ..
            } if *bold && text != &data.number => Some((text.clone(), *size)),
            _ => None,
        })
        .skip_while(|(text, _)| !data.holder.name_latin.starts_with(text.as_str()))
        .take_while(|(text, _)| data.holder.name_latin.contains(text.as_str()))
        .collect()
}

/// SPEC §3: a long name shrinks to at most two lines and breaks only at spaces, even at the
/// request limit of 120 characters; a short one stays on one line at the full size; realistic
/// long names stay at 8 pt or more.
#[test]
fn names_take_at_most_two_lines_broken_only_at_spaces() {
    let longest = "ABCDEFGHIJ ".repeat(11);
    let longest = longest.trim_end();
    assert_eq!(longest.chars().count(), 120, "the request limit");
    for (name, max_lines) in [
        (LATIN_NAME_CHAN, 1),
        (PORTUGUESE_NAME, 1),
        (LONG_NAME_60, 2),
        (LONG_NAME_72, 2),
        (longest, 2),
    ] {
        let data = sample::sample_certificate_named(name, Some("歐陽嘉慧美玲"));
        let lines = name_lines(&data);
        let texts: Vec<&str> = lines.iter().map(|(t, _)| t.as_str()).collect();
        assert!(
            !lines.is_empty() && lines.len() <= max_lines,
            "{name:?}: {texts:?}"
        );
        assert_eq!(texts.join(" "), name, "broken only at spaces: {texts:?}");
        eprintln!("{name:?}: {lines:?}");
        let min_size = if name.len() <= 80 { 8.0 } else { 6.0 };
        for (text, size) in &lines {
            assert!(*size >= min_size, "{name:?}: {text:?} at {size} pt");
            assert!(!text.ends_with('-'), "{name:?}: a line ends at a hyphen");
        }
        if name == LATIN_NAME_CHAN {
            assert_eq!(lines[0].1, 12.5, "a short name keeps the full size");
        }
    }
}

/// `pdftotext` gives long names back exactly, hyphen and apostrophe included (a name on two
/// lines comes back with a line break where the space was).
#[test]
fn pdftotext_gives_long_names_back_exactly() {
    if !tool("pdftotext") {
        println!("skipped: pdftotext not on PATH (Debian poppler-utils)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = renderer();
    let url = token_url();
    for (i, name) in [LONG_NAME_60, LONG_NAME_72].iter().enumerate() {
        let data = sample::sample_certificate_named(name, Some("歐陽嘉慧美玲"));
        let pdf = r.render(&data, &extras(&url)).unwrap();
        assert!(pdf.len() <= MAX_PDF_BYTES, "{name:?}: {} bytes", pdf.len());
        let text = pdftotext(&write_temp(dir.path(), &format!("long{i}.pdf"), &pdf));
        let lines = name_lines(&data);
        let expected = lines
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            text.contains(&expected),
            "{name:?} (as {expected:?}) not in the text layer:\n{text}"
        );
        assert!(text.contains("歐陽嘉慧美玲"), "the Chinese name:\n{text}");
    }
}
