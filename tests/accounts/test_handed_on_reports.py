"""Reports HR hands on (issue 15, part 7): 9/30 compliance, who has not bound, and reports limited by role.

Compliance on both databases through the real importers; the CLI's ``report unbound|compliance|hours --by``
on the demo data, checked against the database itself.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock, taipei_today
from bot.services.accounts import import_roster, load_roster_mapping
from bot.services.hours import build_compliance, compliance_json, import_hours, load_hours_mapping
from tests.conftest import Cli
from tests.imports.conftest import cli, db

__all__ = ["cli", "db"]  # the demo data in a SQLite file, run through bot.cli.main

pytestmark = pytest.mark.db
AGENCY = "桃園市政府測試局"


async def _setup(app: Runtime, write_file: Callable[..., Path], rows: list[tuple[str, str, str]]) -> None:
    roster = write_file("r.csv", "員工編號,姓名,機關,官職等\n" + "".join(
        f"P{i},同仁{i},{AGENCY},{rank}\n" for i, rank in ((1, "薦任"), (2, "委任"), (3, "薦任"), (4, "臨時人員"))))
    async with app.sessions.begin() as s:
        assert (await import_roster(s, roster, mapping=load_roster_mapping(app.settings.data_dir), now=app.clock.now(),
                                    deactivate_missing=False)).ok
    body = "員工編號,課程名稱,上課日期,時數,類別\n" + "".join(f"{no},課程{n},{day},{h},{cat}\n"
                                                   for n, (no, day, (h, cat)) in enumerate(
                                                       (r[0], r[1], r[2].split("|")) for r in rows))
    async with app.sessions.begin() as s:
        report = await import_hours(s, write_file("h.csv", body), mapping=load_hours_mapping(app.settings.data_dir),
                                    rules=app.rules, today=taipei_today(app.clock), now=app.clock.now())
    assert report.ok, report.errors


def _full(no: str, day: str) -> list[tuple[str, str, str]]:
    return [(no, day, "1|當前政府重大政策"), (no, day, "4|環境教育"), (no, day, "5|民主治理價值")]


async def test_compliance_counts_what_was_done_by_the_deadline(app: Runtime, clock: FrozenClock,
                                                              write_file: Callable[..., Path]) -> None:
    clock.set(datetime(2024, 10, 15, 9, 0, tzinfo=TAIPEI))
    await _setup(app, write_file, [*_full("P1", "2024-09-30"), *_full("P2", "2024-10-01"),
                                   ("P3", "2024-05-01", "4|環境教育"), ("P3", "2024-05-02", "20|其他")])
    async with app.sessions() as s:
        report = await build_compliance(s, app.rules, today=taipei_today(clock), agencies=frozenset({AGENCY}))
    by = {r.employee_no: r for r in report.rows}
    assert report.deadline.isoformat() == "2024-09-30"
    assert (by["P1"].status, by["P1"].done_by_deadline) == ("met", Decimal(10))     # on the day still counts
    assert (by["P2"].status, by["P2"].done_by_deadline, by["P2"].done_after) == ("missed", 0, Decimal(10))
    assert (by["P3"].status, by["P3"].done_by_deadline) == ("missed", Decimal(4))  # "other" hours do not help
    assert by["P4"].status == "exempt"
    assert [r.employee_no for r in report.rows] == ["P2", "P3", "P1", "P4"]
    total = compliance_json(report)["total"]
    assert total == {"subject": 3, "met": 1, "missed": 2, "open": 0, "met_rate": 33.3}
    clock.set(datetime(2024, 9, 1, 9, 0, tzinfo=TAIPEI))
    async with app.sessions() as s:
        early = await build_compliance(s, app.rules, today=taipei_today(clock), agencies=frozenset({AGENCY}))
    assert {r.employee_no: r.status for r in early.rows}["P3"] == "open"


def _db(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def test_unbound_and_reports_limited_by_role(cli: Cli, tmp_path: Path) -> None:
    everyone = json.loads(cli(["report", "unbound", "--json"]).stdout)
    unbound = {no for (no,) in _db(tmp_path, "SELECT employee_no FROM employees e WHERE active AND NOT EXISTS "
                                             "(SELECT 1 FROM channel_accounts c WHERE c.employee_id = e.id)")}
    assert {e["employee_no"] for e in everyone["unbound"]} == unbound
    assert everyone["total"]["active"] == sum(a["active"] for a in everyone["agencies"])
    assert everyone["total"]["unbound"] == len(unbound)

    assert cli(["admin", "grant", "T0005", "--role", "agency_hr", "--agency", "桃園市政府人事處"]).returncode == 0
    mine = json.loads(cli(["report", "unbound", "--by", "T0005", "--json"]).stdout)
    assert mine["agency"] == "桃園市政府人事處"
    assert {a["agency"] for a in mine["agencies"]} <= {"桃園市政府人事處"}
    assert all(e["agency"] == "桃園市政府人事處" for e in mine["unbound"])
    other = cli(["report", "unbound", "--by", "T0005", "--agency", "桃園市政府環境保護局", "--json"])
    missing = cli(["report", "unbound", "--by", "T0005", "--agency", "桃園市政府不存在局", "--json"])
    plain = cli(["report", "compliance", "--by", "T0001"])
    assert (other.returncode, missing.returncode, plain.returncode) == (1, 1, 1)
    assert other.stderr.replace("桃園市政府環境保護局", "X") == missing.stderr.replace("桃園市政府不存在局", "X")
    assert "環境保護局" not in other.stderr and other.stdout == ""
    assert _db(tmp_path, "SELECT action, allowed FROM admin_audit WHERE action LIKE 'report.%' ORDER BY id") == [
        ("report.unbound", 1), ("report.unbound", 0), ("report.unbound", 0), ("report.compliance", 0)]

    hours = cli(["report", "hours", "--by", "T0005", "--format", "csv", "--out", "mine.csv"])
    assert hours.returncode == 0, hours.stderr
    with (tmp_path / "mine.csv").open(encoding="utf-8-sig") as fh:
        agencies = {row[2] for row in list(csv.reader(fh))[1:]}
    assert agencies == {"桃園市政府人事處"}

    compliance = cli(["report", "compliance", "--json", "--out", "c.xlsx", "--lang", "en"])
    out = json.loads(compliance.stdout)
    assert compliance.returncode == 0 and out["deadline"] == "2024-09-30"
    assert {e["status"] for e in out["employees"]} <= {"met", "missed", "open", "exempt"}
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "c.xlsx").worksheets[0]
    assert str(sheet["A1"].value).startswith("Mandatory hours by the deadline") and sheet.freeze_panes == "A4"
    assert [c.value for c in sheet[3]][:2] == ["Employee no.", "Name"] and sheet.max_row == 3 + len(out["employees"])
