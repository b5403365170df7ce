"""Clocks: the system clock in production, a settable one in tests (no sleeps)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

TAIPEI = ZoneInfo("Asia/Taipei")


class Clock(Protocol):
    """Something that tells the current time (aware, UTC)."""

    def now(self) -> datetime:
        """Return the current instant as an aware UTC datetime."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current instant as an aware UTC datetime."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        """Return the frozen instant."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to ``at``."""
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._at += delta


class ShiftedClock:
    """The real clock moved to another day: time runs normally from ``start`` on.

    Used by the console demo (``DEMO_TODAY``) so that the plan year's deadlines and sample classes
    read as they would on that day.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._offset = start.astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        """Return the shifted current instant, aware UTC."""
        return datetime.now(UTC) + self._offset

    @classmethod
    def on_day(cls, day: date) -> ShiftedClock:
        """A clock showing ``day`` at the current Taipei time of day."""
        now = datetime.now(TAIPEI)
        return cls(datetime.combine(day, now.timetz()))


def taipei_today(clock: Clock) -> date:
    """Return today's date in Asia/Taipei."""
    return clock.now().astimezone(TAIPEI).date()
