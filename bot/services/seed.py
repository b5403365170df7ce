"""Loading the catalog mirror and the demo data into the database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CatalogRow
from bot.services.catalog import Catalog, DataFileError

DEMO_ROSTER = Path("demo") / "roster.csv"


async def sync_catalog(session: AsyncSession, catalog: Catalog, *, now: datetime) -> int:
    """Upsert every catalog item of the plan year into ``catalog_items``; return how many changed."""
    existing = {r.code: r for r in (await session.execute(
        select(CatalogRow).where(CatalogRow.plan_year == catalog.year))).scalars()}
    changed = 0
    for item in catalog:
        values = {"kind": item.kind, "title": item.title, "title_en": item.title_en, "track": item.track_id,
                  "category": item.category_id, "series": item.series_id, "bucket": item.bucket}
        row = existing.get(item.id)
        if row is None:
            session.add(CatalogRow(plan_year=catalog.year, code=item.id, updated_at=now, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.updated_at = now
            changed += 1
    await session.flush()
    return changed


async def seed_demo(session: AsyncSession, data_dir: Path, *, now: datetime) -> int:
    """Load the sample data of ``data/demo/`` (every name marked 範例); idempotent.

    The sample roster goes through the roster importer (without marking anyone inactive, and never
    overwriting a real employee); then sample learning records of every source and the sample HR role.
    Returns how many rows were added (0 the second time).
    """
    from bot.services.demo import seed_demo_records, seed_demo_roles
    from bot.services.roster import import_roster, load_roster_mapping

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
    from bot.services.class_import import seed_demo_classes  # sample classes and enrollments (issue 4)
    added += await seed_demo_classes(session, data_dir, now=now)
    return added
