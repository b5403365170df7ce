"""Channel-neutral conversation types: incoming messages, button actions, replies, handler results.

Handlers receive an :class:`IncomingMessage` and return a :class:`HandlerResult`; only the
channel adapters in ``bot/channels`` turn replies into LINE, Telegram or console output.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

MAX_PAYLOAD_BYTES = 64
"""Telegram's callback_data limit, the tightest of our channels (LINE allows 300 chars)."""

_SEP = "|"


def clean_text(text: str) -> str:
    """Normalise typed text: NFC, no control or invisible format characters, trimmed.

    Bidi overrides and zero-width spaces are dropped; newlines and tabs become spaces.
    """
    text = unicodedata.normalize("NFC", text)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\n\t\r":
            kept.append(" ")
        elif cat not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(ch)
    return "".join(kept).strip()


MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""Largest photo a channel fetches from its platform (a phone photo of a certificate is 1-5 MB); the image
handler tells the user this limit."""


class MessageKind(StrEnum):
    """What an incoming event is, independent of the channel."""

    TEXT = "text"
    ACTION = "action"
    IMAGE = "image"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    OTHER = "other"


class ActionKind(StrEnum):
    """Every kind of button the bot shows; the first field of a packed payload."""

    MENU = "m"
    HELP = "h"
    TRACK = "t"
    CATEGORY = "c"
    ITEM = "i"
    MORE = "mo"
    LANG = "l"
    HOURS = "hr"
    MY_ENROLLMENTS = "me"
    CLASS = "cl"
    ENROLL = "en"
    ENROLL_CONFIRM = "ey"
    CANCEL = "cx"
    CANCEL_CONFIRM = "cy"
    DECLINE = "dn"  # "not now" on an enroll/cancel/substitute confirmation; arg: which flow
    SUBSTITUTE = "sb"  # HR confirms a substitute: (enrollment id, substitute's employee id)
    CERTIFICATE = "ce"
    BIND = "b"
    UNBIND_CONFIRM = "ub"
    NOOP = "no"


# How many arguments each action carries; unpack() rejects anything else.
ACTION_ARITY: dict[ActionKind, int] = {
    ActionKind.MENU: 0,
    ActionKind.HELP: 0,
    ActionKind.TRACK: 1,
    ActionKind.CATEGORY: 1,
    ActionKind.ITEM: 1,
    ActionKind.MORE: 2,
    ActionKind.LANG: 1,
    ActionKind.HOURS: 0,
    ActionKind.MY_ENROLLMENTS: 0,
    ActionKind.CLASS: 1,
    ActionKind.ENROLL: 1,
    ActionKind.ENROLL_CONFIRM: 1,
    ActionKind.CANCEL: 1,
    ActionKind.CANCEL_CONFIRM: 1,
    ActionKind.DECLINE: 1,
    ActionKind.SUBSTITUTE: 2,
    ActionKind.CERTIFICATE: 0,
    ActionKind.BIND: 0,
    ActionKind.UNBIND_CONFIRM: 0,
    ActionKind.NOOP: 0,
}


class PayloadError(ValueError):
    """A button payload that is malformed, unknown or too long (stale or forged)."""


@dataclass(frozen=True)
class Action:
    """A typed button press: a kind plus a few short string arguments."""

    kind: ActionKind
    args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if ACTION_ARITY[self.kind] != len(self.args):
            raise PayloadError(f"action {self.kind.name} takes {ACTION_ARITY[self.kind]} arguments")
        for arg in self.args:
            if _SEP in arg:
                raise PayloadError("an action argument may not contain the separator")
        if len(self.pack().encode()) > MAX_PAYLOAD_BYTES:
            raise PayloadError("action payload longer than 64 bytes")

    def pack(self) -> str:
        """Serialise to the string sent as postback/callback data (≤ 64 bytes)."""
        return _SEP.join((self.kind.value, *self.args))

    @property
    def arg(self) -> str:
        """The first argument (most actions have exactly one)."""
        return self.args[0]

    @classmethod
    def unpack(cls, data: str) -> Action:
        """Parse a packed payload, raising :class:`PayloadError` on anything unexpected."""
        if not data or len(data.encode("utf-8", "replace")) > MAX_PAYLOAD_BYTES:
            raise PayloadError("empty or oversized payload")
        kind_text, *args = data.split(_SEP)
        try:
            kind = ActionKind(kind_text)
        except ValueError as exc:
            raise PayloadError("unknown action kind") from exc
        return cls(kind, tuple(args))


@dataclass(frozen=True)
class IncomingMessage:
    """One thing a user did, as every channel reports it."""

    channel: str
    user_id: str
    kind: MessageKind
    text: str = ""
    action: Action | None = None
    bad_payload: bool = False
    image: bytes | None = None
    image_problem: str | None = None
    display_name: str | None = None

    @classmethod
    def from_text(cls, channel: str, user_id: str, text: str) -> IncomingMessage:
        """Build a text message."""
        return cls(channel=channel, user_id=user_id, kind=MessageKind.TEXT, text=text)

    @classmethod
    def from_payload(cls, channel: str, user_id: str, data: str, display_text: str = "") -> IncomingMessage:
        """Build a button press from raw payload data; a bad payload is flagged, not raised."""
        try:
            action: Action | None = Action.unpack(data)
            bad = False
        except PayloadError:
            action, bad = None, True
        return cls(channel=channel, user_id=user_id, kind=MessageKind.ACTION, text=display_text,
                   action=action, bad_payload=bad)


@dataclass(frozen=True)
class Choice:
    """A button: what it says and what it does."""

    label: str
    action: Action

    def to_dict(self) -> dict[str, Any]:
        """JSON form (console --json, outbox)."""
        return {"label": self.label, "action": self.action.pack()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Choice:
        """Inverse of :meth:`to_dict`."""
        return cls(label=str(d["label"]), action=Action.unpack(str(d["action"])))


@dataclass(frozen=True)
class Card:
    """One item of a card list (a course, a class): a title, a few lines, and its buttons."""

    title: str
    subtitle: str = ""
    body: str = ""
    buttons: tuple[Choice, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"title": self.title, "subtitle": self.subtitle, "body": self.body,
                "buttons": [b.to_dict() for b in self.buttons]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Card:
        """Inverse of :meth:`to_dict`."""
        return cls(title=str(d["title"]), subtitle=str(d.get("subtitle", "")), body=str(d.get("body", "")),
                   buttons=tuple(Choice.from_dict(b) for b in d.get("buttons", [])))


ReplyType = Literal["text", "cards", "confirm"]


@dataclass(frozen=True)
class Reply:
    """A neutral reply.

    ``type`` says how a channel should show it: ``text`` (with optional quick-reply ``choices``),
    ``cards`` (a carousel of :class:`Card`, ``choices`` as extra buttons such as "more"), or
    ``confirm`` (a yes/no question whose ``choices`` are the two answers).
    """

    type: ReplyType
    text: str
    choices: tuple[Choice, ...] = ()
    cards: tuple[Card, ...] = ()

    @classmethod
    def plain(cls, text: str, choices: tuple[Choice, ...] | list[Choice] = ()) -> Reply:
        """A text reply, optionally with quick-reply buttons."""
        return cls("text", text, tuple(choices))

    @classmethod
    def card_list(cls, text: str, cards: list[Card] | tuple[Card, ...],
                  choices: tuple[Choice, ...] | list[Choice] = ()) -> Reply:
        """A list of cards; ``text`` is the header (and the alt text where cards cannot show)."""
        return cls("cards", text, tuple(choices), tuple(cards))

    @classmethod
    def confirm(cls, text: str, yes: Choice, no: Choice) -> Reply:
        """A confirmation question with two answers."""
        return cls("confirm", text, (yes, no))

    def to_dict(self) -> dict[str, Any]:
        """JSON form: always ``type`` and ``text``; ``choices`` and ``cards`` when present."""
        d: dict[str, Any] = {"type": self.type, "text": self.text}
        if self.choices:
            d["choices"] = [c.to_dict() for c in self.choices]
        if self.cards:
            d["cards"] = [c.to_dict() for c in self.cards]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Reply:
        """Inverse of :meth:`to_dict` (used by the outbox)."""
        rtype = d.get("type")
        if rtype not in ("text", "cards", "confirm"):
            raise ValueError(f"unknown reply type {rtype!r}")
        return cls(rtype, str(d["text"]),
                   tuple(Choice.from_dict(c) for c in d.get("choices", [])),
                   tuple(Card.from_dict(c) for c in d.get("cards", [])))


class Intent(StrEnum):
    """The handler that answered; part of the console ``--json`` contract."""

    HELP = "help"
    BROWSE = "browse"
    SEARCH = "search"
    COURSE = "course"
    HOURS = "hours"
    MY_ENROLLMENTS = "my_enrollments"
    ENROLL = "enroll"
    CANCEL_ENROLLMENT = "cancel_enrollment"
    CERTIFICATE = "certificate"
    BIND = "bind"
    UNKNOWN = "unknown"


KEEP_STATE = "__keep__"


@dataclass
class HandlerResult:
    """What a handler returns: replies, and the conversation state to save.

    ``state`` is a named state (``None`` = idle); :data:`KEEP_STATE` leaves state and data as they were.
    """

    replies: list[Reply]
    state: str | None = KEEP_STATE
    data: dict[str, Any] = field(default_factory=dict)
    intent: Intent | None = None
    or_command: bool = False
    """A flow's answer to text it cannot use: if that text is a command, the dispatcher leaves the flow
    and answers the command instead of these replies."""
