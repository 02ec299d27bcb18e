"""What `fission serve --demo` prepares: a fresh demo database beside the configured one, staff
the simulator can speak as, and settings with the simulator on and links to this server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli.serve_demo import DEMO_URL, prepare_demo
from config import load_settings
from models.customer import Customer
from models.db import Database
from models.staff import Staff, StaffIdentity


async def test_demo_database_with_console_staff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    configured = f"sqlite+aiosqlite:///{tmp_path / 'real.db'}"
    settings = load_settings(database_url=configured, state_dir=tmp_path / "state")
    ready = await prepare_demo(settings, host="0.0.0.0", port=8123, customers=60)

    assert ready.settings.database_url == DEMO_URL
    assert ready.settings.simulator_enabled is True
    assert ready.settings.public_base_url == "http://127.0.0.1:8123"
    assert not (tmp_path / "real.db").exists()  # the configured database is left alone
    assert (tmp_path / "fission-demo.db").exists()

    db = Database.from_url(DEMO_URL)
    try:
        async with db.uow() as uow:
            customers = await uow.session.scalar(select(func.count()).select_from(Customer))
            staff = await uow.session.scalar(
                select(func.count()).select_from(Staff).where(Staff.active.is_(True))
            )
            console = await uow.session.scalar(
                select(func.count())
                .select_from(StaffIdentity)
                .where(StaffIdentity.platform == "console")
            )
    finally:
        await db.dispose()
    assert customers == ready.customers == 60
    assert console == staff == ready.staff_accounts and console > 0
    assert ready.example_customer is not None

    again = await prepare_demo(settings, host="127.0.0.1", port=8123, customers=60)
    assert again.customers == 60  # a second run starts from a fresh file
