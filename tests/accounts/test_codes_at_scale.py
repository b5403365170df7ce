"""Codes at city scale (issue 15, part 6): hashes made before the transaction, their cost, the progress bar."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.commands.accounts import progress_bar
from bot.config import DEFAULT_DATA_DIR
from bot.services.accounts import load_policy, prepare_codes, verify_code
from bot.services.accounts.binding import hash_code
from tests.conftest import Cli
from tests.imports.conftest import cli, db

__all__ = ["cli", "db"]


def test_prepared_codes_verify_and_older_costs_still_do() -> None:
    policy = load_policy(DEFAULT_DATA_DIR)
    seen: list[tuple[int, int]] = []
    prepared = prepare_codes(300, policy, workers=2, progress=lambda done, total: seen.append((done, total)))
    assert len({code for code, _ in prepared}) == 300 and seen[-1] == (300, 300) and len(seen) == 2
    code, hashed = prepared[7]
    assert hashed.startswith(f"scrypt${policy.scrypt_log2_n}$") and verify_code(code, hashed)
    assert not verify_code(prepared[8][0], hashed)
    older = hash_code(code, policy.model_copy(update={"scrypt_log2_n": 13}))  # issued before the cost changed
    assert verify_code(code, older)


def test_the_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    show = progress_bar("hashing codes")
    show(0, 30_000)
    show(15_000, 30_000)
    err = capsys.readouterr().err
    assert err.startswith("\rhashing codes  [") and err.endswith("] 15000/30000") and "#" * 15 + "." * 15 in err


@pytest.mark.db
def test_codes_are_written_in_short_transactions(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.services.accounts as accounts
    from bot.commands import accounts as commands

    real = accounts.issue_codes
    calls: list[int] = []

    async def second_fails(session: Any, employees: list[Any], **kw: Any) -> Any:
        calls.append(len(employees))
        if len(calls) == 2:
            raise OSError("disk I/O error")  # what SQLite says when its disk fails
        return await real(session, employees, **kw)

    monkeypatch.setattr(commands, "CODES_PER_TRANSACTION", 1)
    monkeypatch.setattr(accounts, "issue_codes", second_fails)
    failed = cli(["admin", "codes", "--agency", "桃園市政府人事處", "--out", "codes.csv"])
    assert failed.returncode == 1 and "after 1 of 3 codes" in failed.stderr and calls == [1, 1]
    lines = (tmp_path / "codes.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2                                          # the header and the one code that works
    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        stored = conn.execute("SELECT count(*) FROM binding_codes b JOIN employees e ON e.id = b.employee_id "
                              "WHERE b.revoked_at IS NULL AND b.used_at IS NULL AND e.employee_no = ?",
                              (lines[1].split(",")[0],)).fetchone()
    assert stored == (1,)
    monkeypatch.setattr(accounts, "issue_codes", real)
    again = cli(["admin", "codes", "--agency", "桃園市政府人事處", "--out", "codes.csv", "--force"])
    assert again.returncode == 0 and "3 code(s)" in again.stdout
