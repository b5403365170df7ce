"""Loading the catalog mirror and the demo data into the database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.datafiles import DataFileError
from bot.services.classes import Deps

DEMO_ROSTER = Path("demo") / "roster.csv"


async def seed_demo(session: AsyncSession, data_dir: Path, *, now: datetime, deps: Deps) -> int:
    """Load the sample data of ``data/demo/`` (every name marked 範例); idempotent.

    The sample roster goes through the roster importer (without marking anyone inactive, and never
    overwriting a real employee); then sample learning records of every source and the sample HR role.
    Returns how many rows were added (0 the second time).
    """
    from bot.services.accounts import import_roster, load_roster_mapping
    from bot.services.demo.records import seed_demo_records, seed_demo_roles

    path = data_dir / DEMO_ROSTER
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    report = await import_roster(session, path, mapping=load_roster_mapping(data_dir), now=now,
                                 deactivate_missing=False, demo=True)
    if not report.ok:
        raise DataFileError("\n".join(f"{path}: line {e.line}: {e.message}" for e in report.errors))
    added = report.added
    added += await seed_demo_records(session, data_dir, now=now)
    added += await seed_demo_roles(session, data_dir, now=now)
    from bot.services.classes import seed_demo_classes  # sample classes and enrollments (issue 4)
    added += await seed_demo_classes(session, data_dir, now=now, deps=deps)
    return added
