"""A customer's fission tree: whom they brought, whom those brought — one recursive CTE.

Edges are invitations holding the invitee's attribution (joined, converted, rewarded). Each row
of the CTE carries the path of customer ids from the root (`,1,7,12,`); a step never enters a
customer already on its path, so a cycle in the data (A brought B, B later "brought" A) ends
instead of looping, and the depth limit bounds the walk anyway. The CTE goes one level past the
limit only to count who is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo

from sqlalchemy import Integer, Text, cast, literal, literal_column, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import local_date
from models.customer import Customer
from models.masking import mask_name, mask_phone
from models.referral.tables import Invitation
from models.reports.facts import CONVERTED, JOINED

DEFAULT_DEPTH = 3
MAX_DEPTH = 20


class TreeRootNotFound(LookupError):
    """No customer with that id."""


@dataclass(frozen=True)
class TreeNode:
    customer_id: int
    masked_name: str
    masked_phone: str
    status: str | None  # the invitation that brought them; None for the root
    joined_on: date | None  # local date of joining
    depth: int  # 0 = the root
    children: tuple[TreeNode, ...]
    hidden_children: int  # brought by this node but below the depth limit

    @property
    def display_name(self) -> str:
        return self.masked_name or self.masked_phone or f"#{self.customer_id}"


@dataclass(frozen=True)
class FissionTree:
    root: TreeNode
    depth_limit: int
    per_level: tuple[int, ...]  # people at depth 1, 2, … (within the limit)
    converted: int  # of those shown, how many converted (or were rewarded)
    hidden: int  # people one level below the limit, not shown

    @property
    def total(self) -> int:
        return sum(self.per_level)


async def fission_tree(
    session: AsyncSession, customer_id: int, *, tz: tzinfo, depth: int = DEFAULT_DEPTH
) -> FissionTree:
    """The tree below `customer_id`, `depth` levels deep (1 … MAX_DEPTH), masked."""
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}, not {depth}")
    root = (
        await session.execute(
            select(Customer.id, Customer.name, Customer.phone).where(Customer.id == customer_id)
        )
    ).first()
    if root is None:
        raise TreeRootNotFound(customer_id)

    attributed = Invitation.status.in_(JOINED)
    invitee_id = cast(Invitation.invitee_customer_id, Text)
    anchor = select(
        Invitation.invitee_customer_id.label("customer_id"),
        Invitation.inviter_customer_id.label("parent_id"),
        Invitation.status.label("status"),
        Invitation.joined_at.label("joined_at"),
        literal_column("1", Integer).label("depth"),
        (literal(f",{customer_id},", Text) + invitee_id + literal(",", Text)).label("path"),
    ).where(
        Invitation.inviter_customer_id == customer_id,
        Invitation.invitee_customer_id != customer_id,
        attributed,
    )
    walk = anchor.cte("fission_tree", recursive=True)
    step = (
        select(
            Invitation.invitee_customer_id,
            Invitation.inviter_customer_id,
            Invitation.status,
            Invitation.joined_at,
            walk.c.depth + 1,
            walk.c.path + invitee_id + literal(",", Text),
        )
        .join(walk, Invitation.inviter_customer_id == walk.c.customer_id)
        .where(
            attributed,
            walk.c.depth <= depth,
            not_(walk.c.path.contains(literal(",", Text) + invitee_id + literal(",", Text))),
        )
    )
    walk = walk.union_all(step)
    rows = (
        await session.execute(
            select(
                walk.c.customer_id,
                walk.c.parent_id,
                walk.c.status,
                walk.c.joined_at,
                walk.c.depth,
                Customer.name,
                Customer.phone,
            )
            .join(Customer, Customer.id == walk.c.customer_id)
            .order_by(walk.c.depth, walk.c.joined_at, walk.c.customer_id)
        )
    ).all()

    children: dict[int, list[int]] = {}
    hidden_below: dict[int, int] = {}
    seen: dict[int, _Seen] = {}
    for row in rows:
        if row.customer_id in seen or row.customer_id == customer_id:
            continue
        if row.depth > depth:
            hidden_below[row.parent_id] = hidden_below.get(row.parent_id, 0) + 1
            continue
        joined = local_date(row.joined_at, tz) if row.joined_at is not None else None
        seen[row.customer_id] = _Seen(row.status, joined, row.depth, row.name, row.phone)
        children.setdefault(row.parent_id, []).append(row.customer_id)

    def build(node_id: int, node: _Seen) -> TreeNode:
        return TreeNode(
            customer_id=node_id,
            masked_name=mask_name(node.name),
            masked_phone=mask_phone(node.phone),
            status=node.status,
            joined_on=node.joined_on,
            depth=node.depth,
            children=tuple(build(child, seen[child]) for child in children.get(node_id, [])),
            hidden_children=hidden_below.get(node_id, 0),
        )

    per_level = [0] * depth
    for node in seen.values():
        per_level[node.depth - 1] += 1
    while per_level and per_level[-1] == 0:
        per_level.pop()
    return FissionTree(
        root=build(customer_id, _Seen(None, None, 0, root.name, root.phone)),
        depth_limit=depth,
        per_level=tuple(per_level),
        converted=sum(1 for node in seen.values() if node.status in CONVERTED),
        hidden=sum(hidden_below.values()),
    )


@dataclass(frozen=True)
class _Seen:
    """A customer found by the walk, before masking."""

    status: str | None
    joined_on: date | None
    depth: int
    name: str | None
    phone: str | None
