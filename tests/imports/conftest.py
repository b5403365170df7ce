"""HR's bulk changes across the features: batches and their undo, import safety, the held-out HR files.

The CLI tests here run ``bot.cli.main`` in this process on a SQLite file with the demo data (``cli``), which
:func:`dump` reads with ``sqlite3``'s own ``iterdump`` to prove an undo byte-identical.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.accounts.conftest import write_file
from tests.conftest import Cli

__all__ = ["cli", "db", "dump", "put", "query", "write_file"]

RECORDED_ELSEWHERE = ("admin_audit", "import_batches", "import_changes", "sqlite_sequence")
"""Where an undo records itself, left out of the dumps that must be equal; and SQLite's id counters
(``sqlite_sequence``), which on purpose never go back, so that no id of an undone row is handed out again."""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The SQLite file of the CLI tests."""
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def cli(db: Path, cli_for: Callable[[str], Cli]) -> Cli:
    """``abc-bot ARGS`` in this process on :func:`db`, with the demo data loaded."""
    run = cli_for(f"sqlite:///{db}")
    assert run(["db", "seed", "--demo"]).returncode == 0
    return run


def dump(db: Path) -> list[str]:
    """The database as SQL text, but for the audit and the batch tables (where the undo itself is recorded)."""
    with sqlite3.connect(db) as conn:
        return [line for line in conn.iterdump()
                if not any(f'INSERT INTO "{t}"' in line or f"INSERT INTO {t} " in line for t in RECORDED_ELSEWHERE)]


def put(folder: Path, name: str, text: str, encoding: str = "utf-8") -> None:
    """Write a file as HR would save it (``encoding``: ``utf-8-sig`` for Excel's "CSV UTF-8", ``cp950`` for Big5)."""
    (folder / name).write_text(text, encoding=encoding)


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of one SQL query on the SQLite file."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()
