"""The customer card: who matches a query, what the card says, and how it reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from click.testing import CliRunner
from referral_world import World

from bot.cli import main
from handlers.customer_card_text import render_card_text
from models import (
    Customer,
    CustomerGrade,
    FollowUp,
    Order,
    Staff,
    StageAssignment,
    StageTransition,
)
from models.customer_card import CustomerCard, average_fen, build_card, find_customers
from models.db import Database
from models.referral.codes import get_or_create_code
from models.referral.tables import ReferralCode
from models.stages import LifecycleRun

SHANGHAI = timezone(timedelta(hours=8))
BASE_URL = "https://fission.example.com"


def _text(card: CustomerCard, locale: str = "zh-CN") -> str:
    return render_card_text(card, locale, public_base_url=BASE_URL)


async def _add(db: Database, *rows: Any) -> list[int]:
    """Insert rows (committed) and return the ids of those that have one."""
    async with db.uow() as uow:
        uow.session.add_all(rows)
        await uow.session.flush()
        ids = [row.id for row in rows if hasattr(row, "id")]
        await uow.commit()
    return ids


async def _customer(db: Database, external_id: str, name: str | None, phone: str | None) -> int:
    (customer_id,) = await _add(db, Customer(external_id=external_id, name=name, phone=phone))
    return customer_id


# --- matching -------------------------------------------------------------------------------


async def test_exact_external_id_wins_over_name_matches(db: Database) -> None:
    await _customer(db, "wang", "王小明", "13800000001")
    await _customer(db, "C2", "Wang Fang", "13800000002")
    await _customer(db, "C3", "wangwei", "13800000003")

    by_id = await find_customers(db, "wang")
    assert [(m.external_id, m.matched_by) for m in by_id] == [("wang", "external_id")]

    # The id is matched exactly (case and all); a name match ignores case.
    by_name = await find_customers(db, "Wang")
    assert sorted(m.external_id for m in by_name) == ["C2", "C3"]
    assert {m.matched_by for m in by_name} == {"name"}


async def test_phone_matches_however_it_is_typed(db: Database) -> None:
    await _customer(db, "C1", "张三", "13812348888")
    await _customer(db, "C2", "李四", "139-0000-1111")
    for typed in ("13812348888", "+86 138 1234 8888", "138-1234-8888", "8613812348888"):
        matches = await find_customers(db, typed)
        assert [(m.external_id, m.matched_by) for m in matches] == [("C1", "phone")], typed
    # a stored number with dashes is found by its plain digits
    assert [m.external_id for m in await find_customers(db, "13900001111")] == ["C2"]
    # part of a phone number is not a match (and not a name either)
    assert await find_customers(db, "1381234") == []


async def test_name_substring_lists_whole_name_first_and_respects_limit(db: Database) -> None:
    await _customer(db, "C1", "张三丰", "13800000001")
    await _customer(db, "C2", "李张", "13800000002")
    await _customer(db, "C3", "张三", "13800000003")
    await _customer(db, "C4", "王五", "13800000004")

    assert [m.external_id for m in await find_customers(db, "张三")] == ["C3", "C1"]
    assert sorted(m.external_id for m in await find_customers(db, "张")) == ["C1", "C2", "C3"]
    assert len(await find_customers(db, "张", limit=2)) == 2
    assert await find_customers(db, "赵") == []
    assert await find_customers(db, "   ") == []
    # LIKE wildcards typed by a user are plain characters
    assert await find_customers(db, "%") == []


async def test_match_list_is_masked_and_carries_the_stage(db: Database) -> None:
    first = await _customer(db, "C1", "张三", "13812348888")
    await _customer(db, "C2", "张三丰", "13912345678")
    await _add(
        db,
        StageAssignment(
            customer_id=first,
            stage="growing",
            since=date(2024, 5, 1),
            rule="growing_repeat_orders",
            metrics={},
        ),
    )
    matches = await find_customers(db, "张")
    assert [(m.masked_name, m.masked_phone, m.stage) for m in matches] == [
        ("张*", "138****8888", "growing"),
        ("张**", "139****5678", None),
    ]


# --- the card -------------------------------------------------------------------------------


async def test_card_masks_personal_data(db: Database) -> None:
    customer_id = await _customer(db, "C1", "欧阳娜娜", "13812348888")
    card = await build_card(db, customer_id, tz=SHANGHAI)
    assert (card.masked_name, card.masked_phone) == ("欧***", "138****8888")
    text = _text(card)
    assert "欧***" in text and "138****8888" in text
    assert "欧阳娜娜" not in text and "13812348888" not in text


async def test_money_counts_only_paid_orders_and_dates_are_local(db: Database) -> None:
    customer_id = await _customer(db, "C1", "张三", "13812348888")
    await _add(
        db,
        # 2024-03-01 23:30 in Shanghai is still 1 March locally (15:30 UTC)
        Order(
            order_no="O1",
            customer_id=customer_id,
            amount_fen=123450,
            paid_at=datetime(2024, 3, 1, 23, 30, tzinfo=SHANGHAI),
        ),
        Order(
            order_no="O2",
            customer_id=customer_id,
            amount_fen=9999,
            paid_at=datetime(2024, 3, 15, 12, 0, tzinfo=SHANGHAI),
        ),
        # 00:30 on 31 March in Shanghai is 30 March in UTC: the card shows the local date
        Order(
            order_no="O3",
            customer_id=customer_id,
            amount_fen=1,
            paid_at=datetime(2024, 3, 30, 16, 30, tzinfo=UTC),
        ),
        Order(
            order_no="O4",
            customer_id=customer_id,
            amount_fen=50000,
            paid_at=datetime(2024, 4, 2, 10, 0, tzinfo=SHANGHAI),
            status="refunded",
        ),
    )
    card = await build_card(db, customer_id, tz=SHANGHAI)
    # 1234.50 + 99.99 + 0.01 = 1334.50; 133450 / 3 = 44483.33… → 44483 fen
    assert card.orders.count == 3
    assert card.orders.total_fen == 133450
    assert card.orders.aov_fen == 44483
    assert card.orders.refunded_count == 1
    assert (card.orders.first_on, card.orders.last_on) == (date(2024, 3, 1), date(2024, 3, 31))
    text = _text(card)
    assert "订单：3 笔，合计 ¥1,334.50，客单价 ¥444.83" in text
    assert "首单 2024-03-01，最近一单 2024-03-31" in text
    assert "另有 1 笔已退款" in text


async def test_order_totals_are_those_of_the_date_the_stage_describes(db: Database) -> None:
    customer_id = await _customer(db, "C1", "张三", "13812348888")

    def paid(order_no: str, at: datetime) -> Order:
        return Order(order_no=order_no, customer_id=customer_id, amount_fen=10_000, paid_at=at)

    await _add(
        db,
        paid("O1", datetime(2024, 6, 20, 12, 0, tzinfo=SHANGHAI)),
        # 23:30 on 30 June in Shanghai (15:30 UTC): still the run's date
        paid("O2", datetime(2024, 6, 30, 23, 30, tzinfo=SHANGHAI)),
        paid("O3", datetime(2024, 7, 1, 0, 30, tzinfo=SHANGHAI)),
        LifecycleRun(as_of=date(2024, 6, 30), counts={}, grades={}, transitions=0),
    )
    card = await build_card(db, customer_id, tz=SHANGHAI)
    assert card.orders.as_of == date(2024, 6, 30)
    assert (card.orders.count, card.orders.total_fen, card.orders.later_count) == (2, 20_000, 1)
    assert card.orders.last_on == date(2024, 6, 30)
    english = _text(card, "en")
    assert "Orders as of 2024-06-30: 2, total ¥200.00, average ¥100.00" in english
    assert "  plus 1 paid after 2024-06-30 (counted by the next run)" in english


def test_average_rounds_half_up_in_whole_fen() -> None:
    assert average_fen(5, 2) == 3  # 2.5 fen → 3
    assert average_fen(7, 3) == 2  # 2.33 fen → 2
    assert average_fen(8, 3) == 3  # 2.67 fen → 3
    assert average_fen(0, 0) == 0


async def test_stage_grade_and_why_are_shown(db: Database) -> None:
    (staff_id,) = await _add(db, Staff(name="李娜", role="agent"))
    (customer_id,) = await _add(
        db, Customer(external_id="C9", name="王强", phone="13700001234", owner_staff_id=staff_id)
    )
    await _add(
        db,
        StageAssignment(
            customer_id=customer_id,
            stage="mature",
            since=date(2024, 5, 1),
            rule="mature.signals",
            metrics={
                "signals": ["no_lapse", "top_revenue"],
                "revenue_90d_fen": 360000,
                "revenue_rank": 3,
                "windows_with_orders": 3,
            },
        ),
        # the run whose date the card shows ("依据 … 的数据")
        LifecycleRun(
            as_of=date(2024, 6, 30),
            counts={},
            grades={},
            transitions=0,
            finished_at=datetime(2024, 6, 30, 18, tzinfo=UTC),
        ),
        CustomerGrade(
            customer_id=customer_id,
            grade="A",
            orders_365d=14,
            aov_fen=123450,
            ltv_fen=1728300,
        ),
    )
    card = await build_card(db, customer_id, tz=SHANGHAI)
    assert card.owner_name == "李娜"
    assert card.stage is not None and card.stage.metrics["revenue_90d_fen"] == 360000
    text = _text(card)
    assert "负责人：李娜" in text
    assert "阶段：成熟客户（自 2024-05-01 起，依据 2024-06-30 的数据）" in text
    assert "原因：满足成熟客户的多项信号" in text
    assert (
        "指标：成熟信号 连续三个月都有下单、近90天营收居前，近90天营收 ¥3,600.00，营收排名 3，"
        "windows_with_orders=3"
    ) in text  # a key the card has no words for is still shown, as it is
    assert "Why: meets enough mature-customer signals" in _text(card, "en")
    # the only graded customer: at or above everyone in every metric
    assert "分级：A（得分 1.00；近一年 14 单，客单价 ¥1,234.50，累计 ¥17,283.00" in text


async def test_transition_history_reads_oldest_first(db: Database) -> None:
    customer_id = await _customer(db, "C1", "张三", "13812348888")
    # inserted out of order on purpose
    await _add(
        db,
        StageTransition(
            customer_id=customer_id,
            from_stage="new",
            to_stage="growing",
            as_of=date(2024, 4, 1),
            rule="growing",
        ),
        StageTransition(
            customer_id=customer_id,
            from_stage=None,
            to_stage="prospect",
            as_of=date(2024, 1, 1),
            rule="prospect",
        ),
        StageTransition(
            customer_id=customer_id,
            from_stage="growing",
            to_stage="mature",
            as_of=date(2024, 6, 1),
            rule="mature",
        ),
        StageTransition(
            customer_id=customer_id,
            from_stage="prospect",
            to_stage="new",
            as_of=date(2024, 3, 1),
            rule="new",
        ),
    )
    card = await build_card(db, customer_id, tz=SHANGHAI)
    assert [t.as_of for t in card.transitions] == [
        date(2024, 1, 1),
        date(2024, 3, 1),
        date(2024, 4, 1),
        date(2024, 6, 1),
    ]
    assert (
        "阶段变化：2024-01-01 潜在客户 → 2024-03-01 新客户 → 2024-04-01 成长客户 "
        "→ 2024-06-01 成熟客户"
    ) in _text(card)


async def test_unclassified_customer_says_so_plainly(db: Database) -> None:
    customer_id = await _customer(db, "C1", "张三", None)
    card = await build_card(db, customer_id, tz=SHANGHAI)
    assert card.stage is None and card.grade is None and card.transitions == ()
    text = _text(card)
    assert "阶段：尚未分类" in text
    assert "分级：无（没有有效订单）" in text
    assert "订单：暂无有效订单" in text
    english = _text(card, "en")
    assert "Stage: not classified yet" in english
    assert "Orders: no paid orders" in english


async def test_last_three_follow_ups_newest_first(db: Database) -> None:
    (staff_id,) = await _add(db, Staff(name="刘洋", role="agent"))
    customer_id = await _customer(db, "C1", "张三", None)
    await _add(
        db,
        *[
            FollowUp(
                customer_id=customer_id,
                staff_id=staff_id,
                note=f"第{day}次回访",
                created_at=datetime(2024, 6, day, 10, 0, tzinfo=SHANGHAI),
                next_due_on=date(2024, 6, day + 7) if day == 4 else None,
            )
            for day in (1, 2, 3, 4)
        ],
    )
    card = await build_card(db, customer_id, tz=SHANGHAI)
    assert [f.note for f in card.follow_ups] == ["第4次回访", "第3次回访", "第2次回访"]
    text = _text(card)
    assert "2024-06-04 10:00 刘洋：第4次回访（下次 2024-06-11）" in text
    assert "第1次回访" not in text


async def test_the_card_lists_the_customers_referral_codes_with_their_links(
    db: Database,
) -> None:
    customer_id = await _customer(db, "C1", "张三", None)
    assert "邀请码：暂无（客户发送“邀请”即可获得）" in _text(
        await build_card(db, customer_id, tz=SHANGHAI)
    )
    now = datetime(2024, 6, 1, 10, 0, tzinfo=SHANGHAI)
    async with db.uow() as uow:
        world = World(uow.session)
        vip = await world.program("vip", name="高价值客户专属邀请", priority=10)
        default = await world.default_program()
        codes = [
            await get_or_create_code(uow.session, customer_id=customer_id, now=now, program_id=p.id)
            for p in (default, vip)
        ]
        await uow.commit()
    default_code, vip_code = (code.code for code in codes if code is not None)

    card = await build_card(db, customer_id, tz=SHANGHAI)
    lines = [line for line in _text(card).splitlines() if line.startswith("邀请码")]
    assert lines == [  # by the programs' priority
        f"邀请码：{vip_code}（高价值客户专属邀请）{BASE_URL}/r/{vip_code}",
        f"邀请码：{default_code}（老带新默认活动）{BASE_URL}/r/{default_code}",
    ]
    assert f"Referral code: {vip_code} (高价值客户专属邀请) {BASE_URL}/r/{vip_code}" in _text(
        card, "en"
    )


async def test_closed_and_opted_out_customer(db: Database) -> None:
    (customer_id,) = await _add(
        db,
        Customer(
            external_id="C1",
            name="张三",
            status="closed",
            closed_at=datetime(2024, 5, 20, 9, 0, tzinfo=SHANGHAI),
            marketing_opt_out=True,
        ),
    )
    text = _text(await build_card(db, customer_id, tz=SHANGHAI))
    assert "状态：已注销（2024-05-20）" in text and "已退订营销消息" in text


# --- the command ----------------------------------------------------------------------------


def _seed_for_cli(db_url: str) -> None:
    async def seed() -> None:
        db = Database.from_url(db_url)
        try:
            await _customer(db, "C1", "张三", "13812348888")
            await _customer(db, "C2", "张三丰", "13912345678")
            li = await _customer(db, "C3", "李四", "13700001111")
            async with db.uow() as uow:
                program = await World(uow.session).default_program()
                code = ReferralCode(code="K7QM3XWP", program_id=program.id, customer_id=li)
                uow.session.add(code)
                await uow.commit()
        finally:
            await db.dispose()

    asyncio.run(seed())


def test_cli_show_card_list_and_not_found(db_url: str) -> None:
    _seed_for_cli(db_url)
    runner = CliRunner()
    env = {
        "FISSION_DATABASE_URL": db_url,
        "FISSION_LOCALE": "zh-CN",
        "FISSION_PUBLIC_BASE_URL": "https://shop.example.com",
    }

    one = runner.invoke(main, ["customer", "show", "13700001111"], env=env)
    assert one.exit_code == 0, one.output
    assert "客户 C3　李*　137****1111" in one.output
    assert "阶段：尚未分类" in one.output
    code = "K7QM3XWP"
    assert f"邀请码：{code}（老带新默认活动）https://shop.example.com/r/{code}" in one.output

    several = runner.invoke(main, ["customer", "show", "张"], env=env)
    assert several.exit_code == 0, several.output
    assert "找到 2 位与“张”匹配的客户" in several.output
    assert " 1. 张*　138****8888　C1　未分类" in several.output
    assert " 2. 张**　139****5678　C2　未分类" in several.output
    assert "fission customer show C1" in several.output
    assert "张三" not in several.output

    limited = runner.invoke(main, ["customer", "show", "张", "--limit", "1"], env=env)
    assert "超过 1 位" in limited.output and "C2" not in limited.output

    none = runner.invoke(main, ["customer", "show", "赵"], env=env)
    assert none.exit_code == 1
    assert "没有找到与“赵”匹配的客户" in none.output
    assert "Traceback" not in none.output
