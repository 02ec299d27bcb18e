"""Platform senders of campaign deliveries (models/campaigns/outcomes.py `RouteSender`)."""
