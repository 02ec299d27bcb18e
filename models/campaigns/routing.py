"""Where a campaign message to a customer goes: one identity per customer, chosen in SQL.

Among the customer's identities on the platforms this deployment has configured, the one on
their `preferred_platform` wins; otherwise the one they were last seen on
(`customer_identities.last_seen_at`; never seen: the newest identity). The identity's value is
the recipient (WeCom external_userid, Official Account openid, Feishu open_id, console id).

A WeCom customer is only reached by a mass-message task that a staff member who has them as a
contact confirms (DESIGN §4), so a WeCom identity counts only with a sender: the customer's
owner when the owner follows them, else the staff member who added them most recently
(`wecom_follows`), else the owner's WeCom account when the follow is not known (contacts added
before Fission heard the callbacks). Without any, the next platform is tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    String,
    Subquery,
    and_,
    case,
    false,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from config import Settings
from models.customer import USER_ID_KINDS, Customer, CustomerIdentity
from models.staff import Staff, StaffIdentity
from models.wecom_follows import WecomFollow

WECOM = "wecom"


@dataclass(frozen=True)
class Route:
    """A configured platform app and the delivery route its messages take."""

    platform: str
    app_id: str
    route: str


def configured_routes(settings: Settings) -> list[Route]:
    """The platforms this deployment can send on: those with credentials, and the web
    simulator's console channel when the simulator is on (demo mode)."""
    routes = []
    if settings.wecom is not None:
        routes.append(Route(WECOM, settings.wecom.corp_id, "wecom_task"))
    if settings.wechat is not None:
        # Customer-service message inside the 48 h window, else the template message: the
        # sender decides at send time.
        routes.append(Route("wechat", settings.wechat.app_id, "wechat_cs"))
    if settings.feishu is not None:
        routes.append(Route("feishu", settings.feishu.app_id, "feishu"))
    if settings.simulator_enabled:
        routes.append(Route("console", "", "console"))
    return routes


def best_routes(routes: Sequence[Route]) -> Subquery:
    """One row per reachable customer: customer_id, platform, app_id, route, recipient, sender."""
    ci = CustomerIdentity.__table__.alias("ci")
    owner = Customer.__table__.alias("owner_of")
    on_route = or_(
        false(),
        *(
            and_(
                ci.c.platform == r.platform,
                ci.c.app_id == r.app_id,
                ci.c.kind == USER_ID_KINDS[r.platform],
            )
            for r in routes
        ),
    )
    route_name: ColumnElement[Any] = (
        case(*((ci.c.platform == r.platform, literal(r.route, String)) for r in routes))
        if routes
        else null()
    )
    sender = case(
        (ci.c.platform == WECOM, _wecom_sender(ci.c.app_id, ci.c.value, owner.c.owner_staff_id)),
        else_=null(),
    )
    candidates = (
        select(
            ci.c.customer_id,
            ci.c.platform,
            ci.c.app_id,
            route_name.label("route"),
            ci.c.value.label("recipient"),
            sender.label("sender"),
            ci.c.last_seen_at,
            ci.c.id.label("identity_id"),
            owner.c.preferred_platform,
        )
        .join(owner, owner.c.id == ci.c.customer_id)
        .where(on_route)
        .subquery("route_candidates")
    )
    k = candidates.c
    rank = func.row_number().over(
        partition_by=k.customer_id,
        order_by=(
            case((k.platform == k.preferred_platform, 0), else_=1),
            case((k.last_seen_at.is_(None), 1), else_=0),
            k.last_seen_at.desc(),
            k.identity_id.desc(),
        ),
    )
    ranked = (
        select(k.customer_id, k.platform, k.app_id, k.route, k.recipient, k.sender, rank.label("n"))
        .where(or_(k.platform != WECOM, k.sender.is_not(None)))
        .subquery("ranked_routes")
    )
    r = ranked.c
    return (
        select(r.customer_id, r.platform, r.app_id, r.route, r.recipient, r.sender)
        .where(r.n == 1)
        .subquery("best_routes")
    )


def _wecom_sender(
    app_id: ColumnElement[Any], external_userid: ColumnElement[Any], owner_staff_id: Any
) -> ColumnElement[Any]:
    si = StaffIdentity.__table__.alias("owner_account")
    st = Staff.__table__.alias("owner_staff")
    owner_account = (
        select(si.c.user_id)
        .join(st, st.c.id == si.c.staff_id)
        .where(si.c.staff_id == owner_staff_id, si.c.platform == WECOM, st.c.active.is_(True))
        .order_by(si.c.id)
        .limit(1)
        .scalar_subquery()
    )
    f = WecomFollow.__table__.alias("follow")
    following = and_(
        f.c.app_id == app_id, f.c.external_userid == external_userid, f.c.removed_at.is_(None)
    )
    owner_following = (
        select(f.c.staff_userid)
        .where(following, f.c.staff_userid == owner_account)
        .limit(1)
        .scalar_subquery()
    )
    latest_follower = (
        select(f.c.staff_userid)
        .where(following)
        .order_by(f.c.followed_at.desc(), f.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(owner_following, latest_follower, owner_account)
