"""Outbound: every platform API call passes one choke point (`ApiCaller`) that owns the access
token, rate limits, back-off and masked logging; `deliver` adds the idempotent send log."""
