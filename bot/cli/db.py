"""`fission db …`: schema migrations."""

from __future__ import annotations

import click

from bot.cli.common import get_settings, run
from config import Settings
from models.db import Database


@click.group("db")
def db_group() -> None:
    """数据库 / database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target Alembic revision.")
def upgrade_cmd(revision: str) -> None:
    """Apply migrations (creates the database file on SQLite)."""
    settings = get_settings()
    rev = run(_upgrade, settings, revision)
    click.echo(f"数据库已升级到 {rev} / database at revision {rev}")


async def _upgrade(settings: Settings, revision: str) -> str | None:
    from models.migrate import current_revision, upgrade

    db = Database.from_url(settings.database_url)
    try:
        await upgrade(db, revision)
        return await current_revision(db)
    finally:
        await db.dispose()
