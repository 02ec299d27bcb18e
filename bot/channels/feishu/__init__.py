"""Feishu / Lark: event subscription callbacks and im/v1 messages."""
