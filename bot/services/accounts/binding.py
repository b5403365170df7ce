"""Binding a chat account to an employee with a one-time code, and the brute-force limit.

HR issues codes (:func:`issue_codes`); only an scrypt hash with a per-code salt is stored. An employee
gives their employee number and code (:func:`attempt_bind`): the code is checked in constant time and
spent atomically. Failed attempts are rows in ``binding_attempts``, counted over a sliding window per
chat account and per employee number, so the limit holds across processes and restarts. A wrong code
never says whether the number or the code was wrong.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import logging
import math
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.datafiles import read_yaml, validate_file
from bot.db.models.accounts import BindingAttempt, BindingCode
from bot.db.models.core import ChannelAccount, Employee
from bot.services.common import NATIONAL_ID

log = logging.getLogger(__name__)

POLICY_FILE = "accounts.yaml"
_SCRYPT_R, _SCRYPT_P, _DKLEN = 8, 1, 32


class BindingPolicy(BaseModel):
    """``binding`` in ``data/accounts.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code_alphabet: str = Field(min_length=10)
    code_length: int = Field(ge=6, le=16)
    code_group: int = Field(ge=0, le=16)
    valid_days: int = Field(ge=1, le=365)
    window_minutes: int = Field(ge=1)
    max_failures_per_user: int = Field(ge=1)
    max_failures_per_employee: int = Field(ge=1)
    flow_timeout_minutes: int = Field(ge=1)
    scrypt_log2_n: int = Field(ge=10, le=20)

    @model_validator(mode="after")
    def _alphabet(self) -> BindingPolicy:
        if len(set(self.code_alphabet)) != len(self.code_alphabet) or not re.fullmatch(r"[A-Z0-9]+",
                                                                                        self.code_alphabet):
            raise ValueError("code_alphabet must be distinct upper-case letters and digits")
        return self


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    binding: BindingPolicy


def load_policy(data_dir: Path) -> BindingPolicy:
    """Load and validate ``data/accounts.yaml`` (the app loads it once at start-up: ``app.binding``).

    Raises:
        DataFileError: missing or invalid (file and key named).
    """
    path = data_dir / POLICY_FILE
    return validate_file(_PolicyFile, read_yaml(path), path).binding


# ---------------------------------------------------------------------------------------------- codes


def new_code(policy: BindingPolicy) -> str:
    """A fresh random code (``secrets``), without separators."""
    return "".join(secrets.choice(policy.code_alphabet) for _ in range(policy.code_length))


def format_code(code: str, policy: BindingPolicy) -> str:
    """A code as printed for people: ``K7PM-3QXA``."""
    if policy.code_group <= 0:
        return code
    return "-".join(code[i:i + policy.code_group] for i in range(0, len(code), policy.code_group))


def normalize_code(text: str) -> str:
    """A code as typed → its canonical form: full-width to ASCII, upper case, no spaces or dashes."""
    text = unicodedata.normalize("NFKC", text).upper()
    return re.sub(r"[\s\-_.—–－]+", "", text)


def hash_code(code: str, policy: BindingPolicy) -> str:
    """``scrypt$<log2 n>$<salt>$<hash>`` (base64) with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(code, salt, policy.scrypt_log2_n)
    return "$".join(("scrypt", str(policy.scrypt_log2_n), base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()))


def _scrypt(code: str, salt: bytes, log2_n: int) -> bytes:
    return hashlib.scrypt(code.encode(), salt=salt, n=1 << log2_n, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_DKLEN,
                          maxmem=256 * 1024 * 1024)


def verify_code(code: str, stored: str) -> bool:
    """Whether ``code`` matches a stored hash (constant-time comparison)."""
    try:
        scheme, log2_n, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        return hmac.compare_digest(_scrypt(code, salt, int(log2_n)), digest)
    except (ValueError, TypeError):
        return False


@dataclass(frozen=True)
class IssuedCode:
    """A code just issued (the only moment its plain text exists)."""

    employee: Employee
    code: str
    expires_at: datetime


Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as codes are hashed (for a progress bar)."""


def prepare_codes(count: int, policy: BindingPolicy, *, workers: int = 2,
                  progress: Progress | None = None) -> list[tuple[str, str]]:
    """``count`` fresh codes with their hashes, computed before any transaction opens (the slow part).

    ``hashlib.scrypt`` releases the GIL, so ``workers`` threads use that many cores.
    """
    from concurrent.futures import ThreadPoolExecutor

    codes = [new_code(policy) for _ in range(count)]
    out: list[tuple[str, str]] = []
    step = 256
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for start in range(0, count, step):
            chunk = codes[start:start + step]
            out += zip(chunk, pool.map(lambda c: hash_code(c, policy), chunk), strict=True)
            if progress is not None:
                progress(len(out), count)
    return out


async def issue_codes(session: AsyncSession, employees: list[Employee], *, policy: BindingPolicy, now: datetime,
                      batch: str, prepared: list[tuple[str, str]] | None = None) -> list[IssuedCode]:
    """Issue one new code per employee; their older unused codes are revoked (one valid code each).

    ``prepared``: codes and hashes from :func:`prepare_codes` (one per employee), so that the transaction
    only writes: for 30,000 employees it then holds SQLite's write lock for a second or so, not minutes.
    """
    if not employees:
        return []
    if prepared is None:
        prepared = prepare_codes(len(employees), policy, workers=1)
    if len(prepared) != len(employees):
        raise ValueError("one prepared code per employee")
    expires = now + timedelta(days=policy.valid_days)
    ids = [e.id for e in employees]
    for start in range(0, len(ids), 500):
        await session.execute(update(BindingCode).where(
            BindingCode.employee_id.in_(ids[start:start + 500]), BindingCode.used_at.is_(None),
            BindingCode.revoked_at.is_(None)).values(revoked_at=now))
    rows = [{"employee_id": emp.id, "code_hash": hashed, "batch": batch, "created_at": now, "expires_at": expires,
             "used_at": None, "used_by_account_id": None, "revoked_at": None}
            for emp, (_code, hashed) in zip(employees, prepared, strict=True)]
    for start in range(0, len(rows), 1000):
        await session.execute(insert(BindingCode), rows[start:start + 1000])
    return [IssuedCode(emp, code, expires) for emp, (code, _hashed) in zip(employees, prepared, strict=True)]


# ---------------------------------------------------------------------------------------------- binding


class BindResult(enum.Enum):
    """How a binding attempt ended."""

    BOUND = "bound"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class BindOutcome:
    """How an attempt ended.

    Holds the employee when bound, how many other accounts of that channel were unbound, and for a lock
    the minutes until the next try is allowed.
    """

    result: BindResult
    employee: Employee | None = None
    replaced: int = 0
    retry_after_minutes: int = 0


async def _failures(session: AsyncSession, since: datetime, *conditions: Any) -> tuple[int, datetime | None]:
    row = (await session.execute(select(func.count(), func.min(BindingAttempt.at)).where(
        BindingAttempt.succeeded.is_(False), BindingAttempt.at > since, *conditions))).one()
    return int(row[0]), row[1]


async def lock_status(session: AsyncSession, channel: str, external_id: str, employee_no: str, *,
                      policy: BindingPolicy, now: datetime) -> int:
    """0 when another attempt is allowed, else the minutes until it is (per chat user, per employee number)."""
    since = now - timedelta(minutes=policy.window_minutes)
    waits: list[datetime] = []
    n_user, first_user = await _failures(session, since, BindingAttempt.channel == channel,
                                         BindingAttempt.external_id == external_id)
    if n_user >= policy.max_failures_per_user and first_user is not None:
        waits.append(first_user)
    if employee_no:
        n_emp, first_emp = await _failures(session, since, BindingAttempt.employee_no == employee_no)
        if n_emp >= policy.max_failures_per_employee and first_emp is not None:
            waits.append(first_emp)
    if not waits:
        return 0
    free_at = min(waits) + timedelta(minutes=policy.window_minutes)
    return max(1, math.ceil((free_at - now).total_seconds() / 60))


async def attempt_bind(session: AsyncSession, account: ChannelAccount, employee_no: str, code_text: str, *,
                       policy: BindingPolicy, now: datetime) -> BindOutcome:
    """Try to bind ``account`` to the employee ``employee_no`` with a one-time code.

    Locked (too many recent failures for this chat account or this employee number): nothing is checked.
    Otherwise the code is checked against the employee's open codes in constant time; a right code is
    spent (exactly once, even when two chats race), the account is bound, and the employee's other
    accounts on the same channel are unbound (one account per channel per employee). Every attempt that
    was checked is recorded.
    """
    employee_no = employee_no.strip().upper()[:32]
    if NATIONAL_ID.match(employee_no):  # never stored, not even as a failed attempt
        employee_no = ""
    # Serialise attempts of one chat account, so that two at once (two server processes) cannot both
    # pass the limit: this no-op UPDATE takes the account's row lock on PostgreSQL and the database's
    # write lock on SQLite (whose FOR UPDATE is a no-op) before anything is counted.
    await session.execute(update(ChannelAccount).where(ChannelAccount.id == account.id)
                          .values(reachable=ChannelAccount.reachable)
                          .execution_options(synchronize_session=False))
    # Serialise attempts on one employee (PostgreSQL row lock; SQLite holds the write lock already).
    employee = (await session.execute(select(Employee).where(Employee.employee_no == employee_no)
                                      .with_for_update())).scalar_one_or_none()
    wait = await lock_status(session, account.channel, account.external_id, employee_no, policy=policy, now=now)
    if wait:
        log.warning("binding locked account=%s", account.id)
        return BindOutcome(BindResult.LOCKED, retry_after_minutes=wait)
    code = normalize_code(code_text)
    matched: BindingCode | None = None
    candidates: list[BindingCode] = []
    if employee is not None and employee.active:
        candidates = list((await session.execute(select(BindingCode).where(
            BindingCode.employee_id == employee.id, BindingCode.used_at.is_(None),
            BindingCode.revoked_at.is_(None), BindingCode.expires_at > now))).scalars())
    for candidate in candidates:
        if verify_code(code, candidate.code_hash) and matched is None:
            matched = candidate
    if not candidates:  # same work whether or not the employee exists or has a code
        verify_code(code, f"scrypt${policy.scrypt_log2_n}$AAAAAAAAAAAAAAAAAAAAAA==$AAAA")
    spent = False
    if matched is not None:
        result = await session.execute(update(BindingCode).where(
            BindingCode.id == matched.id, BindingCode.used_at.is_(None), BindingCode.revoked_at.is_(None))
            .values(used_at=now, used_by_account_id=account.id))
        spent = getattr(result, "rowcount", 0) == 1
    session.add(BindingAttempt(channel=account.channel, external_id=account.external_id, employee_no=employee_no,
                               at=now, succeeded=spent))
    if not spent or employee is None:
        await session.flush()
        log.warning("binding failed account=%s", account.id)
        return BindOutcome(BindResult.WRONG)
    others = list((await session.execute(select(ChannelAccount).where(
        ChannelAccount.employee_id == employee.id, ChannelAccount.channel == account.channel,
        ChannelAccount.id != account.id))).scalars())
    for other in others:
        other.employee_id = None
        other.bound_at = None
    account.employee_id = employee.id
    account.employee = employee
    account.bound_at = now
    await session.flush()
    log.info("binding succeeded account=%s employee=%s", account.id, employee.id)
    return BindOutcome(BindResult.BOUND, employee=employee, replaced=len(others))


async def unbind(session: AsyncSession, account: ChannelAccount) -> Employee | None:
    """Unbind a chat account; returns the employee it was bound to (None when it was not bound)."""
    employee = account.employee
    account.employee_id = None
    account.employee = None
    account.bound_at = None
    await session.flush()
    if employee is not None:
        log.info("unbound account=%s employee=%s", account.id, employee.id)
    return employee


async def unbind_employee(session: AsyncSession, employee: Employee) -> int:
    """Unbind every chat account of an employee (HR, e.g. a lost phone); returns how many."""
    accounts = list((await session.execute(select(ChannelAccount).where(
        ChannelAccount.employee_id == employee.id))).scalars())
    for acc in accounts:
        acc.employee_id = None
        acc.bound_at = None
    await session.flush()
    return len(accounts)
