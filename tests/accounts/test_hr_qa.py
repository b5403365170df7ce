"""What a city HR officer's year on the command line found in the accounts and hours commands.

Each test runs ``abc-bot`` in this process (``bot.cli.main``) on a fresh database, SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.engine import create_engine
from bot.db.models.accounts import BindingCode

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def db_url(demo_db_url: str) -> str:
    """Here the fresh database already holds the demo data, as ``abc-bot db seed --demo`` on 113-03-01 leaves it.

    (A copy of the run's demo template instead of seeding through the command in every test; the
    command itself is tested in tests/test_cli.py.)
    """
    return demo_db_url


@pytest.fixture
def cli(db_url: str, cli_for: Callable[[str], Callable[[list[str]], subprocess.CompletedProcess[str]]],
        monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``abc-bot ARGS`` against a fresh database with the demo roster (cwd ``tmp_path``), as on 113-03-01."""
    in_process = cli_for(db_url)
    monkeypatch.setenv("DEMO_TODAY", "2024-03-01")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return in_process(list(args))

    return run


async def _codes(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(BindingCode))).scalar_one())
    finally:
        await engine.dispose()


def test_report_to_a_missing_folder_says_so_without_a_traceback(cli: Cli) -> None:
    done = cli("report", "hours", "--out", "no-such-folder/hours.csv")
    assert done.returncode == 1
    assert "abc-bot: cannot write no-such-folder/hours.csv: No such file or directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_agency_not_on_the_roster_is_refused_not_an_empty_file(cli: Cli, tmp_path: Path) -> None:
    typo = "桃園市政府人事处"                                   # simplified 处: not the roster's 人事處
    report = cli("report", "hours", "--agency", typo, "--out", "hours.csv")
    assert report.returncode == 1 and f"no employee of agency '{typo}'" in report.stderr
    assert "桃園市政府人事處" in report.stderr                  # the agencies that do exist are named
    assert not (tmp_path / "hours.csv").exists()
    codes = cli("admin", "codes", "--agency", typo, "--out", "codes.csv")
    assert codes.returncode == 1 and not (tmp_path / "codes.csv").exists()
    good = cli("report", "hours", "--agency", "桃園市政府人事處", "--out", "hours.csv")
    assert good.returncode == 0 and (tmp_path / "hours.csv").exists()


def test_codes_that_cannot_be_written_are_not_issued(cli: Cli, db_url: str) -> None:
    first = cli("admin", "codes", "--employee", "T0001", "--out", "codes.csv")
    assert first.returncode == 0, first.stderr
    before = asyncio.run(_codes(db_url))
    failed = cli("admin", "codes", "--employee", "T0001", "--out", "missing/codes.csv")
    assert failed.returncode == 1 and "no codes issued" in failed.stderr and "Traceback" not in failed.stderr
    assert asyncio.run(_codes(db_url)) == before                    # rolled back: the code in codes.csv still works


def test_force_makes_an_existing_codes_file_private(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("old\n", encoding="utf-8")
    os.chmod(path, 0o644)
    done = cli("admin", "codes", "--employee", "T0002", "--out", "codes.csv", "--force")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_hours_table_reads_in_roc_dates_with_the_reason_in_words(cli: Cli) -> None:
    done = cli("hours", "T0005")                             # demo: forfeited for leave over 1/3
    assert done.returncode == 0, done.stderr
    forfeited = next(line for line in done.stdout.splitlines() if "NOT COUNTED" in line)
    assert "NOT COUNTED: 請假超過課程時數的規定比例" in forfeited
    assert "hours.forfeit" not in done.stdout
    records = [line for line in done.stdout.splitlines() if line.startswith("    ")]
    assert records and all(line.split()[0].startswith("113年") for line in records)
