"""`Authorization: Bearer <token>`, read and compared in one place (the API, /metrics).

The comparison runs in constant time over bytes, so response timing does not reveal how much of
a guessed token was right.
"""

from __future__ import annotations

import hmac

from aiohttp import hdrs, web
from pydantic import SecretStr

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="fission"'}
MISSING_TOKEN = (
    "缺少访问令牌：请加请求头 Authorization: Bearer <令牌> / send Authorization: Bearer <token>"
)
INVALID_TOKEN = "访问令牌无效 / invalid token"


def presented_token(request: web.Request) -> str | None:
    """The bearer token the request carries, or None (no header, another scheme, empty)."""
    scheme, _, presented = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return None
    return presented.strip()


def token_matches(presented: str, token: SecretStr) -> bool:
    return hmac.compare_digest(presented.encode("utf-8"), token.get_secret_value().encode("utf-8"))
