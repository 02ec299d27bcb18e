"""Campaign tests' world: customers with stages, grades, tags, orders, identities on each
platform, WeCom follows and earlier campaign messages; the CLI and settings with every platform
configured; row counts of every table.

The fixed clock is Tuesday 4 June 2024, 10:00 in Shanghai — the default win-back campaign's
slot (`0 10 * * 2`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import MetaData, func, select, text, update

from bot.cli import main
from config import Settings, load_settings
from models import (
    Campaign,
    CampaignRun,
    Customer,
    CustomerGrade,
    CustomerIdentity,
    CustomerTag,
    Delivery,
    LifecycleRun,
    Order,
    Staff,
    StaffIdentity,
    StageAssignment,
    WecomFollow,
)
from models.customer import USER_ID_KINDS
from models.db import Database

NOW = datetime(2024, 6, 4, 2, 0, tzinfo=UTC)
TODAY = date(2024, 6, 4)
WECOM_CORP = "wx5823bf96d3bd56c7"  # the published sample corp, as in tests/fakes
WECHAT_APP = "wx-app"
FEISHU_APP = "cli-app"
APP_IDS = {"wecom": WECOM_CORP, "wechat": WECHAT_APP, "feishu": FEISHU_APP, "console": ""}
WINBACK = "winback_declining"
COMEBACK = "comeback_churned"


def reference_hash(customer_id: int) -> int:
    """The hash of models/campaigns/arms.py, written out in Python integers."""
    x = customer_id & 0xFFFFFFFF
    for _ in range(2):
        x = ((x + (x >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    return x + (x >> 16)


def platform_settings(*, control_pct: int = 0) -> dict[str, Any]:
    """Every platform configured; no global control group unless asked."""
    return {
        "wecom_corp_id": WECOM_CORP,
        "wecom_secret": "secret",
        "wechat_app_id": WECHAT_APP,
        "wechat_secret": "secret",
        "feishu_app_id": FEISHU_APP,
        "feishu_app_secret": "secret",
        "feishu_verification_token": "token",
        "feishu_encrypt_key": "key",
        "marketing": {"control_pct": control_pct},
    }


def settings_for(db: Database, **overrides: Any) -> Settings:
    values = platform_settings() | overrides
    url = db.engine.url.render_as_string(hide_password=False)
    return load_settings(database_url=url, timezone="Asia/Shanghai", **values)


def cli_env(db_url: str, *, control_pct: int = 0, locale: str = "zh-CN") -> dict[str, str]:
    return {
        "FISSION_DATABASE_URL": db_url,
        "FISSION_LOCALE": locale,
        "FISSION_TIMEZONE": "Asia/Shanghai",
        "FISSION_WECOM_CORP_ID": WECOM_CORP,
        "FISSION_WECOM_SECRET": "secret",
        "FISSION_WECHAT_APP_ID": WECHAT_APP,
        "FISSION_WECHAT_SECRET": "secret",
        "FISSION_FEISHU_APP_ID": FEISHU_APP,
        "FISSION_FEISHU_APP_SECRET": "secret",
        "FISSION_FEISHU_VERIFICATION_TOKEN": "token",
        "FISSION_FEISHU_ENCRYPT_KEY": "key",
        "FISSION_MARKETING__CONTROL_PCT": str(control_pct),
    }


def fission(
    tmp_path: Path, env: dict[str, str], *args: str, config: str | None = None
) -> tuple[int, str, str]:
    """`fission …` in `tmp_path` (with `config` as its fission.toml): exit code, out, err."""
    with contextlib.chdir(tmp_path):
        if config is not None:
            Path("fission.toml").write_text(config, encoding="utf-8")
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@dataclass(frozen=True)
class Person:
    ext: str
    stage: str | None = "declining"
    grade: str | None = None
    name: str | None = None
    opted_out: bool = False
    closed: bool = False
    # (platform, value, last seen): the customer's identity on each platform.
    ids: tuple[tuple[str, str, datetime | None], ...] = ()
    preferred: str | None = None
    owner: str | None = None  # the owner's WeCom userid (a staff member)
    follows: tuple[str, ...] = ()  # WeCom staff userids who have the customer as a contact
    region: str | None = None
    industry: str | None = None
    tags: tuple[str, ...] = ()
    last_order_days: int | None = None


def console(value: str, seen: datetime | None = None) -> tuple[str, str, datetime | None]:
    return ("console", value, seen)


async def seed(db: Database, people: Iterable[Person], *, lifecycle: bool = True) -> dict[str, int]:
    """The customers (and their staff owners); returns their ids by external id."""
    ids: dict[str, int] = {}
    async with db.uow() as uow:
        s = uow.session
        owners: dict[str, int] = {}
        for person in people:
            owner_id = None
            if person.owner is not None:
                if person.owner not in owners:
                    staff = Staff(name=f"员工{person.owner}", role="agent")
                    s.add(staff)
                    await s.flush()
                    s.add(StaffIdentity(staff_id=staff.id, platform="wecom", user_id=person.owner))
                    owners[person.owner] = staff.id
                owner_id = owners[person.owner]
            customer = Customer(
                external_id=person.ext,
                name=person.name,
                marketing_opt_out=person.opted_out,
                status="closed" if person.closed else "open",
                preferred_platform=person.preferred,
                owner_staff_id=owner_id,
                region=person.region,
                industry=person.industry,
            )
            s.add(customer)
            await s.flush()
            ids[person.ext] = customer.id
            _details(s, customer.id, person)
        if lifecycle:
            s.add(LifecycleRun(as_of=TODAY, counts={}, grades={}, transitions=0))
        await uow.commit()
    return ids


def _details(s: Any, customer_id: int, person: Person) -> None:
    if person.stage is not None:
        s.add(
            StageAssignment(
                customer_id=customer_id,
                stage=person.stage,
                since=TODAY - timedelta(days=10),
                rule="test",
                metrics={},
            )
        )
    if person.grade is not None:
        s.add(
            CustomerGrade(
                customer_id=customer_id, grade=person.grade, orders_365d=1, aov_fen=1, ltv_fen=1
            )
        )
    for platform, value, seen in person.ids:
        s.add(
            CustomerIdentity(
                customer_id=customer_id,
                platform=platform,
                app_id=APP_IDS[platform],
                kind=USER_ID_KINDS[platform],
                value=value,
                last_seen_at=seen,
            )
        )
        if platform == "wecom":
            for staff in person.follows:
                s.add(
                    WecomFollow(
                        app_id=WECOM_CORP,
                        external_userid=value,
                        staff_userid=staff,
                        followed_at=NOW - timedelta(days=100),
                        changed_at=NOW - timedelta(days=100),
                    )
                )
    for tag in person.tags:
        s.add(CustomerTag(customer_id=customer_id, tag=tag))
    if person.last_order_days is not None:
        s.add(
            Order(
                order_no=f"O-{person.ext}",
                customer_id=customer_id,
                amount_fen=10_000,
                paid_at=NOW - timedelta(days=person.last_order_days),
            )
        )


async def configure(db: Database, key: str, **values: Any) -> None:
    """Set a campaign's columns directly (test set-up: switch on, no holdout, …)."""
    if values.get("enabled"):
        values.setdefault("enabled_at", NOW - timedelta(days=1))
    async with db.uow() as uow:
        await uow.session.execute(update(Campaign).where(Campaign.key == key).values(**values))
        await uow.commit()


@dataclass(frozen=True)
class Sent:
    """An earlier campaign message to a customer."""

    customer: str
    created: datetime
    status: str = "sent"
    route: str = "wechat_cs"
    sent: datetime | None = field(default=None)


async def earlier_messages(db: Database, ids: dict[str, int], messages: Iterable[Sent]) -> None:
    """Deliveries of earlier runs (one each) of the churned come-back campaign."""
    async with db.uow() as uow:
        s = uow.session
        campaign_id = await s.scalar(select(Campaign.id).where(Campaign.key == COMEBACK))
        assert campaign_id is not None
        for n, m in enumerate(messages):
            slot = NOW - timedelta(days=400, minutes=n)
            run = CampaignRun(campaign_id=campaign_id, slot=slot, excluded={})
            s.add(run)
            await s.flush()
            s.add(
                Delivery(
                    run_id=run.id,
                    campaign_id=campaign_id,
                    customer_id=ids[m.customer],
                    platform="wechat",
                    app_id=WECHAT_APP,
                    route=m.route,
                    recipient=m.customer,
                    body={},
                    status=m.status,
                    next_attempt_at=m.created,
                    deadline_at=m.created + timedelta(hours=48),
                    created_at=m.created,
                    sent_at=m.sent,
                )
            )
        await uow.commit()


async def row_counts(db: Database) -> dict[str, int]:
    """Rows of every table: what a dry run must leave exactly as it was."""

    def names(connection: Any) -> list[str]:
        metadata = MetaData()
        metadata.reflect(connection)
        return sorted(metadata.tables)

    async with db.engine.connect() as conn:
        tables = await conn.run_sync(names)
        return {t: int(await conn.scalar(text(f'SELECT count(*) FROM "{t}"')) or 0) for t in tables}


async def deliveries(db: Database) -> list[Delivery]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(Delivery).order_by(Delivery.id))).all())


async def count(db: Database, model: Any) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


def run_sync(coro: Any) -> Any:
    return asyncio.run(coro)
