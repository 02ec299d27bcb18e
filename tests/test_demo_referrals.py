"""The demo's referral activity: a living programme with every state a newcomer should see, made
through the referral services, reproducible from the seed, and still every stage and grade."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from config.reports import ReferralReportRules
from config.rules import GradingRules, LifecycleRules
from models import Customer
from models.db import Database
from models.demo import create_demo_data
from models.demo_history import classify_history
from models.demo_referrals import DemoReferralStats, create_demo_referrals
from models.migrate import upgrade
from models.referral import balances
from models.referral.reward_tables import Reward, RewardLedgerEntry
from models.referral.tables import Invitation, ReferralClick, ReferralCode
from models.reports import ReportPeriod, referral_funnel, top_inviters

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = date(2024, 6, 30)
CUSTOMERS = 400


async def _demo(db: Database, seed: int = 7) -> DemoReferralStats:
    await create_demo_data(db, as_of=AS_OF, tz=SHANGHAI, customers=CUSTOMERS, seed=seed)
    return await create_demo_referrals(db, as_of=AS_OF, tz=SHANGHAI, seed=seed)


async def test_the_programme_is_alive_after_the_demo(db: Database) -> None:
    stats = await _demo(db)
    period = ReportPeriod(as_of=AS_OF, tz=SHANGHAI)
    async with db.uow() as uow:
        session = uow.session
        leaders = await top_inviters(session, period=period, limit=5)
        funnel = await referral_funnel(session, period=period, rules=ReferralReportRules())
        invitations = Counter(
            (status, reason, review)
            for status, reason, review in (
                await session.execute(
                    select(Invitation.status, Invitation.reject_reason, Invitation.review_status)
                )
            ).all()
        )
        rewards = Counter(
            (kind, side, status)
            for kind, side, status in (
                await session.execute(select(Reward.kind, Reward.side, Reward.status))
            ).all()
        )
        channels = set(
            (
                await session.execute(
                    select(Invitation.channel).where(Invitation.status != "clicked")
                )
            ).scalars()
        )

    # The leaderboard: the top inviter brought at least the milestone's three paying friends.
    assert leaders and leaders[0].conversions >= 3
    # The funnel narrows at every step and nothing is empty.
    clicks = sum(row.clicks or 0 for row in funnel.by_program)
    joins = sum(row.joins for row in funnel.by_program)
    conversions = sum(row.conversions for row in funnel.by_program)
    rewarded = sum(row.rewarded for row in funnel.by_program)
    assert clicks >= joins >= conversions >= rewarded > 0
    assert stats.clicks == clicks and stats.codes > CUSTOMERS // 20

    # Friends were identified over every chat channel, not only the link.
    assert {"wecom_contact", "wecom_group", "wechat_qr", "feishu_group", "link"} <= channels
    # The natural rejections, one refund inside the hold, fraud reviews open and decided.
    for reason in ("self_referral", "existing_customer", "already_attributed", "order_refunded"):
        assert sum(n for (s, r, _), n in invitations.items() if r == reason) >= 1, reason
    assert invitations[("converted", None, "pending")] >= 1  # waiting for staff
    assert invitations[("rejected", "suspected_fraud", "denied")] == 1
    assert invitations[("rewarded", None, "approved")] == 2
    assert stats.under_review == invitations[("converted", None, "pending")]
    assert stats.refunds == 1

    # Rewards: milestones, a revoked pair, and points, coupons and cash both pending and settled.
    assert any(side == "milestone" for _, side, _ in rewards)
    assert rewards[("coupon", "inviter", "revoked")] + rewards[("cash", "inviter", "revoked")] == 1
    for kind in ("points", "coupon", "cash"):
        for status in ("pending", "settled"):
            assert sum(n for (k, _, s), n in rewards.items() if (k, s) == (kind, status)), (
                kind,
                status,
            )


async def test_ledger_balances_equal_the_rewards_behind_them(db: Database) -> None:
    await _demo(db)
    async with db.uow() as uow:
        session = uow.session

        def total(kind: str, status: str, column: Any) -> Any:
            matches = (Reward.kind == kind) & (Reward.status == status)
            return func.sum(case((matches, column), else_=0))

        expected = {
            row.customer_id: (int(row[1]), int(row[2]), int(row[3]), int(row[4]))
            for row in (
                await session.execute(
                    select(
                        Reward.customer_id,
                        total("points", "settled", Reward.points),
                        total("points", "pending", Reward.points),
                        total("cash", "pending", Reward.amount_fen),
                        total("cash", "settled", Reward.amount_fen),
                    ).group_by(Reward.customer_id)
                )
            ).all()
        }
        ledger = {
            row.customer_id: tuple(int(value) for value in row[1:])
            for row in (
                await session.execute(
                    select(
                        RewardLedgerEntry.customer_id,
                        func.sum(RewardLedgerEntry.points_available),
                        func.sum(RewardLedgerEntry.points_pending),
                        func.sum(RewardLedgerEntry.cash_pending_fen),
                        func.sum(RewardLedgerEntry.cash_payable_fen),
                    ).group_by(RewardLedgerEntry.customer_id)
                )
            ).all()
        }
        assert ledger == expected
        assert any(sum(values) for values in expected.values())
        # The balance service a customer's /points reads agrees, for the busiest customers.
        richest = sorted(expected, key=lambda c: (-sum(expected[c]), c))[:5]
        for customer_id in richest:
            seen = await balances(session, customer_id)
            assert (
                seen.points_available,
                seen.points_pending,
                seen.cash_pending_fen,
                seen.cash_payable_fen,
            ) == expected[customer_id]


async def _fingerprint(db: Database) -> str:
    """Everything the seed decides, by external id (the codes themselves come from `secrets`)."""
    inviter, invitee = aliased(Customer), aliased(Customer)
    digest = hashlib.sha256()
    async with db.uow() as uow:
        queries = (
            select(
                inviter.external_id,
                invitee.external_id,
                Invitation.channel,
                Invitation.status,
                Invitation.reject_reason,
                Invitation.review_status,
                Invitation.visitor_hash,
                Invitation.joined_at,
                Invitation.converted_at,
            )
            .join(inviter, inviter.id == Invitation.inviter_customer_id)
            .outerjoin(invitee, invitee.id == Invitation.invitee_customer_id)
            .order_by(Invitation.id),
            select(Customer.external_id, Reward.side, Reward.kind, Reward.status, Reward.amount_fen)
            .join(Customer, Customer.id == Reward.customer_id)
            .order_by(Reward.id),
            select(Customer.external_id, ReferralClick.visitor_hash, ReferralClick.created_at)
            .join(ReferralCode, ReferralCode.id == ReferralClick.code_id)
            .join(Customer, Customer.id == ReferralCode.customer_id)
            .order_by(ReferralClick.id),
        )
        for query in queries:
            for row in (await uow.session.execute(query)).all():
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


async def test_same_seed_same_referrals(db: Database, tmp_path: Path) -> None:
    """A second demo with the same seed, in a fresh SQLite database (so on the PostgreSQL run
    this also shows both backends play the same script)."""
    first = await _demo(db, seed=7)
    print_a = await _fingerprint(db)
    other = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'again.db'}")
    try:
        await upgrade(other)
        again = await _demo(other, seed=7)
        print_b = await _fingerprint(other)
    finally:
        await other.dispose()
    assert again == first
    assert print_b == print_a


async def test_every_stage_and_grade_still_occurs(db: Database) -> None:
    await _demo(db)
    summary = await classify_history(
        db, as_of=AS_OF, tz=SHANGHAI, rules=LifecycleRules(), grading=GradingRules()
    )
    assert all(summary.counts[stage] > 0 for stage in summary.counts)
    assert set(summary.counts) == {"prospect", "new", "growing", "mature", "declining", "churned"}
    assert all(summary.grades[grade] > 0 for grade in ("A", "B", "C"))
