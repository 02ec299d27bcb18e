"""The font posters and chat charts are drawn in.

By default the subset of Noto Sans CJK SC shipped in `models/referral/fonts/` (all of GB2312,
ASCII, the punctuation, symbols and full-width forms shops write, in every weight; SIL Open Font
License 1.1, `fonts/OFL.txt`; rebuilt by `tools/build_poster_font.py`), so a poster never
depends on what fonts the host has.
A shop sets `poster_font` to draw its posters in its brand font instead: a variable font's named
instances Regular, Medium and Bold are used where it has them, a font of one weight is used for
all the text. `missing_glyphs` tells which characters a font would draw as empty boxes (豆腐块).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from PIL import ImageFont

DEFAULT_FONT_FILE = "NotoSansSC-Subset.otf"


def default_font_path() -> Path:
    return Path(str(resources.files("models.referral") / "fonts" / DEFAULT_FONT_FILE))


@lru_cache(maxsize=32)
def cjk_font(
    size: int, weight: str = "Regular", path: Path | None = None
) -> ImageFont.FreeTypeFont:
    """The font of `path` (None: the shipped Noto Sans SC) at `size` px in `weight`."""
    font = ImageFont.truetype(str(path or default_font_path()), size)
    try:
        names = font.get_variation_names()
    except OSError:  # a font of one weight
        return font
    if weight.encode() in names:
        font.set_variation_by_name(weight)
    return font


def _glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    mask = font.getmask(char)
    return bytes(mask.size) + bytes(mask)


def missing_glyphs(text: str, font: ImageFont.FreeTypeFont | None = None) -> set[str]:
    """Characters of `text` the font lacks: they would render as the .notdef box (豆腐块).

    A character is missing when it draws exactly like a code point no font maps (a private-use
    plane character) — the same comparison a person makes by looking for boxes.
    """
    font = font or cjk_font(32)
    notdef = _glyph_bitmap(font, "\U000f0000")
    return {
        char for char in set(text) if not char.isspace() and _glyph_bitmap(font, char) == notdef
    }
