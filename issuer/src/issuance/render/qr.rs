//! The verification QR code as vector graphics.

use qrcode::bits::encode_auto;
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::ec::construct_codewords;
use qrcode::{Color, EcLevel, Version};

/// Modules of white space around the symbol (ISO/IEC 18004 quiet zone).
pub(crate) const QUIET_ZONE: usize = 4;

/// A QR symbol reduced to rectangles of dark modules.
#[derive(Debug, Clone)]
pub(crate) struct QrModules {
    /// Modules per side, without the quiet zone.
    pub(crate) width: usize,
    /// The QR version (1–40); read by tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) version: i16,
    /// Rectangles covering exactly the dark modules, in module units relative to the
    /// symbol's top-left corner (quiet zone excluded).
    pub(crate) rects: Vec<ModuleRect>,
}

/// A rectangle of dark modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModuleRect {
    pub(crate) row: usize,
    pub(crate) col: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

impl QrModules {
    /// Modules per side including the quiet zone on both sides.
    pub(crate) fn total_width(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }
}

/// Encodes `data` at error-correction level M, in the smallest version that fits.
///
/// The mask is chosen by the ISO/IEC 18004 penalty rules like `QrCode::new` does, but with a
/// linear-time scorer: the crate's own takes several milliseconds for a version-13 symbol.
pub(crate) fn encode(data: &str) -> Result<QrModules, String> {
    let too_long = |e| format!("cannot encode {} bytes as a QR code: {e}", data.len());
    let bits = encode_auto(data.as_bytes(), EcLevel::M).map_err(too_long)?;
    let version = bits.version();
    let (codewords, ec) =
        construct_codewords(&bits.into_bytes(), version, EcLevel::M).map_err(too_long)?;
    let width = usize::try_from(version.width()).map_err(|e| e.to_string())?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&codewords, &ec);
    let mut best: Option<(u32, Vec<bool>)> = None;
    for pattern in MASKS {
        let mut masked = canvas.clone();
        masked.apply_mask(pattern);
        let dark: Vec<bool> = masked
            .into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        let score = penalty(&dark, width);
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, dark));
        }
    }
    let (_, dark) = best.ok_or_else(|| "no QR mask pattern".to_owned())?;
    let version = match version {
        Version::Normal(v) | Version::Micro(v) => v,
    };
    Ok(QrModules {
        width,
        version,
        rects: rectangles(&dark, width),
    })
}

/// Covers the dark modules with rectangles: horizontal runs, each merged with the identical
/// runs directly below it.
fn rectangles(dark: &[bool], width: usize) -> Vec<ModuleRect> {
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for row in 0..width {
        let line = dark.get(row * width..(row + 1) * width).unwrap_or(&[]);
        let mut col = 0;
        while col < line.len() {
            if line[col] {
                let start = col;
                while col < line.len() && line[col] {
                    col += 1;
                }
                runs.push((row, start, col - start));
            } else {
                col += 1;
            }
        }
    }
    // Runs are sorted by row then column; extend an open rectangle when the run below matches.
    let mut rects: Vec<ModuleRect> = Vec::new();
    let mut open: std::collections::HashMap<(usize, usize), usize> =
        std::collections::HashMap::new();
    for (row, col, len) in runs {
        match open.get(&(col, len)).copied() {
            Some(i) if rects[i].row + rects[i].height == row => rects[i].height += 1,
            _ => {
                open.insert((col, len), rects.len());
                rects.push(ModuleRect {
                    row,
                    col,
                    width: len,
                    height: 1,
                });
            }
        }
    }
    rects
}

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The ISO/IEC 18004 mask penalty (N1 runs, N2 blocks, N3 finder-like patterns, N4 balance)
/// of a square symbol given row-major.
pub(crate) fn penalty(dark: &[bool], width: usize) -> u32 {
    if width == 0 || dark.len() != width * width {
        return u32::MAX;
    }
    let rows: Vec<&[bool]> = dark.chunks_exact(width).collect();
    let mut transposed = vec![false; dark.len()];
    for (y, row) in rows.iter().enumerate() {
        for (x, &d) in row.iter().enumerate() {
            transposed[x * width + y] = d;
        }
    }
    let mut score: u32 = rows.iter().map(|row| line_penalty(row)).sum();
    score += transposed
        .chunks_exact(width)
        .map(line_penalty)
        .sum::<u32>();
    // N2: 2×2 blocks of one colour.
    for pair in rows.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        for x in 0..width - 1 {
            let c = a[x];
            if a[x + 1] == c && b[x] == c && b[x + 1] == c {
                score += 3;
            }
        }
    }
    // N4: deviation of the dark proportion from 50 %, 10 points per 5 %.
    let dark_count = dark.iter().filter(|&&d| d).count();
    let percent = dark_count * 100 / dark.len();
    score + u32::try_from(percent.abs_diff(50) / 5 * 10).unwrap_or(u32::MAX)
}

/// N1 and N3 of one row or column.
fn line_penalty(line: &[bool]) -> u32 {
    let mut score = 0;
    // N1: runs of five or more modules of one colour.
    let mut run = 1u32;
    for j in 1..=line.len() {
        if j < line.len() && line[j] == line[j - 1] {
            run += 1;
        } else {
            if run >= 5 {
                score += 3 + (run - 5);
            }
            run = 1;
        }
    }
    // N3: dark-light-dark×3-light-dark with four light modules before or after; outside the
    // symbol counts as light. An 11-module window slides over the line followed by 4 light
    // modules (the window starts out light).
    const BEFORE: u16 = 0b000_0101_1101; // 0000 1011101
    const AFTER: u16 = 0b101_1101_0000; // 1011101 0000
    const MASK: u16 = 0b111_1111_1111;
    let mut window: u16 = 0;
    for bit in line.iter().copied().chain([false; 4]) {
        window = ((window << 1) | u16::from(bit)) & MASK;
        if window == BEFORE || window == AFTER {
            score += 40;
        }
    }
    score
}
