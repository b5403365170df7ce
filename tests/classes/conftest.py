"""Helpers for the classes tests: build classes through the real importer, add many employees fast."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select

from bot.bootstrap import Runtime
from bot.db.models.classes import Enrollment, TrainingClass
from bot.db.models.core import Employee, OutboxMessage
from bot.services.classes import (
    ClassesFile,
    ClassImportReport,
    Deps,
    EnrollResult,
    Fairness,
    enroll,
    import_classes,
)

TEST_AGENCY = "桃園市政府測試局（範例）"


MORNING = (("2024-03-20", "09:00", "12:00"),)


def spec(code: str, *, course: str = "B1-3-1", capacity: int = 20, opens: str = "2024-02-20",
         closes: str = "2024-03-10 17:00", meetings: tuple[tuple[str, str, str], ...] = MORNING,
         status: str = "open", hours: str = "3", mode: str = "專班", **extra: Any) -> dict[str, Any]:
    """One class in the classes-file shape (defaults: 20 seats, registration open at the test clock)."""
    return {"code": code, "course": course, "capacity": capacity, "mode": mode, "hours": hours,
            "place": "測試教室（範例）", "status": status,
            "registration": {"opens": opens, "closes": closes},
            "meetings": [{"date": d, "start": s, "end": e} for d, s, e in meetings], **extra}


def classes_file(*specs: dict[str, Any], today: date | None = None) -> ClassesFile:
    """A validated classes file of plan year 113."""
    return ClassesFile.model_validate({"plan_year": 113, "classes": list(specs)}, context={"today": today})


def deps(app: Runtime, *, cap: int | None = None, period: str = "quarter") -> Deps:
    """The app's enrollment dependencies, optionally with another fairness cap."""
    base = app.app.deps
    if cap is None:
        settings = base.settings.model_copy(update={"fairness": Fairness(max_active_per_period=None)})
    else:
        settings = base.settings.model_copy(update={"fairness": Fairness(max_active_per_period=cap,
                                                                         period=period)})  # type: ignore[arg-type]
    return replace(base, settings=settings)


async def add_classes(app: Runtime, *specs: dict[str, Any]) -> ClassImportReport:
    """Import classes through the real importer, in one transaction."""
    async with app.sessions.begin() as s:
        return await import_classes(s, classes_file(*specs), settings=app.app.enrollment, deps=app.app.deps,
                                    now=app.clock.now(), batch="test", source="test")


async def class_id(app: Runtime, code: str) -> int:
    """The id of a class by code."""
    async with app.sessions() as s:
        return int((await s.execute(select(TrainingClass.id).where(TrainingClass.code == code))).scalar_one())


async def add_people(app: Runtime, n: int, *, prefix: str = "P", agency: str = TEST_AGENCY, rank: str = "薦任",
                     start: int = 1) -> list[int]:
    """Insert ``n`` employees (genders alternate F, M) in one statement; returns their ids in order."""
    now = app.clock.now()
    rows = [{"employee_no": f"{prefix}{i:04d}", "name": f"測試員{i}（範例）", "agency": agency, "unit": "",
             "rank": rank, "is_supervisor": False, "gender": "FM"[i % 2], "hire_date": date(2020, 1, 1),
             "email": None, "active": True, "is_demo": True, "created_at": now, "updated_at": now}
            for i in range(start, start + n)]
    async with app.sessions.begin() as s:
        ids = (await s.execute(insert(Employee).returning(Employee.id), rows)).scalars().all()
    return sorted(int(i) for i in ids)


async def employee(app: Runtime, employee_id: int) -> Employee:
    """One employee, loaded in a session of its own."""
    async with app.sessions() as s:
        return (await s.execute(select(Employee).where(Employee.id == employee_id))).scalar_one()


async def enroll_as(app: Runtime, cls_id: int, employee_id: int, *, d: Deps | None = None) -> EnrollResult:
    """One enrollment attempt in its own transaction (as one chat message would be)."""
    async with app.sessions.begin() as s:
        person = (await s.execute(select(Employee).where(Employee.id == employee_id))).scalar_one()
        return await enroll(s, cls_id, person, now=app.clock.now(), deps=d or deps(app))


@dataclass(frozen=True)
class Seats:
    """A class's counters and rows, read back from the database."""

    taken: int
    capacity: int
    over_capacity: int
    enrolled: list[int]
    waitlisted: list[int]
    waitlist_seq: list[int]
    rows_per_person: int


async def seats(app: Runtime, cls_id: int) -> Seats:
    """Counters and rows of a class (enrolled employee ids; waitlisted ids in queue order)."""
    async with app.sessions() as s:
        cls = (await s.execute(select(TrainingClass).where(TrainingClass.id == cls_id)
                               .execution_options(populate_existing=True))).scalar_one()
        rows = (await s.execute(select(Enrollment).where(Enrollment.class_id == cls_id)
                                .order_by(Enrollment.seq))).scalars().all()
        most = (await s.execute(select(func.count()).select_from(Enrollment).where(Enrollment.class_id == cls_id)
                                .group_by(Enrollment.employee_id).order_by(func.count().desc()).limit(1))).scalar()
    return Seats(taken=cls.taken, capacity=cls.capacity, over_capacity=cls.over_capacity,
                 enrolled=[r.employee_id for r in rows if r.status == "enrolled"],
                 waitlisted=[r.employee_id for r in rows if r.status == "waitlisted"],
                 waitlist_seq=[r.seq for r in rows if r.status == "waitlisted"], rows_per_person=int(most or 0))


async def outbox_texts(app: Runtime, prefix: str = "") -> list[tuple[str, str]]:
    """(dedupe key, first reply text) of every outbox row whose key starts with ``prefix``."""
    async with app.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(prefix))
                                .order_by(OutboxMessage.id))).scalars().all()
    return [(r.dedupe_key, str(r.payload[0]["text"])) for r in rows]
