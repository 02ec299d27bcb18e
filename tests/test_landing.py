"""GET /r/{code}: a click counted once per visitor per day, the attribution cookie, a Chinese
mobile page with the offer and how to join, and a friendly 404 for dead links."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import zxingcpp
from api_support import NOW, Clock, inviter_with_code, web_client
from PIL import Image
from sqlalchemy import func, select, update

from models.db import Database
from models.referral.tables import ReferralClick, ReferralProgram

PHONE = {"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0"}
BRAND_FONT = Path(__file__).parent / "data" / "fonts" / "brand-static.otf"


async def _clicks(db: Database) -> list[ReferralClick]:
    async with db.uow() as uow:
        rows = await uow.session.execute(select(ReferralClick).order_by(ReferralClick.id))
        return list(rows.scalars())


async def test_a_click_counts_once_per_visitor_per_local_day(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    clock = Clock()
    async with web_client(db, tmp_path, clock) as client:
        for _ in range(3):
            assert (await client.get(f"/r/{code}", headers=PHONE)).status == 200
        other = {"User-Agent": "Mozilla/5.0 (Android) MicroMessenger/8.0"}
        assert (await client.get(f"/r/{code}", headers=other)).status == 200
        # 23:59 the same day in Shanghai is still the same day …
        clock.now = NOW + timedelta(hours=13, minutes=59)
        assert (await client.get(f"/r/{code}", headers=PHONE)).status == 200
        # … midnight in Shanghai is a new one.
        clock.now = NOW + timedelta(hours=14)
        assert (await client.get(f"/r/{code}", headers=PHONE)).status == 200
        # A HEAD request (a link checker) is nobody opening the page.
        assert (await client.head(f"/r/{code}", headers={"User-Agent": "checker"})).status == 200
    clicks = await _clicks(db)
    assert [str(click.day) for click in clicks] == ["2024-05-01", "2024-05-01", "2024-05-02"]
    assert clicks[0].visitor_hash == clicks[2].visitor_hash != clicks[1].visitor_hash
    for click in clicks:
        assert re.fullmatch(r"[0-9a-f]{64}", click.visitor_hash)
        assert "127.0.0.1" not in click.visitor_hash


async def test_forwarded_for_is_honoured_only_when_configured(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    visits = [
        {**PHONE, "X-Forwarded-For": "203.0.113.7"},
        {**PHONE, "X-Forwarded-For": "198.51.100.9"},
        # A client cannot pose as someone else by writing to the left of the proxy's entry.
        {**PHONE, "X-Forwarded-For": "10.9.9.9, 198.51.100.9"},
    ]
    async with web_client(db, tmp_path) as client:
        for headers in visits:
            await client.get(f"/r/{code}", headers=headers)
    assert len(await _clicks(db)) == 1  # not configured: every visit is the proxy's address
    async with web_client(db, tmp_path, trusted_proxy_hops=1) as client:
        for headers in visits:
            await client.get(f"/r/{code}", headers=headers)
    assert len(await _clicks(db)) == 3  # the first visitor + 203.0.113.7 + 198.51.100.9


async def test_the_attribution_cookie(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    _, other_code = await inviter_with_code(db, "C-OTHER", "李雷")
    async with web_client(db, tmp_path) as client:
        resp = await client.get(f"/r/{code}", headers=PHONE)
        cookie = resp.headers["Set-Cookie"]
        assert cookie.startswith(f"fission_ref={code};")
        for part in ("Max-Age=2592000", "HttpOnly", "SameSite=Lax", "Path=/", "Secure"):
            assert part in cookie
        # First touch wins: a visitor who carries a code keeps it.
        resp = await client.get(
            f"/r/{other_code}", headers={**PHONE, "Cookie": f"fission_ref={code}"}
        )
        assert resp.status == 200
        assert "Set-Cookie" not in resp.headers
    async with web_client(db, tmp_path, public_base_url="http://localhost:8080") as client:
        cookie = (await client.get(f"/r/{code}", headers=PHONE)).headers["Set-Cookie"]
        assert "Secure" not in cookie  # a plain-http deployment could never send it back


async def test_the_page_shows_the_offer_and_a_join_qr(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    join = "https://work.weixin.qq.com/ca/cawcde?customer_channel={code}"
    async with web_client(db, tmp_path, join_url=join) as client:
        resp = await client.get(f"/r/{code.lower()}", headers=PHONE)
        assert resp.status == 200
        assert resp.content_type == "text/html"
        page = await resp.text()
    assert '<html lang="zh-CN">' in page
    assert 'name="viewport"' in page
    assert "邀请好友，双方各得¥20券" in page  # the default program's title
    assert "累计邀请3位好友成交" in page  # … and its offer
    assert "张** 邀请你一起参加" in page  # the inviter, masked
    assert "张三丰" not in page
    assert "长按识别二维码" in page
    expected = f"https://work.weixin.qq.com/ca/cawcde?customer_channel={code}"
    assert f'href="{expected}"' in page
    src = re.search(r'src="data:image/png;base64,([^"]+)"', page)
    assert src is not None
    image = Image.open(BytesIO(base64.b64decode(src.group(1))))
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [expected]


async def test_without_a_join_link_the_page_says_what_to_do(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    async with web_client(db, tmp_path) as client:
        page = await (await client.get(f"/r/{code}", headers=PHONE)).text()
    assert "如何加入" in page
    assert f"告诉客服你的邀请码：{code}" in page
    assert "data:image/png" not in page


async def test_text_is_escaped_and_english_when_configured(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    async with db.uow() as uow:
        await uow.session.execute(
            update(ReferralProgram).values(title="<script>alert(1)</script>", offer_text="A & B")
        )
        await uow.commit()
    async with web_client(db, tmp_path, locale="en", mask_names=False) as client:
        page = await (await client.get(f"/r/{code}", headers=PHONE)).text()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "A &amp; B" in page
    assert "张三丰 invited you" in page  # masking off: the name as stored
    assert "How to join" in page


async def test_dead_links_get_a_friendly_404(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    async with web_client(db, tmp_path) as client:
        for path in ("/r/ZZZZ2222", "/r/no_such", "/r/ZZZZ2222/poster.png"):
            resp = await client.get(path, headers=PHONE)
            assert resp.status == 404, path
            assert resp.content_type == "text/html"
            assert "邀请链接无效或活动已结束" in await resp.text()
        async with db.uow() as uow:
            await uow.session.execute(
                update(ReferralProgram).values(ends_at=NOW - timedelta(days=1))
            )
            await uow.commit()
        for path in (f"/r/{code}", f"/r/{code}/poster.png"):
            resp = await client.get(path, headers=PHONE)
            assert resp.status == 404, path
            assert "Set-Cookie" not in resp.headers
        async with db.uow() as uow:
            await uow.session.execute(update(ReferralProgram).values(ends_at=None, active=False))
            await uow.commit()
        assert (await client.get(f"/r/{code}", headers=PHONE)).status == 404
    assert await _clicks(db) == []


async def test_the_poster_route_renders_once_and_caches(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    async with web_client(db, tmp_path) as client:
        resp = await client.get(f"/r/{code}/poster.png")
        assert resp.status == 200
        assert resp.content_type == "image/png"
        png = await resp.read()
        image = Image.open(BytesIO(png))
        link = f"https://fission.example.com/r/{code}"
        assert [found.text for found in zxingcpp.read_barcodes(image)] == [link]
        etag = resp.headers["ETag"]
        cached = list((tmp_path / "posters" / code).glob("v1-*.png"))
        assert [path.read_bytes() for path in cached] == [png]

        resp = await client.get(f"/r/{code}/poster.png", headers={"If-None-Match": etag})
        assert resp.status == 304

        # Editing the offer bumps the program version: a new poster, the old file gone.
        async with db.uow() as uow:
            await uow.session.execute(
                update(ReferralProgram).values(offer_text="新的优惠", version=2)
            )
            await uow.commit()
        resp = await client.get(f"/r/{code}/poster.png", headers={"If-None-Match": etag})
        assert resp.status == 200
        assert resp.headers["ETag"] != etag
    assert [path.name[:3] for path in (tmp_path / "posters" / code).iterdir()] == ["v2-"]
    # Looking at the poster is not a click.
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ReferralClick)) == 0


async def test_the_poster_is_drawn_in_the_configured_font(db: Database, tmp_path: Path) -> None:
    """`poster_font` (a shop's brand font, here one of a single bold weight) draws the text; a
    poster cached in the shipped font is not served for it."""
    _, code = await inviter_with_code(db)
    posters: dict[str, tuple[bytes, str]] = {}
    for name, settings in (("shipped", {}), ("brand", {"poster_font": BRAND_FONT})):
        async with web_client(db, tmp_path, **settings) as client:
            resp = await client.get(f"/r/{code}/poster.png")
            assert resp.status == 200
            posters[name] = (await resp.read(), resp.headers["ETag"])
    (shipped, shipped_etag), (brand, brand_etag) = posters["shipped"], posters["brand"]
    assert brand_etag != shipped_etag
    image = Image.open(BytesIO(brand))
    link = f"https://fission.example.com/r/{code}"
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [link]
    # The inviter line (张** 邀请你), Regular in the shipped font, is bold in the brand font.
    assert _cream_pixels(image) > 1.2 * _cream_pixels(Image.open(BytesIO(shipped)))


def _cream_pixels(poster: Image.Image) -> int:
    """Light pixels (the cream text) in the band of the inviter line, on the red background."""
    band = poster.convert("L").crop((0, 60, poster.width, 115))
    return sum(band.histogram()[200:])
