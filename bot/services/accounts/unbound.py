"""Who has not bound a chat account yet, per agency: HR's list of whom to hand a binding code to.

Active employees only; an employee counts as bound when some channel account (LINE or another) is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import ChannelAccount, Employee


@dataclass(frozen=True)
class UnboundEmployee:
    """One active employee without a bound chat account."""

    employee_no: str
    name: str
    agency: str
    unit: str


@dataclass
class AgencyBinding:
    """Binding counts of one agency (the city's total has agency "")."""

    agency: str
    active: int = 0
    bound: int = 0

    @property
    def unbound(self) -> int:
        """Active employees of the agency not bound yet."""
        return self.active - self.bound

    @property
    def rate(self) -> Fraction | None:
        """Share bound."""
        return Fraction(self.bound, self.active) if self.active else None


@dataclass
class UnboundReport:
    """The whole report: agencies (fewest bound first) and the unbound employees (by agency, number)."""

    as_of: date
    agencies: list[AgencyBinding] = field(default_factory=list)
    total: AgencyBinding = field(default_factory=lambda: AgencyBinding(agency=""))
    unbound: list[UnboundEmployee] = field(default_factory=list)


async def build_unbound(session: AsyncSession, *, today: date,
                        agencies: frozenset[str] | None = None) -> UnboundReport:
    """Compute the report for the active employees of ``agencies`` (None: the whole city)."""
    bound = exists().where(ChannelAccount.employee_id == Employee.id)
    stmt = (select(Employee.employee_no, Employee.name, Employee.agency, Employee.unit, bound)
            .where(Employee.active.is_(True)).order_by(Employee.agency, Employee.employee_no))
    if agencies is not None:
        stmt = stmt.where(Employee.agency.in_(agencies))
    report = UnboundReport(as_of=today)
    per_agency: dict[str, AgencyBinding] = {}
    for no, name, agency, unit, is_bound in (await session.execute(stmt)).all():
        for target in (per_agency.setdefault(agency, AgencyBinding(agency)), report.total):
            target.active += 1
            target.bound += bool(is_bound)
        if not is_bound:
            report.unbound.append(UnboundEmployee(no, name, agency, unit))
    report.agencies = sorted(per_agency.values(), key=lambda a: (a.rate or 0, a.agency))
    return report


def unbound_json(report: UnboundReport) -> dict[str, object]:
    """The ``--json`` object of ``abc-bot report unbound`` (docs/cli.md)."""
    return {"as_of": report.as_of.isoformat(),
            "total": {"active": report.total.active, "bound": report.total.bound, "unbound": report.total.unbound},
            "agencies": [{"agency": a.agency, "active": a.active, "bound": a.bound, "unbound": a.unbound}
                         for a in report.agencies],
            "unbound": [{"employee_no": e.employee_no, "name": e.name, "agency": e.agency, "unit": e.unit}
                        for e in report.unbound]}
