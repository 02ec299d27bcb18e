"""The reports read what the referral engine writes: codes, clicks, joins, conversions and
rejections recorded through models/referral's own services, on the default program that the
migrations seed."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from reports_population import Builder, T, local
from sqlalchemy import select

from config.reports import ReferralReportRules
from models import Order, ReferralProgram
from models.db import Database
from models.referral.attribution import on_order_paid, record_click, record_join
from models.referral.codes import get_or_create_code
from models.reports import ReportPeriod, referral_funnel, referral_table

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_reports_count_what_the_referral_services_recorded(db: Database) -> None:
    now = local(2024, 6, 10)
    async with db.uow() as uow:
        session = uow.session
        b = Builder(session)
        # The inviter has ordered before (returning, grade B, active); friends are new.
        inviter = await b.customer(
            "INV",
            name="周杰",
            phone="13811112222",
            grade="B",
            orders=(local(2024, 1, 5), local(2024, 6, 1)),
            created_at=local(2024, 1, 1),
        )
        # accounts created days apart: no "chain of accounts" fraud signal
        friend = await b.customer(
            "F1", name="吴彦", phone="13933334444", created_at=local(2024, 6, 8)
        )
        twin = await b.customer(
            "F2", name="周杰的小号", phone="138-1111-2222", created_at=local(2024, 6, 9)
        )
        code = await get_or_create_code(session, customer_id=inviter, now=now)
        assert code is not None
        # the same visitor twice on one day is one click
        for minutes in (0, 5):
            await record_click(
                session,
                code=code.code,
                visitor_hash="visitor-1",
                now=now + timedelta(minutes=minutes),
            )
        joined = await record_join(
            session,
            invitee_customer_id=friend,
            code=code.code,
            channel="link",
            now=now + timedelta(minutes=10),
            visitor_hash="visitor-1",
        )
        assert joined.outcome == "joined"
        # the same phone number as the inviter: a self-referral
        rejected = await record_join(
            session,
            invitee_customer_id=twin,
            code=code.code,
            channel="wecom_contact",
            now=now + timedelta(minutes=20),
        )
        assert (rejected.outcome, rejected.reason) == ("rejected", "self_referral")
        order = Order(
            order_no="FIRST-F1",
            customer_id=friend,
            amount_fen=19900,
            paid_at=now + timedelta(hours=2),
        )
        session.add(order)
        await session.flush()
        converted = await on_order_paid(session, order=order, now=now + timedelta(hours=2))
        assert converted.outcome == "converted", converted
        program_key = (
            await session.execute(
                select(ReferralProgram.key).where(ReferralProgram.id == code.program_id)
            )
        ).scalar_one()
        await uow.commit()

    period = ReportPeriod(as_of=T, tz=SHANGHAI)
    rules = ReferralReportRules()
    async with db.uow() as uow:
        table = await referral_table(uow.session, period=period, rules=rules)
        funnel = await referral_funnel(uow.session, period=period, rules=rules)

    returning = table.row("returning")
    assert (returning.customers, returning.participants) == (1, 1)
    assert (returning.invitations, returning.conversions) == (2, 1)
    assert returning.channels == "分享链接 1、企业微信加好友 1"
    assert returning.feedback == "拒绝 1（自我推荐 1）"
    # F1 ordered on June 10 (new, active, ungraded); F2 never ordered (new, dormant).
    assert (table.row("new").customers, table.row("new").participants) == (2, 0)

    program = next(r for r in funnel.rows("program") if r.key == program_key)
    assert (program.clicks, program.invitations, program.joins, program.conversions) == (1, 2, 1, 1)
    assert (program.rejected, program.participants) == (1, 1)
    link = next(r for r in funnel.rows("channel") if r.key == "link")
    assert (link.clicks, link.invitations, link.conversions) == (1, 1, 1)
