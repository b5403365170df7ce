"""The 9/30 compliance report: were the mandatory hours done *by the deadline*, not just done by now.

The deadline is the plan's deadline that covers the mandatory hours (``rules.yaml``: 113年9月30日). For each
active employee the requirement applies to, the credited mandatory hours dated on or before it are counted
bucket by bucket (capped at each bucket's requirement, as the chat counts them); hours recorded later show as
"done after". Status: ``met``, ``missed`` (the deadline has passed), ``open`` (it has not), ``exempt``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord
from bot.services.catalog import RulesFile
from bot.services.hours.status import ZERO, bucket_status, requirement_applies


@dataclass(frozen=True)
class ComplianceRow:
    """One employee against the deadline."""

    employee_no: str
    name: str
    agency: str
    unit: str
    required: Decimal
    done_by_deadline: Decimal
    done_now: Decimal
    status: str

    @property
    def done_after(self) -> Decimal:
        """Mandatory hours that came after the deadline."""
        return self.done_now - self.done_by_deadline


@dataclass
class ComplianceAgency:
    """Counts of one agency (the city's total has agency "")."""

    agency: str
    subject: int = 0
    met: int = 0
    missed: int = 0
    open: int = 0

    @property
    def rate(self) -> Fraction | None:
        """Share of those subject who met the deadline."""
        return Fraction(self.met, self.subject) if self.subject else None


@dataclass
class ComplianceReport:
    """The whole report."""

    plan_year: int
    deadline: date
    as_of: date
    rows: list[ComplianceRow] = field(default_factory=list)
    agencies: list[ComplianceAgency] = field(default_factory=list)
    total: ComplianceAgency = field(default_factory=lambda: ComplianceAgency(agency=""))


def mandatory_deadline(rules: RulesFile) -> date:
    """The day the mandatory hours are due (the deadline covering them, else the package's)."""
    for d in rules.deadlines:
        if d.covers == "mandatory":
            return d.date
    return rules.hours.mandatory_package.deadline


async def _sums(session: AsyncSession, rules: RulesFile, agencies: frozenset[str] | None,
                until: date | None) -> dict[int, dict[str, Decimal]]:
    stmt = (select(LearningRecord.employee_id, LearningRecord.bucket, func.sum(LearningRecord.hours))
            .where(LearningRecord.plan_year == rules.year, LearningRecord.credited.is_(True))
            .group_by(LearningRecord.employee_id, LearningRecord.bucket))
    if until is not None:
        stmt = stmt.where(LearningRecord.occurred_on <= until)
    if agencies is not None:
        stmt = stmt.join(Employee, Employee.id == LearningRecord.employee_id).where(Employee.agency.in_(agencies))
    out: dict[int, dict[str, Decimal]] = {}
    for emp_id, bucket, total in (await session.execute(stmt)).all():
        out.setdefault(emp_id, {})[bucket] = Decimal(str(total))
    return out


def _mandatory_counted(rules: RulesFile, done: dict[str, Decimal]) -> tuple[Decimal, Decimal]:
    buckets = [b for b in bucket_status(rules, done) if b.mandatory]
    return sum((b.required for b in buckets), ZERO), sum((min(b.counted, b.required) for b in buckets), ZERO)


async def build_compliance(session: AsyncSession, rules: RulesFile, *, today: date,
                           agencies: frozenset[str] | None = None) -> ComplianceReport:
    """Compute the report for active employees (of ``agencies``; None: the whole city).

    Rows: those who missed first, then not yet, then met, then exempt; by agency and number within.
    """
    deadline = mandatory_deadline(rules)
    stmt = select(Employee.id, Employee.employee_no, Employee.name, Employee.agency, Employee.unit,
                  Employee.rank).where(Employee.active.is_(True))
    if agencies is not None:
        stmt = stmt.where(Employee.agency.in_(agencies))
    people = (await session.execute(stmt)).all()
    by_deadline = await _sums(session, rules, agencies, deadline)
    now = await _sums(session, rules, agencies, None)
    report = ComplianceReport(plan_year=rules.year, deadline=deadline, as_of=today)
    per_agency: dict[str, ComplianceAgency] = {}
    for emp_id, no, name, agency, unit, rank in people:
        required, done_by = _mandatory_counted(rules, by_deadline.get(emp_id, {}))
        _req, done_now = _mandatory_counted(rules, now.get(emp_id, {}))
        if not requirement_applies(rules, rank):
            status = "exempt"
        elif done_by >= required:
            status = "met"
        else:
            status = "missed" if today > deadline else "open"
        report.rows.append(ComplianceRow(no, name, agency, unit, required, done_by, done_now, status))
        if status == "exempt":
            continue
        for target in (per_agency.setdefault(agency, ComplianceAgency(agency)), report.total):
            target.subject += 1
            setattr(target, status, getattr(target, status) + 1)
    order = {"missed": 0, "open": 1, "met": 2, "exempt": 3}
    report.rows.sort(key=lambda r: (order[r.status], r.agency, r.employee_no))
    report.agencies = sorted(per_agency.values(), key=lambda a: (a.rate is None, a.rate or 0, a.agency))
    return report


def compliance_json(report: ComplianceReport) -> dict[str, object]:
    """The ``--json`` object of ``abc-bot report compliance`` (docs/cli.md)."""
    def pct(rate: Fraction | None) -> float | None:
        return None if rate is None else round(float(rate * 100), 1)

    return {"plan_year": report.plan_year, "deadline": report.deadline.isoformat(), "as_of": report.as_of.isoformat(),
            "deadline_passed": report.as_of > report.deadline,
            "total": {"subject": report.total.subject, "met": report.total.met, "missed": report.total.missed,
                      "open": report.total.open, "met_rate": pct(report.total.rate)},
            "agencies": [{"agency": a.agency, "subject": a.subject, "met": a.met, "missed": a.missed, "open": a.open,
                          "met_rate": pct(a.rate)} for a in report.agencies],
            "employees": [{"employee_no": r.employee_no, "name": r.name, "agency": r.agency, "unit": r.unit,
                           "required": str(r.required), "done_by_deadline": str(r.done_by_deadline),
                           "done_after": str(r.done_after), "status": r.status} for r in report.rows]}
