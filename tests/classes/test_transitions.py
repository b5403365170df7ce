"""Enrollment status changes: each named change sets its columns, and a pair the rules do not allow raises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.db.models.classes import ENROLLMENT_STATUSES
from bot.services.classes.transitions import (
    TRANSITIONS,
    InvalidTransition,
    cancel_row,
    open_row,
    promote_row,
    record_attendance,
    reopen_row,
)

NOW = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def test_the_allowed_pairs_use_the_schema_statuses() -> None:
    assert {to for _was, to in TRANSITIONS} | {was for was, _to in TRANSITIONS if was} == set(ENROLLMENT_STATUSES)


def test_a_life_of_an_enrollment() -> None:
    row = open_row(1, 2, seated=False, seq=5, now=NOW)
    assert (row.status, row.seq, row.enrolled_at) == ("waitlisted", 5, None)
    promote_row(row, now=LATER)
    assert (row.status, row.enrolled_at, row.updated_at) == ("enrolled", LATER, LATER)
    cancel_row(row, "self", LATER)
    assert (row.status, row.cancelled_at, row.cancel_reason) == ("cancelled", LATER, "self")
    reopen_row(row, seated=True, seq=9, now=LATER, substitute_for_id=7)
    assert (row.status, row.seq, row.cancelled_at, row.cancel_reason, row.substitute_for_id) == (
        "enrolled", 9, None, None, 7)
    record_attendance(row, "attended", leave_hours=Decimal("0.5"), unexcused=False, now=LATER)
    assert (row.status, row.attendance, row.leave_hours, row.attendance_recorded_at) == (
        "enrolled", "attended", Decimal("0.5"), LATER)


def test_changes_the_rules_do_not_allow_raise() -> None:
    seated = open_row(1, 2, seated=True, seq=1, now=NOW)
    with pytest.raises(InvalidTransition, match="enrolled → enrolled"):
        promote_row(seated, now=LATER)
    with pytest.raises(InvalidTransition):
        reopen_row(seated, seated=True, seq=2, now=LATER)  # only a cancelled row starts again
    waiting = open_row(1, 3, seated=False, seq=2, now=NOW)
    with pytest.raises(InvalidTransition):
        record_attendance(waiting, "attended", leave_hours=Decimal(0), unexcused=False, now=LATER)
    cancel_row(waiting, "class_cancelled", LATER)
    with pytest.raises(InvalidTransition, match="cancelled → cancelled"):
        cancel_row(waiting, "self", LATER)
    with pytest.raises(InvalidTransition):
        promote_row(waiting, now=LATER)
