"""`POST /customers/{external_id}/referral-code`: the customer's personal code, issued by the
same domain function as chat `/invite` (`models.referral.codes.issue_code`), and each reason
for not issuing one turned into a 404 or a 409 that says which."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.api.outputs import ReferralCodeOut
from bot.web.api.problems import ApiError, not_found
from models.customer import Customer
from models.referral.codes import NoCode, NoCodeReason, issue_code, poster_url, referral_link
from models.referral.programs import program_by_key


async def issue(
    session: AsyncSession,
    *,
    external_id: str,
    program_key: str | None,
    now: datetime,
    public_base_url: str,
) -> tuple[bool, ReferralCodeOut]:
    """Whether the code is new, and the code with its links."""
    customer_id = await session.scalar(
        select(Customer.id).where(Customer.external_id == external_id)
    )
    if customer_id is None:
        raise not_found("客户", "customer", external_id)
    program = None
    if program_key is not None:
        program = await program_by_key(session, program_key)
        if program is None:
            raise ApiError(
                409,
                "program_not_found",
                f"没有邀请活动“{program_key}” / there is no program “{program_key}”",
            )
    issued = await issue_code(session, customer_id=customer_id, now=now, program=program)
    if isinstance(issued, NoCode):
        raise _refusal(issued.reason, external_id, program_key)
    code, chosen = issued.code.code, issued.program
    return issued.created, ReferralCodeOut(
        code=code,
        program=chosen.key,
        title=chosen.title,
        offer_text=chosen.offer_text or "",
        link=referral_link(public_base_url, code),
        poster_url=poster_url(public_base_url, code),
    )


def _refusal(reason: NoCodeReason, external_id: str, program_key: str | None) -> ApiError:
    if reason == "customer_unknown":  # deleted since it was found
        return not_found("客户", "customer", external_id)
    if reason == "customer_closed":
        return ApiError(
            409,
            reason,
            f"客户已注销，不再发放邀请码：{external_id} / the account is closed: {external_id}",
        )
    if reason == "program_not_running":
        return ApiError(
            409,
            reason,
            f"邀请活动“{program_key}”不在进行中（未启用、未开始或已结束） / "
            f"program “{program_key}” is not running (inactive, not started or ended)",
        )
    if reason == "no_eligible_program":
        return ApiError(
            409,
            reason,
            f"正在进行的邀请活动都不面向客户 {external_id}（可用 program 指定活动） / no running "
            f"program's segment includes {external_id}; name one with `program`",
        )
    return ApiError(
        409, reason, "现在没有正在进行的邀请活动 / no referral program is running right now"
    )
