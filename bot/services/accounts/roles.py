"""Roles: employee (everyone), agency HR (their agency), city HR admin (everything); and the admin audit.

Roles are granted on the command line (``abc-bot admin grant``). Every admin action in chat asks
:func:`authorize`, which records the decision in ``admin_audit`` and logs a refusal (ids only, no
personal data); the handler then answers a refusal politely.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.accounts import ROLES, AdminAudit, EmployeeRole
from bot.db.models.core import Employee

log = logging.getLogger(__name__)

AGENCY_HR = "agency_hr"
CITY_ADMIN = "city_admin"


@dataclass(frozen=True)
class Scope:
    """What an employee may administer: everything (``city``) or some agencies."""

    city: bool = False
    agencies: frozenset[str] = frozenset()

    @property
    def is_hr(self) -> bool:
        """True for agency HR or city admin."""
        return self.city or bool(self.agencies)

    def covers(self, agency: str | None) -> bool:
        """Whether this scope may see ``agency`` (None = the whole city)."""
        if self.city:
            return True
        return agency is not None and agency in self.agencies


NO_SCOPE = Scope()


async def scope_of(session: AsyncSession, employee: Employee | None) -> Scope:
    """The admin scope of an employee (an inactive or missing employee has none)."""
    if employee is None or not employee.active:
        return NO_SCOPE
    rows = (await session.execute(select(EmployeeRole.role, EmployeeRole.agency).where(
        EmployeeRole.employee_id == employee.id))).all()
    return Scope(city=any(r[0] == CITY_ADMIN for r in rows),
                 agencies=frozenset(r[1] for r in rows if r[0] == AGENCY_HR))


async def record(session: AsyncSession, *, actor: str, actor_employee_id: int | None, action: str,
                 target: str, allowed: bool, now: datetime, detail: str = "") -> None:
    """Write one line of the admin audit."""
    session.add(AdminAudit(at=now, actor=actor[:64], actor_employee_id=actor_employee_id, action=action[:64],
                           target=target[:200], allowed=allowed, detail=detail[:200]))
    await session.flush()


async def authorize(session: AsyncSession, employee: Employee | None, *, action: str, agency: str | None,
                    target: str, actor: str, now: datetime) -> bool:
    """Whether ``employee`` may do ``action`` on something of ``agency`` (None = city-wide); audited.

    Args:
        session: the open transaction.
        employee: who asks (None for an unbound chat user).
        action: a short action name, e.g. ``hours.view_other``.
        agency: the agency the target belongs to; None for city-wide actions.
        target: what the action is on (an employee number, an agency), for the audit.
        actor: the channel and account, e.g. ``line:42``.
        now: the current time.
    """
    allowed = (await scope_of(session, employee)).covers(agency)
    await record(session, actor=actor, actor_employee_id=employee.id if employee else None, action=action,
                 target=target, allowed=allowed, now=now)
    if not allowed:
        log.warning("admin action refused action=%s actor=%s", action, actor)
    return allowed


async def grant(session: AsyncSession, employee: Employee, role: str, agency: str, *, now: datetime,
                by: str = "cli") -> bool:
    """Grant a role (agency HR needs an agency; city admin has none); False when it was already there.

    Raises:
        ValueError: an unknown role, or agency HR without an agency.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if role == AGENCY_HR and not agency:
        raise ValueError("agency_hr needs an agency")
    if role == CITY_ADMIN:
        agency = ""
    existing = (await session.execute(select(EmployeeRole.id).where(
        EmployeeRole.employee_id == employee.id, EmployeeRole.role == role,
        EmployeeRole.agency == agency))).scalar_one_or_none()
    if existing is not None:
        return False
    session.add(EmployeeRole(employee_id=employee.id, role=role, agency=agency, granted_at=now, granted_by=by))
    await record(session, actor=by, actor_employee_id=None, action="roles.grant", target=employee.employee_no,
                 allowed=True, now=now, detail=f"{role} {agency}".strip())
    return True


async def revoke(session: AsyncSession, employee: Employee, role: str, agency: str | None, *, now: datetime,
                 by: str = "cli") -> int:
    """Revoke a role (every agency of it when ``agency`` is None); returns how many grants were removed."""
    stmt = delete(EmployeeRole).where(EmployeeRole.employee_id == employee.id, EmployeeRole.role == role)
    if agency is not None and role == AGENCY_HR:
        stmt = stmt.where(EmployeeRole.agency == agency)
    result = await session.execute(stmt)
    removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        await record(session, actor=by, actor_employee_id=None, action="roles.revoke",
                     target=employee.employee_no, allowed=True, now=now, detail=f"{role} {agency or ''}".strip())
    return removed


async def list_roles(session: AsyncSession) -> list[tuple[Employee, EmployeeRole]]:
    """Every grant with its employee, by employee number."""
    rows = (await session.execute(select(Employee, EmployeeRole).join(
        EmployeeRole, EmployeeRole.employee_id == Employee.id).order_by(
        Employee.employee_no, EmployeeRole.role, EmployeeRole.agency))).all()
    return [(emp, role) for emp, role in rows]
