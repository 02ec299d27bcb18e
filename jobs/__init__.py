"""Scheduled jobs (lifecycle re-classification, campaigns, settlement) and the delivery worker."""
