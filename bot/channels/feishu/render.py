"""Neutral replies as Feishu messages: text, post (rich text), interactive cards."""

from __future__ import annotations

import re
from typing import Any

from handlers.events import CardReply

# Feishu turns `<at user_id="all"></at>` in a text message into an @all: text that came from
# users (names, notes) must not be able to do that.
_AT_TAG = re.compile(r"<(?=\s*/?\s*at\b)", re.IGNORECASE)


def text_content(text: str) -> dict[str, Any]:
    return {"text": _AT_TAG.sub("＜", text)}


def post_content(title: str, paragraphs: list[str]) -> dict[str, Any]:
    return {
        "zh_cn": {
            "title": title,
            "content": [[{"tag": "text", "text": paragraph}] for paragraph in paragraphs],
        }
    }


def card_content(card: CardReply, image_key: str | None = None) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    if card.fields:
        elements.append(
            {
                "tag": "div",
                "fields": [
                    {
                        "is_short": True,
                        "text": {"tag": "plain_text", "content": f"{label}：{value}"},
                    }
                    for label, value in card.fields
                ],
            }
        )
    if card.body:
        elements.append({"tag": "div", "text": {"tag": "plain_text", "content": card.body}})
    if image_key:
        elements.append(
            {"tag": "img", "img_key": image_key, "alt": {"tag": "plain_text", "content": ""}}
        )
    if card.footer:
        elements.append(
            {"tag": "note", "elements": [{"tag": "plain_text", "content": card.footer}]}
        )
    return {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": card.title}, "template": "blue"},
        "elements": elements,
    }
