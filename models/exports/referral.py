"""Seed 000 §6's 客户裂变管理表格 as a file: 客户类型, 裂变目标, 激励措施, 渠道, 参与人数, 成功率,
反馈 — the very rows `fission report referral` computes (models/reports/referral_table.py), seven
of them, so nothing here streams."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.exports.table import ExportEnv, ExportTable, rows_of
from models.reports.labels import EN
from models.reports.referral_table import referral_table
from models.reports.segments import ReportPeriod
from models.reports.sheets import Column, period_note


def columns(locale: str) -> tuple[Column, ...]:
    en = locale == EN
    return (
        Column("Customer type" if en else "客户类型"),
        Column("Goal" if en else "裂变目标"),
        Column("Incentive" if en else "激励措施"),
        Column("Channels" if en else "渠道"),
        Column("Participants" if en else "参与人数", "int"),
        Column("Success rate" if en else "成功率", "percent"),
        Column("Feedback" if en else "反馈"),
    )


async def referral_export(
    session: AsyncSession, env: ExportEnv, period: ReportPeriod
) -> ExportTable:
    settings, locale = env.settings, env.locale
    table = await referral_table(session, period=period, rules=settings.reports, locale=locale)
    rows = [
        (
            r.customer_type,
            r.goal,
            r.incentive,
            r.channels,
            r.participants,
            r.success_rate,
            r.feedback,
        )
        for r in table.rows
    ]
    return ExportTable(
        kind="referral",
        title="Referral management" if locale == EN else "客户裂变管理表",
        columns=columns(locale),
        total=len(rows),
        batches=rows_of(rows),
        note=period_note(period, locale),
    )
