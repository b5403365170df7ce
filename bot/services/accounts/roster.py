"""The roster import: validate the whole file, then upsert every employee in one transaction.

Rows are matched by employee number. A file with any bad row writes nothing; the report names each
bad row by its line number. Employees missing from a new roster are marked inactive, never deleted
(their hours and bindings stay; an inactive employee's chat account no longer acts as them); a file
with no rows, or one that would mark more of them inactive than ``data/import_limits.yaml`` allows, is
refused with the numbers unless HR says it means it. An agency's own staff list (``agency``) only
deactivates that agency's staff. Someone the file moves to another agency loses the agency HR role
of the agency they left.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.datafiles import read_yaml, validate_file
from bot.db.engine import one_import_at_a_time
from bot.db.models.accounts import EmployeeRole
from bot.db.models.core import ChannelAccount, Employee
from bot.services.accounts.roles import AGENCY_HR, record
from bot.services.common import (
    ImportFileError,
    ImportReport,
    Journal,
    MappingFile,
    Problem,
    RowError,
    fold,
    load_import_mapping,
    map_columns,
    narrow,
    note_layout,
    parse_bool,
    parse_date,
    parse_employee_no,
    read_table,
    row_error,
    rows_with,
    value_lookup,
)

log = logging.getLogger(__name__)

FIELDS = ("employee_no", "name", "agency", "unit", "rank", "is_supervisor", "gender", "hire_date", "email")
REQUIRED = ("employee_no", "name", "agency")
GRADE = "grade_level"
"""A 職等 column of its own, joined to the 官等 (``rank``) column: 簡任 + 第10職等 is rank 簡任第10職等."""
_GRADE_NUMBER = re.compile(r"^第?\s*([0-9一二三四五六七八九十]+)\s*(職等)?$")
DEFAULT_MAPPING = Path("imports") / "roster.yaml"
LIMITS_FILE = Path("import_limits.yaml")
_LIMITS = {"name": 100, "agency": 100, "unit": 100, "rank": 50, "email": 200}


@dataclass(frozen=True)
class RosterRow:
    """One valid roster row; ``values`` holds only the fields whose column the file has."""

    line: int
    employee_no: str
    values: dict[str, object]


@dataclass(frozen=True)
class Transfer:
    """An employee the file moves to another agency, and the agency HR roles that move ended."""

    employee_no: str
    from_agency: str
    to_agency: str
    roles_ended: tuple[str, ...] = ()


@dataclass
class RosterReport(ImportReport):
    """What a roster import did (or would do); besides the shared counts, who came back and who left.

    ``scope`` is whose absence deactivates: ``"city"`` (a full roster), an agency (``--agency``), or ``""``
    (a partial file: nobody). ``active`` counts the active employees of the scope before the import.
    """

    reactivated: int = 0
    deactivated: int = 0
    scope: str = "city"
    active: int = 0
    active_by_agency: dict[str, int] = field(default_factory=dict)
    deactivated_by_agency: dict[str, int] = field(default_factory=dict)
    deactivated_employees: list[str] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)


class DeactivationLimit(BaseModel):
    """How many a roster import may mark inactive without ``--allow-deactivate`` (``data/import_limits.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    share: float = Field(gt=0, le=1)
    """Refuse when more than this share of the active employees the file covers would leave …"""
    min_people: int = Field(ge=1)
    """… and at least this many people."""

    def exceeded(self, leaving: int, active: int) -> bool:
        """True when ``leaving`` of ``active`` is more than the limits allow."""
        return leaving >= self.min_people and leaving > self.share * active


class ImportLimits(BaseModel):
    """``data/import_limits.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roster_deactivate: DeactivationLimit


def load_import_limits(data_dir: Path) -> ImportLimits:
    """Load and validate ``data/import_limits.yaml``.

    Raises:
        DataFileError: missing or invalid (file and key named).
    """
    path = data_dir / LIMITS_FILE
    return validate_file(ImportLimits, read_yaml(path), path)


def load_roster_mapping(data_dir: Path, override: Path | None = None) -> MappingFile:
    """The default roster mapping, with HR's mapping file laid over it."""
    return load_import_mapping(data_dir, DEFAULT_MAPPING, override)


def parse_roster(path: Path, mapping: MappingFile, *, agency: str | None = None,
                 sheet: str | None = None) -> tuple[list[RosterRow], RosterReport]:
    """Read and validate a roster file (CSV or ``.xlsx``); nothing touches the database.

    With ``agency``, every row must be of that agency (an agency's own staff list).

    Raises:
        ImportFileError: the file cannot be read or lacks a required column.
    """
    table = read_table(path, sheet)
    cmap = map_columns(table, mapping, (*FIELDS, GRADE), REQUIRED)
    report = RosterReport(path=str(path), encoding=table.encoding, rows=len(table.rows), digest=table.digest)
    note_layout(table, report)
    for header in cmap.ignored_national_id:
        report.warnings.append(f"column {header!r} ignored: national ID numbers are never read or stored")
    for name in FIELDS:
        if name not in REQUIRED and not cmap.has(name) and not (name == "rank" and cmap.has(GRADE)):
            report.warnings.append(f"no {name} column: that field is left as it is")
    genders = value_lookup(mapping, "gender")
    rows: list[RosterRow] = []
    seen: dict[str, RosterRow] = {}
    for line, cells in rows_with(table, cmap):
        problems: list[Problem] = []
        values: dict[str, object] = {}
        try:
            no = parse_employee_no(cells["employee_no"])
        except ValueError as exc:
            problems.append(cmap.problem("employee_no", line, exc))
            no = ""
        for name in ("name", "agency"):
            if not cells[name]:
                problems.append(cmap.problem(name, line, "imports.cell.empty", f"{name} is empty"))
        for name in ("name", "agency", "unit", "rank"):
            if name in cells:
                values[name] = cells[name]
        if GRADE in cells:
            values["rank"] = with_grade(cells.get("rank", ""), cells[GRADE])
        if "is_supervisor" in cells:
            try:
                values["is_supervisor"] = parse_bool(cells["is_supervisor"])
            except ValueError as exc:
                problems.append(cmap.problem("is_supervisor", line, exc))
        if "gender" in cells:
            raw = cells["gender"]
            if raw and fold(raw) not in genders:
                problems.append(cmap.problem("gender", line, "imports.cell.not_one_of",
                                             f"{raw!r} is not one of 男/女/其他 (M/F/X)", value=raw,
                                             allowed="男/女/其他 (M/F/X)"))
            values["gender"] = genders.get(fold(raw), "") if raw else ""
        if "hire_date" in cells:
            hire: date | None = None
            if cells["hire_date"]:
                try:
                    hire = parse_date(cells["hire_date"])
                except ValueError as exc:
                    problems.append(cmap.problem("hire_date", line, exc))
            values["hire_date"] = hire
        if "email" in cells:
            email = narrow(cells["email"])
            if email and ("@" not in email or " " in email):
                problems.append(cmap.problem("email", line, "imports.cell.not_email",
                                             f"{email!r} is not an e-mail address", value=email))
            values["email"] = email or None
        for name, limit in _LIMITS.items():
            v = values.get(name)
            if isinstance(v, str) and len(v) > limit:
                if name == "rank" and not cmap.has("rank"):
                    name = GRADE
                problems.append(cmap.problem(name, line, "imports.cell.too_long",
                                             f"longer than {limit} characters", limit=limit))
        if problems:
            report.errors.append(row_error(line, problems))
            continue
        row = RosterRow(line=line, employee_no=no, values=values)
        earlier = seen.get(no)
        if earlier is not None:
            if earlier.values == values:
                report.duplicates += 1
                continue
            report.errors.append(RowError(line, f"employee {no} is also on line {earlier.line}, with other data", (
                Problem("", "", "imports.row.same_employee", {"other": earlier.line},
                        f"employee {no} is also on line {earlier.line}, with other data"),)))
            continue
        seen[no] = row
        rows.append(row)
    if agency is not None:
        for row in rows:
            if row.values.get("agency") != agency:
                report.errors.append(row_error(row.line, [cmap.problem(
                    "agency", row.line, "imports.cell.not_agency",
                    f"agency {row.values.get('agency')!r} is not {agency!r}: with --agency every row must be of "
                    "that agency", value=row.values.get("agency"), agency=agency)]))
        report.errors.sort(key=lambda e: e.line)
    return rows, report


def with_grade(rank: str, grade: str) -> str:
    """The rank of a roster row whose 官等 and 職等 are separate columns, written as a 官職等 column says it.

    ``with_grade("簡任", "第10職等") == with_grade("簡任", "10") == "簡任第10職等"``; an empty 職等, or a
    官等 that already names it, leaves the 官等; without a 官等 the 職等 is the rank as written.
    """
    if not grade:
        return rank
    if not rank:
        return grade
    if "職等" in rank:
        return rank
    number = _GRADE_NUMBER.match(narrow(grade))
    return f"{rank}第{number.group(1)}職等" if number else f"{rank}{grade}"


async def import_roster(session: AsyncSession, path: Path, *, mapping: MappingFile, now: datetime,
                        deactivate_missing: bool = True, demo: bool = False, dry_run: bool = False,
                        agency: str | None = None, limits: DeactivationLimit | None = None,
                        allow_deactivate: bool = False, journal: Journal | None = None,
                        actor: str = "cli", sheet: str | None = None) -> RosterReport:
    """Validate ``path`` as a whole and upsert its employees in the caller's transaction.

    Args:
        session: the open transaction (the caller commits; nothing is written when the file is rejected).
        path: the CSV file.
        mapping: the column mapping (:func:`load_roster_mapping`).
        now: the current time.
        deactivate_missing: mark employees not in the file inactive (a full roster); False for a partial
            file such as the demo roster.
        demo: the rows are sample employees (``is_demo``); they never overwrite a real employee, and a
            real import of the same number clears the flag.
        dry_run: validate and count, write nothing.
        agency: the file is this agency's staff list: every row must be of it, and only its employees
            missing from the file are marked inactive.
        limits: refuse (write nothing, say why with the numbers) a file with no rows, or one that would mark
            more employees inactive than these limits allow, unless ``allow_deactivate``.
        allow_deactivate: HR has seen the numbers and means it.
        journal: records what the import changes (an undoable batch); the caller records the batch.
        actor: who imports, for the audit lines of HR roles a transfer ends.
        sheet: of an ``.xlsx`` workbook, the sheet to read (name, or number from 1; default the first).

    Raises:
        ImportFileError: the file cannot be read or lacks a required column.
        ImportBusy: SQLite only: another import held the database too long (see ``one_import_at_a_time``).
    """
    rows, report = parse_roster(path, mapping, agency=agency, sheet=sheet)
    if agency is not None:
        report.scope = agency
    if report.errors:
        return report
    if not dry_run:  # imports run one at a time, each reading what the one before wrote
        await one_import_at_a_time(session)
    existing = {e.employee_no: e for e in (await session.execute(select(Employee))).scalars()}
    in_file = {r.employee_no for r in rows}
    leaving: list[Employee] = []
    if deactivate_missing:
        covered = [e for e in existing.values() if e.active and (agency is None or e.agency == agency)]
        leaving = [e for e in covered if e.employee_no not in in_file]
        report.active = len(covered)
        for e in covered:
            report.active_by_agency[e.agency] = report.active_by_agency.get(e.agency, 0) + 1
        for e in leaving:
            report.deactivated_by_agency[e.agency] = report.deactivated_by_agency.get(e.agency, 0) + 1
        report.deactivated_employees = sorted(e.employee_no for e in leaving)
    else:
        report.scope = ""
    if limits is not None and not allow_deactivate:
        report.refused = deactivation_refusal(rows, leaving, report, limits, agency)
        if report.refused:
            report.deactivated = len(leaving)
            return report
    if journal is not None and not dry_run:
        await journal.track(Employee)
        await journal.track(EmployeeRole)
    moved: list[tuple[Employee, str, str]] = []
    for row in rows:
        emp = existing.get(row.employee_no)
        if emp is None:
            report.added += 1
            if not dry_run:
                defaults: dict[str, object] = {"unit": "", "rank": "", "is_supervisor": False, "gender": "",
                                               "hire_date": None, "email": None}
                session.add(Employee(employee_no=row.employee_no, **{**defaults, **row.values}, active=True,
                                     is_demo=demo, created_at=now, updated_at=now))
            continue
        if demo and not emp.is_demo:  # sample data never overwrites a real employee
            report.unchanged += 1
            continue
        changes = {k: v for k, v in row.values.items() if getattr(emp, k) != v}
        if not emp.active:
            report.reactivated += 1
            changes["active"] = True
        if emp.is_demo and not demo:
            changes["is_demo"] = False
        if "agency" in changes and emp.agency:
            moved.append((emp, emp.agency, str(changes["agency"])))
        if changes:
            report.updated += 1
            if not dry_run:
                for k, v in changes.items():
                    setattr(emp, k, v)
                emp.updated_at = now
        else:
            report.unchanged += 1
    report.deactivated = len(leaving)
    if not dry_run:
        for emp in leaving:
            emp.active = False
            emp.updated_at = now
    await end_roles_of_transfers(session, moved, report, now=now, actor=actor, dry_run=dry_run)
    if not dry_run:
        await session.flush()
        report.written = True
    log.info("roster import rows=%d added=%d updated=%d unchanged=%d deactivated=%d dry_run=%s",
             report.rows, report.added, report.updated, report.unchanged, report.deactivated, dry_run)
    return report


def deactivation_refusal(rows: list[RosterRow], leaving: list[Employee], report: RosterReport,
                         limits: DeactivationLimit, agency: str | None) -> str:
    """Why the file must not be imported as it is ("" when it may): no rows, or too many people would leave."""
    if not rows:
        if not report.scope:
            return "the file has no rows (only a header?): there is nothing to import"
        return (f"the file has no rows (only a header?); imported as a roster it would mark all {report.active} "
                "active employees" + (f" of {agency}" if agency else "") + " inactive")
    n = len(leaving)
    if not limits.exceeded(n, report.active):
        return ""
    share = f"{n / report.active:.1%}" if report.active else "-"
    where = "; ".join(f"{a or '(no agency)'} {d} of {report.active_by_agency.get(a, 0)}"
                      for a, d in sorted(report.deactivated_by_agency.items(), key=lambda x: (-x[1], x[0])))
    text = (f"it would mark {n} of {report.active} active employees inactive ({share}; more than "
            f"{limits.share:.0%} and at least {limits.min_people} people need --allow-deactivate): {where}")
    agencies = {r.values.get("agency") for r in rows}
    if agency is None and len(agencies) == 1:
        only = next(iter(agencies))
        text += (f". Every row of the file is of {only}: if it is that agency's staff list, use --agency {only} "
                 "(only its staff missing from the file leave)")
    return text


async def end_roles_of_transfers(session: AsyncSession, moved: list[tuple[Employee, str, str]],
                                 report: RosterReport, *, now: datetime, actor: str, dry_run: bool) -> None:
    """An employee who moved to another agency loses the agency HR role for the agency they left (audited).

    The report warns and lists the roles HR may want to grant again for the new agency.
    """
    if not moved:
        return
    ids = [emp.id for emp, _old, _new in moved]
    held = (await session.execute(select(EmployeeRole).where(EmployeeRole.employee_id.in_(ids),
                                                              EmployeeRole.role == AGENCY_HR))).scalars().all()
    for emp, old, new in moved:
        ended = [r for r in held if r.employee_id == emp.id and r.agency == old]
        report.transfers.append(Transfer(emp.employee_no, old, new, tuple(r.agency for r in ended)))
        for role in ended:
            report.warnings.append(
                f"{emp.employee_no} moved from {old} to {new}: " + ("their" if not dry_run else "would end their")
                + f" {AGENCY_HR} role for {old}" + (" ended" if not dry_run else "")
                + f"; to grant one for {new}: abc-bot admin grant {emp.employee_no} --role {AGENCY_HR} --agency {new}")
            if not dry_run:
                await session.delete(role)
                await record(session, actor=actor, actor_employee_id=None, action="roles.revoke",
                             target=emp.employee_no, allowed=True, now=now,
                             detail=f"{AGENCY_HR} {old}: moved to {new} (roster import)")


__all__ = ["DeactivationLimit", "ImportFileError", "ImportLimits", "RosterReport", "RowError", "Transfer",
           "import_roster", "load_import_limits", "load_roster_mapping", "parse_roster"]


async def roster_agencies(session: AsyncSession) -> list[str]:
    """Every agency with someone (active or not) on the roster, sorted."""
    return list((await session.execute(select(Employee.agency).distinct().order_by(Employee.agency))).scalars())


async def employees_for_codes(session: AsyncSession, *, agency: str | None, numbers: list[str] | None,
                              unbound_only: bool) -> list[Employee]:
    """Active employees to issue binding codes to, by agency then number (filters are optional)."""
    stmt = select(Employee).where(Employee.active.is_(True)).order_by(Employee.agency, Employee.employee_no)
    if agency:
        stmt = stmt.where(Employee.agency == agency)
    if numbers is not None:
        stmt = stmt.where(Employee.employee_no.in_(numbers))
    if unbound_only:
        stmt = stmt.where(~exists().where(ChannelAccount.employee_id == Employee.id))
    return list((await session.execute(stmt)).scalars())

