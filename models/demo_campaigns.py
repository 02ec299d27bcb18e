"""The demo's campaigns, ready to preview and run from the web simulator without credentials.

A few declining and churned customers get a console identity — the one the simulator gives a
customer persona (`sim-customer-<id>`), as if they had written to the bot there — so a run
routes their messages to the simulator's console channel; everybody else in the demo is
unreachable, which the dry run shows as such. The two seeded default campaigns are switched
on (from now: no earlier slot runs), so a manager persona can `/活动 预览 …` and `/活动 运行 …`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.campaigns.tables import Campaign
from models.customer import USER_ID_KINDS, Customer, CustomerIdentity
from models.stages import StageAssignment
from models.upsert import dialect_insert

CONSOLE = "console"
REACHABLE_PER_STAGE = 6
DEFAULT_CAMPAIGNS = ("winback_declining", "comeback_churned")


def simulator_user_id(customer_id: int) -> str:
    """The console user id the simulator speaks as for a customer persona."""
    return f"sim-customer-{customer_id}"


async def prepare_demo_campaigns(session: AsyncSession, now: datetime) -> int:
    """Make a few declining and churned customers reachable and switch the default campaigns
    on; returns how many customers were made reachable."""
    reachable: list[int] = []
    for stage in ("declining", "churned"):
        ids = await session.scalars(
            select(Customer.id)
            .join(StageAssignment, StageAssignment.customer_id == Customer.id)
            .where(
                StageAssignment.stage == stage,
                Customer.status == "open",
                Customer.marketing_opt_out.is_(False),
            )
            .order_by(Customer.id)
            .limit(REACHABLE_PER_STAGE)
        )
        reachable += list(ids)
    if reachable:
        await session.execute(
            dialect_insert(session, CustomerIdentity)
            .values(
                [
                    {
                        "customer_id": customer_id,
                        "platform": CONSOLE,
                        "app_id": "",
                        "kind": USER_ID_KINDS[CONSOLE],
                        "value": simulator_user_id(customer_id),
                        "created_at": now,
                        "last_seen_at": now,
                    }
                    for customer_id in reachable
                ]
            )
            .on_conflict_do_nothing(index_elements=["platform", "app_id", "kind", "value"])
        )
    await session.execute(
        update(Campaign)
        .where(Campaign.key.in_(DEFAULT_CAMPAIGNS), Campaign.enabled.is_(False))
        .values(enabled=True, enabled_at=now, updated_at=now)
    )
    return len(reachable)
