"""Attendance of our classes becomes learning-hours records: once per enrollment, updated on re-import."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.datafiles import DataFileError
from bot.db.models.classes import Enrollment
from bot.db.models.hours import LearningRecord
from bot.services.classes import (
    AttendanceLine,
    AttendanceReport,
    import_attendance,
    read_attendance_csv,
)
from tests.classes.conftest import add_classes, add_people, class_id, enroll_as, spec


async def record(app: Runtime, lines: list[AttendanceLine]) -> AttendanceReport:
    async with app.sessions.begin() as s:
        return await import_attendance(s, lines, rules=app.rules, catalog=app.catalog,
                                       settings=app.app.enrollment, now=app.clock.now(), batch="b", source="f")


async def records(app: Runtime, cid: int) -> dict[int, LearningRecord]:
    """The learning records of one class's enrollments, by enrollment id."""
    async with app.sessions() as s:
        rows = (await s.execute(select(LearningRecord).join(Enrollment, Enrollment.id == LearningRecord.enrollment_id)
                                .where(Enrollment.class_id == cid, LearningRecord.source == "class"))).scalars().all()
    return {r.enrollment_id or 0: r for r in rows}


async def test_attendance_credits_forfeits_and_re_imports_without_duplicates(app: Runtime, clock: FrozenClock) -> None:
    await add_classes(app, spec("T-ATT", course="A3-3", capacity=3, hours="3", mode="混成學習", name="第9期",
                                meetings=(("2024-03-20", "09:00", "12:00"),)))
    cid = await class_id(app, "T-ATT")
    a, b, c = await add_people(app, 3, prefix="A")
    ids = [(await enroll_as(app, cid, p)).enrollment_id for p in (a, b, c)]
    early = [AttendanceLine(1, "T-ATT", "A0001", "attended")]
    with pytest.raises(DataFileError, match="has not started yet"):
        await record(app, early)
    clock.set(datetime(2024, 3, 20, 12, 0, tzinfo=TAIPEI))
    lines = [AttendanceLine(2, "T-ATT", "A0001", "attended"),
             AttendanceLine(3, "T-ATT", "A0002", "attended", leave_hours=Decimal("1.5")),   # over 1/3 of 3 h
             AttendanceLine(4, "T-ATT", "A0003", "absent")]
    report = await record(app, lines)
    counts = (report.attended, report.credited, report.forfeited, report.absent, report.records_created)
    assert counts == (2, 1, 1, 1, 2)
    got = await records(app, cid)
    assert set(got) == {ids[0], ids[1]}
    first, second = got[ids[0]], got[ids[1]]
    assert (first.credited, first.hours, first.bucket, first.natural_key) == (True, Decimal(3), "democracy",
                                                                               f"class:{ids[0]}")
    assert (first.title, first.mode, first.course_code) == ("性別平等｜第9期", "blended", "A3-3")
    assert str(first.occurred_on) == "2024-03-20"
    assert (second.credited, second.forfeit_reason) == (False, "hours.forfeit.leave_over_limit")
    again = await record(app, lines)                                   # the same file again: nothing new
    assert (again.records_created, again.records_updated, again.records_removed) == (0, 0, 0)
    fixed = [AttendanceLine(2, "T-ATT", "A0001", "absent"),             # corrected: A0001 was not there,
             AttendanceLine(3, "T-ATT", "A0002", "attended", leave_hours=Decimal(1))]  # A0002 took exactly 1/3
    report = await record(app, fixed)
    assert (report.records_removed, report.records_updated) == (1, 1)
    got = await records(app, cid)
    assert set(got) == {ids[1]} and got[ids[1]].credited and got[ids[1]].forfeit_reason is None
    async with app.sessions() as s:
        row = (await s.execute(select(Enrollment).where(Enrollment.id == ids[0]))).scalar_one()
    assert (row.status, row.attendance) == ("enrolled", "absent")       # attendance never frees a seat


async def test_a_bad_row_stops_the_whole_file(app: Runtime, clock: FrozenClock) -> None:
    await add_classes(app, spec("T-BAD", capacity=1))
    cid = await class_id(app, "T-BAD")
    a, b = await add_people(app, 2, prefix="B")
    await enroll_as(app, cid, a)
    await enroll_as(app, cid, b)                                       # waitlisted: no seat
    clock.set(datetime(2024, 3, 21, 9, 0, tzinfo=TAIPEI))
    lines = [AttendanceLine(2, "T-BAD", "B0001", "attended"),
             AttendanceLine(3, "T-BAD", "B0002", "attended"),
             AttendanceLine(4, "T-NONE", "B0001", "attended"),
             AttendanceLine(5, "T-BAD", "Z9999", "attended"),
             AttendanceLine(6, "T-BAD", "B0001", "absent"),
             AttendanceLine(7, "T-BAD", "B0001", "attended", leave_hours=Decimal(9))]
    with pytest.raises(DataFileError) as err:
        await record(app, lines)
    text = str(err.value)
    for expected in ("line 3: B0002 has no seat in T-BAD (waitlisted)", "line 4: class T-NONE does not exist",
                     "line 5: employee Z9999 is not on the roster", "line 6: B0001 in T-BAD is already on line 2",
                     "line 7: leave 9 h is more than the class's 3 h"):
        assert expected in text
    assert await records(app, cid) == {}


def test_reading_an_attendance_csv_as_hr_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("班期代碼,員工編號,出缺席,請假時數,曠課\nDEMO-AI-00,t0001,出席,,否\nDEMO-AI-00,T0005,缺席,3,是\n"
                    "DEMO-AI-00,T0006,遲到,,\n", encoding="utf-8-sig")
    with pytest.raises(DataFileError, match="line 4: attendance '遲到' is not attended or absent"):
        read_attendance_csv(path)
    path.write_text("\n".join(path.read_text(encoding="utf-8-sig").splitlines()[:3]) + "\n", encoding="utf-8")
    lines = read_attendance_csv(path)
    assert [(x.employee_no, x.attendance, x.leave_hours, x.unexcused) for x in lines] == [
        ("T0001", "attended", Decimal(0), False), ("T0005", "absent", Decimal(3), True)]
