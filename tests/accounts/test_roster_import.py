"""The roster import on SQLite and PostgreSQL: messy files, idempotence, all-or-nothing, deactivation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.db.models.core import Employee
from bot.services.accounts import RosterReport, import_roster, load_roster_mapping
from tests.accounts.conftest import snapshot

MESSY = (
    "員工編號,姓名,機關,單位,職等,主管,性別,到職日,電子郵件\n"
    "\n"
    "Ａ1001,王小明,桃園市政府工務局,道路科,薦任,否,男,45356,ming@example.org\n"   # full-width letter, Excel serial date
    "A1002,李小華,桃園市政府工務局,道路科,委任,是,女,113/02/01,\n"               # ROC date
    "A1003,陳大文,桃園市政府社會局,社工科,約聘,N,M,2020/7/1 00:00,\n"            # Excel date-time
    "A1002,李小華,桃園市政府工務局,道路科,委任,是,女,113/02/01,\n"               # exact duplicate line
    ",,,,,,,,\n"
    "A1004,林阿美,桃園市政府社會局,社工科,臨時人員,,F,,\n"
)


async def run(app: Runtime, path: Path, **kw: object) -> RosterReport:
    async with app.sessions.begin() as s:
        return await import_roster(s, path, mapping=load_roster_mapping(app.settings.data_dir), now=app.clock.now(),
                                   **kw)  # type: ignore[arg-type]


async def employees(app: Runtime) -> dict[str, Employee]:
    async with app.sessions() as s:
        return {e.employee_no: e for e in (await s.execute(select(Employee))).scalars()}


async def test_messy_roster_imports_and_reimport_changes_nothing(app: Runtime, write_file: Callable[..., Path]) -> None:
    path = write_file("roster.csv", MESSY, "utf-8-sig", newline="\r\n")
    first = await run(app, path)
    assert first.ok, first.errors
    assert (first.added, first.duplicates, first.deactivated) == (4, 1, 6)   # the six demo employees are not in it
    emps = await employees(app)
    a1001 = emps["A1001"]
    assert (a1001.name, a1001.agency, a1001.hire_date, a1001.gender, a1001.is_supervisor, a1001.email) == (
        "王小明", "桃園市政府工務局", date(2024, 3, 5), "M", False, "ming@example.org")
    assert emps["A1002"].hire_date == date(2024, 2, 1) and emps["A1002"].is_supervisor
    assert emps["A1003"].hire_date == date(2020, 7, 1) and emps["A1004"].rank == "臨時人員"
    assert not emps["T0001"].active and emps["T0001"].is_demo  # demo employee kept, marked inactive

    before = await snapshot(app, Employee)
    app.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    again = await run(app, path)
    assert (again.added, again.updated, again.unchanged, again.deactivated) == (0, 0, 4, 0)
    assert await snapshot(app, Employee) == before          # not even updated_at moved


async def test_one_bad_row_rejects_the_file_and_writes_nothing(app: Runtime, write_file: Callable[..., Path]) -> None:
    before = await snapshot(app, Employee)
    path = write_file("bad.csv", MESSY.replace("113/02/01,\n", "113/02/30,\n", 1))
    report = await run(app, path)
    assert not report.ok and report.added == 0
    assert [(e.line, [(p.header, p.cell) for p in e.problems]) for e in report.errors] == [(4, [("到職日", "H4")])]
    assert "hire_date" not in report.errors[0].message and "到職日 (H4)" in report.errors[0].message
    assert await snapshot(app, Employee) == before


async def test_row_problems_are_all_listed_with_their_lines(app: Runtime, write_file: Callable[..., Path]) -> None:
    text = ("employee_no,name,agency,gender,email\n"
            "A2001,甲,機關一,女,a@b\n"
            "A123456789,乙,機關一,男,\n"      # a national ID where the number should be
            "A2003,,機關一,男,\n"
            "A2004,丙,機關一,?,x\n"
            "A2001,甲,機關二,女,a@b\n")      # same number, other data
    report = await run(app, write_file("r.csv", text))
    lines = {e.line: e.message for e in report.errors}
    assert set(lines) == {3, 4, 5, 6}
    assert "national ID" in lines[3] and "name is empty" in lines[4]
    assert "gender" in lines[5] and "email" in lines[5] and "line 2" in lines[6]


async def test_missing_employees_become_inactive_and_come_back(app: Runtime, write_file: Callable[..., Path]) -> None:
    full = write_file("full.csv", "employee_no,name,agency\nB1,甲,機關\nB2,乙,機關\n")
    assert (await run(app, full)).added == 2
    report = await run(app, write_file("less.csv", "employee_no,name,agency\nB1,甲,機關\n"))
    assert report.deactivated == 1 and not (await employees(app))["B2"].active
    report = await run(app, full)
    assert report.reactivated == 1 and (await employees(app))["B2"].active
    partial = await run(app, write_file("one.csv", "employee_no,name,agency\nB3,丙,機關\n"), deactivate_missing=False)
    assert partial.deactivated == 0 and (await employees(app))["B1"].active


async def test_optional_columns_absent_are_left_alone(app: Runtime, write_file: Callable[..., Path]) -> None:
    report = await run(app, write_file("few.csv", "員工編號,姓名,機關\nT0001,示範員工甲（範例）,新機關\n"),
                       deactivate_missing=False)
    assert report.updated == 1 and any("hire_date" in w for w in report.warnings)
    t1 = (await employees(app))["T0001"]
    assert t1.agency == "新機關" and t1.hire_date == date(2015, 8, 1) and t1.rank == "薦任"


async def test_a_big5_excel_file_with_a_national_id_column(app: Runtime, write_file: Callable[..., Path]) -> None:
    text = "員工編號,姓名,身分證字號,服務機關\nC1,張三,A123456789,桃園市政府人事處\n"
    report = await run(app, write_file("big5.csv", text, "cp950", newline="\r\n"), deactivate_missing=False)
    assert report.ok and report.encoding == "cp950" and report.added == 1
    assert any("national ID" in w for w in report.warnings)
    dump = repr(await snapshot(app, Employee))
    assert "A123456789" not in dump and "張三" in dump


async def test_dry_run_and_the_demo_roster_never_overwrites_real_people(app: Runtime,
                                                                       write_file: Callable[..., Path]) -> None:
    before = await snapshot(app, Employee)
    dry = await run(app, write_file("d.csv", "employee_no,name,agency\nD1,甲,機關\n"), dry_run=True)
    assert dry.added == 1 and dry.deactivated == 6 and not dry.written
    assert await snapshot(app, Employee) == before
    # a real import of T0001 makes it a real person; loading the demo roster again leaves them be
    real = write_file("real.csv", "employee_no,name,agency\nT0001,真實姓名,真實機關\n")
    await run(app, real, deactivate_missing=False)
    from bot.services.demo import seed_demo

    async with app.sessions.begin() as s:
        await seed_demo(s, app.settings.data_dir, now=app.clock.now(), deps=app.app.deps)
    t1 = (await employees(app))["T0001"]
    assert (t1.name, t1.is_demo) == ("真實姓名", False)
