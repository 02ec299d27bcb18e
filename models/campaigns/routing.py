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

The choice is a correlated subquery per customer (`chosen_identity`, through the index on
`customer_identities.customer_id`); the caller selects it in a subquery fenced with OFFSET 0
and joins the chosen identity by its id (`routed_columns`). Joining a window-ranked table of
every identity instead made SQLite scan that table once per customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, case, false, func, literal, null, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import NamedFromClause

from config import Settings
from models.customer import USER_ID_KINDS, Customer, CustomerIdentity
from models.lifecycle.store import table_of
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
    simulator's console channel. Only the demo's customers have console identities (the
    simulator exists only in `fission serve --demo`, on its own database), so elsewhere the
    console route matches nobody."""
    routes = []
    if settings.wecom is not None:
        routes.append(Route(WECOM, settings.wecom.corp_id, "wecom_task"))
    if settings.wechat is not None:
        # Customer-service message inside the 48 h window, else the template message: the
        # sender decides at send time.
        routes.append(Route("wechat", settings.wechat.app_id, "wechat_cs"))
    if settings.feishu is not None:
        routes.append(Route("feishu", settings.feishu.app_id, "feishu"))
    routes.append(Route("console", "", "console"))
    return routes


def identities() -> NamedFromClause[Any]:
    """The `customer_identities` alias the chosen identity is joined as."""
    return table_of(CustomerIdentity).alias("route_identity")


def chosen_identity(
    customer_id: ColumnElement[Any], owner_staff_id: ColumnElement[Any], routes: Sequence[Route]
) -> ColumnElement[Any]:
    """The id of the identity a message to the customer goes to, or NULL: unreachable."""
    ci = CustomerIdentity.__table__.alias("candidate")
    me = table_of(Customer).alias("candidate_owner")
    # Looked up through the candidate: SQLite does not resolve an outer column in the ORDER BY
    # of a correlated subquery.
    preferred = (
        select(me.c.preferred_platform)
        .where(me.c.id == ci.c.customer_id)
        .correlate_except(me)
        .scalar_subquery()
    )
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
    has_sender = or_(
        ci.c.platform != WECOM,
        wecom_sender(ci.c.app_id, ci.c.value, owner_staff_id).is_not(None),
    )
    return (
        select(ci.c.id)
        .where(ci.c.customer_id == customer_id, on_route, has_sender)
        .order_by(
            case((ci.c.platform == preferred, 0), else_=1),
            case((ci.c.last_seen_at.is_(None), 1), else_=0),
            ci.c.last_seen_at.desc(),
            ci.c.id.desc(),
        )
        .limit(1)
        .correlate_except(ci)
        .scalar_subquery()
    )


def routed_columns(
    identity: NamedFromClause[Any], owner_staff_id: ColumnElement[Any], routes: Sequence[Route]
) -> list[ColumnElement[Any]]:
    """platform, app_id, route, recipient and sender of the joined chosen identity."""
    c = identity.c
    route_name: ColumnElement[Any] = (
        case(*((c.platform == r.platform, literal(r.route, String)) for r in routes))
        if routes
        else null()
    )
    sender = case(
        (c.platform == WECOM, wecom_sender(c.app_id, c.value, owner_staff_id)),
        else_=null(),
    )
    return [
        c.platform,
        c.app_id,
        route_name.label("route"),
        c.value.label("recipient"),
        sender.label("sender"),
    ]


def wecom_sender(
    app_id: ColumnElement[Any],
    external_userid: ColumnElement[Any],
    owner_staff_id: ColumnElement[Any],
) -> ColumnElement[Any]:
    """The WeCom userid that sends to this external contact, or NULL."""
    si = StaffIdentity.__table__.alias("owner_account")
    st = Staff.__table__.alias("owner_staff")
    owner_account = (
        select(si.c.user_id)
        .join(st, st.c.id == si.c.staff_id)
        .where(si.c.staff_id == owner_staff_id, si.c.platform == WECOM, st.c.active.is_(True))
        .order_by(si.c.id)
        .limit(1)
        .correlate_except(si, st)
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
        .correlate_except(f)
        .scalar_subquery()
    )
    latest_follower = (
        select(f.c.staff_userid)
        .where(following)
        .order_by(f.c.followed_at.desc(), f.c.id.desc())
        .limit(1)
        .correlate_except(f)
        .scalar_subquery()
    )
    return func.coalesce(owner_following, latest_follower, owner_account)
