"""Neutral events as JSON for the event store, so work can resume after a restart without the
original (encrypted) callback."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from handlers.events import ChatMessage, JoinEvent


def message_to_json(msg: ChatMessage) -> dict[str, Any]:
    data = asdict(msg)
    data["received_at"] = msg.received_at.isoformat()
    return data


def message_from_json(data: dict[str, Any]) -> ChatMessage:
    return ChatMessage(**{**data, "received_at": datetime.fromisoformat(data["received_at"])})


def join_to_json(event: JoinEvent) -> dict[str, Any]:
    data = asdict(event)
    data["occurred_at"] = event.occurred_at.isoformat()
    return data


def join_from_json(data: dict[str, Any]) -> JoinEvent:
    return JoinEvent(**{**data, "occurred_at": datetime.fromisoformat(data["occurred_at"])})
