"""Developer tool: write a new Alembic revision by comparing the models with a migrated scratch database.

Usage: .venv/bin/python tools/new_migration.py REV_ID "message"
"""

import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from bot.db.migrate import alembic_config


def main() -> None:
    """Migrate a scratch SQLite database to the heads, then autogenerate the difference."""
    rev_id, message = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'scratch.sqlite3'}")
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":
    main()
