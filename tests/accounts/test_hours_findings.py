"""What HR found in the hours commands: a year without rules, a format against its file name, temporary staff.

``bot.cli.main`` runs in this process, on a SQLite file with the demo data.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Cli


@pytest.fixture
def cli(tmp_path: Path, cli_for: Callable[[str], Cli]) -> Cli:
    run = cli_for(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    assert run(["db", "seed", "--demo"]).returncode == 0
    return run


def test_a_year_without_rules_and_a_format_that_contradicts_the_file_name(cli: Cli, tmp_path: Path) -> None:
    year = cli(["hours", "T0001", "--year", "112"])
    assert year.returncode == 2 and "plan year 112 has no rules here" in year.stderr and "113" in year.stderr
    assert "bad data file" not in year.stderr and "file not found" not in year.stderr
    assert cli(["report", "hours", "--year", "112", "--out", "r.csv"]).returncode == 2
    wrong = cli(["report", "hours", "--format", "csv", "--out", "x.xlsx"])
    assert wrong.returncode == 2 and "x.csv" in wrong.stderr and not (tmp_path / "x.xlsx").exists()
    assert cli(["report", "hours", "--format", "xlsx", "--out", "x.xlsx"]).returncode == 0


def test_temporary_staff_owe_nothing_everywhere(cli: Cli, tmp_path: Path) -> None:
    status = json.loads(cli(["hours", "T0006", "--json"]).stdout)    # 臨時人員 in the demo roster
    assert status["requirement_applies"] is False
    assert status["totals"]["remaining"] == status["totals"]["mandatory_remaining"] == 0
    assert {b["remaining"] for b in status["buckets"]} == {0} and {d["remaining"] for d in status["deadlines"]} == {0}
    assert status["totals"]["required"] == 20                            # the plan's figure is still shown
    cli(["report", "hours", "--format", "csv", "--out", "r.csv"])
    rows = {r[0]: r for r in csv.reader((tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines())}
    header = rows["員工編號"] if "員工編號" in rows else next(iter(rows.values()))
    t6 = rows["T0006"]
    remaining = [t6[i] for i, title in enumerate(header) if "尚差" in title or "remaining" in title.lower()]
    assert remaining and set(remaining) == {"0"}
