"""``abc-bot reminders due|run --at`` and ``abc-bot outbox status`` as an operator runs them (both databases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def cli(tmp_path: Path, cli_for, demo_db_url: str):  # type: ignore[no-untyped-def]
    return cli_for(demo_db_url)


def test_due_lists_the_deadline_reminders_of_demo_people_with_a_gap_and_writes_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    due = cli(["reminders", "due", "--at", "2024-09-23T09:00+08:00", "--json"])
    assert due.returncode == 0, due.stderr
    lines = [json.loads(line) for line in due.stdout.splitlines()]
    assert lines, "the demo has people with a gap"
    for notice in lines:
        assert set(notice) == {"kind", "employee_no", "channel", "dedupe_key", "not_before", "text"}
        assert notice["kind"] == "reminders.deadline"
        assert "還有 7 天" in notice["text"]
        assert notice["not_before"].startswith("2024-09-23T01:00")
    status = json.loads(cli(["outbox", "status", "--json"]).stdout)
    assert "reminders.deadline" not in status["kinds"]  # due wrote nothing


def test_run_queues_once_and_a_second_run_queues_nothing_new(cli) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(cli(["reminders", "run", "--at", "2024-09-23T09:00+08:00", "--json"]).stdout)
    second = json.loads(cli(["reminders", "run", "--at", "2024-09-23T09:00+08:00", "--json"]).stdout)
    assert first["queued"].get("reminders.deadline", 0) >= 1
    assert second["total"] == 0
    status = json.loads(cli(["outbox", "status", "--json"]).stdout)
    assert status["kinds"]["reminders.deadline"]["pending"] == first["queued"]["reminders.deadline"]
    assert cli(["reminders", "due", "--at", "2024-09-23T09:00+08:00", "--json"]).stdout == ""


def test_a_time_that_is_not_iso_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    bad = cli(["reminders", "due", "--at", "next tuesday"])
    assert bad.returncode == 2
    assert "ISO" in bad.stderr


def test_report_survey_of_a_class_counts_per_question_in_json_csv_and_xlsx(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    found = cli(["report", "survey", "DEMO-TM-01", "--json"])
    assert found.returncode == 0, found.stderr
    report = json.loads(found.stdout)
    assert report["class"] == "DEMO-TM-01"
    assert [q["id"] for q in report["questions"]] == ["overall", "useful", "comment"]
    assert report["questions"][0]["counts"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    table = cli(["report", "survey", "DEMO-TM-01", "--format", "csv"]).stdout.splitlines()
    assert table[0] == "question,type,answers,mean,1,2,3,4,5"
    out = tmp_path / "survey.xlsx"
    assert cli(["report", "survey", "DEMO-TM-01", "--format", "xlsx", "--out", str(out)]).returncode == 0
    assert out.stat().st_size > 0
    assert cli(["report", "survey", "NO-SUCH-CLASS"]).returncode == 1
