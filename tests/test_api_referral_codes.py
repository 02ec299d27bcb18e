"""POST /api/v1/customers/{external_id}/referral-code: a shop's website or mini-program shows a
customer their invite link without a chat — the same code the chat `/invite` gives, every time."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from api_support import AUTH, BASE_URL, NOW, Client, add_customer, web_client
from chatkit import as_text, make_ctx, say
from referral_world import World
from sqlalchemy import func, select, update

from models.customer import Customer, CustomerIdentity
from models.db import Database
from models.referral.codes import CODE_ALPHABET
from models.referral.tables import ReferralCode, ReferralProgram

URL = "/api/v1/customers/{}/referral-code"


async def _issue(client: Client, external_id: str, body: Any = None) -> tuple[int, Any]:
    resp = await client.post(URL.format(external_id), json=body, headers=AUTH)
    return resp.status, await resp.json()


async def _codes(db: Database) -> list[tuple[str, str]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(Customer.external_id, ReferralCode.code)
            .join(Customer, Customer.id == ReferralCode.customer_id)
            .order_by(ReferralCode.id)
        )
        return [(external_id, code) for external_id, code in rows]


async def _add_program(db: Database, key: str, **values: Any) -> None:
    async with db.uow() as uow:
        await World(uow.session).program(key, **values)
        await uow.commit()


async def _stop_every_program(db: Database) -> None:
    async with db.uow() as uow:
        await uow.session.execute(update(ReferralProgram).values(active=False))
        await uow.commit()


def _assert_refused(answer: tuple[int, Any], status: int, code: str, mentions: str) -> None:
    """A JSON problem with this status and error code whose message names `mentions`."""
    got, body = answer
    assert (got, body["error"]["code"]) == (status, code), body
    assert mentions in body["error"]["message"], body


async def test_a_customer_gets_their_code_link_and_poster(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1", name="张三丰", phone="13812345678")
    async with web_client(db, tmp_path) as client:
        status, first = await _issue(client, "C-1")  # no body: the running program
        assert status == 201, first
        code = first["code"]
        assert re.fullmatch(f"[{CODE_ALPHABET}]{{8}}", code)
        assert first == {
            "code": code,
            "program": "default",
            "title": "邀请好友，双方各得¥20券",
            "offer_text": (
                "好友通过你的专属邀请码加入并完成首单，你和好友各得一张¥20优惠券；"
                "累计邀请3位好友成交，再得¥50奖励券。"
            ),
            "link": f"{BASE_URL}/r/{code}",
            "poster_url": f"{BASE_URL}/r/{code}/poster.png",
        }
        # The same code every time, with or without naming the program.
        assert await _issue(client, "C-1", {}) == (200, first)
        assert await _issue(client, "C-1", {"program": "default"}) == (200, first)

        # The link and the poster it names work.
        page = await client.get(f"/r/{code}")
        assert page.status == 200 and "邀请好友" in await page.text()
        poster = await client.get(f"/r/{code}/poster.png")
        assert poster.status == 200 and poster.content_type == "image/png"

        # The customer card lists the code.
        card = await (await client.get("/api/v1/customers/C-1", headers=AUTH)).json()
    assert card["referral_codes"] == [
        {"code": code, "program": "default", "link": f"{BASE_URL}/r/{code}"}
    ]
    assert await _codes(db) == [("C-1", code)]


async def test_the_chat_invite_gives_the_code_the_api_issued(db: Database, tmp_path: Path) -> None:
    customer_id = await add_customer(db, "C-1", name="张三丰")
    async with db.uow() as uow:
        uow.session.add(
            CustomerIdentity(
                customer_id=customer_id, platform="console", kind="console_id", value="u-zhang"
            )
        )
        await uow.commit()
    async with web_client(db, tmp_path) as client:
        _, issued = await _issue(client, "C-1")
    text = as_text(await say(make_ctx(db, public_base_url=BASE_URL), "邀请", user="u-zhang"))
    assert issued["link"] in text
    assert await _codes(db) == [("C-1", issued["code"])]


async def test_concurrent_requests_get_one_code(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    async with web_client(db, tmp_path) as client:
        answers = await asyncio.gather(*(_issue(client, "C-1") for _ in range(8)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 7 + [201], answers
    assert len({body["code"] for _, body in answers}) == 1
    assert len(await _codes(db)) == 1


async def test_an_unknown_customer_is_404(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        answer = await _issue(client, "NOBODY")
    _assert_refused(answer, 404, "not_found", "NOBODY")
    assert await _codes(db) == []


async def test_no_running_program_is_409(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    await _stop_every_program(db)
    async with web_client(db, tmp_path) as client:
        answer = await _issue(client, "C-1")
    _assert_refused(answer, 409, "no_program_running", "没有正在进行的邀请活动")
    assert await _codes(db) == []


async def test_a_named_program_that_is_missing_or_not_running_is_409_saying_which(
    db: Database, tmp_path: Path
) -> None:
    await add_customer(db, "C-1")
    await _add_program(db, "spring", ends_at=NOW - timedelta(days=1))
    await _add_program(db, "autumn", starts_at=NOW + timedelta(days=30))
    await _add_program(db, "paused", active=False)
    async with web_client(db, tmp_path) as client:
        answers = {
            key: await _issue(client, "C-1", {"program": key})
            for key in ("summer", "spring", "autumn", "paused")
        }
    _assert_refused(answers["summer"], 409, "program_not_found", "“summer”")
    for key in ("spring", "autumn", "paused"):
        _assert_refused(answers[key], 409, "program_not_running", f"“{key}”")
    assert await _codes(db) == []


async def test_with_several_programs_running_the_default_is_the_one_chat_gives(
    db: Database, tmp_path: Path
) -> None:
    """The first running program by priority whose segment the customer fits, as `/invite`."""
    await _add_program(db, "east", priority=10, segment={"regions": ["华东"]})
    async with web_client(db, tmp_path) as client:
        for external_id, region in (("C-EAST", "华东"), ("C-WEST", "西南")):
            customer = {"external_id": external_id, "region": region}
            assert (await client.post("/api/v1/customers", json=customer, headers=AUTH)).ok
        east = await _issue(client, "C-EAST")
        west = await _issue(client, "C-WEST")
        west_named = await _issue(client, "C-WEST", {"program": "east"})
        east_default = await _issue(client, "C-EAST", {"program": "default"})

    assert (east[0], east[1]["program"]) == (201, "east")
    assert (west[0], west[1]["program"]) == (201, "default")
    # Naming a program is the shop's choice: the segment only picks the offer when none is
    # named. A customer holds one code per program.
    assert (west_named[0], west_named[1]["program"]) == (201, "east")
    assert (east_default[0], east_default[1]["program"]) == (201, "default")
    assert len({body["code"] for _, body in (east, west, west_named, east_default)}) == 4
    assert len(await _codes(db)) == 4


async def test_running_programs_none_of_them_for_this_customer_is_409(
    db: Database, tmp_path: Path
) -> None:
    await _stop_every_program(db)
    await _add_program(db, "east", segment={"regions": ["华东"]})
    async with web_client(db, tmp_path) as client:
        customer = {"external_id": "C-WEST", "region": "西南"}
        assert (await client.post("/api/v1/customers", json=customer, headers=AUTH)).ok
        answer = await _issue(client, "C-WEST")
    _assert_refused(answer, 409, "no_eligible_program", "C-WEST")
    assert await _codes(db) == []


async def test_a_closed_account_gets_no_code(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    async with web_client(db, tmp_path) as client:
        closed = {"external_id": "C-1", "status": "closed"}
        assert (await client.post("/api/v1/customers", json=closed, headers=AUTH)).ok
        answer = await _issue(client, "C-1")
    _assert_refused(answer, 409, "customer_closed", "C-1")


async def test_bad_bodies_are_refused_and_issue_nothing(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    wrong_shapes = [
        ({"program": 5}, "program", "应为字符串"),
        ({"program": ""}, "program", "格式不正确"),
        ({"program": "no spaces"}, "program", "格式不正确"),
        ({"programme": "default"}, "programme", "未知字段"),
        ([{"program": "default"}], "body", "应为 JSON 对象"),
        ("default", "body", "应为 JSON 对象"),
    ]
    async with web_client(db, tmp_path) as client:
        for body, field, reason in wrong_shapes:
            status, answer = await _issue(client, "C-1", body)
            assert status == 422, (body, answer)
            error = answer["error"]
            assert error["code"] == "validation_failed"
            assert [f["field"] for f in error["fields"]] == [field], body
            assert reason in error["fields"][0]["message"], body
        resp = await client.post(
            URL.format("C-1"),
            data=b'{"program": "default",',
            headers={**AUTH, "Content-Type": "application/json"},
        )
        assert resp.status == 400  # not JSON at all, as everywhere in the API
        assert (await resp.json())["error"]["code"] == "malformed_json"
    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ReferralCode)) == 0
