"""HR's imports on the command line: refusals with numbers, dry runs in the future tense, JSON, history and undo.

Run through ``bot.cli.main`` in this process (the same parser, settings and exit codes) on a SQLite file,
which is dumped with ``sqlite3``'s own ``iterdump`` to prove an undo byte-identical.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.imports.conftest import dump, put, query

TM_01 = """sample: true
plan_year: 113
classes:
  - code: DEMO-TM-01
    course: A2-6-1
    name: 第1期（範例，名額已滿）
    mode: 專班
    host_agency: 桃園市政府人事處
    place: {place}
    materials_url: https://www.example.org/abc-demo/materials/time-management
    hours: 3
    capacity: {capacity}
    registration: {{opens: today-5, closes: "today+5 17:00"}}
    meetings:
      - {{date: today+10, start: "14:00", end: "17:00"}}
    status: {status}
  - code: DEMO-AI-00
    course: B1-2-3
    name: 第1期（範例，已結訓）
    mode: 專班
    host_agency: 桃園市政府人事處
    place: 桃園市政府人事處 5樓電腦教室（範例）
    hours: {ai_hours}
    capacity: 30
    registration: {{opens: today-40, closes: "today-27 17:00"}}
    meetings:
      - {{date: today-20, start: "13:30", end: "16:30"}}
"""
DEMO_PLACE = "桃園市政府 行政大樓 3樓 301會議室（範例）"


def tm01(*, capacity: int = 2, place: str = DEMO_PLACE, status: str = "open", ai_hours: int = 3) -> str:
    return TM_01.format(capacity=capacity, place=place, status=status, ai_hours=ai_hours)


def test_a_header_only_roster_is_refused_with_the_numbers(cli: Cli, tmp_path: Path, db: Path) -> None:
    put(tmp_path, "r.csv", "employee_no,name,agency\n", "utf-8")
    before = dump(db)
    text = cli(["import", "roster", "r.csv"])
    assert text.returncode == 1 and "refused, nothing written" in text.stderr and "all 6 active" in text.stderr
    as_json = cli(["import", "roster", "r.csv", "--json"])
    data = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and data["written"] is False and data["batch"] is None
    assert "no rows" in data["refused"] and data["deactivated"] == 6 and data["active"] == 6
    assert data["deactivated_by_agency"]["桃園市政府環境保護局"] == {"deactivated": 2, "active": 2}
    assert dump(db) == before
    audit = query(db, "SELECT action, allowed FROM admin_audit WHERE action = 'import.roster'")
    assert audit == [("import.roster", 0), ("import.roster", 0)]          # each refusal, as refused


def test_dry_runs_say_what_would_happen(cli: Cli, tmp_path: Path, db: Path) -> None:
    before = dump(db)
    put(tmp_path, "r.csv", "employee_no,name,agency\nT0009,新同仁（範例）,桃園市政府人事處\n", "utf-8")
    roster = cli(["import", "roster", "r.csv", "--partial", "--dry-run"])
    assert roster.returncode == 0 and "the import would add 1, update 0" in roster.stdout
    put(tmp_path, "h.csv", "員工編號,課程名稱,上課日期,時數,類別\nT0001,公文寫作,113/2/5,3,其他\n", "utf-8")
    hours = cli(["import", "hours", "h.csv", "--dry-run"])
    assert hours.returncode == 0 and "the import would add 1" in hours.stdout and "done" not in hours.stdout
    put(tmp_path, "c.yaml", tm01(status="cancelled"), "utf-8")
    classes = cli(["import", "classes", "c.yaml", "--dry-run"])
    assert classes.returncode == 0, classes.stderr
    assert ("DEMO-TM-01: would be cancelled; 3 enrolled or waitlisted people would be cancelled and told"
            in classes.stdout)
    assert "were" not in classes.stdout and "dry run: nothing was written" in classes.stdout
    put(tmp_path, "c.yaml", tm01(place="新地點（範例）"), "utf-8")
    moved = cli(["import", "classes", "c.yaml", "--dry-run"])
    assert "DEMO-TM-01: place would change; 3 enrolled or waitlisted people would be told" in moved.stdout
    put(tmp_path, "a.csv", "班期代碼,員工編號,出缺席\nDEMO-AI-00,T0001,缺席\n", "utf-8")
    attendance = cli(["import", "attendance", "a.csv", "--dry-run"])
    assert "learning records would be 0 created, 0 updated, 1 removed" in attendance.stdout
    assert dump(db) == before


def test_classes_and_attendance_speak_json(cli: Cli, tmp_path: Path) -> None:
    put(tmp_path, "c.yaml", tm01(capacity=3, ai_hours=6), "utf-8")
    result = cli(["import", "classes", "c.yaml", "--json"])
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["written"] is True and isinstance(data["batch"], int)
    assert (data["created"], data["updated"], data["unchanged"]) == (0, 2, 0)
    assert data["records_rederived"] == 2
    kinds = {e["kind"]: e for e in data["events"]}
    assert kinds["raised"] == {"kind": "raised", "code": "DEMO-TM-01", "old": 2, "new": 3, "promoted": 1}
    assert kinds["rederived"]["records"] == 2 and "hours 3 → 6" in kinds["rederived"]["what"]
    put(tmp_path, "a.csv", "班期代碼,員工編號,出缺席,請假時數\nDEMO-AI-00,T0001,出席,\nDEMO-AI-00,T0005,請假,\n"
                                    "DEMO-NOPE,T0001,遲到,\n", "utf-8")
    bad = cli(["import", "attendance", "a.csv", "--json"])
    rejected = json.loads(bad.stdout)
    assert bad.returncode == 2 and rejected["written"] is False
    assert [r["line"] for r in rejected["rejected"]] == [4]               # 請假 is a word HR uses: absent
    put(tmp_path, "a.csv", "班期代碼,員工編號,出缺席,請假時數\nDEMO-AI-00,T0001,出席,\nDEMO-AI-00,T0005,請假,\n",
                                    encoding="utf-8")
    good = json.loads(cli(["import", "attendance", "a.csv", "--json"]).stdout)
    assert (good["rows"], good["attended"], good["absent"], good["records"]) == (
        2, 1, 1, {"created": 0, "updated": 0, "removed": 1})


def test_every_import_is_undone_byte_for_byte(cli: Cli, tmp_path: Path, db: Path) -> None:
    before = dump(db)
    put(tmp_path, "r.csv", "員工編號,姓名,機關\nT0005,示範人事戊（範例）,桃園市政府交通局\n"
                           "T0009,新同仁（範例）,桃園市政府交通局\n",
                                    encoding="utf-8-sig")
    roster = cli(["import", "roster", "r.csv", "--partial"])
    assert roster.returncode == 0 and "(batch 1; to undo it: abc-bot import undo 1)" in roster.stdout
    assert "agency_hr role for 桃園市政府人事處 ended" in roster.stderr
    put(tmp_path, "h.csv", "員工編號,課程名稱,上課日期,時數,類別\nT0009,公文寫作,113/2/5,3,其他\n", "utf-8")
    assert "(batch 2;" in cli(["import", "hours", "h.csv"]).stdout
    put(tmp_path, "c.yaml", tm01(capacity=3, ai_hours=6), "utf-8")
    assert "(batch 3;" in cli(["import", "classes", "c.yaml"]).stdout
    put(tmp_path, "a.csv", "班期代碼,員工編號,出缺席,請假時數\nDEMO-AI-00,T0005,出席,0.5\n", "utf-8")
    assert "(batch 4;" in cli(["import", "attendance", "a.csv"]).stdout
    history = json.loads(cli(["import", "history", "--json"]).stdout)
    assert [(b["id"], b["kind"], b["status"]) for b in history] == [
        (4, "attendance", "applied"), (3, "classes", "applied"), (2, "hours", "applied"), (1, "roster", "applied")]
    assert set(history[0]) == {"id", "kind", "file", "digest", "label", "by", "at", "status", "counts", "changes",
                               "note", "undone_at", "undone_by"}
    blocked = cli(["import", "undo", "3"])                                # attendance changed the same records
    assert blocked.returncode == 1 and "undo them first" in blocked.stderr and "import undo 4" in blocked.stderr
    dry = cli(["import", "undo", "4", "--dry-run"])
    assert dry.returncode == 0 and "would leave" in dry.stdout
    for batch in ("4", "3", "2", "1"):
        result = cli(["import", "undo", batch])
        assert result.returncode == 0 and f"batch {batch} (" in result.stdout, result.stderr
    assert dump(db) == before
    again = json.loads(cli(["import", "undo", "1", "--json"]).stdout)
    assert again["undone"] is False and "already undone" in again["reason"]
    assert query(db, "SELECT count(*) FROM admin_audit WHERE action = 'import.undo' AND allowed = 1") == [(4,)]
    assert "undone" in cli(["import", "history"]).stdout
