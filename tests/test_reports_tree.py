"""A customer's fission tree: depth limit, hidden levels, cycles, masking, and the text."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from reports_population import Builder, local

from models.db import Database
from models.reports import FissionTree, fission_tree, render_tree_text
from models.reports.tree import TreeNode

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Who brought whom: (inviter, invitee, status, day in June 2024).
CHAIN = [
    ("R", "X1", "converted", 1),
    ("R", "X2", "joined", 2),
    ("X1", "Y1", "rewarded", 3),
    ("Y1", "Z1", "joined", 4),
    ("Z1", "W1", "joined", 5),
]
NAMES = {
    "R": ("欧阳娜娜", "13812345678"),
    "X1": ("李小龙", "13900001111"),
    "X2": (None, "13700002222"),
    "Y1": ("王五", None),
    "Z1": ("Alice", "13600003333"),
    "W1": ("赵六", "13500004444"),
    "Q": ("钱七", "13400005555"),
}


async def _build(db: Database, edges: list[tuple[str, str, str, int]]) -> dict[str, int]:
    async with db.uow() as uow:
        b = Builder(uow.session)
        await b.program(
            "tree", "树", segment={}, inviter="coupon", invitee="coupon", channels=[], priority=5
        )
        people = {p for edge in edges for p in edge[:2]}
        for key in sorted(people):
            name, phone = NAMES.get(key, (None, None))
            await b.customer(key, name=name, phone=phone)
        for key in sorted({edge[0] for edge in edges}):
            await b.code(key, "tree", local(2024, 5, 1))
        for inviter, invitee, status, day in edges:
            reason = "existing_customer" if status == "rejected" else None
            await b.invite(
                inviter,
                invitee,
                status=status,
                reason=reason,
                channel="wecom_group",
                created_at=local(2024, 6, day),
            )
        await uow.commit()
    return b.ids.customers


async def _tree(db: Database, customer_id: int, depth: int = 3) -> FissionTree:
    async with db.uow() as uow:
        return await fission_tree(uow.session, customer_id, tz=SHANGHAI, depth=depth)


def _shape(node: TreeNode) -> list[object]:
    return [node.display_name, [_shape(child) for child in node.children], node.hidden_children]


async def test_tree_follows_attributed_invitations_to_the_depth_limit(db: Database) -> None:
    ids = await _build(db, [*CHAIN, ("X2", "Q", "rejected", 6)])
    tree = await _tree(db, ids["R"])
    # W1 sits at level 4: counted as hidden under Z1, not shown. Q was rejected: not brought.
    assert _shape(tree.root) == [
        "欧***",
        [
            ["李**", [["王*", [["A****", [], 1]], 0]], 0],
            ["137****2222", [], 0],
        ],
        0,
    ]
    assert (tree.per_level, tree.total, tree.converted, tree.hidden) == ((2, 1, 1), 4, 2, 1)


async def test_depth_one_shows_direct_invitees_only(db: Database) -> None:
    ids = await _build(db, CHAIN)
    tree = await _tree(db, ids["R"], depth=1)
    assert [child.display_name for child in tree.root.children] == ["李**", "137****2222"]
    assert [child.children for child in tree.root.children] == [(), ()]
    assert (tree.per_level, tree.hidden) == ((2,), 1)  # Y1 under X1


async def test_a_cycle_ends_instead_of_looping(db: Database) -> None:
    # A brought B, B brought C, and C (later) "brought" A: a loop in the data.
    ids = await _build(
        db, [("A", "B", "joined", 1), ("B", "C", "joined", 2), ("C", "A", "joined", 3)]
    )
    tree = await _tree(db, ids["A"], depth=20)
    assert (tree.per_level, tree.hidden) == ((1, 1), 0)
    tree = await _tree(db, ids["B"], depth=20)
    assert [n.customer_id for n in (tree.root.children[0], tree.root.children[0].children[0])] == [
        ids["C"],
        ids["A"],
    ]
    assert tree.per_level == (1, 1)


async def test_two_way_cycle_and_depth_validation(db: Database) -> None:
    ids = await _build(db, [("A", "B", "converted", 1), ("B", "A", "joined", 2)])
    tree = await _tree(db, ids["B"], depth=5)
    assert (tree.per_level, tree.converted) == ((1,), 0)
    with pytest.raises(ValueError, match="depth must be between 1 and 20"):
        await _tree(db, ids["A"], depth=0)


async def test_tree_text_is_masked_and_says_what_is_hidden(db: Database) -> None:
    ids = await _build(db, CHAIN)
    text = render_tree_text(await _tree(db, ids["R"]))
    assert text == "\n".join(
        [
            "欧***（138****5678）的裂变树（最多 3 层）",
            "├─ 李**（139****1111） · 已转化 · 2024-06-01 加入",
            "│  └─ 王* · 已奖励 · 2024-06-03 加入",
            "│     └─ A****（136****3333） · 已加入 · 2024-06-04 加入",
            "│        └─ …… 下面还有 1 人（加大 --depth 查看）",
            "└─ 137****2222 · 已加入 · 2024-06-02 加入",
            "共带来 4 人（第 1 层 2 人，第 2 层 1 人，第 3 层 1 人），其中 2 人已转化",
        ]
    )
    for name, phone in NAMES.values():
        assert (name or "@") not in text and (phone or "@") not in text


async def test_a_customer_who_brought_nobody(db: Database) -> None:
    ids = await _build(db, [("A", "B", "rejected", 1)])
    text = render_tree_text(await _tree(db, ids["B"]), "en")
    assert text == "Referral tree of #{} (up to 3 levels)\nNo one brought yet.".format(ids["B"])
