"""`fission` command line. Each command group lives in its own module and is added here."""

from __future__ import annotations

import click

from bot.cli.campaign_report import campaign_group
from bot.cli.common import CliState
from bot.cli.customer import customer_group
from bot.cli.db import db_group
from bot.cli.demo import demo_cmd
from bot.cli.imports import import_group
from bot.cli.jobs import jobs_group
from bot.cli.lifecycle import lifecycle_group
from bot.cli.report import report_group
from bot.cli.rewards import program_group, rewards_group
from bot.cli.serve import serve_cmd
from bot.cli.staff import staff_group


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
main.add_command(staff_group)
main.add_command(customer_group)
main.add_command(demo_cmd)
main.add_command(import_group)
main.add_command(lifecycle_group)
main.add_command(report_group)
main.add_command(rewards_group)
main.add_command(program_group)
main.add_command(jobs_group)
main.add_command(campaign_group)  # stand-in until the campaign group holds `report`
