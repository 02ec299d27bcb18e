"""Who may run what. Customers are everyone; staff roles rank agent < manager < admin.

A staff member may also use every customer command (they are customers of the chat, too).
"""

from __future__ import annotations

from typing import Literal

Role = Literal["customer", "agent", "manager", "admin"]
ROLE_ORDER: tuple[Role, ...] = ("customer", "agent", "manager", "admin")
STAFF_ROLES: tuple[Role, ...] = ("agent", "manager", "admin")


def rank(role: str) -> int:
    """Unknown roles rank as customers: a typo in the staff table must not grant anything."""
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else 0


def may_use(caller_role: str, command_role: Role) -> bool:
    return rank(caller_role) >= rank(command_role)


def is_staff_role(role: str) -> bool:
    return rank(role) > 0
