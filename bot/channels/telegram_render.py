"""Neutral replies in Telegram's idiom: HTML text with inline keyboards, card lists as one message, confirm cards.

Telegram has no carousel and no quick replies; every button is an inline keyboard button under its own
message, and its ``callback_data`` is the packed :class:`~bot.conversation.Action` (at most 64 bytes,
checked here as well as when the payload is built). Everything a handler wrote is escaped for
``parse_mode=HTML``; only the bold of titles is ours. A text longer than 4096 characters (Telegram
counts the text after entities are parsed, so the limit applies to the unescaped text) is split at
paragraph, line or sentence breaks, with the keyboard under the last piece.

- ``text`` → the text, its choices as keyboard rows (two short labels to a row);
- ``cards`` → one message: the header, then each card numbered with its title in bold, its subtitle and
  body; each card's buttons are labelled with the card's number, then the reply's choices ("more", "menu");
- ``confirm`` → the question with its two answers side by side (more than two: in rows, as ``text``);
- a ``text`` reply's link buttons are URL buttons under the last piece, its HTTPS picture a photo after it.

No Telegram SDK type is built here (the sender turns :class:`TgMessage` into PTB's objects), so the
rendering is tested and cached without a bot.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

from bot.channels.line_render import split_text  # no SDK there: the same breaks, in UTF-16 units as Telegram counts
from bot.conversation import Card, Choice, Reply

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
SHORT_LABEL = 14
"""Labels up to this many characters share a keyboard row, two by two."""
CARD_BODY_CHARS = 300
ELLIPSIS = "…"

Button = tuple[str, str]
"""An inline keyboard button: its label and its callback data."""


@dataclass(frozen=True)
class TgMessage:
    """One message to send: HTML text and its inline keyboard (rows of buttons)."""

    text: str
    keyboard: tuple[tuple[Button, ...], ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    """URL buttons (label, https address), one to a row above the keyboard (``InlineKeyboardButton(url=…)``)."""
    photo: str | None = None
    """An HTTPS picture sent with ``sendPhoto`` (Telegram fetches it); ``text`` is then its caption."""


def esc(text: str) -> str:
    """Text escaped for Telegram's HTML parse mode (``<``, ``>``, ``&`` and quotes)."""
    return html.escape(text, quote=True)


def cut(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + ELLIPSIS


def button(choice: Choice, prefix: str = "") -> Button:
    """A choice as a button; its data is the packed payload (≤ 64 bytes, or ValueError)."""
    data = choice.action.pack()
    if len(data.encode()) > MAX_CALLBACK_DATA:
        raise ValueError(f"callback data over {MAX_CALLBACK_DATA} bytes: {choice.action.kind}")
    label = " ".join(choice.label.split()) or "-"
    return (f"{prefix}{label}", data)


def rows(buttons: list[Button]) -> list[tuple[Button, ...]]:
    """Short labels two to a row, long ones alone."""
    out: list[tuple[Button, ...]] = []
    pending: Button | None = None
    for b in buttons:
        if len(b[0]) <= SHORT_LABEL:
            if pending is None:
                pending = b
            else:
                out.append((pending, b))
                pending = None
        else:
            if pending is not None:
                out.append((pending,))
                pending = None
            out.append((b,))
    if pending is not None:
        out.append((pending,))
    return out


def _pieces(text: str, keyboard: tuple[tuple[Button, ...], ...],
            links: tuple[tuple[str, str], ...] = ()) -> list[TgMessage]:
    """Plain text (not yet escaped) as messages of at most 4096 characters, the keyboard under the last."""
    parts = split_text(text, MAX_TEXT)
    last = len(parts) - 1
    return [TgMessage(esc(p), keyboard if i == last else (), links if i == last else ()) for i, p in enumerate(parts)]


def card_text(number: int, card: Card) -> str:
    """One card as HTML lines: its number and bold title, its subtitle, a few lines of body."""
    lines = [f"{number}. <b>{esc(cut(card.title, 200))}</b>"]
    if card.subtitle:
        lines.append(esc(cut(card.subtitle, 200)))
    if card.body:
        lines.append(esc(cut(card.body, CARD_BODY_CHARS)))
    return "\n".join(lines)


def _cards(reply: Reply) -> list[TgMessage]:
    buttons: list[Button] = []
    for number, card in enumerate(reply.cards, start=1):
        buttons.extend(button(b, f"{number}. ") for b in card.buttons)
    keyboard = tuple(rows(buttons) + rows([button(c) for c in reply.choices]))
    blocks = [esc(reply.text.strip())] if reply.text.strip() else []
    blocks.extend(card_text(n, c) for n, c in enumerate(reply.cards, start=1))
    messages: list[TgMessage] = []
    current = ""
    for block in blocks:
        joined = f"{current}\n\n{block}" if current else block
        if len(html.unescape(joined)) > MAX_TEXT and current:
            messages.append(TgMessage(current))
            current = block
        else:
            current = joined
    messages.append(TgMessage(current or "-", keyboard))
    return messages


def render_reply(reply: Reply) -> list[TgMessage]:
    """One neutral reply as Telegram messages."""
    if reply.type == "confirm":
        buttons = [button(c) for c in reply.choices]
        keyboard = (tuple(buttons),) if 0 < len(buttons) <= 2 else tuple(rows(buttons))  # a third: in rows
        return _pieces(reply.text, keyboard)
    if reply.type == "cards" and reply.cards:
        return _cards(reply)
    links = tuple((" ".join(link.label.split()) or "-", link.url) for link in reply.links)
    messages = _pieces(reply.text, tuple(rows([button(c) for c in reply.choices])), links)
    image = reply.image
    if image is not None and image.url and image.url.startswith("https://"):  # after the text, as on LINE
        messages.append(TgMessage("", photo=image.url))
    return messages


def render(replies: list[Reply] | tuple[Reply, ...]) -> list[TgMessage]:
    """Every reply of an answer as Telegram messages, in order (cached per distinct answer)."""
    key = tuple(replies)
    try:
        return list(_render(key))
    except TypeError:  # a reply built with a list somewhere is not hashable
        return list(_render.__wrapped__(key))


@lru_cache(maxsize=4096)
def _render(replies: tuple[Reply, ...]) -> tuple[TgMessage, ...]:
    return tuple(m for reply in replies for m in render_reply(reply))
