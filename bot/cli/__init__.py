"""`fission` command line. Each command group lives in its own module and is added here."""

from __future__ import annotations

import click

from bot.cli.common import CliState
from bot.cli.db import db_group
from bot.cli.serve import serve_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Path to fission.toml (default: $FISSION_CONFIG or ./fission.toml).",
)
@click.version_option(package_name="fission-bot")
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """Fission — 客户裂变与生命周期管理 / referral and lifecycle bot."""
    ctx.obj = CliState(config_file)


main.add_command(db_group)
main.add_command(serve_cmd)
