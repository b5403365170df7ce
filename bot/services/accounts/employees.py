"""Employees: look them up by number or id, and (for the trusted console) bind the local chat user."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.channel_accounts import get_or_create_account
from bot.db.models.core import ChannelAccount, Employee


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


async def employees_by_number(session: AsyncSession, numbers: Iterable[str]) -> dict[str, Employee]:
    """The employees among ``numbers`` that are on the roster, by employee number."""
    wanted = list(numbers)
    rows = (await session.execute(select(Employee).where(Employee.employee_no.in_(wanted)))).scalars()
    return {e.employee_no: e for e in rows}


async def employee_by_id(session: AsyncSession, employee_id: int) -> Employee | None:
    """An employee by database id, or None."""
    return await session.get(Employee, employee_id)
