"""Reminders: decided from the database's rows by one scheduler's sweep, queued once through the outbox.

Modules: ``settings`` (``data/plans/<year>/reminders.yaml``), ``source`` (the :class:`ReminderSource`
protocol every family of reminders implements: what is due in a window, and whether it is still true
just before delivery), ``classes`` (the evening before and the morning of each meeting; "registration
closes tomorrow" for the waitlisted), ``deadlines`` (30/14/7/1 days before each deadline, to people with a
gap), ``survey`` (the anonymous satisfaction survey when a class ends), ``sweep`` (:class:`Reminders`:
the registry of sources, the watermarks, opt-outs, quiet hours, the rows) and ``people`` (提醒設定 and
"my reminders").

A feature adds a family of reminders (the certificates' "claim window closes in N days") by writing a
``ReminderSource`` and passing it to :func:`build_reminders` in ``bot.bootstrap``.

Other packages import only what this module exports.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.catalog import Catalog, RulesFile
from bot.services.notices import Notifier, QuietHours
from bot.services.reminders.classes import (
    CLASS_EVENING,
    CLASS_MORNING,
    WAITLIST_CLOSING,
    ClassReminders,
    WaitlistClosing,
)
from bot.services.reminders.deadlines import DEADLINE, DeadlineReminders, deadline_moments
from bot.services.reminders.people import Queued, first_text, opt_outs, queued_for, set_opt_out
from bot.services.reminders.settings import RemindersFile, load_reminders
from bot.services.reminders.source import Due, ReminderSource, SweepContext
from bot.services.reminders.survey import (
    SURVEY_INVITE,
    SURVEY_REMINDER,
    Invitation,
    QuestionResult,
    SurveyReport,
    SurveySource,
    invitation,
    submit,
    survey_report,
)
from bot.services.reminders.sweep import Planned, Reminders, StillTrue, SweepResult

NOTICE_KINDS = (CLASS_EVENING, CLASS_MORNING, WAITLIST_CLOSING, DEADLINE, SURVEY_INVITE, SURVEY_REMINDER)
"""The kinds the built-in sources build; start-up refuses one without a renderer."""


def build_reminders(settings: RemindersFile, rules: RulesFile, catalog: Catalog, quiet: QuietHours,
                    notifier: Notifier, extra: Sequence[ReminderSource] = ()) -> Reminders:
    """The registry: the built-in sources, then ``extra`` ones (other features' reminders)."""
    sources: list[ReminderSource] = [ClassReminders(), WaitlistClosing(), DeadlineReminders(rules),
                                     SurveySource(settings.survey), *extra]
    return Reminders(SweepContext(settings, rules, catalog, quiet), notifier, sources)


__all__ = [
    "CLASS_EVENING", "CLASS_MORNING", "DEADLINE", "NOTICE_KINDS", "SURVEY_INVITE", "SURVEY_REMINDER",
    "WAITLIST_CLOSING", "Due", "Invitation", "Planned", "QuestionResult", "Queued", "ReminderSource", "Reminders",
    "RemindersFile", "StillTrue", "SurveyReport", "SurveySource", "SweepContext", "SweepResult", "build_reminders",
    "deadline_moments", "first_text", "invitation", "load_reminders", "opt_outs", "queued_for", "set_opt_out",
    "submit", "survey_report",
]
