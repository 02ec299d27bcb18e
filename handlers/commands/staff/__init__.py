"""Staff commands, one module per concern: customers (the card), lists (a stage's or a grade's
customers, paged), reports (leaderboard, funnel), follow-ups (log, assign), exports (the seeds'
tables as files) and admin (staff directory). Each module has its own router."""
