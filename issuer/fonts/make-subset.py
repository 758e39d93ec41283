#!/usr/bin/env python3
"""Regenerate NotoSansCJKhk-Regular-subset.otf, the one font the certificate renderer embeds.

Source: Debian `fonts-noto-cjk`, /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc,
face index 4 (Noto Sans CJK HK). SIL Open Font License 1.1 (see OFL.txt).

Coverage: every character of Big5 and of the HKSCS additions (all two-byte sequences decoded
with Python's `big5hkscs`, `big5` and `cp950` codecs), all CJK Unified Ideographs and Extension A
(simplified forms for Simplified Chinese names), Basic Latin, Latin-1 Supplement, Latin
Extended-A/B, IPA extensions and spacing modifiers, combining diacritical marks, Latin Extended
Additional (Vietnamese), general punctuation, letterlike symbols, CJK symbols and punctuation,
halfwidth and fullwidth forms, and the fixed strings the renderer prints itself.

Run (from the repository root):
    .venv/bin/python issuer/fonts/make-subset.py
Needs fontTools (`pip install fonttools`).
"""

import os
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

SRC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FACE = 4  # Noto Sans CJK HK
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "NotoSansCJKhk-Regular-subset.otf")

RANGES = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x017F),  # Latin Extended-A
    (0x0180, 0x024F),  # Latin Extended-B
    (0x0250, 0x02FF),  # IPA extensions, spacing modifier letters
    (0x0300, 0x036F),  # Combining diacritical marks
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x2000, 0x206F),  # General punctuation
    (0x20A0, 0x20CF),  # Currency symbols
    (0x2100, 0x214F),  # Letterlike symbols
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # Halfwidth and fullwidth forms
    # SPEC §2: names may also be in Simplified Chinese. Big5 + HKSCS lack most simplified
    # forms, so the whole CJK Unified Ideographs block (all of GB 2312 and GBK hanzi) and
    # Extension A go in too, as far as the face has them.
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
]

# Strings the renderer prints itself (labels, statements); keep in sync with issuer/src/render.
FIXED_TEXT = (
    "澳門特別行政區政府身份證明局刑事紀錄證明書沒有刑事紀錄（續）"
    "證明書編號姓名（拉丁字母）中文姓名出生日期身份證明文件用途發出日期及時間有效期至"
    "澳門時間發出機關轉交部門紀錄法院案件編號判決日期罪名刑罰電子簽署人簽署時間"
    "本電子證明書與紙本證明書具同等法律效力。澳門特別行政區居民身份證外地僱員身份認別證"
    "護照或其他旅行證件載有以下一項紀錄：核實方法：以手機掃描左方二維碼，或於上載本檔案。"
    "第頁共、。「」『』！？；"
)


def codec_chars():
    chars = set()
    for codec in ("big5hkscs", "big5", "cp950"):
        for lead in range(0x81, 0xFF):
            for trail in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
                try:
                    text = bytes([lead, trail]).decode(codec)
                except UnicodeDecodeError:
                    continue
                chars.update(text)
    return chars


def main():
    font = TTCollection(SRC).fonts[FACE]
    cmap = font.getBestCmap()

    wanted = codec_chars()
    for lo, hi in RANGES:
        wanted.update(chr(c) for c in range(lo, hi + 1))
    wanted.update(FIXED_TEXT)
    wanted = {ord(c) for c in wanted if ord(c) >= 0x20}

    present = sorted(c for c in wanted if c in cmap)
    missing = sorted(c for c in wanted if c not in cmap)
    print(f"wanted {len(wanted)} code points, font has {len(present)}, lacks {len(missing)}")
    if missing:
        print("lacking:", " ".join(f"U+{c:04X}" for c in missing[:80]), "…" if len(missing) > 80 else "")
    fixed_missing = [c for c in FIXED_TEXT if ord(c) not in cmap]
    if fixed_missing:
        sys.exit(f"font lacks fixed text characters: {fixed_missing}")

    options = subset.Options()
    # Only the horizontal shaping the certificate needs: composition/decomposition and mark
    # positioning for Vietnamese and other Latin diacritics, and Latin kerning. The vertical,
    # width-variant, alternates (aalt) and Hangul features are dropped: besides size, shaping
    # engines (rustybuzz in krilla) prepare every lookup of a face each time they open it.
    options.layout_features = ["ccmp", "kern", "mark", "mkmk"]
    options.drop_tables += ["BASE", "VORG", "vhea", "vmtx"]  # horizontal text only
    options.hinting = False  # drop CFF hints
    options.desubroutinize = False  # keep subroutines: smaller file
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.recalc_bounds = True

    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=present)
    subsetter.subset(font)
    font.recalcTimestamp = False  # keep the source's head.modified: reproducible output
    font.save(OUT)
    print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes, {len(font.getGlyphOrder())} glyphs")


if __name__ == "__main__":
    main()
