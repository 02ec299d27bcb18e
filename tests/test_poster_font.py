"""The shipped subset of Noto Sans SC (models/referral/fonts) draws exactly what the full Noto
Sans CJK collection draws: the same posters, pixel for pixel, and the same glyph for every
character it keeps."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import models.referral.poster as poster
from config.referral import ProgramConfig
from models.demo_programs import DEFAULT_PROGRAM, VIP_PROGRAM
from models.referral.poster import cjk_font, missing_glyphs, poster_content, render_poster

SUBSET = Path(poster.__file__).parent / "fonts" / "NotoSansSC-Subset.otf"
# What tools/build_poster_font.py keeps besides GB2312.
RANGES = (
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x2000, 0x206F),
    (0x2100, 0x21FF),
    (0x2460, 0x24FF),
    (0x25A0, 0x27BF),
    (0x3000, 0x303F),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
)


def _kept() -> str:
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    chars |= {chr(point) for low, high in RANGES for point in range(low, high + 1)}
    drawn = chars - missing_glyphs("".join(chars), cjk_font(34))
    return "".join(sorted(char for char in drawn if not char.isspace()))


@pytest.mark.parametrize("program", [DEFAULT_PROGRAM, VIP_PROGRAM], ids=lambda p: p.key)
@pytest.mark.parametrize("inviter", ["张*", "Lily W.", ""])
def test_a_poster_is_the_same_picture_in_the_subset(program: ProgramConfig, inviter: str) -> None:
    content = poster_content(
        public_base_url="https://fission.example.com",
        code="K7QM3XWP",
        title=program.title,
        offer_text=program.offer_text,
        inviter_name=inviter,
        mask_names=False,
    )
    assert render_poster(replace(content, font=SUBSET)) == render_poster(content)


@pytest.mark.parametrize("weight", ["Regular", "Medium", "Bold"])
def test_every_character_kept_draws_as_in_the_full_font(weight: str) -> None:
    full, subset = cjk_font(34, weight), cjk_font(34, weight, SUBSET)
    kept = _kept()
    assert len(kept) > 8000
    differ = [
        char
        for char in kept
        if bytes(full.getmask(char)) != bytes(subset.getmask(char))
        or full.getlength(char) != subset.getlength(char)
    ]
    assert differ == []
    # Runs of text, where layout features (kerning, localized digits) apply, too.
    for text in (DEFAULT_PROGRAM.offer_text, VIP_PROGRAM.offer_text, "¥20.5 VIP 100% K7QM3XWP"):
        assert bytes(full.getmask(text)) == bytes(subset.getmask(text))
