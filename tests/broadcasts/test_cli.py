"""``abc-bot broadcast``: the contract's flags, exit codes and JSON, delivery, the report (SQLite, in process)."""

from __future__ import annotations

import asyncio
import csv
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import build_app
from bot.channels.line_client import LineClient
from bot.channels.line_sender import LineSender
from bot.clock import FrozenClock
from bot.metrics import Metrics
from bot.services.broadcasts import ChunkDeliverer
from tests.conftest import base_settings
from tests.line.conftest import no_sleep
from tests.line.fake_line import FakeLine

HR_AGENCY = "桃園市政府人事處"


@pytest.fixture
def cli(tmp_path: Path, cli_for):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    in_process = cli_for(url)

    def run(*args: str) -> tuple[int, str, str]:
        result = in_process(list(args))
        return result.returncode, result.stdout, result.stderr

    assert run("db", "seed", "--demo")[0] == 0
    db = sqlite3.connect(tmp_path / "cli.sqlite3")
    for i, no in enumerate(("T0001", "T0002", "T0003")):  # T0005 (HR, same agency) stays unbound
        db.execute("INSERT INTO channel_accounts (channel, external_id, employee_id, lang, state_data, reachable, "
                   "created_at, last_seen_at) SELECT 'line', ?, id, 'zh-TW', '{}', 1, '2024-01-01', '2024-01-01' "
                   "FROM employees WHERE employee_no = ?", (f"Ucli{i}", no))
    db.commit()
    db.close()
    run.url = url  # type: ignore[attr-defined]
    return run


async def _deliver(url: str) -> list[list[str]]:
    fake = await FakeLine().start()
    settings = base_settings(url)
    runtime = await build_app(settings, prepare_db=False)
    client = LineClient("t", fake.url)
    try:
        sender = LineSender(client, Metrics(), sleep=no_sleep)
        at = FrozenClock(datetime(2099, 1, 5, 2, 0, tzinfo=UTC))  # 10:00 in Taipei, the time it was sent for
        deliverer = ChunkDeliverer(runtime.sessions, at, {"line": sender}, runtime.app.deps.notices.render)
        await deliverer.run_once()
    finally:
        await client.close()
        await runtime.close()
        await fake.stop()
    return fake.multicast_accepted


def test_agency_hr_previews_sends_and_reads_the_report(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = f"agency:{HR_AGENCY},gap:mandatory"
    text = "新班「數位思維」開放報名，請把握必修時數"
    code, out, err = cli("broadcast", "preview", "--audience", "all", "--text", text, "--by", "T0005")
    assert code == 1 and "agency:" in err and not any(c.isdigit() for c in err.replace("T0005", ""))
    code, out, err = cli("broadcast", "preview", "--audience", "agency:人事處,colour:red", "--text", text)
    assert code == 2 and err.count("\n") == 1
    code, out, err = cli("broadcast", "preview", "--audience", spec, "--text", text, "--by", "T0005", "--json",
                         "--export-unreachable", str(tmp_path / "gone.csv"))
    assert code == 0, err
    preview = json.loads(out)
    unbound = list(csv.DictReader((tmp_path / "gone.csv").open(encoding="utf-8-sig")))
    assert preview["members"] == preview["people"] + len(unbound) and preview["people"] >= 1
    assert set(preview["by_agency"]) == {HR_AGENCY} and preview["cost"] == preview["by_channel"]["line"]
    assert {r["reason"] for r in unbound} <= {"not_bound"} and "T0003" not in out  # another agency's bound person
    code, out, err = cli("broadcast", "send", "--audience", spec, "--text", text, "--by", "T0005",
                         "--at", "2099-01-05T10:00")
    assert code == 0, err
    broadcast_id = int(out.strip())
    accepted = asyncio.run(_deliver(cli.url))
    assert sorted(u for to in accepted for u in to) == sorted(set(u for to in accepted for u in to))
    code, out, err = cli("broadcast", "report", str(broadcast_id), "--json", "--by", "T0005")
    report = json.loads(out)
    line = preview["by_channel"]["line"]
    assert report["totals"]["sent"] == line == len([u for to in accepted for u in to])
    assert report["totals"]["queued"] == preview["recipients"] - line  # the console's row waits for its chat
    assert report["totals"]["skipped"] == len(unbound) and report["totals"]["failed"] == 0
    xlsx = str(tmp_path / "r.xlsx")
    code, out, err = cli("broadcast", "report", str(broadcast_id), "--format", "xlsx", "--out", xlsx)
    assert code == 0 and (tmp_path / "r.xlsx").stat().st_size > 0
    code, out, err = cli("broadcast", "list", "--json")
    assert [b["id"] for b in json.loads(out)] == [broadcast_id]


def test_schedule_and_cancel(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("broadcast", "send", "--audience", f"agency:{HR_AGENCY}", "--text", "hi", "--by", "T0005",
                         "--at", "2099-01-05T22:30")
    assert code == 1 and "quiet hours" in err
    code, out, err = cli("broadcast", "send", "--audience", f"agency:{HR_AGENCY}", "--text", "hi", "--by", "T0005",
                         "--at", "2099-01-05T10:00", "--json")
    assert code == 0, err
    sent = json.loads(out)
    assert sent["status"] == "scheduled" and sent["chunks"] == 1
    assert cli("broadcast", "cancel", str(sent["id"]), "--by", "T0001")[0] == 1  # not HR
    code, out, err = cli("broadcast", "cancel", str(sent["id"]), "--by", "T0005")
    assert code == 0 and "cancelled" in out
    code, out, err = cli("broadcast", "report", str(sent["id"]), "--json")
    assert json.loads(out)["totals"]["sent"] == 0
