"""Audiences: HR's SPEC (``agency:人事處,gap:mandatory``) parsed, checked against the sender's scope, resolved.

A SPEC is terms joined with ``,`` meaning "and" (docs/cli.md, "Broadcasts"): ``all``, ``agency:A``,
``rank:R``, ``category:supervisor|staff``, ``gap:mandatory|total|<bucket>``, ``class:CLASS``,
``waitlist:CLASS``, ``took:COURSE``, ``file:PATH``. Resolution is one SELECT of the active employees
the SQL terms allow with their chat accounts; the hours gap (a rule of the hours feature, not a column)
filters those through the hours report of the same people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.broadcasts import BroadcastOptOut
from bot.db.models.classes import Enrollment, TrainingClass
from bot.db.models.core import ChannelAccount, Employee
from bot.db.models.hours import LearningRecord
from bot.services.accounts import Scope
from bot.services.catalog import RulesFile
from bot.services.common import ImportFileError, parse_employee_no, read_table
from bot.services.hours import build_report

KEYS = ("agency", "rank", "category", "gap", "class", "waitlist", "took", "file")
CATEGORIES = {"supervisor": True, "staff": False}


class AudienceError(ValueError):
    """A SPEC that cannot be used: the message is one sentence for HR."""


@dataclass(frozen=True)
class Term:
    """One ``key:value`` of a SPEC (``all`` is ``Term("all", "")``)."""

    key: str
    value: str


@dataclass(frozen=True)
class Audience:
    """A parsed SPEC."""

    spec: str
    terms: tuple[Term, ...]

    def values(self, key: str) -> list[str]:
        """The values of every term with ``key``."""
        return [t.value for t in self.terms if t.key == key]


def parse_audience(spec: str, rules: RulesFile) -> Audience:
    """Parse a SPEC; raises :class:`AudienceError` with one sentence naming what is wrong."""
    parts = [p.strip() for p in spec.replace("，", ",").split(",")]
    if not spec.strip() or any(not p for p in parts):
        raise AudienceError(f"the audience {spec!r} has an empty part; write terms like agency:人事處,gap:mandatory")
    terms: list[Term] = []
    buckets = {b.id for b in rules.hours.buckets}
    for part in parts:
        if part == "all":
            terms.append(Term("all", ""))
            continue
        key, sep, value = part.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep or key not in KEYS or not value:
            raise AudienceError(f"{part!r} is not an audience term; use all or one of "
                                f"{', '.join(k + ':…' for k in KEYS)}")
        if key == "category" and value not in CATEGORIES:
            raise AudienceError(f"category:{value} is unknown; use category:supervisor or category:staff")
        if key == "gap" and value not in ("mandatory", "total", *buckets):
            raise AudienceError(f"gap:{value} is unknown; use gap:mandatory, gap:total or a bucket "
                                f"({', '.join(sorted(buckets))})")
        terms.append(Term(key, value))
    return Audience(spec.strip(), tuple(terms))


def scope_problem(audience: Audience, scope: Scope) -> str | None:
    """Why someone with ``scope`` may not address ``audience`` (None when they may); says no counts.

    City admins may address anyone; agency HR only audiences inside one of their agencies, so the
    SPEC must contain ``agency:<theirs>`` (and no other agency).
    """
    if scope.city:
        return None
    if not scope.agencies:
        return "only HR may send announcements"
    agencies = audience.values("agency")
    if not agencies or any(a not in scope.agencies for a in agencies):
        own = "、".join(sorted(scope.agencies))
        return f"agency HR may only announce inside their own agency: add agency:{own} to the audience"
    return None


@dataclass(frozen=True, slots=True)
class Account:
    """A chat account of a member."""

    id: int
    channel: str
    external_id: str
    lang: str
    reachable: bool


@dataclass(slots=True)
class Member:
    """An employee the audience selects, and their chat accounts."""

    employee_id: int
    employee_no: str
    name: str
    agency: str
    rank: str
    opted_out: bool = False
    accounts: list[Account] = field(default_factory=list)

    @property
    def reachable(self) -> list[Account]:
        """The accounts a message can reach."""
        return [a for a in self.accounts if a.reachable]

    @property
    def unreachable_reason(self) -> str | None:
        """``not_bound`` (no chat account), ``unfollowed`` (every account blocked or left), or None."""
        if not self.accounts:
            return "not_bound"
        return None if self.reachable else "unfollowed"


def read_employee_numbers(path: Path) -> list[str]:
    """Employee numbers of a CSV or XLSX file: the first column, a header line is skipped.

    Raises:
        AudienceError: unreadable file, or a cell that is not an employee number (its line named).
    """
    rows: list[tuple[int, str]] = []
    try:
        if path.suffix.lower() == ".xlsx":
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True, data_only=True)
            sheet = book.worksheets[0]
            for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                if cells and cells[0] is not None and str(cells[0]).strip():
                    rows.append((line, str(cells[0])))
            book.close()
        else:
            table = read_table(path)
            rows.append((1, table.headers[0] if table.headers else ""))
            rows.extend((line, cells[0] if cells else "") for line, cells in table.rows)
    except ImportFileError as exc:
        raise AudienceError(str(exc)) from None
    except (OSError, ValueError, KeyError) as exc:
        raise AudienceError(f"{path}: cannot be read as CSV or XLSX ({type(exc).__name__})") from None
    numbers: list[str] = []
    for index, (line, cell) in enumerate(rows):
        try:
            numbers.append(parse_employee_no(cell))
        except ValueError as exc:
            if index == 0:
                continue  # the header line
            raise AudienceError(f"{path}: line {line}: {exc}") from None
    return numbers


def _class_match(value: str) -> ColumnElement[bool]:
    return or_(TrainingClass.code == value, TrainingClass.id == int(value)) if value.isdigit() \
        else TrainingClass.code == value


async def resolve(session: AsyncSession, audience: Audience, *, rules: RulesFile, today: date,
                  optional: bool = False) -> list[Member]:
    """The active employees ``audience`` selects, with their chat accounts, by employee number.

    Raises:
        AudienceError: a ``file:`` term that cannot be read.
    """
    stmt = select(Employee.id, Employee.employee_no, Employee.name, Employee.agency, Employee.rank).where(
        Employee.active.is_(True))
    for term in audience.terms:
        if term.key == "agency":
            stmt = stmt.where(Employee.agency == term.value)
        elif term.key == "rank":
            stmt = stmt.where(Employee.rank == term.value)
        elif term.key == "category":
            stmt = stmt.where(Employee.is_supervisor.is_(CATEGORIES[term.value]))
        elif term.key in ("class", "waitlist"):
            status = "enrolled" if term.key == "class" else "waitlisted"
            stmt = stmt.where(Employee.id.in_(
                select(Enrollment.employee_id).join(TrainingClass, TrainingClass.id == Enrollment.class_id)
                .where(_class_match(term.value), Enrollment.status == status)))
        elif term.key == "took":
            stmt = stmt.where(Employee.id.in_(
                select(LearningRecord.employee_id).where(LearningRecord.course_code == term.value,
                                                         LearningRecord.credited.is_(True))))
        elif term.key == "file":
            numbers = read_employee_numbers(Path(term.value))
            stmt = stmt.where(Employee.employee_no.in_(numbers or ["-"]))
    # one joined SELECT: every selected employee with each of their chat accounts (none: NULLs)
    joined = (stmt.add_columns(ChannelAccount.id, ChannelAccount.channel, ChannelAccount.external_id,
                               ChannelAccount.lang, ChannelAccount.reachable)
              .outerjoin(ChannelAccount, ChannelAccount.employee_id == Employee.id)
              .order_by(Employee.employee_no, ChannelAccount.id))
    members: dict[int, Member] = {}
    for emp_id, no, name, agency, rank, acc_id, channel, external_id, lang, reachable in \
            (await session.execute(joined)).all():
        member = members.get(emp_id)
        if member is None:
            member = members[emp_id] = Member(emp_id, no, name, agency, rank)
        if acc_id is not None:
            member.accounts.append(Account(acc_id, channel, external_id, lang, bool(reachable)))
    gaps = audience.values("gap")
    if gaps and members:
        agencies = audience.values("agency")
        report = await build_report(session, rules, today=today, agency=agencies[0] if len(agencies) == 1 else None)
        by_no = {r.employee_no: r for r in report.rows}
        keep: set[str] = set()
        for no, row in by_no.items():
            if all(_has_gap(row, gap) for gap in gaps):
                keep.add(no)
        members = {k: m for k, m in members.items() if m.employee_no in keep}
    if optional:
        out = await session.execute(select(BroadcastOptOut.employee_id).where(
            BroadcastOptOut.employee_id.in_(stmt.with_only_columns(Employee.id).scalar_subquery())))
        for (emp_id,) in out.all():
            if emp_id in members:
                members[emp_id].opted_out = True
    return list(members.values())


def _has_gap(row: Any, gap: str) -> bool:
    """Whether a row of the hours report still owes hours in ``gap`` (``mandatory``, ``total`` or a bucket)."""
    if gap == "mandatory":
        return bool(row.mandatory_remaining > 0)
    if gap == "total":
        return bool(row.remaining > 0)
    return any(row.owed(b) > 0 for b in row.buckets if b.id == gap)


def unreachable(members: Sequence[Member]) -> list[tuple[Member, str]]:
    """Members no message can reach, each with its reason (``not_bound``, ``unfollowed``, ``opted_out``)."""
    out: list[tuple[Member, str]] = []
    for m in members:
        reason = "opted_out" if m.opted_out else m.unreachable_reason
        if reason:
            out.append((m, reason))
    return out
