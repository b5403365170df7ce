"""Quiet hours: when notices that are not replies must not arrive (``data/notices.yaml``, Asia/Taipei).

Minimal version written by the broadcasts feature with the interface the reminders feature owns
(``QuietHours.contains(at)``, ``QuietHours.defer(at)``); the reminders' version replaces it at merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from bot.clock import TAIPEI
from bot.datafiles import DataFileError, read_yaml


@dataclass(frozen=True)
class QuietHours:
    """A daily window ``[start, end)`` in Asia/Taipei; ``end < start`` runs over midnight."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, at: datetime) -> bool:
        """Whether the instant ``at`` (aware) falls inside the window."""
        local = at.astimezone(TAIPEI).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def defer(self, at: datetime) -> datetime:
        """``at`` itself outside the window, else the window's end (the next allowed instant)."""
        if not self.contains(at):
            return at
        local = at.astimezone(TAIPEI)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(at.tzinfo)


def _time(value: object, path: Path, key: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise DataFileError(f"{path}: quiet_hours.{key} must be a time like 21:00, not {value!r}") from None


def load_quiet_hours(data_dir: Path) -> QuietHours:
    """The quiet hours of ``data_dir/notices.yaml`` (the default 21:00–08:00 when the file is missing)."""
    path = data_dir / "notices.yaml"
    if not path.is_file():
        return QuietHours()
    raw = read_yaml(path) or {}
    quiet = raw.get("quiet_hours") if isinstance(raw, dict) else None
    if not isinstance(quiet, dict):
        raise DataFileError(f"{path}: needs quiet_hours with start and end")
    return QuietHours(_time(quiet.get("start"), path, "start"), _time(quiet.get("end"), path, "end"))
