"""Reminders: who opted out of which category, how far each source's sweep got, survey tokens and answers.

Business reminders are never stored as scheduler jobs: the sweep derives them from meetings, enrollments
and learning records, and each lands once in the outbox through its dedupe key. The tables here hold
only what cannot be derived: a person's opt-outs, each source's watermark (the instant up to which its
moments were decided), and the satisfaction survey.

Survey answers cannot be linked to a person: ``survey_invitations`` says who was asked about which class,
with the one-time token their buttons carry, and whether they answered (that enforces one answer each);
``survey_answers`` holds the answers under a random response id, with the class and the question but no
account, no employee, no token and no time, written in the same transaction that marks the invitation
answered. What is written there cannot be traced back by a join.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

REMINDER_CATEGORIES = ("class", "deadline", "survey")
"""What a person can switch off in 提醒設定: class reminders, deadline reminders, surveys."""


class ReminderOptOut(Base):
    """One category of reminders a person asked not to get."""

    __tablename__ = "reminder_optouts"
    __table_args__ = (
        CheckConstraint(f"category IN ({','.join(repr(c) for c in REMINDER_CATEGORIES)})", name="category"),
        UniqueConstraint("employee_id", "category", name="uq_reminder_optouts_employee_category"),
    )

    # One integer key, like every table that refers to employees: an import's undo looks rows up by it.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderWatermark(Base):
    """Up to which instant a reminder source decided its moments (the scheduler's sweeps move it forward)."""

    __tablename__ = "reminder_watermarks"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    swept_until: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyInvitation(Base):
    """One trainee asked about one class: the one-time token of the buttons, and whether it was spent."""

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("class_id", "employee_id", name="uq_survey_invitations_class_employee"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered: Mapped[bool] = mapped_column(default=False)


class SurveyAnswer(Base):
    """One answer to one question, under a random response id: no account, employee, token or time.

    ``id`` is random too (62 bits), not a sequence, so the key does not tell the order answers came in; it
    is there because an import's undo looks rows that refer to a class up by one integer key.
    """

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id", name="uq_survey_answers_response_question"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    response_id: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[str] = mapped_column(String(32))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
