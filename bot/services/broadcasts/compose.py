"""An announcement's content: texts with placeholders, an optional link button and image, checked against LINE's limits.

Placeholders (``{name}``, ``{employee_no}``, ``{agency}``) make an announcement personalised: it is
then pushed one person at a time through the outbox; without them every recipient of a language gets
the same message, sent by multicast. Limits (LINE Messaging API, counted in UTF-16 units as LINE does):
a text message ≤ 5000, ≤ 5 message objects per request; the link button is a URI action (``https://``,
≤ 1000 characters, a label ≤ 20); the image is an image message (``https://`` links to a JPEG or PNG,
≤ 2000 characters each; the file itself is checked by :mod:`bot.services.broadcasts.media`).
Everything is checked before anything is queued.

Message objects per recipient (what LINE charges): the text with its link button is ONE (a Flex bubble
when the text holds at most 2000 units with the placeholders' values, else the text and a bubble of the
button: two); the image is one more.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.services.notices import Notice

if TYPE_CHECKING:
    from bot.db.models.broadcasts import Broadcast

KIND = "broadcasts.announcement"
NOTICE_KINDS = (KIND,)
PLACEHOLDERS = ("name", "employee_no", "agency")
MAX_TEXT = 5000
MAX_URL = 1000
MAX_LINK_LABEL = 20
MAX_IMAGE_URL = 2000
MAX_LINK_CARD_TEXT = 2000
"""A text up to this long (with room for the header and the placeholders' values) and its link button are one
Flex bubble on LINE (``bot.channels.line_render.MAX_LINK_CARD_TEXT``); a longer one costs a second message."""
HEADER_ROOM = 20
"""Room for the 【人事公告】 header the recipient's copy starts with."""
MAX_MESSAGES = 5
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
LONGEST_VALUE = 100
"""Room left for each placeholder's value (an employee's name or agency is at most 100 characters)."""


class ComposeError(ValueError):
    """Content LINE would refuse or we cannot fill in: one sentence for HR."""


def utf16_len(text: str) -> int:
    """Length as LINE counts it."""
    return len(text.encode("utf-16-le")) // 2


def _fields(text: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError:
        raise ComposeError("a { or } in the text is not a placeholder; write {{ or }} for the sign itself") from None


@dataclass(frozen=True)
class Content:
    """What an announcement says."""

    text: str
    text_en: str | None = None
    link: str | None = None
    link_label: str | None = None
    """The link button's label (None: 查看詳情 / "Details", in the recipient's language)."""
    image_url: str | None = None
    """An HTTPS JPEG or PNG shown after the text (an image message)."""
    image_preview_url: str | None = None
    """Its small version (LINE's ``previewImageUrl``); None: the image itself."""

    @property
    def personalised(self) -> bool:
        """True when a text uses a placeholder."""
        return bool(_fields(self.text) | _fields(self.text_en or ""))

    def _longest(self, text: str) -> int:
        """The most UTF-16 units ``text`` can reach in a recipient's copy (header and placeholders' values)."""
        return utf16_len(text) + LONGEST_VALUE * len(_fields(text)) + HEADER_ROOM

    @property
    def message_objects(self) -> int:
        """LINE message objects each recipient gets: the text (and its link button), then the image."""
        texts = [t for t in (self.text, self.text_en) if t is not None]
        long_card = self.link is not None and any(self._longest(t) > MAX_LINK_CARD_TEXT for t in texts)
        return (2 if long_card else 1) + (1 if self.image_url else 0)

    def check(self) -> None:
        """Raise :class:`ComposeError` for content LINE would refuse."""
        for label, text in (("text", self.text), ("English text", self.text_en)):
            if text is None:
                continue
            if not text.strip():
                raise ComposeError(f"the {label} is empty")
            unknown = _fields(text) - set(PLACEHOLDERS)
            if unknown:
                raise ComposeError(f"the {label} uses {{{sorted(unknown)[0]}}}; the placeholders are "
                                   + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
            if utf16_len(text) > MAX_TEXT or self._longest(text) > MAX_TEXT:
                raise ComposeError(f"the {label} is {utf16_len(text)} characters; LINE allows {MAX_TEXT} "
                                   "(less the header and the placeholders' values)")
        if self.link is not None and (not _https(self.link) or len(self.link) > MAX_URL):
            raise ComposeError(f"the link must be an https:// address of at most {MAX_URL} characters")
        if self.link_label is not None:
            if self.link is None:
                raise ComposeError("a link label needs a link (--link URL)")
            if not self.link_label.strip() or utf16_len(self.link_label) > MAX_LINK_LABEL \
                    or any(c in self.link_label for c in "\r\n\t"):
                raise ComposeError(f"the link label must be one line of 1 to {MAX_LINK_LABEL} characters")
        if self.image_preview_url is not None and self.image_url is None:
            raise ComposeError("an image preview needs an image")
        for url in (self.image_url, self.image_preview_url):
            if url is None:
                continue
            if not _https(url) or len(url) > MAX_IMAGE_URL:
                raise ComposeError(f"the image must be at an https:// address of at most {MAX_IMAGE_URL} characters")
            if not urlsplit(url).path.lower().endswith(IMAGE_SUFFIXES):
                raise ComposeError("the image must be a JPEG or PNG (an address ending .jpg, .jpeg or .png)")
        if self.message_objects > MAX_MESSAGES:
            raise ComposeError(f"an announcement is at most {MAX_MESSAGES} LINE messages")

    def notice(self, person: dict[str, str] | None = None, *, optional: bool = False) -> Notice:
        """The notice a recipient gets; ``person`` fills the placeholders (name, employee_no, agency).

        ``optional``: HR marked it optional, so it carries a button to turn such announcements off.
        """
        values: dict[str, Any] = {"text": fill(self.text, person), "text_en": fill(self.text_en, person),
                                  "link": self.link, "optional": optional}
        if self.link_label is not None:
            values["link_label"] = self.link_label
        if self.image_url is not None:
            values.update(image_url=self.image_url, image_preview_url=self.image_preview_url or self.image_url)
        return Notice(KIND, values)


def _https(url: str) -> bool:
    """An absolute ``https://`` address with a host and no white space or control characters."""
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.netloc) and not any(c.isspace() or ord(c) < 32 for c in url)


def fill(text: str | None, person: dict[str, str] | None) -> str | None:
    """``text`` with its placeholders filled in (left as written without a person)."""
    if text is None or person is None or not _fields(text):
        return text
    return text.format(**{k: person.get(k, "") for k in PLACEHOLDERS})


def content_of(row: Broadcast) -> Content:
    """The content an announcement row was sent with."""
    return Content(row.text, row.text_en, row.link_url, row.link_label, row.image_url, row.image_preview_url)
