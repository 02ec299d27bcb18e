"""The neutral request/response an adapter works on; aiohttp stays in bot/web (STYLE.md #1).

An adapter raises `Rejected` for anything it refuses; the web layer turns it into a JSON error
with the status given here, and the metrics count it by `result`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallbackRequest:
    method: str
    query: Mapping[str, str]
    # Case-insensitive in practice (the web layer passes aiohttp's CIMultiDictProxy).
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class CallbackResponse:
    status: int
    body: bytes
    content_type: str
    result: str  # metrics label: accepted, duplicate, ignored, verified, …
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, text: str, *, result: str, content_type: str = "text/plain") -> CallbackResponse:
        return cls(200, text.encode("utf-8"), content_type, result)

    @classmethod
    def json(cls, payload: object, *, result: str) -> CallbackResponse:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(200, body, "application/json", result)


class Rejected(Exception):
    """A callback refused before anything was stored: bad signature, stale, malformed, …"""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> CallbackResponse:
        body = json.dumps(
            {"error": {"code": self.code, "message": self.message}}, ensure_ascii=False
        ).encode("utf-8")
        return CallbackResponse(self.status, body, "application/json", self.code)


def malformed(message: str) -> Rejected:
    return Rejected(400, "malformed", message)


def forbidden(code: str, message: str) -> Rejected:
    return Rejected(403, code, message)
