"""Bearer-token check of the HTTP API: `Authorization: Bearer <FISSION_API_TOKEN>`.

No token configured means the API is off, and every call says so (401) instead of serving
anyone. The comparison runs in constant time over bytes, so response timing does not reveal
how much of a guessed token was right.
"""

from __future__ import annotations

import hmac

from aiohttp import hdrs, web
from pydantic import SecretStr

from bot.web.api.problems import ApiError

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="fission"'}


class Unauthorized(ApiError):
    def response(self) -> web.Response:
        response = super().response()
        response.headers.update(_CHALLENGE)
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
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized(
            401,
            "missing_token",
            "缺少访问令牌：请加请求头 Authorization: Bearer <令牌> / send Authorization: Bearer "
            "<token>",
        )
    expected = token.get_secret_value().encode("utf-8")
    if not hmac.compare_digest(presented.strip().encode("utf-8"), expected):
        raise Unauthorized(401, "invalid_token", "访问令牌无效 / invalid token")
