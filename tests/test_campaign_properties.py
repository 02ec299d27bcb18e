"""Properties of campaign runs over any population: no customer gets two messages from one run,
every treatment member gets exactly one (on one of their own identities), and nobody in the
global control group, the holdout, or opted out ever gets one."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta
from itertools import count

from campaign_world import (
    COMEBACK,
    NOW,
    WINBACK,
    Person,
    configure,
    reference_hash,
    seed,
    settings_for,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models import Campaign, CampaignMember, Customer, CustomerIdentity, Delivery
from models.campaigns.run import run_campaign
from models.db import Database

CONTROL_PCT = 20
HOLDOUT_PCT = 25
PLATFORMS = ("console", "wechat", "feishu", "wecom")

customers = st.lists(
    st.tuples(
        st.sampled_from(("declining", "churned", "growing")),
        st.booleans(),  # opted out
        st.sets(st.sampled_from(PLATFORMS)),  # identities
        st.sampled_from((None, *PLATFORMS)),  # preferred platform
        st.booleans(),  # a WeCom follow
    ),
    min_size=1,
    max_size=25,
)
runs = st.lists(st.sampled_from((WINBACK, COMEBACK)), min_size=1, max_size=3)
_slots = count()


def _person(tag: str, n: int, spec: tuple[str, bool, set[str], str | None, bool]) -> Person:
    stage, opted_out, platforms, preferred, follows = spec
    ids = tuple((p, f"{tag}-{n}-{p}", None) for p in sorted(platforms))
    return Person(
        f"{tag}-{n}",
        stage=stage,
        opted_out=opted_out,
        ids=ids,
        preferred=preferred,
        follows=("lisi",) if follows else (),
    )


async def play(
    db: Database, population: list[tuple[str, bool, set[str], str | None, bool]], keys: list[str]
) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = await seed(db, [_person(tag, n, spec) for n, spec in enumerate(population)])
    for key in (WINBACK, COMEBACK):
        await configure(db, key, enabled=True, cooldown_days=0, holdout_pct=HOLDOUT_PCT)
    settings = settings_for(db, marketing={"control_pct": CONTROL_PCT, "max_messages": 100})
    for key in keys:
        slot = NOW + timedelta(minutes=next(_slots))
        async with db.uow() as uow:
            campaign = await uow.session.scalar(select(Campaign).where(Campaign.key == key))
            assert campaign is not None
            await run_campaign(uow.session, campaign, settings=settings, now=slot)
            await uow.commit()
    await check(db, set(ids.values()))


async def check(db: Database, mine: set[int]) -> None:
    async with db.uow() as uow:
        s = uow.session
        members = (await s.execute(select(CampaignMember))).scalars().all()
        sent = (await s.execute(select(Delivery))).scalars().all()
        identities = {
            (i.customer_id, i.platform, i.value)
            for i in (await s.execute(select(CustomerIdentity))).scalars()
        }
        opted_out = set(
            await s.scalars(select(Customer.id).where(Customer.marketing_opt_out.is_(True)))
        )
    per_run = Counter((d.run_id, d.customer_id) for d in sent)
    assert all(n == 1 for n in per_run.values())  # never two messages from one run
    arms = {(m.run_id, m.customer_id): m.arm for m in members}
    treated = {key for key, arm in arms.items() if arm == "treatment"}
    assert set(per_run) == treated  # exactly the treatment members, each once
    delivered = {d.customer_id for d in sent}
    control = {c for c in mine if reference_hash(c) % 100 < CONTROL_PCT}
    assert not control & delivered
    assert not opted_out & delivered
    for d in sent:  # on one of the customer's own identities, never to the holdout
        assert (d.customer_id, d.platform, d.recipient) in identities
        assert (reference_hash(d.customer_id) // 100 + d.campaign_id * 37) % 100 >= HOLDOUT_PCT
    for (_, customer), arm in arms.items():
        if customer in control and customer not in opted_out:
            assert arm in ("control", "excluded")


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(population=customers, keys=runs)
def test_one_message_per_run_and_customer_never_to_control_or_holdout(
    db_url: str,
    population: list[tuple[str, bool, set[str], str | None, bool]],
    keys: list[str],
) -> None:
    async def go() -> None:
        db = Database.from_url(db_url)
        try:
            await play(db, population, keys)
        finally:
            await db.dispose()

    asyncio.run(go())
