"""`GET /metrics` is for the machine it runs on, or for whoever holds `metrics_token`.

Without the token only a loopback peer is served, and not even that when the request came
through a reverse proxy on the same machine (it then carries forwarding headers, which are never
trusted as an address). With the token every caller must send it as a bearer token."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import bootstrap
from bot.web.app import create_app
from config import load_settings
from models.db import Database

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
METRICS_TOKEN = "m3trics-scrape-token"


def lan_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address


@asynccontextmanager
async def served(db: Database, tmp_path: Path, **settings: Any) -> AsyncIterator[int]:
    """The app listening on every interface; yields its port."""
    loaded = load_settings(
        database_url=db.engine.url.render_as_string(hide_password=False),
        state_dir=tmp_path,
        **settings,
    )
    server = TestServer(create_app(bootstrap(loaded, db=db)), host="0.0.0.0")
    await server.start_server()
    try:
        yield server.port or 0
    finally:
        await server.close()


async def scrape(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()


async def test_without_a_token_only_loopback_is_served(db: Database, tmp_path: Path) -> None:
    async with served(db, tmp_path) as port:
        status, body = await scrape(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert "fission_callbacks" in body
        # A reverse proxy on this machine connects from loopback too, on behalf of anyone.
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            status, body = await scrape(f"http://127.0.0.1:{port}/metrics", {header: "127.0.0.1"})
            assert (status, body["error"]["code"]) == (403, "metrics_local_only"), header
            assert "FISSION_METRICS_TOKEN" in body["error"]["message"]


async def test_without_a_token_another_machine_is_refused(db: Database, tmp_path: Path) -> None:
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    async with served(db, tmp_path) as port:
        status, body = await scrape(f"http://{address}:{port}/metrics")
        assert (status, body["error"]["code"]) == (403, "metrics_local_only")


async def test_with_a_token_every_caller_needs_it(db: Database, tmp_path: Path) -> None:
    address = lan_address() or "127.0.0.1"
    async with served(db, tmp_path, metrics_token=METRICS_TOKEN) as port:
        for host in ("127.0.0.1", address):
            url = f"http://{host}:{port}/metrics"
            for headers, code in (
                (None, "missing_token"),
                ({"Authorization": f"Bearer {METRICS_TOKEN}x"}, "invalid_token"),
                ({"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"}, "invalid_token"),
                ({"Authorization": f"Basic {METRICS_TOKEN}"}, "missing_token"),
            ):
                status, body = await scrape(url, headers)
                assert (status, body["error"]["code"]) == (401, code), (host, headers)
            status, body = await scrape(url, {"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert status == 200
            assert "fission_deliveries" in body
        # The token holder may come through a proxy.
        status, _ = await scrape(
            f"http://127.0.0.1:{port}/metrics",
            {"Authorization": f"Bearer {METRICS_TOKEN}", "X-Forwarded-For": "203.0.113.7"},
        )
        assert status == 200
