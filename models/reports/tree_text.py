"""The fission tree as text, for the terminal and for chat replies (names already masked)."""

from __future__ import annotations

from models.reports.labels import EN, STATUS_LABELS, label
from models.reports.tree import FissionTree, TreeNode


def _node_line(node: TreeNode, locale: str) -> str:
    parts = [node.display_name]
    if node.masked_name and node.masked_phone:
        parts[0] = (
            f"{node.masked_name}（{node.masked_phone}）"
            if locale != EN
            else (f"{node.masked_name} ({node.masked_phone})")
        )
    if node.status:
        parts.append(label(STATUS_LABELS, locale, node.status))
    if node.joined_on:
        parts.append(
            f"joined {node.joined_on.isoformat()}"
            if locale == EN
            else f"{node.joined_on.isoformat()} 加入"
        )
    return " · ".join(parts)


def _hidden_line(count: int, locale: str) -> str:
    if locale == EN:
        return f"… {count} more below (raise --depth to see them)"
    return f"…… 下面还有 {count} 人（加大 --depth 查看）"


def _lines(node: TreeNode, prefix: str, locale: str) -> list[str]:
    out: list[str] = []
    items: list[TreeNode | int] = [*node.children]
    if node.hidden_children:
        items.append(node.hidden_children)
    for i, item in enumerate(items):
        last = i == len(items) - 1
        branch, indent = ("└─ ", "   ") if last else ("├─ ", "│  ")
        if isinstance(item, int):
            out.append(prefix + branch + _hidden_line(item, locale))
            continue
        out.append(prefix + branch + _node_line(item, locale))
        out.extend(_lines(item, prefix + indent, locale))
    return out


def render_tree_text(tree: FissionTree, locale: str = "zh-CN") -> str:
    root = _node_line(tree.root, locale)
    if locale == EN:
        head = f"Referral tree of {root} (up to {tree.depth_limit} levels)"
    else:
        head = f"{root}的裂变树（最多 {tree.depth_limit} 层）"
    lines = [head, *_lines(tree.root, "", locale)]
    if not tree.total:
        lines.append("No one brought yet." if locale == EN else "还没有带来新客户。")
        return "\n".join(lines)
    if locale == EN:
        levels = ", ".join(f"level {i}: {n}" for i, n in enumerate(tree.per_level, 1))
        summary = f"Brought {tree.total} ({levels}); {tree.converted} converted"
    else:
        levels = "，".join(f"第 {i} 层 {n} 人" for i, n in enumerate(tree.per_level, 1))
        summary = f"共带来 {tree.total} 人（{levels}），其中 {tree.converted} 人已转化"
    lines.append(summary)
    return "\n".join(lines)
