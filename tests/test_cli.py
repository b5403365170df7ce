"""The command line, end to end, through real processes (console chat, search, catalog, db)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CLI_ENV_PREFIXES

pytestmark = pytest.mark.db  # real processes of the bot, most on a database: not in the fast tier

REPO = Path(__file__).resolve().parent.parent


def cli_env(tmp_path: Path, **env: str) -> dict[str, str]:
    """The environment of a CLI process: the developer's, less what would change what a test sees."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(CLI_ENV_PREFIXES)}
    environment.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
                        "LOG_FILE": str(tmp_path / "abc-bot.log"), **env})
    return environment


def abc_bot(args: list[str], tmp_path: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=tmp_path, env=cli_env(tmp_path, **env), timeout=120, check=False)


def test_chat_json_contract_on_an_empty_database(tmp_path: Path) -> None:
    lines = ["1", "help", "1", "1", "時間管理", "1", "99", "xyzzy", "English", "power bi"]
    result = abc_bot(["chat", "--json"], tmp_path, "\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["input"] for o in objects] == lines  # exactly one object per input line
    assert [o["intent"] for o in objects] == [
        "unknown", "help", "browse", "browse", "search", "course", "unknown", "unknown", "help", "search"]
    assert objects[0]["replies"][0]["text"] == "沒有編號 1 的選項。"  # a number before any button was shown
    objects = objects[1:]
    for o in objects:
        for reply in o["replies"]:
            assert reply["type"] in {"text", "cards", "confirm"} and isinstance(reply["text"], str)
            for choice in reply.get("choices", []):
                assert choice["label"]
    assert objects[0]["replies"][1]["choices"][0]["label"] == "瀏覽課程"
    assert "我要成為時間管理大師" in objects[4]["replies"][0]["text"]
    assert "Data Visualization" in json.dumps(objects[8], ensure_ascii=False)


def test_chat_as_a_user_and_language_flag(tmp_path: Path) -> None:
    result = abc_bot(["chat", "--user", "T0002", "--lang", "en"], tmp_path, "help\n")
    assert result.returncode == 0, result.stderr
    assert "Hello 示範員工乙（範例）" in result.stdout and "[1] Browse courses" in result.stdout


def test_unknown_employee_chats_unbound(tmp_path: Path) -> None:
    result = abc_bot(["chat", "--user", "NOBODY", "--json"], tmp_path, "時數\n")
    assert result.returncode == 0
    assert "not on the roster" in result.stderr
    assert json.loads(result.stdout)["intent"] == "hours"
    assert "綁定" in result.stdout


def test_run_without_credentials_is_the_console(tmp_path: Path) -> None:
    result = abc_bot(["run"], tmp_path, "help\n")
    assert result.returncode == 0, result.stderr
    assert "[1] 瀏覽課程" in result.stdout
    assert (tmp_path / "cli.sqlite3").exists()


@pytest.mark.parametrize("command", [["chat", "--user", "NOBODY"], ["run"]])
def test_console_chat_logs_to_its_file_not_into_the_conversation(tmp_path: Path, command: list[str]) -> None:
    # A wrong linking code logs "WARNING bot.services.accounts.binding: binding failed …": not on the terminal.
    result = abc_bot(command, tmp_path, "綁定 T0001 AAAA-BBBB\nhelp\n", LOG_LEVEL="INFO",
                     LOG_FILE=str(tmp_path / "logs" / "chat.log"), DEMO_EMPLOYEE_NO="NOBODY")
    assert result.returncode == 0, result.stderr
    # an unbound user's menu starts with the link button (issue 10)
    assert "綁定碼不正確" in result.stdout and "[1] 綁定帳號" in result.stdout and "[2] 瀏覽課程" in result.stdout
    assert result.stderr == "note: employee NOBODY is not on the roster; chatting as an unbound user\n"
    assert "WARNING" not in result.stdout and "INFO" not in result.stdout
    log = (tmp_path / "logs" / "chat.log").read_text(encoding="utf-8")
    assert "WARNING bot.services.accounts.binding: binding failed account=" in log
    assert "INFO bot.bootstrap: migrating database" in log  # LOG_LEVEL still sets the level
    assert "AAAA-BBBB" not in log and "T0001" not in log  # no message bodies


def test_console_chat_refuses_a_log_file_it_cannot_write(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    result = abc_bot(["chat"], tmp_path, "help\n", LOG_FILE=str(tmp_path / "not-a-folder" / "chat.log"))
    assert result.returncode == 2
    assert result.stderr.startswith("abc-bot: configuration error: cannot write the log file (LOG_FILE)")
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(("args", "stdin"), [(["hours", "T0001"], ""), (["catalog", "--json"], ""),
                                           (["search", "python"], ""), (["chat"], "help\n")])
def test_a_reader_that_closes_early_ends_the_output_quietly(tmp_path: Path, args: list[str], stdin: str) -> None:
    # `abc-bot hours T0001 | head -1`, made deterministic: the reader has gone before the first write.
    assert abc_bot(["db", "seed", "--demo"], tmp_path).returncode == 0
    read_end, write_end = os.pipe()
    with subprocess.Popen([sys.executable, "-m", "bot", *args], stdin=subprocess.PIPE, stdout=write_end,
                          stderr=subprocess.PIPE, cwd=tmp_path, env=cli_env(tmp_path)) as proc:
        os.close(write_end)
        os.close(read_end)
        _, err = proc.communicate(stdin.encode(), timeout=120)
    assert proc.returncode == 141, err.decode()
    assert err.decode() == ""  # no traceback, no "Exception ignored … BrokenPipeError"


def test_search_json_one_line_per_query(tmp_path: Path) -> None:
    result = abc_bot(["search", "--json", "--limit", "2", "python", "区块链", "颱風假"], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in rows] == ["python", "区块链", "颱風假"]
    assert rows[0]["results"][0]["id"] == "B1-3-1"
    assert set(rows[0]["results"][0]) == {"id", "title", "title_en", "score"}
    assert len(rows[1]["results"]) == 2 and rows[2]["results"] == []
    assert not (tmp_path / "cli.sqlite3").exists()  # search needs no database


def test_catalog_json(tmp_path: Path) -> None:
    result = abc_bot(["catalog", "--json"], tmp_path)
    rows = json.loads(result.stdout)
    assert {"id", "title", "title_en", "track", "category", "series", "audience", "topics",
            "description"} <= set(rows[0])
    assert any(r["title"] == "勞基法實務案例探討" and r["series"] == "法規保健防身術系列" for r in rows)


def test_db_upgrade_then_seed_demo(tmp_path: Path) -> None:
    up = abc_bot(["db", "upgrade"], tmp_path)
    assert up.returncode == 0 and "up to date" in up.stdout, up.stderr
    seed = abc_bot(["db", "seed", "--demo"], tmp_path)
    assert seed.returncode == 0 and "demo data loaded" in seed.stdout


def test_bad_data_file_fails_loudly(tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    (data / "plans" / "113" / "catalog.yaml").write_text("plan: {year: 113}\ntracks: []\n", encoding="utf-8")
    result = abc_bot(["chat"], tmp_path, "help\n", ABC_DATA_DIR=str(data))
    assert result.returncode == 2
    assert "catalog.yaml" in result.stderr and "plan.title" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("env", [{"PLAN_YEAR": "abc"}, {"DEFAULT_LANG": "fr"}, {"DEMO_TODAY": "tomorrow"}])
def test_bad_settings_fail_with_a_message(tmp_path: Path, env: dict[str, str]) -> None:
    result = abc_bot(["check-data"], tmp_path, **env)
    assert result.returncode == 2 and "configuration error" in result.stderr


def test_demo_today_moves_the_console_clock(tmp_path: Path) -> None:
    result = abc_bot(["chat", "--json"], tmp_path, "我還差幾小時\n", DEMO_TODAY="2024-03-01")
    assert result.returncode == 0, result.stderr
    assert "runs as on 2024-03-01" in result.stderr
    text = json.loads(result.stdout)["replies"][0]["text"]
    assert "113年3月1日" in text and "113年9月30日截止，還有 213 天" in text


def test_bad_demo_today_is_a_configuration_error(tmp_path: Path) -> None:
    result = abc_bot(["check-data"], tmp_path, DEMO_TODAY="3/1")
    assert result.returncode == 2 and "DEMO_TODAY" in result.stderr


@pytest.mark.parametrize(("relative", "content", "named"), [
    ("plans/113/enrollment.yaml", "year: 113\nbogus_key: 1\n", "enrollment.yaml"),
    ("accounts.yaml", "binding: {code_length: many}\n", "accounts.yaml"),
    ("imports/hours.yaml", "- not a mapping\n", "hours.yaml"),
])
def test_feature_data_files_are_checked_at_start(tmp_path: Path, relative: str, content: str, named: str) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    (data / relative).write_text(content, encoding="utf-8")
    result = abc_bot(["check-data"], tmp_path, ABC_DATA_DIR=str(data))
    assert result.returncode == 2, result.stdout
    assert named in result.stderr and "Traceback" not in result.stderr


def test_hr_commands_never_fill_an_empty_database_with_sample_people(tmp_path: Path) -> None:
    import sqlite3

    report = abc_bot(["report", "class", "NOPE"], tmp_path)
    assert report.returncode != 0
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM catalog_items").fetchone()[0] > 0  # migrated and loaded
        assert db.execute("SELECT count(*) FROM employees").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM classes").fetchone()[0] == 0


def test_db_seed_demo_follows_demo_today(tmp_path: Path) -> None:
    seed = abc_bot(["db", "seed", "--demo"], tmp_path, DEMO_TODAY="2024-03-01")
    assert seed.returncode == 0, seed.stderr
    chat = abc_bot(["chat", "--json"], tmp_path, "我的報名\n", DEMO_TODAY="2024-03-01")
    assert "113年3月" in chat.stdout and "115年" not in chat.stdout


@pytest.mark.parametrize(("env", "message"), [
    ({}, "no channel is configured; set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN"
     " or TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET"),
    ({"LINE_CHANNEL_SECRET": "s"}, "set both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN (or neither)"),
])
def test_serve_without_a_whole_channel_exits_2(tmp_path: Path, env: dict[str, str], message: str) -> None:
    result = abc_bot(["serve", "--port", "0"], tmp_path, **env)
    assert result.returncode == 2 and f"abc-bot serve: {message}" in result.stderr
    assert not (tmp_path / "cli.sqlite3").exists()  # refused before touching the database
