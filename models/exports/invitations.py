"""Who referred whom, one row per invitation:
邀请人, 被邀请人, 邀请码, 渠道, 状态, 原因, 奖励, 时间.

An invitation is, as in every referral report (models/reports/facts.py), a row with an
identified invitee; bare landing-page clicks are counted by the funnel, not listed here. People
show as their masked name (or masked phone) with their customer id; status, reason and channel
in words, not codes; 奖励 is what each side gets for this invitation and where that reward
stands. Oldest first, the order they happened in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Label, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.customer import Customer
from models.exports.table import (
    ExportEnv,
    ExportRow,
    ExportTable,
    Rows,
    stream_rows,
)
from models.masking import mask_name, mask_phone
from models.money import format_fen
from models.referral.reward_tables import CouponTemplate, Reward
from models.referral.tables import Invitation, ReferralCode
from models.reports.labels import (
    CHANNEL_LABELS,
    EN,
    STATUS_LABELS,
    label,
    pick,
    reject_label,
)
from models.reports.sheets import Column

TEXT = {
    "zh-CN": {
        "title": "邀请记录",
        "note": "时间为邀请发生的时间（{tz}）",
        "person": "{who}（{external_id}）",
        "review": "{status}（待人工审核）",
        "inviter": "邀请人：{reward}",
        "invitee": "被邀请人：{reward}",
        "reward": "{what}（{status}）",
        "points": "{points} 积分",
        "cash": "{amount} 现金红包",
        "coupon": "{amount} 优惠券",
        "pending": "待发放",
        "settled": "已发放",
        "revoked": "已撤销",
        "sep": "；",
    },
    "en": {
        "title": "Invitations",
        "note": "Times are when the invitation happened ({tz})",
        "person": "{who} ({external_id})",
        "review": "{status} (awaiting review)",
        "inviter": "inviter: {reward}",
        "invitee": "invitee: {reward}",
        "reward": "{what} ({status})",
        "points": "{points} points",
        "cash": "{amount} cash",
        "coupon": "{amount} coupon",
        "pending": "pending",
        "settled": "given",
        "revoked": "revoked",
        "sep": "; ",
    },
}
_SIDES = ("inviter", "invitee")


def columns(locale: str) -> tuple[Column, ...]:
    en = locale == EN
    return (
        Column("Inviter" if en else "邀请人"),
        Column("Invitee" if en else "被邀请人"),
        Column("Code" if en else "邀请码"),
        Column("Channel" if en else "渠道"),
        Column("Status" if en else "状态"),
        Column("Reason" if en else "原因"),
        Column("Reward" if en else "奖励"),
        Column("Time" if en else "时间", "datetime"),
    )


def _statement() -> Rows:
    inviter, invitee = aliased(Customer, name="inviter"), aliased(Customer, name="invitee")
    reward_columns: list[Label[Any]] = []
    joins = []
    for side in _SIDES:
        reward = aliased(Reward, name=f"{side}_reward")
        template = aliased(CouponTemplate, name=f"{side}_template")
        reward_columns += [
            reward.kind.label(f"{side}_kind"),
            reward.points.label(f"{side}_points"),
            reward.amount_fen.label(f"{side}_amount_fen"),
            reward.privilege.label(f"{side}_privilege"),
            reward.status.label(f"{side}_status"),
            template.name.label(f"{side}_coupon"),
        ]
        joins.append((reward, template, side))
    stmt = select(
        Invitation.id,
        Invitation.channel,
        Invitation.status,
        Invitation.reject_reason,
        Invitation.review_status,
        Invitation.created_at,
        inviter.external_id.label("inviter_id"),
        inviter.name.label("inviter_name"),
        inviter.phone.label("inviter_phone"),
        invitee.external_id.label("invitee_id"),
        invitee.name.label("invitee_name"),
        invitee.phone.label("invitee_phone"),
        ReferralCode.code,
        *reward_columns,
    ).select_from(Invitation)
    stmt = (
        stmt.join(inviter, inviter.id == Invitation.inviter_customer_id)
        .join(invitee, invitee.id == Invitation.invitee_customer_id)
        .join(ReferralCode, ReferralCode.id == Invitation.code_id)
    )
    # The partial unique index (invitation_id, side) keeps these joins at one row each.
    for reward, template, side in joins:
        stmt = stmt.outerjoin(
            reward, (reward.invitation_id == Invitation.id) & (reward.side == side)
        ).outerjoin(template, template.id == reward.coupon_template_id)
    return stmt.order_by(Invitation.created_at, Invitation.id)


def _count_statement() -> Rows:
    return (
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.invitee_customer_id.is_not(None))
    )


class _Rows:
    def __init__(self, env: ExportEnv) -> None:
        self.env = env
        self.text = pick(TEXT, env.locale)

    def person(self, external_id: str, name: str | None, phone: str | None) -> str:
        who = mask_name(name) or mask_phone(phone)
        if not who:
            return external_id
        return self.text["person"].format(who=who, external_id=external_id)

    def reward(self, row: Row[Any], side: str) -> str:
        text = self.text
        kind = getattr(row, f"{side}_kind")
        if kind is None:
            return ""
        amount = int(getattr(row, f"{side}_amount_fen") or 0)
        if kind == "points":
            what = text["points"].format(points=getattr(row, f"{side}_points"))
        elif kind == "cash":
            what = text["cash"].format(amount=format_fen(amount))
        elif kind == "coupon":
            what = getattr(row, f"{side}_coupon") or text["coupon"].format(
                amount=format_fen(amount)
            )
        else:
            what = getattr(row, f"{side}_privilege") or kind
        status = getattr(row, f"{side}_status")
        reward = text["reward"].format(what=what, status=text.get(status, status))
        return text[side].format(reward=reward)

    def __call__(self, row: Row[Any]) -> ExportRow:
        locale, text = self.env.locale, self.text
        status = label(STATUS_LABELS, locale, row.status)
        if row.review_status == "pending":
            status = text["review"].format(status=status)
        reason = reject_label(locale, row.reject_reason) if row.status == "rejected" else ""
        rewards = [self.reward(row, side) for side in _SIDES]
        return (
            self.person(row.inviter_id, row.inviter_name, row.inviter_phone),
            self.person(row.invitee_id, row.invitee_name, row.invitee_phone),
            row.code,
            label(CHANNEL_LABELS, locale, row.channel),
            status,
            reason,
            text["sep"].join(r for r in rewards if r),
            row.created_at.astimezone(self.env.settings.tz),
        )


async def invitations_table(session: AsyncSession, env: ExportEnv) -> ExportTable:
    return ExportTable(
        kind="invitations",
        title=pick(TEXT, env.locale)["title"],
        columns=columns(env.locale),
        total=int(await session.scalar(_count_statement()) or 0),
        batches=stream_rows(session, _statement(), _Rows(env)),
        note=pick(TEXT, env.locale)["note"].format(tz=str(env.settings.tz)),
    )
