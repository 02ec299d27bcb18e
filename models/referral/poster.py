"""The invite poster: a PNG with the program's title, the offer, the inviter and a QR of the link.

Pure rendering (data in, PNG bytes out) plus a small on-disk cache. The text is set in the
font of models/referral/poster_font.py: the Noto Sans SC shipped with the project, or the
shop's own (`poster_font`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from config import Settings
from models.masking import mask_name
from models.referral.codes import referral_link
from models.referral.poster_font import cjk_font

WIDTH, HEIGHT = 750, 1334  # the usual phone-screen poster, 2× of 375 × 667
_MARGIN = 56
_CARD_TOP = 560
_QR_SIZE = 420
_RED = (214, 48, 49)
_ORANGE = (255, 118, 57)
_CREAM = (255, 244, 230)
_INK = (51, 51, 51)
_GREY = (136, 136, 136)
_WHITE = (255, 255, 255)
# Characters that must not begin a line (Chinese line-breaking rules, 避头尾).
# Unbreakable pieces: a Latin word or number, a run of spaces, or any other single character.
_TOKENS = re.compile(r"[A-Za-z0-9¥￥$%.,:/+\-]+|\s+|.")
_RENDER_LOCK = threading.Lock()
_SAFE_CODE = re.compile(r"[A-Za-z0-9]{1,16}")
_NO_LINE_START = set("，。、；：？！）》」』】〉”’…—,.;:?!)]}%")
# The poster's own words around the program's title and offer; the font must have every one.
INVITED_BY = "{name} 邀请你"
INVITED_BY_A_FRIEND = "好友邀请你"
DEFAULT_OFFER = "扫码加入，领取好友专享福利"
SCAN_HINT = "长按识别二维码 · 领取专属福利"
LINK_HINT = "或复制链接在微信中打开"
FOOTER = "好友同享 · 邀请越多 奖励越多"
ELLIPSIS = "…"
TEMPLATE_TEXTS = (
    INVITED_BY,
    INVITED_BY_A_FRIEND,
    DEFAULT_OFFER,
    SCAN_HINT,
    LINK_HINT,
    FOOTER,
    ELLIPSIS,
)


@dataclass(frozen=True)
class PosterContent:
    """Everything a poster shows. `inviter_name` is shown as given: mask it before."""

    link: str
    title: str
    offer_text: str
    inviter_name: str
    # The font file the text is set in (`poster_font`); None: the one shipped with the project.
    font: Path | None = None

    def digest(self) -> str:
        parts = [self.link, self.title, self.offer_text, self.inviter_name]
        if self.font is not None:  # without one, posters cached by earlier versions stay valid
            parts.append(str(self.font))
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]


def poster_content(
    *,
    public_base_url: str,
    code: str,
    title: str,
    offer_text: str,
    inviter_name: str | None,
    mask_names: bool,
    font: Path | None = None,
) -> PosterContent:
    """What the poster of `code` shows; the one place that builds the link and masks the name,
    for the landing page's poster route and the chat `/invite` command alike."""
    name = (mask_name(inviter_name) if mask_names else (inviter_name or "").strip()) or ""
    return PosterContent(
        link=referral_link(public_base_url, code),
        title=title,
        offer_text=offer_text,
        inviter_name=name,
        font=font,
    )


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Break `text` into lines no wider than `max_width` px.

    Chinese breaks between any two characters; a run of Latin letters and digits (`100`,
    `VIP`, `¥20.5`) stays whole; closing punctuation never starts a line (避头尾), the
    previous character comes down with it instead. Explicit newlines are kept.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        tokens: list[str] = []
        for token in _TOKENS.findall(paragraph.strip()):
            # A "word" wider than a whole line (a long URL) has to break somewhere.
            too_wide = len(token) > 1 and font.getlength(token) > max_width
            tokens.extend(token if too_wide else [token])
        for token in tokens:
            if not line and token.isspace():
                continue
            if not line or font.getlength(line + token) <= max_width:
                line += token
            elif token[0] in _NO_LINE_START and len(line) > 1:
                lines.append(line[:-1])
                line = line[-1] + token
            else:
                lines.append(line.rstrip())
                line = "" if token.isspace() else token
        lines.append(line.rstrip())
    return [line for line in lines if line] or [""]


def balanced_wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """`wrap_text` with lines of even length: the narrowest width that needs no more lines than
    `max_width` does, so a title never ends on a lone character (a 孤字 on its own line)."""
    lines = wrap_text(text, font, max_width)
    if len(lines) < 2:
        return lines
    low, high = max_width // len(lines), max_width
    while high - low > 4:
        middle = (low + high) // 2
        if len(wrap_text(text, font, middle)) <= len(lines):
            high = middle
        else:
            low = middle
    return wrap_text(text, font, high)


def _fit(text: str, font: ImageFont.FreeTypeFont, width: int, limit: int) -> list[str]:
    """At most `limit` lines: balanced when the text fits, else cut with an ellipsis."""
    lines = wrap_text(text, font, width)
    if len(lines) <= limit:
        return balanced_wrap(text, font, width)
    last = lines[limit - 1]
    while last and font.getlength(last + ELLIPSIS) > width:
        last = last[:-1]
    return [*lines[: limit - 1], last + ELLIPSIS]


def _qr_image(link: str, size: int) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=10)
    qr.add_data(link)
    qr.make(fit=True)
    image: Image.Image = qr.make_image(fill_color="black", back_color="white").get_image()
    image = image.convert("RGB")
    # Nearest-neighbour keeps the modules crisp, which phone cameras need.
    return image.resize((size, size), Image.Resampling.NEAREST)


def _background() -> Image.Image:
    """A vertical red → orange gradient, the colours of a 红包 (red packet)."""
    column = Image.new("RGB", (1, HEIGHT))
    for y in range(HEIGHT):
        t = y / (HEIGHT - 1)
        column.putpixel(
            (0, y), tuple(round(a + (b - a) * t) for a, b in zip(_RED, _ORANGE, strict=True))
        )
    return column.resize((WIDTH, HEIGHT))


def _centered(
    draw: ImageDraw.ImageDraw,
    y: int,
    text: str,
    font: ImageFont.FreeTypeFont,
    fill: tuple[int, int, int],
) -> None:
    draw.text((WIDTH // 2, y), text, font=font, fill=fill, anchor="mt")


def render_poster(content: PosterContent) -> bytes:
    """The poster as PNG bytes. Long titles and offers wrap and are cut with an ellipsis.

    Thread-safe: callers render in worker threads, and the cached FreeType faces must not be
    used by two threads at once, so renders take turns (they are rare: posters are cached)."""
    with _RENDER_LOCK:
        return _render(content)


def _render(content: PosterContent) -> bytes:
    image = _background()
    draw = ImageDraw.Draw(image)
    text_width = WIDTH - 2 * _MARGIN

    def font(size: int, weight: str = "Regular") -> ImageFont.FreeTypeFont:
        return cjk_font(size, weight, content.font)

    name = content.inviter_name
    inviter = INVITED_BY.format(name=name) if name else INVITED_BY_A_FRIEND
    _centered(draw, 72, inviter, font(30), _CREAM)

    title_font = font(60, "Bold")
    title_lines = _fit(content.title, title_font, text_width, 2)
    y = 140
    for line in title_lines:
        _centered(draw, y, line, title_font, _WHITE)
        y += 80

    offer_font = font(34, "Medium")
    offer = content.offer_text or DEFAULT_OFFER
    offer_lines = _fit(offer, offer_font, text_width, 4)
    y = max(y + 24, 320)
    for line in offer_lines[: max(1, (_CARD_TOP - 40 - y) // 48)]:
        _centered(draw, y, line, offer_font, _CREAM)
        y += 48

    card = (_MARGIN, _CARD_TOP, WIDTH - _MARGIN, HEIGHT - 96)
    draw.rounded_rectangle(card, radius=28, fill=_WHITE)
    qr_top = _CARD_TOP + 56
    image.paste(_qr_image(content.link, _QR_SIZE), ((WIDTH - _QR_SIZE) // 2, qr_top))
    y = qr_top + _QR_SIZE + 36
    _centered(draw, y, SCAN_HINT, font(32, "Medium"), _INK)
    _centered(draw, y + 56, LINK_HINT, font(24), _GREY)
    _centered(draw, y + 96, content.link, font(22), _GREY)

    _centered(draw, HEIGHT - 68, FOOTER, font(26), _CREAM)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class PosterCache:
    """Rendered posters on disk: `<dir>/<code>/v<program version>-<content digest>.png`.

    The program version makes an edited offer or title draw anew; the digest covers what else a
    poster shows (the inviter's name, the link's base URL, masking on or off). Writing a new file
    removes the code's older ones. Files are written to a temporary name and renamed, so
    concurrent readers and writers (several processes) never see half a PNG.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def for_settings(cls, settings: Settings) -> PosterCache:
        return cls(settings.state_dir / "posters")

    def path_for(self, code: str, version: int, content: PosterContent) -> Path:
        if not _SAFE_CODE.fullmatch(code):
            raise ValueError(f"not a referral code: {code!r}")
        return self.directory / code / f"v{version}-{content.digest()}.png"

    def get_or_render(self, code: str, version: int, content: PosterContent) -> bytes:
        """Blocking (file I/O and rendering): call it off the event loop."""
        path = self.path_for(code, version, content)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        png = render_poster(content)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(png)
        os.replace(tmp, path)
        for old in path.parent.glob("v*.png"):
            if old != path:
                old.unlink(missing_ok=True)
        return png
