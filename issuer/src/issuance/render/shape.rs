//! Text shaping with the shipped font: the face parsed once per process, and the shaped runs
//! of recently printed strings kept.
//!
//! krilla's `Surface::draw_text` re-parses the font for every string it shapes (for a CFF
//! font that is the whole charset, a third of a millisecond per page) and shapes the same
//! static labels again for every certificate. This module shapes exactly as krilla's
//! `draw_text` does (rustybuzz, no features, segment properties guessed, left to right;
//! glyph metrics in em), so the page's bytes are unchanged, and hands the glyphs to
//! `Surface::draw_glyphs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use krilla::text::{GlyphId, KrillaGlyph};
use rustybuzz::{Direction, Face, UnicodeBuffer};

use super::fonts::FONT_BYTES;

/// Shaped strings kept at most. One certificate prints about 60 distinct strings, most of them
/// the same labels on every page; when the cache is full it starts over, so memory stays
/// bounded whatever names pass through.
pub(crate) const MAX_CACHED_RUNS: usize = 1024;

/// The shipped font's face and the runs shaped with it.
pub(crate) struct Shaper {
    face: Face<'static>,
    units_per_em: f32,
    /// Shaped runs by their text. The text is the whole key: there is one font, shaped
    /// without variations or features, always left to right, and the glyphs' metrics are in
    /// em (independent of the size).
    cache: Mutex<HashMap<String, Arc<[KrillaGlyph]>>>,
}

impl std::fmt::Debug for Shaper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shaper")
            .field("cached_runs", &self.cached_runs())
            .finish_non_exhaustive()
    }
}

static SHAPER: OnceLock<Result<Shaper, String>> = OnceLock::new();

/// The process's shaper for the shipped font.
pub(crate) fn shaper() -> Result<&'static Shaper, String> {
    SHAPER
        .get_or_init(|| Shaper::new(FONT_BYTES))
        .as_ref()
        .map_err(Clone::clone)
}

impl Shaper {
    fn new(font: &'static [u8]) -> Result<Self, String> {
        let face =
            Face::from_slice(font, 0).ok_or_else(|| "rustybuzz cannot read the font".to_owned())?;
        let units_per_em = f32::from(u16::try_from(face.units_per_em()).unwrap_or(0));
        if units_per_em < 16.0 {
            return Err("font head table: bad unitsPerEm".to_owned());
        }
        Ok(Self {
            face,
            units_per_em,
            cache: Mutex::default(),
        })
    }

    /// The glyphs of `text`, from the cache or shaped now.
    pub(crate) fn glyphs(&self, text: &str) -> Arc<[KrillaGlyph]> {
        if let Some(run) = self.lock().get(text) {
            return Arc::clone(run);
        }
        let run: Arc<[KrillaGlyph]> = self.shape(text).into();
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED_RUNS {
            cache.clear();
        }
        cache.insert(text.to_owned(), Arc::clone(&run));
        run
    }

    /// How many runs are cached.
    pub(crate) fn cached_runs(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<[KrillaGlyph]>>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Shapes `text` as krilla's `naive_shape` does for a left-to-right run.
    pub(crate) fn shape(&self, text: &str) -> Vec<KrillaGlyph> {
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        buffer.set_direction(Direction::LeftToRight);
        let output = rustybuzz::shape(&self.face, &[], buffer);
        let positions = output.glyph_positions();
        let infos = output.glyph_infos();
        let em = self.units_per_em;
        let mut glyphs = Vec::with_capacity(infos.len());
        for (i, (info, pos)) in infos.iter().zip(positions).enumerate() {
            // A cluster's text ends where the next glyph of another cluster starts.
            let start = info.cluster as usize;
            let end = infos
                .get(i + 1..)
                .and_then(|rest| rest.iter().find(|next| next.cluster != info.cluster))
                .map_or(text.len(), |next| next.cluster as usize);
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                pos.x_advance as f32 / em,
                pos.x_offset as f32 / em,
                pos.y_offset as f32 / em,
                pos.y_advance as f32 / em,
                start..end,
                None,
            ));
        }
        glyphs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advances(glyphs: &[KrillaGlyph]) -> Vec<(u16, i64)> {
        use krilla::text::Glyph as _;
        glyphs
            .iter()
            .map(|g| {
                (
                    g.glyph_id().to_u32() as u16,
                    (g.x_advance(1.0) * 1_000.0).round() as i64,
                )
            })
            .collect()
    }

    #[test]
    fn the_run_cache_stays_bounded_and_gives_what_shaping_gives() {
        // A shaper of its own, so that other tests' runs do not count.
        let shaper = Shaper::new(FONT_BYTES).expect("the shipped font");
        let label = "刑事紀錄證明書 Certificado de Registo Criminal";
        let first = shaper.glyphs(label);
        for i in 0..(3 * MAX_CACHED_RUNS + 7) {
            let text = format!("CHAN TAI MAN {i} 陳大文");
            let cached = shaper.glyphs(&text);
            assert!(
                shaper.cached_runs() <= MAX_CACHED_RUNS,
                "{} runs",
                shaper.cached_runs()
            );
            assert_eq!(advances(&cached), advances(&shaper.shape(&text)), "{text}");
        }
        // A label shaped again after the cache started over is the same.
        assert_eq!(advances(&shaper.glyphs(label)), advances(&first));
        assert!(shaper.cached_runs() >= 1);
    }
}
