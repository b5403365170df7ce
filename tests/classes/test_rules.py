"""The pure rules of enrollment: eligibility, the registration window, fairness periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import TAIPEI
from bot.services.classes import (
    EligibilityRule,
    EmployeeFacts,
    check_eligibility,
    months_before,
    period_bounds,
    window_state,
)

CLERK = EmployeeFacts(rank="委任", is_supervisor=False, hire_date=date(2023, 11, 15), agency="人事處")
DIRECTOR = EmployeeFacts(rank="簡任", is_supervisor=True, hire_date=date(2004, 3, 1), agency="環保局")


@pytest.mark.parametrize(("rule", "who", "key"), [
    (EligibilityRule(), CLERK, None),
    (EligibilityRule(ranks=("簡任",)), CLERK, "classes.refuse.rank"),
    (EligibilityRule(ranks=("簡任",)), DIRECTOR, None),
    (EligibilityRule(supervisors_only=True), CLERK, "classes.refuse.supervisor"),
    (EligibilityRule(supervisors_only=True), DIRECTOR, None),
    (EligibilityRule(agencies=("環保局",)), CLERK, "classes.refuse.agency"),
    (EligibilityRule(new_hire_months=6), CLERK, None),          # hired 2023-11-15, class 2024-03-20
    (EligibilityRule(new_hire_months=3), CLERK, "classes.refuse.new_hire"),
    (EligibilityRule(new_hire_months=6), DIRECTOR, "classes.refuse.new_hire"),
    (EligibilityRule(), EmployeeFacts("委任", False, None, "人事處", active=False), "classes.refuse.inactive"),
    (EligibilityRule(new_hire_months=6), EmployeeFacts("委任", False, None, "人事處"), "classes.refuse.new_hire"),
    # 官職等 as rosters write it: the 官等 decides (a 簡任-only class was refused to 簡任第10職等)
    (EligibilityRule(ranks=("簡任",)), EmployeeFacts("簡任第10職等", False, None, "人事處"), None),
    (EligibilityRule(ranks=("簡任",)), EmployeeFacts("簡任 第十職等", False, None, "人事處"), None),
    (EligibilityRule(ranks=("簡任",)), EmployeeFacts("薦任第9職等", False, None, "人事處"), "classes.refuse.rank"),
    (EligibilityRule(ranks=("薦任", "委任")), EmployeeFacts("委任第5職等", False, None, "人事處"), None),
    (EligibilityRule(ranks=("薦任",)), EmployeeFacts("約聘", False, None, "人事處"), "classes.refuse.rank"),
])
def test_eligibility_names_the_rule_broken(rule: EligibilityRule, who: EmployeeFacts, key: str | None) -> None:
    refusal = check_eligibility(rule, who, date(2024, 3, 20))
    assert (refusal.key if refusal else None) == key


def test_the_most_basic_rule_is_named_first_with_values() -> None:
    rule = EligibilityRule(ranks=("簡任", "薦任"), agencies=("環保局",), supervisors_only=True)
    refusal = check_eligibility(rule, CLERK, date(2024, 3, 20))
    assert refusal is not None and refusal.key == "classes.refuse.agency"
    assert refusal.values == {"agencies": "環保局", "agency": "人事處"}
    refusal = check_eligibility(rule.model_copy(update={"agencies": ()}), CLERK, date(2024, 3, 20))
    assert refusal is not None and refusal.values == {"ranks": "簡任、薦任", "rank": "委任"}


def test_new_hire_boundary_is_the_same_day_n_months_earlier() -> None:
    rule = EligibilityRule(new_hire_months=3)
    hired = EmployeeFacts("委任", False, date(2024, 2, 29), "人事處")
    assert check_eligibility(rule, hired, date(2024, 5, 31)) is None        # 5/31 − 3 months = 2/29
    late = EmployeeFacts("委任", False, date(2024, 2, 28), "人事處")
    assert check_eligibility(rule, late, date(2024, 5, 31)) is not None
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_before(date(2024, 1, 15), 13) == date(2022, 12, 15)


def test_window_is_open_from_opens_inclusive_to_closes_exclusive() -> None:
    opens = datetime(2024, 3, 1, 0, 0, tzinfo=TAIPEI)
    closes = datetime(2024, 3, 15, 17, 0, tzinfo=TAIPEI)
    second = timedelta(seconds=1)
    assert window_state(opens, closes, opens - second) == "not_open"
    assert window_state(opens, closes, opens) == "open"
    assert window_state(opens, closes, closes - second) == "open"
    assert window_state(opens, closes, closes) == "closed"
    assert window_state(opens, closes, closes + second) == "closed"


@pytest.mark.parametrize(("at", "period", "start", "end"), [
    (datetime(2024, 3, 31, 16, 30, tzinfo=UTC), "quarter", date(2024, 4, 1), date(2024, 7, 1)),  # 4/1 00:30 Taipei
    (datetime(2024, 3, 31, 15, 30, tzinfo=UTC), "quarter", date(2024, 1, 1), date(2024, 4, 1)),
    (datetime(2024, 12, 31, 12, 0, tzinfo=UTC), "half", date(2024, 7, 1), date(2025, 1, 1)),
    (datetime(2024, 12, 31, 12, 0, tzinfo=UTC), "month", date(2024, 12, 1), date(2025, 1, 1)),
    (datetime(2024, 6, 1, 0, 0, tzinfo=UTC), "year", date(2024, 1, 1), date(2025, 1, 1)),
])
def test_periods_follow_the_taipei_calendar(at: datetime, period: str, start: date, end: date) -> None:
    lo, hi = period_bounds(at, period)  # type: ignore[arg-type]
    assert (lo.astimezone(TAIPEI).date(), hi.astimezone(TAIPEI).date()) == (start, end)
    assert lo <= at < hi



def test_rank_refusal_reads_in_the_users_language() -> None:
    from bot.texts import MessageCatalog

    texts = MessageCatalog.load()
    refusal = check_eligibility(EligibilityRule(ranks=("簡任", "薦任")), CLERK, date(2024, 3, 1))
    assert refusal is not None
    assert refusal.text(lambda k, **v: texts.get(k, "en", **v)) == (
        "This class is only for senior-rank staff, junior-rank staff (yours: elementary-rank staff).")
    assert refusal.text(lambda k, **v: texts.get(k, "zh-TW", **v)) == (
        "這個班期僅限簡任、薦任人員報名（您的官等／人員類別：委任）。")
