"""``data/plans/<year>/certificates.yaml``: the tests the claim wizard offers, HR's reject reasons, photo limits.

Validated at start-up together with the reward rules it points at (``rules.yaml``: ``rewards`` and
``equivalences``), so a test naming an unknown scheme, grade or equivalence stops the start with the key named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.datafiles import DataFileError, PlainLoader, read_yaml, validate_file
from bot.services.catalog import RulesFile, plan_dir

SETTINGS_FILE = "certificates.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class GradeLabel(_Strict):
    """How a grade reads (B1 → 中級 / intermediate (B1))."""

    label: str
    label_en: str


class Scheme(_Strict):
    """A kind of certificate (English, Hakka): its reward scheme in rules.yaml and its grades, lowest first."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,16}$")
    reward: str
    title: str
    title_en: str
    grades: tuple[str, ...] = Field(min_length=1)
    grade_labels: dict[str, GradeLabel]
    date_basis: Literal["issue", "mailing"] = "issue"
    words: tuple[str, ...] = ()
    """Other words people type for this kind (英檢, 英文; 客語, 客家話) at the question "which kind"."""

    @model_validator(mode="after")
    def _labelled(self) -> Scheme:
        if set(self.grade_labels) != set(self.grades):
            raise ValueError("grade_labels must name every grade, and only those")
        return self

    def grade_text(self, grade: str, lang: str) -> str:
        """A grade as people read it in ``lang``."""
        label = self.grade_labels.get(grade)
        if label is None:
            return grade
        return label.label if lang == "zh-TW" else label.label_en


class Level(_Strict):
    """A named level of a test and the grade it counts as."""

    label: str
    label_en: str
    grade: str


class ScorePart(_Strict):
    """One number the person types (a total, a part of a four-skills test) and the equivalence it reads."""

    label: str
    label_en: str
    equivalence: str
    min: float
    max: float
    step: float = 1


class Score(_Strict):
    """A test reported as scores: the lowest part's level counts."""

    parts: tuple[ScorePart, ...] = Field(min_length=1)


class TestDef(_Strict):
    """A test the wizard offers."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,16}$")
    scheme: str
    title: str
    title_en: str
    levels: tuple[Level, ...] = ()
    score: Score | None = None

    @model_validator(mode="after")
    def _one_way(self) -> TestDef:
        if bool(self.levels) == (self.score is not None):
            raise ValueError("a test has either levels or score, not both and not neither")
        return self


class RejectReason(_Strict):
    """A reason HR can pick when rejecting."""

    id: str
    label: str
    label_en: str


class PhotoLimits(_Strict):
    """What a photo must be, and how it is stored."""

    min_side: int = Field(ge=1)
    max_pixels: int = Field(ge=1)
    stored_max_side: int = Field(ge=1)
    preview_max_side: int = Field(ge=1)
    jpeg_quality: int = Field(ge=30, le=95)


class ReminderDays(_Strict):
    """When reminders go out (the scheduler asks :mod:`bot.services.certificates.reminders`)."""

    window_closing_days: tuple[int, ...] = (14, 3)
    hr_pending_older_than_days: int = Field(default=7, ge=1)


class CertificateSettings(_Strict):
    """The whole ``certificates.yaml``."""

    year: int
    source: str = ""
    schemes: tuple[Scheme, ...] = Field(min_length=1)
    tests: tuple[TestDef, ...] = Field(min_length=1)
    reject_reasons: tuple[RejectReason, ...] = Field(min_length=1, max_length=10)
    photos: PhotoLimits
    reminders: ReminderDays = ReminderDays()

    @model_validator(mode="after")
    def _refer(self) -> CertificateSettings:
        schemes = {s.id: s for s in self.schemes}
        ids = [t.id for t in self.tests]
        if len(set(ids)) != len(ids):
            raise ValueError("test ids must be unique")
        for t in self.tests:
            if t.scheme not in schemes:
                raise ValueError(f"test {t.id}: unknown scheme {t.scheme!r}")
            bad = [lv.grade for lv in t.levels if lv.grade not in schemes[t.scheme].grades]
            if bad:
                raise ValueError(f"test {t.id}: grades {bad} are not in scheme {t.scheme}'s grades")
        return self

    def scheme(self, scheme_id: str) -> Scheme:
        """A scheme by id (KeyError when unknown)."""
        for s in self.schemes:
            if s.id == scheme_id:
                return s
        raise KeyError(scheme_id)

    def test(self, test_id: str) -> TestDef:
        """A test by id (KeyError when unknown)."""
        for t in self.tests:
            if t.id == test_id:
                return t
        raise KeyError(test_id)

    def tests_of(self, scheme_id: str) -> list[TestDef]:
        """The tests of one scheme, in the file's order."""
        return [t for t in self.tests if t.scheme == scheme_id]


def check_against_rules(settings: CertificateSettings, rules: RulesFile, path: Path) -> None:
    """Refuse a scheme whose reward is not in rules.yaml, a tier grade outside its scheme, an unknown equivalence."""
    rewards = {r.id: r for r in rules.rewards}
    tests = {e.test for e in rules.equivalences}
    for s in settings.schemes:
        reward = rewards.get(s.reward)
        if reward is None:
            raise DataFileError(f"{path}: scheme {s.id}: reward {s.reward!r} is not in rules.yaml rewards")
        for tier in reward.tiers:
            if tier.level not in s.grades:
                raise DataFileError(f"{path}: scheme {s.id}: rules.yaml tier {tier.level!r} is not one of its grades")
    for t in settings.tests:
        for part in t.score.parts if t.score else ():
            if part.equivalence not in tests:
                raise DataFileError(f"{path}: test {t.id}: no rules.yaml equivalence for {part.equivalence!r}")


def load_certificate_settings(data_dir: Path, year: int, rules: RulesFile) -> CertificateSettings:
    """Load and validate ``data/plans/<year>/certificates.yaml`` against the year's rules.

    Raises:
        DataFileError: missing file, bad YAML, a broken rule or a reference rules.yaml does not have.
    """
    path = plan_dir(data_dir, year) / SETTINGS_FILE
    settings = validate_file(CertificateSettings, read_yaml(path, loader=PlainLoader), path)
    if settings.year != year:
        raise DataFileError(f"{path}: year: is {settings.year}, but the folder is for {year}")
    check_against_rules(settings, rules, path)
    return settings
