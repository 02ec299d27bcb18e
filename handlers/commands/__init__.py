"""Chat commands. Each feature module declares its commands on its own router; this is the one
place where they are composed into the bot's registry, in the order `/help` lists them."""

from __future__ import annotations

from functools import cache

from handlers.commands.registry import CommandRegistry


@cache
def default_registry() -> CommandRegistry:
    """Built on first use (not at import), then shared: the registry holds no state."""
    from handlers.commands.help import router as help_router
    from handlers.commands.referral import router as referral_router
    from handlers.commands.staff.admin import router as staff_admin_router
    from handlers.commands.staff.campaigns import router as staff_campaigns_router
    from handlers.commands.staff.customers import router as staff_customers_router
    from handlers.commands.staff.due import router as staff_due_router
    from handlers.commands.staff.exports import router as staff_exports_router
    from handlers.commands.staff.followups import router as staff_followups_router
    from handlers.commands.staff.lists import router as staff_lists_router
    from handlers.commands.staff.reports import router as staff_reports_router

    return CommandRegistry(
        referral_router,
        help_router,
        staff_customers_router,
        staff_lists_router,
        staff_reports_router,
        staff_followups_router,
        staff_due_router,
        staff_exports_router,
        staff_campaigns_router,
        staff_admin_router,
    )
