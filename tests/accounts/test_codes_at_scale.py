"""Codes at city scale (issue 15, part 6): hashes made before the transaction, their cost, the progress bar."""

from __future__ import annotations

import pytest

from bot.commands.accounts import progress_bar
from bot.config import DEFAULT_DATA_DIR
from bot.services.accounts import load_policy, prepare_codes, verify_code
from bot.services.accounts.binding import hash_code


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
