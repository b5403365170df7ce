"""Accounts: HR roles, one-time binding codes, binding attempts (for the brute-force limit), admin audit.

A chat user id alone is not an identity: a LINE or Telegram account is bound to an employee only with
a one-time code that HR issued for that employee (stored hashed), and failed attempts are counted in
the database so the limit holds across processes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

ROLES = ("agency_hr", "city_admin")


class EmployeeRole(Base):
    """An HR role of an employee: ``agency_hr`` for one agency (``agency``) or ``city_admin`` (everything).

    Every employee is implicitly an ordinary employee; only HR roles are rows.
    """

    __tablename__ = "employee_roles"
    __table_args__ = (
        UniqueConstraint("employee_id", "role", "agency"),
        CheckConstraint("role IN ('agency_hr','city_admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str] = mapped_column(String(100), default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by: Mapped[str] = mapped_column(String(64), default="cli")


class BindingCode(Base):
    """A one-time code that lets one employee bind one chat account; only its scrypt hash is stored."""

    __tablename__ = "binding_codes"
    __table_args__ = (Index("ix_binding_codes_employee_open", "employee_id", "used_at", "revoked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(200))
    batch: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BindingAttempt(Base):
    """One try to bind (right or wrong), by chat user and by the employee number typed."""

    __tablename__ = "binding_attempts"
    __table_args__ = (
        Index("ix_binding_attempts_user", "channel", "external_id", "at"),
        Index("ix_binding_attempts_employee_no", "employee_no", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    employee_no: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class AdminAudit(Base):
    """An admin action or refusal (chat or command line): who, what, on what, allowed or not."""

    __tablename__ = "admin_audit"
    __table_args__ = (Index("ix_admin_audit_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    actor_employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    allowed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(200), default="")
