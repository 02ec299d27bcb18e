"""Which platform campaign messages reach a customer on: the customer card shows where they can
be reached and which platform is preferred; `fission customer prefer` sets it (or `auto`: the
platform they last spoke on), refusing a platform they cannot be reached on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from models import Customer, CustomerIdentity
from models.db import Database

SEEN = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FISSION_DATABASE_URL", db_url)
    monkeypatch.delenv("FISSION_CONFIG", raising=False)
    monkeypatch.delenv("FISSION_LOCALE", raising=False)

    async def customer() -> None:
        db = Database.from_url(db_url)
        async with db.uow() as uow:
            person = Customer(external_id="C1", name="张三", phone="13812348888")
            uow.session.add(person)
            await uow.session.flush()
            for platform, kind, value, seen in (
                ("wechat", "openid", "oZhang", SEEN),
                ("wechat", "unionid", "uZhang", None),
                ("feishu", "open_id", "ou_zhang", SEEN + timedelta(days=1)),
            ):
                uow.session.add(
                    CustomerIdentity(
                        customer_id=person.id,
                        platform=platform,
                        app_id="app",
                        kind=kind,
                        value=value,
                        last_seen_at=seen,
                    )
                )
            uow.session.add(Customer(external_id="C2", name="李四"))
            await uow.commit()
        await db.dispose()

    asyncio.run(customer())
    return CliRunner()


def preferred(db_url: str) -> str | None:
    async def read() -> str | None:
        db = Database.from_url(db_url)
        async with db.uow() as uow:
            value = await uow.session.scalar(
                select(Customer.preferred_platform).where(Customer.external_id == "C1")
            )
        await db.dispose()
        return value

    return asyncio.run(read())


def reach_line(cli: CliRunner, query: str = "C1", **env: str) -> str:
    shown = cli.invoke(main, ["customer", "show", query], env=env)
    assert shown.exit_code == 0, shown.output
    [line] = [line for line in shown.output.splitlines() if line.startswith(("触达", "Reach"))]
    return line


def test_the_card_shows_where_a_customer_is_reached_and_staff_choose(
    cli: CliRunner, db_url: str
) -> None:
    # By default the platform they last spoke on (Feishu, a day after the Official Account).
    assert reach_line(cli) == "触达渠道：飞书（首选，最近联系）、公众号"
    assert reach_line(cli, "C2") == (
        "触达渠道：无（没有企业微信、公众号或飞书身份，活动消息发不出去）"
    )

    chosen = cli.invoke(main, ["customer", "prefer", "C1", "公众号"])
    assert (chosen.exit_code, chosen.output) == (0, "已将客户 C1（张*）的首选渠道设为公众号。\n")
    assert preferred(db_url) == "wechat"
    assert reach_line(cli) == "触达渠道：飞书、公众号（首选，已指定）"
    assert reach_line(cli, FISSION_LOCALE="en") == (
        "Reach: Feishu, Official Account (preferred, set by staff)"
    )

    back = cli.invoke(main, ["customer", "prefer", "C1", "auto"])
    assert back.exit_code == 0
    assert back.output == (
        "客户 C1（张*）不再指定首选渠道：活动消息发到最近联系的渠道（目前是飞书）。\n"
    )
    assert preferred(db_url) is None


def test_a_platform_the_customer_is_not_on_or_unknown_is_refused(
    cli: CliRunner, db_url: str
) -> None:
    wecom = cli.invoke(main, ["customer", "prefer", "C1", "wecom"])
    assert wecom.exit_code == 2
    assert "客户 C1 没有企业微信身份（能触达：飞书、公众号），不能设为首选。" in wecom.output
    unknown = cli.invoke(main, ["customer", "prefer", "C1", "qq"])
    assert unknown.exit_code == 2 and "未知渠道“qq”" in unknown.output
    english = cli.invoke(
        main, ["customer", "prefer", "C1", "console"], env={"FISSION_LOCALE": "en"}
    )
    assert english.exit_code == 2 and "Unknown platform “console”" in english.output
    nobody = cli.invoke(main, ["customer", "prefer", "王五", "feishu"])
    assert nobody.exit_code == 1 and "没有找到" in nobody.output
    assert preferred(db_url) is None
