"""Importing activity events: kinds, the natural key, bare prospects for unknown customers."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import ActivityEvent, Customer
from models.db import Database
from models.importing import import_csv

DATA = Path(__file__).parent / "data" / "import"
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _events(db: Database) -> list[tuple[str, str, datetime, str]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(
                Customer.external_id,
                ActivityEvent.kind,
                ActivityEvent.occurred_at,
                ActivityEvent.detail,
            )
            .join(Customer, Customer.id == ActivityEvent.customer_id)
            .order_by(ActivityEvent.occurred_at, ActivityEvent.kind)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def test_events_file_good_and_bad_rows(db: Database, tmp_path: Path) -> None:
    path = Path(shutil.copy(DATA / "events.csv", tmp_path / "events.csv"))

    result = await import_csv(db, "events", path, tz=SHANGHAI)

    assert (result.imported, result.updated, result.rejected) == (4, 0, 4)
    assert await _events(db) == [
        ("E1", "view", datetime(2024, 7, 1, 2, 0, tzinfo=UTC), ""),
        ("E1", "feature_use", datetime(2024, 7, 1, 2, 5, tzinfo=UTC), "报表导出"),
        ("E1", "view", datetime(2024, 7, 1, 16, 0, tzinfo=UTC), ""),  # 浏览 = view
        ("E2", "lead_form", datetime(2024, 7, 3, 1, 0, tzinfo=UTC), "官网表单"),
    ]
    reasons = {row.line: row.reason for row in result.rejects}
    assert reasons == {
        # the same instant written in UTC is the same event as line 2
        6: "与第 2 行重复：客户编号/类型/发生时间/详情为 E1 / view / 2024-07-01T02:00:00Z",
        7: "类型（kind）取值无效：purchase"
        "（可选：view, feature_use, support_contact, campaign_join, lead_form）",
        8: "功能使用事件（feature_use）必须在详情中填写功能名称",
        9: "缺少必填字段：发生时间（occurred_at）",
    }


async def test_unknown_customers_become_bare_prospects(db: Database, tmp_path: Path) -> None:
    path = Path(shutil.copy(DATA / "events.csv", tmp_path / "events.csv"))

    result = await import_csv(db, "events", path, tz=SHANGHAI)

    assert result.bare_customers == 2
    async with db.uow() as uow:
        customers = (await uow.session.execute(select(Customer))).scalars().all()
    by_id = {row.external_id: row for row in customers}
    assert set(by_id) == {"E1", "E2"}
    assert (by_id["E2"].source, by_id["E2"].name, by_id["E2"].status) == ("import", None, "open")
    assert by_id["E2"].created_at == datetime(2024, 7, 3, 1, 0, tzinfo=UTC)


async def test_reimporting_events_adds_nothing_and_new_ones_are_added(
    db: Database, tmp_path: Path
) -> None:
    path = Path(shutil.copy(DATA / "events.csv", tmp_path / "events.csv"))
    await import_csv(db, "events", path, tz=SHANGHAI)

    again = await import_csv(db, "events", path, tz=SHANGHAI)
    assert (again.imported, again.updated, again.bare_customers) == (0, 0, 0)

    more = tmp_path / "more.csv"
    more.write_text(
        "customer_external_id,kind,occurred_at,detail\n"
        "E1,view,2024-07-01 10:00,\n"  # already stored
        "E1,view,2024-07-01 10:00,首页\n"  # another detail: another event
        "E2,support_contact,2024-07-04,\n",
        encoding="utf-8",
    )
    added = await import_csv(db, "events", more, tz=SHANGHAI)
    assert (added.imported, added.updated) == (2, 0)
    assert len(await _events(db)) == 6
