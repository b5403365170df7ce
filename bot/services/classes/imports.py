"""HR's ``abc-bot import classes``: create or update classes by code, all or nothing, and say what happened.

A class in the file is created, or updated in place (matched by ``code``); classes not in the file are
left alone. What an update does to people:

* ``status: cancelled`` cancels every enrolled and waitlisted person and tells each of them;
* a lower ``capacity`` keeps everyone already enrolled and blocks new seats until fewer remain (the
  report says how many are over);
* a higher ``capacity`` fills the new seats from the waitlist at once and tells those promoted;
* new hours, bucket, mode or dates of a class whose attendance is recorded write its trainees' learning
  records again (:func:`bot.services.classes.attendance.rederive_class_records`), and the report says
  how many.

A dry run does all of it inside a transaction the caller rolls back, and the notes say what *would* happen.

The sample classes (``data/demo/classes.yaml``) go through the same code from :func:`seed_demo_classes`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.clock import TAIPEI
from bot.datafiles import DataFileError
from bot.db.engine import one_import_at_a_time
from bot.db.models.classes import ClassMeeting, Enrollment, TrainingClass
from bot.db.models.core import CatalogRow, Employee, OutboxMessage
from bot.db.models.hours import LearningRecord
from bot.services.classes.attendance import attended, rederive_class_records
from bot.services.classes.changes import cancel_class, set_capacity, tell_class_changed
from bot.services.classes.classes_file import ClassesFile, ClassSpec, read_classes_file
from bot.services.classes.deps import Deps
from bot.services.classes.enrollment import enroll
from bot.services.classes.locks import lock_class
from bot.services.classes.settings import EnrollmentSettings
from bot.services.classes.transitions import ACTIVE
from bot.services.common import Journal
from bot.services.hours import format_hours

DEMO_CLASSES = Path("demo") / "classes.yaml"


@dataclass(frozen=True)
class CourseRef:
    """What a class needs from its catalog course: kind and default bucket."""

    code: str
    kind: str
    bucket: str


async def catalog_courses(session: AsyncSession, plan_year: int) -> dict[str, CourseRef]:
    """The catalog mirror of a plan year, by item id."""
    rows = (await session.execute(select(CatalogRow).where(CatalogRow.plan_year == plan_year))).scalars()
    return {r.code: CourseRef(r.code, r.kind, r.bucket) for r in rows}


def check_against_catalog(spec: ClassesFile, courses: dict[str, CourseRef], settings: EnrollmentSettings,
                          source: str) -> list[str]:
    """Problems the schema cannot see: unknown course, a series instead of a course, unknown mode."""
    problems = []
    for c in spec.classes:
        course = courses.get(c.course)
        if course is None:
            problems.append(_said(spec, c.code, "course", "imports.cell.not_in_catalog",
                                  f"{source}: [code={c.code}].course: {c.course} is not in the {spec.plan_year} "
                                  "catalog", value=c.course, year=spec.plan_year))
        elif course.kind == "series":
            problems.append(_said(spec, c.code, "course", "imports.cell.is_series",
                                  f"{source}: [code={c.code}].course: {c.course} is a series; a class belongs to "
                                  "one of its courses", value=c.course))
        if c.mode not in settings.modes:
            problems.append(_said(spec, c.code, "mode", "imports.cell.not_mode",
                                  f"{source}: [code={c.code}].mode: {c.mode!r} is not one of "
                                  f"{', '.join(settings.modes)}", value=c.mode, allowed="/".join(settings.modes)))
    return problems


def _said(spec: ClassesFile, code: str, column: str, key: str, english: str, **values: object) -> str:
    """A problem of class ``code``: in the reader's language with the CSV's header and cell, else in English."""
    cells = spec.cells
    return (cells.text(code, column, key, english, **values) if cells is not None else None) or english


NOTES: dict[str, tuple[str, str]] = {
    "moved": ("{code}: {what} changed; {told} enrolled or waitlisted people were told",
              "{code}: {what} would change; {told} enrolled or waitlisted people would be told"),
    "cancelled": ("{code}: cancelled; {people} enrolled or waitlisted people were cancelled and told",
                  "{code}: would be cancelled; {people} enrolled or waitlisted people would be cancelled and told"),
    "reopened": ("{code}: reopened as {status}; earlier enrollments stay cancelled",
                 "{code}: would reopen as {status}; earlier enrollments would stay cancelled"),
    "lowered": ("{code}: capacity lowered from {old} to {new}",
                "{code}: capacity would be lowered from {old} to {new}"),
    "lowered_over": ("{code}: capacity lowered from {old} to {new} but {enrolled} people are enrolled: nobody is "
                     "dropped; {over} over capacity, and no new seat is given until fewer than {new} are enrolled",
                     "{code}: capacity would be lowered from {old} to {new} but {enrolled} people are enrolled: "
                     "nobody would be dropped; {over} over capacity, and no new seat would be given until fewer "
                     "than {new} are enrolled"),
    "raised": ("{code}: capacity raised from {old} to {new}; {promoted} promoted from the waitlist and told",
               "{code}: capacity would be raised from {old} to {new}; {promoted} would be promoted from the "
               "waitlist and told"),
    "raised_free": ("{code}: capacity raised from {old} to {new}; nobody was waiting",
                    "{code}: capacity would be raised from {old} to {new}; nobody is waiting"),
    "raised_over": ("{code}: capacity raised from {old} to {new}, but {enrolled} people are enrolled: still {over} "
                    "over capacity, and no new seat is given until fewer than {new} are enrolled",
                    "{code}: capacity would be raised from {old} to {new}, but {enrolled} people are enrolled: still "
                    "{over} over capacity, and no new seat would be given until fewer than {new} are enrolled"),
    "rederived": ("{code}: {what}; {records} learning record(s) of its attendance re-derived",
                  "{code}: {what}; {records} learning record(s) of its attendance would be re-derived"),
}
"""What an import did to a class's people or records: (done, dry run) sentences by kind."""


@dataclass
class ClassImportReport:
    """What an import did (or, in a dry run, would do), for HR: codes created, updated and unchanged, and notes.

    ``notes`` are the sentences, ``events`` the same as data (``kind``, ``code`` and the numbers) for ``--json``.
    """

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    batch: str = ""
    dry_run: bool = False
    records_rederived: int = 0
    batch_id: int | None = None

    def note(self, kind: str, code: str, **values: Any) -> None:
        """Add a note of ``kind`` (a key of :data:`NOTES`), in the tense of the import."""
        self.notes.append(NOTES[kind][self.dry_run].format(code=code, **values))
        self.events.append({"kind": kind, "code": code, **values})

    def lines(self) -> list[str]:
        """The report as lines of text."""
        counts = f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"
        if self.dry_run:
            out = [f"classes (dry run): would be {counts}"]
        else:
            batch = (f"batch {self.batch_id}; to undo it: abc-bot import undo {self.batch_id}" if self.batch_id
                     else "nothing changed, so no batch was recorded")
            out = [f"classes: {counts} ({batch})"]
        out.extend(f"  {note}" for note in self.notes)
        return out


def _values(spec: ClassSpec, plan_year: int, bucket: str) -> dict[str, Any]:
    return {"plan_year": plan_year, "course_code": spec.course, "name": spec.name, "mode": spec.mode,
            "host_agency": spec.host_agency, "place": spec.place, "online_url": spec.online_url,
            "materials_url": spec.materials_url, "hours": Decimal(spec.hours), "bucket": bucket,
            "opens_at": spec.registration.opens_at, "closes_at": spec.registration.closes_at,
            "starts_at": spec.starts_at, "ends_at": spec.ends_at,
            "eligibility": spec.eligibility.model_dump(mode="json", exclude_defaults=True),
            "audience_note": spec.audience_note}


def _plain(value: Any) -> str:
    """Hours as HR writes them (``6``, not ``6.00``); other values as they are."""
    return format_hours(value) if isinstance(value, Decimal) else str(value)


def _change_key(class_id: int, batch: str, spec: ClassSpec) -> str:
    """Names one change of a class's time or place: the batch and the new values (for notice dedupe keys)."""
    meetings = [[s.isoformat(), e.isoformat()] for s, e in _meetings(spec)]
    state = json.dumps([batch, spec.place, spec.online_url, meetings])
    return f"{class_id}:{hashlib.sha256(state.encode()).hexdigest()[:16]}"


def _meetings(spec: ClassSpec) -> list[tuple[datetime, datetime]]:
    return sorted((m.starts_at, m.ends_at) for m in spec.meetings)


async def import_classes(session: AsyncSession, spec: ClassesFile, *, settings: EnrollmentSettings, deps: Deps,
                         now: datetime, batch: str, source: str, is_demo: bool = False, dry_run: bool = False,
                         journal: Journal | None = None) -> ClassImportReport:
    """Create or update every class of ``spec`` in the caller's transaction.

    ``dry_run``: the caller rolls the transaction back; the notes say what would happen. ``journal``
    records the change as an undoable batch (the caller records it).

    Raises:
        DataFileError: a course not in the catalog, a series, an unknown mode, a class whose course
            would change while people are enrolled, or hours lowered below a trainee's recorded leave
            (every problem listed; nothing written).
        ImportBusy: SQLite only: another import held the database too long (see ``one_import_at_a_time``).
    """
    await one_import_at_a_time(session)  # each import reads what the one before wrote (a dry run writes too)
    courses = await catalog_courses(session, spec.plan_year)
    problems = check_against_catalog(spec, courses, settings, source)
    codes = [c.code for c in spec.classes]
    existing = {row.code: row for row in (await session.execute(
        select(TrainingClass).options(selectinload(TrainingClass.meetings))
        .where(TrainingClass.code.in_(codes)))).scalars()}
    for c in spec.classes:
        row = existing.get(c.code)
        if row is not None and (row.course_code, row.plan_year) != (c.course, spec.plan_year):
            people = (await session.execute(select(func.count()).select_from(Enrollment).where(
                Enrollment.class_id == row.id, Enrollment.status.in_(ACTIVE)))).scalar_one()
            if people:
                problems.append(_said(spec, c.code, "course", "imports.cell.cannot_move",
                                      f"{source}: [code={c.code}].course: cannot move a class with {people} people "
                                      f"from {row.course_code} to {c.course}; cancel it and create a new one",
                                      people=people, old=row.course_code, value=c.course))
        if row is not None and Decimal(c.hours) < row.hours:
            longest = max((Decimal(e.leave_hours or 0) for e in await attended(session, row.id)), default=None)
            if longest is not None and longest > Decimal(c.hours):
                problems.append(_said(spec, c.code, "hours", "imports.cell.below_leave",
                                      f"{source}: [code={c.code}].hours: {c.hours} h is less than the "
                                      f"{format_hours(longest)} h of leave recorded for a trainee; correct the "
                                      "attendance first", value=format_hours(Decimal(c.hours)),
                                      leave=format_hours(longest)))
    if problems:
        raise DataFileError("\n".join(problems))

    if journal is not None:
        for row in existing.values():
            await lock_class(session, row.id)  # no enrollment changes under the snapshots
        ids = select(TrainingClass.id).where(TrainingClass.code.in_(codes))
        await journal.track(TrainingClass, TrainingClass.code.in_(codes))
        await journal.track(ClassMeeting, ClassMeeting.class_id.in_(ids))
        await journal.track(Enrollment, Enrollment.class_id.in_(ids))
        await journal.track(LearningRecord, LearningRecord.enrollment_id.in_(
            select(Enrollment.id).where(Enrollment.class_id.in_(ids))))
        await journal.track(OutboxMessage, OutboxMessage.batch_id == batch)  # the notices this import queues
    report = ClassImportReport(batch=batch, dry_run=dry_run)
    for c in spec.classes:
        values = _values(c, spec.plan_year, c.bucket or courses[c.course].bucket)
        row = existing.get(c.code)
        if row is None:
            row = TrainingClass(code=c.code, capacity=c.capacity, taken=0, over_capacity=0, next_seq=0,
                                status=c.status, is_demo=is_demo, import_batch=batch, created_at=now,
                                updated_at=now, **values)
            row.meetings = [ClassMeeting(starts_at=s, ends_at=e) for s, e in _meetings(c)]
            session.add(row)  # flushed with the others below
            report.created.append(c.code)
            continue
        changed = [k for k, v in values.items() if getattr(row, k) != v]
        was = {k: getattr(row, k) for k in ("hours", "bucket")}
        if [(m.starts_at, m.ends_at) for m in row.meetings] != _meetings(c):
            changed.append("meetings")
            row.meetings = [ClassMeeting(starts_at=s, ends_at=e) for s, e in _meetings(c)]
        for k in changed:
            if k != "meetings":
                setattr(row, k, values[k])
        if changed:
            row.updated_at, row.import_batch = now, batch
            await session.flush()
            if rederived := await rederive_class_records(session, row, rules=deps.rules, catalog=deps.catalog,
                                                         settings=settings, batch=batch, now=now):
                report.records_rederived += rederived
                what = "; ".join(f"{k} {_plain(was[k])} → {_plain(getattr(row, k))}" for k in was
                                 if was[k] != getattr(row, k)) or "class changed"
                report.note("rederived", c.code, what=what, records=rederived)
        time_changed = "meetings" in changed
        place_changed = bool({"place", "online_url"} & set(changed))
        # Sample classes move with the demo's "today" each time they are seeded: that is not news.
        if (time_changed or place_changed) and c.status != "cancelled" and not is_demo:
            told = await tell_class_changed(session, row.id, time_changed=time_changed, place_changed=place_changed,
                                            change_key=_change_key(row.id, batch, c), now=now, deps=deps,
                                            batch_id=batch)
            if told:
                what = " and ".join(w for w, on in (("schedule", time_changed), ("place", place_changed)) if on)
                report.note("moved", c.code, what=what, told=told)
        status_changed = row.status != c.status
        capacity_changed = row.capacity != c.capacity
        if c.status == "cancelled" and status_changed:
            change = await cancel_class(session, row.id, now=now, deps=deps, batch_id=batch)
            report.note("cancelled", c.code, people=change.cancelled_people)
        elif status_changed:
            if row.status == "cancelled":
                report.note("reopened", c.code, status=c.status)
            row.status = c.status
            await session.flush()
        if capacity_changed and c.status != "cancelled":
            old = row.capacity
            change = await set_capacity(session, row.id, c.capacity, now=now, deps=deps, batch_id=batch)
            sizes = {"old": old, "new": c.capacity}
            over = {"enrolled": c.capacity + change.over_capacity, "over": change.over_capacity}
            if c.capacity < old and change.over_capacity:
                report.note("lowered_over", c.code, **sizes, **over)
            elif c.capacity < old:
                report.note("lowered", c.code, **sizes)
            elif change.over_capacity:
                report.note("raised_over", c.code, **sizes, **over)
            elif change.promoted:
                report.note("raised", c.code, **sizes, promoted=len(change.promoted))
            else:
                report.note("raised_free", c.code, **sizes)
        elif capacity_changed:
            row.capacity = c.capacity
            await session.flush()
        if changed or status_changed or capacity_changed:
            report.updated.append(c.code)
        else:
            report.unchanged.append(c.code)
    await session.flush()
    return report


# ---------------------------------------------------------------- sample data


async def seed_demo_classes(session: AsyncSession, data_dir: Path, *, now: datetime, deps: Deps) -> int:
    """Load ``data/demo/classes.yaml`` (sample classes, dates relative to today) and its sample people.

    Sample enrollments are made through the real enrollment code, at a moment inside each class's
    registration window, and only for classes nobody has enrolled in yet; attendance goes through
    the attendance import. Idempotent: a second run changes nothing. Returns how many classes were created.
    """
    path = data_dir / DEMO_CLASSES
    if not path.exists():
        return 0
    today: date = now.astimezone(TAIPEI).date()
    spec = read_classes_file(path, plan_year=0, today=today)
    if spec.plan_year != deps.settings.year:
        raise DataFileError(f"{path}: plan_year: is {spec.plan_year}, but the app runs plan year {deps.settings.year}")
    settings = deps.settings
    report = await import_classes(session, spec, settings=settings, deps=deps, now=now,
                                  batch=f"demo-{today.isoformat()}", source=str(path), is_demo=True)
    if spec.samples is None:
        return len(report.created)
    from bot.services.accounts import bind_console_account

    roster = {e.employee_no: e for e in (await session.execute(select(Employee))).scalars()}
    named = [*spec.samples.console_users, *(n for e in spec.samples.enrollments for n in e.employees),
             *(a.employee for a in spec.samples.attendance)]
    missing = sorted({n for n in named if n not in roster})
    if missing:
        raise DataFileError(f"{path}: samples: {', '.join(missing)} not on the demo roster")
    for employee_no in spec.samples.console_users:
        await bind_console_account(session, employee_no, lang="zh-TW", now=now)
    classes = {c.code: c for c in (await session.execute(select(TrainingClass).where(
        TrainingClass.code.in_([e.code for e in spec.samples.enrollments])))).scalars()}
    for sample in spec.samples.enrollments:
        cls = classes[sample.code]
        anyone = (await session.execute(select(func.count()).select_from(Enrollment)
                                        .where(Enrollment.class_id == cls.id))).scalar_one()
        if anyone:
            continue
        inside = cls.opens_at <= now < cls.closes_at
        moment = now if inside else cls.opens_at + (cls.closes_at - cls.opens_at) / 2
        for employee_no in sample.employees:
            result = await enroll(session, cls.id, roster[employee_no], now=moment, deps=deps)
            if result.outcome == "refused":
                raise DataFileError(f"{path}: samples: {employee_no} cannot enroll in {cls.code} "
                                    f"({result.refusal.key if result.refusal else '?'})")
    if spec.samples.attendance:
        from bot.services.classes.attendance import AttendanceLine, import_attendance

        lines = [AttendanceLine(line=i, class_ref=a.code, employee_no=a.employee, attendance=a.attendance,
                                leave_hours=a.leave_hours, unexcused=a.unexcused)
                 for i, a in enumerate(spec.samples.attendance, start=1)]
        await import_attendance(session, lines, rules=deps.rules, catalog=deps.catalog, settings=settings, now=now,
                                batch=f"demo-{today.isoformat()}", source=str(path))
    return len(report.created)
