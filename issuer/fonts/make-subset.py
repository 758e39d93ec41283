#!/usr/bin/env python3
"""Regenerate NotoSansCJKhk-Regular-subset.otf, the one font the certificate renderer embeds.

Source: Debian `fonts-noto-cjk`, /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc,
face index 4 (Noto Sans CJK HK). SIL Open Font License 1.1 (see OFL.txt).

Coverage: every character of Big5 and of the HKSCS additions (all two-byte sequences decoded
with Python's `big5hkscs`, `big5` and `cp950` codecs), Basic Latin, Latin-1 Supplement, Latin
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
]

# Strings the renderer prints itself (labels, statements); keep in sync with issuer/src/render.
FIXED_TEXT = (
    "澳門特別行政區政府身份證明局刑事紀錄證明書沒有刑事紀錄"
    "證明書編號持有人姓名中文拉丁出生日期身份證明文件類別號碼用途紀錄"
    "法院案件編號判決日期罪名刑罰發出時間有效期至發出機關轉交部門"
    "核實掃描二維碼或前往本證明書以電子方式簽署簽署人澳門時間"
    "居民身份證非本地勞工身份認別證護照無頁第共"
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
    font.save(OUT)
    print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes, {len(font.getGlyphOrder())} glyphs")


if __name__ == "__main__":
    main()
