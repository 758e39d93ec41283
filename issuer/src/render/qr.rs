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
    let (codewords, ec) = construct_codewords(&bits.into_bytes(), version, EcLevel::M).map_err(too_long)?;
    let width = usize::try_from(version.width()).map_err(|e| e.to_string())?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&codewords, &ec);
    let mut best: Option<(u32, Vec<bool>)> = None;
    for pattern in MASKS {
        let mut masked = canvas.clone();
        masked.apply_mask(pattern);
        let dark: Vec<bool> = masked.into_colors().into_iter().map(|c| c == Color::Dark).collect();
        let score = penalty(&dark, width);
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, dark));
        }
    }
    let (_, dark) = best.ok_or_else(|| "no QR mask pattern".to_owned())?;
    let version = match version {
        Version::Normal(v) | Version::Micro(v) => v,
    };
    Ok(QrModules { width, version, rects: rectangles(&dark, width) })
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
    let mut open: std::collections::HashMap<(usize, usize), usize> = std::collections::HashMap::new();
    for (row, col, len) in runs {
        match open.get(&(col, len)).copied() {
            Some(i) if rects[i].row + rects[i].height == row => rects[i].height += 1,
            _ => {
                open.insert((col, len), rects.len());
                rects.push(ModuleRect { row, col, width: len, height: 1 });
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
    let at = |x: usize, y: usize| dark.get(y * width + x).copied().unwrap_or(false);
    let mut score = 0u32;
    for horizontal in [true, false] {
        for i in 0..width {
            let get = |j: usize| if horizontal { at(j, i) } else { at(i, j) };
            // N1: runs of five or more modules of one colour.
            let mut run = 1u32;
            for j in 1..=width {
                if j < width && get(j) == get(j - 1) {
                    run += 1;
                } else {
                    if run >= 5 {
                        score += 3 + (run - 5);
                    }
                    run = 1;
                }
            }
            // N3: 1:1:3:1:1 finder-like patterns with four light modules on one side (outside
            // the symbol counts as light).
            let light = |j: isize| j < 0 || j >= width as isize || !get(j as usize);
            for j in 0..width.saturating_sub(6) {
                let core = [true, false, true, true, true, false, true];
                if core.iter().enumerate().all(|(k, &d)| get(j + k) == d) {
                    let j = j as isize;
                    let before = (j - 4..j).all(light);
                    let after = (j + 7..j + 11).all(light);
                    if before || after {
                        score += 40;
                    }
                }
            }
        }
    }
    // N2: 2×2 blocks of one colour.
    for y in 0..width.saturating_sub(1) {
        for x in 0..width.saturating_sub(1) {
            let c = at(x, y);
            if at(x + 1, y) == c && at(x, y + 1) == c && at(x + 1, y + 1) == c {
                score += 3;
            }
        }
    }
    // N4: deviation of the dark proportion from 50 %, 10 points per 5 %.
    let total = dark.len().max(1);
    let dark_count = dark.iter().filter(|&&d| d).count();
    let percent = dark_count * 100 / total;
    score + u32::try_from(percent.abs_diff(50) / 5 * 10).unwrap_or(u32::MAX)
}
