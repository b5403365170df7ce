"""The catalog mirror: the plan's items as rows that other tables can refer to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import CatalogRow
from bot.services.catalog.items import Catalog


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
