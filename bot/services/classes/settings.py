"""``data/plans/<year>/enrollment.yaml``: the delivery modes a class may have and the fairness cap.

Validated as a whole at start-up; a problem stops everything with ``file: where: problem``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.datafiles import DataFileError, PlainLoader, read_yaml, validate_file
from bot.services.catalog import plan_dir
from bot.services.classes.eligibility import PeriodKind

SETTINGS_FILE = "enrollment.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Fairness(_Strict):
    """The plan's fairness aim (捌.一) as a cap on active enrollments per person and period."""

    max_active_per_period: int | None = Field(default=None, ge=1)
    period: PeriodKind = "year"
    source: str = ""


class EnrollmentSettings(_Strict):
    """The whole ``enrollment.yaml`` of a plan year."""

    year: int
    source: str = ""
    modes: dict[str, Literal["classroom", "digital", "blended"]] = Field(min_length=1)
    """The plan's delivery modes, each with how learning-hours records name it."""
    fairness: Fairness = Fairness()


def load_enrollment_settings(data_dir: Path, year: int) -> EnrollmentSettings:
    """Load and validate ``data/plans/<year>/enrollment.yaml``.

    Raises:
        DataFileError: missing file, bad YAML or a broken rule (names the file and the key).
    """
    path = plan_dir(data_dir, year) / SETTINGS_FILE
    settings = validate_file(EnrollmentSettings, read_yaml(path, loader=PlainLoader), path)
    if settings.year != year:
        raise DataFileError(f"{path}: year: is {settings.year}, but the folder is for {year}")
    return settings
