"""Webhook bodies as LINE sends them, signed with the test secret.

Every event carries what the v3 SDK requires (``mode``, ``timestamp``, ``webhookEventId``,
``deliveryContext``, ``quoteToken`` / ``contentProvider`` where needed): leaving one out makes the
SDK read the event as ``UnknownEvent`` (SDK-NOTES §1), which would test the wrong thing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
from typing import Any

SECRET = "test-channel-secret"
TOKEN = "test-access-token"
DESTINATION = "Ubot0000000000000000000000000000"
_clock = itertools.count(1_709_258_400_000, 1000)  # 2024-03-01 10:00 Taipei, in ms


def user_id(n: int | str) -> str:
    """A LINE-looking user id (U + 32 hex digits)."""
    return "U" + hashlib.md5(str(n).encode()).hexdigest()


def event_id() -> str:
    """A ULID-looking webhook event id."""
    return "01" + secrets.token_hex(12).upper()


def _base(kind: str, user: str, *, eid: str | None, redelivery: bool, reply: bool) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind, "mode": "active", "timestamp": next(_clock),
        "source": {"type": "user", "userId": user},
        "webhookEventId": eid or event_id(),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if reply:
        event["replyToken"] = secrets.token_hex(16)
    return event


def text(user: str, message: str, *, eid: str | None = None, redelivery: bool = False) -> dict[str, Any]:
    """A text message event."""
    event = _base("message", user, eid=eid, redelivery=redelivery, reply=True)
    event["message"] = {"type": "text", "id": str(next(_clock)), "quoteToken": secrets.token_hex(8),
                        "text": message}
    return event


def postback(user: str, data: str, *, eid: str | None = None) -> dict[str, Any]:
    """A postback event (a button press)."""
    event = _base("postback", user, eid=eid, redelivery=False, reply=True)
    event["postback"] = {"data": data}
    return event


def follow(user: str) -> dict[str, Any]:
    """The user added the bot (or unblocked it)."""
    event = _base("follow", user, eid=None, redelivery=False, reply=True)
    event["follow"] = {"isUnblocked": False}
    return event


def unfollow(user: str) -> dict[str, Any]:
    """The user blocked the bot (no reply token)."""
    return _base("unfollow", user, eid=None, redelivery=False, reply=False)


def image(user: str, message_id: str, *, provider: str = "line") -> dict[str, Any]:
    """An image message event."""
    event = _base("message", user, eid=None, redelivery=False, reply=True)
    content: dict[str, Any] = {"type": provider}
    if provider == "external":
        content.update(originalContentUrl="https://example.com/a.jpg", previewImageUrl="https://example.com/p.jpg")
    event["message"] = {"type": "image", "id": message_id, "quoteToken": secrets.token_hex(8),
                        "contentProvider": content}
    return event


def file(user: str, message_id: str, file_name: str, file_size: int) -> dict[str, Any]:
    """A file message event (a PDF score report, a photo sent as a file)."""
    event = _base("message", user, eid=None, redelivery=False, reply=True)
    event["message"] = {"type": "file", "id": message_id, "fileName": file_name, "fileSize": file_size}
    return event


def sticker(user: str) -> dict[str, Any]:
    """A sticker message (something the bot does not read)."""
    event = _base("message", user, eid=None, redelivery=False, reply=True)
    event["message"] = {"type": "sticker", "id": str(next(_clock)), "quoteToken": secrets.token_hex(8),
                        "packageId": "446", "stickerId": "1988", "stickerResourceType": "STATIC"}
    return event


def body(*events: dict[str, Any]) -> bytes:
    """A webhook body as LINE sends it (compact JSON, UTF-8)."""
    return json.dumps({"destination": DESTINATION, "events": list(events)}, ensure_ascii=False,
                      separators=(",", ":")).encode()


def sign(raw: bytes, secret: str = SECRET) -> str:
    """The X-Line-Signature of a raw body."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
