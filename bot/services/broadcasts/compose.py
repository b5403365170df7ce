"""An announcement's content: texts with placeholders, an optional link, checked against LINE's limits.

Placeholders (``{name}``, ``{employee_no}``, ``{agency}``) make an announcement personalised: it is
then pushed one person at a time through the outbox; without them every recipient of a language gets
the same message, sent by multicast. Limits (LINE Messaging API, counted in UTF-16 units as LINE does):
a text message ≤ 5000, ≤ 5 message objects per request, a link ≤ 1000 characters and ``https://``.
Everything is checked before anything is queued.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.services.notices import Notice

KIND = "broadcasts.announcement"
NOTICE_KINDS = (KIND,)
PLACEHOLDERS = ("name", "employee_no", "agency")
MAX_TEXT = 5000
MAX_URL = 1000
MAX_MESSAGES = 5
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

    @property
    def personalised(self) -> bool:
        """True when a text uses a placeholder."""
        return bool(_fields(self.text) | _fields(self.text_en or ""))

    @property
    def message_objects(self) -> int:
        """LINE message objects each recipient gets (the link is a line of the text, so: one)."""
        return 1

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
            longest = utf16_len(text) + LONGEST_VALUE * len(_fields(text)) + MAX_URL
            if utf16_len(text) > MAX_TEXT or (self.link and longest > MAX_TEXT):
                raise ComposeError(f"the {label} is {utf16_len(text)} characters; LINE allows {MAX_TEXT} "
                                   "(less the link and the placeholders' values)")
        if self.link is not None:
            parts = urlsplit(self.link)
            if parts.scheme != "https" or not parts.netloc or len(self.link) > MAX_URL or " " in self.link:
                raise ComposeError(f"the link must be an https:// address of at most {MAX_URL} characters")
        if self.message_objects > MAX_MESSAGES:
            raise ComposeError(f"an announcement is at most {MAX_MESSAGES} LINE messages")

    def notice(self, person: dict[str, str] | None = None, *, optional: bool = False) -> Notice:
        """The notice a recipient gets; ``person`` fills the placeholders (name, employee_no, agency).

        ``optional``: HR marked it optional, so it carries a button to turn such announcements off.
        """
        values: dict[str, Any] = {"text": fill(self.text, person), "text_en": fill(self.text_en, person),
                                  "link": self.link, "optional": optional}
        return Notice(KIND, values)


def fill(text: str | None, person: dict[str, str] | None) -> str | None:
    """``text`` with its placeholders filled in (left as written without a person)."""
    if text is None or person is None or not _fields(text):
        return text
    return text.format(**{k: person.get(k, "") for k in PLACEHOLDERS})
