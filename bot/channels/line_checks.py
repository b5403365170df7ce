"""What a LINE event must look like before anything is claimed, stored or fetched for it.

A correctly signed body is LINE's, but a bug, a replay tool or a leaked secret can still send ids with
lone surrogates, NUL or megabytes of text. Ids must have LINE's shape (a user id is ``U`` and 32 hex
digits; a message id, whose value goes into the content URL, digits only); an event whose ids do not is
acknowledged and dropped, alone. Texts and postback data are kept, made safe: lone surrogates become
U+FFFD, control characters other than tab and new line are removed, and they are cut to LINE's own limits.
"""

from __future__ import annotations

import re

from linebot.v3.webhooks import Event, ImageMessageContent, MessageEvent, UserSource

USER_ID = re.compile(r"U[0-9a-f]{32}")
EVENT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
MESSAGE_ID = re.compile(r"[0-9]{1,32}")
REPLY_TOKEN = re.compile(r"[0-9A-Za-z_-]{1,256}")
MAX_TEXT = 5000
"""LINE's limit for a text message (a longer one was not sent by LINE's app)."""
MAX_POSTBACK = 300
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _fits(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def event_problem(event: Event) -> str | None:
    """Why an event must be dropped (``user_id``, ``event_id``, ``message_id``), or None when it may be handled."""
    source = getattr(event, "source", None)
    if isinstance(source, UserSource) and not _fits(USER_ID, source.user_id):
        return "user_id"
    if not _fits(EVENT_ID, getattr(event, "webhook_event_id", None)):
        return "event_id"
    if isinstance(event, MessageEvent) and isinstance(event.message, ImageMessageContent) \
            and not _fits(MESSAGE_ID, event.message.id):
        return "message_id"
    return None


def safe_text(text: str | None, limit: int = MAX_TEXT) -> str:
    """A user's text or postback data made safe to store and to log the length of (see the module docstring)."""
    if not text:
        return ""
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", text[:limit]))


def reply_token(event: Event) -> str | None:
    """The event's reply token when it has LINE's shape, else None (the answer is then pushed)."""
    token = getattr(event, "reply_token", None)
    return token if _fits(REPLY_TOKEN, token) else None
