"""Helpers for the accounts and hours tests: the plan's rules, files written as HR writes them, table snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.config import DEFAULT_DATA_DIR
from bot.services.catalog import RulesFile, load_rules


@pytest.fixture(scope="session")
def rules() -> RulesFile:
    """The 113 plan rules from data/."""
    return load_rules(DEFAULT_DATA_DIR, 113)


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """Write text to a file in the encoding given (``utf-8-sig`` = Excel's "CSV UTF-8", ``cp950`` = Big5)."""

    def write(name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
        path = tmp_path / name
        path.write_bytes(text.replace("\n", newline).encode(encoding))
        return path

    return write


async def snapshot(app: Runtime, model: Any) -> list[tuple[Any, ...]]:
    """Every row of a table, every column, in primary-key order (to prove an import changed nothing)."""
    cols = list(model.__table__.columns)
    async with app.sessions() as s:
        rows = (await s.execute(select(*cols).order_by(*model.__table__.primary_key.columns))).all()
    return [tuple(r) for r in rows]
