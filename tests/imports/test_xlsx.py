"""HR's Excel workbooks (tests/data/hr_xlsx/) through every importer, both databases, and the CLI's words for them.

The workbooks look like an HR clerk's exports: a merged title and a date of printing above the header, headers
with their unit (``時數(小時)``), values with theirs (``3小時``, ``30人``), real Excel dates, a 合計 row with a
formula at the end, a notes sheet behind the data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock, taipei_today
from bot.datafiles import DataFileError
from bot.db.models.classes import TrainingClass
from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord
from bot.services.classes import import_attendance, import_classes, read_attendance_rows, read_classes_file
from bot.services.common import ImportFileError, describe
from bot.services.hours import import_hours, load_hours_mapping
from bot.texts import MessageCatalog
from tests.accounts.conftest import snapshot
from tests.classes.conftest import add_classes, class_id, enroll_as, spec
from tests.conftest import Cli
from tests.imports.test_holdout_files import TRANSPORT, city, roster

XLSX = Path(__file__).resolve().parent.parent / "data" / "hr_xlsx"
TEXTS = MessageCatalog.load()

pytestmark = pytest.mark.db


def say(lang: str) -> Callable[..., str]:
    return lambda key, **values: TEXTS.get(key, lang, **values)


async def hours(app: Runtime, path: Path, **kw: object) -> object:
    async with app.sessions.begin() as s:
        return await import_hours(s, path, mapping=load_hours_mapping(app.settings.data_dir), rules=app.rules,
                                  today=taipei_today(app.clock), now=app.clock.now(), **kw)  # type: ignore[arg-type]


async def test_an_agency_staff_list_from_excel(app: Runtime, write_file: Callable[..., Path]) -> None:
    assert (await roster(app, write_file("city.csv", city()))).ok
    report = await roster(app, XLSX / "roster_transport.xlsx", agency=TRANSPORT)
    assert report.ok, report.errors
    assert (report.rows, report.encoding, report.deactivated_employees) == (4, "xlsx", ["TR0105"])
    assert any("row 4" in w for w in report.warnings) and any("total" in w for w in report.warnings)
    async with app.sessions() as s:
        people = {e.employee_no: e for e in (await s.execute(select(Employee))).scalars()}
    assert people["TR0101"].name == "林志明" and people["TR0101"].is_supervisor
    assert people["TR0101"].rank == "簡任第10職等" and people["TR0101"].hire_date == date(2005, 8, 1)
    assert people["TR0104"].email == "tr0104@mail.tycg.gov.tw" and people["TR0103"].unit == "停車管理科"


async def test_the_portal_export_and_its_notes_sheet(app: Runtime, clock: FrozenClock,
                                                     write_file: Callable[..., Path]) -> None:
    assert (await roster(app, write_file("city.csv", city()))).ok
    clock.set(datetime(2024, 10, 1, 9, 0, tzinfo=TAIPEI))
    with pytest.raises(ImportFileError, match="missing column"):
        await hours(app, XLSX / "hours_portal.xlsx", sheet="說明")
    with pytest.raises(ImportFileError, match=r"no sheet '總表'.*學習紀錄, 說明"):
        await hours(app, XLSX / "hours_portal.xlsx", sheet="總表")
    report = await hours(app, XLSX / "hours_portal.xlsx")
    assert report.ok and report.added == 4, report.errors  # type: ignore[attr-defined]
    again = await hours(app, XLSX / "hours_portal.xlsx", sheet="1")
    assert (again.added, again.unchanged) == (0, 4)  # type: ignore[attr-defined]
    async with app.sessions() as s:
        got = sorted((r.title[:6], r.hours, r.bucket, r.occurred_on) for r in (await s.execute(
            select(LearningRecord).join(Employee, Employee.id == LearningRecord.employee_id)
            .where(Employee.employee_no.like("TR01%")))).scalars())
    assert {(t, h) for t, h, _b, _d in got} == {("人權教育概論", Decimal(2)), ("公文寫作與溝", Decimal("1.5")),
                                                ("環境教育：氣", Decimal(2)), ("當前政府重大", Decimal(3))}
    assert ("人權教育概論", Decimal(2), "democracy", date(2024, 6, 3)) in got


async def test_every_mistake_at_once_named_by_header_and_cell(app: Runtime, clock: FrozenClock,
                                                             write_file: Callable[..., Path]) -> None:
    assert (await roster(app, write_file("city.csv", city()))).ok
    clock.set(datetime(2024, 10, 1, 9, 0, tzinfo=TAIPEI))
    before = await snapshot(app, LearningRecord)
    report = await hours(app, XLSX / "hours_with_mistakes.xlsx")
    assert not report.ok and not report.written  # type: ignore[attr-defined]
    zh = [describe(e.line, e.problems, say("zh-TW")) for e in report.errors]  # type: ignore[attr-defined]
    assert zh == ["第 5 列：「學習日期」欄（D5）的「113/2/30」不是實際存在的日期",
                  "第 6 列：「員工編號」欄（A6）的員工編號 TR9999 不在員工名冊上（要略過這些列，請加 --skip-unknown）",
                  "第 7 列：「時數(小時)」欄（E7）的「三小時」不是時數（請寫數字，例如 3 或 1.5）"]
    en = describe(report.errors[2].line, report.errors[2].problems, say("en"))  # type: ignore[attr-defined]
    assert en == 'row 7: column "時數(小時)" (E7): "三小時" is not a number of hours (write a number such as 3 or 1.5)'
    assert not any("hours:" in e.message or "date:" in e.message for e in report.errors)  # type: ignore[attr-defined]
    assert await snapshot(app, LearningRecord) == before


async def test_skip_unknown_leaves_out_and_lists_people_not_on_the_roster(app: Runtime, clock: FrozenClock,
                                                                         write_file: Callable[..., Path]) -> None:
    assert (await roster(app, write_file("city.csv", city()))).ok
    clock.set(datetime(2024, 10, 1, 9, 0, tzinfo=TAIPEI))
    fixed = write_file("fixed.csv", "員工編號,課程名稱,學習日期,時數(小時),學習類別\n"
                                    "TR0101,公文寫作與溝通,2024-03-01,3小時,其他業務相關\n"
                                    "TR9999,公文寫作與溝通,2024-03-01,3,其他業務相關\n")
    refused = await hours(app, fixed)
    assert [describe(e.line, e.problems, say("zh-TW")) for e in refused.errors] == [  # type: ignore[attr-defined]
        "第 3 列：「員工編號」欄（A3）的員工編號 TR9999 不在員工名冊上（要略過這些列，請加 --skip-unknown）"]
    skipped = await hours(app, fixed, skip_unknown=True)
    assert skipped.ok and skipped.added == 1 and skipped.skipped == [(3, "TR9999")]  # type: ignore[attr-defined]


async def test_a_sign_in_sheet_with_leave_and_a_total_line(app: Runtime, clock: FrozenClock,
                                                          write_file: Callable[..., Path]) -> None:
    assert (await roster(app, write_file("city.csv", city()))).ok
    await add_classes(app, spec("HO-ATT-01", course="A3-3", hours="3", capacity=10))
    cid = await class_id(app, "HO-ATT-01")
    async with app.sessions() as s:
        ids = {e.employee_no: e.id for e in (await s.execute(select(Employee))).scalars()}
    for number in ("TR0101", "TR0102", "TR0103", "TR0104"):
        assert (await enroll_as(app, cid, ids[number])).outcome == "enrolled"
    clock.set(datetime(2024, 3, 21, 9, 0, tzinfo=TAIPEI))
    lines, problems = read_attendance_rows(XLSX / "attendance_signin.xlsx", say=say("zh-TW"))
    assert problems == [] and len(lines) == 4
    async with app.sessions.begin() as s:
        report = await import_attendance(s, lines, rules=app.rules, catalog=app.catalog, settings=app.app.enrollment,
                                         now=app.clock.now(), batch="x", source="xlsx", problems=problems)
    assert (report.attended, report.absent, report.credited) == (2, 2, 2)


def test_attendance_problems_name_the_sheet_cell(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in (["簽到表"], ["班期代號", "員工編號", "出席情形"], ["C-1", "T0001", "遲到"],
                ["C-1", "A123456789", "出席"]):
        ws.append(row)
    wb.save(tmp_path / "a.xlsx")
    _lines, problems = read_attendance_rows(tmp_path / "a.xlsx", say=say("zh-TW"))
    where = tmp_path / "a.xlsx"
    assert problems == [f"{where}: 第 3 列：「出席情形」欄（C3）的「遲到」不是出席或缺席",
                        f"{where}: 第 4 列：「員工編號」欄（B4）看起來是身分證字號；"
                        "請填員工編號（本系統不讀取也不儲存身分證字號）"]


async def test_a_class_plan_from_excel(app: Runtime, clock: FrozenClock) -> None:
    clock.set(datetime(2024, 2, 25, 9, 0, tzinfo=TAIPEI))
    with pytest.raises(DataFileError, match="no sheet"):
        read_classes_file(XLSX / "classes_plan.xlsx", plan_year=113, sheet="9")
    plan = read_classes_file(XLSX / "classes_plan.xlsx", plan_year=113, today=taipei_today(clock))
    first, second = plan.classes
    assert (first.code, first.hours, first.capacity, len(first.meetings)) == ("XL-113-01", Decimal(6), 30, 2)
    assert (second.hours, second.capacity) == (Decimal(3), 20)
    async with app.sessions.begin() as s:
        report = await import_classes(s, plan, settings=app.app.enrollment, deps=app.app.deps, now=app.clock.now(),
                                      batch="x", source="xlsx")
    assert len(report.created) == 2
    async with app.sessions() as s:
        seats = select(TrainingClass.capacity).where(TrainingClass.code == "XL-113-01")
        assert (await s.execute(seats)).scalar_one() == 30


def test_the_cli_speaks_the_readers_language(cli: Cli, tmp_path: Path) -> None:
    zh = cli(["import", "hours", str(XLSX / "hours_with_mistakes.xlsx")])
    assert zh.returncode == 1 and "未匯入，沒有寫入任何資料" in zh.stderr
    assert "「學習日期」欄（D5）" in zh.stderr
    assert "第 8 列：「員工編號」欄（A8）的員工編號 TR0103 不在員工名冊上" in zh.stderr
    en = cli(["import", "hours", str(XLSX / "hours_with_mistakes.xlsx"), "--lang", "en", "--json"])
    out = json.loads(en.stdout)
    assert en.returncode == 1 and [r["line"] for r in out["rejected"]] == [5, 6, 7, 8]
    assert out["rejected"][0]["cells"] == [{"column": "學習日期", "cell": "D5"}]
    assert out["rejected"][0]["message"].startswith('row 5: column "學習日期" (D5): "113/2/30"')
    staff = cli(["import", "roster", str(XLSX / "roster_transport.xlsx"), "--agency", TRANSPORT, "--dry-run"])
    assert staff.returncode == 0 and "would add 4" in staff.stdout, staff.stderr
