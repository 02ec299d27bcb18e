"""WeChat Official Account (公众号): callbacks in plaintext and safe mode, passive replies,
customer-service and template messages."""
