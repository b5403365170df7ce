"""The reward rules of 拾貳 as pure functions: a test result's grade, its tier, the claim window, the checks.

Every number comes from ``rules.yaml`` (``rewards``, the dated ``equivalences``) and ``certificates.yaml``
(the tests and their grades). :func:`check_claim` answers what an employee can expect *before* submitting,
as a :class:`Outcome`: a message key and its values, in a fixed order of reasons:

1. the grade is below the lowest tier (``below_tiers``);
2. the date is in the future (``future_date``);
3. the certificate was passed before joining the city (``before_joining``; 備註1);
4. this level or a higher one was already rewarded (``already_rewarded``; 備註1: only a higher level earns more);
5. a claim for this level or higher is already pending (``already_pending``);
6. the window has passed (``window_passed``: 3 months, Hakka 2, from the date; 備註2);

otherwise ``eligible`` with the tier's reward.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from bot.dates import gregorian_year
from bot.services.catalog import RulesFile
from bot.services.certificates.settings import CertificateSettings, Scheme, TestDef


@dataclass(frozen=True)
class Tier:
    """The reward a grade earns: its tier's level, rank and reward texts."""

    level: str
    rank: int
    reward: str
    reward_en: str


@dataclass(frozen=True)
class Outcome:
    """What a claim can expect: ``key`` (``eligible`` or a reason) and the values its sentence needs."""

    key: str
    tier: Tier | None = None
    values: dict[str, object] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        """True when the claim would earn its tier's reward."""
        return self.key == "eligible"


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months; a day the month lacks becomes its last day (113/11/30 + 3 → 114/2/28)."""
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


_ROC = re.compile(r"^(?:民國)?\s*(\d{2,4})\s*(?:[年/.\-])\s*(\d{1,2})\s*(?:[月/.\-])\s*(\d{1,2})\s*[日號号]?$")


def parse_date(text: str) -> date | None:
    """A date as typed: ROC (113/5/2, 113年5月2日 or 5號, 民國113年5月2日, 113.5.2) or Gregorian (2024-05-02)."""
    folded = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    m = _ROC.match(folded)
    if m is None:
        return None
    y, mo, d = (int(g) for g in m.groups())
    year = y if y >= 1912 else gregorian_year(y)
    try:
        return date(year, mo, d)
    except ValueError:
        return None


def parse_score(text: str) -> Decimal | None:
    """A typed score (full-width digits allowed); None when it is not a number."""
    folded = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    m = re.search(r"\d+(?:\.\d+)?", folded)
    if m is None or m.group(0) != folded.strip(" 分點points"):
        return None
    try:
        return Decimal(m.group(0))
    except InvalidOperation:
        return None


def score_problem(test: TestDef, part_index: int, score: Decimal) -> str | None:
    """Why a typed score cannot be a result of this test's part (``score_range``, ``score_step``), or None."""
    assert test.score is not None
    part = test.score.parts[part_index]
    if not Decimal(str(part.min)) <= score <= Decimal(str(part.max)):
        return "score_range"
    if score % Decimal(str(part.step)) != 0:
        return "score_step"
    return None


def level_by_score(rules: RulesFile, equivalence: str, score: Decimal, on: date) -> str | None:
    """The highest CEFR level ``score`` reaches in the edition of ``equivalence`` in force ``on`` (None: below all).

    The edition is the latest whose ``effective`` date is on or before ``on`` (the test date as the person
    gives it); before the first edition, the first one counts.
    """
    editions = sorted((e for e in rules.equivalences if e.test == equivalence), key=lambda e: e.effective)
    if not editions:
        raise KeyError(equivalence)
    chosen = next((e for e in reversed(editions) if e.effective <= on), editions[0])
    reached = [(v, lvl) for lvl, v in chosen.thresholds.items() if score >= Decimal(str(v))]
    return max(reached)[1] if reached else None


def grade_of(settings: CertificateSettings, rules: RulesFile, test: TestDef, *, level_index: int | None = None,
             scores: tuple[Decimal, ...] = (), on: date) -> str | None:
    """The grade a result counts as: a named level's, or the lowest part's level by score (None: below every level)."""
    if test.levels:
        assert level_index is not None
        return test.levels[level_index].grade
    assert test.score is not None and len(scores) == len(test.score.parts)
    grades = settings.scheme(test.scheme).grades
    levels = [level_by_score(rules, p.equivalence, s, on) for p, s in zip(test.score.parts, scores, strict=True)]
    if any(lv is None for lv in levels):
        return None
    return min((lv for lv in levels if lv is not None), key=grades.index)


def tier_for(rules: RulesFile, scheme: Scheme, grade: str | None) -> Tier | None:
    """The highest tier at or below ``grade`` ("中高級(含以上)": C1 earns the B2 tier); None below the lowest."""
    if grade is None:
        return None
    reward = next(r for r in rules.rewards if r.id == scheme.reward)
    position = scheme.grades.index(grade)
    fitting = [t for t in reward.tiers if scheme.grades.index(t.level) <= position]
    if not fitting:
        return None
    best = max(fitting, key=lambda t: t.rank)
    return Tier(best.level, best.rank, best.reward, best.reward_en)


def window_end(rules: RulesFile, scheme: Scheme, start: date) -> date:
    """The last day a claim may reach the agency: the date plus the scheme's claim window (months)."""
    reward = next(r for r in rules.rewards if r.id == scheme.reward)
    return add_months(start, reward.claim_window_months)


@dataclass(frozen=True)
class History:
    """What the employee already has in this scheme: the ranks rewarded, the ranks pending, the hire date."""

    rewarded_ranks: tuple[int, ...] = ()
    pending_ranks: tuple[int, ...] = ()
    hire_date: date | None = None


def check_claim(rules: RulesFile, scheme: Scheme, grade: str | None, dated: date, today: date,
                history: History) -> Outcome:
    """What a claim can expect, checked in the module docstring's order (pure: no database, no clock)."""
    tier = tier_for(rules, scheme, grade)
    end = window_end(rules, scheme, dated)
    if tier is None:
        return Outcome("below_tiers", None, {"grade": grade or "-"})
    if dated > today:
        return Outcome("future_date", tier, {"date": dated})
    if history.hire_date is not None and dated < history.hire_date:
        return Outcome("before_joining", tier, {"date": dated, "hired": history.hire_date})
    if history.rewarded_ranks and tier.rank <= max(history.rewarded_ranks):
        return Outcome("already_rewarded", tier, {"level": tier.level})
    if history.pending_ranks and tier.rank <= max(history.pending_ranks):
        return Outcome("already_pending", tier, {"level": tier.level})
    if today > end:
        return Outcome("window_passed", tier, {"end": end})
    return Outcome("eligible", tier, {"level": tier.level, "end": end})
