"""What `fission serve --demo` prepares before the server starts: a fresh SQLite demo database
(synthetic customers, six months of lifecycle history), a console account for every demo staff
member so the simulator can speak as them, the default campaigns switched on with a few
declining and churned customers reachable in the simulator, and settings that point the server
at it (without quiet hours, so a campaign tried at night arrives at once). The configured
database is never touched; the simulator is served only with these (bot/cli/serve.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from config import Settings
from handlers.staff_directory import ensure_console_identities
from models.base import utcnow
from models.clock import today
from models.customer import Customer
from models.db import Database
from models.demo_campaigns import prepare_demo_campaigns
from models.stages import StageAssignment

DEMO_URL = "sqlite+aiosqlite:///./fission-demo.db"


@dataclass(frozen=True)
class DemoReady:
    settings: Settings
    customers: int
    staff_accounts: int
    example_customer: str | None  # an external id worth querying as staff


def display_host(host: str) -> str:
    """The host a browser on this machine should open (a wildcard bind is not an address)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _remove_sqlite_files(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


async def prepare_demo(
    settings: Settings, *, host: str, port: int, customers: int = 3000, seed: int = 7
) -> DemoReady:
    from models.demo import create_demo_data
    from models.demo_history import classify_history
    from models.demo_referrals import create_demo_referrals
    from models.migrate import upgrade

    _remove_sqlite_files(DEMO_URL)
    as_of = today(settings.tz)
    db = Database.from_url(DEMO_URL)
    try:
        await upgrade(db)
        stats = await create_demo_data(
            db, as_of=as_of, tz=settings.tz, customers=customers, seed=seed
        )
        # Before the lifecycle runs: converted referrals are a "mature" signal.
        await create_demo_referrals(db, as_of=as_of, tz=settings.tz, seed=seed)
        await classify_history(
            db, as_of=as_of, tz=settings.tz, rules=settings.lifecycle, grading=settings.grading
        )
        async with db.uow() as uow:
            accounts = await ensure_console_identities(uow.session)
            # After the lifecycle: who is declining or churned is known.
            await prepare_demo_campaigns(uow.session, utcnow())
            await uow.commit()
        example = await _example_customer(db)
    finally:
        await db.dispose()
    demo_settings = settings.model_copy(
        update={
            "database_url": DEMO_URL,
            "public_base_url": f"http://{display_host(host)}:{port}",
            # A newcomer who runs a campaign at 22:00 sees its messages arrive now, not at
            # 09:00: the demo's customers are simulator personas, nobody's night.
            "marketing": settings.marketing.model_copy(update={"quiet_hours": None}),
        }
    )
    return DemoReady(demo_settings, stats.customers, accounts, example)


async def _example_customer(db: Database) -> str | None:
    """A declining customer (the card then shows a reason and a win-back playbook)."""
    async with db.uow() as uow:
        return await uow.session.scalar(
            select(Customer.external_id)
            .join(StageAssignment, StageAssignment.customer_id == Customer.id)
            .where(StageAssignment.stage == "declining", Customer.name.is_not(None))
            .order_by(func.length(Customer.external_id), Customer.external_id)
            .limit(1)
        )
