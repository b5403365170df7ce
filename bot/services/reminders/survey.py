"""The anonymous satisfaction survey: invited at the end of a class's last meeting, answered with buttons.

Everyone holding a seat in a class that ends is invited once (``surveys.invite``), with a one-time token
(:class:`~bot.db.models.reminders.SurveyInvitation`) that the answer buttons carry; one reminder
(``surveys.reminder``) follows ``reminder_after_hours`` later if they have not answered. Answers are
collected in the chat and written at the end by :func:`submit`: one guarded UPDATE spends the token (a
second answer, or a second device, finds it spent and writes nothing), and the answers go into
``survey_answers`` under a fresh random response id, with no account, employee, token or time, so
nothing joins them back to the person. :func:`survey_report` counts and averages them per question.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db.models.classes import Enrollment, TrainingClass
from bot.db.models.reminders import SurveyAnswer, SurveyInvitation
from bot.services.classes import ClassFacts
from bot.services.notices import Notice
from bot.services.reminders.settings import SurveySettings
from bot.services.reminders.source import Due, SweepContext, chunks, keyed_ids

SURVEY_INVITE = "surveys.invite"
SURVEY_REMINDER = "surveys.reminder"


class SurveySource:
    """Invitations when a class ends, and one reminder to those who have not answered."""

    name = "survey"
    category = "survey"
    kinds: Sequence[str] = (SURVEY_INVITE, SURVEY_REMINDER)

    def __init__(self, settings: SurveySettings) -> None:
        self.settings = settings

    def _moments(self, ends_at: datetime) -> tuple[datetime, datetime, datetime]:
        s = self.settings
        invite = ends_at + timedelta(minutes=s.delay_minutes)
        return invite, invite + timedelta(hours=s.reminder_after_hours), invite + timedelta(days=s.closes_after_days)

    async def due(self, session: AsyncSession, ctx: SweepContext, since: datetime, until: datetime, *,
                  only: int | None = None) -> list[Due]:
        """Invitations of classes that ended in the window, reminders whose moment came, to seat holders.

        Makes the invitations (and their tokens) it needs; ``reminders due`` rolls its session back.
        """
        s = self.settings
        back = timedelta(minutes=s.delay_minutes, hours=s.reminder_after_hours)
        classes = (await session.execute(
            select(TrainingClass).options(selectinload(TrainingClass.meetings))
            .where(TrainingClass.status != "cancelled", TrainingClass.ends_at > since - back,
                   TrainingClass.ends_at <= until))).scalars().all()
        out: list[Due] = []
        for cls in classes:
            invite, remind, closes = self._moments(cls.ends_at)
            kinds = [(k, at) for k, at in ((SURVEY_INVITE, invite), (SURVEY_REMINDER, remind)) if since < at <= until]
            if not kinds:
                continue
            tokens = await self._invitations(session, cls.id, only, until)
            facts = ClassFacts.of(cls).to_json()
            for kind, at in kinds:
                for employee_id, (token, answered) in tokens.items():
                    if kind == SURVEY_REMINDER and answered:
                        continue
                    notice = Notice(kind, {"class": facts, "token": token, "closes_at": closes.isoformat(),
                                           "first": s.questions[0].model_dump(), "of": len(s.questions),
                                           "scale": list(s.scale)})
                    out.append(Due(employee_id, notice, f"{kind}:{cls.id}:{employee_id}", at, closes))
        return out

    async def _invitations(self, session: AsyncSession, class_id: int, only: int | None,
                           now: datetime) -> dict[int, tuple[str, bool]]:
        """Each seat holder's invitation (made now when missing): employee → (token, answered).

        For one person (``only``: 我的提醒 looking ahead) nothing is made; a missing one reads as no token yet.
        """
        who = select(Enrollment.employee_id).where(Enrollment.class_id == class_id, Enrollment.status == "enrolled")
        if only is not None:
            who = who.where(Enrollment.employee_id == only)
        people = list((await session.execute(who)).scalars())
        if people and only is None:
            insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
            await session.execute(insert(SurveyInvitation).on_conflict_do_nothing(), [
                {"token": secrets.token_hex(8), "class_id": class_id, "employee_id": e, "answered": False,
                 "issued_at": now} for e in people])
        rows = await session.execute(select(SurveyInvitation.employee_id, SurveyInvitation.token,
                                            SurveyInvitation.answered)
                                     .where(SurveyInvitation.class_id == class_id,
                                            SurveyInvitation.employee_id.in_(people)))
        found = {r[0]: (r[1], bool(r[2])) for r in rows}
        return found if only is None else {e: found.get(e, ("", False)) for e in people}

    async def still_true(self, session: AsyncSession, kind: str, dedupe_key: str, now: datetime) -> str | None:
        """Skipped when the person answered meanwhile (or the survey closed)."""
        return (await self.still_true_many(session, kind, [dedupe_key], now)).get(dedupe_key)

    async def still_true_many(self, session: AsyncSession, kind: str, dedupe_keys: Sequence[str],
                              now: datetime) -> dict[str, str]:
        """:meth:`still_true` of many keys (``<kind>:<class>:<employee>``): one set query."""
        keys = keyed_ids(dedupe_keys, 2)
        found: dict[tuple[int, int], tuple[bool, datetime]] = {}
        class_ids = sorted({c for c, _ in keys.values()})
        for part in chunks(e for _, e in keys.values()) if class_ids else ():
            for class_id, employee_id, answered, ends_at in (await session.execute(
                    select(SurveyInvitation.class_id, SurveyInvitation.employee_id, SurveyInvitation.answered,
                           TrainingClass.ends_at)
                    .join(TrainingClass, TrainingClass.id == SurveyInvitation.class_id)
                    .where(SurveyInvitation.class_id.in_(class_ids), SurveyInvitation.employee_id.in_(part)))).all():
                found[(class_id, employee_id)] = (bool(answered), ends_at)
        out = {}
        for key, (class_id, employee_id) in keys.items():
            row = found.get((class_id, employee_id))
            if row is None:
                continue
            if row[0]:
                out[key] = "survey answered"
            elif now >= self._moments(row[1])[2]:
                out[key] = "survey closed"
        return out


@dataclass(frozen=True)
class Invitation:
    """An invitation found by its token: the class and whether it can still be answered."""

    class_id: int
    employee_id: int
    answered: bool
    closed: bool


async def invitation(session: AsyncSession, settings: SurveySettings, token: str, *,
                     now: datetime) -> Invitation | None:
    """The invitation a button's token names, or None (a forged or garbled token)."""
    row = (await session.execute(
        select(SurveyInvitation.class_id, SurveyInvitation.employee_id, SurveyInvitation.answered,
               TrainingClass.ends_at)
        .join(TrainingClass, TrainingClass.id == SurveyInvitation.class_id)
        .where(SurveyInvitation.token == token))).first()
    if row is None:
        return None
    closes = row[3] + timedelta(minutes=settings.delay_minutes, days=settings.closes_after_days)
    return Invitation(row[0], row[1], bool(row[2]), now >= closes)


async def submit(session: AsyncSession, token: str, employee_id: int, answers: Mapping[str, int | str]) -> bool:
    """Spend the token and store the answers unlinkably; False (nothing written) when it was spent already."""
    spent = (await session.execute(
        update(SurveyInvitation).where(SurveyInvitation.token == token, SurveyInvitation.employee_id == employee_id,
                                       SurveyInvitation.answered.is_(False))
        .values(answered=True).returning(SurveyInvitation.class_id))).scalar_one_or_none()
    if spent is None:
        return False
    response = secrets.token_hex(16)
    session.add_all([SurveyAnswer(id=secrets.randbits(62), response_id=response, question_id=qid, class_id=spent,
                                  score=value if isinstance(value, int) else None,
                                  text=value if isinstance(value, str) else None) for qid, value in answers.items()])
    await session.flush()
    return True


@dataclass(frozen=True)
class QuestionResult:
    """One question's answers: how many, the mean and the count per point (scale), or the texts."""

    id: str
    text: str
    type: str
    answers: int
    mean: Decimal | None = None
    counts: dict[int, int] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SurveyReport:
    """A class's survey: how many were asked, how many answered, and each question."""

    class_id: int
    invited: int
    responses: int
    questions: list[QuestionResult]


async def survey_report(session: AsyncSession, settings: SurveySettings, class_id: int) -> SurveyReport:
    """Counts, means and distributions per question; free text listed without names, in a stable order."""
    invited, responses = (await session.execute(
        select(func.count(), func.coalesce(func.sum(case((SurveyInvitation.answered.is_(True), 1), else_=0)), 0))
        .where(SurveyInvitation.class_id == class_id))).one()
    rows = (await session.execute(select(SurveyAnswer.question_id, SurveyAnswer.score, SurveyAnswer.text)
                                  .where(SurveyAnswer.class_id == class_id))).all()
    out = []
    for q in settings.questions:
        mine = [r for r in rows if r[0] == q.id]
        if q.type == "scale":
            scores = [int(r[1]) for r in mine if r[1] is not None]
            counts = {p: scores.count(p) for p in range(settings.scale[0], settings.scale[1] + 1)}
            mean = (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01"), ROUND_HALF_UP) if scores else None
            out.append(QuestionResult(q.id, q.text, q.type, len(scores), mean, counts))
        else:
            texts = sorted(str(r[2]) for r in mine if r[2])
            out.append(QuestionResult(q.id, q.text, q.type, len(texts), texts=texts))
    return SurveyReport(class_id, int(invited), int(responses), out)
