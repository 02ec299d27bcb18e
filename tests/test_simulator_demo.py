"""What `fission serve --demo` prepares: a fresh demo database beside the configured one, staff
the simulator can speak as, and settings with links to this server. The simulator exists only
there: `fission serve`'s app has none, whatever the settings say."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.cli.serve import serve_app
from bot.cli.serve_demo import DEMO_URL, DemoReady, prepare_demo
from config import ConfigError, Settings, load_settings
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


async def _simulator_answers(
    settings: Settings, demo: DemoReady | None = None
) -> tuple[list[int], str]:
    """Statuses of the simulator's routes in the app `fission serve [--demo]` runs, and the
    database that app uses."""
    app, container = serve_app(settings, demo)
    try:
        async with TestClient(TestServer(app)) as client:
            statuses = [
                (await client.get("/simulator")).status,
                (await client.get("/simulator/personas")).status,
                (await client.post("/simulator/messages", json={})).status,
                (await client.get("/simulator/inbox")).status,
            ]
    finally:
        await container.close()
    return statuses, container.settings.database_url


async def test_no_setting_turns_the_simulator_on_against_a_real_database(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    real = {
        "database_url": db.engine.url.render_as_string(hide_password=False),
        "state_dir": tmp_path / "state",
        "scheduler": {"enabled": False},
    }
    # The variable that used to turn it on is no setting any more.
    monkeypatch.setenv("FISSION_SIMULATOR_ENABLED", "true")
    statuses, database = await _simulator_answers(load_settings(**real))
    assert statuses == [404, 404, 404, 404]
    assert database == real["database_url"]
    config = tmp_path / "fission.toml"
    config.write_text("simulator_enabled = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="simulator_enabled"):
        load_settings(config, **real)


async def test_fission_serve_demo_serves_the_simulator_on_its_own_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    configured = f"sqlite+aiosqlite:///{tmp_path / 'real.db'}"
    settings = load_settings(
        database_url=configured, state_dir=tmp_path / "state", scheduler={"enabled": False}
    )
    ready = await prepare_demo(settings, host="127.0.0.1", port=8123, customers=60)
    statuses, database = await _simulator_answers(settings, ready)
    # The page, its personas, a message without a persona, the (empty) inbox.
    assert statuses == [200, 200, 422, 200]
    assert database == DEMO_URL
    assert not (tmp_path / "real.db").exists()
