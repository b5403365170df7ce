"""The reward rules of 拾貳, table-driven: every row of the plan's reward table and both of its notes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.config import DEFAULT_DATA_DIR
from bot.services.catalog import load_rules
from bot.services.certificates import (
    History,
    add_months,
    check_claim,
    grade_of,
    load_certificate_settings,
    parse_date,
    parse_score,
    score_problem,
    tier_for,
)

RULES = load_rules(DEFAULT_DATA_DIR, 113)
SETTINGS = load_certificate_settings(DEFAULT_DATA_DIR, 113, RULES)
ON = date(2024, 5, 2)


def _grade(test_id: str, answer: str | tuple[str, ...], on: date = ON) -> str | None:
    test = SETTINGS.test(test_id)
    if test.levels:
        index = [lv.label for lv in test.levels].index(str(answer))
        return grade_of(SETTINGS, RULES, test, level_index=index, on=on)
    scores = tuple(Decimal(s) for s in (answer if isinstance(answer, tuple) else (answer,)))
    return grade_of(SETTINGS, RULES, test, scores=scores, on=on)


# The plan's table: 全民英檢 初級 嘉獎1次, 中級 嘉獎2次, 中高級(含以上) 記功1次, "或相當英語能力測驗" through the
# dated MOE table of rules.yaml; Hakka per the city's directive (rules.yaml).
REWARD_TABLE = [
    ("gept", "初級", "嘉獎1次"),
    ("gept", "中級", "嘉獎2次"),
    ("gept", "中高級", "記功1次"),
    ("gept", "高級", "記功1次"),  # 含以上
    ("gept", "優級", "記功1次"),
    ("cambridge", "A2 Key (KET)", "嘉獎1次"),
    ("cambridge", "B1 Preliminary (PET)", "嘉獎2次"),
    ("cambridge", "B2 First (FCE)", "記功1次"),
    ("cambridge", "C2 Proficiency (CPE)", "記功1次"),
    ("toeic_lr", "224", None),
    ("toeic_lr", "225", "嘉獎1次"),
    ("toeic_lr", "549", "嘉獎1次"),
    ("toeic_lr", "550", "嘉獎2次"),
    ("toeic_lr", "784", "嘉獎2次"),
    ("toeic_lr", "785", "記功1次"),
    ("toeic_4", ("785", "310"), "記功1次"),
    ("toeic_4", ("785", "240"), "嘉獎2次"),  # the lower part decides
    ("toeic_4", ("990", "100"), None),
    ("ielts", "2.5", None),
    ("ielts", "3.0", "嘉獎1次"),
    ("ielts", "4.0", "嘉獎2次"),
    ("ielts", "5.5", "記功1次"),
    ("ielts", "8.5", "記功1次"),
    ("toefl_ibt", "41", None),  # the table has no A2 threshold for TOEFL iBT
    ("toefl_ibt", "42", "嘉獎2次"),
    ("toefl_ibt", "72", "記功1次"),
    ("hakka", "基礎級", None),
    ("hakka", "初級", "嘉獎1次"),
    ("hakka", "中級", "嘉獎2次"),
    ("hakka", "中高級", "記功1次"),
    ("hakka", "高級", "記功1次"),
]


@pytest.mark.parametrize(("test_id", "answer", "reward"), REWARD_TABLE)
def test_reward_table(test_id: str, answer: str | tuple[str, ...], reward: str | None) -> None:
    scheme = SETTINGS.scheme(SETTINGS.test(test_id).scheme)
    tier = tier_for(RULES, scheme, _grade(test_id, answer))
    assert (tier.reward if tier else None) == reward


def test_the_equivalence_edition_in_force_on_the_date_counts() -> None:
    # TOEIC L+R: the older MOE edition (A2 350, B2 750) before 2019, the newer (A2 225, B2 785) after.
    assert _grade("toeic_lr", "300", on=date(2018, 6, 1)) is None
    assert _grade("toeic_lr", "300", on=date(2019, 6, 1)) == "A2"
    assert _grade("toeic_lr", "760", on=date(2018, 6, 1)) == "B2"
    assert _grade("toeic_lr", "760", on=date(2019, 6, 1)) == "B1"


ENGLISH = SETTINGS.scheme("english")
HAKKA = SETTINGS.scheme("hakka")

# 備註1 (once per level; only a higher level after a reward; nothing for a pass before joining), 備註2 (3 months
# from the issue date; Hakka: 2 months from the mailing date), and the checks the wizard adds.
NOTES = [
    # scheme, grade, dated, today, history, expected key, expected values
    (ENGLISH, "B1", date(2024, 5, 2), date(2024, 8, 2), History(), "eligible", {"end": date(2024, 8, 2)}),
    (ENGLISH, "B1", date(2024, 5, 2), date(2024, 8, 3), History(), "window_passed", {"end": date(2024, 8, 2)}),
    (ENGLISH, "B1", date(2024, 5, 2), date(2024, 5, 1), History(), "future_date", {}),
    (ENGLISH, "B1", date(2024, 5, 2), date(2024, 6, 1), History(rewarded_ranks=(2,)), "already_rewarded", {}),
    (ENGLISH, "A2", date(2024, 5, 2), date(2024, 6, 1), History(rewarded_ranks=(2,)), "already_rewarded", {}),
    (ENGLISH, "B2", date(2024, 5, 2), date(2024, 6, 1), History(rewarded_ranks=(2,)), "eligible", {}),
    (ENGLISH, "C1", date(2024, 5, 2), date(2024, 6, 1), History(rewarded_ranks=(3,)), "already_rewarded", {}),
    (ENGLISH, "B1", date(2024, 5, 2), date(2024, 6, 1), History(pending_ranks=(2,)), "already_pending", {}),
    (ENGLISH, "B1", date(2024, 5, 2), date(2024, 6, 1), History(hire_date=date(2024, 5, 3)), "before_joining", {}),
    (ENGLISH, "B1", date(2024, 5, 3), date(2024, 6, 1), History(hire_date=date(2024, 5, 3)), "eligible", {}),
    (ENGLISH, "A1", date(2024, 5, 2), date(2024, 6, 1), History(), "below_tiers", {}),
    (HAKKA, "中級", date(2024, 5, 2), date(2024, 7, 2), History(), "eligible", {"end": date(2024, 7, 2)}),
    (HAKKA, "中級", date(2024, 5, 2), date(2024, 7, 3), History(), "window_passed", {"end": date(2024, 7, 2)}),
    (HAKKA, "初級", date(2024, 5, 2), date(2024, 6, 1), History(rewarded_ranks=(1,)), "already_rewarded", {}),
    (HAKKA, "中級", date(2024, 5, 2), date(2024, 6, 1), History(rewarded_ranks=(1,)), "eligible", {}),
]


@pytest.mark.parametrize(("scheme", "grade", "dated", "today", "history", "key", "values"), NOTES)
def test_the_notes(scheme, grade, dated, today, history, key, values) -> None:  # type: ignore[no-untyped-def]
    outcome = check_claim(RULES, scheme, grade, dated, today, history)
    assert outcome.key == key
    for k, v in values.items():
        assert outcome.values[k] == v


def test_an_eligible_claim_says_its_reward() -> None:
    outcome = check_claim(RULES, ENGLISH, "B1", date(2024, 5, 2), date(2024, 6, 1), History())
    assert outcome.eligible and outcome.tier is not None and outcome.tier.reward == "嘉獎2次"


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2024, 5, 2), 3, date(2024, 8, 2)),
    (date(2024, 11, 30), 3, date(2025, 2, 28)),
    (date(2023, 11, 30), 3, date(2024, 2, 29)),
    (date(2024, 12, 31), 2, date(2025, 2, 28)),
])
def test_months_are_calendar_months(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end


@pytest.mark.parametrize(("text", "expected"), [
    ("113/5/2", date(2024, 5, 2)), ("113年5月2日", date(2024, 5, 2)), ("民國113年5月2日", date(2024, 5, 2)),
    ("１１３／５／２", date(2024, 5, 2)), ("113.05.02", date(2024, 5, 2)), ("2024-05-02", date(2024, 5, 2)),
    ("113 年 5 月 2 日", date(2024, 5, 2)), ("113/2/30", None), ("五月二日", None), ("", None), ("113/5", None),
])
def test_dates_as_typed(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_scores_as_typed_and_their_range() -> None:
    ielts = SETTINGS.test("ielts")
    assert parse_score("６.５") == Decimal("6.5") and parse_score("785分") == Decimal(785)
    assert parse_score("abc") is None and parse_score("7 8") is None
    assert score_problem(ielts, 0, Decimal("6.3")) == "score_step"
    assert score_problem(ielts, 0, Decimal("9.5")) == "score_range"
    assert score_problem(ielts, 0, Decimal("6.5")) is None
