"""Platform-neutral inbound handling: chat commands and webhooks mapped to domain calls."""
