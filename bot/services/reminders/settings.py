"""The reminders file of a plan year (``data/plans/<year>/reminders.yaml``): moments and offsets.

Validated as a whole at start-up like every data file; a bad file stops the program naming the key.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.datafiles import read_yaml, validate_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassTimes(_Strict):
    """When class reminders go: the evening before and the morning of each meeting (Taipei times)."""

    evening_before: time
    morning_of: time


class WaitlistClosing(_Strict):
    """When "registration for a class you are waitlisted on closes tomorrow" goes (the day before)."""

    at: time


class DeadlineTimes(_Strict):
    """Deadline reminders: how many days ahead of each deadline of ``rules.yaml``, at what time."""

    days_before: tuple[int, ...] = Field(min_length=1)
    at: time
    suggestions: int = Field(ge=0, le=10, default=3)

    @model_validator(mode="after")
    def _positive_distinct(self) -> DeadlineTimes:
        if any(d <= 0 for d in self.days_before) or len(set(self.days_before)) != len(self.days_before):
            raise ValueError("days_before must be distinct whole numbers above 0")
        return self


class RemindersFile(_Strict):
    """``reminders.yaml``: every reminder's timing, read by the sweep."""

    year: int
    sweep_every_seconds: int = Field(ge=5, le=3600)
    catch_up_hours: int = Field(ge=1, le=24 * 14)
    preview_days: int = Field(ge=1, le=60, default=14)
    """How far ahead 我的提醒 shows the reminders still to come."""
    class_: ClassTimes = Field(alias="class")
    waitlist_closing: WaitlistClosing
    deadlines: DeadlineTimes


def load_reminders(data_dir: Path, plan_year: int) -> RemindersFile:
    """Read and validate ``data_dir/plans/<plan_year>/reminders.yaml``."""
    path = data_dir / "plans" / str(plan_year) / "reminders.yaml"
    found = validate_file(RemindersFile, read_yaml(path), path)
    if found.year != plan_year:
        from bot.datafiles import DataFileError

        raise DataFileError(f"{path}: year: {found.year} but the file is in plans/{plan_year}")
    return found
