"""The reminders file of a plan year (``data/plans/<year>/reminders.yaml``): moments, offsets and the survey.

Validated as a whole at start-up like every data file; a bad file stops the program naming the key.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

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


class SurveyQuestion(_Strict):
    """One question of the satisfaction survey: a point on the scale, or free text."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")
    text: str
    text_en: str
    type: Literal["scale", "text"]


class SurveySettings(_Strict):
    """The anonymous satisfaction survey at the end of a class's last meeting."""

    delay_minutes: int = Field(ge=0)
    reminder_after_hours: int = Field(gt=0)
    closes_after_days: int = Field(gt=0)
    scale: tuple[int, int]
    questions: tuple[SurveyQuestion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> SurveySettings:
        low, high = self.scale
        if not 0 <= low < high <= 10:
            raise ValueError("scale must be two numbers 0 <= low < high <= 10")
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be distinct")
        if sum(q.type == "text" for q in self.questions) > 1:
            raise ValueError("at most one free-text question")
        if self.questions[0].type != "scale":
            raise ValueError("the first question must be on the scale (it is asked with the invitation's buttons)")
        return self

    def question(self, number: int) -> SurveyQuestion | None:
        """The question at position ``number`` (from 0), or None past the last."""
        return self.questions[number] if 0 <= number < len(self.questions) else None


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
    survey: SurveySettings


def load_reminders(data_dir: Path, plan_year: int) -> RemindersFile:
    """Read and validate ``data_dir/plans/<plan_year>/reminders.yaml``."""
    path = data_dir / "plans" / str(plan_year) / "reminders.yaml"
    found = validate_file(RemindersFile, read_yaml(path), path)
    if found.year != plan_year:
        from bot.datafiles import DataFileError

        raise DataFileError(f"{path}: year: {found.year} but the file is in plans/{plan_year}")
    return found
