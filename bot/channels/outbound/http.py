"""The HTTP transport under the choke point: one aiohttp session, timeouts, a couple of quick
retries. A request that never reached the platform (connection refused) is always retried; after
a 5xx or a timeout the platform may have acted on it, so only idempotent requests are retried
(reads, token fetches, Feishu sends carrying a `uuid`) — a WeChat message is not sent twice
because a gateway answered 502. Query strings (which carry access tokens and secrets on WeChat)
are never logged."""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.channels.outbound.errors import ApiError, TransientError

log = logging.getLogger(__name__)


def content_type_of(filename: str) -> str:
    """The MIME type a file name suggests (`.xlsx` → the OOXML spreadsheet type)."""
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


@dataclass(frozen=True)
class Upload:
    field: str
    filename: str
    content: bytes
    content_type: str = "image/png"


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: dict[str, Any]


class HttpTransport:
    def __init__(
        self, *, timeout: float = 10.0, retry_delays: Sequence[float] = (0.2, 1.0)
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retry_delays = tuple(retry_delays)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def request(
        self,
        platform: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        upload: Upload | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> HttpReply:
        last: ApiError = TransientError(platform, None, "not attempted")
        for attempt, delay in enumerate((0.0, *self._retry_delays)):
            if attempt and not idempotent and not isinstance(last, _NotSent):
                break
            if delay:
                await asyncio.sleep(delay)
            data: aiohttp.FormData | None = None
            if upload is not None or form is not None:
                # A FormData is consumed by one request; build it again for every attempt.
                # File names go as UTF-8, not percent-encoded: WeCom shows the multipart file
                # name to the member as it is, and `%E5%AE%A2….xlsx` is no name for a file.
                data = aiohttp.FormData(quote_fields=False)
                for key, value in (form or {}).items():
                    data.add_field(key, value)
                if upload is not None:
                    data.add_field(
                        upload.field,
                        upload.content,
                        filename=upload.filename,
                        content_type=upload.content_type,
                    )
            try:
                async with self._client().request(
                    method, url, params=params, json=json_body, data=data, headers=headers
                ) as resp:
                    raw = await resp.read()
                    if resp.status >= 500:
                        log.warning("%s %s %s -> HTTP %s", platform, method, url, resp.status)
                        last = TransientError(platform, resp.status, f"HTTP {resp.status}")
                        continue
                    return HttpReply(resp.status, resp.headers.copy(), _json(platform, raw))
            except aiohttp.ClientConnectorError as exc:
                log.warning("%s %s %s -> %s", platform, method, url, type(exc).__name__)
                last = _NotSent(platform, None, type(exc).__name__)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("%s %s %s -> %s", platform, method, url, type(exc).__name__)
                last = TransientError(platform, None, type(exc).__name__)
        raise last


class _NotSent(TransientError):
    """The connection failed before the request was sent: always safe to try again."""


def _json(platform: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(platform, None, "response is not JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(platform, None, "response is not a JSON object")
    return body
