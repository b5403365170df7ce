"""Enrollment commands: take a seat or join the waitlist, cancel, promote from the waitlist, substitute.

Each command checks first without locks (:mod:`~bot.services.classes.refusals`), then takes the person
and class locks (:mod:`~bot.services.classes.locks`), reads again what another transaction could have
changed, and changes rows only through :mod:`~bot.services.classes.transitions`. People who must hear
about a change (promoted, substituted) are told through the outbox in the same transaction
(:mod:`~bot.services.classes.notices`), so a notice goes out only if the change commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.classes import Enrollment, TrainingClass
from bot.db.models.core import Employee
from bot.services.accounts import Scope, record, scope_of
from bot.services.classes.deps import Deps
from bot.services.classes.eligibility import Refusal, check_eligibility
from bot.services.classes.locks import lock_class, lock_person, release_seat, take_seat
from bot.services.classes.notices import PROMOTED, SUBSTITUTED_IN, SUBSTITUTED_OUT, class_notice
from bot.services.classes.queries import (
    enrollment_of,
    enrollment_with_person,
    fresh_class,
    get_class,
    own_enrollment,
    waitlist_position,
)
from bot.services.classes.refusals import (
    already_refusal,
    cancel_refusal,
    class_day,
    class_refusal,
    facts_of,
    held_place,
    person_refusal,
    rule_of,
    substitute_refusal,
)
from bot.services.classes.transitions import cancel_row, open_row, promote_row, reopen_row
from bot.services.notices import NoticeTo


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

SUB_ACTION = "classes.substitute"
"""The audit's name for HR moving a seat to a substitute."""


# ---------------------------------------------------------------- enroll


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
    refusal = class_refusal(cls, now, lang)
    if refusal is not None:
        return EnrollResult("refused", refusal=refusal)
    await lock_person(session, employee.id)  # between the class check (no database) and the rest
    held = await held_place(session, await enrollment_of(session, class_id, employee.id))
    if held is not None:
        return EnrollResult("refused", held[0].id, held[1], already_refusal(*held))
    refusal = await person_refusal(session, employee, cls, deps, lang)
    if refusal is not None:
        return EnrollResult("refused", refusal=refusal)

    seq = await lock_class(session, class_id, next_seq=True, only_open=True)
    if seq is None:  # HR closed or cancelled it a moment ago
        fresh = await fresh_class(session, class_id, missing_ok=True)
        gone = Refusal("classes.refuse.gone") if fresh is None else (
            class_refusal(fresh, now, lang) or Refusal("classes.refuse.closed"))
        return EnrollResult("refused", refusal=gone)
    existing = await enrollment_of(session, class_id, employee.id)  # a cancelled row is reused below
    held = await held_place(session, existing)
    if held is not None:  # a double tap that lost the race
        return EnrollResult("refused", held[0].id, held[1], already_refusal(*held))
    seated = await take_seat(session, class_id)
    if existing is None:
        existing = open_row(class_id, employee.id, seated=seated, seq=seq, now=now)
        session.add(existing)
    else:  # re-enrolling after a cancellation: the same row, at the back of the queue
        reopen_row(existing, seated=seated, seq=seq, now=now)
    await session.flush()
    if seated:
        return EnrollResult("enrolled", existing.id)
    return EnrollResult("waitlisted", existing.id, await waitlist_position(session, class_id, seq))


# ---------------------------------------------------------------- promote, cancel


async def promote(session: AsyncSession, class_id: int, *, now: datetime, deps: Deps,
                  batch_id: str | None = None) -> list[int]:
    """Fill free seats from the waitlist in ``seq`` order, skipping people no longer eligible; tell each one.

    The caller holds the class lock. Nothing happens for a cancelled class or one that has started.
    ``batch_id`` labels the notices (an HR import's batch).
    """
    cls = await fresh_class(session, class_id)
    if cls.status == "cancelled" or now >= cls.starts_at:
        return []
    waiting = (await session.execute(
        select(Enrollment, Employee).join(Employee, Employee.id == Enrollment.employee_id)
        .where(Enrollment.class_id == class_id, Enrollment.status == "waitlisted")
        .order_by(Enrollment.seq).execution_options(populate_existing=True))).all()
    rule, day = rule_of(cls), class_day(cls)
    promoted: list[int] = []
    told: list[NoticeTo] = []
    notice = class_notice(PROMOTED, cls)
    for row, person in waiting:
        if check_eligibility(rule, facts_of(person), day) is not None:
            continue
        if not await take_seat(session, class_id):
            break
        promote_row(row, now=now)  # under the class lock
        promoted.append(row.id)
        told.append(NoticeTo(person.id, notice, f"class-promoted:{row.id}:{row.seq}"))
    await session.flush()
    await deps.notices.notify(session, told, now=now, batch_id=batch_id)
    return promoted


async def cancel(session: AsyncSession, enrollment_id: int, employee_id: int, *, now: datetime, deps: Deps,
                 lang: str = "zh-TW") -> CancelResult:
    """The employee cancels their own enrollment (a seat until the deadline, a waitlist place until the start).

    A freed seat goes at once to the first eligible person on the waitlist, who is told through the outbox.
    """
    row = await own_enrollment(session, enrollment_id, employee_id)
    if row is None:
        return CancelResult(False, refusal=Refusal("classes.refuse.gone"))
    cls = await fresh_class(session, row.class_id)
    refusal = cancel_refusal(row, cls, now, lang)
    if refusal is not None:
        return CancelResult(False, row.status, refusal=refusal)
    await lock_class(session, cls.id)
    row = await enrollment_of(session, cls.id, employee_id)
    assert row is not None
    refusal = cancel_refusal(row, cls, now, lang)
    if refusal is not None:
        return CancelResult(False, row.status, refusal=refusal)
    was = row.status
    cancel_row(row, "self", now)
    await session.flush()
    promoted: list[int] = []
    if was == "enrolled":
        await release_seat(session, cls.id)
        promoted = await promote(session, cls.id, now=now, deps=deps)
    return CancelResult(True, was, tuple(promoted))


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
    cls = await fresh_class(session, original.class_id)
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
    cancel_row(original, "substituted", now)
    if theirs is None:
        theirs = open_row(cls.id, replacement.id, seated=True, seq=seq, now=now, substitute_for_id=original.id)
        session.add(theirs)
    elif theirs.status == "waitlisted":  # keeps their row and number, leaves the queue
        promote_row(theirs, now=now, substitute_for_id=original.id)
    else:
        reopen_row(theirs, seated=True, seq=seq, now=now, substitute_for_id=original.id)
    await session.flush()
    # one call each, so that the result says who has a chat account the notice reaches
    out = await deps.notices.notify(session, [NoticeTo(
        leaving.id, class_notice(SUBSTITUTED_OUT, cls, other=replacement.name), f"class-sub-out:{original.id}:{seq}")],
        now=now)
    into = await deps.notices.notify(session, [NoticeTo(
        replacement.id, class_notice(SUBSTITUTED_IN, cls, other=leaving.name), f"class-sub-in:{theirs.id}:{seq}")],
        now=now)
    return SubstituteResult(True, theirs.id, leaving_told=out > 0, replacement_told=into > 0)


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
