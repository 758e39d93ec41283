//! The one shipped font: Noto Sans CJK HK, subset to Big5 + HKSCS + CJK Unified Ideographs +
//! Latin (see `issuer/fonts/`).
//!
//! krilla embeds and subsets the font; it does not expose glyph coverage or advances, so this
//! module reads the few OpenType tables needed for that (`cmap`, `hmtx`, `hhea`, `head`): they
//! decide coverage ([`FontMetrics::covers`]) and line widths for layout.

use std::collections::HashMap;
use std::sync::OnceLock;

use krilla::text::Font;

/// The subset font, embedded in the binary (SIL Open Font License 1.1, `issuer/fonts/OFL.txt`).
pub(crate) static FONT_BYTES: &[u8] =
    include_bytes!("../../../fonts/NotoSansCJKhk-Regular-subset.otf");

/// The font parsed once for krilla and for measuring.
#[derive(Clone)]
pub(crate) struct LoadedFont {
    pub(crate) font: Font,
    pub(crate) metrics: &'static FontMetrics,
}

impl std::fmt::Debug for LoadedFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedFont")
            .field("bytes", &FONT_BYTES.len())
            .field("mapped_chars", &self.metrics.cmap.len())
            .finish()
    }
}

static LOADED: OnceLock<Result<(Font, FontMetrics), String>> = OnceLock::new();

/// Parses the shipped font, once per process.
pub(crate) fn load() -> Result<LoadedFont, String> {
    let loaded = LOADED.get_or_init(|| {
        let metrics = FontMetrics::parse(FONT_BYTES)?;
        let font = Font::new(FONT_BYTES.into(), 0)
            .ok_or_else(|| "krilla cannot read the shipped font".to_owned())?;
        Ok((font, metrics))
    });
    match loaded {
        Ok((font, metrics)) => Ok(LoadedFont {
            font: font.clone(),
            metrics,
        }),
        Err(e) => Err(e.clone()),
    }
}

/// Coverage and horizontal advances of a font.
#[derive(Debug)]
pub(crate) struct FontMetrics {
    units_per_em: f32,
    /// Unicode scalar value → glyph id.
    cmap: HashMap<u32, u16>,
    /// Advance width per glyph id, in font units.
    advances: Vec<u16>,
}

impl FontMetrics {
    /// Whether the font maps `c` to a real glyph.
    pub(crate) fn covers(&self, c: char) -> bool {
        self.cmap.get(&u32::from(c)).is_some_and(|&gid| gid != 0)
    }

    /// The width of `text` at `size` points (advances only, no kerning).
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size
    }

    /// The advance of one character, in em.
    pub(crate) fn advance(&self, c: char) -> f32 {
        let Some(&gid) = self.cmap.get(&u32::from(c)) else {
            return 0.5;
        };
        let units = self
            .advances
            .get(usize::from(gid))
            .or_else(|| self.advances.last())
            .copied()
            .unwrap_or(0);
        f32::from(units) / self.units_per_em
    }

    /// Reads `head`, `hhea`, `maxp`, `hmtx` and `cmap` (format 12, else format 4).
    pub(crate) fn parse(data: &[u8]) -> Result<Self, String> {
        let tables = TableDirectory::parse(data)?;
        let head = tables.get(data, b"head")?;
        let units_per_em = f32::from(be_u16(head, 18)?);
        if units_per_em < 16.0 {
            return Err("font head table: bad unitsPerEm".to_owned());
        }
        let hhea = tables.get(data, b"hhea")?;
        let num_h_metrics = usize::from(be_u16(hhea, 34)?);
        let maxp = tables.get(data, b"maxp")?;
        let num_glyphs = usize::from(be_u16(maxp, 4)?);
        let hmtx = tables.get(data, b"hmtx")?;
        let mut advances = Vec::with_capacity(num_glyphs);
        let mut last = 0;
        for gid in 0..num_glyphs {
            if gid < num_h_metrics {
                last = be_u16(hmtx, gid * 4)?;
            }
            advances.push(last);
        }
        let cmap = parse_cmap(tables.get(data, b"cmap")?, num_glyphs)?;
        Ok(Self {
            units_per_em,
            cmap,
            advances,
        })
    }
}

struct TableDirectory {
    records: Vec<([u8; 4], usize, usize)>,
}

impl TableDirectory {
    fn parse(data: &[u8]) -> Result<Self, String> {
        let version = be_u32(data, 0)?;
        if version != 0x4F54_544F && version != 0x0001_0000 {
            return Err("not an OpenType font (expected OTTO or 0x00010000)".to_owned());
        }
        let count = usize::from(be_u16(data, 4)?);
        let mut records = Vec::with_capacity(count);
        for i in 0..count {
            let at = 12 + i * 16;
            let tag = slice(data, at, 4)?;
            let offset = usize::try_from(be_u32(data, at + 8)?).map_err(|e| e.to_string())?;
            let length = usize::try_from(be_u32(data, at + 12)?).map_err(|e| e.to_string())?;
            records.push(([tag[0], tag[1], tag[2], tag[3]], offset, length));
        }
        Ok(Self { records })
    }

    fn get<'a>(&self, data: &'a [u8], tag: &[u8; 4]) -> Result<&'a [u8], String> {
        let (_, offset, length) = self
            .records
            .iter()
            .find(|(t, _, _)| t == tag)
            .ok_or_else(|| format!("font has no {} table", String::from_utf8_lossy(tag)))?;
        slice(data, *offset, *length)
    }
}

fn parse_cmap(cmap: &[u8], num_glyphs: usize) -> Result<HashMap<u32, u16>, String> {
    let count = usize::from(be_u16(cmap, 2)?);
    let mut format12 = None;
    let mut format4 = None;
    for i in 0..count {
        let at = 4 + i * 8;
        let platform = be_u16(cmap, at)?;
        let encoding = be_u16(cmap, at + 2)?;
        let offset = usize::try_from(be_u32(cmap, at + 4)?).map_err(|e| e.to_string())?;
        let format = be_u16(cmap, offset)?;
        let unicode = platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10));
        if unicode && format == 12 {
            format12.get_or_insert(offset);
        } else if unicode && format == 4 {
            format4.get_or_insert(offset);
        }
    }
    let mut map = HashMap::new();
    if let Some(offset) = format12 {
        let groups = usize::try_from(be_u32(cmap, offset + 12)?).map_err(|e| e.to_string())?;
        for g in 0..groups {
            let at = offset + 16 + g * 12;
            let start = be_u32(cmap, at)?;
            let end = be_u32(cmap, at + 4)?;
            let first = be_u32(cmap, at + 8)?;
            if end < start || end > 0x10_FFFF {
                return Err("font cmap: bad format 12 group".to_owned());
            }
            for (k, cp) in (start..=end).enumerate() {
                let gid = u64::from(first) + k as u64;
                if let Ok(gid) = u16::try_from(gid)
                    && usize::from(gid) < num_glyphs
                {
                    map.insert(cp, gid);
                }
            }
        }
    } else if let Some(offset) = format4 {
        let seg_count = usize::from(be_u16(cmap, offset + 6)? / 2);
        let ends = offset + 14;
        let starts = ends + seg_count * 2 + 2;
        let deltas = starts + seg_count * 2;
        let range_offsets = deltas + seg_count * 2;
        for s in 0..seg_count {
            let end = be_u16(cmap, ends + s * 2)?;
            let start = be_u16(cmap, starts + s * 2)?;
            let delta = be_u16(cmap, deltas + s * 2)?;
            let range_offset = usize::from(be_u16(cmap, range_offsets + s * 2)?);
            if start > end || start == 0xFFFF {
                continue;
            }
            for cp in start..=end {
                let gid = if range_offset == 0 {
                    cp.wrapping_add(delta)
                } else {
                    let at = range_offsets + s * 2 + range_offset + usize::from(cp - start) * 2;
                    match be_u16(cmap, at)? {
                        0 => 0,
                        g => g.wrapping_add(delta),
                    }
                };
                if gid != 0 && usize::from(gid) < num_glyphs {
                    map.insert(u32::from(cp), gid);
                }
            }
        }
    } else {
        return Err("font has no Unicode cmap subtable (format 4 or 12)".to_owned());
    }
    Ok(map)
}

fn slice(data: &[u8], at: usize, len: usize) -> Result<&[u8], String> {
    at.checked_add(len)
        .and_then(|end| data.get(at..end))
        .ok_or_else(|| format!("font truncated at offset {at}"))
}

fn be_u16(data: &[u8], at: usize) -> Result<u16, String> {
    let b = slice(data, at, 2)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn be_u32(data: &[u8], at: usize) -> Result<u32, String> {
    let b = slice(data, at, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
