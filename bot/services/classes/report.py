"""``abc-bot report class CLASS_ID``: a class's roster with the plan's fairness figures (捌.一).

For HR: who has a seat and who waits (in order), the gender and agency split of the seat holders,
and for each trainee how many other classes of the same plan year they already took (classes that
started before this one, where they had a seat and were not marked absent), so concentration on a
few people shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import TAIPEI
from bot.db.models.classes import Enrollment, TrainingClass
from bot.db.models.core import Employee
from bot.services.catalog import Catalog
from bot.services.classes.transitions import ACTIVE
from bot.services.hours import format_hours


@dataclass(frozen=True)
class RosterLine:
    """One person on the class's roster."""

    employee_no: str
    name: str
    agency: str
    unit: str
    gender: str
    status: str
    position: int | None
    classes_taken_this_year: int


@dataclass(frozen=True)
class ClassReport:
    """The whole report."""

    id: int
    code: str
    course: str
    title: str
    name: str
    status: str
    starts_at: str
    hours: str
    capacity: int
    enrolled: int
    waitlisted: int
    roster: list[RosterLine]
    gender: dict[str, int]
    agencies: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape (docs/cli.md)."""
        return asdict(self)

    def lines(self) -> list[str]:
        """The report as text."""
        out = [f"class {self.code} (#{self.id}): {self.title}{'｜' + self.name if self.name else ''}",
               f"  starts {self.starts_at} (Taipei), {self.hours} h, status {self.status}, capacity {self.capacity}, "
               f"enrolled {self.enrolled}, waitlisted {self.waitlisted}",
               "  roster (status, employee no, name, agency, gender, other classes taken this year):"]
        for r in self.roster:
            status = f"waitlist #{r.position}" if r.status == "waitlisted" else r.status
            out.append(f"    {status:<12} {r.employee_no:<10} {r.name}  {r.agency}  {r.gender or '-'}  "
                       f"{r.classes_taken_this_year}")
        if not self.roster:
            out.append("    (nobody)")
        out.append("  gender of those enrolled: " + (", ".join(f"{k or '-'} {v}" for k, v in self.gender.items())
                                                     or "-"))
        out.append("  agencies of those enrolled: " + (", ".join(f"{k or '-'} {v}" for k, v in self.agencies.items())
                                                       or "-"))
        return out


async def class_report(session: AsyncSession, cls: TrainingClass, catalog: Catalog) -> ClassReport:
    """Build the report of one class."""
    rows = (await session.execute(
        select(Enrollment, Employee).join(Employee, Employee.id == Enrollment.employee_id)
        .where(Enrollment.class_id == cls.id, Enrollment.status.in_(ACTIVE))
        .order_by(Enrollment.status, Enrollment.seq))).all()
    people = [person.id for _row, person in rows]
    taken: dict[int, int] = {}
    if people:
        other = TrainingClass.__table__.alias("other")
        counted = (await session.execute(
            select(Enrollment.employee_id, func.count())
            .join(other, other.c.id == Enrollment.class_id)
            .where(Enrollment.employee_id.in_(people), Enrollment.status == "enrolled",
                   or_(Enrollment.attendance.is_(None), Enrollment.attendance != "absent"),
                   other.c.id != cls.id, other.c.plan_year == cls.plan_year,
                   other.c.status != "cancelled", other.c.starts_at < cls.starts_at)
            .group_by(Enrollment.employee_id))).all()
        taken = {employee_id: count for employee_id, count in counted}
    roster: list[RosterLine] = []
    position = 0
    for row, person in sorted(rows, key=lambda r: (r[0].status != "enrolled", r[0].seq)):
        if row.status == "waitlisted":
            position += 1
        roster.append(RosterLine(person.employee_no, person.name, person.agency, person.unit, person.gender,
                                 row.status, position if row.status == "waitlisted" else None,
                                 taken.get(person.id, 0)))
    seated = [r for r in roster if r.status == "enrolled"]
    item = catalog.get(cls.course_code)
    return ClassReport(
        id=cls.id, code=cls.code, course=cls.course_code, title=item.title if item else cls.course_code,
        name=cls.name, status=cls.status, starts_at=cls.starts_at.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M"),
        hours=format_hours(cls.hours), capacity=cls.capacity, enrolled=len(seated),
        waitlisted=len(roster) - len(seated), roster=roster,
        gender=dict(sorted(Counter(r.gender for r in seated).items())),
        agencies=dict(Counter(r.agency for r in seated).most_common()))

