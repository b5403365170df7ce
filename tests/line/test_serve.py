"""``abc-bot serve`` and ``abc-bot line richmenu`` as real processes against the fake LINE API."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.commands.line import cmd_richmenu
from tests.conftest import base_settings
from tests.line import webhooks as wh
from tests.line.fake_line import FakeLine, Recorded
from tests.line.spec import problems

pytestmark = pytest.mark.db  # real processes of the bot, on a database

REPO = Path(__file__).resolve().parents[2]
SPEC = "fixtures/line/messaging-api.yml"


def bot_env(tmp_path: Path, api: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "TELEGRAM_", "DATABASE_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}", LINE_CHANNEL_SECRET=wh.SECRET,
               LINE_CHANNEL_ACCESS_TOKEN=wh.TOKEN, LINE_API_BASE_URL=api, LOG_LEVEL="INFO")
    return env


def actions(reply: Recorded) -> dict[str, str]:
    """Every button of a reply request: label (and display text) → postback data."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "postback":
                found[node["displayText"]] = node["data"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(reply.json["messages"])
    return found


async def test_conversation_through_abc_bot_serve_then_sigterm(tmp_path: Path, shared_dir: Path) -> None:
    fake = await FakeLine().start()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--port", "0", cwd=tmp_path, env=bot_env(tmp_path, fake.url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    log: list[str] = []
    try:
        assert proc.stderr is not None
        port = None
        while port is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
            assert line, "serve exited: " + "".join(log)
            log.append(line)
            if match := re.search(r"listening on http://127\.0\.0\.1:(\d+)", line):
                port = int(match.group(1))
        url = f"http://127.0.0.1:{port}/webhooks/line"
        user = wh.user_id("serve")
        async with aiohttp.ClientSession() as http:

            async def say(event: dict[str, Any]) -> Recorded:
                raw = wh.body(event)
                before = len(fake.sent("reply"))
                async with http.post(url, data=raw, headers={"X-Line-Signature": wh.sign(raw)}) as response:
                    assert response.status == 200
                replies = await fake.wait_for(before + 1, "reply")
                assert replies[-1].json["replyToken"] == event["replyToken"]
                assert problems(shared_dir / SPEC, replies[-1].path, replies[-1].json) == []
                return replies[-1]

            welcome = await say(wh.follow(user))
            assert "育才ABC學習小幫手" in json.dumps(welcome.json, ensure_ascii=False)
            tracks = await say(wh.text(user, "課程"))
            track_a = await say(wh.postback(user, actions(tracks)["A｜打磨必備職能"]))
            category = await say(wh.postback(user, actions(track_a)["專業職能訓練"]))
            assert [m["type"] for m in category.json["messages"]] == ["text", "flex"]
            detail_button = next(data for label, data in actions(category).items() if data.startswith("i|"))
            detail = await say(wh.postback(user, detail_button))
            assert detail.json["messages"][0]["type"] == "text" and "quickReply" in detail.json["messages"][-1]
            event = wh.text(user, "時間管理")
            search = await say(event)
            assert "我要成為時間管理大師" in json.dumps(search.json, ensure_ascii=False)
            # LINE redelivers the last event: acknowledged, not answered again
            again = {**event, "deliveryContext": {"isRedelivery": True}}
            raw = wh.body(again)
            async with http.post(url, data=raw, headers={"X-Line-Signature": wh.sign(raw)}) as response:
                assert response.status == 200
            await say(wh.text(user, "help"))  # one user's events run in order: the duplicate was seen first
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                page = await response.text()
            assert 'abc_line_events_handled_total{type="message",result="duplicate"} 1' in page
            assert [r.json["replyToken"] for r in fake.sent("reply")].count(event["replyToken"]) == 1
        proc.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(proc.communicate(), 30)
        log.append(rest.decode())
        assert proc.returncode == 0, "".join(log)
        text = "".join(log)
        assert "stopped in" in text
        assert "Traceback" not in text and "was destroyed but it is pending" not in text
        assert "時間管理" not in text, "message text must never be logged"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.stop()


async def test_serve_without_credentials_says_what_is_missing(tmp_path: Path) -> None:
    env = bot_env(tmp_path, "http://127.0.0.1:9")
    del env["LINE_CHANNEL_ACCESS_TOKEN"]
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and b"LINE_CHANNEL_ACCESS_TOKEN" in err


async def test_richmenu_dry_run_calls_nothing(tmp_path: Path) -> None:
    env = bot_env(tmp_path, "http://127.0.0.1:9")  # nothing listens there
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "line", "richmenu", "--dry-run",
                                                cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "would create this rich menu" in text and '"data": "t|A"' in text and "image/png" in text


async def test_richmenu_creates_uploads_and_sets_the_default(fake: FakeLine, sqlite_url: str,
                                                              capsys: pytest.CaptureFixture[str],
                                                              shared_dir: Path) -> None:
    settings = replace(base_settings(sqlite_url), line_channel_access_token=wh.TOKEN, line_api_base_url=fake.url)
    args = argparse.Namespace(dry_run=False)
    assert await cmd_richmenu(args, settings) == 0
    assert await cmd_richmenu(args, settings) == 0  # again: the older menu of ours is deleted
    [menu] = fake.rich_menus.values()
    assert fake.default_rich_menu == menu["richMenuId"]
    assert menu["image"].startswith(b"\x89PNG") and len(menu["image"]) < 1024 * 1024
    upload = next(r for r in fake.requests if r.path.endswith("/content"))
    assert upload.headers["Content-Type"] == "image/png"
    create = next(r for r in fake.requests if r.path == "/v2/bot/richmenu")
    assert problems(shared_dir / SPEC, "/v2/bot/richmenu", create.json) == []
    assert [a["action"]["data"] for a in create.json["areas"]] == ["t|A", "t|B", "t|C", "hr", "me", "h"]
    assert "set as default" in capsys.readouterr().out
