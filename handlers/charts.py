"""Small PNG charts for chat replies (data in, PNG bytes out; CPU only, run off the loop).

Text uses the Noto Sans SC shipped for posters (models/referral/poster_font.py), so Chinese
labels never turn into empty boxes on a host without Chinese fonts.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from PIL import Image, ImageDraw

from models.referral.poster_font import cjk_font

_WIDTH = 720
_ROW = 78
_TOP = 96
_LEFT = 150
_RIGHT = 40
_BARS = ((214, 48, 49), (240, 90, 50), (255, 140, 60), (255, 186, 90), (255, 214, 140))
_INK = (51, 51, 51)
_GREY = (136, 136, 136)


def funnel_chart(title: str, steps: Sequence[tuple[str, int]], rates: Sequence[str]) -> bytes:
    """A horizontal funnel: one centred bar per step, widths proportional to the counts.

    `rates[i]` is printed between step i and i+1 (e.g. "转化 35.0%"); pass "" to leave it out.
    """
    height = _TOP + _ROW * len(steps) + 30
    image = Image.new("RGB", (_WIDTH, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((_WIDTH // 2, 28), title, font=cjk_font(30, "Bold"), fill=_INK, anchor="mt")
    biggest = max((count for _, count in steps), default=0) or 1
    span = _WIDTH - _LEFT - _RIGHT
    label_font, count_font, rate_font = cjk_font(24, "Medium"), cjk_font(24, "Bold"), cjk_font(18)
    for i, (label, count) in enumerate(steps):
        top = _TOP + i * _ROW
        width = max(6, round(span * count / biggest))
        left = _LEFT + (span - width) // 2
        colour = _BARS[min(i, len(_BARS) - 1)]
        draw.rounded_rectangle((left, top, left + width, top + 44), radius=8, fill=colour)
        draw.text((_LEFT - 16, top + 22), label, font=label_font, fill=_INK, anchor="rm")
        text_colour = (255, 255, 255) if width > 90 else _INK
        centre = left + width // 2 if width > 90 else left + width + 12
        anchor = "mm" if width > 90 else "lm"
        draw.text(
            (centre, top + 22), f"{count:,}", font=count_font, fill=text_colour, anchor=anchor
        )
        if i < len(rates) and rates[i] and i + 1 < len(steps):
            draw.text(
                (_LEFT + span // 2, top + 60), rates[i], font=rate_font, fill=_GREY, anchor="mm"
            )
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
