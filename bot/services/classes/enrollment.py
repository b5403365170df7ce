"""Enrollment: take a seat or join the waitlist, cancel, promote, substitute, and HR's class changes.

Concurrency (see docs/enrollment.md):

* Every operation that changes the enrollments of a class first UPDATEs that class's row (the
  "class lock"): on PostgreSQL this row lock serialises changes per class, on SQLite the first write
  takes the database write lock. ``SELECT … FOR UPDATE`` is never used (SQLite ignores it).
* A seat is taken only by ``UPDATE classes SET taken = taken + 1 WHERE id = … AND taken < capacity``;
  ``CHECK (taken <= capacity + over_capacity)`` and ``UNIQUE (class_id, employee_id)`` back it up.
* Waitlist order is ``seq``, handed out by the same UPDATE that takes the class lock (``next_seq + 1``),
  so it is the order in which attempts got the lock. Gaps are normal (a refused attempt keeps its number).

Friendly checks (window, eligibility, clash, cap) run before the lock; the ones another transaction
could invalidate (status, an existing row) are read again under the lock.

Notices (promotion, class cancelled, substitution) are outbox rows written in the same transaction as
the seat change; delivery workers send them later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, overload

from sqlalchemy import Table, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.clock import TAIPEI
from bot.conversation import Action, Choice, Reply
from bot.db.models.classes import ClassMeeting, Enrollment, TrainingClass
from bot.db.models.core import ChannelAccount, Employee
from bot.services.accounts import Scope, record, scope_of
from bot.services.catalog import Catalog, RulesFile
from bot.services.classes import format as fmt
from bot.services.classes.eligibility import (
    EligibilityRule,
    EmployeeFacts,
    Refusal,
    check_eligibility,
    period_bounds,
    window_state,
)
from bot.services.classes.files import EnrollmentSettings, get_class
from bot.services.hours import format_hours
from bot.services.notices import enqueue
from bot.texts import MessageCatalog

ACTIVE = ("enrolled", "waitlisted")
CLASSES: Table = TrainingClass.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Deps:
    """What enrollment needs besides the session: titles, texts, the plan's rules and settings."""

    catalog: Catalog
    texts: MessageCatalog
    rules: RulesFile
    settings: EnrollmentSettings

    def t(self, lang: str) -> fmt.Translate:
        """A text lookup in ``lang``."""
        def translate(key: str, /, **values: object) -> str:
            return self.texts.get(key, lang, **values)
        return translate


@dataclass(frozen=True)
class EnrollResult:
    """What an enrollment attempt did: a seat, a waitlist place (``position`` from 1), or a refusal."""

    outcome: Literal["enrolled", "waitlisted", "refused"]
    enrollment_id: int | None = None
    position: int | None = None
    refusal: Refusal | None = None


@dataclass(frozen=True)
class CancelResult:
    """What a cancellation did; ``promoted`` lists the enrollment ids that got the freed seat."""

    ok: bool
    was: str | None = None
    promoted: tuple[int, ...] = ()
    refusal: Refusal | None = None


@dataclass(frozen=True)
class SubstituteResult:
    """What a substitution did: the new enrollment and who got a notice (a chat account to send it to), or a refusal."""

    ok: bool
    enrollment_id: int | None = None
    refusal: Refusal | None = None
    leaving_told: bool = False
    replacement_told: bool = False


CLI_SCOPE = Scope(city=True)
"""The command line is run by city HR on a trusted machine."""


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


# ---------------------------------------------------------------- low-level, under the class lock


async def lock_class(session: AsyncSession, class_id: int, *, next_seq: bool = False,
                     only_open: bool = False) -> int | None:
    """UPDATE the class row (taking its lock); with ``next_seq``, hand out the next sequence number.

    Returns the class's ``next_seq`` after the update, or None when no row matched (gone, or not
    ``open`` with ``only_open``).
    """
    stmt = update(CLASSES).where(CLASSES.c.id == class_id)
    if only_open:
        stmt = stmt.where(CLASSES.c.status == "open")
    stmt = stmt.values(next_seq=CLASSES.c.next_seq + (1 if next_seq else 0)).returning(CLASSES.c.next_seq)
    value = (await session.execute(stmt)).scalar_one_or_none()
    return None if value is None else int(value)


async def lock_person(session: AsyncSession, employee_id: int) -> None:
    """Serialise one person's enrollment decisions: a no-op UPDATE of their employee row.

    Clash and cap checks read the person's other enrollments; without this, the same person pressing
    "enroll" on two clashing classes at once could pass both checks. On PostgreSQL the UPDATE takes the
    row's FOR NO KEY UPDATE lock (foreign-key checks of other rows are not blocked); on SQLite it takes
    the database write lock. Taken before the class lock, always in that order.
    """
    await session.execute(update(Employee).where(Employee.id == employee_id)
                          .values(updated_at=Employee.updated_at)
                          .execution_options(synchronize_session=False))


async def take_seat(session: AsyncSession, class_id: int) -> bool:
    """The one guarded update that takes a seat: ``taken + 1`` only while ``taken < capacity``."""
    stmt = (update(CLASSES).where(CLASSES.c.id == class_id, CLASSES.c.taken < CLASSES.c.capacity)
            .values(taken=CLASSES.c.taken + 1).returning(CLASSES.c.taken))
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def release_seat(session: AsyncSession, class_id: int) -> None:
    """Give a seat back; ``over_capacity`` shrinks with it (it is always ``max(0, taken - capacity)``)."""
    over = case((CLASSES.c.taken - 1 > CLASSES.c.capacity, CLASSES.c.taken - 1 - CLASSES.c.capacity), else_=0)
    await session.execute(update(CLASSES).where(CLASSES.c.id == class_id, CLASSES.c.taken > 0)
                          .values(taken=CLASSES.c.taken - 1, over_capacity=over))


@overload
async def _fresh_class(session: AsyncSession, class_id: int) -> TrainingClass: ...
@overload
async def _fresh_class(session: AsyncSession, class_id: int, *, missing_ok: Literal[True]) -> TrainingClass | None: ...
async def _fresh_class(session: AsyncSession, class_id: int, *, missing_ok: bool = False) -> TrainingClass | None:
    """The class as the database has it now (not the copy this session loaded earlier)."""
    found = (await session.execute(
        select(TrainingClass).options(selectinload(TrainingClass.meetings)).where(TrainingClass.id == class_id)
        .execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None and not missing_ok:
        raise LookupError(f"class {class_id} is gone")
    return found


async def enrollment_of(session: AsyncSession, class_id: int, employee_id: int) -> Enrollment | None:
    """A person's enrollment row in a class (any status), read fresh, or None."""
    return (await session.execute(
        select(Enrollment).where(Enrollment.class_id == class_id, Enrollment.employee_id == employee_id)
        .execution_options(populate_existing=True))).scalar_one_or_none()


async def own_enrollment(session: AsyncSession, enrollment_id: int, employee_id: int) -> Enrollment | None:
    """An enrollment by id, only when it belongs to ``employee_id`` (a button must not reach another's row)."""
    row = await session.get(Enrollment, enrollment_id)
    return row if row is not None and row.employee_id == employee_id else None


async def enrollment_with_person(session: AsyncSession, enrollment_id: int) -> tuple[Enrollment, Employee] | None:
    """An enrollment and the employee it belongs to, or None."""
    found = (await session.execute(select(Enrollment, Employee).join(Employee, Employee.id == Enrollment.employee_id)
                                   .where(Enrollment.id == enrollment_id))).first()
    return None if found is None else (found[0], found[1])


async def waitlist_position(session: AsyncSession, class_id: int, seq: int) -> int:
    """1 for the first in the queue: how many waitlisted rows of the class have ``seq`` up to this one."""
    return (await session.execute(select(func.count()).select_from(Enrollment).where(
        Enrollment.class_id == class_id, Enrollment.status == "waitlisted", Enrollment.seq <= seq))).scalar_one()


async def waitlist_length(session: AsyncSession, class_id: int) -> int:
    """How many people wait for a seat in the class."""
    return (await session.execute(select(func.count()).select_from(Enrollment).where(
        Enrollment.class_id == class_id, Enrollment.status == "waitlisted"))).scalar_one()


# ---------------------------------------------------------------- checks (no writes)


def class_refusal(cls: TrainingClass, now: datetime, deps: Deps, lang: str) -> Refusal | None:
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


# ---------------------------------------------------------------- enroll


async def _held(session: AsyncSession, row: Enrollment | None) -> tuple[Enrollment, int | None] | None:
    """``row`` with its waitlist position when it holds a seat or a waitlist place, else None."""
    if row is None or row.status not in ACTIVE:
        return None
    return row, (await waitlist_position(session, row.class_id, row.seq) if row.status == "waitlisted" else None)


async def enroll_refusal(session: AsyncSession, cls: TrainingClass, employee: Employee, *, now: datetime,
                         deps: Deps, lang: str = "zh-TW") -> Refusal | None:
    """Why :func:`enroll` would refuse ``employee`` now (same checks, same order), or None; takes nothing.

    For the confirmation card: the class (status, window), a seat or waitlist place already held, then
    the person (eligibility, clash, fairness cap).
    """
    refusal = class_refusal(cls, now, deps, lang)
    if refusal is not None:
        return refusal
    held = await _held(session, await enrollment_of(session, cls.id, employee.id))
    if held is not None:
        return already_refusal(*held)
    return await person_refusal(session, employee, cls, deps, lang)


async def enroll(session: AsyncSession, class_id: int, employee: Employee, *, now: datetime, deps: Deps,
                 lang: str = "zh-TW") -> EnrollResult:
    """Enroll ``employee`` in a class: a seat while one is free, else the waitlist; or say why not.

    Args:
        session: the caller's transaction (commits or rolls back with the caller).
        class_id: the class.
        employee: a bound, active employee.
        now: the current instant (the registration window is ``[opens_at, closes_at)``).
        deps: texts, catalog, rules, settings.
        lang: the language refusal values (dates, titles) are written in.
    """
    cls = await get_class(session, class_id)
    if cls is None:
        return EnrollResult("refused", refusal=Refusal("classes.refuse.gone"))
    refusal = class_refusal(cls, now, deps, lang)
    if refusal is not None:
        return EnrollResult("refused", refusal=refusal)
    await lock_person(session, employee.id)  # between the class check (no database) and the rest
    held = await _held(session, await enrollment_of(session, class_id, employee.id))
    if held is not None:
        return EnrollResult("refused", held[0].id, held[1], already_refusal(*held))
    refusal = await person_refusal(session, employee, cls, deps, lang)
    if refusal is not None:
        return EnrollResult("refused", refusal=refusal)

    seq = await lock_class(session, class_id, next_seq=True, only_open=True)
    if seq is None:  # HR closed or cancelled it a moment ago
        fresh = await _fresh_class(session, class_id, missing_ok=True)
        gone = Refusal("classes.refuse.gone") if fresh is None else (
            class_refusal(fresh, now, deps, lang) or Refusal("classes.refuse.closed"))
        return EnrollResult("refused", refusal=gone)
    existing = await enrollment_of(session, class_id, employee.id)  # a cancelled row is reused below
    held = await _held(session, existing)
    if held is not None:  # a double tap that lost the race
        return EnrollResult("refused", held[0].id, held[1], already_refusal(*held))
    seated = await take_seat(session, class_id)
    status = "enrolled" if seated else "waitlisted"
    if existing is None:
        existing = Enrollment(class_id=class_id, employee_id=employee.id, status=status, seq=seq,
                              enrolled_at=now if seated else None, unexcused_absence=False,
                              created_at=now, updated_at=now)
        session.add(existing)
    else:  # re-enrolling after a cancellation: the same row, at the back of the queue
        existing.status, existing.seq, existing.updated_at = status, seq, now
        existing.enrolled_at = now if seated else None
        existing.cancelled_at = existing.cancel_reason = existing.substitute_for_id = None
    await session.flush()
    if seated:
        return EnrollResult("enrolled", existing.id)
    return EnrollResult("waitlisted", existing.id, await waitlist_position(session, class_id, seq))


# ---------------------------------------------------------------- promote, cancel


async def promote(session: AsyncSession, class_id: int, *, now: datetime, deps: Deps) -> list[int]:
    """Fill free seats from the waitlist in ``seq`` order, skipping people no longer eligible; tell each one.

    The caller holds the class lock. Nothing happens for a cancelled class or one that has started.
    """
    cls = await _fresh_class(session, class_id)
    if cls.status == "cancelled" or now >= cls.starts_at:
        return []
    waiting = (await session.execute(
        select(Enrollment, Employee).join(Employee, Employee.id == Enrollment.employee_id)
        .where(Enrollment.class_id == class_id, Enrollment.status == "waitlisted")
        .order_by(Enrollment.seq).execution_options(populate_existing=True))).all()
    rule, day = rule_of(cls), class_day(cls)
    promoted: list[int] = []
    for row, person in waiting:
        if check_eligibility(rule, facts_of(person), day) is not None:
            continue
        if not await take_seat(session, class_id):
            break
        row.status, row.enrolled_at, row.updated_at = "enrolled", now, now  # under the class lock
        await session.flush()
        promoted.append(row.id)
        await notify(session, deps, person.id, "promoted", cls, dedupe_key=f"class-promoted:{row.id}:{row.seq}",
                     now=now)
    return promoted


async def cancel(session: AsyncSession, enrollment_id: int, employee_id: int, *, now: datetime, deps: Deps,
                 lang: str = "zh-TW") -> CancelResult:
    """The employee cancels their own enrollment (a seat until the deadline, a waitlist place until the start).

    A freed seat goes at once to the first eligible person on the waitlist, who is told through the outbox.
    """
    row = await own_enrollment(session, enrollment_id, employee_id)
    if row is None:
        return CancelResult(False, refusal=Refusal("classes.refuse.gone"))
    cls = await _fresh_class(session, row.class_id)
    refusal = _cancel_refusal(row, cls, now, lang)
    if refusal is not None:
        return CancelResult(False, row.status, refusal=refusal)
    await lock_class(session, cls.id)
    row = await enrollment_of(session, cls.id, employee_id)
    assert row is not None
    refusal = _cancel_refusal(row, cls, now, lang)
    if refusal is not None:
        return CancelResult(False, row.status, refusal=refusal)
    was = row.status
    row.status, row.cancelled_at, row.cancel_reason, row.updated_at = "cancelled", now, "self", now
    await session.flush()
    promoted: list[int] = []
    if was == "enrolled":
        await release_seat(session, cls.id)
        promoted = await promote(session, cls.id, now=now, deps=deps)
    return CancelResult(True, was, tuple(promoted))


def _cancel_refusal(row: Enrollment, cls: TrainingClass, now: datetime, lang: str) -> Refusal | None:
    if row.status == "cancelled":
        return Refusal("classes.refuse.already_cancelled")
    if row.status == "enrolled" and now >= cls.closes_at:
        return Refusal("classes.refuse.cancel_deadline", {"closes": fmt.instant_text(cls.closes_at, lang, is_end=True)})
    if row.status == "waitlisted" and now >= cls.starts_at:
        return Refusal("classes.refuse.started")
    return None


# ---------------------------------------------------------------- substitutes


async def hr_scope(session: AsyncSession, actor: Employee | None) -> Scope | None:
    """Whose enrollments ``actor`` may hand to a substitute (the accounts feature's roles); None for non-HR.

    ``actor=None`` is the command line (city HR on a trusted machine): every agency.
    """
    if actor is None:
        return CLI_SCOPE
    scope = await scope_of(session, actor)
    return scope if scope.is_hr else None


async def substitute(session: AsyncSession, enrollment_id: int, replacement: Employee, *, scope: Scope,
                     now: datetime, deps: Deps, lang: str = "zh-TW") -> SubstituteResult:
    """Move an enrolled person's seat to a colleague of the same agency (遞補), before the deadline.

    Both are told through the outbox. The seat count does not change; the replacement leaves the
    waitlist if they were on it.
    """
    row = await enrollment_with_person(session, enrollment_id)
    if row is None:
        return SubstituteResult(False, refusal=Refusal("classes.refuse.gone"))
    original, leaving = row
    cls = await _fresh_class(session, original.class_id)
    refusal = await substitute_refusal(session, original, leaving, replacement, cls, scope, now, deps, lang)
    if refusal is not None:
        return SubstituteResult(False, refusal=refusal)

    await lock_person(session, replacement.id)  # person before class, as in enroll()
    seq = await lock_class(session, cls.id, next_seq=True)
    assert seq is not None
    original = await enrollment_of(session, cls.id, leaving.id) or original
    theirs = await enrollment_of(session, cls.id, replacement.id)
    refusal = await substitute_refusal(session, original, leaving, replacement, cls, scope, now, deps, lang,
                                       theirs=theirs)
    if refusal is not None:
        return SubstituteResult(False, refusal=refusal)
    original.status, original.cancelled_at, original.cancel_reason, original.updated_at = (
        "cancelled", now, "substituted", now)
    if theirs is None:
        theirs = Enrollment(class_id=cls.id, employee_id=replacement.id, status="enrolled", seq=seq,
                            enrolled_at=now, unexcused_absence=False, created_at=now, updated_at=now,
                            substitute_for_id=original.id)
        session.add(theirs)
    else:
        if theirs.status == "cancelled":
            theirs.seq = seq
        theirs.status, theirs.enrolled_at, theirs.updated_at = "enrolled", now, now
        theirs.cancelled_at = theirs.cancel_reason = None
        theirs.substitute_for_id = original.id
    await session.flush()
    out = await notify(session, deps, leaving.id, "substituted_out", cls,
                       dedupe_key=f"class-sub-out:{original.id}:{seq}", now=now, other=replacement.name)
    into = await notify(session, deps, replacement.id, "substituted_in", cls,
                        dedupe_key=f"class-sub-in:{theirs.id}:{seq}", now=now, other=leaving.name)
    return SubstituteResult(True, theirs.id, leaving_told=out > 0, replacement_told=into > 0)


SUB_ACTION = "classes.substitute"
"""The audit's name for HR moving a seat to a substitute."""


async def substitute_as(session: AsyncSession, actor: Employee | None, cls: TrainingClass, leaving: Employee,
                        replacement: Employee, *, actor_label: str, now: datetime, deps: Deps,
                        lang: str = "zh-TW") -> SubstituteResult:
    """HR names a substitute: role check, then :func:`substitute`; the outcome is audited, refused or done.

    ``actor`` is the HR employee, None for the command line (city HR on a trusted machine);
    ``actor_label`` says who asks, for the audit (``line:42``, ``cli:T0004``). ``leaving`` must hold a
    seat in ``cls``; ``replacement`` takes it. The chat and ``abc-bot admin substitute`` both come here.
    The audit line is ``allowed=1`` only when the seat moved; a refusal (role, agency, deadline, the
    substitute's eligibility …) is ``allowed=0`` with the refusal's key as the detail.
    """
    scope = await hr_scope(session, actor)
    result = await _substitute_in_scope(session, scope, cls, leaving, replacement, now=now, deps=deps, lang=lang)
    await record(session, actor=actor_label, actor_employee_id=actor.id if actor else None, action=SUB_ACTION,
                 target=f"{cls.code} {leaving.employee_no}>{replacement.employee_no}", allowed=result.ok, now=now,
                 detail=result.refusal.key if result.refusal else "")
    return result


async def _substitute_in_scope(session: AsyncSession, scope: Scope | None, cls: TrainingClass, leaving: Employee,
                               replacement: Employee, *, now: datetime, deps: Deps, lang: str) -> SubstituteResult:
    if scope is None:
        return SubstituteResult(False, refusal=Refusal("classes.sub.not_hr"))
    if not scope.covers(leaving.agency):
        return SubstituteResult(False, refusal=Refusal("classes.refuse.sub_scope", {"agency": leaving.agency or "—"}))
    row = await enrollment_of(session, cls.id, leaving.id)
    if row is None:
        return SubstituteResult(False, refusal=Refusal("classes.refuse.sub_not_enrolled", {"name": leaving.name}))
    return await substitute(session, row.id, replacement, scope=scope, now=now, deps=deps, lang=lang)


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
                                                     "reason": _in(deps, lang, refusal)})
    return None


# ---------------------------------------------------------------- HR changes to a class


@dataclass
class ClassChange:
    """What an HR change did to the people of a class (for the import report)."""

    cancelled_people: int = 0
    promoted: list[int] = field(default_factory=list)
    over_capacity: int = 0


async def cancel_class(session: AsyncSession, class_id: int, *, now: datetime, deps: Deps) -> ClassChange:
    """HR cancels a class: every enrolled or waitlisted person is cancelled and told; no seat stays taken."""
    await lock_class(session, class_id)
    people = (await session.execute(
        select(Enrollment).where(Enrollment.class_id == class_id, Enrollment.status.in_(ACTIVE))
        .order_by(Enrollment.seq).execution_options(populate_existing=True))).scalars().all()
    for row in people:
        row.status, row.cancelled_at, row.cancel_reason, row.updated_at = "cancelled", now, "class_cancelled", now
    await session.flush()
    await session.execute(update(CLASSES).where(CLASSES.c.id == class_id)
                          .values(status="cancelled", taken=0, over_capacity=0, updated_at=now))
    cls = await _fresh_class(session, class_id)
    for row in people:
        await notify(session, deps, row.employee_id, "class_cancelled", cls,
                     dedupe_key=f"class-cancelled:{class_id}:{row.id}:{row.seq}", now=now)
    return ClassChange(cancelled_people=len(people))


async def tell_class_changed(session: AsyncSession, class_id: int, *, time_changed: bool, place_changed: bool,
                             change_key: str, now: datetime, deps: Deps) -> int:
    """Tell everyone enrolled or waitlisted that a class's time and/or place (or link) changed.

    Nothing is sent for a cancelled class or one that is over. ``change_key`` names this change (an
    import batch and the new schedule), so importing the same file again tells nobody twice. Returns how
    many people were told.
    """
    cls = await _fresh_class(session, class_id)
    if cls.status == "cancelled" or cls.ends_at <= now or not (time_changed or place_changed):
        return 0
    kind: NoticeKind = ("class_rescheduled_moved" if time_changed and place_changed
                        else "class_rescheduled" if time_changed else "class_moved")
    people = (await session.execute(
        select(Enrollment.id, Enrollment.employee_id).where(Enrollment.class_id == class_id,
                                                             Enrollment.status.in_(ACTIVE))
        .order_by(Enrollment.seq))).all()
    for enrollment_id, employee_id in people:
        await notify(session, deps, employee_id, kind, cls, dedupe_key=f"class-changed:{change_key}:{enrollment_id}",
                     now=now)
    return len(people)


async def set_capacity(session: AsyncSession, class_id: int, capacity: int, *, now: datetime,
                       deps: Deps) -> ClassChange:
    """HR sets a new capacity; nobody is dropped.

    Seats above a lowered capacity are kept (``over_capacity``) and no new seat is given until enough
    people cancel; a raised capacity is filled from the waitlist at once.
    """
    await lock_class(session, class_id)
    over = case((CLASSES.c.taken > capacity, CLASSES.c.taken - capacity), else_=0)
    await session.execute(update(CLASSES).where(CLASSES.c.id == class_id)
                          .values(capacity=capacity, over_capacity=over, updated_at=now))
    cls = await _fresh_class(session, class_id)
    change = ClassChange(over_capacity=cls.over_capacity)
    if cls.taken < capacity:
        change.promoted = await promote(session, class_id, now=now, deps=deps)
    return change


# ---------------------------------------------------------------- notices


NoticeKind = Literal["promoted", "class_cancelled", "substituted_out", "substituted_in", "class_rescheduled",
                     "class_moved", "class_rescheduled_moved"]


def notice_replies(deps: Deps, kind: NoticeKind, cls: TrainingClass, lang: str, **values: Any) -> list[Reply]:
    """The message an employee gets about a class, in their language, with a "my enrollments" button."""
    t = deps.t(lang)
    lines = [t(f"classes.notice.{kind}", **values), *fmt.summary_lines(deps.catalog, cls, lang, t)]
    if kind in ("promoted", "substituted_in"):
        if cls.materials_url:
            lines.append(t("classes.field.materials", url=cls.materials_url))
        lines.append(fmt.reminders_text(deps.rules, t))
        lines.append(t("classes.notice.cancel_hint", closes=fmt.instant_text(cls.closes_at, lang, is_end=True)))
    return [Reply.plain("\n".join(lines), [Choice(t("menu.button.enrollments"), Action.unpack("me"))])]


async def notify(session: AsyncSession, deps: Deps, employee_id: int, kind: NoticeKind, cls: TrainingClass, *,
                 dedupe_key: str, now: datetime, **values: Any) -> int:
    """Queue a notice to every chat account of the employee, each in its own language; returns rows queued.

    Row keys are ``dedupe_key:channel`` (as :func:`bot.services.outbox.enqueue_for_employee` makes them).
    """
    accounts = (await session.execute(select(ChannelAccount).where(ChannelAccount.employee_id == employee_id)
                                      .order_by(ChannelAccount.id))).scalars().all()
    queued = 0
    for account in accounts:
        replies = notice_replies(deps, kind, cls, account.lang, **values)
        if await enqueue(session, account, replies, dedupe_key=f"{dedupe_key}:{account.channel}", now=now):
            queued += 1
    return queued


# ---------------------------------------------------------------- my enrollments


@dataclass(frozen=True)
class EnrollmentView:
    """One row of "my enrollments"."""

    enrollment: Enrollment
    training_class: TrainingClass
    position: int | None
    credited_hours: str | None
    forfeit_reason: str | None
    upcoming: bool


async def my_enrollments(session: AsyncSession, employee_id: int, *, now: datetime,
                         limit: int = 10) -> list[EnrollmentView]:
    """Upcoming enrollments (soonest first), then past ones (latest first); self-cancelled ones are left out."""
    from bot.db.models.hours import LearningRecord

    rows = (await session.execute(
        select(Enrollment).options(selectinload(Enrollment.training_class).selectinload(TrainingClass.meetings))
        .where(Enrollment.employee_id == employee_id,
               or_(Enrollment.status.in_(ACTIVE), Enrollment.cancel_reason.in_(("class_cancelled", "substituted"))))
        .execution_options(populate_existing=True))).scalars().all()
    records = {}
    if rows:
        records = {r.enrollment_id: r for r in (await session.execute(
            select(LearningRecord).where(LearningRecord.enrollment_id.in_([e.id for e in rows]),
                                         LearningRecord.source == "class"))).scalars()}
    views = []
    for e in rows:
        cls = e.training_class
        upcoming = cls.ends_at > now and e.attendance is None
        if e.status == "cancelled" and not upcoming:
            continue
        position = await waitlist_position(session, cls.id, e.seq) if e.status == "waitlisted" else None
        record = records.get(e.id)
        views.append(EnrollmentView(e, cls, position,
                                    format_hours(record.hours) if record is not None and record.credited else None,
                                    record.forfeit_reason if record is not None and not record.credited else None,
                                    upcoming))
    upcoming_views = sorted((v for v in views if v.upcoming), key=lambda v: v.training_class.starts_at)
    past_views = sorted((v for v in views if not v.upcoming), key=lambda v: v.training_class.starts_at, reverse=True)
    return (upcoming_views + past_views)[:limit]


async def cancellable(session: AsyncSession, employee_id: int, *, now: datetime) -> list[EnrollmentView]:
    """The enrollments the employee may still cancel themselves."""
    views = await my_enrollments(session, employee_id, now=now, limit=50)
    return [v for v in views if v.upcoming and v.enrollment.status in ACTIVE
            and _cancel_refusal(v.enrollment, v.training_class, now, "zh-TW") is None]


async def waitlist_lengths(session: AsyncSession, class_ids: Sequence[int]) -> dict[int, int]:
    """Waitlist length per class."""
    if not class_ids:
        return {}
    rows = (await session.execute(select(Enrollment.class_id, func.count()).where(
        Enrollment.class_id.in_(list(class_ids)), Enrollment.status == "waitlisted").group_by(Enrollment.class_id)))
    return {class_id: count for class_id, count in rows.all()}


def _in(deps: Deps, lang: str, refusal: Refusal) -> str:
    """A refusal's sentence in ``lang``."""
    return refusal.text(lambda key, **values: deps.texts.get(key, lang, **values))
