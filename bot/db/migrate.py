"""Apply Alembic migrations programmatically (no alembic.ini needed).

Alembic (with Mako and Pygments behind it, about a fifth of a start's imports) is imported only when
the schema has to change: :func:`head_revisions` reads the revision ids from the revision files
themselves, and :func:`current_revisions` asks the database, so a start on a current schema never
loads it.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Migrate the database to ``revision`` (default: every head)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


def _current(connection: Connection) -> set[str]:
    if not inspect(connection).has_table("alembic_version"):
        return set()
    rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return {r[0] for r in rows}


async def current_revisions(engine: AsyncEngine) -> set[str]:
    """The revisions the database is at (empty for a new database)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def _declared(path: Path) -> tuple[str, tuple[str, ...]]:
    """A revision file's ``revision`` and its ``down_revision`` ids, read from the module's literals.

    Alembic's template writes each as one line at the top level (``down_revision: str | … = '0008'``);
    only those lines are evaluated (as literals), which is much cheaper than parsing the whole module.
    """
    found: dict[str, object] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split(":", 1)[0].split("=", 1)[0].strip()
        if name in ("revision", "down_revision") and not line[:1].isspace() and "=" in line:
            found[name] = ast.literal_eval(line.split("=", 1)[1].strip())
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str):
        raise ValueError(f"{path}: no literal revision id")
    downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)  # type: ignore[arg-type]
    return revision, tuple(str(d) for d in downs)


def head_revisions() -> set[str]:
    """The newest revision of every migration branch: those no other revision names as its ``down_revision``.

    Read from the revision files' lines that declare them (about a millisecond) rather than by Alembic, which imports
    every revision module; ``tests/test_db.py`` checks that both say the same.
    """
    try:
        declared = [_declared(path) for path in sorted(VERSIONS_DIR.glob("*.py"))]
    except (ValueError, SyntaxError):  # a file written otherwise (a tuple over several lines): ask Alembic
        return alembic_heads()
    parents = {down for _, downs in declared for down in downs}
    return {revision for revision, _ in declared if revision not in parents}


def alembic_heads() -> set[str]:
    """Alembic's own answer to :func:`head_revisions` (imports Alembic and every revision module)."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())
