"""The aiohttp application. Each feature installs its routes through one `setup_*` function,
listed in `create_app` — the one visible place where the app is composed."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import text

from bot.bootstrap import Container
from bot.web.api import setup_api
from bot.web.callbacks import setup_callbacks
from bot.web.errors import error_middleware
from bot.web.keys import CONTAINER
from bot.web.landing import setup_landing
from bot.web.simulator import setup_simulator

log = logging.getLogger(__name__)

# Default cap on request bodies; platform callbacks and API bodies are far smaller.
MAX_BODY_BYTES = 1 * 1024 * 1024


def create_app(container: Container, *, simulator: bool = False) -> web.Application:
    """`simulator`: the web chat simulator, for `fission serve --demo` (its own demo database)
    and tests — never a setting, since anyone who reaches it acts as any customer or staff."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[error_middleware])
    app[CONTAINER] = container
    app.router.add_get("/healthz", healthz)
    setup_api(app)
    setup_landing(app)
    if simulator:
        setup_simulator(app)
    setup_callbacks(app)
    return app


async def healthz(request: web.Request) -> web.Response:
    container = request.app[CONTAINER]
    try:
        async with container.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database is "unhealthy", not a 500
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return web.json_response({"status": "error", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": container.db.dialect})
