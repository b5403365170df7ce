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
