"""`fission staff add|list|remove`: the first staff (and any later ones) from the command line.

Staff are recognised in chat by their platform user id, e.g. the WeCom userid or Feishu
open_id. The same directory is managed from chat by an admin with `/staff`.
"""

from __future__ import annotations

import click

from bot.bootstrap import system_clock
from bot.cli.common import get_settings, open_database, run
from config import Settings
from handlers.staff_directory import StaffEntry, add_staff, list_staff, remove_staff
from models.customer import PLATFORMS
from models.staff import ROLES

EXIT_NOT_FOUND = 1


@click.group("staff")
def staff_group() -> None:
    """员工 / staff who may use the staff commands in chat."""


@staff_group.command("add")
@click.option("--platform", type=click.Choice(PLATFORMS), required=True)
@click.option("--user-id", required=True, help="The user id on that platform (WeCom userid, …).")
@click.option("--name", required=True, help="The staff member's name, as colleagues see it.")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
def add_cmd(platform: str, user_id: str, name: str, role: str) -> None:
    """Add a staff member (or update the one with this platform user id)."""
    if not user_id.strip() or not name.strip():
        raise click.UsageError("--user-id and --name must not be empty")
    entry, created = run(_add, get_settings(), platform, user_id, name, role)
    verb = "已添加 / added" if created else "已更新 / updated"
    click.echo(f"{verb}: {_line(entry)}")


async def _add(
    settings: Settings, platform: str, user_id: str, name: str, role: str
) -> tuple[StaffEntry, bool]:
    async with open_database(settings) as db, db.uow() as uow:
        try:
            result = await add_staff(
                uow.session,
                platform=platform,
                user_id=user_id,
                name=name,
                role=role,
                now=system_clock(),
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        await uow.commit()
        return result


@staff_group.command("list")
@click.option("--all", "include_inactive", is_flag=True, help="Also show inactive staff.")
def list_cmd(include_inactive: bool) -> None:
    """List staff with their role and platform accounts."""
    people = run(_list, get_settings(), include_inactive)
    if not people:
        click.echo("还没有员工，先运行 fission staff add … / no staff yet")
        return
    for entry in people:
        click.echo(_line(entry))


async def _list(settings: Settings, include_inactive: bool) -> list[StaffEntry]:
    async with open_database(settings) as db, db.uow() as uow:
        return await list_staff(uow.session, include_inactive=include_inactive)


@staff_group.command("remove")
@click.option("--platform", type=click.Choice(PLATFORMS), required=True)
@click.option("--user-id", required=True)
def remove_cmd(platform: str, user_id: str) -> None:
    """Remove a platform account; a staff member left without any becomes inactive."""
    entry = run(_remove, get_settings(), platform, user_id)
    if entry is None:
        click.echo(f"{platform} 上没有员工账号 {user_id} / no such staff account", err=True)
        raise click.exceptions.Exit(EXIT_NOT_FOUND)
    click.echo(f"已移除 / removed: {platform}:{user_id} ({entry.name})")
    if not entry.active:
        click.echo(f"{entry.name} 已停用（没有其他账号）/ now inactive (no other account)")


async def _remove(settings: Settings, platform: str, user_id: str) -> StaffEntry | None:
    async with open_database(settings) as db, db.uow() as uow:
        entry = await remove_staff(uow.session, platform=platform, user_id=user_id)
        await uow.commit()
        return entry


def _line(entry: StaffEntry) -> str:
    accounts = ", ".join(f"{platform}:{user_id}" for platform, user_id in entry.identities)
    state = "" if entry.active else "  [inactive]"
    return f"#{entry.id}  {entry.name}  {entry.role}  {accounts or '-'}{state}"
