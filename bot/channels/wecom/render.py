"""Neutral replies as WeCom app messages: text, markdown for cards, images."""

from __future__ import annotations

from handlers.events import CardReply


def card_markdown(card: CardReply) -> str:
    lines = [f"**{card.title}**"]
    lines += [f"> {label}：{value}" for label, value in card.fields]
    if card.body:
        lines += ["", card.body]
    if card.footer:
        lines += ["", f'<font color="comment">{card.footer}</font>']
    return "\n".join(lines)
