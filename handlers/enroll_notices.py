"""How the classes feature's notices read: promoted, class cancelled, substituted, class moved.

Each notice carries the class as ``ClassFacts`` and is written with the ``format`` functions the chat's
cards use, so it describes the class exactly as the confirmation card did; it ends with a "my
enrollments" button. Registered in :data:`handlers.notices.RENDERERS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.conversation import Reply
from bot.services.classes import (
    CLASS_CANCELLED,
    CLASS_MOVED,
    CLASS_RESCHEDULED,
    CLASS_RESCHEDULED_MOVED,
    PROMOTED,
    SUBSTITUTED_IN,
    SUBSTITUTED_OUT,
    ClassFacts,
)
from bot.services.classes import format as fmt
from bot.services.notices import Notice
from handlers.common import MyEnrollments
from handlers.notice_reader import NoticeReader, RenderFunction


def _lines(notice: Notice, reader: NoticeReader) -> tuple[ClassFacts, list[str]]:
    """The notice's own sentence (``classes.notice.<event>``), then the class's summary."""
    cls = ClassFacts.from_json(notice.values["class"])
    event = notice.kind.removeprefix("classes.")
    values = {"other": notice.values["other"]} if "other" in notice.values else {}
    return cls, [reader.t(f"classes.notice.{event}", **values),
                 *fmt.summary_lines(reader.catalog, cls, reader.lang, reader.t)]


def _replies(reader: NoticeReader, lines: list[str]) -> list[Reply]:
    return [Reply.plain("\n".join(lines), [reader.choice("menu.button.enrollments",
                                                         MyEnrollments())])]


def about_class(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """A change the person learns of (class cancelled, moved, seat given away): the sentence and the class."""
    _cls, lines = _lines(notice, reader)
    return _replies(reader, lines)


def seated(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """A seat now held (promoted, substitute): also the materials, the plan's reminders, until when to cancel."""
    cls, lines = _lines(notice, reader)
    if cls.materials_url:
        lines.append(reader.t("classes.field.materials", url=cls.materials_url))
    lines.append(fmt.reminders_text(reader.rules, reader.t))
    lines.append(reader.t("classes.notice.cancel_hint",
                          closes=fmt.instant_text(cls.closes_at, reader.lang, is_end=True)))
    return _replies(reader, lines)


RENDERERS: Mapping[str, RenderFunction] = {
    PROMOTED: seated,
    SUBSTITUTED_IN: seated,
    SUBSTITUTED_OUT: about_class,
    CLASS_CANCELLED: about_class,
    CLASS_RESCHEDULED: about_class,
    CLASS_MOVED: about_class,
    CLASS_RESCHEDULED_MOVED: about_class,
}
