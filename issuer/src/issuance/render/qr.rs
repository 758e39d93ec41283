//! The verification QR code: encoding, mask choice, and the image the page draws.

use ccr_pki::token::qr::{EC_LEVEL, bits as token_bits};
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::ec::construct_codewords;
use qrcode::{Color, Version};

/// Modules of white space around the symbol (ISO/IEC 18004 quiet zone).
pub(crate) const QUIET_ZONE: usize = 4;

/// Pixels per module side in the QR image.
pub(crate) const PIXELS_PER_MODULE: usize = 4;

/// A QR symbol: its dark modules, row-major.
#[derive(Debug, Clone)]
pub(crate) struct QrModules {
    /// Modules per side, without the quiet zone.
    pub(crate) width: usize,
    /// The QR version (1–40); read by tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) version: i16,
    /// `width × width` modules, row-major from the top-left corner, `true` = dark.
    pub(crate) dark: Vec<bool>,
}

impl QrModules {
    /// Modules per side including the quiet zone on both sides.
    pub(crate) fn total_width(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// The symbol with its quiet zone as an 8-bit grey image, [`PIXELS_PER_MODULE`] pixels a
    /// module side (0 dark, 255 light).
    ///
    /// Why an image and not vector rectangles: the symbol is a grid, and an image drawn
    /// without interpolation prints exactly as rectangles would, but deflates to about 2 KB
    /// where the path of a version-13 symbol took 10–12 KB of the content stream (it put the
    /// longest certificate over the 64 KiB budget whenever its token fell into the next
    /// version). Why 4 pixels a module and not 1: a renderer upscaling a small image less than
    /// 4× interpolates anyway (poppler does), and zbar no longer read the blurred modules of a
    /// 100 or 150 dpi render; at 4 pixels a module those renders downscale instead, like the
    /// vector symbol's anti-aliased edges.
    pub(crate) fn image(&self) -> QrImage {
        let k = PIXELS_PER_MODULE;
        let side = self.total_width() * k;
        let mut luma = vec![255u8; side * side];
        for (i, _) in self.dark.iter().enumerate().filter(|(_, d)| **d) {
            let (row, col) = (i / self.width + QUIET_ZONE, i % self.width + QUIET_ZONE);
            for y in row * k..(row + 1) * k {
                luma[y * side + col * k..y * side + (col + 1) * k].fill(0);
            }
        }
        QrImage {
            side: u32::try_from(side).unwrap_or(u32::MAX),
            luma,
        }
    }
}

/// The pixels of [`QrModules::image`], for krilla.
#[derive(Clone, Hash)]
pub(crate) struct QrImage {
    side: u32,
    luma: Vec<u8>,
}

impl krilla::image::CustomImage for QrImage {
    fn color_channel(&self) -> &[u8] {
        &self.luma
    }

    fn alpha_channel(&self) -> Option<&[u8]> {
        None
    }

    fn bits_per_component(&self) -> krilla::image::BitsPerComponent {
        krilla::image::BitsPerComponent::Eight
    }

    fn size(&self) -> (u32, u32) {
        (self.side, self.side)
    }

    fn icc_profile(&self) -> Option<&[u8]> {
        None
    }

    fn color_space(&self) -> krilla::image::ImageColorspace {
        krilla::image::ImageColorspace::Luma
    }
}

/// Encodes the token URL `data` at error-correction level M, in the smallest version that
/// fits, as two segments (SPEC §4: the prefix in byte mode, the decimal digits in numeric mode).
///
/// The mask is chosen by the ISO/IEC 18004 penalty rules like `QrCode::new` does, but with a
/// linear-time scorer: the crate's own takes several milliseconds for a version-13 symbol.
pub(crate) fn encode(data: &str) -> Result<QrModules, String> {
    let too_long =
        |e: &dyn std::fmt::Display| format!("cannot encode {} bytes as a QR code: {e}", data.len());
    let bits = token_bits(data).map_err(|e| too_long(&e))?;
    let version = bits.version();
    let (codewords, ec) =
        construct_codewords(&bits.into_bytes(), version, EC_LEVEL).map_err(|e| too_long(&e))?;
    let width = usize::try_from(version.width()).map_err(|e| e.to_string())?;
    let canvas = unmasked(version, &codewords, &ec);
    let mut best: Option<(u32, Vec<bool>)> = None;
    for pattern in MASKS {
        let dark = masked(&canvas, pattern);
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
        dark,
    })
}

/// The symbol's function patterns and data, before masking.
fn unmasked(version: Version, codewords: &[u8], ec: &[u8]) -> Canvas {
    let mut canvas = Canvas::new(version, EC_LEVEL);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(codewords, ec);
    canvas
}

/// The modules of `canvas` under mask `pattern`, row-major, `true` = dark.
fn masked(canvas: &Canvas, pattern: MaskPattern) -> Vec<bool> {
    let mut masked = canvas.clone();
    masked.apply_mask(pattern);
    masked
        .into_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect()
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

/// Words of a [`Line`]: room for the widest symbol (version 40, 177 modules) with the 10
/// light modules [`finder_like`] puts before it and the 4 after.
const WORDS: usize = 3;

/// One row or column of a symbol as bits (bit `j` set = module `j` dark), so the penalty
/// rules run as word operations instead of one branch per module.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Line([u64; WORDS]);

impl Line {
    /// Bits `0..n` set.
    fn ones(n: usize) -> Self {
        let mut line = Self::default();
        for (i, word) in line.0.iter_mut().enumerate() {
            let lo = i * 64;
            *word = match n.saturating_sub(lo) {
                0 => 0,
                k if k >= 64 => u64::MAX,
                k => (1u64 << k) - 1,
            };
        }
        line
    }

    fn set(&mut self, j: usize) {
        self.0[j / 64] |= 1 << (j % 64);
    }

    /// Bit `j` of the result is bit `j + k` of `self` (`k` < 64).
    fn shr(self, k: usize) -> Self {
        if k == 0 {
            return self;
        }
        let mut out = Self::default();
        for i in 0..WORDS {
            let high = self.0.get(i + 1).map_or(0, |w| w << (64 - k));
            out.0[i] = (self.0[i] >> k) | high;
        }
        out
    }

    /// Bit `j` of the result is bit `j - k` of `self` (`k` < 64).
    fn shl(self, k: usize) -> Self {
        if k == 0 {
            return self;
        }
        let mut out = Self::default();
        for i in 0..WORDS {
            let low = if i == 0 { 0 } else { self.0[i - 1] >> (64 - k) };
            out.0[i] = (self.0[i] << k) | low;
        }
        out
    }

    fn and(self, o: Self) -> Self {
        Self(std::array::from_fn(|i| self.0[i] & o.0[i]))
    }

    fn xor(self, o: Self) -> Self {
        Self(std::array::from_fn(|i| self.0[i] ^ o.0[i]))
    }

    fn not(self) -> Self {
        Self(self.0.map(|w| !w))
    }

    fn count(self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
}

/// The ISO/IEC 18004 mask penalty (N1 runs, N2 blocks, N3 finder-like patterns, N4 balance)
/// of a square symbol given row-major. Computed on bit lines; the scalar definition it must
/// agree with is kept as the test oracle (`tests::penalty_reference`).
pub(crate) fn penalty(dark: &[bool], width: usize) -> u32 {
    if width < 2 || width + 14 > WORDS * 64 || dark.len() != width * width {
        return u32::MAX;
    }
    let mut rows = vec![Line::default(); width];
    let mut cols = vec![Line::default(); width];
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let (y, x) = (i / width, i % width);
        rows[y].set(x);
        cols[x].set(y);
    }
    // Adjacent pairs inside the line, and 5-module windows inside it.
    let pairs = Line::ones(width - 1);
    let mut score: u32 = rows
        .iter()
        .chain(cols.iter())
        .map(|&line| runs(line, pairs) + finder_like(line, width))
        .sum();
    // N2: 2×2 blocks of one colour, 3 each.
    for pair in rows.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let same_a = a.xor(a.shr(1)).not();
        let same_b = b.xor(b.shr(1)).not();
        let same_ab = a.xor(b).not();
        score += 3 * same_a.and(same_b).and(same_ab).and(pairs).count();
    }
    // N4: deviation of the dark proportion from 50 %, 10 points per 5 %.
    let dark_count = rows.iter().map(|r| r.count() as usize).sum::<usize>();
    let percent = dark_count * 100 / dark.len();
    score + u32::try_from(percent.abs_diff(50) / 5 * 10).unwrap_or(u32::MAX)
}

/// N1 of one line: a run of `n` ≥ 5 modules of one colour scores `n - 2`, that is one point
/// per 5-module window inside it (`n - 4`) and 2 more per run.
fn runs(line: Line, pairs: Line) -> u32 {
    // Bit j: modules j and j + 1 have one colour.
    let same = line.xor(line.shr(1)).not().and(pairs);
    // Bit j: modules j..j + 5 have one colour.
    let five = same.and(same.shr(1)).and(same.shr(2)).and(same.shr(3));
    // Windows that start a run (module j - 1 has the other colour, or j = 0).
    let starts = five.and(same.shl(1).not());
    five.count() + 2 * starts.count()
}

/// N3 of one line: 40 per 11-module window reading light×4 dark light dark×3 light dark, or
/// its mirror, where the modules outside the line count as light (windows reaching up to 10
/// modules before the line and 4 after it, as a window sliding over the line followed by 4
/// light modules).
fn finder_like(line: Line, width: usize) -> u32 {
    const BEFORE: [bool; 11] = [
        false, false, false, false, true, false, true, true, true, false, true,
    ];
    const AFTER: [bool; 11] = [
        true, false, true, true, true, false, true, false, false, false, false,
    ];
    // The line with 10 light modules in front: window t covers bits t..t + 11.
    let padded = line.shl(10);
    let windows = Line::ones(width + 4);
    let mut count = 0;
    for pattern in [BEFORE, AFTER] {
        let mut hits = windows;
        for (k, &dark) in pattern.iter().enumerate() {
            let bits = padded.shr(k);
            hits = hits.and(if dark { bits } else { bits.not() });
        }
        count += hits.count();
    }
    40 * count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The penalty rules written module by module, straight from their definition: the oracle
    /// for the bit-line [`penalty`].
    fn penalty_reference(dark: &[bool], width: usize) -> u32 {
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
        for pair in rows.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            for x in 0..width - 1 {
                let c = a[x];
                if a[x + 1] == c && b[x] == c && b[x + 1] == c {
                    score += 3;
                }
            }
        }
        let dark_count = dark.iter().filter(|&&d| d).count();
        let percent = dark_count * 100 / dark.len();
        score + u32::try_from(percent.abs_diff(50) / 5 * 10).unwrap_or(u32::MAX)
    }

    fn line_penalty(line: &[bool]) -> u32 {
        let mut score = 0;
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
        const BEFORE: u16 = 0b000_0101_1101;
        const AFTER: u16 = 0b101_1101_0000;
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

    /// A deterministic pseudo-random grid with dark density `density` / 8.
    fn grid(width: usize, seed: u64, density: u64) -> Vec<bool> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..width * width)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state % 8 < density
            })
            .collect()
    }

    #[test]
    fn the_bit_line_penalty_equals_the_module_by_module_definition() {
        // Every symbol width (versions 1-40), random grids of several densities (sparse
        // grids make long runs and finder-like patterns, dense ones the mirror images).
        for version in 1..=40usize {
            let width = 17 + 4 * version;
            for (seed, density) in [(1, 4), (2, 1), (3, 7), (4, 2), (5, 6)] {
                let dark = grid(width, seed * 1000 + version as u64, density);
                assert_eq!(
                    penalty(&dark, width),
                    penalty_reference(&dark, width),
                    "width {width}, seed {seed}"
                );
            }
            // All light and all dark: one run per line, no finder patterns.
            for colour in [false, true] {
                let dark = vec![colour; width * width];
                assert_eq!(penalty(&dark, width), penalty_reference(&dark, width));
            }
        }
        // Hand-placed finder-like patterns at both ends of a line and in the middle.
        let width = 21;
        let mut dark = vec![false; width * width];
        for row in [0, 10, 20] {
            for (x, &d) in [
                true, false, true, true, true, false, true, false, false, false, false,
            ]
            .iter()
            .enumerate()
            {
                dark[row * width + x] = d;
                dark[row * width + width - 1 - x] = d;
            }
        }
        assert_eq!(penalty(&dark, width), penalty_reference(&dark, width));
    }

    #[test]
    fn every_mask_of_a_real_symbol_scores_as_the_definition_says() {
        let url = format!("http://127.0.0.1:8080/verify#{}", "31415926535".repeat(40));
        let bits = token_bits(&url).expect("bits");
        let version = bits.version();
        let (codewords, ec) =
            construct_codewords(&bits.into_bytes(), version, EC_LEVEL).expect("codewords");
        let width = usize::try_from(version.width()).expect("width");
        let canvas = unmasked(version, &codewords, &ec);
        for pattern in MASKS {
            let dark = masked(&canvas, pattern);
            assert_eq!(penalty(&dark, width), penalty_reference(&dark, width));
        }
    }
}
