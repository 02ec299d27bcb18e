"""`fission rewards …` (settle, the review queue) and `fission program …` (list, sync)."""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import select

from bot.cli.common import EXIT_USAGE, get_settings, open_database, run
from config import Settings
from config.referral import RewardSpec
from models.base import utcnow
from models.money import format_fen
from models.referral import (
    approve_review,
    deny_review,
    program_rules,
    review_queue,
    settle_due_rewards,
    sync_programs,
)
from models.referral.programs import is_live
from models.referral.sync import ProgramConfigError
from models.referral.tables import ReferralProgram
from models.reports.labels import EN, REJECT_LABELS, ZH

_TEXT = {
    "zh-CN": {
        "settled": (
            "结算完成（{now}）：奖励结算 {rewards} 个（积分 {points}，红包 {cash}），"
            "发放优惠券 {coupons} 张，邀请完成 {invitations} 个，补记转化 {late} 个，"
            "超期自动审核 {reviews} 个，过期优惠券 {expired} 张"
        ),
        "voided": "；订单已退款、作废的转化 {voided} 个（不发放奖励）",
        "bad_now": "--now 不是有效时间（例：2024-06-01 或 2024-06-01T08:00:00+08:00）：{value}",
        "no_reviews": "没有待审核的转化。",
        "review": "#{id} 活动 {program}  邀请人 {inviter} → 好友 {invitee}  信号：{signals}",
        "approved": "已批准 #{id}，发放奖励 {n} 个（待结算）。",
        "denied": "已拒绝 #{id}（疑似作弊）。",
        "rejected": "#{id} 未能发放：{reason}",
        "refused": "无法批准 #{id}：{reason}，这次转化已作废，不发放奖励。",
        "not_pending": "#{id} 不在待审核状态。",
        "unknown": "没有编号为 #{id} 的邀请。",
        "header": "键  名称  状态  优先级  归因窗口  冻结期  邀请人奖励  好友奖励  里程碑",
        "live": "进行中",
        "off": "未生效",
        "days": "{n}天",
        "synced": (
            "活动：新增 {created}，更新 {updated}，未变 {unchanged}，停用 {deactivated}；"
            "优惠券模板：新增 {t_created}，更新 {t_updated}"
        ),
        "none": "无",
    },
    "en": {
        "settled": (
            "Settled as of {now}: {rewards} rewards ({points} points, {cash} cash), "
            "{coupons} coupons issued, {invitations} invitations rewarded, {late} late "
            "conversions, {reviews} overdue reviews decided, {expired} coupons expired"
        ),
        "voided": "; {voided} conversions void because their order was refunded (no reward)",
        "bad_now": "--now is not a valid time (e.g. 2024-06-01 or 2024-06-01T08:00:00+08:00): "
        "{value}",
        "no_reviews": "No conversions wait for review.",
        "review": "#{id} program {program}  inviter {inviter} → friend {invitee}  signals: "
        "{signals}",
        "approved": "Approved #{id}: {n} rewards granted (pending until the hold ends).",
        "denied": "Denied #{id} (suspected fraud).",
        "rejected": "#{id} not rewarded: {reason}",
        "refused": "Cannot approve #{id}: {reason}; the conversion is void and earns nothing.",
        "not_pending": "#{id} is not waiting for review.",
        "unknown": "There is no invitation #{id}.",
        "header": "key  name  state  priority  window  hold  inviter reward  friend reward  "
        "milestones",
        "live": "running",
        "off": "not running",
        "days": "{n}d",
        "synced": (
            "programs: {created} created, {updated} updated, {unchanged} unchanged, "
            "{deactivated} deactivated; coupon templates: {t_created} created, "
            "{t_updated} updated"
        ),
        "none": "none",
    },
}


def _text(settings: Settings) -> dict[str, str]:
    return _TEXT["en" if settings.locale.startswith("en") else "zh-CN"]


def _reason(code: str | None, settings: Settings) -> str:
    """A reject reason in the reader's words (`order_refunded` → 订单已退款)."""
    labels = REJECT_LABELS[EN if settings.locale.startswith("en") else ZH]
    return labels.get(code, code or labels[None])


def _parse_now(value: str | None, settings: Settings) -> datetime:
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        click.echo(_text(settings)["bad_now"].format(value=value), err=True)
        raise SystemExit(EXIT_USAGE) from None
    return moment.replace(tzinfo=settings.tz) if moment.tzinfo is None else moment


@click.group("rewards")
def rewards_group() -> None:
    """奖励结算与审核 / reward settlement and the fraud review queue."""


@rewards_group.command("settle")
@click.option("--now", "now_text", default=None, help="Settle as of this time (ISO 8601).")
def settle_cmd(now_text: str | None) -> None:
    """Settle rewards past their hold; issue their coupons; expire old coupons."""
    settings = get_settings()
    now = _parse_now(now_text, settings)

    async def go() -> str:
        async with open_database(settings) as db, db.uow() as uow:
            report = await settle_due_rewards(uow.session, now)
            await uow.commit()
        text = _text(settings)
        voided = text["voided"].format(voided=report.refunds_voided)
        return text["settled"].format(
            now=now.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"),
            rewards=report.rewards_settled,
            points=report.points_settled,
            cash=format_fen(report.cash_settled_fen),
            coupons=report.coupons_issued,
            invitations=report.invitations_rewarded,
            late=report.late_conversions,
            reviews=report.reviews_decided,
            expired=report.coupons_expired,
        ) + (voided if report.refunds_voided else "")

    click.echo(run(go))


@rewards_group.command("reviews")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def reviews_cmd(limit: int) -> None:
    """List conversions held for review (personal data masked)."""
    settings = get_settings()
    text = _text(settings)

    async def go() -> list[str]:
        async with open_database(settings) as db, db.uow() as uow:
            items = await review_queue(uow.session, limit=limit)
        return [
            text["review"].format(
                id=item.invitation_id,
                program=item.program_key,
                inviter=item.inviter,
                invitee=item.invitee,
                signals=", ".join(item.signals),
            )
            for item in items
        ]

    lines = run(go)
    click.echo("\n".join(lines) if lines else text["no_reviews"])


def _review_command(name: str, approve: bool) -> click.Command:
    @click.command(name)
    @click.argument("invitation_id", type=int)
    @click.option("--by", "reviewer", default="cli", show_default=True, help="Reviewer name.")
    @click.option("--note", default=None, help="Why (kept with the review).")
    def command(invitation_id: int, reviewer: str, note: str | None) -> None:
        settings = get_settings()
        text = _text(settings)

        async def go() -> tuple[str, bool]:
            decide = approve_review if approve else deny_review
            async with open_database(settings) as db, db.uow() as uow:
                result = await decide(
                    uow.session,
                    invitation_id=invitation_id,
                    reviewer=reviewer,
                    now=utcnow(),
                    note=note,
                )
                await uow.commit()
            message = text[result.outcome].format(
                id=invitation_id, n=len(result.rewards), reason=_reason(result.reason, settings)
            )
            return message, result.outcome in ("approved", "denied", "rejected")

        message, ok = run(go)
        click.echo(message)
        if not ok:
            raise SystemExit(1)

    command.help = (
        "批准待审核的转化 / approve a held conversion."
        if approve
        else ("拒绝待审核的转化（疑似作弊）/ deny a held conversion as suspected fraud.")
    )
    return command


rewards_group.add_command(_review_command("approve", approve=True))
rewards_group.add_command(_review_command("deny", approve=False))


@click.group("program")
def program_group() -> None:
    """裂变活动 / referral programs."""


@program_group.command("list")
def list_cmd() -> None:
    """Show every program, running or not, in priority order."""
    settings = get_settings()
    text = _text(settings)

    async def go() -> list[str]:
        now = utcnow()
        async with open_database(settings) as db, db.uow() as uow:
            programs = (
                await uow.session.execute(
                    select(ReferralProgram).order_by(ReferralProgram.priority, ReferralProgram.id)
                )
            ).scalars()
            return [_program_line(program, now, text) for program in programs]

    click.echo("\n".join([text["header"], *run(go)]))


def _program_line(program: ReferralProgram, now: datetime, text: dict[str, str]) -> str:
    rules = program_rules(program)

    milestones = ",".join(f"{t.at}→{_reward_text(t.reward, text)}" for t in rules.milestones)
    return "  ".join(
        [
            program.key,
            program.name,
            text["live"] if is_live(program, now) else text["off"],
            str(program.priority),
            text["days"].format(n=program.attribution_window_days),
            text["days"].format(n=program.hold_days),
            _reward_text(rules.inviter_reward, text),
            _reward_text(rules.invitee_reward, text),
            milestones or text["none"],
        ]
    )


def _reward_text(spec: RewardSpec | None, text: dict[str, str]) -> str:
    if spec is None:
        return text["none"]
    value = {
        "coupon": spec.coupon_template or "",
        "points": str(spec.points or 0),
        "cash": format_fen(spec.amount_fen or 0),
        "privilege": spec.privilege or "",
    }[spec.kind]
    return f"{spec.kind}:{value}"


@program_group.command("sync")
@click.option(
    "--deactivate-missing",
    is_flag=True,
    help="Deactivate programs that are not in the configuration (the seeded default too).",
)
def sync_cmd(deactivate_missing: bool) -> None:
    """Load [[programs]] and [[coupon_templates]] from fission.toml into the database."""
    settings = get_settings()
    text = _text(settings)

    async def go() -> str:
        async with open_database(settings) as db, db.uow() as uow:
            report = await sync_programs(
                uow.session,
                programs=settings.programs,
                templates=settings.coupon_templates,
                timezone=settings.timezone,
                now=utcnow(),
                deactivate_missing=deactivate_missing,
            )
            await uow.commit()
        return text["synced"].format(
            created=len(report.created),
            updated=len(report.updated),
            unchanged=len(report.unchanged),
            deactivated=len(report.deactivated),
            t_created=len(report.templates_created),
            t_updated=len(report.templates_updated),
        )

    try:
        click.echo(run(go))
    except ProgramConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_USAGE) from None
