"""The HTTP API under /api/v1: JSON in and out, bearer token, OpenAPI document.

`setup_api(app)` adds every operation of `routes.OPERATIONS`, each wrapped in `_guarded`: the
token check, then the view, with `ApiError`s turned into their JSON responses. Anything else
that escapes reaches the app's error middleware (a JSON 500 without details).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.web.api.auth import check_bearer
from bot.web.api.openapi import build_openapi
from bot.web.api.problems import ApiError
from bot.web.api.routes import OPENAPI_PATH, OPERATIONS
from bot.web.api.views import ApiViews
from bot.web.keys import CONTAINER

View = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guarded(view: View, token: SecretStr | None, public: bool) -> View:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            if not public:
                check_bearer(request, token)
            return await view(request)
        except ApiError as exc:
            return exc.response()

    return handler


def setup_api(app: web.Application) -> None:
    container = app[CONTAINER]
    views = ApiViews(container)
    token = container.settings.api_token
    for op in OPERATIONS:
        view: View = getattr(views, op.view)
        app.router.add_route(op.method, op.full_path, _guarded(view, token, op.public))

    document: dict[str, Any] = build_openapi(container.settings.public_base_url)

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    # The document holds no data and client generators fetch it without credentials.
    app.router.add_get(OPENAPI_PATH, openapi)
