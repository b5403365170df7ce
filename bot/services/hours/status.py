"""Learning-hours rules as pure functions, and the one-employee status read from the database.

Everything numeric comes from the plan's ``rules.yaml`` (:class:`bot.services.rules.RulesFile`); this
module only does arithmetic, exactly (``Decimal`` for hours, ``Fraction`` for the attendance limit).

* :func:`attendance_outcome` — the full-attendance rule (柒.三) for one enrollment in our own class;
* :func:`bucket_status` — required / done / counted / remaining per bucket, with the surplus rule;
* :func:`compute_status` — the whole picture for one employee on one day (deadlines, applicability);
* :func:`load_status` — the same, read from the database in two indexed queries.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord
from bot.services.catalog import AttendanceRule, Catalog, CatalogItem, RulesFile

FORFEIT_LEAVE_OVER_LIMIT = "hours.forfeit.leave_over_limit"
"""Reason key: leave took more than the allowed share of the class hours."""
FORFEIT_UNEXCUSED_ABSENCE = "hours.forfeit.unexcused_absence"
"""Reason key: the trainee missed (part of) the class without leave."""
FORFEIT_REASON_KEYS = (FORFEIT_LEAVE_OVER_LIMIT, FORFEIT_UNEXCUSED_ABSENCE)


def forfeit_reason_text(t: Callable[..., str], key: str | None) -> str | None:
    """A forfeited record's reason as people read it (``t`` looks texts up), or None for none or an unknown key.

    Records imported from elsewhere may carry a reason this version does not know; callers decide what
    to show then (the key itself for HR, a neutral sentence in chat).
    """
    return t(key) if key in FORFEIT_REASON_KEYS else None

ZERO = Decimal(0)


def to_decimal(value: float | int | Decimal | str) -> Decimal:
    """An exact Decimal for a number read from a data file (``1`` → 1, ``0.5`` → 0.5, never 0.5000001)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def attendance_outcome(rule: AttendanceRule, class_hours: Decimal, leave_hours: Decimal,
                       unexcused_absence: bool) -> tuple[bool, str | None]:
    """Whether the hours of one of our classes are credited, and if not, why.

    The plan (柒.三): hours are not registered when leave is *over* one third of the course hours
    (``rule.max_leave_fraction``), or when the trainee was absent without leave. Leave exactly at
    the limit counts when ``rule.leave_equal_to_limit_counts`` (the plan says 逾, "over").

    Args:
        rule: ``rules.attendance`` of the plan year.
        class_hours: the class's hours (> 0).
        leave_hours: approved leave taken during the class (0 ≤ leave ≤ class hours).
        unexcused_absence: any absence without leave.

    Returns:
        ``(credited, reason_key)``; the reason key (a message-catalog key, one of
        :data:`FORFEIT_REASON_KEYS`) is None when credited.

    Raises:
        ValueError: hours that cannot be (class hours ≤ 0, negative leave, leave over the class hours).
    """
    if class_hours <= 0:
        raise ValueError("class hours must be positive")
    if leave_hours < 0:
        raise ValueError("leave hours cannot be negative")
    if leave_hours > class_hours:
        raise ValueError("leave hours cannot exceed the class hours")
    if unexcused_absence and rule.unexcused_absence_forfeits:
        return False, FORFEIT_UNEXCUSED_ABSENCE
    limit = Fraction(class_hours) * rule.fraction
    leave = Fraction(leave_hours)
    if leave > limit or (leave == limit and not rule.leave_equal_to_limit_counts):
        return False, FORFEIT_LEAVE_OVER_LIMIT
    return True, None


# ---------------------------------------------------------------------------------------------- buckets


@dataclass(frozen=True)
class BucketStatus:
    """One bucket of one employee.

    ``done`` is every credited hour recorded in the bucket; ``counted`` is what counts toward the
    bucket's requirement (for a mandatory bucket at most ``required``; for "other", its own hours plus
    the surplus of the mandatory buckets when the plan's surplus rule says so); ``surplus`` is what a
    mandatory bucket passes on to "other".
    """

    id: str
    title: str
    title_en: str
    mandatory: bool
    required: Decimal
    done: Decimal
    counted: Decimal
    surplus: Decimal
    remaining: Decimal

    @property
    def complete(self) -> bool:
        """True when nothing remains."""
        return self.remaining == 0

    @property
    def received(self) -> Decimal:
        """Hours counted here that were recorded in other buckets (the mandatory buckets' surplus)."""
        return self.counted - min(self.done, self.required) if not self.mandatory else ZERO


def bucket_status(rules: RulesFile, done: dict[str, Decimal]) -> list[BucketStatus]:
    """Required / done / counted / remaining per bucket, in the display order of ``rules.yaml``.

    Surplus rule (``hours.surplus_to_other``, its reading of the plan in ``surplus_rule_source``): hours
    beyond a mandatory bucket's requirement count toward the non-mandatory bucket ("other"). Hours
    beyond "other"'s requirement do not flow anywhere. Without the rule, each bucket stands alone.

    Args:
        rules: the plan year's rules.
        done: credited hours per bucket id (missing buckets are 0).
    """
    hours = rules.hours
    surplus_total = ZERO
    partial: list[tuple[str, Decimal, Decimal]] = []  # (id, done, surplus) of the mandatory buckets
    for b in hours.buckets:
        d = done.get(b.id, ZERO)
        required = to_decimal(b.required)
        if b.mandatory:
            surplus = max(ZERO, d - required) if hours.surplus_to_other else ZERO
            surplus_total += surplus
            partial.append((b.id, d, surplus))
    out: list[BucketStatus] = []
    surplus_of = {bid: s for bid, _, s in partial}
    for b in hours.buckets:
        d = done.get(b.id, ZERO)
        required = to_decimal(b.required)
        if b.mandatory:
            counted = min(d, required)
            surplus = surplus_of[b.id]
        else:
            counted = min(d + surplus_total, required)
            surplus = ZERO
        out.append(BucketStatus(id=b.id, title=b.title, title_en=b.title_en, mandatory=b.mandatory,
                                required=required, done=d, counted=counted, surplus=surplus,
                                remaining=required - counted))
    return out


# ---------------------------------------------------------------------------------------------- status


@dataclass(frozen=True)
class RecordView:
    """One learning record as the status needs it (a row of ``learning_records``)."""

    occurred_on: date
    title: str
    course_code: str | None
    hours: Decimal
    bucket: str
    mode: str
    source: str
    credited: bool
    forfeit_reason: str | None
    id: int | None = None
    """The record's id (for HR: ``abc-bot hours delete ID``, an import's ``replaces`` column)."""


@dataclass(frozen=True)
class DeadlineStatus:
    """A deadline of the plan seen from one day: how many days are left and what is still missing."""

    id: str
    title: str
    title_en: str
    date: date
    days_left: int | None
    passed: bool
    remaining: Decimal
    mandatory_only: bool


class BucketTotals:
    """Sums over ``buckets`` shared by one employee's status and a report row.

    ``applies`` is whether the yearly requirement applies (:func:`requirement_applies`): when it does
    not (臨時人員), the figures are still there but nothing is owed, so every "remaining" is 0 for the
    chat, ``abc-bot hours`` and the report alike.
    """

    buckets: list[BucketStatus]
    applies: bool

    @property
    def required(self) -> Decimal:
        """Hours the plan requires in all."""
        return sum((b.required for b in self.buckets), ZERO)

    @property
    def done(self) -> Decimal:
        """Every credited hour of the year (surplus beyond what counts included)."""
        return sum((b.done for b in self.buckets), ZERO)

    @property
    def counted(self) -> Decimal:
        """Hours that count toward the requirement."""
        return sum((b.counted for b in self.buckets), ZERO)

    @property
    def buckets_remaining(self) -> Decimal:
        """Hours still missing across the buckets."""
        return sum((b.remaining for b in self.buckets), ZERO)

    @property
    def buckets_mandatory_remaining(self) -> Decimal:
        """Hours still missing in the mandatory buckets."""
        return sum((b.remaining for b in self.buckets if b.mandatory), ZERO)

    @property
    def remaining(self) -> Decimal:
        """Hours still owed in all (0 when the requirement does not apply)."""
        return self.buckets_remaining if self.applies else ZERO

    @property
    def mandatory_remaining(self) -> Decimal:
        """Mandatory hours still owed (0 when the requirement does not apply)."""
        return self.buckets_mandatory_remaining if self.applies else ZERO

    def owed(self, bucket: BucketStatus) -> Decimal:
        """Hours still owed in one bucket (0 when the requirement does not apply)."""
        return bucket.remaining if self.applies else ZERO


@dataclass(frozen=True)
class HoursStatus(BucketTotals):
    """Everything "how many hours do I still need" answers, for one employee in one plan year."""

    plan_year: int
    today: date
    applies: bool
    hired_this_year: bool
    buckets: list[BucketStatus]
    deadlines: list[DeadlineStatus]
    records: list[RecordView]

    def hours_by_source(self) -> dict[str, Decimal]:
        """Credited hours per source (portal, class, HR …), in the display order of the sources."""
        totals: dict[str, Decimal] = {}
        for r in self.records:
            if r.credited:
                totals[r.source] = totals.get(r.source, ZERO) + r.hours
        return {s: totals[s] for s in source_order() if s in totals}

    def next_focus(self) -> tuple[bool, Decimal, BucketStatus] | None:
        """What to take next: ``(mandatory, hours, bucket)``, or None when nothing remains.

        The mandatory buckets are one gap (one course package fills them all, and they are due first):
        when together they miss at least as much as the largest other bucket, the answer is
        ``(True, mandatory hours missing, the mandatory bucket missing most)``; otherwise
        ``(False, hours, that other bucket)``.
        """
        mandatory = [b for b in self.buckets if b.mandatory and b.remaining > 0]
        others = [b for b in self.buckets if not b.mandatory and b.remaining > 0]
        missing = sum((b.remaining for b in mandatory), ZERO)
        other = max(others, key=lambda b: b.remaining, default=None)
        if mandatory and (other is None or missing >= other.remaining):
            return True, missing, max(mandatory, key=lambda b: b.remaining)
        if other is not None:
            return False, other.remaining, other
        return None


def requirement_applies(rules: RulesFile, rank: str) -> bool:
    """Whether the yearly hours requirement applies to someone of this rank or employment type.

    The plan names 公務人員 and 約聘僱人員 (玖.二.(一).1); ranks listed in ``hours.exempt_ranks`` (e.g.
    臨時人員) are not subject to it. An empty or unknown rank is subject to it.
    """
    return rank.strip() not in set(rules.hours.exempt_ranks)


def compute_status(rules: RulesFile, records: Iterable[RecordView], *, today: date, rank: str = "",
                   hire_date: date | None = None) -> HoursStatus:
    """The hours status of one employee on ``today`` (a pure function of the rules and the records).

    Only credited records count. Mid-year hires: the requirement is not prorated (``hours.new_hires``
    in ``rules.yaml`` says so and why); ``hired_this_year`` only lets the view say so.

    Args:
        rules: the plan year's rules.
        records: the employee's records of that plan year (credited and forfeited).
        today: the current date in Asia/Taipei.
        rank: the employee's rank or employment type (decides whether the requirement applies).
        hire_date: the employee's hire date, if known.
    """
    recs = sorted(records, key=lambda r: (r.occurred_on, r.title), reverse=True)
    done: dict[str, Decimal] = {}
    for r in recs:
        if r.credited:
            done[r.bucket] = done.get(r.bucket, ZERO) + r.hours
    buckets = bucket_status(rules, done)
    applies = requirement_applies(rules, rank)
    mandatory_remaining = sum((b.remaining for b in buckets if b.mandatory and applies), ZERO)
    total_remaining = sum((b.remaining for b in buckets if applies), ZERO)
    deadlines = []
    for d in sorted(rules.deadlines, key=lambda x: x.date):
        mandatory_only = d.covers == "mandatory"
        days = (d.date - today).days
        deadlines.append(DeadlineStatus(
            id=d.id, title=d.title, title_en=d.title_en, date=d.date,
            days_left=days if days >= 0 else None, passed=days < 0,
            remaining=mandatory_remaining if mandatory_only else total_remaining, mandatory_only=mandatory_only))
    hired_this_year = hire_date is not None and rules.period.start < hire_date <= rules.period.end
    return HoursStatus(plan_year=rules.year, today=today, applies=applies,
                       hired_this_year=hired_this_year, buckets=buckets, deadlines=deadlines, records=recs)


# ---------------------------------------------------------------------------------------------- database

_RECORD_COLUMNS = (LearningRecord.occurred_on, LearningRecord.title, LearningRecord.course_code,
                   LearningRecord.hours, LearningRecord.bucket, LearningRecord.mode, LearningRecord.source,
                   LearningRecord.credited, LearningRecord.forfeit_reason, LearningRecord.id)


async def employee_records(session: AsyncSession, employee_id: int, plan_year: int) -> list[RecordView]:
    """Every record (credited or not) of an employee in a plan year: one query on the (employee, year) index."""
    rows = (await session.execute(select(*_RECORD_COLUMNS).where(
        LearningRecord.employee_id == employee_id, LearningRecord.plan_year == plan_year))).all()
    return [RecordView(occurred_on=r[0], title=r[1], course_code=r[2], hours=Decimal(r[3]), bucket=r[4],
                       mode=r[5], source=r[6], credited=bool(r[7]), forfeit_reason=r[8], id=r[9]) for r in rows]


async def load_status(session: AsyncSession, rules: RulesFile, employee: Employee, *,
                      today: date) -> HoursStatus:
    """The status of ``employee`` in the plan year of ``rules``, as of ``today``."""
    records = await employee_records(session, employee.id, rules.year)
    return compute_status(rules, records, today=today, rank=employee.rank, hire_date=employee.hire_date)


# ---------------------------------------------------------------------------------------------- JSON


OPEN_TO_ALL = "全體同仁"
"""The audience word of the catalog for courses open to every employee."""


def suggested_courses(catalog: Catalog, bucket: str, status: HoursStatus, employee_no: str, *,
                      limit: int) -> list[CatalogItem]:
    """A few catalog courses that usually count toward ``bucket``, not yet taken, open to everyone.

    The starting point rotates by employee, so colleagues do not all see the same ones.
    """
    taken = {r.title for r in status.records}
    items = [i for i in catalog if i.bucket == bucket and i.kind != "series" and i.title not in taken]
    general = [i for i in items if not i.audience or OPEN_TO_ALL in i.audience] or items
    if not general:
        return []
    start = zlib.crc32(employee_no.encode()) % len(general)
    return (general[start:] + general[:start])[:limit]


def source_order() -> Sequence[str]:
    """Record sources in the order the view explains them."""
    return ("portal", "hr", "class", "claim")
