"""Quiet hours: when pushes that can wait (reminders, surveys, broadcasts) are held back, not dropped.

Loaded from ``data/notices.yaml`` (``quiet_hours``: start, end, timezone, the notice kinds it covers).
:meth:`QuietHours.contains` says whether an instant falls inside; :meth:`QuietHours.defer` moves an
instant inside to the end of the quiet hours (an instant outside stays as it is). The delivery worker
defers covered rows that come due inside; the reminders' sweep sets ``not_before`` with it; the
broadcast feature uses the same interface.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator

from bot.datafiles import read_yaml, validate_file


class QuietHoursFile(BaseModel):
    """``quiet_hours`` of ``data/notices.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time
    timezone: str = "Asia/Taipei"
    kinds: tuple[str, ...] = ("reminders.", "surveys.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class NoticesFile(BaseModel):
    """``data/notices.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quiet_hours: QuietHoursFile


class QuietHours:
    """A daily quiet window (it may wrap midnight, 21:00–08:00) in a time zone, and the kinds it holds back."""

    def __init__(self, start: time = time(21), end: time = time(8), *, timezone: str = "Asia/Taipei",
                 kinds: tuple[str, ...] = ("reminders.", "surveys.")) -> None:
        self.start, self.end, self.zone, self.kinds = start, end, ZoneInfo(timezone), kinds

    @classmethod
    def load(cls, data_dir: Path) -> QuietHours:
        """The quiet hours of ``data_dir/notices.yaml`` (validated; a bad file names the key)."""
        path = data_dir / "notices.yaml"
        q = validate_file(NoticesFile, read_yaml(path), path).quiet_hours
        return cls(q.start, q.end, timezone=q.timezone, kinds=q.kinds)

    def covers(self, kind: str | None) -> bool:
        """True when notices of ``kind`` wait for the end of quiet hours."""
        return kind is not None and any(kind.startswith(prefix) for prefix in self.kinds)

    def contains(self, at: datetime) -> bool:
        """True when the aware instant ``at`` falls inside the quiet hours (start inclusive, end exclusive)."""
        local = at.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def defer(self, at: datetime) -> datetime:
        """``at`` itself when outside the quiet hours, else the next end of them (aware UTC)."""
        if not self.contains(at):
            return at
        local = at.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.zone)
        return end.astimezone(UTC)


def load_quiet_hours(data_dir: Path) -> QuietHours:
    """The quiet hours of ``data_dir/notices.yaml`` (what HR's announcements are scheduled around)."""
    return QuietHours.load(data_dir)
