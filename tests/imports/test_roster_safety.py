"""A roster import never wipes the city: empty files, one agency's list, transfers and HR roles (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.db.models.accounts import AdminAudit, EmployeeRole
from bot.db.models.core import Employee
from bot.services.accounts import RosterReport, import_roster, load_import_limits, load_roster_mapping, scope_of
from tests.accounts.conftest import snapshot

AGENCIES = {"桃園市政府交通局": "TR", "桃園市政府工務局": "PW", "桃園市政府社會局": "SW"}
HEADER = "員工編號,姓名,機關,單位,官等\n"


def city_roster(per_agency: int = 20, *, leave_out: tuple[str, ...] = ()) -> str:
    """A city roster as HR exports it: the six demo people plus ``per_agency`` staff in each of three agencies."""
    lines = [HEADER,
             "T0001,示範員工甲（範例）,桃園市政府人事處,考訓科,薦任\n",
             "T0002,示範員工乙（範例）,桃園市政府人事處,考訓科,委任\n",
             "T0003,示範主管丙（範例）,桃園市政府環境保護局,綜合計畫科,簡任\n",
             "T0004,示範約聘丁（範例）,桃園市政府青年事務局,青年創業科,約聘\n",
             "T0005,示範人事戊（範例）,桃園市政府人事處,綜合規劃科,薦任\n",
             "T0006,示範臨時己（範例）,桃園市政府環境保護局,清潔隊,臨時人員\n"]
    for agency, prefix in AGENCIES.items():
        lines += [f"{prefix}{i:04d},同仁{prefix}{i}（範例）,{agency},一科,委任\n" for i in range(1, per_agency + 1)
                  if f"{prefix}{i:04d}" not in leave_out]
    return "".join(lines)


async def run(app: Runtime, path: Path, **kw: Any) -> RosterReport:
    async with app.sessions.begin() as s:
        return await import_roster(s, path, mapping=load_roster_mapping(app.settings.data_dir), now=app.clock.now(),
                                   limits=load_import_limits(app.settings.data_dir).roster_deactivate, **kw)


async def active(app: Runtime) -> dict[str, int]:
    async with app.sessions() as s:
        rows = (await s.execute(select(Employee.agency).where(Employee.active.is_(True)))).scalars().all()
    return {a: rows.count(a) for a in sorted(set(rows))}


async def test_a_header_only_roster_is_refused_and_writes_nothing(app: Runtime,
                                                                  write_file: Callable[..., Path]) -> None:
    before = await snapshot(app, Employee)
    report = await run(app, write_file("empty.csv", "employee_no,name,agency\n"))
    assert not report.ok and report.written is False
    assert "no rows" in report.refused and "all 6 active employees" in report.refused
    assert await snapshot(app, Employee) == before
    partial = await run(app, write_file("empty2.csv", "employee_no,name,agency\n"), deactivate_missing=False)
    assert not partial.ok and "nothing to import" in partial.refused


async def test_one_agencys_list_is_refused_with_the_numbers_then_scoped_with_agency(
        app: Runtime, write_file: Callable[..., Path]) -> None:
    assert (await run(app, write_file("city.csv", city_roster()))).ok
    city = await active(app)
    officer = HEADER + "".join(f"TR{i:04d},同仁TR{i}（範例）,桃園市政府交通局,一科,委任\n" for i in range(1, 20))
    path = write_file("tr.csv", officer, "cp950")                         # TR0020 left the agency
    refused = await run(app, path)
    assert not refused.ok and refused.deactivated == 47 and refused.active == 66
    assert "47 of 66 active employees" in refused.refused and "桃園市政府工務局 20 of 20" in refused.refused
    assert "--agency 桃園市政府交通局" in refused.refused                  # what to do instead
    assert refused.deactivated_by_agency["桃園市政府社會局"] == 20
    assert await active(app) == city                                      # nothing written
    scoped = await run(app, path, agency="桃園市政府交通局")
    assert scoped.ok and scoped.deactivated == 1 and scoped.deactivated_employees == ["TR0020"]
    assert await active(app) == {**city, "桃園市政府交通局": 19}             # no other agency touched
    stray = write_file("stray.csv", officer + "PW0001,同仁PW1（範例）,桃園市政府工務局,一科,委任\n")
    rejected = await run(app, stray, agency="桃園市政府交通局")
    assert not rejected.ok and "with --agency every row must be of that agency" in rejected.errors[0].message


async def test_a_few_leavers_pass_and_many_need_allow_deactivate(app: Runtime, write_file: Callable[..., Path]) -> None:
    assert (await run(app, write_file("city.csv", city_roster()))).ok
    few = await run(app, write_file("few.csv", city_roster(leave_out=("TR0001", "PW0002", "SW0003"))))
    assert few.ok and few.deactivated == 3                                # 3 of 66: ordinary turnover
    many = tuple(f"SW{i:04d}" for i in range(1, 13))                      # 11 more of 63: 17 %, at least 10
    path = write_file("many.csv", city_roster(leave_out=("TR0001", "PW0002", "SW0003", *many)))
    refused = await run(app, path)
    assert not refused.ok and refused.deactivated == 11 and "--allow-deactivate" in refused.refused
    allowed = await run(app, path, allow_deactivate=True)
    assert allowed.ok and allowed.deactivated == 11
    partial = await run(app, write_file("one.csv", HEADER + "TR0001,同仁TR1（範例）,桃園市政府交通局,一科,委任\n"),
                        deactivate_missing=False)
    assert partial.ok and partial.deactivated == 0 and partial.reactivated == 1


async def test_a_transfer_ends_the_hr_role_of_the_agency_left(app: Runtime, write_file: Callable[..., Path]) -> None:
    async with app.sessions() as s:
        t5 = (await s.execute(select(Employee).where(Employee.employee_no == "T0005"))).scalar_one()
        assert (await scope_of(s, t5)).agencies == {"桃園市政府人事處"}           # demo: HR of 人事處
    moved = write_file("moved.csv", "員工編號,姓名,機關\nT0005,示範人事戊（範例）,桃園市政府交通局\n")
    dry = await run(app, moved, deactivate_missing=False, dry_run=True)
    assert dry.transfers[0].roles_ended == ("桃園市政府人事處",) and "would end" in dry.warnings[-1]
    report = await run(app, moved, deactivate_missing=False, actor="cli:hr")
    assert report.ok and [(t.employee_no, t.from_agency, t.to_agency) for t in report.transfers] == [
        ("T0005", "桃園市政府人事處", "桃園市政府交通局")]
    assert "abc-bot admin grant T0005 --role agency_hr --agency 桃園市政府交通局" in report.warnings[-1]
    async with app.sessions() as s:
        t5 = (await s.execute(select(Employee).where(Employee.employee_no == "T0005"))).scalar_one()
        assert not (await scope_of(s, t5)).is_hr                                   # no rights left over 人事處
        assert (await s.execute(select(EmployeeRole).where(EmployeeRole.employee_id == t5.id))).first() is None
        audit = (await s.execute(select(AdminAudit).where(AdminAudit.action == "roles.revoke"))).scalars().all()
    assert [(a.actor, a.target, a.allowed) for a in audit] == [("cli:hr", "T0005", True)]
    assert "moved to 桃園市政府交通局" in audit[0].detail
