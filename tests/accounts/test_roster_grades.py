"""Separate 官等 and 職等 columns in a roster: one rank, as a 官職等 column writes it (issue 15).

A roster of 官等=簡任 and 職等=第10職等 was refused ("columns 官等、職等 all mean rank"); now the two are
joined, so a 簡任-only class takes that employee as it takes one whose 官職等 says 簡任第10職等.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATA_DIR
from bot.services.accounts import load_roster_mapping
from bot.services.accounts.roster import parse_roster, with_grade
from bot.services.classes.eligibility import EligibilityRule, EmployeeFacts, check_eligibility


def ranks(tmp_path: Path, text: str) -> dict[str, str]:
    """Employee number → rank read from a roster CSV (the default mapping)."""
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    rows, report = parse_roster(path, load_roster_mapping(DEFAULT_DATA_DIR))
    assert report.errors == [], report.errors
    assert not [w for w in report.warnings if "no rank column" in w]
    return {r.employee_no: str(r.values.get("rank")) for r in rows}


def test_separate_columns_give_the_combined_rank(tmp_path: Path) -> None:
    separate = ranks(tmp_path, "員工編號,姓名,機關,官等,職等\n"
                               "A1,甲,人事處,簡任,第10職等\nA2,乙,人事處,薦任,9\nA3,丙,人事處,委任,第５職等\n"
                               "A4,丁,人事處,約聘,\nA5,戊,人事處,簡任,十職等\n")
    combined = ranks(tmp_path, "員工編號,姓名,機關,官職等\n"
                               "A1,甲,人事處,簡任第10職等\nA2,乙,人事處,薦任第9職等\nA3,丙,人事處,委任第5職等\n"
                               "A4,丁,人事處,約聘\nA5,戊,人事處,簡任第十職等\n")
    assert separate == combined
    assert separate["A1"] == "簡任第10職等"


def test_a_grade_column_alone_is_the_rank_as_written(tmp_path: Path) -> None:
    assert ranks(tmp_path, "員工編號,姓名,機關,職等\nA1,甲,人事處,薦任\n") == {"A1": "薦任"}


@pytest.mark.parametrize(("rank", "grade", "joined"), [
    ("簡任", "第10職等", "簡任第10職等"), ("簡任", "10", "簡任第10職等"), ("薦任", "第 8 職等", "薦任第8職等"),
    ("簡任", "", "簡任"), ("", "第10職等", "第10職等"), ("簡任第10職等", "第10職等", "簡任第10職等"),
])
def test_with_grade(rank: str, grade: str, joined: str) -> None:
    assert with_grade(rank, grade) == joined


def test_a_senior_only_class_takes_the_separate_columns_rank(tmp_path: Path) -> None:
    rank = ranks(tmp_path, "員工編號,姓名,機關,官等,職等\nA1,甲,人事處,簡任,第10職等\n")["A1"]
    assert check_eligibility(EligibilityRule(ranks=("簡任",)), EmployeeFacts(rank, False, None, "人事處"),
                             date(2024, 3, 20)) is None
