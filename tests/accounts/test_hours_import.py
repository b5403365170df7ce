"""The learning-hours import on SQLite and PostgreSQL: idempotent, all-or-nothing, mappable headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.clock import taipei_today
from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord
from bot.services.hours import HoursImportReport, import_hours, load_hours_mapping, load_status
from tests.accounts.conftest import snapshot

PORTAL = (
    "員工編號,課程名稱,課程代碼,上課日期,時數,類別,學習方式\n"
    "T0002,114年當前政府重大政策,P-001,113/01/15,1,當前政府重大政策,數位\n"
    "\n"
    "T0002,環境教育：淨零生活,,2024/1/20,２,環境教育類,數位學習\n"          # full-width digit, category alias
    # an Excel serial date, and a bucket alias inside a longer category text
    "T0002,性別主流化進階,G-77,45322,1.5,民主治理價值－性別主流化,實體\n"
    "T0002,公文寫作,,113年2月5日,3,其他業務相關,課堂\n"
    "T0002,公文寫作,,113年2月5日,3,其他業務相關,課堂\n"                     # duplicate line
    "ｔ0003,資安素養,,2024-02-06,2,其他,線上\n"
)


async def run(app: Runtime, path: Path, mapping: Path | None = None, **kw: object) -> HoursImportReport:
    async with app.sessions.begin() as s:
        return await import_hours(s, path, mapping=load_hours_mapping(app.settings.data_dir, mapping),
                                  rules=app.rules, today=taipei_today(app.clock), now=app.clock.now(),
                                  **kw)  # type: ignore[arg-type]


async def test_portal_export_imports_once(app: Runtime, write_file: Callable[..., Path]) -> None:
    path = write_file("portal.csv", PORTAL, "utf-8-sig", newline="\r\n")
    before_records = await snapshot(app, LearningRecord)
    report = await run(app, path)
    assert report.ok, report.errors
    assert (report.added, report.duplicates, report.unchanged) == (5, 1, 0)
    async with app.sessions() as s:
        t2 = (await s.execute(select(Employee).where(Employee.employee_no == "T0002"))).scalar_one()
        status = await load_status(s, app.rules, t2, today=date(2024, 3, 1))
    buckets = {b.id: b.done for b in status.buckets}
    # T0002's sample record (democracy 2 h) plus the file
    assert buckets == {"policy": 1, "environment": 2, "democracy": Decimal("3.5"), "other": 3}
    rows = [r for r in status.records if r.source == "portal" and r.title.startswith("性別")]
    assert rows[0].occurred_on == date(2024, 1, 31) and rows[0].mode == "classroom" and rows[0].course_code == "G-77"

    after_first = await snapshot(app, LearningRecord)
    assert len(after_first) == len(before_records) + 5
    app.clock.advance(timedelta(hours=5))  # type: ignore[attr-defined]
    again = await run(app, path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert await snapshot(app, LearningRecord) == after_first


async def test_a_corrected_file_updates_only_what_changed(app: Runtime, write_file: Callable[..., Path]) -> None:
    await run(app, write_file("a.csv", PORTAL))
    fixed = PORTAL.replace("性別主流化進階,G-77,45322,1.5", "性別主流化進階,G-77,45322,2")
    report = await run(app, write_file("b.csv", fixed))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 4)


async def test_one_bad_row_rejects_everything(app: Runtime, write_file: Callable[..., Path]) -> None:
    before = await snapshot(app, LearningRecord)
    bad = PORTAL.replace("資安素養,,2024-02-06,2,其他", "資安素養,,2024-02-06,2,烹飪")
    report = await run(app, write_file("bad.csv", bad))
    assert not report.ok
    assert [e.line for e in report.errors] == [8] and "烹飪" in report.errors[0].message
    assert await snapshot(app, LearningRecord) == before


async def test_every_kind_of_bad_row_is_named(app: Runtime, write_file: Callable[..., Path]) -> None:
    text = ("員工編號,課程名稱,上課日期,時數,類別\n"
            "NOBODY,課程甲,113/1/2,1,其他\n"              # not on the roster
            "T0001,課程乙,113/3/2,1,其他\n"               # after "today" (2024-03-01)
            "T0001,課程丙,113/1/2,0,其他\n"               # zero hours
            "T0001,,113/1/2,1,其他\n"                     # no course
            "T0001,課程丁,113/1/2,1,政策與環境教育\n"      # two buckets
            "T0001,課程戊,113/1/2,1,其他\n"
            "T0001,課程戊,113/1/2,2,其他\n")              # same course and day, other hours
    report = await run(app, write_file("bad.csv", text))
    lines = {e.line: e.message for e in report.errors}
    assert "future" in lines[3] and "hours" in lines[4] and "course name" in lines[5]
    assert "more than one bucket" in lines[6] and "line 7" in lines[8]
    # roster problems are found once the rows themselves are valid
    text = "員工編號,課程名稱,上課日期,時數,類別\nNOBODY,課程甲,113/1/2,1,其他\n"
    only_roster = await run(app, write_file("r.csv", text))
    assert [(e.line, "not on the roster" in e.message) for e in only_roster.errors] == [(2, True)]


async def test_a_mapping_file_adapts_to_another_export(app: Runtime, write_file: Callable[..., Path]) -> None:
    mapping = write_file("map.yaml", "columns:\n  employee_no: 人員編碼\n  course_name: 學習名稱\n"
                                     "  date: 完成日\n  hours: 認證時數\n  category: 學習分類\n"
                                     "values:\n  category:\n    environment: [環境保護]\n")
    export = write_file("export.csv", "人員編碼,學習名稱,完成日,認證時數,學習分類,來源\n"
                                      "T0001,河川巡守,113/2/1,4,環境保護,人事室\n")
    report = await run(app, export, mapping)
    assert report.ok and report.added == 1, report.errors
    async with app.sessions() as s:
        rec = (await s.execute(select(LearningRecord).where(LearningRecord.title == "河川巡守"))).scalar_one()
    assert (rec.bucket, rec.source, rec.plan_year) == ("environment", "hr", 113)
    # without the mapping the headers are not found, and the message says how to fix it
    from bot.services.common import ImportFileError

    try:
        await run(app, export)
    except ImportFileError as exc:
        assert "missing column" in str(exc) and "--mapping" in str(exc)
    else:
        raise AssertionError("expected the missing columns to be named")


async def test_the_same_course_from_two_sources_is_two_records(app: Runtime, write_file: Callable[..., Path]) -> None:
    path = write_file("p.csv", "員工編號,課程名稱,上課日期,時數,類別\nT0001,課程甲,113/1/2,1,其他\n")
    assert (await run(app, path, default_source="portal")).added == 1
    assert (await run(app, path, default_source="hr")).added == 1
    assert (await run(app, path, default_source="hr")).unchanged == 1
