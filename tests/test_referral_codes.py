"""Personal codes and which program a customer gets (segments, priority, dates)."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from referral_world import World, local
from sqlalchemy import select

from config.referral import Segment
from models import (
    CouponTemplate,
    Customer,
    CustomerGrade,
    CustomerTag,
    ReferralCode,
    ReferralProgram,
    StageAssignment,
)
from models.db import Database
from models.referral import get_or_create_code, normalize_code, program_rules
from models.referral.codes import CODE_ALPHABET, CODE_LENGTH, new_code
from models.referral.segments import CustomerFacts, segment_matches

NOW = local(6, 1)


@pytest.fixture
async def world(db: Database) -> AsyncIterator[World]:
    async with db.uow() as uow:
        yield World(uow.session)


def test_codes_are_short_and_unambiguous() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert CODE_LENGTH <= 10
    for ambiguous in "0O1Il_":
        assert ambiguous not in CODE_ALPHABET
    assert all(re.fullmatch(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}", c) for c in codes)
    assert normalize_code(" ab2cd3ef ") == "AB2CD3EF"
    assert normalize_code("AB_CD") is None and normalize_code("") is None
    assert normalize_code("O0O0O0O0") is None


async def test_one_stable_code_per_customer_and_program(world: World) -> None:
    vip = await world.program("vip")
    alice, bob = await world.customers("alice", "bob")
    s = world.session

    first = await get_or_create_code(s, customer_id=alice, now=NOW, program_id=vip.id)
    again = await get_or_create_code(s, customer_id=alice, now=NOW, program_id=vip.id)
    bobs = await get_or_create_code(s, customer_id=bob, now=NOW, program_id=vip.id)
    default = await get_or_create_code(
        s, customer_id=alice, now=NOW, program_id=(await world.default_program()).id
    )

    assert first is not None and again is not None and bobs is not None and default is not None
    assert first.code == again.code and first.id == again.id
    assert len({first.code, bobs.code, default.code}) == 3
    assert await world.count(ReferralCode, customer_id=alice) == 2


async def test_no_code_without_a_fitting_program_or_an_open_customer(world: World) -> None:
    default = await world.default_program()
    default.active = False
    alice = await world.customer("alice")
    ended = await world.program("ended", ends_at=local(5, 1))
    s = world.session

    assert await get_or_create_code(s, customer_id=alice, now=NOW) is None
    assert await get_or_create_code(s, customer_id=alice, now=NOW, program_id=ended.id) is None
    assert await get_or_create_code(s, customer_id=999_999, now=NOW) is None
    default.active = True
    closed = await world.customer("closed")
    customer = await s.get(Customer, closed)
    assert customer is not None
    customer.status = "closed"
    assert await get_or_create_code(s, customer_id=closed, now=NOW) is None
    assert await get_or_create_code(s, customer_id=alice, now=NOW) is not None


@pytest.fixture
def rigged_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """`secrets.choice` (the randomness boundary) replays a fixed sequence of symbols."""
    queue: list[str] = []
    original = secrets.choice

    def choice(seq: str) -> str:
        return queue.pop(0) if queue else original(seq)

    monkeypatch.setattr(secrets, "choice", choice)
    yield queue


async def test_a_colliding_code_is_drawn_again(world: World, rigged_choice: list[str]) -> None:
    program = await world.program()
    alice, bob = await world.customers("alice", "bob")
    rigged_choice.extend("AAAAAAAA")
    taken = await get_or_create_code(
        world.session, customer_id=alice, now=NOW, program_id=program.id
    )
    rigged_choice.extend("AAAAAAAA" + "BBBBBBBB")
    drawn = await get_or_create_code(world.session, customer_id=bob, now=NOW, program_id=program.id)

    assert taken is not None and taken.code == "AAAAAAAA"
    assert drawn is not None and drawn.code == "BBBBBBBB"


async def test_the_first_live_program_whose_segment_matches_wins(world: World) -> None:
    s = world.session
    await world.program("vip", priority=10, segment={"value": "high"})
    await world.program("north", priority=20, segment={"regions": ["华北"], "tags": ["老板"]})
    await world.program("later", priority=5, starts_at=local(7, 1))
    await world.program("grow", priority=30, segment={"stages": ["growing"]})
    a_grade, c_grade, northern, grower, plain = await world.customers("a", "c", "n", "g", "p")
    s.add(
        StageAssignment(
            customer_id=grower,
            stage="growing",
            since=NOW.date(),
            rule="growing.repeat_orders",
            metrics={},
        )
    )
    s.add_all(
        [
            CustomerGrade(
                customer_id=cid,
                grade=grade,
                orders_365d=1,
                aov_fen=1,
                ltv_fen=1,
            )
            for cid, grade in ((a_grade, "A"), (c_grade, "C"))
        ]
    )
    customer = await s.get(Customer, northern)
    assert customer is not None
    customer.region = "华北"
    s.add(CustomerTag(customer_id=northern, tag="老板"))
    await s.flush()

    async def program_of(customer_id: int) -> str:
        code = await get_or_create_code(s, customer_id=customer_id, now=NOW)
        assert code is not None
        program = await s.get(ReferralProgram, code.program_id)
        assert program is not None
        return program.key

    assert await program_of(a_grade) == "vip"
    assert await program_of(c_grade) == "default"
    assert await program_of(northern) == "north"
    assert await program_of(grower) == "grow"
    assert await program_of(plain) == "default"


def _facts(**overrides: object) -> CustomerFacts:
    values: dict[str, object] = {
        "stage": "growing",
        "grade": "B",
        "region": "华东",
        "industry": "零售",
        "tags": frozenset({"会员"}),
        "first_paid_at": NOW - timedelta(days=100),
        "last_paid_at": NOW - timedelta(days=10),
    }
    values.update(overrides)
    return CustomerFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("segment", "facts", "expected"),
    [
        ({}, {}, True),
        ({"stages": ["new", "growing"]}, {}, True),
        ({"stages": ["mature"]}, {}, False),
        ({"grades": ["A"]}, {}, False),
        ({"value": "high"}, {"grade": "B"}, True),
        ({"value": "high"}, {"grade": "C"}, False),
        ({"value": "low"}, {"grade": "C"}, True),
        ({"value": "low"}, {"grade": None}, False),  # ungraded is neither high nor low
        ({"customer_type": "new"}, {"first_paid_at": None}, True),
        ({"customer_type": "new"}, {"first_paid_at": NOW - timedelta(days=30)}, True),
        ({"customer_type": "new"}, {"first_paid_at": NOW - timedelta(days=31)}, False),
        ({"customer_type": "returning"}, {}, True),
        ({"activity": "active"}, {"last_paid_at": NOW - timedelta(days=60)}, True),
        ({"activity": "active"}, {"last_paid_at": NOW - timedelta(days=61)}, False),
        ({"activity": "dormant"}, {"last_paid_at": None}, True),
        ({"regions": ["华东", "华南"]}, {}, True),
        ({"industries": ["教育"]}, {}, False),
        ({"tags": ["会员", "VIP"]}, {}, True),
        ({"tags": ["VIP"]}, {}, False),
        ({"value": "high", "activity": "dormant"}, {}, False),  # every field must hold
    ],
)
def test_segment_fields(
    segment: dict[str, object], facts: dict[str, object], expected: bool
) -> None:
    assert segment_matches(Segment.model_validate(segment), _facts(**facts), NOW) is expected


async def test_the_default_program_exists_from_the_first_upgrade(world: World) -> None:
    default = await world.default_program()
    rules = program_rules(default)

    assert default.active and default.attribution_window_days == 30 and default.hold_days == 7
    assert rules.inviter_reward is not None and rules.invitee_reward is not None
    assert (rules.inviter_reward.kind, rules.invitee_reward.kind) == ("coupon", "coupon")
    assert [(t.at, t.reward.coupon_template) for t in rules.milestones] == [(3, "milestone_3_50")]
    templates = (await world.session.execute(select(CouponTemplate))).scalars()
    assert sorted((t.name, t.value_fen) for t in templates) == [
        ("3人达成奖 ¥50", 5000),
        ("回归礼券 ¥50", 5000),  # the default campaigns' (migration 0009)
        ("好友专享券 ¥20", 2000),
        ("老客回馈券 ¥30", 3000),
        ("邀请奖励券 ¥20", 2000),
    ]
