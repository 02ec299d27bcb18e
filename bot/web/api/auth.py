"""Bearer-token check of the HTTP API: `Authorization: Bearer <FISSION_API_TOKEN>`.

No token configured means the API is off, and every call says so (401) instead of serving
anyone. The header is read and compared in constant time by bot/web/bearer.py.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import SecretStr

from bot.web.api.problems import ApiError
from bot.web.bearer import (
    CHALLENGE,
    INVALID_TOKEN,
    MISSING_TOKEN,
    presented_token,
    token_matches,
)


class Unauthorized(ApiError):
    def response(self) -> web.Response:
        response = super().response()
        response.headers.update(CHALLENGE)
        return response


def check_bearer(request: web.Request, token: SecretStr | None) -> None:
    """Raise `Unauthorized` (401) unless the request carries the configured token."""
    if token is None or not token.get_secret_value():
        raise Unauthorized(
            401,
            "api_disabled",
            "HTTP API 未启用：请先设置 FISSION_API_TOKEN / the API is disabled until "
            "FISSION_API_TOKEN is set",
        )
    presented = presented_token(request)
    if presented is None:
        raise Unauthorized(401, "missing_token", MISSING_TOKEN)
    if not token_matches(presented, token):
        raise Unauthorized(401, "invalid_token", INVALID_TOKEN)
