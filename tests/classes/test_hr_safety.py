"""What HR's class files do to people and records is said as it is, and derived records follow the class."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.datafiles import DataFileError
from bot.db.models.hours import LearningRecord
from bot.services.classes import (
    AttendanceLine,
    ClassImportReport,
    import_attendance,
    import_classes,
    read_attendance_rows,
)
from tests.classes.conftest import add_classes, add_people, class_id, classes_file, enroll_as, seats, spec


async def dry_run(app: Runtime, *specs: dict[str, object]) -> ClassImportReport:
    class Rollback(Exception):
        pass

    report = None
    try:
        async with app.sessions.begin() as s:
            report = await import_classes(s, classes_file(*specs), settings=app.app.enrollment, deps=app.app.deps,
                                          now=app.clock.now(), batch="dry", source="dry", dry_run=True)
            raise Rollback
    except Rollback:
        pass
    assert report is not None
    return report


async def attend(app: Runtime, lines: list[AttendanceLine]) -> None:
    async with app.sessions.begin() as s:
        await import_attendance(s, lines, rules=app.rules, catalog=app.catalog, settings=app.app.enrollment,
                                now=app.clock.now(), batch="a", source="a.csv")


async def test_raising_a_capacity_says_raised(app: Runtime) -> None:
    await add_classes(app, spec("T-CAP", capacity=5))
    cid = await class_id(app, "T-CAP")
    for person in await add_people(app, 5, prefix="K"):
        await enroll_as(app, cid, person)
    lowered = await add_classes(app, spec("T-CAP", capacity=2))
    assert "T-CAP: capacity lowered from 5 to 2 but 5 people are enrolled" in lowered.notes[0]
    raised = await add_classes(app, spec("T-CAP", capacity=3))           # 2 → 3, still 2 over
    assert raised.notes == ["T-CAP: capacity raised from 2 to 3, but 5 people are enrolled: still 2 over capacity, "
                            "and no new seat is given until fewer than 3 are enrolled"]
    assert (await seats(app, cid)).over_capacity == 2
    roomy = await add_classes(app, spec("T-CAP", capacity=8))
    assert roomy.notes == ["T-CAP: capacity raised from 3 to 8; nobody was waiting"]


async def test_a_dry_run_says_what_would_happen(app: Runtime) -> None:
    await add_classes(app, spec("T-DRY", capacity=1))
    cid = await class_id(app, "T-DRY")
    a, b = await add_people(app, 2, prefix="D")
    await enroll_as(app, cid, a)
    await enroll_as(app, cid, b)                                         # waitlisted
    report = await dry_run(app, spec("T-DRY", capacity=2, place="新教室（範例）"))
    assert report.notes == ["T-DRY: place would change; 2 enrolled or waitlisted people would be told",
                            "T-DRY: capacity would be raised from 1 to 2; 1 would be promoted from the waitlist "
                            "and told"]
    assert report.lines()[0] == "classes (dry run): would be 0 created, 1 updated, 0 unchanged"
    cancelled = await dry_run(app, spec("T-DRY", status="cancelled"))
    assert cancelled.notes == ["T-DRY: would be cancelled; 2 enrolled or waitlisted people would be cancelled and told"]
    assert (await seats(app, cid)).waitlisted == [b]                     # nothing happened


async def test_a_finished_classs_new_hours_rederive_its_records(app: Runtime, clock: FrozenClock) -> None:
    await add_classes(app, spec("T-FIN", course="A3-3", hours="3"))
    cid = await class_id(app, "T-FIN")
    a, b = await add_people(app, 2, prefix="F")
    for person in (a, b):
        await enroll_as(app, cid, person)
    clock.set(datetime(2024, 3, 21, 9, 0, tzinfo=TAIPEI))
    await attend(app, [AttendanceLine(2, "T-FIN", "F0001", "attended"),
                       AttendanceLine(3, "T-FIN", "F0002", "attended", leave_hours=Decimal("1.5"))])  # over 1/3
    report = await add_classes(app, spec("T-FIN", course="A3-3", hours="6", bucket="other"))
    assert report.records_rederived == 2
    assert report.notes == ["T-FIN: hours 3 → 6; bucket democracy → other; 2 learning record(s) of its attendance "
                            "re-derived"]
    async with app.sessions() as s:
        rows = (await s.execute(select(LearningRecord).where(LearningRecord.source == "class",
                                                             LearningRecord.course_code == "A3-3")
                                .order_by(LearningRecord.id))).scalars().all()
    assert [(r.hours, r.bucket, r.credited) for r in rows] == [(Decimal(6), "other", True), (Decimal(6), "other", True)]
    with pytest.raises(DataFileError, match=r"\[code=T-FIN\]\.hours: 1 h is less than the 1.5 h of leave"):
        await add_classes(app, spec("T-FIN", course="A3-3", hours="1"))
    again = await add_classes(app, spec("T-FIN", course="A3-3", hours="6", bucket="other"))
    assert again.records_rederived == 0 and again.unchanged == ["T-FIN"]


async def test_every_problem_of_an_attendance_file_comes_at_once(app: Runtime, clock: FrozenClock,
                                                                 tmp_path: Path) -> None:
    await add_classes(app, spec("T-ONE"))
    cid = await class_id(app, "T-ONE")
    (a,) = await add_people(app, 1, prefix="O")
    await enroll_as(app, cid, a)
    clock.set(datetime(2024, 3, 21, 9, 0, tzinfo=TAIPEI))
    path = tmp_path / "att.csv"
    path.write_bytes(("班期代碼,員工編號,出缺席,請假時數\r\n"
                      "T-ONE,O0001,遲到,\r\n"                 # a word that is not attendance (a cell problem)
                      "T-NONE,O0001,出席,\r\n"                # a class that does not exist (a database problem)
                      "T-ONE,Z9999,出席,\r\n").encode("cp950"))
    lines, problems = read_attendance_rows(path)
    with pytest.raises(DataFileError) as err:
        async with app.sessions.begin() as s:
            await import_attendance(s, lines, rules=app.rules, catalog=app.catalog, settings=app.app.enrollment,
                                    now=app.clock.now(), batch="b", source=str(path), problems=problems)
    found = str(err.value).splitlines()
    assert [line.split(": ")[1] for line in found] == ["line 2", "line 3", "line 4"]    # one round, in line order
    assert "'遲到' is not attended or absent" in found[0] and "T-NONE does not exist" in found[1]


def test_on_leave_is_an_attendance_hr_writes(tmp_path: Path) -> None:
    path = tmp_path / "att.csv"
    path.write_text("班期代碼,員工編號,出缺席\nDEMO-AI-00,T0001,請假\nDEMO-AI-00,T0005,病假\n", encoding="utf-8-sig")
    lines, problems = read_attendance_rows(path)
    assert problems == [] and [ln.attendance for ln in lines] == ["absent", "absent"]
