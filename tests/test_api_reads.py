"""GET /api/v1/customers/{external_id} (the card) and GET /api/v1/referrals/{code}."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from api_support import AUTH, NOW, Clock, inviter_with_code, web_client

from models.db import Database


async def test_the_card_of_an_inviter_after_a_conversion(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    clock = Clock()
    async with web_client(db, tmp_path, clock) as client:
        friend = {"external_id": "FRIEND", "name": "王小明", "referral_code": code}
        assert (await client.post("/api/v1/customers", json=friend, headers=AUTH)).status == 201
        clock.now = NOW + timedelta(hours=1)
        # The friend's first order after joining (an order from before would make them an
        # existing customer, not a referral).
        order = {
            "order_no": "SO-1",
            "customer_external_id": "FRIEND",
            "amount": "150",
            "paid_at": "2024-05-01 10:30",
        }
        assert (await client.post("/api/v1/orders", json=order, headers=AUTH)).status == 201

        resp = await client.get("/api/v1/customers/C-INVITER", headers=AUTH)
        assert resp.status == 200
        card = await resp.json()
    assert (card["external_id"], card["name"], card["phone"]) == (
        "C-INVITER",
        "张**",
        "138****5678",
    )
    assert card["orders"] == {
        "as_of": None,  # never classified: every order counts
        "count": 0,
        "total_fen": 0,
        "aov_fen": 0,
        "first_on": None,
        "last_on": None,
        "refunded_count": 0,
        "later_count": 0,
    }
    assert card["points"] == {"available": 0, "pending": 0}
    assert card["referral_codes"] == [
        {"code": code, "program": "default", "link": f"https://fission.example.com/r/{code}"}
    ]
    [invite] = card["invites"]
    assert (invite["invitee"], invite["status"]) == ("王**", "converted")
    assert invite["converted_at"] == "2024-05-01T10:30:00+08:00"  # when the friend paid
    [reward] = invite["rewards"]
    assert (reward["side"], reward["kind"], reward["status"]) == ("inviter", "coupon", "pending")
    assert (reward["coupon_name"], reward["amount_fen"]) == ("邀请奖励券 ¥20", 2000)
    assert reward["settle_after"] == "2024-05-08T10:30:00+08:00"  # the 7-day hold
    assert card["invites_total"] == 1
    # No full name or phone number anywhere in the card.
    text = str(card)
    assert "张三丰" not in text and "王小明" not in text and "13812345678" not in text


async def test_the_card_of_the_invitee_shows_their_order(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    async with web_client(db, tmp_path) as client:
        order = {
            "order_no": "SO-1",
            "customer_external_id": "FRIEND",
            "amount": "150",
            "paid_at": "2024-04-30 09:00",
            "referral_code": code,
        }
        assert (await client.post("/api/v1/orders", json=order, headers=AUTH)).status == 201
        card = await (await client.get("/api/v1/customers/FRIEND", headers=AUTH)).json()
    assert card["orders"]["count"] == 1
    assert card["orders"]["total_fen"] == 15000
    assert card["orders"]["first_on"] == "2024-04-30"
    assert (card["stage"], card["grade"], card["invites"]) == (None, None, [])


async def test_referral_statistics(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    clock = Clock()
    async with web_client(db, tmp_path, clock) as client:
        for visitor in ("phone-a", "phone-b", "phone-a"):
            page = await client.get(f"/r/{code}", headers={"User-Agent": visitor})
            assert page.status == 200
        for index, name in enumerate(("甲", "乙")):
            friend = {"external_id": f"F-{index}", "name": name, "referral_code": code}
            await client.post("/api/v1/customers", json=friend, headers=AUTH)
        clock.now = NOW + timedelta(hours=1)
        order = {
            "order_no": "SO-1",
            "customer_external_id": "F-0",
            "amount": "150",
            "paid_at": "2024-05-01 10:30",
        }
        await client.post("/api/v1/orders", json=order, headers=AUTH)

        resp = await client.get(f"/api/v1/referrals/{code.lower()}", headers=AUTH)
        assert resp.status == 200
        stats = await resp.json()
    assert stats["code"] == code
    assert stats["link"] == f"https://fission.example.com/r/{code}"
    assert stats["inviter"] == {"external_id": "C-INVITER", "name": "张**"}
    assert (stats["program"]["key"], stats["program"]["title"]) == (
        "default",
        "邀请好友，双方各得¥20券",
    )
    # Two visitors (a third visit by the first the same day does not count), two joins, one
    # of them converted.
    assert {k: stats[k] for k in ("clicks", "joins", "conversions", "rewarded", "rejected")} == {
        "clicks": 2,
        "joins": 2,
        "conversions": 1,
        "rewarded": 0,
        "rejected": 0,
    }


async def test_unknown_customer_and_code_are_404(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        for path in ("/api/v1/customers/NOBODY", "/api/v1/referrals/ZZZZ2222"):
            resp = await client.get(path, headers=AUTH)
            assert resp.status == 404
            error = (await resp.json())["error"]
            assert error["code"] == "not_found"
            assert path.rsplit("/", 1)[1] in error["message"]
