"""The classes commands: arguments, exit codes and output (import classes / attendance, substitute, report).

They run in-process through ``bot.cli.main`` on a fresh SQLite database with the demo data (real clock).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import abc_bot

CLASS_FILE = """
plan_year: 113
classes:
  - code: CLI-1
    course: A2-6-2
    name: 第1期
    mode: 專班
    place: 教室
    hours: 3
    capacity: {capacity}
    registration: {{opens: 2099-01-01, closes: "2099-01-10 17:00"}}
    meetings: [{{date: 2099-01-20, start: "09:00", end: "12:00"}}]
"""


@pytest.fixture
def cli(tmp_path: Path, cli_for):  # type: ignore[no-untyped-def]
    in_process = cli_for(f"sqlite:///{tmp_path / 'cli.sqlite3'}")

    def run(*args: str) -> tuple[int, str]:
        result = in_process(list(args))
        return result.returncode, result.stdout + result.stderr

    assert run("db", "seed", "--demo")[0] == 0
    return run


def test_import_classes_report_dry_run_and_errors(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "classes.yaml"
    path.write_text(CLASS_FILE.format(capacity=20), encoding="utf-8")
    code, out = cli("import", "classes", str(path), "--dry-run")
    assert code == 0 and "1 created" in out and "dry run: nothing was written" in out
    code, out = cli("import", "classes", str(path))
    assert code == 0 and "classes: 1 created, 0 updated, 0 unchanged" in out
    code, out = cli("import", "classes", str(path))
    assert code == 0 and "0 created, 0 updated, 1 unchanged" in out
    path.write_text(CLASS_FILE.format(capacity="many"), encoding="utf-8")
    code, out = cli("import", "classes", str(path))
    assert code == 2 and f"{path}: classes.[code=CLI-1].capacity" in out


def test_substitute_report_and_attendance(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out = cli("admin", "substitute", "DEMO-TM-01", "T0001", "T0002", "--by", "T0004")
    assert code == 1 and "機關人事人員的功能" in out                      # T0004 holds no HR role
    code, out = cli("admin", "substitute", "DEMO-TM-01", "T0003", "T0006", "--by", "T0005")
    assert code == 1 and "只能為自己機關的同仁安排遞補" in out              # T0005 is HR of another agency
    assert "環境保護局" not in out                                         # … and is not told where T0003 works
    assert (code, out) == cli("admin", "substitute", "DEMO-TM-01", "T0999", "T0006", "--by", "T0005")  # unknown: same
    assert (code, out) == cli("admin", "substitute", "NO-SUCH", "T0003", "T0006", "--by", "T0005")
    # both are told only when both have a chat account: T0002 has one in the demo data, T0001 chats first
    assert abc_bot(["chat", "--user", "T0001"], tmp_path, "help\n").returncode == 0
    code, out = cli("admin", "substitute", "DEMO-TM-01", "T0001", "T0002", "--by", "T0005")
    assert code == 0 and "T0002" in out and "both are told" in out
    code, out = cli("admin", "substitute", "DEMO-TM-01", "T0003", "!!!")
    assert code == 1 and "'!!!' is not an employee number" in out
    audit = sqlite3.connect(tmp_path / "cli.sqlite3")
    rows = audit.execute("SELECT actor, target, allowed FROM admin_audit WHERE action = 'classes.substitute' "
                         "ORDER BY id").fetchall()
    audit.close()
    assert rows == [("cli:T0004", "DEMO-TM-01 T0001>T0002", 0), ("cli:T0005", "DEMO-TM-01 T0003>T0006", 0),
                    ("cli:T0005", "DEMO-TM-01 T0999>T0006", 0), ("cli:T0005", "? T0003>T0006", 0),
                    ("cli:T0005", "DEMO-TM-01 T0001>T0002", 1)]             # every decision, as in chat
    code, out = cli("report", "class", "DEMO-TM-01", "--json")
    report = json.loads(out)
    assert code == 0 and report["code"] == "DEMO-TM-01" and report["enrolled"] == 2 and report["waitlisted"] == 0
    assert {r["employee_no"] for r in report["roster"]} == {"T0002", "T0003"}
    assert set(report["roster"][0]) == {"employee_no", "name", "agency", "unit", "gender", "status", "position",
                                        "classes_taken_this_year"}
    assert sum(report["gender"].values()) == sum(report["agencies"].values()) == 2
    code, out = cli("report", "class", "DEMO-AI-00")
    assert code == 0 and "roster" in out and "T0005" in out
    csv_path = tmp_path / "att.csv"
    csv_path.write_text("班期代碼,員工編號,出缺席,請假時數\nDEMO-AI-00,T0001,出席,0\nDEMO-AI-00,T0005,出席,0.5\n",
                        encoding="utf-8")
    code, out = cli("import", "attendance", str(csv_path))
    assert code == 0 and "2 attended (2 credited, 0 without hours)" in out and "0 created, 1 updated" in out
    code, out = cli("import", "attendance", str(csv_path))
    assert code == 0 and "0 created, 0 updated, 0 removed" in out
    code, out = cli("report", "class", "NO-SUCH")
    assert code == 1 and "no such class" in out
