"""Neutral replies in LINE's idiom: text with quick replies, Flex carousels of cards, confirmation cards.

A reply's picture (``Reply.image``) becomes an image message after its text when it has HTTPS links
(LINE accepts no other); otherwise the text, which names where the picture is, stands alone. A reply's
link buttons (``Reply.links``) are URI actions: the text and its buttons in one Flex bubble (a text longer
than :data:`MAX_LINK_CARD_TEXT`: the text messages, then a bubble of the buttons).

Replies become LINE message objects as JSON directly rather than the SDK's pydantic models: building
and serialising those models cost about a millisecond per answer, the largest single cost in the
webhook profile (docs/line.md). Tests check every rendered message against LINE's OpenAPI spec and
that the SDK's models read it back. LINE limits that neither the spec nor the SDK check are applied
here (lengths in UTF-16 code units, as
LINE counts them): text ≤ 5000, altText ≤ 1500, quick-reply and postback labels ≤ 20, Flex button labels
≤ 40, displayText ≤ 300, postback data ≤ 300, ≤ 13 quick-reply items, ≤ 12 bubbles per carousel. A label
that is too long is cut with "…"; the button's ``displayText`` carries the full label, so the chat shows
what the user chose. The sender splits the rendered list into requests of at most 5 messages.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.conversation import Card, Choice, LinkButton, Reply

Message = dict[str, Any]
"""A LINE message object as JSON (camelCase keys, the wire format of messaging-api.yml)."""

MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_QUICK_REPLY_ITEMS = 13
MAX_ACTION_LABEL = 20
MAX_FLEX_BUTTON_LABEL = 40
MAX_DISPLAY_TEXT = 300
MAX_BUBBLES = 12
MAX_MESSAGES_PER_REQUEST = 5
BUTTONS_PER_LIST_BUBBLE = 8
CARD_BODY_CHARS = 400
MAX_URI = 1000
MAX_LINK_CARD_TEXT = 2000
"""A text reply with link buttons is ONE Flex bubble (text and buttons) when its text is at most this long;
a longer text goes as text messages followed by a bubble of the buttons, so nothing is cut."""
ELLIPSIS = "…"


def utf16_len(text: str) -> int:
    """Length as LINE counts it (UTF-16 code units: an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-16 units, ending in "…" when cut; never empty (LINE refuses "")."""
    if utf16_len(text) <= limit:
        return text or "-"
    out, used = [], 0
    for ch in text:
        size = utf16_len(ch)
        if used + size > limit - 1:
            break
        out.append(ch)
        used += size
    kept = "".join(out)
    rest = text[len(kept):]
    # Words separated by spaces or hyphens (English) are cut between words, not inside one, when that keeps
    # a third of the label.
    if rest and rest[0].isascii() and rest[0].isalnum() and kept[-1].isascii() and kept[-1].isalnum():
        at = max(kept.rfind(" "), kept.rfind("-"))
        head = kept[:at + 1 if kept[at:at + 1] == "-" else at].rstrip()
        if at > 0 and utf16_len(head) >= limit // 3:
            kept = head
    return kept.rstrip() + ELLIPSIS


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a long text into pieces of at most ``limit`` units, at paragraph, then line, then word breaks."""
    text = text.strip() or "-"
    pieces: list[str] = []
    while utf16_len(text) > limit:
        window = fit(text, limit + 1)[:-1]  # the longest prefix that fits
        cut = -1
        for sep in ("\n\n", "\n", "。", " ", "，", ","):
            cut = window.rfind(sep)
            if cut > len(window) // 3:
                cut += len(sep)
                break
            cut = -1
        if cut <= 0:
            cut = len(window)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def postback(choice: Choice, label_limit: int = MAX_ACTION_LABEL) -> dict[str, Any]:
    """A postback action: the typed payload as data, the full label as the text shown in the chat."""
    label = " ".join(choice.label.split())
    return {"type": "postback", "label": fit(label, label_limit), "data": choice.action.pack(),
            "displayText": fit(label, MAX_DISPLAY_TEXT)}


def uri_action(link: LinkButton, label_limit: int = MAX_ACTION_LABEL) -> dict[str, Any]:
    """A URI action opening ``link.url`` (LINE: https, ≤ 1000 characters; a longer one raises ValueError)."""
    if len(link.url) > MAX_URI:
        raise ValueError(f"a LINE URI action opens at most {MAX_URI} characters")
    return {"type": "uri", "label": fit(" ".join(link.label.split()), label_limit), "uri": link.url}


def quick_reply(choices: tuple[Choice, ...]) -> dict[str, Any] | None:
    """Quick-reply buttons under the last message (None when there are none)."""
    if not choices:
        return None
    return {"items": [{"type": "action", "action": postback(c)} for c in choices[:MAX_QUICK_REPLY_ITEMS]]}


def _button(choice: Choice, primary: bool = False) -> dict[str, Any]:
    return {"type": "button", "action": postback(choice, MAX_FLEX_BUTTON_LABEL),
            "style": "primary" if primary else "link", "height": "sm"}


def _link_button(link: LinkButton) -> dict[str, Any]:
    return {"type": "button", "action": uri_action(link, MAX_FLEX_BUTTON_LABEL), "style": "primary", "height": "sm"}


def link_card(text: str | None, links: tuple[LinkButton, ...], alt_text: str) -> Message:
    """A Flex bubble of ``text`` (None: the buttons alone) with a URI button per link in its footer."""
    body = [_text(text, wrap=True)] if text else [_text(fit(alt_text, 200), size="sm", wrap=True, color="#888888")]
    bubble = {"type": "bubble", "body": _box("vertical", body),
              "footer": _box("vertical", [_link_button(link) for link in links], spacing="sm")}
    return {"type": "flex", "altText": fit(alt_text, MAX_ALT_TEXT), "contents": bubble}


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, **style}


def _box(layout: str, contents: list[dict[str, Any]], **style: Any) -> dict[str, Any]:
    return {"type": "box", "layout": layout, "contents": contents, **style}


def card_bubble(card: Card) -> dict[str, Any]:
    """One card as a bubble: bold title, grey subtitle, a few lines of body, its buttons in the footer."""
    body = [_text(fit(card.title, 200), weight="bold", size="md", wrap=True, maxLines=3)]
    if card.subtitle:
        body.append(_text(fit(card.subtitle, 200), size="xs", color="#888888", wrap=True, maxLines=2))
    if card.body:
        body.append(_text(fit(card.body, CARD_BODY_CHARS), size="sm", wrap=True, maxLines=8, margin="md"))
    bubble: dict[str, Any] = {"type": "bubble", "body": _box("vertical", body, spacing="sm")}
    if card.buttons:
        bubble["footer"] = _box("vertical", [_button(b, primary=i == 0) for i, b in enumerate(card.buttons)],
                                spacing="sm")
    return bubble


def _alt_text(reply: Reply) -> str:
    lines = [reply.text, *(f"・{card.title}" for card in reply.cards)]
    return fit("\n".join(lines), MAX_ALT_TEXT)


def _carousels(bubbles: list[dict[str, Any]], alt_text: str) -> list[Message]:
    return [{"type": "flex", "altText": alt_text,
             "contents": {"type": "carousel", "contents": bubbles[i:i + MAX_BUBBLES]}}
            for i in range(0, len(bubbles), MAX_BUBBLES)]


def choice_list(text: str, choices: tuple[Choice, ...]) -> list[Message]:
    """More buttons than quick replies can hold: bubbles of buttons."""
    bubbles = [{"type": "bubble", "body": _box("vertical", [_button(c) for c in choices[i:i + BUTTONS_PER_LIST_BUBBLE]],
                                               spacing="sm")}
               for i in range(0, len(choices), BUTTONS_PER_LIST_BUBBLE)]
    return _carousels(bubbles, fit(text, MAX_ALT_TEXT))


def render_reply(reply: Reply) -> list[Message]:
    """One neutral reply as LINE messages (its quick replies, if any, on the last one)."""
    if reply.type == "confirm":
        buttons = [_button(c, primary=i == 0) for i, c in enumerate(reply.choices)]
        bubble: dict[str, Any] = {"type": "bubble", "body": _box("vertical", [_text(fit(reply.text, 2000), wrap=True)])}
        if buttons:
            bubble["footer"] = _box("horizontal" if len(buttons) <= 2 else "vertical", buttons, spacing="md")
        return [{"type": "flex", "altText": fit(reply.text, MAX_ALT_TEXT), "contents": bubble}]
    if reply.links and utf16_len(reply.text.strip()) <= MAX_LINK_CARD_TEXT:
        messages: list[Message] = [link_card(reply.text.strip() or "-", reply.links, reply.text)]
    else:
        messages = [{"type": "text", "text": t} for t in split_text(reply.text)]
        if reply.links:
            messages.append(link_card(None, reply.links, reply.links[0].label))
    image = reply.image
    if image is not None and image.url and image.preview_url and image.url.startswith("https://"):
        messages.append({"type": "image", "originalContentUrl": image.url, "previewImageUrl": image.preview_url})
    if reply.cards:
        messages.extend(_carousels([card_bubble(c) for c in reply.cards], _alt_text(reply)))
    choices = reply.choices
    if len(choices) > MAX_QUICK_REPLY_ITEMS:
        messages.extend(choice_list(reply.text, choices))
        choices = ()
    if choices:
        messages[-1]["quickReply"] = quick_reply(choices)
    return messages


def render(replies: list[Reply] | tuple[Reply, ...]) -> list[Message]:
    """Every reply of an answer as LINE messages, in order.

    Quick replies only show under the last message of a request, so the choices of an earlier reply
    move to the end when later replies have none (the newest choices win). The result is cached per
    distinct answer and shared: callers must not change it.
    """
    key = tuple(replies)
    try:
        return _render(key)
    except TypeError:  # a reply built with a list somewhere is not hashable: render it uncached
        return _render.__wrapped__(key)


@lru_cache(maxsize=4096)
def _render(replies: tuple[Reply, ...]) -> list[Message]:
    messages: list[Message] = []
    pending: dict[str, Any] | None = None
    for reply in replies:
        rendered = render_reply(reply)
        own = rendered[-1].get("quickReply")
        if own is None and pending is not None:
            rendered[-1]["quickReply"] = pending
        pending = rendered[-1].get("quickReply")
        for message in messages:
            message.pop("quickReply", None)
        messages.extend(rendered)
    return messages
