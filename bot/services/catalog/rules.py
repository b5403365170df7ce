"""The plan's rules as data (``data/plans/<year>/rules.yaml``), loaded and validated as a whole.

Hour buckets, deadlines, the attendance rule, reward tiers and test equivalences.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.datafiles import DataFileError, read_yaml, validate_file
from bot.services.catalog.items import BucketId, plan_dir


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Period(_Strict):
    """The plan's period."""

    start: date
    end: date


class Bucket(_Strict):
    """An hours bucket (policy, environment, democracy, other)."""

    id: BucketId
    title: str
    title_en: str
    required: float = Field(ge=0)
    mandatory: bool
    aliases: tuple[str, ...] = ()


class MandatoryPackage(_Strict):
    """The digital course set that covers the mandatory hours."""

    name: str
    name_en: str
    platform: str
    hours: float
    deadline: date


class NewHires(_Strict):
    """How the requirement treats someone hired during the plan year (see docs/hours.md)."""

    prorate: Literal[False] = False  # no proration basis in the plan; a plan that prorates needs code too
    source: str


class HoursRules(_Strict):
    """How many hours are required and how buckets combine."""

    total_required: float = Field(gt=0)
    buckets: tuple[Bucket, ...] = Field(min_length=1)
    surplus_to_other: bool
    surplus_rule_source: str
    mandatory_package: MandatoryPackage
    year_end: date
    portal_upload_slack_days: int = Field(ge=0)
    exempt_ranks: tuple[str, ...] = ()
    exempt_source: str = ""
    new_hires: NewHires | None = None

    @model_validator(mode="after")
    def _sum_matches(self) -> HoursRules:
        total = sum(b.required for b in self.buckets)
        if abs(total - self.total_required) > 1e-9:
            raise ValueError(f"bucket requirements add up to {total}, not total_required {self.total_required}")
        ids = [b.id for b in self.buckets]
        if len(set(ids)) != len(ids):
            raise ValueError("bucket ids must be unique")
        return self


class AttendanceRule(_Strict):
    """The full-attendance rule (柒.三)."""

    max_leave_fraction: tuple[int, int]
    leave_equal_to_limit_counts: bool
    unexcused_absence_forfeits: bool
    source: str

    @property
    def fraction(self) -> Fraction:
        """The leave limit as a fraction of the class hours."""
        return Fraction(*self.max_leave_fraction)


class Deadline(_Strict):
    """A date that reminders point at, and which hours must be done by then."""

    id: str
    date: date
    title: str
    title_en: str
    covers: Literal["mandatory", "all"] = "all"
    """``mandatory``: the mandatory buckets (the digital package); ``all``: every required hour."""


class RewardTier(_Strict):
    """One reward level."""

    level: str
    test_level: str | None = None
    reward: str
    reward_en: str
    rank: int = Field(ge=1)


class Reward(_Strict):
    """A certificate reward scheme (English, Hakka …)."""

    id: str
    title: str
    title_en: str
    claim_window_months: int = Field(ge=1)
    window_basis: str = ""
    once_per_level: bool = True
    higher_level_only_after_reward: bool = True
    source: str = ""
    note: str = ""
    tiers: tuple[RewardTier, ...] = Field(min_length=1)


class Equivalence(_Strict):
    """Scores of another test that count as a CEFR level, from a date on."""

    test: str
    effective: date
    thresholds: dict[str, float]
    note: str = ""


class RulesFile(_Strict):
    """The whole ``rules.yaml``."""

    year: int
    period: Period
    source: str
    hours: HoursRules
    attendance: AttendanceRule
    deadlines: tuple[Deadline, ...] = ()
    rewards: tuple[Reward, ...] = ()
    equivalences: tuple[Equivalence, ...] = ()

    @model_validator(mode="after")
    def _mandatory_deadline_is_the_packages(self) -> RulesFile:
        for d in self.deadlines:
            if d.covers == "mandatory" and d.date != self.hours.mandatory_package.deadline:
                raise ValueError(f"deadline {d.id} covers the mandatory hours, so its date must be "
                                 f"hours.mandatory_package.deadline ({self.hours.mandatory_package.deadline})")
        return self

    def bucket(self, bucket_id: str) -> Bucket:
        """Return a bucket by id."""
        for b in self.hours.buckets:
            if b.id == bucket_id:
                return b
        raise KeyError(bucket_id)


def plan_years(data_dir: Path) -> list[int]:
    """The plan years that have a rules file under ``data_dir/plans/``, oldest first."""
    return sorted(int(p.parent.name) for p in (data_dir / "plans").glob("*/rules.yaml") if p.parent.name.isdigit())


def load_rules(data_dir: Path, year: int) -> RulesFile:
    """Load and validate ``data/plans/<year>/rules.yaml``.

    Raises:
        DataFileError: the file is missing, not YAML, or breaks the schema (file and key named).
    """
    path = plan_dir(data_dir, year) / "rules.yaml"
    rules = validate_file(RulesFile, read_yaml(path), path)
    if rules.year != year:
        raise DataFileError(f"{path}: year: is {rules.year}, but the folder is for {year}")
    return rules
