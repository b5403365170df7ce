"""Pure rules of enrollment: who may enroll in a class, when the window is open, fairness periods.

No database here: the enrollment service gathers the facts and asks these functions. A refusal is a
message key plus the values its sentence needs, so the chat and the CLI can say why in one sentence.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.clock import TAIPEI

PeriodKind = Literal["year", "half", "quarter", "month"]
WindowState = Literal["not_open", "open", "closed"]


class EligibilityRule(BaseModel):
    """Who may enroll in a class; every part that is set must hold (empty = no restriction).

    Stored as JSON on the class row and written the same way in the classes file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    ranks: tuple[str, ...] = ()
    """Rank or employment type as the roster writes it (簡任, 薦任, 委任, 約聘 …)."""
    supervisors_only: bool = False
    new_hire_months: int | None = Field(default=None, ge=1, le=120)
    """Only people hired at most this many months before the class's first day."""
    agencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmployeeFacts:
    """What eligibility looks at (from the roster)."""

    rank: str
    is_supervisor: bool
    hire_date: date | None
    agency: str
    active: bool = True


@dataclass(frozen=True)
class Refusal:
    """Why something was refused: a message key (``classes.refuse.*``) and its placeholder values."""

    key: str
    values: dict[str, str] = field(default_factory=dict)
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Placeholders whose words are terms of the plan's data (ranks …), shown in the reader's language."""

    def text(self, get: Callable[..., str]) -> str:
        """The refusal in the reader's language; ``get(key, **values)`` looks a text up in that language."""
        values = dict(self.values)
        for name, words in self.terms.items():
            values[name] = get("list.separator").join(_term(get, w) for w in words)
        return get(self.key, **values)


def _term(get: Callable[..., str], word: str) -> str:
    try:
        return get(f"course.audience_value.{word}")
    except KeyError:
        return word


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier, clamped to the month's end (5/31 − 3 months = 2/29)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


_GRADE = re.compile(r"^(簡任|薦任|委任)\s*(第\s*[0-9０-９一二三四五六七八九十]+\s*職等)?")


def rank_matches(ranks: tuple[str, ...], rank: str) -> bool:
    """Whether a roster rank is one of a class's ranks: exactly, or by its 官等 (``簡任第10職等`` is 簡任)."""
    if rank in ranks:
        return True
    grade = _GRADE.match(rank.strip())
    return grade is not None and grade.group(1) in ranks


def check_eligibility(rule: EligibilityRule, who: EmployeeFacts, class_day: date) -> Refusal | None:
    """Return None when ``who`` may enroll in a class starting on ``class_day``, else the first rule broken.

    Rules are checked in a fixed order (employment status, agency, rank, supervisor, new hire) so the
    answer names one rule, the most basic one first.
    """
    sep = "、"
    if not who.active:
        return Refusal("classes.refuse.inactive")
    if rule.agencies and who.agency not in rule.agencies:
        return Refusal("classes.refuse.agency", {"agencies": sep.join(rule.agencies), "agency": who.agency or "—"})
    if rule.ranks and not rank_matches(rule.ranks, who.rank):
        return Refusal("classes.refuse.rank", {"ranks": sep.join(rule.ranks), "rank": who.rank or "—"},
                       terms={"ranks": rule.ranks, "rank": (who.rank or "—",)})
    if rule.supervisors_only and not who.is_supervisor:
        return Refusal("classes.refuse.supervisor")
    if rule.new_hire_months is not None:
        earliest = months_before(class_day, rule.new_hire_months)
        if who.hire_date is None or who.hire_date < earliest:
            return Refusal("classes.refuse.new_hire", {"months": str(rule.new_hire_months)})
    return None


def window_state(opens_at: datetime, closes_at: datetime, now: datetime) -> WindowState:
    """Where ``now`` is relative to the registration window ``[opens_at, closes_at)``.

    The window is half-open: enrolling exactly at ``opens_at`` works, exactly at ``closes_at`` does not
    (a deadline of 17:00 means the form closes when the clock shows 17:00:00).
    """
    if now < opens_at:
        return "not_open"
    if now >= closes_at:
        return "closed"
    return "open"


def period_bounds(at: datetime, period: PeriodKind) -> tuple[datetime, datetime]:
    """The Taipei calendar period (year, half, quarter or month) holding ``at``, as aware instants ``[start, end)``."""
    local = at.astimezone(TAIPEI).date()
    size = {"year": 12, "half": 6, "quarter": 3, "month": 1}[period]
    first_month = (local.month - 1) // size * size + 1
    start = date(local.year, first_month, 1)
    end_total = local.year * 12 + first_month - 1 + size
    end = date(end_total // 12, end_total % 12 + 1, 1)
    return (datetime.combine(start, time(0), TAIPEI), datetime.combine(end, time(0), TAIPEI))
