"""One order service: the API and `fission import orders` apply the same rules to an order's
state and the same referral effects, and `fission rewards settle|approve` pay only for orders
that are still paid. Each scenario runs through the public entry points on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import AUTH, Clock, inviter_with_code, web_client
from click.testing import CliRunner, Result
from sqlalchemy import func, select, update

from bot.cli import main
from models.activity import Order
from models.db import Database
from models.referral.ledger import balances
from models.referral.reward_tables import Coupon, Reward
from models.referral.tables import Invitation, ReferralProgram

HEADER = "order_no,customer_external_id,amount,paid_at,status\n"
SHANGHAI_OFFSET = timedelta(hours=8)


def _local_text(moment: datetime) -> str:
    return (moment.astimezone(UTC) + SHANGHAI_OFFSET).strftime("%Y-%m-%d %H:%M:%S")


async def cli(db: Database, *args: str) -> Result:
    """`fission …` as a person runs it, against the test database (in a thread: the command
    runs its own event loop)."""
    env = {
        "FISSION_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "FISSION_LOCALE": "zh-CN",
        "FISSION_TIMEZONE": None,
    }
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


def _write_export(tmp_path: Path, rows: tuple[str, ...]) -> Path:
    path = tmp_path / f"orders-{len(list(tmp_path.glob('orders-*.csv')))}.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


async def import_rows(db: Database, tmp_path: Path, *rows: str) -> Result:
    """The shop's order export with `rows`, imported with `fission import orders`."""
    result = await cli(db, "import", "orders", str(_write_export(tmp_path, rows)))
    assert result.exit_code == 0, result.output
    return result


class Shop:
    """The shop's two ways of reporting one order: its backend calls the API, its daily
    export is imported. `report` sends the order's current state through one of them."""

    def __init__(self, db: Database, tmp_path: Path, client: Any, clock: Clock) -> None:
        self.db, self.tmp_path, self.client, self.clock = db, tmp_path, client, clock

    async def report(
        self, via: str, *, paid_at: datetime, amount: str = "199.90", status: str = "paid"
    ) -> None:
        if via == "api":
            body = {
                "order_no": "A-1",
                "customer_external_id": "FRIEND",
                "amount": amount,
                "paid_at": paid_at.isoformat(),
                "status": status,
            }
            resp = await self.client.post("/api/v1/orders", json=body, headers=AUTH)
            assert resp.status == 200, await resp.text()
        else:
            row = f"A-1,FRIEND,{amount},{_local_text(paid_at)},{status}"
            await import_rows(self.db, self.tmp_path, row)


async def _first_order(client: Any, code: str, paid_at: datetime, amount: str = "199.90") -> Any:
    body = {
        "order_no": "A-1",
        "customer_external_id": "FRIEND",
        "amount": amount,
        "paid_at": paid_at.isoformat(),
        "referral_code": code,
    }
    resp = await client.post("/api/v1/orders", json=body, headers=AUTH)
    assert resp.status == 201, await resp.text()
    return (await resp.json())["referral"]


async def _rows(db: Database, model: Any, *where: Any) -> list[Any]:
    async with db.uow() as uow:
        return list((await uow.session.execute(select(model).where(*where))).scalars())


async def _invitation(db: Database) -> Invitation:
    async with db.uow() as uow:
        return (
            await uow.session.execute(select(Invitation).where(Invitation.status != "clicked"))
        ).scalar_one()


async def _coupons(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Coupon)) or 0)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --- the two scenarios of the issue: regression tests -------------------------------------


async def test_a_refund_in_the_next_export_settles_nothing(db: Database, tmp_path: Path) -> None:
    """Paid through the API with a referral code; the next daily export, imported, marks the
    order refunded; a month later the settle run pays nothing and issues no coupon."""
    inviter_id, code = await inviter_with_code(db)
    paid_at = _now() - timedelta(days=2)
    async with web_client(db, tmp_path, Clock(paid_at + timedelta(minutes=5))) as client:
        referral = await _first_order(client, code, paid_at)
    assert referral["status"] == "converted"

    await import_rows(db, tmp_path, f"A-1,FRIEND,199.90,{_local_text(paid_at)},已退款")
    month_later = (paid_at + timedelta(days=31)).isoformat()
    settled = await cli(db, "rewards", "settle", "--now", month_later)

    assert settled.exit_code == 0, settled.output
    assert "奖励结算 0 个" in settled.output and "发放优惠券 0 张" in settled.output
    invitation = await _invitation(db)
    assert (invitation.status, invitation.reject_reason) == ("rejected", "order_refunded")
    rewards = await _rows(db, Reward)
    assert len(rewards) == 2
    assert {(r.status, r.revoke_reason) for r in rewards} == {("revoked", "order_refunded")}
    assert await _coupons(db) == 0
    async with db.uow() as uow:
        assert (await balances(uow.session, inviter_id)).points_pending == 0


async def test_approving_the_review_of_a_refunded_order_is_refused(
    db: Database, tmp_path: Path
) -> None:
    """Held for fraud review; refunded after the hold (imported); the review is then approved
    from the command line: refused with the reason, and the settle run pays nothing."""
    _, code = await inviter_with_code(db)
    paid_at = _now() - timedelta(days=12)
    async with web_client(db, tmp_path, Clock(paid_at)) as client:
        # An earlier refunded order is a fraud signal: the conversion waits for review.
        earlier = {
            "order_no": "R-0",
            "customer_external_id": "FRIEND",
            "amount": "99",
            "paid_at": (paid_at - timedelta(days=3)).isoformat(),
            "status": "refunded",
        }
        assert (await client.post("/api/v1/orders", json=earlier, headers=AUTH)).status == 201
        referral = await _first_order(client, code, paid_at)
    assert (referral["status"], referral["review_status"]) == ("converted", "pending")

    # Ten days later (the 7-day hold is over) the export says refunded.
    await import_rows(db, tmp_path, f"A-1,FRIEND,199.90,{_local_text(paid_at)},refunded")
    invitation = await _invitation(db)
    approved = await cli(db, "rewards", "approve", str(invitation.id), "--by", "店长")
    settled = await cli(db, "rewards", "settle", "--now", (_now() + timedelta(days=1)).isoformat())

    assert approved.exit_code == 1
    assert "无法批准" in approved.output and "订单已退款" in approved.output
    invitation = await _invitation(db)
    assert (invitation.status, invitation.reject_reason, invitation.review_status) == (
        "rejected",
        "order_refunded",
        "void",
    )
    assert await _rows(db, Reward) == []
    assert "奖励结算 0 个" in settled.output and await _coupons(db) == 0


async def test_settling_skips_a_conversion_whose_order_was_refunded_behind_its_back(
    db: Database, tmp_path: Path
) -> None:
    """Rows stored before the order service voided refunds (an order marked refunded while
    its conversion stayed converted): the settle run voids them instead of paying."""
    _, code = await inviter_with_code(db)
    paid_at = _now() - timedelta(days=10)
    async with web_client(db, tmp_path, Clock(paid_at)) as client:
        await _first_order(client, code, paid_at)
    async with db.uow() as uow:
        await uow.session.execute(
            update(Order).where(Order.order_no == "A-1").values(status="refunded")
        )
        await uow.commit()

    settled = await cli(db, "rewards", "settle")

    assert "奖励结算 0 个" in settled.output
    assert "订单已退款、作废的转化 1 个" in settled.output
    assert {r.revoke_reason for r in await _rows(db, Reward)} == {"order_refunded"}
    assert await _coupons(db) == 0


# --- the same rules through the API and the importer --------------------------------------


@pytest.mark.parametrize("via", ["api", "import"])
async def test_a_corrected_refund_restores_the_conversion_once(
    db: Database, tmp_path: Path, via: str
) -> None:
    """refunded → paid restores the conversion with fresh rewards and a full hold from the
    correction; the revoked rewards stay revoked; flipping again never pays twice."""
    _, code = await inviter_with_code(db)
    paid_at = _now() - timedelta(days=3)
    clock = Clock(paid_at)
    async with web_client(db, tmp_path, clock) as client:
        await _first_order(client, code, paid_at)
        shop = Shop(db, tmp_path, client, clock)
        clock.now = _now()
        await shop.report(via, paid_at=paid_at, status="refunded")
        assert (await _invitation(db)).status == "rejected"
        await shop.report(via, paid_at=paid_at, status="paid")
        restored = await _invitation(db)
        assert (restored.status, restored.reject_reason) == ("converted", None)
        assert restored.hold_until is not None
        assert restored.hold_until >= clock.now + timedelta(days=7) - timedelta(minutes=1)
        # A second round trip: revoked again, restored again.
        await shop.report(via, paid_at=paid_at, status="refunded")
        await shop.report(via, paid_at=paid_at, status="paid")

    settled = await cli(db, "rewards", "settle", "--now", (_now() + timedelta(days=8)).isoformat())

    assert "奖励结算 2 个" in settled.output and "发放优惠券 2 张" in settled.output
    rewards = await _rows(db, Reward)
    assert sorted((r.side, r.status) for r in rewards) == [
        ("invitee", "revoked"),
        ("invitee", "revoked"),
        ("invitee", "settled"),
        ("inviter", "revoked"),
        ("inviter", "revoked"),
        ("inviter", "settled"),
    ]
    assert await _coupons(db) == 2
    again = await cli(db, "rewards", "settle", "--now", (_now() + timedelta(days=9)).isoformat())
    assert "奖励结算 0 个" in again.output and await _coupons(db) == 2


async def _converted_then_corrected(
    db: Database, tmp_path: Path, via: str, first_paid_at: datetime, **correction: Any
) -> tuple[Invitation, Invitation]:
    """A friend converts through the API with an order paid at `first_paid_at`; then the shop
    reports the same order again through `via` with `correction` (a new paid_at or amount).
    The invitation before and after."""
    paid_at = first_paid_at
    _, code = await inviter_with_code(db)
    clock = Clock(paid_at)
    async with web_client(db, tmp_path, clock) as client:
        await _first_order(client, code, paid_at)
        before = await _invitation(db)
        clock.now = _now()
        report: dict[str, Any] = {"paid_at": paid_at, **correction}
        await Shop(db, tmp_path, client, clock).report(via, **report)
    return before, await _invitation(db)


@pytest.mark.parametrize("via", ["api", "import"])
async def test_a_payment_time_moved_out_of_the_window_expires_the_conversion(
    db: Database, tmp_path: Path, via: str
) -> None:
    paid_at = _now() - timedelta(days=2)
    # The shop corrects the payment time: 40 days after the join, outside the 30-day window.
    _, invitation = await _converted_then_corrected(
        db, tmp_path, via, paid_at, paid_at=paid_at + timedelta(days=40)
    )

    assert (invitation.status, invitation.reject_reason) == ("rejected", "expired")
    assert {(r.status, r.revoke_reason) for r in await _rows(db, Reward)} == {
        ("revoked", "order_changed")
    }


@pytest.mark.parametrize("via", ["api", "import"])
async def test_a_payment_time_moved_before_the_join_makes_an_existing_customer(
    db: Database, tmp_path: Path, via: str
) -> None:
    paid_at = _now() - timedelta(days=2)
    _, invitation = await _converted_then_corrected(
        db, tmp_path, via, paid_at, paid_at=paid_at - timedelta(days=1)
    )

    assert (invitation.status, invitation.reject_reason) == ("rejected", "existing_customer")
    assert {r.status for r in await _rows(db, Reward)} == {"revoked"}


@pytest.mark.parametrize("via", ["api", "import"])
async def test_a_later_payment_time_inside_the_window_moves_the_hold(
    db: Database, tmp_path: Path, via: str
) -> None:
    paid_at = _now() - timedelta(days=2)
    before, after = await _converted_then_corrected(
        db, tmp_path, via, paid_at, paid_at=paid_at + timedelta(days=5)
    )

    assert after.status == "converted" and after.id == before.id
    assert after.hold_until == paid_at + timedelta(days=12)
    rewards = await _rows(db, Reward)
    assert {(r.status, r.settle_after) for r in rewards} == {("pending", after.hold_until)}


@pytest.mark.parametrize("via", ["api", "import"])
async def test_an_amount_lowered_below_the_minimum_gives_the_conversion_to_the_next_order(
    db: Database, tmp_path: Path, via: str
) -> None:
    async with db.uow() as uow:
        await uow.session.execute(
            update(ReferralProgram)
            .where(ReferralProgram.key == "default")
            .values(min_order_fen=10000)
        )
        await uow.commit()
    _, code = await inviter_with_code(db)
    paid_at = _now() - timedelta(days=3)
    clock = Clock(paid_at)
    async with web_client(db, tmp_path, clock) as client:
        await _first_order(client, code, paid_at, amount="199.90")
        first = await _invitation(db)
        assert first.status == "converted"
        clock.now = _now()
        shop = Shop(db, tmp_path, client, clock)
        # Corrected to ¥50, under the program's ¥100 minimum: the conversion is taken back
        # and the invitation waits for a qualifying order.
        await shop.report(via, paid_at=paid_at, amount="50")
        waiting = await _invitation(db)
        assert (waiting.status, waiting.converting_order_id) == ("joined", None)
        assert {r.revoke_reason for r in await _rows(db, Reward)} == {"order_changed"}
        # The next order of ¥150 within the window converts it, with fresh rewards.
        second = {
            "order_no": "A-2",
            "customer_external_id": "FRIEND",
            "amount": "150",
            "paid_at": (paid_at + timedelta(days=1)).isoformat(),
        }
        assert (await client.post("/api/v1/orders", json=second, headers=AUTH)).status == 201

    converted = await _invitation(db)
    assert (
        converted.status == "converted"
        and converted.converting_order_id != first.converting_order_id
    )
    assert sorted(r.status for r in await _rows(db, Reward)) == [
        "pending",
        "pending",
        "revoked",
        "revoked",
    ]
