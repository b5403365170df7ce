"""Review findings in imports, outputs and binding: each test fails without its fix."""

from __future__ import annotations

import asyncio
import contextlib
import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.db.channel_accounts import get_or_create_account
from bot.db.models.accounts import BindingAttempt
from bot.services.accounts import BindResult, attempt_bind, binding, load_policy
from bot.services.common import ImportFileError, excel_safe, parse_employee_no, read_table
from tests.accounts.test_cli import Cli, cli  # noqa: F401  (the fixture)

# ------------------------------------------------------------------------------------ reading files


def test_damaged_or_odd_files_are_refused_with_a_reason_not_a_traceback(tmp_path: Path) -> None:
    damaged_bom = tmp_path / "bom.csv"
    damaged_bom.write_bytes(b"\xef\xbb\xbfa,b\n\xff\xfe\xfd,1\n")        # says UTF-8, is not
    with pytest.raises(ImportFileError, match="damaged at byte 7"):
        read_table(damaged_bom)
    odd_utf16 = tmp_path / "u16.csv"
    odd_utf16.write_bytes("a,b\n1,2\n".encode("utf-16") + b"\x0a")      # a stray byte at the end
    with pytest.raises(ImportFileError, match="UTF-16"):
        read_table(odd_utf16)
    huge_cell = tmp_path / "huge.csv"
    huge_cell.write_bytes(b"a,b\n1,2\n" + b"x" * 200_000 + b",1\n")      # over the csv module's cell limit
    with pytest.raises(ImportFileError, match="line 3"):
        read_table(huge_cell)


# ------------------------------------------------------------------------------------ CSV injection


def test_excel_safe_neutralises_formulas_but_keeps_numbers_and_text() -> None:
    assert excel_safe('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert [excel_safe(v) for v in ("+1+2", "-2+A1", "@SUM(A1)", "\tx")] == ["'+1+2", "'-2+A1", "'@SUM(A1)", "'\tx"]
    assert [excel_safe(v) for v in ("-1.5", "20", "-", "王小明", "")] == ["-1.5", "20", "-", "王小明", ""]


EVIL = '=HYPERLINK("http://evil.example","看這裡")'
ROSTER = ("員工編號,姓名,機關,單位\n"
          f'E1,"{EVIL.replace(chr(34), chr(34) * 2)}",@機關,+單位\n'
          "E2,李小華,桃園市政府工務局,-\n")


def test_report_and_codes_files_do_not_carry_formulas_from_the_roster(tmp_path: Path, cli: Cli) -> None:  # noqa: F811
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    assert cli(["import", "roster", "roster.csv"]).returncode == 0
    assert cli(["report", "hours", "--out", "r.csv"]).returncode == 0
    with (tmp_path / "r.csv").open(encoding="utf-8-sig") as fh:
        rows = {r[0]: r for r in csv.reader(fh)}
    assert rows["E1"][1:4] == ["'" + EVIL, "'@機關", "'+單位"]
    assert rows["E2"][1:4] == ["李小華", "桃園市政府工務局", "-"]
    with (tmp_path / "r.agencies.csv").open(encoding="utf-8-sig") as fh:
        assert "'@機關" in [r[0] for r in csv.reader(fh)]

    assert cli(["admin", "codes", "--all", "--out", "codes.csv"]).returncode == 0
    with (tmp_path / "codes.csv").open(encoding="utf-8-sig") as fh:
        codes = {r[0]: r for r in csv.reader(fh)}
    assert codes["E1"][1:4] == ["'" + EVIL, "'@機關", "'+單位"]

    from openpyxl import load_workbook

    assert cli(["report", "hours", "--format", "xlsx", "--out", "r.xlsx"]).returncode == 0
    sheet = load_workbook(tmp_path / "r.xlsx").worksheets[0]
    name = next(row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == "E1")
    assert name.value == EVIL and name.data_type == "s"                 # text, not a formula


# ------------------------------------------------------------------------------------ binding


async def _bind(app: Runtime, user: str, employee_no: str) -> BindResult:
    policy = load_policy(app.settings.data_dir)
    now = app.clock.now()
    async with app.sessions.begin() as s:
        account = await get_or_create_account(s, "line", user, lang="zh-TW", now=now)
        return (await attempt_bind(s, account, employee_no, "ABCD-EFGH", policy=policy, now=now)).result


async def _failures(app: Runtime, **where: str) -> int:
    async with app.sessions() as s:
        stmt = select(func.count()).select_from(BindingAttempt).where(BindingAttempt.succeeded.is_(False))
        for column, value in where.items():
            stmt = stmt.where(getattr(BindingAttempt, column) == value)
        return int((await s.execute(stmt)).scalar_one())


async def test_two_attempts_of_one_chat_user_at_once_cannot_pass_the_limit_together(
        app: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = load_policy(app.settings.data_dir).max_failures_per_user
    for n in range(limit - 1):
        assert await _bind(app, "U-racer", f"X{n:04d}") is BindResult.WRONG
    # Two server processes get the last two guesses at the same moment. The first attempt to have
    # counted the failures waits (briefly) for the other to count too, as two processes would overlap;
    # an attempt that holds the account's lock keeps the other from counting, so the wait runs out.
    counted: list[int] = []
    both_counted = asyncio.Event()
    real_lock_status = binding.lock_status

    async def overlapping(*args: Any, **kwargs: Any) -> int:
        wait = await real_lock_status(*args, **kwargs)
        counted.append(wait)
        if len(counted) == 2:
            both_counted.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both_counted.wait(), 0.3)
        return wait

    monkeypatch.setattr(binding, "lock_status", overlapping)
    results = await asyncio.gather(_bind(app, "U-racer", "Y0001"), _bind(app, "U-racer", "Y0002"))
    assert sorted(r.value for r in results) == ["locked", "wrong"]
    assert await _failures(app, external_id="U-racer") == limit


async def test_a_national_id_typed_as_the_employee_number_is_never_stored(app: Runtime) -> None:
    for typed in ("A123456789", "f234567890", "AB12345678"):             # ID, lower case, old resident number
        assert await _bind(app, "U-id", typed) is BindResult.WRONG
    async with app.sessions() as s:
        stored = list((await s.execute(select(BindingAttempt.employee_no))).scalars())
    assert stored == ["", "", ""]                                        # the attempt counts, the number is gone
    with pytest.raises(ValueError, match="national ID"):
        parse_employee_no("ＡＢ12345678")                                 # the roster refuses it too
