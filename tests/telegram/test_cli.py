"""``abc-bot telegram setup`` and ``abc-bot telegram poll`` as real processes against the fake Bot API."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from tests.telegram import updates as up
from tests.telegram.fake_telegram import TOKEN, FakeTelegram
from tests.test_cli import REPO, cli_env

pytestmark = pytest.mark.db  # real processes of the bot

URL = "https://bot.example.org/webhooks/telegram"


async def run(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, cwd=REPO,
                                                env=cli_env(tmp_path, **env), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, error = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), error.decode()


def tg_env(fake: FakeTelegram, **extra: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": up.SECRET, "TELEGRAM_API_BASE_URL": fake.url,
            **extra}


async def test_setup_sets_the_webhook_and_the_commands_in_both_languages(tmp_path: Path, fake: FakeTelegram) -> None:
    code, out, error = await run(tmp_path, "telegram", "setup", "--url", URL, **tg_env(fake))
    assert code == 0, error
    [hook] = fake.sent("setWebhook")
    assert hook.params["url"] == URL and hook.params["secret_token"] == up.SECRET
    assert hook.params["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    menus = fake.sent("setMyCommands")
    assert [m.params.get("language_code") for m in menus] == ["zh", "en", None]
    zh = {c["command"]: c["description"] for c in menus[0].params["commands"]}
    en = {c["command"]: c["description"] for c in menus[1].params["commands"]}
    assert zh["hours"] == "查詢我的學習時數" and en["hours"] == "My learning hours" and "zh" in en and "en" in zh
    assert "webhook set" in out


async def test_setup_refuses_bad_settings_and_reports_a_refusal(tmp_path: Path, fake: FakeTelegram) -> None:
    code, _, error = await run(tmp_path, "telegram", "setup", "--url", "http://plain.example.org/x", **tg_env(fake))
    assert code == 2 and "https" in error
    code, _, error = await run(tmp_path, "telegram", "setup", "--url", URL,
                               **tg_env(fake, TELEGRAM_WEBHOOK_SECRET="has spaces!"))
    assert code == 2 and "TELEGRAM_WEBHOOK_SECRET" in error
    fake.fail("setWebhook", 400)
    code, _, error = await run(tmp_path, "telegram", "setup", "--url", URL, **tg_env(fake))
    assert code == 1 and "refused" in error
    code, out, _ = await run(tmp_path, "telegram", "setup", "--url", URL, "--dry-run")
    assert code == 0 and "would set the webhook" in out  # no credentials needed to look


async def test_poll_answers_updates_by_long_polling_and_stops_on_sigterm(tmp_path: Path, fake: FakeTelegram) -> None:
    answered = asyncio.Event()
    fake.on_send = lambda chat: answered.set() if chat == 9001 else None
    fake.push_update(up.text(9001, "/start"))
    env = cli_env(tmp_path, **tg_env(fake))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "telegram", "poll", cwd=REPO, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await asyncio.wait_for(answered.wait(), 90)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, error = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, error.decode()
    methods = [c.method for c in fake.calls]
    assert methods.index("deleteWebhook") < methods.index("sendMessage")
    assert "育才ABC學習小幫手" in fake.sent("sendMessage", 9001)[0].text
