"""The web app answers health checks and turns every failure into JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import bootstrap
from bot.web.app import MAX_BODY_BYTES, create_app
from config import load_settings
from models.db import Database


@pytest.fixture
async def client(db: Database) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    container = bootstrap(load_settings(database_url=str(db.engine.url)), db=db)
    app = create_app(container)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret detail that must not leak")

    app.router.add_get("/boom", boom)
    app.router.add_post("/echo", _echo)
    async with TestClient(TestServer(app)) as client:
        yield client


async def _echo(request: web.Request) -> web.Response:
    return web.Response(body=await request.read())


async def test_healthz_reports_the_database(
    client: TestClient[web.Request, web.Application], db: Database
) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "database": db.dialect}


async def test_unknown_path_is_json_404(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.get("/nope")
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"


async def test_crash_is_json_500_without_details(
    client: TestClient[web.Request, web.Application],
) -> None:
    resp = await client.get("/boom")
    assert resp.status == 500
    body = await resp.text()
    assert "internal_error" in body
    assert "secret detail" not in body


async def test_oversized_body_is_413(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.post("/echo", data=b"x" * (MAX_BODY_BYTES + 1))
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "body_too_large"
