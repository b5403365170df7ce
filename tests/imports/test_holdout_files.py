"""The held-out HR files (tests/data/hr_holdout/, never edited to pass) through the real importers, both databases.

A city of 51 people (the six demo people, five in 交通局, twenty in 工務局 and in 社會局) is loaded first; the
files are then imported as an agency officer would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock, taipei_today
from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord
from bot.services.accounts import import_roster, load_import_limits, load_roster_mapping
from bot.services.classes import import_attendance, read_attendance_rows
from bot.services.hours import import_hours, load_hours_mapping
from tests.accounts.conftest import snapshot
from tests.classes.conftest import add_classes, class_id, enroll_as, spec

HOLDOUT = Path(__file__).resolve().parent.parent / "data" / "hr_holdout"
TRANSPORT = "桃園市政府交通局"


def city() -> str:
    demo = (Path(__file__).resolve().parents[2] / "data" / "demo" / "roster.csv").read_text(encoding="utf-8")
    rows = [f"TR010{i},交通局同仁{i}（範例）,{TRANSPORT},一科,委任,否,男,2010-01-01," for i in range(1, 6)]
    rows += [f"{p}{i:04d},同仁{p}{i}（範例）,{a},一科,委任,否,女,2010-01-01,"
             for p, a in (("PW", "桃園市政府工務局"), ("SW", "桃園市政府社會局")) for i in range(1, 21)]
    return demo + "\n".join(rows) + "\n"


async def roster(app: Runtime, path: Path, **kw: Any) -> Any:
    async with app.sessions.begin() as s:
        return await import_roster(s, path, mapping=load_roster_mapping(app.settings.data_dir), now=app.clock.now(),
                                   limits=load_import_limits(app.settings.data_dir).roster_deactivate, **kw)


async def test_the_held_out_roster_files(app: Runtime, write_file: Callable[..., Path]) -> None:
    assert (await roster(app, write_file("city.csv", city()))).ok
    before = await snapshot(app, Employee)
    empty = await roster(app, HOLDOUT / "roster_header_only.csv")
    assert not empty.ok and "no rows" in empty.refused and not empty.written
    officer = await roster(app, HOLDOUT / "roster_transport_bureau.csv")
    assert not officer.ok and officer.deactivated == 47 and f"--agency {TRANSPORT}" in officer.refused
    assert await snapshot(app, Employee) == before
    scoped = await roster(app, HOLDOUT / "roster_transport_bureau.csv", agency=TRANSPORT)
    assert scoped.ok and scoped.encoding == "cp950" and scoped.deactivated_employees == ["TR0105"]
    async with app.sessions() as s:
        people = {e.employee_no: e for e in (await s.execute(select(Employee))).scalars()}
    assert people["TR0102"].name == "陳怡君" and people["TR0102"].rank == "薦任"
    assert sum(e.active for e in people.values()) == 50                  # only TR0105 left


async def test_the_held_out_attendance_and_hours_files(app: Runtime, clock: FrozenClock,
                                                       write_file: Callable[..., Path]) -> None:
    assert (await roster(app, write_file("city.csv", city()))).ok
    await add_classes(app, spec("HO-ATT-01", course="A3-3", hours="3", capacity=10))
    cid = await class_id(app, "HO-ATT-01")
    async with app.sessions() as s:
        ids = {e.employee_no: e.id for e in (await s.execute(select(Employee))).scalars()}
    for number in ("TR0101", "TR0102", "TR0103", "TR0104"):
        assert (await enroll_as(app, cid, ids[number])).outcome == "enrolled"
    clock.set(datetime(2024, 3, 21, 9, 0, tzinfo=TAIPEI))
    lines, problems = read_attendance_rows(HOLDOUT / "attendance_with_leave.csv")
    assert problems == []
    async with app.sessions.begin() as s:
        report = await import_attendance(s, lines, rules=app.rules, catalog=app.catalog, settings=app.app.enrollment,
                                         now=app.clock.now(), batch="h", source="holdout", problems=problems)
    assert (report.attended, report.credited, report.absent) == (2, 2, 2)     # 1 h of 3 is exactly 1/3: credited
    async with app.sessions.begin() as s:
        hours = await import_hours(s, HOLDOUT / "hours_portal_export.csv",
                                   mapping=load_hours_mapping(app.settings.data_dir), rules=app.rules,
                                   today=taipei_today(app.clock), now=app.clock.now())
    assert hours.ok and hours.added == 2, hours.errors
    assert any("national ID" in w for w in hours.warnings)


async def test_the_held_out_excel_workbooks(app: Runtime, clock: FrozenClock, write_file: Callable[..., Path]) -> None:
    assert (await roster(app, write_file("city.csv", city()))).ok
    social = "桃園市政府社會局"
    staff = await roster(app, HOLDOUT / "roster_social_bureau.xlsx", agency=social)
    assert staff.ok and (staff.rows, staff.updated, staff.deactivated) == (20, 20, 0), staff.errors
    async with app.sessions() as s:
        people = {e.employee_no: e for e in (await s.execute(select(Employee))).scalars()}
    first = people["SW0001"]
    assert (first.name, first.unit, first.rank, first.is_supervisor) == ("社會局同仁1", "社會救助科", "薦任", True)
    assert first.hire_date is not None and first.hire_date.isoformat() == "2007-03-01"
    assert not people["SW0003"].is_supervisor and people["SW0020"].rank == "委任"
    clock.set(datetime(2024, 10, 1, 9, 0, tzinfo=TAIPEI))
    async with app.sessions.begin() as s:
        report = await import_hours(s, HOLDOUT / "hours_hr_office.xlsx",
                                    mapping=load_hours_mapping(app.settings.data_dir), rules=app.rules,
                                    today=taipei_today(app.clock), now=app.clock.now())
    assert report.ok and (report.rows, report.added) == (3, 3), report.errors
    async with app.sessions() as s:
        records = sorted((r.occurred_on.isoformat(), str(r.hours), r.bucket, r.source) for r in (await s.execute(
            select(LearningRecord).where(LearningRecord.employee_id.in_(
                [people[n].id for n in ("SW0001", "SW0002", "SW0003")])))).scalars())
    assert records == [("2024-04-09", "3.00", "other", "hr"), ("2024-05-14", "6.00", "democracy", "hr"),
                       ("2024-06-18", "2.50", "environment", "hr")]
