"""Why not: every check an enrollment, a cancellation or a substitution must pass, as a :class:`Refusal`.

Nothing here writes. The checks run in a fixed order so the answer names the first rule broken: the class
(status, registration window), a seat or place already held, then the person (eligibility, time clash,
fairness cap). The confirmation card asks :func:`enroll_refusal` the same questions :func:`enroll
<bot.services.classes.enrollment.enroll>` asks, so the two never disagree. The ones another transaction
could invalidate (status, an existing row) are asked again under the class lock by the commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import TAIPEI
from bot.db.models.classes import ClassMeeting, Enrollment, TrainingClass
from bot.db.models.core import Employee
from bot.services.accounts import Scope
from bot.services.classes import format as fmt
from bot.services.classes.deps import Deps
from bot.services.classes.eligibility import (
    EligibilityRule,
    EmployeeFacts,
    Refusal,
    check_eligibility,
    period_bounds,
    window_state,
)
from bot.services.classes.queries import enrollment_of, waitlist_position
from bot.services.classes.transitions import ACTIVE


def facts_of(employee: Employee) -> EmployeeFacts:
    """The roster facts eligibility looks at."""
    return EmployeeFacts(rank=employee.rank or "", is_supervisor=bool(employee.is_supervisor),
                         hire_date=employee.hire_date, agency=employee.agency or "", active=bool(employee.active))


def rule_of(cls: TrainingClass) -> EligibilityRule:
    """The class's eligibility rule (stored as JSON)."""
    return EligibilityRule.model_validate(cls.eligibility or {})


def class_day(cls: TrainingClass) -> date:
    """The class's first day in Taipei."""
    return cls.starts_at.astimezone(TAIPEI).date()


def refusal_text(deps: Deps, lang: str, refusal: Refusal) -> str:
    """A refusal's sentence in ``lang``."""
    return refusal.text(deps.t(lang))


def class_refusal(cls: TrainingClass, now: datetime, lang: str) -> Refusal | None:
    """Why nobody can enroll in the class right now (cancelled, closed, window), or None."""
    if cls.status == "cancelled":
        return Refusal("classes.refuse.cancelled")
    state = window_state(cls.opens_at, cls.closes_at, now)
    if state == "not_open":
        return Refusal("classes.refuse.not_open", {"opens": fmt.instant_text(cls.opens_at, lang)})
    if state == "closed":
        return Refusal("classes.refuse.window_closed", {"closes": fmt.instant_text(cls.closes_at, lang, is_end=True)})
    if cls.status == "closed":
        return Refusal("classes.refuse.closed")
    return None


async def clash_refusal(session: AsyncSession, employee_id: int, cls: TrainingClass, deps: Deps,
                        lang: str) -> Refusal | None:
    """A refusal naming the first active enrollment whose meetings overlap this class's, or None."""
    if not cls.meetings:
        return None
    overlap = or_(*[and_(ClassMeeting.starts_at < m.ends_at, ClassMeeting.ends_at > m.starts_at)
                    for m in cls.meetings])
    stmt = (select(TrainingClass, ClassMeeting.starts_at)
            .join(ClassMeeting, ClassMeeting.class_id == TrainingClass.id)
            .join(Enrollment, Enrollment.class_id == TrainingClass.id)
            .where(Enrollment.employee_id == employee_id, Enrollment.status.in_(ACTIVE),
                   TrainingClass.id != cls.id, TrainingClass.status != "cancelled", overlap)
            .order_by(ClassMeeting.starts_at).limit(1))
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    other, at = row
    return Refusal("classes.refuse.clash", {"title": fmt.class_title(deps.catalog, other, lang),
                                            "when": fmt.local_day_text(at, lang, deps.t(lang))})


async def cap_refusal(session: AsyncSession, employee_id: int, cls: TrainingClass, deps: Deps,
                      lang: str) -> Refusal | None:
    """A refusal when the person already has the plan's maximum of active enrollments in the period."""
    cap = deps.settings.fairness.max_active_per_period
    if cap is None:
        return None
    start, end = period_bounds(cls.starts_at, deps.settings.fairness.period)
    count = (await session.execute(
        select(func.count()).select_from(Enrollment).join(TrainingClass, TrainingClass.id == Enrollment.class_id)
        .where(Enrollment.employee_id == employee_id, Enrollment.status.in_(ACTIVE), TrainingClass.id != cls.id,
               TrainingClass.status != "cancelled", TrainingClass.starts_at >= start,
               TrainingClass.starts_at < end))).scalar_one()
    if count < cap:
        return None
    t = deps.t(lang)
    return Refusal("classes.refuse.cap", {"count": str(count), "cap": str(cap),
                                          "period": t(f"classes.period.{deps.settings.fairness.period}")})


async def person_refusal(session: AsyncSession, employee: Employee, cls: TrainingClass, deps: Deps,
                         lang: str) -> Refusal | None:
    """Eligibility, time clash and cap, in that order (for enrolling and for substitutes)."""
    refusal = check_eligibility(rule_of(cls), facts_of(employee), class_day(cls))
    if refusal is None:
        refusal = await clash_refusal(session, employee.id, cls, deps, lang)
    if refusal is None:
        refusal = await cap_refusal(session, employee.id, cls, deps, lang)
    return refusal


def already_refusal(row: Enrollment, position: int | None) -> Refusal:
    """"Already enrolled" or "already waiting (#n)"."""
    if row.status == "waitlisted":
        return Refusal("classes.refuse.already_waitlisted", {"position": str(position or "?")})
    return Refusal("classes.refuse.already_enrolled")


async def held_place(session: AsyncSession, row: Enrollment | None) -> tuple[Enrollment, int | None] | None:
    """``row`` with its waitlist position when it holds a seat or a waitlist place, else None."""
    if row is None or row.status not in ACTIVE:
        return None
    return row, (await waitlist_position(session, row.class_id, row.seq) if row.status == "waitlisted" else None)


async def enroll_refusal(session: AsyncSession, cls: TrainingClass, employee: Employee, *, now: datetime,
                         deps: Deps, lang: str = "zh-TW") -> Refusal | None:
    """Why :func:`~bot.services.classes.enrollment.enroll` would refuse ``employee`` now, or None; takes nothing.

    For the confirmation card: the class (status, window), a seat or waitlist place already held, then
    the person (eligibility, clash, fairness cap).
    """
    refusal = class_refusal(cls, now, lang)
    if refusal is not None:
        return refusal
    held = await held_place(session, await enrollment_of(session, cls.id, employee.id))
    if held is not None:
        return already_refusal(*held)
    return await person_refusal(session, employee, cls, deps, lang)


def cancel_refusal(row: Enrollment, cls: TrainingClass, now: datetime, lang: str) -> Refusal | None:
    """Why the person cannot cancel this themselves (a seat after the deadline, a place after the start), or None."""
    if row.status == "cancelled":
        return Refusal("classes.refuse.already_cancelled")
    if row.status == "enrolled" and now >= cls.closes_at:
        return Refusal("classes.refuse.cancel_deadline", {"closes": fmt.instant_text(cls.closes_at, lang, is_end=True)})
    if row.status == "waitlisted" and now >= cls.starts_at:
        return Refusal("classes.refuse.started")
    return None


async def substitute_refusal(session: AsyncSession, original: Enrollment, leaving: Employee,
                             replacement: Employee, cls: TrainingClass, scope: Scope, now: datetime,
                             deps: Deps, lang: str, *, theirs: Enrollment | None = None) -> Refusal | None:
    """Why this substitution cannot happen (scope, deadline, same agency, the replacement's eligibility), or None."""
    if not scope.covers(leaving.agency):
        return Refusal("classes.refuse.sub_scope", {"agency": leaving.agency or "—"})
    if not scope.covers(replacement.agency):
        return Refusal("classes.refuse.sub_scope", {"agency": replacement.agency or "—"})
    if original.status != "enrolled":
        return Refusal("classes.refuse.sub_not_enrolled", {"name": leaving.name})
    if cls.status == "cancelled":
        return Refusal("classes.refuse.cancelled")
    if now >= cls.closes_at:
        return Refusal("classes.refuse.sub_deadline", {"closes": fmt.instant_text(cls.closes_at, lang, is_end=True)})
    if replacement.id == leaving.id:
        return Refusal("classes.refuse.sub_same")
    if (replacement.agency or "") != (leaving.agency or ""):
        return Refusal("classes.refuse.sub_agency", {"name": replacement.name, "agency": leaving.agency or "—"})
    if theirs is None:
        theirs = await enrollment_of(session, cls.id, replacement.id)
    if theirs is not None and theirs.status == "enrolled":
        return Refusal("classes.refuse.sub_already", {"name": replacement.name})
    refusal = await person_refusal(session, replacement, cls, deps, lang)
    if refusal is not None:
        return Refusal("classes.refuse.sub_person", {"name": replacement.name,
                                                     "reason": refusal_text(deps, lang, refusal)})
    return None


@dataclass(frozen=True)
class PersonalState:
    """Where one person stands with a class, for its card.

    ``enrolled``, ``waitlisted`` (``position``), ``ineligible`` (``refusal`` says why), ``full`` (a waitlist
    place is open), ``open``, or ``closed`` (for everyone: the card says so).
    """

    kind: Literal["enrolled", "waitlisted", "ineligible", "full", "open", "closed"]
    position: int | None = None
    refusal: Refusal | None = None


async def personal_states(session: AsyncSession, classes: Sequence[TrainingClass], employee: Employee, *,
                          now: datetime, deps: Deps, lang: str) -> dict[int, PersonalState]:
    """Each class's :class:`PersonalState` for ``employee`` (the same checks as :func:`enroll_refusal`)."""
    states: dict[int, PersonalState] = {}
    for cls in classes:
        held = await held_place(session, await enrollment_of(session, cls.id, employee.id))
        if held is not None:
            row, position = held
            states[cls.id] = PersonalState("waitlisted" if row.status == "waitlisted" else "enrolled", position)
        elif class_refusal(cls, now, lang) is not None:
            states[cls.id] = PersonalState("closed")
        elif (refusal := await person_refusal(session, employee, cls, deps, lang)) is not None:
            states[cls.id] = PersonalState("ineligible", refusal=refusal)
        else:
            states[cls.id] = PersonalState("full" if cls.taken >= cls.capacity else "open")
    return states
