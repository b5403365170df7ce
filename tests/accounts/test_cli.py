"""The accounts and hours commands end to end on a scratch SQLite database.

The chat "done when" runs as a real process; the other commands run through ``bot.cli.main`` in this
process (the same parser, settings and exit codes, without a second of start-up per command).
"""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.test_cli import abc_bot

pytestmark = pytest.mark.db  # the commands on a scratch database, one as a real process


@pytest.fixture
def cli(tmp_path: Path, cli_for: Callable[[str], Cli]) -> Cli:
    """Run ``abc-bot ARGS`` in this process against ``tmp_path/cli.sqlite3`` (cwd ``tmp_path``)."""
    return cli_for(f"sqlite:///{tmp_path / 'cli.sqlite3'}")

ROSTER = ("\ufeff員工編號,姓名,機關,單位,官等,主管,性別,到職日\r\n"
          "E1,王小明,桃園市政府工務局,道路科,薦任,否,男,2010/1/1\r\n"
          "E2,李小華,桃園市政府工務局,道路科,委任,否,女,113/05/20\r\n")
HOURS = ("\ufeff員工編號,課程名稱,上課日期,時數,類別,學習方式\r\n"
         "E1,當前政府重大政策,113/1/15,1,政策,數位\r\n"
         "E1,環境教育,113/1/20,5,環境教育,數位\r\n"
         "E1,公文寫作,113/2/5,3,其他,實體\r\n")


def test_chat_done_when(tmp_path: Path) -> None:
    bound = abc_bot(["chat"], tmp_path, "我還差幾小時\n")
    assert bound.returncode == 0, bound.stderr
    assert "示範員工甲（範例）" in bound.stdout and "環境教育　2／4" in bound.stdout and "▰" in bound.stdout
    assert "113年9月30日" in bound.stdout and "113年12月31日" in bound.stdout
    unbound = abc_bot(["chat", "--user", "NOBODY", "--json"], tmp_path, "我還差幾小時\n")
    answer = json.loads(unbound.stdout)
    assert answer["intent"] == "hours" and "請先綁定" in answer["replies"][0]["text"]
    assert answer["replies"][0]["choices"][0]["label"] == "綁定帳號"


def test_imports_are_idempotent_and_all_or_nothing(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "hours.csv").write_text(HOURS, encoding="utf-8")
    first = cli(["import", "roster", "roster.csv", "--json"])
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout).items() >= {"added": 2, "deactivated": 0, "written": True, "rejected": []}.items()
    second = json.loads(cli(["import", "roster", "roster.csv", "--json"]).stdout)
    assert (second["added"], second["updated"], second["unchanged"], second["deactivated"]) == (0, 0, 2, 0)

    h1 = cli(["import", "hours", "hours.csv"])
    assert h1.returncode == 0 and "added 3" in h1.stdout, h1.stderr
    db = sqlite3.connect(tmp_path / "cli.sqlite3")
    before = db.execute("SELECT * FROM learning_records ORDER BY id").fetchall()
    h2 = cli(["import", "hours", "hours.csv"])
    assert "added 0, updated 0, unchanged 3" in h2.stdout
    assert db.execute("SELECT * FROM learning_records ORDER BY id").fetchall() == before

    (tmp_path / "bad.csv").write_text(HOURS + "E2,性別平等,113/2/30,2,民主治理\r\n", encoding="utf-8")
    bad = cli(["import", "hours", "bad.csv"])
    assert bad.returncode == 1 and "第 5 列：「上課日期」欄（C5）的「113/2/30」不是實際存在的日期" in bad.stderr
    assert "沒有寫入任何資料" in bad.stderr
    assert db.execute("SELECT * FROM learning_records ORDER BY id").fetchall() == before
    db.close()


def test_hours_json_and_report(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "hours.csv").write_text(HOURS, encoding="utf-8")
    cli(["import", "roster", "roster.csv"])
    cli(["import", "hours", "hours.csv"])
    result = cli(["hours", "E1", "--json"])
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"employee", "plan_year", "as_of", "as_of_roc", "requirement_applies", "hired_this_year",
                         "rules", "buckets", "totals", "deadlines", "sources", "records"}
    buckets = {b["id"]: b for b in data["buckets"]}
    assert set(buckets["policy"]) == {"id", "title", "title_en", "mandatory", "required", "done", "counted",
                                      "surplus", "remaining"}
    assert buckets["environment"]["surplus"] == 1 and buckets["other"]["counted"] == 4   # 3 + 1 surplus
    assert data["totals"] == {"required": 20, "done": 9, "counted": 9, "remaining": 11,
                              "mandatory_required": 10, "mandatory_remaining": 5}
    deadline = data["deadlines"][0]
    assert deadline["date"] == "2024-09-30" and deadline["date_roc"] == "113年9月30日"
    assert isinstance(deadline["passed"], bool) and (deadline["days_left"] is None) == deadline["passed"]
    assert data["sources"] == {"portal": 9} and data["records"][0]["source"] == "portal"
    assert cli(["hours", "E2", "--json"]).returncode == 0
    assert json.loads(cli(["hours", "E2", "--json"]).stdout)["hired_this_year"] is True
    missing = cli(["hours", "NOBODY"])
    assert missing.returncode == 1 and "not on the roster" in missing.stderr

    report = cli(["report", "hours", "--out", "r.xlsx"])
    assert report.returncode == 0 and "2 employee(s)" in report.stdout, report.stderr
    from openpyxl import load_workbook

    rows = list(load_workbook(tmp_path / "r.xlsx", read_only=True)["同仁時數"].iter_rows(values_only=True))
    assert [r[0] for r in rows[3:]] == ["E2", "E1"]               # E2 has nothing yet: furthest behind
    csv_report = cli(["report", "hours", "--agency", "桃園市政府工務局", "--format", "csv", "--out", "r.csv"])
    assert csv_report.returncode == 0 and (tmp_path / "r.agencies.csv").exists()


def test_admin_roles_and_codes(tmp_path: Path, cli: Cli) -> None:
    assert cli(["db", "seed", "--demo"]).returncode == 0
    grant = cli(["admin", "grant", "T0002", "--role", "agency_hr"])
    assert grant.returncode == 0 and "桃園市政府人事處" in grant.stdout, grant.stderr
    roles = json.loads(cli(["admin", "roles", "--json"]).stdout)
    assert {(r["employee_no"], r["role"]) for r in roles} >= {("T0002", "agency_hr"), ("T0005", "agency_hr")}
    typo = cli(["admin", "grant", "T0002", "--role", "agency_hr", "--agency", "桃園市政府人事局"])  # 處, not 局
    assert typo.returncode == 1 and "桃園市政府人事處" in typo.stderr
    after = json.loads(cli(["admin", "roles", "--json"]).stdout)
    assert "桃園市政府人事局" not in {r["agency"] for r in after}
    other = cli(["admin", "grant", "T0002", "--role", "agency_hr", "--agency", "桃園市政府環境保護局"])
    assert other.returncode == 0 and "桃園市政府環境保護局" in other.stdout

    assert cli(["admin", "codes", "--out", "codes.csv"]).returncode == 2    # whose codes?
    codes = cli(["admin", "codes", "--agency", "桃園市政府人事處", "--out", "codes.csv"])
    assert codes.returncode == 0 and "3 code(s)" in codes.stdout, codes.stderr
    path = tmp_path / "codes.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600                                   # a file of secrets
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("employee_no,name,agency,unit,code,expires_on")
    plain = [line.split(",")[4] for line in lines[1:]]
    db = sqlite3.connect(tmp_path / "cli.sqlite3")
    stored = " ".join(r[0] for r in db.execute("SELECT code_hash FROM binding_codes"))
    db.close()
    assert all(code.replace("-", "") not in stored for code in plain)
    again = cli(["admin", "codes", "--employee", "T0001", "--out", "codes.csv"])
    assert again.returncode == 1 and "not overwritten" in again.stderr
    assert cli(["admin", "codes", "--employee", "X1", "--out", "x.csv"]).returncode == 1
    for days in ("-5", "0", "366"):  # -5 issued an expired code and revoked the valid one; 0 became 30 silently
        bad = cli(["admin", "codes", "--employee", "T0001", "--days", days, "--out", f"d{days}.csv"])
        assert bad.returncode == 2 and "from 1 to 365" in bad.stderr and not (tmp_path / f"d{days}.csv").exists()

