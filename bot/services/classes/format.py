"""How a class reads to people: dates with weekdays, times, place, hours, seats, the plan's reminders.

Shared by the chat handlers and the queued notices, so a promotion notice describes a class exactly as
the confirmation card did. The functions a notice needs read a :class:`ClassLike`: a loaded
``TrainingClass``, or the ``ClassFacts`` a notice carries as JSON. Every sentence comes from the message
catalog through ``t``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from bot.clock import TAIPEI
from bot.dates import format_date
from bot.db.models.classes import TrainingClass
from bot.services.catalog import Catalog, RulesFile
from bot.services.classes.eligibility import EligibilityRule
from bot.services.hours import format_hours

Translate = Callable[..., str]
"""``t(key, **values) -> str`` in the reader's language (``ctx.t`` or a catalog lookup)."""


class MeetingLike(Protocol):
    """A meeting's start and end, aware UTC."""

    @property
    def starts_at(self) -> datetime:
        """When it starts."""
        ...

    @property
    def ends_at(self) -> datetime:
        """When it ends."""
        ...


class ClassLike(Protocol):
    """What the summary of a class reads: a ``TrainingClass`` or a notice's ``ClassFacts``."""

    @property
    def course_code(self) -> str:
        """The catalog course."""
        ...

    @property
    def name(self) -> str:
        """HR's name of the class (``第1期``), may be empty."""
        ...

    @property
    def meetings(self) -> Sequence[MeetingLike]:
        """The meetings, in order."""
        ...

    @property
    def place(self) -> str:
        """Where, may be empty."""
        ...

    @property
    def online_url(self) -> str | None:
        """The online link, if any."""
        ...

    @property
    def hours(self) -> Decimal:
        """The learning hours it earns."""
        ...

    @property
    def bucket(self) -> str:
        """The hour bucket it counts towards."""
        ...


def local_day_text(at: datetime, lang: str, t: Translate) -> str:
    """``113年3月20日（三）`` / ``2024-03-20 (Wed)``."""
    local = at.astimezone(TAIPEI)
    weekday = t("classes.weekdays").split(",")[local.weekday()]
    return t("classes.day_with_weekday", day=format_date(local.date(), lang), weekday=weekday)


def instant_text(at: datetime, lang: str, *, is_end: bool = False) -> str:
    """``113年3月15日 17:00``; an end at Taipei midnight shows as 23:59 of the day before (the end of that day)."""
    local = at.astimezone(TAIPEI)
    if is_end and local.hour == 0 and local.minute == 0:
        local -= timedelta(minutes=1)
    return f"{format_date(local.date(), lang)} {local:%H:%M}"


def meetings_text(cls: ClassLike, lang: str, t: Translate) -> str:
    """Every meeting: ``113年3月20日（三）09:00–12:00；113年3月27日（三）09:00–12:00``.

    Meetings on one day show the day once: ``113年3月20日（三）09:00–12:00、13:30–16:30``.
    """
    parts: list[str] = []
    last_day = None
    gap = "" if lang == "zh-TW" else " "
    for m in cls.meetings:
        start, end = m.starts_at.astimezone(TAIPEI), m.ends_at.astimezone(TAIPEI)
        times = f"{start:%H:%M}–{end:%H:%M}"
        if parts and start.date() == last_day:
            parts[-1] += ("、" if lang == "zh-TW" else ", ") + times
        else:
            parts.append(f"{local_day_text(m.starts_at, lang, t)}{gap}{times}")
        last_day = start.date()
    return t("classes.list_separator").join(parts)


_SESSION = re.compile(r"第\s*(\d+)\s*期")
_NOTE = re.compile(r"[（(]([^（）()]*)[）)]")


def class_name_text(name: str, lang: str, t: Translate | None) -> str:
    """HR's name of a class in the reader's language.

    In English ``第1期（範例，名額已滿）`` reads ``Session 1 (sample, full)`` (the words of ``classes.name_word.*``;
    others are kept as written).
    """
    if lang == "zh-TW" or t is None:
        return name

    def note(m: re.Match[str]) -> str:
        words = [w.strip() for w in re.split(r"[，,、]", m.group(1)) if w.strip()]
        return " (" + ", ".join(term_text("classes.name_word", w, t) for w in words) + ")"

    text = _SESSION.sub(lambda m: t("classes.name_session", n=m.group(1)), name)
    text = _NOTE.sub(note, text).strip()
    return term_text("classes.name_word", text, t)


def class_title(catalog: Catalog, cls: ClassLike, lang: str, t: Translate | None = None) -> str:
    """The course's title with the class's name: ``零基礎 Python 入門班｜第1期``.

    In English, given ``t``: ``Python for Absolute Beginners | Session 1``.
    """
    item = catalog.get(cls.course_code)
    title = item.localized_title(lang) if item is not None else cls.course_code
    if not cls.name:
        return title
    if lang == "zh-TW" or t is None:
        return f"{title}｜{cls.name}"
    return f"{title} | {class_name_text(cls.name, lang, t)}"


def term_text(kind: str, value: str, t: Translate) -> str:
    """A term of the plan's data (a delivery mode, an audience) in the reader's language.

    Looked up as ``<kind>.<value>`` (e.g. ``classes.mode.專班``); a term the catalog does not know is shown as written.
    """
    try:
        return t(f"{kind}.{value}")
    except KeyError:
        return value


def mode_text(cls: TrainingClass, t: Translate) -> str:
    """The delivery mode (辦理方式) of a class: ``專班`` / ``dedicated class``."""
    return term_text("classes.mode", cls.mode, t)


def place_text(cls: ClassLike, t: Translate) -> str:
    """Where: the place, the online link, or both."""
    lines = []
    if cls.place:
        lines.append(t("classes.field.place", place=cls.place))
    if cls.online_url:
        lines.append(t("classes.field.online", url=cls.online_url))
    return "\n".join(lines)


def audience_text(cls: TrainingClass, t: Translate) -> str:
    """Who may enroll, from HR's note or else from the eligibility rule."""
    if cls.audience_note:
        return cls.audience_note
    rule = EligibilityRule.model_validate(cls.eligibility or {})
    parts = []
    if rule.agencies:
        parts.append("、".join(rule.agencies))
    if rule.ranks:
        parts.append("、".join(rule.ranks))
    if rule.supervisors_only:
        parts.append(t("classes.audience.supervisors"))
    if rule.new_hire_months:
        parts.append(t("classes.audience.new_hires", months=rule.new_hire_months))
    return t("classes.audience.joiner").join(parts) if parts else t("classes.audience.all")


def seats_text(cls: TrainingClass, waiting: int, t: Translate) -> str:
    """``名額 30，尚餘 12 位`` or ``已額滿（候補 3 人）``."""
    left = max(0, cls.capacity - cls.taken)
    if left > 0:
        return t("classes.field.seats_left", capacity=cls.capacity, left=left)
    return t("classes.field.seats_full", capacity=cls.capacity, waiting=waiting)


def reminders_text(rules: RulesFile, t: Translate) -> str:
    """The plan's reminders: 公假, 職務代理人, full attendance (the leave limit comes from rules.yaml)."""
    num, den = rules.attendance.max_leave_fraction
    return t("classes.reminders", fraction=t("classes.fraction", num=num, den=den))


def summary_lines(catalog: Catalog, cls: ClassLike, lang: str, t: Translate) -> list[str]:
    """Title, dates, place, hours and bucket: what every message about a class starts with."""
    lines = [t("classes.field.title", title=class_title(catalog, cls, lang, t)),
             t("classes.field.when", when=meetings_text(cls, lang, t))]
    place = place_text(cls, t)
    if place:
        lines.append(place)
    lines.append(t("classes.field.hours", hours=format_hours(cls.hours), bucket=t(f"bucket.{cls.bucket}")))
    return lines
