"""How reminders read: before a meeting, registration closing for the waitlisted, a deadline with a gap.

Registered in :data:`handlers.notices.RENDERERS`. Class reminders describe the class with the same
``format`` functions as its cards, add the materials, the plan's 公假 / 職務代理人 / full-attendance
reminders and, while cancelling is allowed, the existing "cancel" button of my enrollments.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from bot.conversation import Choice, Reply
from bot.dates import format_date
from bot.services.classes import ClassFacts, MeetingFacts
from bot.services.classes import format as fmt
from bot.services.hours import format_hours
from bot.services.notices import Notice
from bot.services.reminders import (
    CLASS_EVENING,
    CLASS_MORNING,
    DEADLINE,
    SURVEY_INVITE,
    SURVEY_REMINDER,
    WAITLIST_CLOSING,
)
from handlers.common import MyEnrollments
from handlers.my_enrollments import AskCancel
from handlers.notice_reader import NoticeReader, RenderFunction
from handlers.survey import question_reply


def class_reminder(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """The evening before / the morning of a meeting: when, where, materials, the plan's reminders, cancel."""
    v = notice.values
    cls = ClassFacts.from_json(v["class"])
    start, end = (datetime.fromisoformat(x) for x in v["meeting"])
    one = ClassFacts(cls.course_code, cls.name, (MeetingFacts(start, end),), cls.place, cls.online_url, cls.hours,
                     cls.bucket, cls.materials_url, cls.closes_at)
    key = notice.kind.removeprefix("reminders.")
    lines = [reader.t(f"reminders.{key}", number=v["number"], of=v["of"],
                      when=fmt.meetings_text(one, reader.lang, reader.t)),
             *fmt.summary_lines(reader.catalog, cls, reader.lang, reader.t)]
    if cls.materials_url:
        lines.append(reader.t("classes.field.materials", url=cls.materials_url))
    lines.append(fmt.reminders_text(reader.rules, reader.t))
    buttons: list[Choice] = []
    if v.get("can_cancel"):
        lines.append(reader.t("reminders.cancel_hint",
                              closes=fmt.instant_text(cls.closes_at, reader.lang, is_end=True)))
        buttons.append(reader.choice("classes.button.cancel", AskCancel(int(v["enrollment_id"]))))
    buttons.append(reader.choice("menu.button.enrollments", MyEnrollments()))
    return [Reply.plain("\n".join(lines), buttons)]


def waitlist_closing(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """Registration for a class you are waitlisted on closes tomorrow."""
    cls = ClassFacts.from_json(notice.values["class"])
    lines = [reader.t("reminders.waitlist_closing", closes=fmt.instant_text(cls.closes_at, reader.lang, is_end=True)),
             *fmt.summary_lines(reader.catalog, cls, reader.lang, reader.t)]
    return [Reply.plain("\n".join(lines), [reader.choice("menu.button.enrollments", MyEnrollments())])]


def deadline(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """N days before a deadline: what is missing per bucket, and the package or open classes that fill it."""
    v = notice.values
    d = next(x for x in reader.rules.deadlines if x.id == v["deadline"])
    title = d.title if reader.lang == "zh-TW" else d.title_en
    lines = [reader.t("reminders.deadline", title=title, date=format_date(d.date, reader.lang), days=v["days"])]
    for bucket, hours in v["missing"].items():
        lines.append(reader.t("reminders.deadline.bucket", bucket=reader.t(f"bucket.{bucket}"),
                              hours=format_hours(Decimal(hours))))
    if v.get("package"):
        p = reader.rules.hours.mandatory_package
        lines.append(reader.t("reminders.deadline.package", name=p.name if reader.lang == "zh-TW" else p.name_en,
                              platform=p.platform, hours=format_hours(Decimal(str(p.hours)))))
    if v.get("classes"):
        lines.append(reader.t("reminders.deadline.classes"))
        for c in v["classes"]:
            facts = ClassFacts.from_json(c)
            lines.append(reader.t("reminders.deadline.class_line",
                                  title=fmt.class_title(reader.catalog, facts, reader.lang),
                                  closes=fmt.instant_text(facts.closes_at, reader.lang, is_end=True)))
    return [Reply.plain("\n".join(lines))]



def survey(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """The invitation (or its one reminder): the class, the promise of anonymity, the first question's buttons."""
    v = notice.values
    cls = ClassFacts.from_json(v["class"])
    closes = fmt.instant_text(datetime.fromisoformat(v["closes_at"]), reader.lang, is_end=True)
    lead = [reader.t(notice.kind.replace("surveys.", "survey."), closes=closes),
            reader.t("classes.field.title", title=fmt.class_title(reader.catalog, cls, reader.lang))]
    return [question_reply(reader.t, v["first"], lang=reader.lang, token=str(v["token"]), number=0, of=int(v["of"]),
                           scale=v["scale"], lead=lead)]


RENDERERS: Mapping[str, RenderFunction] = {
    CLASS_EVENING: class_reminder,
    CLASS_MORNING: class_reminder,
    WAITLIST_CLOSING: waitlist_closing,
    DEADLINE: deadline,
    SURVEY_INVITE: survey,
    SURVEY_REMINDER: survey,
}
