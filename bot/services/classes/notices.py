"""What people are told about a class, as notices: promoted, class cancelled, substituted, class moved.

This module says *what* happened and never writes a sentence: each notice is a kind of
:data:`NOTICE_KINDS` and the class as :class:`ClassFacts` (JSON), plus the other person's name for a
substitution. The chat's renderers (``handlers/enroll_notices.py``) write them in each recipient's
language with the same ``format`` functions the chat's cards use, so a notice describes a class
exactly as the confirmation card did. Delivery goes through ``deps.notices`` (a
:class:`~bot.services.notices.Notifier`), in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.db.models.classes import TrainingClass
from bot.services.notices import Notice

PROMOTED = "classes.promoted"
CLASS_CANCELLED = "classes.class_cancelled"
SUBSTITUTED_OUT = "classes.substituted_out"
SUBSTITUTED_IN = "classes.substituted_in"
CLASS_RESCHEDULED = "classes.class_rescheduled"
CLASS_MOVED = "classes.class_moved"
CLASS_RESCHEDULED_MOVED = "classes.class_rescheduled_moved"
NOTICE_KINDS = (PROMOTED, CLASS_CANCELLED, SUBSTITUTED_OUT, SUBSTITUTED_IN, CLASS_RESCHEDULED, CLASS_MOVED,
                CLASS_RESCHEDULED_MOVED)
"""Every notice kind this feature builds; start-up refuses one without a renderer."""


@dataclass(frozen=True)
class MeetingFacts:
    """One meeting's start and end, aware UTC."""

    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class ClassFacts:
    """A class as a notice describes it: the attributes ``format`` reads, and the registration deadline."""

    course_code: str
    name: str
    meetings: tuple[MeetingFacts, ...]
    place: str
    online_url: str | None
    hours: Decimal
    bucket: str
    materials_url: str | None
    closes_at: datetime

    @classmethod
    def of(cls, training_class: TrainingClass) -> ClassFacts:
        """The facts of a loaded class (with its meetings)."""
        c = training_class
        return cls(c.course_code, c.name or "", tuple(MeetingFacts(m.starts_at, m.ends_at) for m in c.meetings),
                   c.place or "", c.online_url, Decimal(c.hours), c.bucket, c.materials_url, c.closes_at)

    def to_json(self) -> dict[str, Any]:
        """JSON values: instants as ISO 8601 with offset, hours as an exact decimal string."""
        return {"course_code": self.course_code, "name": self.name,
                "meetings": [[m.starts_at.isoformat(), m.ends_at.isoformat()] for m in self.meetings],
                "place": self.place, "online_url": self.online_url, "hours": str(self.hours), "bucket": self.bucket,
                "materials_url": self.materials_url, "closes_at": self.closes_at.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClassFacts:
        """Inverse of :meth:`to_json`."""
        meetings = tuple(MeetingFacts(datetime.fromisoformat(s), datetime.fromisoformat(e))
                         for s, e in data["meetings"])
        return cls(str(data["course_code"]), str(data["name"]), meetings, str(data["place"]), data["online_url"],
                   Decimal(data["hours"]), str(data["bucket"]), data["materials_url"],
                   datetime.fromisoformat(data["closes_at"]))


def class_notice(kind: str, cls: TrainingClass, *, other: str | None = None) -> Notice:
    """A notice of ``kind`` about ``cls``; ``other`` names the colleague of a substitution."""
    values: dict[str, Any] = {"class": ClassFacts.of(cls).to_json()}
    if other is not None:
        values["other"] = other
    return Notice(kind, values)


def changed_kind(*, time_changed: bool, place_changed: bool) -> str:
    """Which "class changed" notice: new time, new place (or link), or both."""
    if time_changed and place_changed:
        return CLASS_RESCHEDULED_MOVED
    return CLASS_RESCHEDULED if time_changed else CLASS_MOVED

