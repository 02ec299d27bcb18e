"""The visitor hash: which key it uses, that it hides IP and user agent, and which address is
the visitor's behind proxies."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from bot.web.visitor import click_secret, client_ip, visitor_hash
from config import load_settings


def test_an_explicit_secret_wins(tmp_path: Path) -> None:
    settings = load_settings(click_secret="k1", api_token="t", state_dir=tmp_path)
    assert click_secret(settings) == b"k1"


def test_derived_from_the_api_token_but_not_the_token(tmp_path: Path) -> None:
    settings = load_settings(api_token="t0ken", state_dir=tmp_path)
    expected = hmac.new(b"t0ken", b"fission/click-visitor-hash/v1", hashlib.sha256).digest()
    assert click_secret(settings) == expected
    assert not (tmp_path / "click-secret").exists()


def test_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path / "state")
    first = click_secret(settings)
    path = tmp_path / "state" / "click-secret"
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert click_secret(load_settings(state_dir=tmp_path / "state")) == first
    assert click_secret(load_settings(state_dir=tmp_path / "other")) != first


def test_the_hash_is_keyed_and_hides_its_inputs() -> None:
    hashed = visitor_hash(b"key", "203.0.113.7", "iPhone")
    assert hashed == hmac.new(b"key", b"203.0.113.7\niPhone", hashlib.sha256).hexdigest()
    assert hashed != hashlib.sha256(b"203.0.113.7\niPhone").hexdigest()
    assert visitor_hash(b"other", "203.0.113.7", "iPhone") != hashed
    assert visitor_hash(b"key", "203.0.113.7", "Android") != hashed


def _request(forwarded: str | None) -> web.Request:
    headers = CIMultiDict({"X-Forwarded-For": forwarded} if forwarded else {})
    return make_mocked_request("GET", "/r/X", headers=headers)


def test_client_address_behind_proxies() -> None:
    peer = ""  # a mocked request has no peer address; a real one has the proxy's
    chain = "198.51.100.1, 203.0.113.7, 10.0.0.2"
    assert client_ip(_request(chain), 0) == peer
    assert client_ip(_request(chain), 1) == "10.0.0.2"
    assert client_ip(_request(chain), 2) == "203.0.113.7"
    assert client_ip(_request("203.0.113.7"), 3) == "203.0.113.7"
    assert client_ip(_request(None), 1) == peer
