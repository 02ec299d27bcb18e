"""The simulator as a newcomer uses it, in headless Chromium (Debian's `chromium`, driven by
Playwright): ask for an invite as a customer and see the poster, open the link and see the
landing page, then query a customer as staff; in `make run`'s own app, run a campaign as the
manager and read its message as a customer who got it. On SQLite."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from chatkit import People, seed_people
from playwright.async_api import Browser, Page, async_playwright

from bot.bootstrap import bootstrap
from bot.cli.serve import serve_app
from bot.cli.serve_demo import prepare_demo
from bot.web.app import create_app
from config import load_settings
from models.db import Database
from models.migrate import upgrade

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 20_000


def _require_chromium() -> None:
    assert Path(CHROMIUM).exists(), "chromium is missing: `make test` installs it (apt-get)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, People]]:
    """The app with the simulator on, on a real port, over a fresh SQLite database."""
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}")
    await upgrade(db)
    people = await seed_people(db)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(
        database_url=str(db.engine.url), public_base_url=base, state_dir=tmp_path / "state"
    )
    app = create_app(bootstrap(settings, db=db), simulator=True)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        yield base, people
    finally:
        await server.close()
        await db.dispose()


@pytest.fixture
async def demo_served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """`fission serve --demo`'s app (demo database, simulator, delivery worker) on a real port."""
    monkeypatch.chdir(tmp_path)
    port = _free_port()
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'real.db'}",
        state_dir=tmp_path / "state",
        scheduler={"enabled": False},
    )
    ready = await prepare_demo(settings, host="127.0.0.1", port=port, customers=400)
    app, container = serve_app(settings, ready)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.close()
        await container.close()


@asynccontextmanager
async def _simulator_page(base: str) -> AsyncIterator[tuple[Browser, Page]]:
    """Headless Chromium with the simulator page open."""
    _require_chromium()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{base}/simulator")
            yield browser, page
        finally:
            await browser.close()


async def _send(page: Page, text: str) -> None:
    before = await page.locator("li.msg.bot").count()
    await page.fill("#text", text)
    await page.press("#text", "Enter")
    await page.locator("li.msg.bot").nth(before).wait_for(timeout=TIMEOUT_MS)


async def test_newcomer_invites_opens_the_link_and_queries_as_staff(
    served: tuple[str, People], tmp_path: Path
) -> None:
    base, people = served
    async with _simulator_page(base) as (browser, page):
        persona = f"customer:{people.zhang}"
        await page.locator(f'#persona option[value="{persona}"]').wait_for(
            state="attached", timeout=TIMEOUT_MS
        )
        await page.select_option("#persona", persona)

        await _send(page, "邀请")
        poster = page.locator("li.msg.bot img").first
        await poster.wait_for(timeout=TIMEOUT_MS)
        width = await poster.evaluate("img => img.complete ? img.naturalWidth : 0")
        assert width == 750  # the poster rendered and decoded in the browser
        link = page.locator("li.msg.bot a").first
        href = await link.get_attribute("href")
        assert href is not None and href.startswith(f"{base}/r/")
        await page.screenshot(path=str(tmp_path / "simulator-invite.png"), full_page=True)

        landing = await browser.new_page()
        response = await landing.goto(href)
        assert response is not None and response.status == 200
        assert "邀请好友，双方各得¥20券" in await landing.content()
        await landing.close()

        await page.select_option("#persona", f"staff:{people.agent}")
        await _send(page, "/customer 张三")
        card = page.locator("li.msg.bot .card").last
        await card.wait_for(timeout=TIMEOUT_MS)
        text = await card.inner_text()
        assert "客户卡片" in text and "张*" in text and "138****8888" in text
        assert "张三" not in text and "13812348888" not in text
        await page.screenshot(path=str(tmp_path / "simulator.png"), full_page=True)


async def test_a_manager_runs_a_campaign_and_a_customer_reads_it(
    demo_served: str, tmp_path: Path
) -> None:
    async with _simulator_page(demo_served) as (_browser, page):
        manager = page.locator('#persona option[data-role="manager"]').first
        await manager.wait_for(state="attached", timeout=TIMEOUT_MS)
        await page.select_option("#persona", await manager.get_attribute("value"))

        await page.click('#quick-staff button:text-is("运行活动")')
        ran = page.locator("li.msg.bot").first
        await ran.wait_for(timeout=TIMEOUT_MS)
        assert (await ran.inner_text()).startswith("活动已运行：衰退客户挽回")

        # The customers it reached are announced; one click opens their conversation.
        notice = page.locator("#inbox button").first
        await notice.wait_for(timeout=TIMEOUT_MS)
        assert "（衰退客户）" in await notice.inner_text()
        await notice.click()
        pushed = page.locator("li.msg.push").first
        await pushed.wait_for(timeout=TIMEOUT_MS)
        text = await pushed.inner_text()
        assert "好久不见！送您一张老客回馈券 ¥30（满¥100.00可用）" in text
        assert "回复“退订”即不再接收优惠消息。" in text
        assert "私聊 · Fission ｜ 我是 " in await page.inner_text("#chat-title")
        await page.screenshot(path=str(tmp_path / "simulator-campaign.png"), full_page=True)

        await _send(page, "退订")
        reply = await page.locator("li.msg.bot").last.inner_text()
        assert reply.startswith("已退订营销消息，立即生效。")
