"""The invite poster: Chinese text really renders, the QR carries the link, the cache keys on
(code, program version) and what the poster shows."""

from __future__ import annotations

import string
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from models import demo_people
from models.demo_programs import DEFAULT_PROGRAM, DEFAULT_TEMPLATES, VIP_PROGRAM
from models.referral.poster import (
    HEIGHT,
    TEMPLATE_TEXTS,
    WIDTH,
    PosterCache,
    PosterContent,
    poster_content,
    render_poster,
    wrap_text,
)
from models.referral.poster_font import cjk_font, missing_glyphs

CONTENT = PosterContent(
    link="https://fission.example.com/r/K7QM3XWP",
    title="邀请好友 一起省钱",
    offer_text="好友首单立减 20 元，你也得 20 元优惠券；邀满 3 人再送 50 元！",
    inviter_name="张*",
)


def _gb2312_hanzi() -> str:
    """All 6,763 hanzi of GB2312 (rows 0xB0–0xF7), the everyday simplified character set."""
    chars = []
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


def test_font_draws_chinese_not_boxes() -> None:
    font = cjk_font(32)
    box = font.getmask("\U000f0000")  # a private-use character: no font maps it
    zhong = font.getmask("中")
    assert zhong.getbbox() is not None
    assert bytes(zhong) != bytes(box)
    assert missing_glyphs("中", font) == set()
    # The comparison does find a missing glyph when there is one.
    assert missing_glyphs("中\U000f0001", font) == {"\U000f0001"}


def test_font_covers_every_gb2312_hanzi() -> None:
    hanzi = _gb2312_hanzi()
    assert len(hanzi) == 6763
    assert missing_glyphs(hanzi, cjk_font(12)) == set()


def test_font_is_the_simplified_chinese_face() -> None:
    assert cjk_font(20).getname()[0] == "Noto Sans CJK SC"


def _demo_texts() -> str:
    """What the demo puts on posters: its programmes, coupon names and people (as inviters)."""
    texts = [p.title + p.offer_text + p.name for p in (DEFAULT_PROGRAM, VIP_PROGRAM)]
    texts += [t.name for t in DEFAULT_TEMPLATES]
    texts += [name for name, _ in demo_people.SURNAMES] + [demo_people.GIVEN_CHARS]
    texts += [name for name, _ in demo_people.STAFF]
    return "".join(texts)


@pytest.mark.parametrize("weight", ["Regular", "Medium", "Bold"])
def test_every_character_of_the_templates_and_the_demo_has_a_glyph(weight: str) -> None:
    text = "".join(TEMPLATE_TEXTS) + _demo_texts() + "*¥￥%0123456789" + string.printable
    assert missing_glyphs(text, cjk_font(30, weight)) == set()
    # Punctuation in both widths and the marks a shop writes in an offer.
    marks = "，。、；：？！（）【】《》「」“”‘’…—·～﹏－＋＝％＆™→①▶✓"
    assert missing_glyphs(marks, cjk_font(30, weight)) == set()


def test_the_font_draws_the_three_weights_the_poster_uses() -> None:
    ink = {w: sum(cjk_font(40, w).getmask("福")) for w in ("Regular", "Medium", "Bold")}
    assert ink["Regular"] < ink["Medium"] < ink["Bold"]


def test_poster_is_a_png_of_the_phone_poster_size() -> None:
    png = render_poster(CONTENT)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(BytesIO(png))
    assert image.size == (WIDTH, HEIGHT)


def test_the_poster_qr_scans_to_the_invite_link() -> None:
    image = Image.open(BytesIO(render_poster(CONTENT)))
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [CONTENT.link]


def test_every_character_on_a_poster_has_a_glyph() -> None:
    text = CONTENT.title + CONTENT.offer_text + CONTENT.inviter_name + "长按识别二维码领取专属福利"
    assert missing_glyphs(text) == set()


def test_the_inviter_name_changes_the_picture() -> None:
    other = PosterContent(CONTENT.link, CONTENT.title, CONTENT.offer_text, "李*")
    assert render_poster(CONTENT) != render_poster(other)


def test_poster_content_masks_the_inviter_when_configured() -> None:
    masked = poster_content(
        public_base_url="https://x.example/",
        code="K7QM3XWP",
        title="t",
        offer_text="o",
        inviter_name="张三丰",
        mask_names=True,
    )
    assert masked.inviter_name == "张**"
    assert masked.link == "https://x.example/r/K7QM3XWP"
    plain = poster_content(
        public_base_url="https://x.example",
        code="K7QM3XWP",
        title="t",
        offer_text="o",
        inviter_name="张三丰",
        mask_names=False,
    )
    assert plain.inviter_name == "张三丰"


def test_wrap_keeps_numbers_whole_and_punctuation_off_line_starts() -> None:
    font = cjk_font(34)
    text = "好友通过你的链接首次下单满 100 元立减 30 元，你将获得 30 元无门槛优惠券。"
    width = int(font.getlength("好友通过你的链接首次下单满 100"))
    lines = wrap_text(text, font, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert font.getlength(line) <= width + font.getlength("，")
        assert line[0] not in "，。、"
    assert all(not line.startswith(("0", "00")) for line in lines)
    assert any("100" in line for line in lines)
    assert any("30 元" in line or line.startswith("30") for line in lines)


def test_long_titles_are_cut_with_an_ellipsis() -> None:
    long = PosterContent(CONTENT.link, "春季裂变大促" * 10, "满减" * 200, "张*")
    image = Image.open(BytesIO(render_poster(long)))
    assert image.size == (WIDTH, HEIGHT)


def test_cache_renders_once_per_code_and_version(tmp_path: Path) -> None:
    cache = PosterCache(tmp_path)
    first = cache.get_or_render("K7QM3XWP", 1, CONTENT)
    path = cache.path_for("K7QM3XWP", 1, CONTENT)
    assert path.read_bytes() == first
    # A cached file is served as it is, without drawing again.
    path.write_bytes(b"cached")
    assert cache.get_or_render("K7QM3XWP", 1, CONTENT) == b"cached"
    # A new program version draws anew and drops the old file.
    second = cache.get_or_render("K7QM3XWP", 2, CONTENT)
    assert second.startswith(b"\x89PNG")
    assert not path.exists()
    assert [p.name for p in (tmp_path / "K7QM3XWP").iterdir()] == [
        cache.path_for("K7QM3XWP", 2, CONTENT).name
    ]


def test_cache_refuses_a_code_that_is_not_a_path_segment(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PosterCache(tmp_path).path_for("../etc", 1, CONTENT)
