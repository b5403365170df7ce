"""``abc-bot broadcast``: the contract's flags, exit codes and JSON, delivery, the report (SQLite, in process)."""

from __future__ import annotations

import asyncio
import csv
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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
    assert report["by_agency"][HR_AGENCY]["skipped"] == len(unbound)  # the unbound, in their agency's row too
    assert report["by_agency"][HR_AGENCY]["sent"] == line
    xlsx = str(tmp_path / "r.xlsx")
    code, out, err = cli("broadcast", "report", str(broadcast_id), "--format", "xlsx", "--out", xlsx)
    assert code == 0 and (tmp_path / "r.xlsx").stat().st_size > 0
    code, out, err = cli("broadcast", "list", "--json")
    assert [b["id"] for b in json.loads(out)] == [broadcast_id]
    sent_at = datetime.fromisoformat(json.loads(out)[0]["send_at"]).astimezone(ZoneInfo("Asia/Taipei"))
    code, out, err = cli("broadcast", "list")
    assert code == 0 and sent_at.strftime("%Y-%m-%d %H:%M+08:00") in out     # HR reads Taipei time, zone written
    assert "by T0005" in out                                                 # the officer, by employee number


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


def test_a_link_button_and_a_picture_from_the_command_line(cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.certificates.images import encoded

    spec, text = f"agency:{HR_AGENCY}", "新班「數位思維」開放報名"
    poster = tmp_path / "poster.png"
    poster.write_bytes(encoded("PNG"))
    link = ["--link", "https://elearn.example.tw/c/1", "--link-label", "報名網頁"]
    code, out, err = cli("broadcast", "preview", "--audience", spec, "--text", text, *link, "--image", str(poster))
    assert code == 2 and "PUBLIC_BASE_URL" in err and err.count("\n") == 1  # LINE fetches it from our address
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://bot.example.tw")
    monkeypatch.setenv("MEDIA_URL_SECRET", "s" * 32)
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    for bad, says in ((["--link", "http://elearn.example.tw"], "https://"),
                      (["--link", "https://h/x", "--link-label", "報名" * 11], "20"),
                      (["--image", str(tmp_path / "missing.png")], "cannot be read"),
                      (["--image", "http://h/a.png"], "https://"),
                      (["--image", "https://127.0.0.1:9/poster.png"], "could not be fetched")):  # nothing listens
        code, out, err = cli("broadcast", "preview", "--audience", spec, "--text", text, *bad)
        assert code == 2 and says in err, (bad, err)
    code, out, err = cli("broadcast", "preview", "--audience", spec, "--text", text, *link,
                         "--image", str(poster), "--json")
    assert code == 0, err
    preview = json.loads(out)
    assert preview["message_objects"] == 2 and preview["cost"] == 2 * preview["by_channel"]["line"]
    assert preview["link"] == {"url": "https://elearn.example.tw/c/1", "label": "報名網頁"}
    assert preview["image"]["url"].startswith("https://bot.example.tw/media/announcements/")
    assert not (tmp_path / "media").exists()  # a preview keeps nothing
    code, out, err = cli("broadcast", "preview", "--audience", spec, "--text", text, *link, "--image", str(poster))
    assert "link button: 報名網頁 → https://elearn.example.tw/c/1" in out and "image: https://bot." in out
    code, out, err = cli("broadcast", "send", "--audience", spec, "--text", text, *link, "--image", str(poster),
                         "--by", "T0005", "--at", "2099-01-05T10:00")
    assert code == 0, err
    assert len(list((tmp_path / "media" / "announcements").rglob("*.jpg"))) == 2  # the picture and its preview
    fake_bodies = asyncio.run(_deliver_bodies(cli.url))
    [body] = fake_bodies
    card, image = body["messages"]
    assert card["contents"]["footer"]["contents"][0]["action"]["uri"] == "https://elearn.example.tw/c/1"
    assert image["originalContentUrl"] == preview["image"]["url"]
    assert image["previewImageUrl"] == preview["image"]["preview_url"]


async def _deliver_bodies(url: str) -> list[dict[str, object]]:
    fake = await FakeLine().start()
    runtime = await build_app(base_settings(url), prepare_db=False)
    client = LineClient("t", fake.url)
    try:
        at = FrozenClock(datetime(2099, 1, 5, 2, 0, tzinfo=UTC))
        await ChunkDeliverer(runtime.sessions, at, {"line": LineSender(client, Metrics(), sleep=no_sleep)},
                             runtime.app.deps.notices.render).run_once()
    finally:
        await client.close()
        await runtime.close()
        await fake.stop()
    return [r.json for r in fake.sent("multicast")]


def test_an_agency_written_short_is_the_one_it_names_and_an_unknown_one_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    # found by trying the --help example: agency:人事處 said "0 people", exit 0, and would have sent to nobody
    code, out, _ = cli("broadcast", "preview", "--audience", "agency:人事處,gap:mandatory", "--text", "hi", "--json")
    assert code == 0 and json.loads(out)["audience"] == f"agency:{HR_AGENCY},gap:mandatory"
    code, _, err = cli("broadcast", "preview", "--audience", "agency:交通局", "--text", "hi")
    assert code == 2 and "交通局" in err and HR_AGENCY in err               # the city admin is told the real names
    code, _, err = cli("broadcast", "preview", "--audience", "agency:局", "--text", "hi")
    assert code == 2 and "環境保護局" in err and "青年事務局" in err         # two agencies: which one?
    code, _, by_officer = cli("broadcast", "preview", "--audience", "agency:交通局", "--text", "hi", "--by", "T0005")
    code2, _, existing = cli("broadcast", "preview", "--audience", "agency:環境保護局", "--text", "hi", "--by", "T0005")
    assert code == code2 == 1 and by_officer == existing                  # an officer learns nothing of others
    code, out, _ = cli("broadcast", "preview", "--audience", "agency:人事處", "--text", "hi", "--by", "T0005")
    assert code == 0 and HR_AGENCY in out
