"""Sample learning records and HR role for the demo employees (``data/demo/``, every title marked 範例).

The records cover every source the hours view explains (portal, HR, our classes with attendance,
including one whose hours were forfeited), so ``make run`` shows the whole view for T0001.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.datafiles import DataFileError
from bot.dates import roc_year
from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord
from bot.services.accounts import grant
from bot.services.common import parse_bool, parse_date, parse_hours

DEMO_RECORDS = Path("demo") / "learning_records.csv"
DEMO_ROLES = Path("demo") / "roles.csv"


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return [(i, {k: (v or "").strip() for k, v in row.items()}) for i, row in enumerate(reader, start=2)
                if any((v or "").strip() for v in row.values())]


async def _demo_employees(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(select(Employee.employee_no, Employee.id).where(Employee.is_demo.is_(True)))).all()
    return {no: emp_id for no, emp_id in rows}


async def seed_demo_records(session: AsyncSession, data_dir: Path, *, now: datetime) -> int:
    """Add the sample records of demo employees that are not there yet; returns how many were added."""
    path = data_dir / DEMO_RECORDS
    employees = await _demo_employees(session)
    added = 0
    for line, row in _rows(path):
        emp_id = employees.get(row["employee_no"])
        if emp_id is None:
            continue
        try:
            on = parse_date(row["date"])
            hours = parse_hours(row["hours"])
            credited = parse_bool(row["credited"])
        except (KeyError, ValueError) as exc:
            raise DataFileError(f"{path}: line {line}: {exc}") from None
        key = "demo:" + hashlib.sha256(f"{row['employee_no']}|{row['title']}|{on}".encode()).hexdigest()[:32]
        exists = (await session.execute(select(LearningRecord.id).where(
            LearningRecord.natural_key == key))).scalar_one_or_none()
        if exists is not None:
            continue
        session.add(LearningRecord(
            employee_id=emp_id, plan_year=roc_year(on.year), occurred_on=on, title=row["title"],
            course_code=row.get("course_code") or None, hours=hours, bucket=row["bucket"], mode=row.get("mode", ""),
            source=row["source"], natural_key=key, credited=credited,
            forfeit_reason=row.get("forfeit_reason") or None, enrollment_id=None, import_batch="demo",
            created_at=now))
        added += 1
    await session.flush()
    return added


async def seed_demo_roles(session: AsyncSession, data_dir: Path, *, now: datetime) -> int:
    """Grant the sample HR roles to demo employees; returns how many were new."""
    employees = {e.employee_no: e for e in (await session.execute(
        select(Employee).where(Employee.is_demo.is_(True)))).scalars()}
    added = 0
    for _line, row in _rows(data_dir / DEMO_ROLES):
        emp = employees.get(row["employee_no"])
        if emp is not None and await grant(session, emp, row["role"], row.get("agency", ""), now=now, by="demo"):
            added += 1
    return added
