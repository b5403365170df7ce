"""The HR hours report: employees furthest behind first, and each agency's completion rate.

Each employee's buckets and remaining hours, and per agency the share who finished; written as CSV
(UTF-8 with BOM, so Excel opens it) or xlsx.

Sums come from one grouped query on ``ix_learning_records_year_report``; the bucket arithmetic is the
same pure function the chat uses (:func:`bot.services.hours.bucket_status`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord
from bot.services.catalog import RulesFile
from bot.services.common import excel_safe
from bot.services.hours.format import format_hours
from bot.services.hours.status import ZERO, BucketStatus, BucketTotals, bucket_status, requirement_applies

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReportRow(BucketTotals):
    """One employee's line of the report."""

    employee_no: str
    name: str
    agency: str
    unit: str
    rank: str
    active: bool
    applies: bool
    buckets: list[BucketStatus]


@dataclass
class AgencyRow:
    """Completion figures of one agency (only employees the requirement applies to count in rates)."""

    agency: str
    employees: int = 0
    exempt: int = 0
    complete: int = 0
    mandatory_complete: int = 0
    remaining: Decimal = ZERO

    @property
    def subject(self) -> int:
        """Employees the requirement applies to."""
        return self.employees - self.exempt

    @property
    def rate(self) -> Fraction | None:
        """Share who finished every bucket (None when nobody is subject)."""
        return Fraction(self.complete, self.subject) if self.subject else None

    @property
    def mandatory_rate(self) -> Fraction | None:
        """Share who finished the mandatory buckets."""
        return Fraction(self.mandatory_complete, self.subject) if self.subject else None


@dataclass
class HoursReport:
    """The whole report."""

    plan_year: int
    as_of: date
    agency: str | None
    rows: list[ReportRow] = field(default_factory=list)
    agencies: list[AgencyRow] = field(default_factory=list)
    total: AgencyRow = field(default_factory=lambda: AgencyRow(agency=""))


async def build_report(session: AsyncSession, rules: RulesFile, *, today: date, agency: str | None = None,
                       include_inactive: bool = False) -> HoursReport:
    """Compute the report for the plan year of ``rules`` (active employees unless ``include_inactive``).

    Rows are sorted by hours remaining (most first), then mandatory hours remaining, agency, number;
    employees the requirement does not apply to come last. Agencies are sorted by completion rate, lowest first.
    """
    emp_stmt = select(Employee.id, Employee.employee_no, Employee.name, Employee.agency, Employee.unit,
                      Employee.rank, Employee.active)
    sum_stmt = (select(LearningRecord.employee_id, LearningRecord.bucket, func.sum(LearningRecord.hours))
                .where(LearningRecord.plan_year == rules.year, LearningRecord.credited.is_(True))
                .group_by(LearningRecord.employee_id, LearningRecord.bucket))
    if agency is not None:
        emp_stmt = emp_stmt.where(Employee.agency == agency)
        sum_stmt = sum_stmt.join(Employee, Employee.id == LearningRecord.employee_id).where(Employee.agency == agency)
    if not include_inactive:
        emp_stmt = emp_stmt.where(Employee.active.is_(True))
    employees = (await session.execute(emp_stmt)).all()
    sums: dict[int, dict[str, Decimal]] = {}
    for emp_id, bucket, total in (await session.execute(sum_stmt)).all():
        sums.setdefault(emp_id, {})[bucket] = Decimal(str(total)).quantize(CENT)
    report = HoursReport(plan_year=rules.year, as_of=today, agency=agency)
    empty: list[BucketStatus] = bucket_status(rules, {})
    by_agency: dict[str, AgencyRow] = {}
    for emp_id, no, name, ag, unit, rank, active in employees:
        done = sums.get(emp_id)
        buckets = bucket_status(rules, done) if done else empty
        row = ReportRow(employee_no=no, name=name, agency=ag, unit=unit, rank=rank, active=bool(active),
                        applies=requirement_applies(rules, rank), buckets=buckets)
        report.rows.append(row)
        for target in (by_agency.setdefault(ag, AgencyRow(agency=ag)), report.total):
            target.employees += 1
            if not row.applies:
                target.exempt += 1
                continue
            target.remaining += row.remaining
            target.complete += row.remaining == 0
            target.mandatory_complete += row.mandatory_remaining == 0
    report.rows.sort(key=lambda r: (not r.applies, -r.remaining, -r.mandatory_remaining, r.agency, r.employee_no))
    report.agencies = sorted(by_agency.values(), key=lambda a: (a.rate is None, a.rate or 0, a.agency))
    return report


# ---------------------------------------------------------------------------------------------- output

Text = Callable[[str], str]
"""Looks up a column title by message-catalog key in the report's language."""


def _pct(rate: Fraction | None) -> str:
    return "" if rate is None else f"{float(rate * 100):.1f}"


def employee_table(report: HoursReport, t: Text, lang: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the employee table (strings, exact decimals)."""
    buckets = report.rows[0].buckets if report.rows else []
    header = [t("report.col.employee_no"), t("report.col.name"), t("report.col.agency"), t("report.col.unit"),
              t("report.col.rank"), t("report.col.applies")]
    for b in buckets:
        title = b.title if lang == "zh-TW" else b.title_en
        header += [t("report.col.bucket_done").format(bucket=title),
                   t("report.col.bucket_remaining").format(bucket=title)]
    header += [t("report.col.done"), t("report.col.counted"), t("report.col.remaining"),
               t("report.col.mandatory_remaining")]
    for b in buckets:  # after the columns the report always had, so their places do not move
        title = b.title if lang == "zh-TW" else b.title_en
        header.append(t("reports.col.bucket_counted").format(bucket=title))
    yes, no = t("report.yes"), t("report.no")
    rows = []
    for r in report.rows:
        line = [r.employee_no, r.name, r.agency, r.unit, r.rank, yes if r.applies else no]
        for b in r.buckets:
            line += [format_hours(b.done), format_hours(r.owed(b))]
        line += [format_hours(h) for h in (r.done, r.counted, r.remaining, r.mandatory_remaining)]
        line += [format_hours(b.counted) for b in r.buckets]
        rows.append(line)
    return header, rows


def agency_table(report: HoursReport, t: Text) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-agency completion table, with a city-wide total last."""
    header = [t("report.col.agency"), t("report.col.employees"), t("report.col.subject"),
              t("report.col.complete"), t("report.col.rate"), t("report.col.mandatory_complete"),
              t("report.col.mandatory_rate"), t("report.col.agency_remaining")]
    rows = []
    for a in [*report.agencies, report.total]:
        name = a.agency or t("report.total")
        rows.append([name, str(a.employees), str(a.subject), str(a.complete), _pct(a.rate),
                     str(a.mandatory_complete), _pct(a.mandatory_rate), format_hours(a.remaining)])
    return header, rows


def agencies_path(out: Path) -> Path:
    """Where the CSV report puts the agency table: ``FILE.agencies.csv`` beside ``FILE``."""
    return out.with_name(f"{out.stem}.agencies{out.suffix or '.csv'}")


def write_csv(report: HoursReport, out: Path, t: Text, lang: str) -> list[Path]:
    """Write the employee table to ``out`` and the agency table beside it; returns both paths."""
    paths = [out, agencies_path(out)]
    for path, (header, rows) in zip(paths, (employee_table(report, t, lang), agency_table(report, t)), strict=True):
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows([excel_safe(cell) for cell in row] for row in rows)  # roster text: no formulas
    return paths


def write_xlsx(report: HoursReport, out: Path, t: Text, lang: str) -> list[Path]:
    """Both tables as two sheets of one workbook: titled, dated, frozen header with filters, numbers as numbers."""
    from bot.dates import format_roc
    from bot.services.hours.sheets import add_sheet, new_workbook

    wb = new_workbook()
    scope = report.agency or t("report.total")
    title = t("reports.title.hours").format(year=report.plan_year, scope=scope)
    as_of = t("reports.as_of").format(date=format_roc(report.as_of) if lang == "zh-TW" else report.as_of.isoformat())
    for name, (header, rows), first_numeric in ((t("report.sheet.employees"), employee_table(report, t, lang), 6),
                                                (t("report.sheet.agencies"), agency_table(report, t), 1)):
        add_sheet(wb, name, title, as_of, header, rows, [i >= first_numeric for i in range(len(header))])
    wb.save(out)
    return [out]
