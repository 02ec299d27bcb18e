"""Who clicked, without keeping who clicked: a keyed hash of the visitor's IP and user agent.

The key decides whether two processes count the same visitor once. It is, in order: the
`click_secret` setting; else derived from `api_token` (an HMAC of a fixed label, so the token
itself is never the key and rotating it starts a fresh day of counting, nothing worse); else a
random key generated on first use and kept in `state_dir/click-secret` (0600), which every
process sharing that directory uses. Without the key the hash cannot be reversed by trying all
IPv4 addresses, which a plain SHA-256 of an IP can.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from aiohttp import web

from config import Settings

_SECRET_FILE = "click-secret"
_DERIVATION_LABEL = b"fission/click-visitor-hash/v1"


def click_secret(settings: Settings) -> bytes:
    if settings.click_secret is not None and settings.click_secret.get_secret_value():
        return settings.click_secret.get_secret_value().encode("utf-8")
    if settings.api_token is not None and settings.api_token.get_secret_value():
        token = settings.api_token.get_secret_value().encode("utf-8")
        return hmac.new(token, _DERIVATION_LABEL, hashlib.sha256).digest()
    return _stored_secret(settings.state_dir / _SECRET_FILE)


def _stored_secret(path: Path) -> bytes:
    """Read the generated key, creating it exactly once even when processes race to do so."""
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex())
    return key


def client_ip(request: web.Request, trusted_proxy_hops: int) -> str:
    """The visitor's address. X-Forwarded-For is read only when `trusted_proxy_hops` proxies
    are configured, and then only the entry the outermost trusted proxy appended: anything to
    its left was written by the client and could be anything."""
    if trusted_proxy_hops > 0:
        forwarded = [
            part.strip()
            for value in request.headers.getall("X-Forwarded-For", [])
            for part in value.split(",")
            if part.strip()
        ]
        if forwarded:
            return forwarded[-min(trusted_proxy_hops, len(forwarded))]
    return request.remote or ""


def visitor_hash(key: bytes, ip: str, user_agent: str) -> str:
    """64 hex characters; the same visitor gives the same hash under the same key."""
    message = f"{ip}\n{user_agent}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
