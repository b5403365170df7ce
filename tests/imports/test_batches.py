"""Every bulk change is one batch, and undoing it restores the tables exactly (SQLite and PostgreSQL).

Each test dumps every table (all columns, primary-key order) before an import, imports, undoes, and
compares the dump: equal, row for row and value for value. The audit and the batch tables themselves
are left out of the comparison (the undo is recorded there).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock, taipei_today
from bot.config import DEFAULT_DATA_DIR
from bot.db.base import Base
from bot.db.models.classes import TrainingClass
from bot.db.models.core import Employee, OutboxMessage
from bot.db.models.hours import LearningRecord
from bot.db.models.imports import ImportBatch
from bot.services.accounts import import_roster, load_import_limits, load_roster_mapping
from bot.services.classes import (
    AttendanceLine,
    ClassesFile,
    enroll,
    import_attendance,
    import_classes,
    read_classes_file,
)
from bot.services.common import Journal, UndoResult, undo_batch
from bot.services.hours import import_hours, load_hours_mapping
from tests.classes.conftest import deps

RECORDED_ELSEWHERE = {"admin_audit", "import_batches", "import_changes"}


async def dump(app: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit and the batches, every column, in primary-key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with app.sessions() as s:
        for table in Base.metadata.sorted_tables:
            if table.name not in RECORDED_ELSEWHERE:
                rows = await s.execute(select(*table.columns).order_by(*table.primary_key.columns))
                out[table.name] = [tuple(r) for r in rows.all()]
    return out


async def undo(app: Runtime, batch_id: int) -> UndoResult:
    async with app.sessions.begin() as s:
        return await undo_batch(s, batch_id, now=app.clock.now(), actor="test")


async def roster(app: Runtime, path: Path, **kw: Any) -> int | None:
    async with app.sessions.begin() as s:
        journal = Journal(s)
        report = await import_roster(s, path, mapping=load_roster_mapping(app.settings.data_dir), now=app.clock.now(),
                                     limits=load_import_limits(app.settings.data_dir).roster_deactivate,
                                     journal=journal, **kw)
        assert report.ok, (report.errors, report.refused)
        batch = await journal.record(kind="roster", actor="test", now=app.clock.now(), counts={})
        return batch.id if batch else None


async def hours(app: Runtime, path: Path) -> int | None:
    async with app.sessions.begin() as s:
        journal = Journal(s)
        report = await import_hours(s, path, mapping=load_hours_mapping(app.settings.data_dir), rules=app.rules,
                                    today=taipei_today(app.clock), now=app.clock.now(), journal=journal)
        assert report.ok, report.errors
        batch = await journal.record(kind="hours", actor="test", now=app.clock.now(), counts={})
        return batch.id if batch else None


async def classes(app: Runtime, spec: ClassesFile) -> int | None:
    async with app.sessions.begin() as s:
        journal = Journal(s)
        await import_classes(s, spec, settings=app.app.enrollment, deps=app.app.deps, now=app.clock.now(),
                             batch="t", source="t", journal=journal)
        batch = await journal.record(kind="classes", actor="test", now=app.clock.now(), counts={})
        return batch.id if batch else None


def demo_classes(**changes: dict[str, Any]) -> ClassesFile:
    """The demo classes named in ``changes`` as the demo file has them (as of 113-03-01), with those changes."""
    spec = read_classes_file(DEFAULT_DATA_DIR / "demo" / "classes.yaml", plan_year=0, today=date(2024, 3, 1))
    picked = [c.model_copy(update=changes[c.code]) for c in spec.classes if c.code in changes]
    return spec.model_copy(update={"classes": picked, "samples": None, "sample": False})


async def test_a_roster_batch_with_a_transfer_is_undone_exactly(app: Runtime, write_file: Callable[..., Path]) -> None:
    before = await dump(app)
    path = write_file("roster.csv", "員工編號,姓名,機關,單位\n"
                                    "T0001,示範員工甲（範例）,桃園市政府人事處,考訓科\n"
                                    "T0002,示範員工乙（範例）,桃園市政府人事處,考訓科\n"
                                    "T0003,示範主管丙（範例）,桃園市政府環境保護局,綜合計畫科\n"
                                    "T0004,示範約聘丁（範例）,桃園市政府青年事務局,青年創業科\n"
                                    "T0005,示範人事戊（範例）,桃園市政府交通局,運輸規劃科\n"      # moved: HR role ends
                                    "N0001,新進同仁（範例）,桃園市政府交通局,運輸規劃科\n", "utf-8-sig")
    batch = await roster(app, path)                                      # T0006 missing: marked inactive
    assert batch is not None and await dump(app) != before
    assert (await undo(app, batch)).ok
    assert await dump(app) == before
    again = await undo(app, batch)
    assert not again.ok and "already undone" in again.reason


async def test_hours_batches_undo_newest_first_and_a_correction_replaces(app: Runtime,
                                                                        write_file: Callable[..., Path]) -> None:
    before = await dump(app)
    first = await hours(app, write_file("h1.csv", "員工編號,課程名稱,上課日期,時數,類別\n"
                                                  "T0002,公文寫作,113/2/5,3,其他\nT0002,環境教育,113/2/6,2,環境教育\n"))
    assert first is not None
    after_first = await dump(app)
    async with app.sessions() as s:
        wrong = (await s.execute(select(LearningRecord.id).where(LearningRecord.title == "公文寫作"))).scalar_one()
    # the date was wrong (2/5 → 2/15): the file says which record it corrects
    second = await hours(app, write_file("h2.csv", f"員工編號,課程名稱,上課日期,時數,類別,更正紀錄編號\n"
                                                   f"T0002,公文寫作,113/2/15,3,其他,{wrong}\n"))
    assert second is not None
    async with app.sessions() as s:
        rows = (await s.execute(select(LearningRecord.occurred_on).where(LearningRecord.title == "公文寫作"))).all()
    assert [r[0] for r in rows] == [date(2024, 2, 15)]                   # replaced, not kept beside the new one
    blocked = await undo(app, first)
    assert not blocked.ok and blocked.blocked_by == [second] and f"abc-bot import undo {second}" in blocked.reason
    assert (await undo(app, second)).ok
    assert await dump(app) == after_first
    assert (await undo(app, first)).ok
    assert await dump(app) == before


async def test_a_classes_batch_with_promotions_notices_and_rederived_hours_is_undone(app: Runtime) -> None:
    before = await dump(app)
    spec = demo_classes(**{"DEMO-TM-01": {"capacity": 3}, "DEMO-AI-00": {"hours": Decimal(6)}})
    batch = await classes(app, spec)                                     # T0002 promoted and told; 2 records re-derived
    assert batch is not None
    async with app.sessions() as s:
        queued = (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
        six = (await s.execute(select(func.count()).select_from(LearningRecord).where(
            LearningRecord.source == "class", LearningRecord.hours == 6))).scalar_one()
    assert queued >= 1 and six == 2
    result = await undo(app, batch)
    assert result.ok and result.notices_withdrawn >= 1, result.reason
    assert await dump(app) == before


async def test_undo_refuses_when_people_enrolled_in_a_class_the_batch_created(app: Runtime) -> None:
    demo = demo_classes(**{"DEMO-TM-01": {}})
    spec = demo.model_copy(update={"classes": [demo.classes[0].model_copy(update={"code": "NEW-TM-02",
                                                                                   "capacity": 5})]})
    batch = await classes(app, spec)
    assert batch is not None
    async with app.sessions.begin() as s:
        cls = (await s.execute(select(TrainingClass).where(TrainingClass.code == "NEW-TM-02"))).scalar_one()
        person = (await s.execute(select(Employee).where(Employee.employee_no == "T0004"))).scalar_one()
        assert (await enroll(s, cls.id, person, now=app.clock.now(), deps=deps(app))).outcome == "enrolled"
    before = await dump(app)
    result = await undo(app, batch)
    assert not result.ok and "class NEW-TM-02" in result.reason and "changed since" in result.reason
    assert await dump(app) == before                                     # nothing was touched
    async with app.sessions() as s:
        status = (await s.execute(select(ImportBatch.status).where(ImportBatch.id == batch))).scalar_one()
    assert status == "applied"


async def test_an_attendance_batch_is_undone_exactly(app: Runtime, clock: FrozenClock) -> None:
    before = await dump(app)
    clock.set(datetime(2024, 3, 2, 9, 0, tzinfo=TAIPEI))
    lines = [AttendanceLine(2, "DEMO-AI-00", "T0001", "absent"),
             AttendanceLine(3, "DEMO-AI-00", "T0005", "attended", leave_hours=Decimal("0.5"))]
    async with app.sessions.begin() as s:
        journal = Journal(s)
        report = await import_attendance(s, lines, rules=app.rules, catalog=app.catalog, settings=app.app.enrollment,
                                         now=app.clock.now(), batch="a", source="a.csv", journal=journal)
        batch = await journal.record(kind="attendance", actor="test", now=app.clock.now(), counts={})
    assert (report.records_removed, report.records_updated) == (1, 1) and batch is not None
    assert (await undo(app, batch.id)).ok
    assert await dump(app) == before


async def test_nothing_changed_records_no_batch(app: Runtime, write_file: Callable[..., Path]) -> None:
    path = write_file("h.csv", "員工編號,課程名稱,上課日期,時數,類別\nT0002,公文寫作,113/2/5,3,其他\n")
    assert await hours(app, path) is not None
    assert await hours(app, path) is None                                # the same file again: no batch
    missing = await undo(app, 999)
    assert not missing.ok and "no import batch 999" in missing.reason
