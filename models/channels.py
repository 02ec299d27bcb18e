"""Tables of the chat channels: inbound callbacks, shared access tokens, the outbound log.

- `inbound_events`: every accepted platform callback, stored (and de-duplicated by the platform's
  own id) *before* it is acknowledged; `status`/`attempts` track the work done after the answer,
  so a restart picks up what was left unfinished.
- `platform_tokens`: access tokens shared by every process, so N processes do not fetch N tokens
  (each fetch invalidates the previous token on WeChat after a grace period).
- `outbound_messages`: one row per message we send, keyed by an idempotency key, so a replayed
  callback or a re-run job never sends the same message twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, utcnow

INBOUND_STATUSES = ("pending", "working", "done", "failed")
# What the stored payload describes; the worker routes on it. `ignored`: a verified event with
# no work to do, stored `done` with only its type (de-duplication, and what arrives).
INBOUND_KINDS = ("message", "join", "group_change", "ignored")
LAST_ERROR_MAX = 500
OUTBOUND_STATUSES = ("sending", "sent", "outside_window", "rate_limited", "failed")


class InboundEvent(Base):
    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("platform", "app_id", "event_id"),
        CheckConstraint("status IN ('pending', 'working', 'done', 'failed')", name="status"),
        Index("ix_inbound_events_status_started", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(10))
    app_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    # The platform-neutral event (or what the worker still has to resolve), never ciphertext.
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(LAST_ERROR_MAX))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Start of the working attempt's lease: its claim, then each renewal while its handler runs.
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class PlatformToken(Base):
    __tablename__ = "platform_tokens"

    platform: Mapped[str] = mapped_column(String(10), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        CheckConstraint(
            "status IN ('sending', 'sent', 'outside_window', 'rate_limited', 'failed')",
            name="status",
        ),
        Index("ix_outbound_messages_platform_created", "platform", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(10))
    app_id: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="sending")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(String(500))
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]
