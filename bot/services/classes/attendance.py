"""Attendance of our own classes: recorded on the enrollment, and turned into learning-hours records.

``abc-bot import attendance FILE.csv`` reads one row per trainee (class, employee number, attended or
absent, leave hours, unexcused absence). The file is checked as a whole first; then, in one
transaction, each enrollment gets its attendance and each attended one a :class:`LearningRecord`
(``source='class'``, ``natural_key='class:<enrollment id>'``) whose ``credited`` and ``forfeit_reason``
come from the plan's full-attendance rule (:func:`bot.services.hours.attendance_outcome`). Importing
again updates those rows; a trainee corrected to absent loses the record. Problems of the file's cells
and of what the rows name (classes, people, seats) are reported together, in one round.

The records follow the class: when HR changes a finished class's hours, bucket, mode or dates,
:func:`rederive_class_records` writes its attended trainees' records again from the class as it is now.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import TAIPEI
from bot.datafiles import DataFileError
from bot.db.engine import one_import_at_a_time
from bot.db.models.classes import Enrollment, TrainingClass
from bot.db.models.hours import LearningRecord
from bot.services.accounts import employees_by_number
from bot.services.catalog import Catalog, RulesFile
from bot.services.classes.format import class_title
from bot.services.classes.queries import enrollment_of, find_class
from bot.services.classes.settings import EnrollmentSettings
from bot.services.classes.transitions import record_attendance
from bot.services.common import Journal

if TYPE_CHECKING:
    from bot.services.common import Say

FIELDS = ("class", "employee_no", "attendance", "leave_hours", "unexcused")
REQUIRED = ("class", "employee_no", "attendance")
MAPPING = Path("imports") / "attendance.yaml"


@dataclass(frozen=True)
class AttendanceLine:
    """One trainee's attendance as the file states it."""

    line: int
    class_ref: str
    employee_no: str
    attendance: Literal["attended", "absent"]
    leave_hours: Decimal = Decimal(0)
    unexcused: bool = False
    employee_header: str = ""
    """The file's header of the employee number column and that row's cell (``B5``), to name it in a problem."""
    employee_cell: str = ""


@dataclass
class AttendanceReport:
    """What an attendance import did."""

    rows: int = 0
    attended: int = 0
    absent: int = 0
    credited: int = 0
    forfeited: int = 0
    records_created: int = 0
    records_updated: int = 0
    records_removed: int = 0
    batch: str = ""
    batch_id: int | None = None
    skipped: list[tuple[int, str]] = field(default_factory=list)
    """Rows of employees not on the roster left out (``skip_unknown``): (row, employee number)."""


def _leave(text: str) -> Decimal:
    from bot.services.common import CellError, narrow

    s = narrow(text).removesuffix("小時").removesuffix("h").strip()
    if not s:
        return Decimal(0)
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise CellError("imports.cell.not_hours", f"leave hours {text.strip()!r} is not a number",
                        value=text.strip()) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise CellError("imports.cell.hours_decimals",
                        f"leave hours {text.strip()!r} must be 0 or more, with at most two decimals",
                        value=text.strip())
    return value


def read_attendance_csv(path: Path, mapping: Path | None = None, *,
                        data_dir: Path | None = None) -> list[AttendanceLine]:
    """Read an attendance CSV (UTF-8, Excel's UTF-16 or Big5), checking every row.

    ``mapping`` (HR's ``--mapping`` file) is laid over ``data_dir``'s ``imports/attendance.yaml``.

    Raises:
        DataFileError: every problem found, as ``file: line N: problem`` lines.
    """
    lines, errors = read_attendance_rows(path, mapping, data_dir=data_dir)
    if errors:
        raise DataFileError("\n".join(errors))
    return lines


def read_attendance_rows(path: Path, mapping: Path | None = None, *, data_dir: Path | None = None,
                         sheet: str | None = None, say: Say | None = None) -> tuple[list[AttendanceLine], list[str]]:
    """The good rows of an attendance CSV or ``.xlsx`` and a ``file: line N: problem`` line for each bad one.

    For :func:`import_attendance`'s ``problems``, so that HR sees every problem of the file at once. With
    ``say`` (the reader's language) a problem is ``file: 第 N 列：…`` naming the file's header and cell.

    Raises:
        DataFileError: the file cannot be read, lacks a required column, or has no rows.
    """
    from bot.config import DEFAULT_DATA_DIR
    from bot.services.common import (
        CellError,
        ImportFileError,
        describe,
        fold,
        load_import_mapping,
        map_columns,
        narrow,
        parse_bool,
        parse_employee_no,
        read_table,
        rows_with,
        value_lookup,
    )

    spec = load_import_mapping(data_dir or DEFAULT_DATA_DIR, MAPPING, mapping)
    try:
        table = read_table(path, sheet)
        cmap = map_columns(table, spec, FIELDS, REQUIRED)
    except ImportFileError as exc:
        raise DataFileError(str(exc)) from None
    words = value_lookup(spec, "attendance")
    out: list[AttendanceLine] = []
    errors: list[str] = []
    for line, cells in rows_with(table, cmap):
        name = "attendance"
        try:
            status = words.get(fold(cells.get("attendance", "")))
            if status not in ("attended", "absent"):
                raise CellError("imports.cell.not_attendance", f"attendance {cells.get('attendance', '')!r} is not "
                                "attended or absent (出席/缺席)", value=cells.get("attendance", ""))
            name = "class"
            if not cells.get("class"):
                raise CellError("imports.cell.empty", "class is empty")
            name = "employee_no"
            number = parse_employee_no(cells.get("employee_no", ""))
            name = "leave_hours"
            leave = _leave(cells.get("leave_hours", ""))
            name = "unexcused"
            out.append(AttendanceLine(line=line, class_ref=narrow(cells["class"]), attendance=status,  # type: ignore[arg-type]
                                      employee_no=number, leave_hours=leave,
                                      unexcused=parse_bool(cells.get("unexcused", "")),
                                      employee_header=cmap.header("employee_no"),
                                      employee_cell=cmap.cell("employee_no", line)))
        except ValueError as exc:
            if say is None:
                errors.append(f"{path}: line {line}: {exc}")
            else:
                errors.append(f"{path}: {describe(line, [cmap.problem(name, line, exc)], say)}")
    if not out and not errors:
        raise DataFileError(f"{path}: no rows")
    return out, errors


_LINE = re.compile(r": (?:line |row |第 )(\d+)")


def _unknown(where: str, ln: AttendanceLine, say: Say | None) -> str:
    if say is None or not ln.employee_cell:
        return f"{where}: employee {ln.employee_no} is not on the roster"
    from bot.services.common import Problem, describe

    problem = Problem(ln.employee_header, ln.employee_cell, "imports.cell.unknown_employee", {"value": ln.employee_no})
    return f"{where.split(': line ')[0]}: {describe(ln.line, [problem], say)}"


def _by_line(problem: str) -> int:
    found = _LINE.search(problem)
    return int(found.group(1)) if found else 0


def class_record_values(cls: TrainingClass, enrollment: Enrollment, *, leave_hours: Decimal, unexcused: bool,
                        rules: RulesFile, catalog: Catalog, settings: EnrollmentSettings) -> dict[str, Any]:
    """The learning record an attended enrollment earns in ``cls`` as it is now (credited or not, and why).

    Raises:
        ValueError: leave longer than the class (``attendance_outcome``).
    """
    from bot.services.hours import attendance_outcome

    credited, reason = attendance_outcome(rules.attendance, Decimal(cls.hours), leave_hours, unexcused)
    title = class_title(catalog, cls, "zh-TW")  # records are titled as the portal's are, in Chinese
    return {"employee_id": enrollment.employee_id, "plan_year": cls.plan_year,
            "occurred_on": cls.ends_at.astimezone(TAIPEI).date(), "title": title[:200],
            "course_code": cls.course_code, "hours": Decimal(cls.hours), "bucket": cls.bucket,
            "mode": settings.modes.get(cls.mode, "classroom"), "source": "class", "credited": credited,
            "forfeit_reason": reason, "enrollment_id": enrollment.id}


async def attended(session: AsyncSession, class_id: int) -> list[Enrollment]:
    """The enrollments of a class whose attendance says attended."""
    return list((await session.execute(select(Enrollment).where(
        Enrollment.class_id == class_id, Enrollment.attendance == "attended").order_by(Enrollment.id))).scalars())


async def rederive_class_records(session: AsyncSession, cls: TrainingClass, *, rules: RulesFile, catalog: Catalog,
                                 settings: EnrollmentSettings, batch: str, now: datetime) -> int:
    """Write the records of a class's attended trainees again from the class as it is now; returns how many changed.

    The caller has checked that no trainee's recorded leave is longer than the class's hours.
    """
    rows = await attended(session, cls.id)
    if not rows:
        return 0
    existing = {r.natural_key: r for r in (await session.execute(select(LearningRecord).where(
        LearningRecord.natural_key.in_([f"class:{row.id}" for row in rows])))).scalars()}
    changed = 0
    for row in rows:
        values = class_record_values(cls, row, leave_hours=Decimal(row.leave_hours or 0),
                                     unexcused=row.unexcused_absence, rules=rules, catalog=catalog, settings=settings)
        record = existing.get(f"class:{row.id}")
        if record is None:
            session.add(LearningRecord(natural_key=f"class:{row.id}", import_batch=batch, created_at=now, **values))
        elif any(getattr(record, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(record, k, v)
            record.import_batch = batch
        else:
            continue
        changed += 1
    await session.flush()
    return changed


async def import_attendance(session: AsyncSession, lines: Sequence[AttendanceLine], *, rules: RulesFile,
                            catalog: Catalog, settings: EnrollmentSettings, now: datetime, batch: str,
                            source: str = "file", problems: Sequence[str] = (),
                            journal: Journal | None = None, skip_unknown: bool = False,
                            say: Say | None = None) -> AttendanceReport:
    """Record attendance and write or update the learning-hours records, all or nothing.

    ``problems``: what :func:`read_attendance_rows` found wrong in the file's cells; they are reported with
    this function's own, by line. ``journal`` records the change as an undoable batch (the caller records it).
    ``skip_unknown`` leaves out rows of employees not on the roster (``report.skipped``); ``say`` says an
    unknown employee in the reader's language, naming the file's cell.

    Raises:
        DataFileError: a row names an unknown class or employee, someone not enrolled, a class that has
            not started, leave longer than the class, or the same trainee twice, or ``problems`` is not
            empty (every problem listed; nothing written).
        ImportBusy: SQLite only: another import held the database too long (see ``one_import_at_a_time``).
    """
    await one_import_at_a_time(session)  # each import reads what the one before wrote (a dry run writes too)
    classes: dict[str, TrainingClass | None] = {}
    people = await employees_by_number(session, {ln.employee_no for ln in lines})
    problems = list(problems)
    planned: list[tuple[AttendanceLine, TrainingClass, Enrollment]] = []
    seen: dict[tuple[int, int], int] = {}
    skipped = [(ln.line, ln.employee_no) for ln in lines if ln.employee_no not in people] if skip_unknown else []
    lines = [ln for ln in lines if ln.employee_no in people] if skip_unknown else lines
    for ln in lines:
        where = f"{source}: line {ln.line}"
        if ln.class_ref not in classes:  # as `report class` finds it: any letter case, or its number
            classes[ln.class_ref] = await find_class(session, ln.class_ref)
        cls, person = classes[ln.class_ref], people.get(ln.employee_no)
        if cls is None:
            problems.append(f"{where}: class {ln.class_ref} does not exist")
            continue
        if person is None:
            problems.append(_unknown(where, ln, say))
            continue
        if cls.status == "cancelled":
            problems.append(f"{where}: class {cls.code} was cancelled")
            continue
        if now < cls.starts_at:
            problems.append(f"{where}: class {cls.code} has not started yet")
            continue
        if ln.leave_hours > cls.hours:
            problems.append(f"{where}: leave {ln.leave_hours} h is more than the class's {cls.hours.normalize()} h")
            continue
        key = (cls.id, person.id)
        if key in seen:
            problems.append(f"{where}: {ln.employee_no} in {cls.code} is already on line {seen[key]}")
            continue
        seen[key] = ln.line
        row = await enrollment_of(session, cls.id, person.id)
        if row is None or row.status != "enrolled":
            state = "not enrolled" if row is None else row.status
            problems.append(f"{where}: {ln.employee_no} has no seat in {cls.code} ({state})")
            continue
        planned.append((ln, cls, row))
    if problems:
        raise DataFileError("\n".join(sorted(problems, key=_by_line)))

    report = AttendanceReport(rows=len(lines), batch=batch, skipped=skipped)
    keys = [f"class:{row.id}" for _ln, _cls, row in planned]
    if journal is not None:
        await journal.track_in(Enrollment, Enrollment.id, [row.id for _ln, _cls, row in planned])
        await journal.track_in(LearningRecord, LearningRecord.natural_key, keys)
    existing = {r.natural_key: r for r in (await session.execute(
        select(LearningRecord).where(LearningRecord.natural_key.in_(keys)))).scalars()}
    for ln, cls, row in planned:
        record_attendance(row, ln.attendance, leave_hours=ln.leave_hours, unexcused=ln.unexcused, now=now)
        natural_key = f"class:{row.id}"
        record = existing.get(natural_key)
        if ln.attendance == "absent":
            report.absent += 1
            if record is not None:
                await session.delete(record)
                report.records_removed += 1
            continue
        report.attended += 1
        values = class_record_values(cls, row, leave_hours=ln.leave_hours, unexcused=ln.unexcused, rules=rules,
                                     catalog=catalog, settings=settings)
        report.credited += values["credited"]
        report.forfeited += not values["credited"]
        if record is None:
            session.add(LearningRecord(natural_key=natural_key, import_batch=batch, created_at=now, **values))
            report.records_created += 1
        elif any(getattr(record, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(record, k, v)
            record.import_batch = batch
            report.records_updated += 1
    await session.flush()
    return report
