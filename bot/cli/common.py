"""What every CLI command shares: settings from the context, running a coroutine, exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import click

from config import ConfigError, Settings, load_settings
from models.db import Database

T = TypeVar("T")

EXIT_OK = 0
EXIT_USAGE = 2  # unusable input: missing file, missing columns, bad configuration
EXIT_PARTIAL = 3  # some rows were rejected


class CliState:
    def __init__(self, config_file: str | None = None) -> None:
        self.config_file = config_file
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_file)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._settings


def get_settings() -> Settings:
    return click.get_current_context().ensure_object(CliState).settings


def run(coro_fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    return asyncio.run(_wrap(coro_fn, *args, **kwargs))


async def _wrap(coro_fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    return await coro_fn(*args, **kwargs)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The database for one CLI command; refuses to run on a schema that is not up to date."""
    from models.migrate import is_up_to_date

    db = Database.from_url(settings.database_url)
    try:
        if not await is_up_to_date(db):
            raise click.ClickException(
                "数据库结构不是最新的，请先运行 `fission db upgrade` "
                "(database schema is not up to date: run `fission db upgrade`)"
            )
        yield db
    finally:
        await db.dispose()
