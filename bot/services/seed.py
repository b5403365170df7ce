"""Loading the catalog mirror and the demo data into the database."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CatalogRow, Employee
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


def _parse_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "y", "yes", "true", "是", "主管"}


async def seed_demo(session: AsyncSession, data_dir: Path, *, now: datetime) -> int:
    """Load the sample roster (``data/demo/roster.csv``) as demo employees; idempotent."""
    path = data_dir / DEMO_ROSTER
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if any((v or "").strip() for v in r.values())]
    existing = {e.employee_no for e in (await session.execute(select(Employee))).scalars()}
    added = 0
    for line_no, row in enumerate(rows, start=2):
        try:
            no = row["employee_no"].strip()
            hire = row.get("hire_date", "").strip()
            employee = Employee(
                employee_no=no, name=row["name"].strip(), agency=row.get("agency", "").strip(),
                unit=row.get("unit", "").strip(), rank=row.get("rank", "").strip(),
                is_supervisor=_parse_bool(row.get("is_supervisor", "")), gender=row.get("gender", "").strip(),
                hire_date=date.fromisoformat(hire) if hire else None, email=(row.get("email") or "").strip() or None,
                active=True, is_demo=True, created_at=now, updated_at=now)
        except (KeyError, ValueError) as exc:
            raise DataFileError(f"{path}: line {line_no}: {exc}") from exc
        if no not in existing:
            session.add(employee)
            added += 1
    await session.flush()
    return added
