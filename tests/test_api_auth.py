"""The API answers nobody without the configured bearer token, and says why."""

from __future__ import annotations

from pathlib import Path

from api_support import AUTH, TOKEN, web_client

from models.db import Database

# Every operation of the API, with a body that would be acceptable.
ROUTES = [
    (
        "POST",
        "/api/v1/orders",
        {"order_no": "A1", "customer_external_id": "C1", "amount": "1", "paid_at": "2024-05-01"},
    ),
    ("POST", "/api/v1/customers", {"external_id": "C1"}),
    (
        "POST",
        "/api/v1/events",
        {"customer_external_id": "C1", "kind": "view", "occurred_at": "2024-05-01"},
    ),
    ("GET", "/api/v1/customers/C1", None),
    ("POST", "/api/v1/customers/C1/referral-code", {"program": "default"}),
    ("GET", "/api/v1/referrals/K7QM3XWP", None),
    ("POST", "/api/v1/coupons/ABCDEFGHJKLM/redeem", {"order_no": "A1"}),
]


async def test_no_token_configured_disables_every_call(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path, api_token=None) as client:
        for method, path, body in ROUTES:
            resp = await client.request(method, path, json=body, headers=AUTH)
            assert resp.status == 401, path
            error = (await resp.json())["error"]
            assert error["code"] == "api_disabled"
            assert "FISSION_API_TOKEN" in error["message"]


async def test_missing_token_is_401_with_a_challenge(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        for method, path, body in ROUTES:
            resp = await client.request(method, path, json=body)
            assert resp.status == 401, path
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await resp.json())["error"]["code"] == "missing_token"


WRONG = [
    (f"Bearer {TOKEN}x", "invalid_token"),
    (f"Bearer {TOKEN[:-1]}", "invalid_token"),
    ("Bearer wrong", "invalid_token"),
    ("Bearer 令牌", "invalid_token"),
    (f"Basic {TOKEN}", "missing_token"),
    (f"Token {TOKEN}", "missing_token"),
    ("Bearer ", "missing_token"),
]


async def test_wrong_token_is_401_on_every_route_and_stores_nothing(
    db: Database, tmp_path: Path
) -> None:
    async with web_client(db, tmp_path) as client:
        for method, path, body in ROUTES:
            for header, code in WRONG:
                resp = await client.request(
                    method, path, json=body, headers={"Authorization": header}
                )
                assert resp.status == 401, (path, header)
                assert (await resp.json())["error"]["code"] == code
        # None of those writes happened; the right token (scheme in any case) gets through.
        resp = await client.get(
            "/api/v1/customers/C1", headers={"Authorization": f"bearer {TOKEN}"}
        )
        assert resp.status == 404
