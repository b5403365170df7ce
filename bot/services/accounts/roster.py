"""The roster import: validate the whole file, then upsert every employee in one transaction.

Rows are matched by employee number. A file with any bad row writes nothing; the report names each
bad row by its line number. Employees missing from a new roster are marked inactive, never deleted
(their hours and bindings stay; an inactive employee's chat account no longer acts as them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import one_import_at_a_time
from bot.db.models.core import ChannelAccount, Employee
from bot.services.common import (
    ImportFileError,
    ImportReport,
    MappingFile,
    RowError,
    fold,
    load_import_mapping,
    map_columns,
    narrow,
    parse_bool,
    parse_date,
    parse_employee_no,
    read_table,
    rows_with,
    value_lookup,
)

log = logging.getLogger(__name__)

FIELDS = ("employee_no", "name", "agency", "unit", "rank", "is_supervisor", "gender", "hire_date", "email")
REQUIRED = ("employee_no", "name", "agency")
DEFAULT_MAPPING = Path("imports") / "roster.yaml"
_LIMITS = {"name": 100, "agency": 100, "unit": 100, "rank": 50, "email": 200}


@dataclass(frozen=True)
class RosterRow:
    """One valid roster row; ``values`` holds only the fields whose column the file has."""

    line: int
    employee_no: str
    values: dict[str, object]


@dataclass
class RosterReport(ImportReport):
    """What a roster import did (or would do); besides the shared counts, who came back and who left."""

    reactivated: int = 0
    deactivated: int = 0


def load_roster_mapping(data_dir: Path, override: Path | None = None) -> MappingFile:
    """The default roster mapping, with HR's mapping file laid over it."""
    return load_import_mapping(data_dir, DEFAULT_MAPPING, override)


def parse_roster(path: Path, mapping: MappingFile) -> tuple[list[RosterRow], RosterReport]:
    """Read and validate a roster file; nothing touches the database.

    Raises:
        ImportFileError: the file cannot be read or lacks a required column.
    """
    table = read_table(path)
    cmap = map_columns(table, mapping, FIELDS, REQUIRED)
    report = RosterReport(path=str(path), encoding=table.encoding, rows=len(table.rows))
    for header in cmap.ignored_national_id:
        report.warnings.append(f"column {header!r} ignored: national ID numbers are never read or stored")
    for name in FIELDS:
        if name not in REQUIRED and not cmap.has(name):
            report.warnings.append(f"no {name} column: that field is left as it is")
    genders = value_lookup(mapping, "gender")
    rows: list[RosterRow] = []
    seen: dict[str, RosterRow] = {}
    for line, cells in rows_with(table, cmap):
        problems: list[str] = []
        values: dict[str, object] = {}
        try:
            no = parse_employee_no(cells["employee_no"])
        except ValueError as exc:
            problems.append(str(exc))
            no = ""
        for name in ("name", "agency"):
            if not cells[name]:
                problems.append(f"{name} is empty")
        for name in ("name", "agency", "unit", "rank"):
            if name in cells:
                values[name] = cells[name]
        if "is_supervisor" in cells:
            try:
                values["is_supervisor"] = parse_bool(cells["is_supervisor"])
            except ValueError as exc:
                problems.append(f"is_supervisor: {exc}")
        if "gender" in cells:
            raw = cells["gender"]
            if raw and fold(raw) not in genders:
                problems.append(f"gender: {raw!r} is not one of 男/女/其他 (M/F/X)")
            values["gender"] = genders.get(fold(raw), "") if raw else ""
        if "hire_date" in cells:
            hire: date | None = None
            if cells["hire_date"]:
                try:
                    hire = parse_date(cells["hire_date"])
                except ValueError as exc:
                    problems.append(f"hire_date: {exc}")
            values["hire_date"] = hire
        if "email" in cells:
            email = narrow(cells["email"])
            if email and ("@" not in email or " " in email):
                problems.append(f"email: {email!r} is not an e-mail address")
            values["email"] = email or None
        for name, limit in _LIMITS.items():
            v = values.get(name)
            if isinstance(v, str) and len(v) > limit:
                problems.append(f"{name} is longer than {limit} characters")
        if problems:
            report.errors.append(RowError(line, "; ".join(problems)))
            continue
        row = RosterRow(line=line, employee_no=no, values=values)
        earlier = seen.get(no)
        if earlier is not None:
            if earlier.values == values:
                report.duplicates += 1
                continue
            report.errors.append(RowError(line, f"employee {no} is also on line {earlier.line}, with other data"))
            continue
        seen[no] = row
        rows.append(row)
    return rows, report


async def import_roster(session: AsyncSession, path: Path, *, mapping: MappingFile, now: datetime,
                        deactivate_missing: bool = True, demo: bool = False, dry_run: bool = False) -> RosterReport:
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

    Raises:
        ImportFileError: the file cannot be read or lacks a required column.
        ImportBusy: SQLite only: another import held the database too long (see ``one_import_at_a_time``).
    """
    rows, report = parse_roster(path, mapping)
    if report.errors:
        return report
    if not dry_run:  # imports run one at a time, each reading what the one before wrote
        await one_import_at_a_time(session)
    existing = {e.employee_no: e for e in (await session.execute(select(Employee))).scalars()}
    in_file = {r.employee_no for r in rows}
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
        if changes:
            report.updated += 1
            if not dry_run:
                for k, v in changes.items():
                    setattr(emp, k, v)
                emp.updated_at = now
        else:
            report.unchanged += 1
    if deactivate_missing:
        for no, emp in existing.items():
            if no not in in_file and emp.active:
                report.deactivated += 1
                if not dry_run:
                    emp.active = False
                    emp.updated_at = now
    if not dry_run:
        await session.flush()
        report.written = True
    log.info("roster import rows=%d added=%d updated=%d unchanged=%d deactivated=%d dry_run=%s",
             report.rows, report.added, report.updated, report.unchanged, report.deactivated, dry_run)
    return report


__all__ = ["ImportFileError", "RosterReport", "RowError", "import_roster", "load_roster_mapping", "parse_roster"]


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

