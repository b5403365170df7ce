"""The learning-hours import: portal exports and HR's own lists, idempotent by a natural key.

Each row becomes one ``learning_records`` row with source ``portal`` or ``hr``. Its natural key is the
source, the employee number, the course (its code if given, else its folded name) and the date: the same
file imported twice changes nothing, and a corrected file updates the rows whose hours, category or mode
changed. A correction that changes the key itself (a date or a course fixed) says which record it
corrects in the optional ``replaces`` column (the record id ``abc-bot hours EMPLOYEE_NO`` shows): that
record is replaced, not kept beside the new one. The whole file is validated first; one bad row rejects
the file and nothing is written.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.dates import roc_year
from bot.db.engine import one_import_at_a_time
from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord
from bot.services.catalog import RulesFile
from bot.services.common import (
    CellError,
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
    parse_date,
    parse_employee_no,
    parse_hours,
    read_table,
    row_error,
    rows_with,
    unknown_employee,
    value_lookup,
)

log = logging.getLogger(__name__)

FIELDS = ("employee_no", "course_name", "course_code", "date", "hours", "category", "mode", "source", "replaces")
REQUIRED = ("employee_no", "course_name", "date", "hours", "category")
IMPORT_SOURCES = ("portal", "hr")
DEFAULT_MAPPING = Path("imports") / "hours.yaml"


@dataclass(frozen=True)
class HoursRow:
    """One valid row, ready to be a learning record."""

    line: int
    natural_key: str
    employee_no: str
    occurred_on: date
    title: str
    course_code: str | None
    hours: Decimal
    bucket: str
    mode: str
    source: str
    replaces: int | None = None

    def same_record(self, other: HoursRow) -> bool:
        """True when two rows say the same thing (a duplicate line, not a conflict)."""
        return (self.hours, self.bucket, self.mode, self.title) == (other.hours, other.bucket, other.mode,
                                                                     other.title)


@dataclass
class HoursImportReport(ImportReport):
    """What an hours import did (or would do); besides the shared counts, rows of other plan years."""

    other_years: int = 0
    batch: str = ""
    replaced: int = 0


def load_hours_mapping(data_dir: Path, override: Path | None = None) -> MappingFile:
    """The default hours mapping, with HR's mapping file laid over it."""
    return load_import_mapping(data_dir, DEFAULT_MAPPING, override)


def bucket_lookup(rules: RulesFile, mapping: MappingFile) -> dict[str, str]:
    """Folded category word → bucket id: bucket ids, titles and aliases of the plan, plus the mapping's words."""
    out: dict[str, str] = {}
    for b in rules.hours.buckets:
        for word in (b.id, b.title, b.title_en, *b.aliases):
            out[fold(word)] = b.id
    out.update(value_lookup(mapping, "category"))
    return out


def match_bucket(category: str, lookup: dict[str, str]) -> str:
    """The bucket of a category text: an exact word, else the one bucket whose words the text contains.

    Raises:
        ValueError: no bucket, or words of two buckets.
    """
    key = fold(category)
    if not key:
        raise CellError("imports.cell.empty", "category is empty")
    if key in lookup:
        return lookup[key]
    found = {bucket for word, bucket in lookup.items() if len(word) >= 2 and word in key}
    if len(found) == 1:
        return found.pop()
    if found:
        raise CellError("imports.cell.bucket_many",
                        f"category {category!r} names more than one bucket ({', '.join(sorted(found))})",
                        value=category, buckets=", ".join(sorted(found)))
    raise CellError("imports.cell.bucket_none",
                    f"category {category!r} matches no bucket; add it to the mapping file (values.category)",
                    value=category)


def natural_key(source: str, employee_no: str, course_code: str | None, course_name: str, on: date) -> str:
    """The record's identity across imports (see the module docstring)."""
    course = f"code:{fold(course_code)}" if course_code else f"name:{fold(course_name)}"
    digest = hashlib.sha256(f"{employee_no}\x1f{course}\x1f{on.isoformat()}".encode()).hexdigest()[:40]
    return f"{source}:{digest}"


def parse_hours_file(path: Path, mapping: MappingFile, rules: RulesFile, *, today: date,
                     default_source: str | None = None,
                     sheet: str | None = None) -> tuple[list[HoursRow], HoursImportReport]:
    """Read and validate an hours file (CSV or ``.xlsx``); nothing touches the database.

    Raises:
        ImportFileError: the file cannot be read or lacks a required column.
    """
    table = read_table(path, sheet)
    cmap = map_columns(table, mapping, FIELDS, REQUIRED)
    report = HoursImportReport(path=str(path), encoding=table.encoding, rows=len(table.rows), digest=table.digest,
                               columns=cmap)
    note_layout(table, report)
    for header in cmap.ignored_national_id:
        report.warnings.append(f"column {header!r} ignored: national ID numbers are never read or stored")
    buckets = bucket_lookup(rules, mapping)
    modes = value_lookup(mapping, "mode")
    sources = value_lookup(mapping, "source")
    for s in IMPORT_SOURCES:
        sources.setdefault(fold(s), s)
    fallback_source = default_source or mapping.defaults.get("source", "portal")
    rows: list[HoursRow] = []
    seen: dict[str, HoursRow] = {}
    for line, cells in rows_with(table, cmap):
        problems: list[Problem] = []
        try:
            no = parse_employee_no(cells["employee_no"])
        except ValueError as exc:
            problems.append(cmap.problem("employee_no", line, exc))
            no = ""
        title = cells["course_name"]
        if not title:
            problems.append(cmap.problem("course_name", line, "imports.cell.empty", "course name is empty"))
        elif len(title) > 200:
            problems.append(cmap.problem("course_name", line, "imports.cell.too_long",
                                         "course name is longer than 200 characters", limit=200))
        code = cells.get("course_code") or None
        if code and len(code) > 64:
            problems.append(cmap.problem("course_code", line, "imports.cell.too_long",
                                         "course code is longer than 64 characters", limit=64))
        on: date | None = None
        try:
            on = parse_date(cells["date"])
            if on > today:
                problems.append(cmap.problem("date", line, "imports.cell.future_date",
                                             f"date {on.isoformat()} is in the future", value=on.isoformat()))
        except ValueError as exc:
            problems.append(cmap.problem("date", line, exc))
        hours = Decimal(0)
        try:
            hours = parse_hours(cells["hours"])
        except ValueError as exc:
            problems.append(cmap.problem("hours", line, exc))
        bucket = ""
        try:
            bucket = match_bucket(cells["category"], buckets)
        except ValueError as exc:
            problems.append(cmap.problem("category", line, exc))
        mode = ""
        if cells.get("mode"):
            mode = modes.get(fold(cells["mode"]), "")
            if not mode:
                problems.append(cmap.problem("mode", line, "imports.cell.not_one_of",
                                             f"mode {cells['mode']!r} is not digital or classroom (數位/實體/混成)",
                                             value=cells["mode"], allowed="數位/實體/混成"))
        source = fallback_source
        if default_source is None and cells.get("source"):
            found = sources.get(fold(cells["source"]))
            if found is None:
                problems.append(cmap.problem("source", line, "imports.cell.not_one_of",
                                             f"source {cells['source']!r} is not the portal or HR "
                                             "(終身學習入口網站/人事)", value=cells["source"],
                                             allowed="終身學習入口網站/人事"))
            else:
                source = found
        if source not in IMPORT_SOURCES:
            problems.append(cmap.problem("source", line, "imports.cell.not_one_of",
                                         f"source {source!r}: only portal or hr records are imported",
                                         value=source, allowed="portal/hr"))
        replaces: int | None = None
        if cells.get("replaces"):
            text = narrow(cells["replaces"]).lstrip("#")
            if text.isdigit() and int(text) > 0:
                replaces = int(text)
            else:
                problems.append(cmap.problem("replaces", line, "imports.cell.not_record_id",
                                             f"replaces {cells['replaces']!r} is not a record id "
                                             "(abc-bot hours EMPLOYEE_NO shows them)", value=cells["replaces"]))
        if problems or on is None:
            report.errors.append(row_error(line, problems))
            continue
        row = HoursRow(line=line, natural_key=natural_key(source, no, code, title, on), employee_no=no,
                       occurred_on=on, title=title, course_code=code, hours=hours, bucket=bucket, mode=mode,
                       source=source, replaces=replaces)
        earlier = seen.get(row.natural_key)
        if earlier is not None:
            if earlier.same_record(row):
                report.duplicates += 1
                continue
            english = f"same employee, course and date as line {earlier.line}, but different hours, category or mode"
            report.errors.append(RowError(line, english, (
                Problem("", "", "imports.row.same_record", {"other": earlier.line}, english),)))
            continue
        seen[row.natural_key] = row
        rows.append(row)
    return rows, report


async def import_hours(session: AsyncSession, path: Path, *, mapping: MappingFile, rules: RulesFile,
                       today: date, now: datetime, default_source: str | None = None,
                       dry_run: bool = False, journal: Journal | None = None, skip_unknown: bool = False,
                       sheet: str | None = None) -> HoursImportReport:
    """Validate ``path`` as a whole and upsert its records in the caller's transaction.

    Every employee must be on the roster (active or not). ``plan_year`` of a record is the ROC year of
    its date; records of other years than the rules' are kept and counted in ``other_years``. A row with
    ``replaces`` takes the place of that record (same employee, an imported one); ``journal`` records
    the change as an undoable batch (the caller records it). ``skip_unknown`` leaves out the rows of
    employees not on the roster (listed in ``report.skipped``) instead of rejecting the file; ``sheet``
    picks the sheet of an ``.xlsx`` workbook.

    Raises:
        ImportFileError: the file cannot be read or lacks a required column.
        ImportBusy: SQLite only: another import held the database too long (see ``one_import_at_a_time``).
    """
    rows, report = parse_hours_file(path, mapping, rules, today=today, default_source=default_source, sheet=sheet)
    if not dry_run:  # imports run one at a time, each reading what the one before wrote
        await one_import_at_a_time(session)
    numbers = sorted({r.employee_no for r in rows})
    ids: dict[str, int] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        for number, emp_id in (await session.execute(
                select(Employee.employee_no, Employee.id).where(Employee.employee_no.in_(chunk)))).all():
            ids[number] = emp_id
    unknown = [r for r in rows if r.employee_no not in ids]
    if skip_unknown:
        report.skipped = [(r.line, r.employee_no) for r in unknown]
        rows = [r for r in rows if r.employee_no in ids]
    else:
        report.errors += [unknown_employee(report, r.line, r.employee_no) for r in unknown]
    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report
    existing: dict[str, LearningRecord] = {}
    keys = [r.natural_key for r in rows]
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for found in (await session.execute(
                select(LearningRecord).where(LearningRecord.natural_key.in_(chunk)))).scalars():
            existing[found.natural_key] = found
    replaced = await records_replaced(session, rows, ids, existing, report)
    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report
    if journal is not None and not dry_run:
        await journal.track_in(LearningRecord, LearningRecord.natural_key, keys)
        await journal.track_in(LearningRecord, LearningRecord.id, [rec.id for rec in replaced])
    report.batch = f"{now:%Y%m%dT%H%M%S}-{report.digest[:12]}"
    report.replaced = len(replaced)
    if not dry_run:
        for old in replaced:
            await session.delete(old)
        await session.flush()  # the replaced rows go before their successors are written
    for r in rows:
        plan_year = roc_year(r.occurred_on.year)
        if plan_year != rules.year:
            report.other_years += 1
        values = {"employee_id": ids[r.employee_no], "plan_year": plan_year, "occurred_on": r.occurred_on,
                  "title": r.title, "course_code": r.course_code, "hours": r.hours, "bucket": r.bucket,
                  "mode": r.mode, "source": r.source}
        rec = existing.get(r.natural_key)
        if rec is None:
            report.added += 1
            if not dry_run:
                session.add(LearningRecord(natural_key=r.natural_key, credited=True, forfeit_reason=None,
                                           enrollment_id=None, import_batch=report.batch, created_at=now, **values))
            continue
        changes = {k: v for k, v in values.items() if getattr(rec, k) != v}
        if changes:
            report.updated += 1
            if not dry_run:
                for k, v in changes.items():
                    setattr(rec, k, v)
                rec.import_batch = report.batch
        else:
            report.unchanged += 1
    if not dry_run:
        await session.flush()
        report.written = True
    log.info("hours import rows=%d added=%d updated=%d unchanged=%d replaced=%d dry_run=%s", report.rows,
             report.added, report.updated, report.unchanged, report.replaced, dry_run)
    return report


async def records_replaced(session: AsyncSession, rows: list[HoursRow], ids: dict[str, int],
                           existing: dict[str, LearningRecord], report: HoursImportReport) -> list[LearningRecord]:
    """The records the file's ``replaces`` column names, checked (errors go to ``report``).

    A record a row replaces must exist, belong to that row's employee and be an imported one (portal or
    HR; a class's record follows its attendance), be named once, and not be a record the file also
    matches by key (that is an update, not a replacement).
    """
    wanted = {r.replaces for r in rows if r.replaces is not None}
    if not wanted:
        return []
    found = {rec.id: rec for rec in (await session.execute(
        select(LearningRecord).where(LearningRecord.id.in_(sorted(wanted))))).scalars()}
    matched = {rec.id: key for key, rec in existing.items()}
    out: list[LearningRecord] = []
    first: dict[int, int] = {}
    for r in rows:
        if r.replaces is None:
            continue
        rec = found.get(r.replaces)
        if rec is None:
            report.errors.append(_replaces(report, r, "imports.replaces.missing",
                                           f"replaces #{r.replaces}: there is no such learning record"))
        elif rec.employee_id != ids[r.employee_no]:
            report.errors.append(_replaces(report, r, "imports.replaces.other_employee",
                                           f"replaces #{r.replaces}: that record is not {r.employee_no}'s"))
        elif rec.source not in IMPORT_SOURCES:
            report.errors.append(_replaces(report, r, "imports.replaces.not_imported",
                                           f"replaces #{r.replaces}: a {rec.source} record cannot be replaced by an "
                                           "import (correct the attendance instead)"))
        elif r.replaces in first:
            report.errors.append(_replaces(report, r, "imports.replaces.twice",
                                           f"replaces #{r.replaces}: line {first[r.replaces]} replaces it already",
                                           other=first[r.replaces]))
        elif r.replaces in matched and matched[r.replaces] != r.natural_key:
            report.errors.append(_replaces(report, r, "imports.replaces.itself",
                                           f"replaces #{r.replaces}: another row of the file is that record itself"))
        else:
            first[r.replaces] = r.line
            if matched.get(r.replaces) != r.natural_key:  # the same key: an ordinary update
                out.append(rec)
    return out


def _replaces(report: HoursImportReport, row: HoursRow, key: str, english: str, **values: object) -> RowError:
    """A ``replaces`` cell that names a record the row cannot replace (``key``: why, in any language)."""
    if report.columns is None:
        return RowError(row.line, english)
    return row_error(row.line, [report.columns.problem("replaces", row.line, key, english, value=row.replaces,
                                                       employee_no=row.employee_no, **values)])
