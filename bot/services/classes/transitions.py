"""Every change of an enrollment's status, each as one named function; nothing else assigns ``status``.

The pattern (copy it for other status machines, e.g. certificate claims):

* the statuses and the allowed ``from → to`` pairs are data (:data:`TRANSITIONS`), next to the CHECK
  constraint's tuple (``bot.db.models.classes.ENROLLMENT_STATUSES``);
* one function per change, named for what happens (:func:`cancel_row`, :func:`promote_row` …), sets the
  status together with every column that belongs to it (timestamps, reason, who it replaces), so no
  caller can forget one;
* each function checks its pair first and raises :class:`InvalidTransition` otherwise: a bug, never a
  user's mistake (the refusals in :mod:`bot.services.classes.refusals` are checked before);
* the functions only change the row; locks, seat counters and notices stay with the caller
  (:mod:`bot.services.classes.enrollment`), which holds the class lock.

::

    (none) ──open_row──▶ enrolled | waitlisted
    cancelled ──reopen_row──▶ enrolled | waitlisted     (again, at the back of the queue: a new seq)
    waitlisted ──promote_row──▶ enrolled                 (a freed seat, or named as a substitute)
    enrolled | waitlisted ──cancel_row──▶ cancelled      (self, class_cancelled, substituted)

Attendance is recorded beside the status (:func:`record_attendance`, enrolled rows only), so the seat
counter always equals the enrolled rows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from bot.db.models.classes import Enrollment

Status = Literal["enrolled", "waitlisted", "cancelled"]
CancelReason = Literal["self", "class_cancelled", "substituted"]

ACTIVE: tuple[Status, ...] = ("enrolled", "waitlisted")
"""Statuses that hold a seat or a waitlist place."""

TRANSITIONS: frozenset[tuple[str | None, Status]] = frozenset({
    (None, "enrolled"), (None, "waitlisted"),
    ("cancelled", "enrolled"), ("cancelled", "waitlisted"),
    ("waitlisted", "enrolled"),
    ("enrolled", "cancelled"), ("waitlisted", "cancelled"),
})
"""The allowed ``(from, to)`` pairs; ``None`` is a row that does not exist yet."""


class InvalidTransition(RuntimeError):
    """A status change the rules do not allow was attempted (a programming error)."""


def _check(row: Enrollment | None, to: Status, *, only_from: tuple[str | None, ...]) -> None:
    """Raise unless ``row`` may go to ``to``: a pair of :data:`TRANSITIONS` that this change makes."""
    was = None if row is None else row.status
    if was not in only_from or (was, to) not in TRANSITIONS:
        where = "a new enrollment" if row is None else f"enrollment {row.id}"
        raise InvalidTransition(f"{where}: {was} → {to} is not allowed here")


def open_row(class_id: int, employee_id: int, *, seated: bool, seq: int, now: datetime,
             substitute_for_id: int | None = None) -> Enrollment:
    """A person's first enrollment in a class: a seat (``seated``) or a waitlist place at ``seq``."""
    status: Status = "enrolled" if seated else "waitlisted"
    _check(None, status, only_from=(None,))
    return Enrollment(class_id=class_id, employee_id=employee_id, status=status, seq=seq,
                      enrolled_at=now if seated else None, unexcused_absence=False, created_at=now,
                      updated_at=now, substitute_for_id=substitute_for_id)


def reopen_row(row: Enrollment, *, seated: bool, seq: int, now: datetime,
               substitute_for_id: int | None = None) -> None:
    """Enrolling again after a cancellation: the same row, a seat or a place at the back (``seq``)."""
    status: Status = "enrolled" if seated else "waitlisted"
    _check(row, status, only_from=("cancelled",))
    row.status, row.seq, row.updated_at = status, seq, now
    row.enrolled_at = now if seated else None
    row.cancelled_at = row.cancel_reason = None
    row.substitute_for_id = substitute_for_id


def promote_row(row: Enrollment, *, now: datetime, substitute_for_id: int | None = None) -> None:
    """A waiting person gets a seat (a freed one, or the seat of the person they substitute)."""
    _check(row, "enrolled", only_from=("waitlisted",))
    row.status, row.enrolled_at, row.updated_at = "enrolled", now, now
    if substitute_for_id is not None:
        row.substitute_for_id = substitute_for_id


def cancel_row(row: Enrollment, reason: CancelReason, now: datetime) -> None:
    """A seat or waitlist place ends: the person cancelled, HR cancelled the class, or a substitute took it."""
    _check(row, "cancelled", only_from=ACTIVE)
    row.status, row.cancelled_at, row.cancel_reason, row.updated_at = "cancelled", now, reason, now


def record_attendance(row: Enrollment, attendance: Literal["attended", "absent"], *, leave_hours: Decimal,
                      unexcused: bool, now: datetime) -> None:
    """HR's attendance for a seat holder; the status stays ``enrolled`` (the seat counter is not touched)."""
    if row.status != "enrolled":
        raise InvalidTransition(f"enrollment {row.id}: attendance of a {row.status} row")
    row.attendance, row.leave_hours, row.unexcused_absence = attendance, leave_hours, unexcused
    row.attendance_recorded_at = row.updated_at = now
