"""Staff commands, one module per concern: customers (card, stage lists), reports (leaderboard,
funnel), follow-ups (log, assign) and admin (staff directory). Each module has its own router."""
