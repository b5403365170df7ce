"""Channel-neutral conversation types: incoming messages, button actions, replies, handler results.

Handlers receive an :class:`IncomingMessage` and return a :class:`HandlerResult`; only the
channel adapters in ``bot/channels`` turn replies into LINE, Telegram or console output.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Literal

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


class PayloadError(ValueError):
    """A button payload that is malformed, unknown or too long (stale or forged)."""


_INT = re.compile(r"^(0|[1-9][0-9]{0,17})$")


class Action:
    """Base of the typed button payloads (aiogram's ``CallbackData``, channel-neutral).

    Each feature declares its buttons as frozen dataclasses with ``str`` or ``int`` fields and a short
    ``kind`` that is the first field of the packed form::

        @dataclass(frozen=True)
        class ConfirmEnroll(Action, kind="ey"):
            class_id: int

    ``ConfirmEnroll(12).pack() == "ey|12"`` (at most 64 bytes: Telegram's limit, LINE allows 300), and
    :meth:`Action.unpack` gives the typed object back, or raises :class:`PayloadError` for anything forged,
    garbled or of another shape, so a handler receives parsed fields and never splits strings. Kinds are
    unique across the bot (checked when a class is declared).
    """

    kind: ClassVar[str] = ""
    _kinds: ClassVar[dict[str, type[Action]]] = {}

    def __init_subclass__(cls, /, kind: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not kind:
            raise TypeError(f"{cls.__name__}: a button payload needs a kind")
        if _SEP in kind or kind in Action._kinds:
            raise TypeError(f"{cls.__name__}: kind {kind!r} is malformed or taken by {Action._kinds.get(kind)}")
        cls.kind = kind
        Action._kinds[kind] = cls

    def __post_init__(self) -> None:
        for name, type_ in _field_types(type(self)):
            value = getattr(self, name)
            if type_ is int and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise PayloadError(f"{self.kind}.{name} must be a whole number ≥ 0")
            if type_ is str and (not isinstance(value, str) or _SEP in value):
                raise PayloadError(f"{self.kind}.{name} must be text without {_SEP!r}")
        if len(self.pack().encode()) > MAX_PAYLOAD_BYTES:
            raise PayloadError("action payload longer than 64 bytes")

    def pack(self) -> str:
        """Serialise to the string sent as postback/callback data (≤ 64 bytes)."""
        return _SEP.join((self.kind, *(str(getattr(self, name)) for name, _ in _field_types(type(self)))))

    @classmethod
    def unpack(cls, data: str) -> Action:
        """Parse a packed payload into its typed action, raising :class:`PayloadError` on anything unexpected."""
        if not data or len(data.encode("utf-8", "replace")) > MAX_PAYLOAD_BYTES:
            raise PayloadError("empty or oversized payload")
        kind, *parts = data.split(_SEP)
        target = Action._kinds.get(kind)
        if target is None:
            raise PayloadError("unknown action kind")
        fields = _field_types(target)
        if len(parts) != len(fields):
            raise PayloadError(f"action {kind} takes {len(fields)} arguments")
        values: list[object] = []
        for part, (_, type_) in zip(parts, fields, strict=True):
            if type_ is int and not _INT.match(part):
                raise PayloadError("not a whole number")
            values.append(int(part) if type_ is int else part)
        return target(*values)


_FIELDS: dict[type[Action], tuple[tuple[str, type], ...]] = {}


def _field_types(cls: type[Action]) -> tuple[tuple[str, type], ...]:
    """The (name, str|int) of each field of a payload class, in order (worked out once per class)."""
    known = _FIELDS.get(cls)
    if known is not None:
        return known
    out: list[tuple[str, type]] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        declared = {"int": int, "str": str}.get(f.type, f.type) if isinstance(f.type, str) else f.type
        if declared not in (int, str):
            raise TypeError(f"{cls.__name__}.{f.name}: payload fields are str or int")
        out.append((f.name, declared))
    _FIELDS[cls] = tuple(out)
    return _FIELDS[cls]


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
    """A photo or file the channel fetched (size-capped at :data:`MAX_IMAGE_BYTES`): an image or a PDF, still
    unchecked (the certificate feature validates it). Every channel fills it the same way: LINE image and file
    messages, Telegram photos and documents, the console's ``/photo PATH``."""
    image_problem: str | None = None
    """Why there are no bytes: ``too_large``, ``unavailable`` (the download failed), ``external`` (a LINE image
    hosted elsewhere), ``not_image`` (a file whose name says it is no image or PDF)."""
    display_name: str | None = None
    lang: str | None = None
    """The language the platform reports for the user (Telegram's ``language_code``); used only when the
    chat account is created, so a language the user chose later is kept."""

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
class LinkButton:
    """A button that opens a web address: a LINE URI action, a Telegram URL button, the address in the console.

    Unlike a :class:`Choice` it reaches no handler. Its ``url`` is an ``https://`` address; what a channel
    accepts beyond that (LINE: ≤ 1000 characters, a label ≤ 20) is checked where the content is composed.
    """

    label: str
    url: str

    def __post_init__(self) -> None:
        if not self.url.startswith("https://"):
            raise ValueError("a link button opens an https:// address")

    def to_dict(self) -> dict[str, Any]:
        """JSON form (console --json, outbox)."""
        return {"label": self.label, "url": self.url}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LinkButton:
        """Inverse of :meth:`to_dict`."""
        return cls(label=str(d["label"]), url=str(d["url"]))


@dataclass(frozen=True)
class ImageRef:
    """A picture that goes with a reply (HR's view of a certificate photo); each channel shows what it can.

    ``url`` and ``preview_url`` are HTTPS links (LINE shows an image message from them); ``path`` is the
    local file (the console prints it; a channel that uploads bytes reads it). A channel that can show
    none of them shows the reply's text alone, which says where the picture is.
    """

    url: str | None = None
    preview_url: str | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (console --json, outbox)."""
        return {k: v for k, v in (("url", self.url), ("preview_url", self.preview_url), ("path", self.path)) if v}


@dataclass(frozen=True)
class Reply:
    """A neutral reply.

    ``type`` says how a channel should show it: ``text`` (with optional quick-reply ``choices``),
    ``cards`` (a carousel of :class:`Card`, ``choices`` as extra buttons such as "more"), or
    ``confirm`` (a yes/no question whose ``choices`` are the two answers). A ``text`` reply may also carry a
    picture (``image``) and buttons that open a web address (``links``).
    """

    type: ReplyType
    text: str
    choices: tuple[Choice, ...] = ()
    cards: tuple[Card, ...] = ()
    image: ImageRef | None = None
    """A picture shown after the text, where the channel can (see :class:`ImageRef`)."""
    links: tuple[LinkButton, ...] = ()
    """Buttons that open a web address, under the text (see :class:`LinkButton`)."""

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
        if self.image is not None:
            d["image"] = self.image.to_dict()
        if self.links:
            d["links"] = [link.to_dict() for link in self.links]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Reply:
        """Inverse of :meth:`to_dict` (used by the outbox)."""
        rtype = d.get("type")
        if rtype not in ("text", "cards", "confirm"):
            raise ValueError(f"unknown reply type {rtype!r}")
        image = d.get("image")
        return cls(rtype, str(d["text"]),
                   tuple(Choice.from_dict(c) for c in d.get("choices", [])),
                   tuple(Card.from_dict(c) for c in d.get("cards", [])),
                   ImageRef(**{k: str(v) for k, v in image.items() if k in ("url", "preview_url", "path")})
                   if isinstance(image, dict) else None,
                   tuple(LinkButton.from_dict(link) for link in d.get("links", [])))


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
    SCHEDULE = "schedule"
    ANNOUNCE = "announce"
    REMINDERS = "reminders"
    SURVEY = "survey"
    SMALLTALK = "smalltalk"
    CLARIFY = "clarify"
    OUT_OF_SCOPE = "out_of_scope"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Redirect:
    """What a handler hands back to the dispatcher to answer instead (a clarifying question's choice, "back").

    One of: a button press (``action``), a command (``rule`` of data/intents.yaml with its argument ``text``),
    a search (``text`` alone), or ``back`` (the screen before the one the user sees). Also how the dispatcher
    remembers the screens shown, to go back to them (:mod:`bot.navigation`).
    """

    action: Action | None = None
    rule: str | None = None
    text: str = ""
    back: bool = False


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
    redirect: Redirect | None = None
    """Answer this instead (the replies are dropped): see :class:`Redirect`."""
    screen: bool | None = None
    """Whether the answer is a screen the user can go back to; None: as its route says (``Route.screen``)."""
