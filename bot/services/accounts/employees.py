"""Employees: look them up by number or id, and (for the trusted console) bind the local chat user."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.channel_accounts import get_or_create_account
from bot.db.models.core import ChannelAccount, Employee
from bot.services.accounts.roles import Scope


async def find_employee(session: AsyncSession, employee_no: str) -> Employee | None:
    """Look an employee up by employee number."""
    return (await session.execute(select(Employee).where(Employee.employee_no == employee_no))).scalar_one_or_none()


async def bind_console_account(session: AsyncSession, employee_no: str, *, lang: str,
                               now: datetime) -> ChannelAccount:
    """Bind the local console user to an employee (the terminal is a trusted, local channel)."""
    account = await get_or_create_account(session, "console", employee_no, lang=lang, now=now)
    employee = await find_employee(session, employee_no)
    if employee is not None and account.employee_id != employee.id:
        account.employee_id = employee.id
        account.employee = employee
        account.bound_at = now
    return account


async def employees_by_number(session: AsyncSession, numbers: Iterable[str], *,
                              within: Scope | None = None) -> dict[str, Employee]:
    """The employees among ``numbers`` that are on the roster, by employee number.

    ``within``: only those of the agencies an HR scope covers (everyone for the city), so that nobody
    outside it is even read: an HR command then answers "not found" and "not yours" the same way.
    """
    stmt = select(Employee).where(Employee.employee_no.in_(list(numbers)))
    if within is not None and not within.city:
        stmt = stmt.where(Employee.agency.in_(sorted(within.agencies)))
    return {e.employee_no: e for e in (await session.execute(stmt)).scalars()}


async def with_chat_account(session: AsyncSession, employee_ids: Iterable[int]) -> set[int]:
    """Those of ``employee_ids`` with a bound chat account (someone a notice can reach)."""
    wanted = list(employee_ids)
    rows = await session.execute(select(ChannelAccount.employee_id).where(ChannelAccount.employee_id.in_(wanted)))
    return {int(i) for i in rows.scalars() if i is not None}


async def employee_by_id(session: AsyncSession, employee_id: int) -> Employee | None:
    """An employee by database id, or None."""
    return await session.get(Employee, employee_id)
