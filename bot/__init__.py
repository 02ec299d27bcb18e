"""The outside world: the aiohttp app, platform adapters, outbound senders and the CLI."""
