"""`fission customer show QUERY`: a customer's card, or a list to choose from."""

from __future__ import annotations

import click

from bot.cli.common import get_settings, open_database, run
from bot.cli.customer_prefer import prefer_cmd
from config import Settings
from handlers.customer_card_text import render_card_text, render_match_list
from models.customer_card import build_card, find_customers

EXIT_NOT_FOUND = 1
RERUN_COMMAND = "fission customer show"


@click.group("customer")
def customer_group() -> None:
    """客户 / customers."""


customer_group.add_command(prefer_cmd)


@customer_group.command("show")
@click.argument("query")
@click.option(
    "--limit",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="At most this many matches in a list.",
)
def show_cmd(query: str, limit: int) -> None:
    """Show a customer card. QUERY: external id, exact phone number, or part of a name."""
    settings = get_settings()
    text, found = run(_show, settings, query, limit)
    click.echo(text)
    if not found:
        raise click.exceptions.Exit(EXIT_NOT_FOUND)


async def _show(settings: Settings, query: str, limit: int) -> tuple[str, bool]:
    async with open_database(settings) as db:
        matches = await find_customers(db, query, limit=limit + 1)
        if len(matches) == 1:
            card = await build_card(
                db, matches[0].customer_id, tz=settings.tz, grading=settings.grading
            )
            return (
                render_card_text(card, settings.locale, public_base_url=settings.public_base_url),
                True,
            )
    more = len(matches) > limit
    text = render_match_list(
        matches[:limit],
        query.strip(),
        rerun_command=RERUN_COMMAND,
        more=more,
        locale=settings.locale,
    )
    return text, bool(matches)
