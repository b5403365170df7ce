"""The hours rules as pure functions: attendance, buckets and surplus, deadlines, who the rule applies to.

Rules stated by these tests (from data/plans/113/rules.yaml):
- attendance: leave up to and including 1/3 of the class hours keeps the hours; over 1/3 or any
  unexcused absence loses them;
- a mandatory bucket's hours beyond its requirement count toward "other" (surplus_to_other), never
  beyond "other"'s own requirement; without the rule each bucket stands alone;
- mid-year hires: the requirement is not prorated (new_hires.prorate is false, with its source);
- temporary staff (臨時人員) are not subject to the 20 hours.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from bot.services.catalog import RulesFile
from bot.services.hours import (
    FORFEIT_LEAVE_OVER_LIMIT,
    FORFEIT_UNEXCUSED_ABSENCE,
    RecordView,
    attendance_outcome,
    bucket_status,
    compute_status,
)


def rec(bucket: str, hours: str, *, credited: bool = True, on: date = date(2024, 2, 1), source: str = "portal",
        title: str = "課程") -> RecordView:
    return RecordView(occurred_on=on, title=title, course_code=None, hours=D(hours), bucket=bucket, mode="",
                      source=source, credited=credited, forfeit_reason=None if credited else FORFEIT_LEAVE_OVER_LIMIT)


# ------------------------------------------------------------------ attendance (柒.三)

@pytest.mark.parametrize(("class_hours", "leave", "unexcused", "expected"), [
    ("3", "0", False, (True, None)),
    ("3", "1", False, (True, None)),                         # exactly 1/3 still counts ("逾" = over)
    ("3", "1.01", False, (False, FORFEIT_LEAVE_OVER_LIMIT)),
    ("6", "2", False, (True, None)),
    ("6", "2.01", False, (False, FORFEIT_LEAVE_OVER_LIMIT)),
    ("2", "0.66", False, (True, None)),                      # 1/3 of 2 h = 0.666…: no float rounding
    ("2", "0.67", False, (False, FORFEIT_LEAVE_OVER_LIMIT)),
    ("3", "3", False, (False, FORFEIT_LEAVE_OVER_LIMIT)),
    ("3", "0", True, (False, FORFEIT_UNEXCUSED_ABSENCE)),    # any absence without leave
    ("3", "1", True, (False, FORFEIT_UNEXCUSED_ABSENCE)),
])
def test_attendance_rule(rules: RulesFile, class_hours: str, leave: str, unexcused: bool,
                         expected: tuple[bool, str | None]) -> None:
    assert attendance_outcome(rules.attendance, D(class_hours), D(leave), unexcused) == expected


def test_attendance_limit_itself_forfeits_when_the_plan_says_so(rules: RulesFile) -> None:
    strict = rules.attendance.model_copy(update={"leave_equal_to_limit_counts": False})
    assert attendance_outcome(strict, D(3), D(1), False) == (False, FORFEIT_LEAVE_OVER_LIMIT)
    assert attendance_outcome(strict, D(3), D("0.99"), False) == (True, None)


@pytest.mark.parametrize(("class_hours", "leave"), [("0", "0"), ("3", "-1"), ("3", "3.5")])
def test_attendance_refuses_impossible_hours(rules: RulesFile, class_hours: str, leave: str) -> None:
    with pytest.raises(ValueError):
        attendance_outcome(rules.attendance, D(class_hours), D(leave), False)


# ------------------------------------------------------------------ buckets and surplus

def by_id(rules: RulesFile, done: dict[str, str]) -> dict[str, tuple[D, D, D]]:
    return {b.id: (b.counted, b.surplus, b.remaining)
            for b in bucket_status(rules, {k: D(v) for k, v in done.items()})}


def test_nothing_done_needs_everything(rules: RulesFile) -> None:
    assert by_id(rules, {}) == {"policy": (0, 0, 1), "environment": (0, 0, 4), "democracy": (0, 0, 5),
                                "other": (0, 0, 10)}


def test_each_bucket_exactly_met(rules: RulesFile) -> None:
    result = by_id(rules, {"policy": "1", "environment": "4", "democracy": "5", "other": "10"})
    assert all(remaining == 0 for _, _, remaining in result.values())


def test_half_hours_are_exact(rules: RulesFile) -> None:
    result = by_id(rules, {"environment": "3.5", "other": "9.75"})
    assert result["environment"] == (D("3.5"), 0, D("0.5"))
    assert result["other"] == (D("9.75"), 0, D("0.25"))


def test_mandatory_surplus_counts_toward_other_but_not_beyond_it(rules: RulesFile) -> None:
    result = by_id(rules, {"policy": "3", "environment": "5.5", "other": "6"})
    assert result["policy"] == (1, 2, 0)
    assert result["environment"] == (4, D("1.5"), 0)
    assert result["other"] == (D("9.5"), 0, D("0.5"))        # 6 own + 3.5 surplus
    capped = by_id(rules, {"policy": "20", "other": "5"})
    # surplus never fills another mandatory bucket
    assert capped["other"] == (10, 0, 0) and capped["democracy"] == (0, 0, 5)


def test_without_the_surplus_rule_buckets_stand_alone(rules: RulesFile) -> None:
    alone = rules.model_copy(update={"hours": rules.hours.model_copy(update={"surplus_to_other": False})})
    result = by_id(alone, {"policy": "3", "other": "6"})
    assert result["policy"] == (1, 0, 0) and result["other"] == (6, 0, 4)


def test_other_surplus_does_not_flow_back(rules: RulesFile) -> None:
    result = by_id(rules, {"other": "30"})
    assert result["other"] == (10, 0, 0) and result["policy"] == (0, 0, 1)


# ------------------------------------------------------------------ the whole status

def test_forfeited_records_do_not_count(rules: RulesFile) -> None:
    status = compute_status(rules, [rec("other", "3"), rec("other", "3", credited=False)], today=date(2024, 3, 1))
    assert status.done == 3 and status.remaining == 17
    assert len(status.records) == 2


def test_days_left_in_a_leap_year_and_after_the_deadline(rules: RulesFile) -> None:
    def days(today: date) -> dict[str, tuple[int | None, bool]]:
        return {d.id: (d.days_left, d.passed) for d in compute_status(rules, [], today=today).deadlines}

    assert days(date(2024, 3, 1)) == {"mandatory_hours": (213, False), "all_hours": (305, False)}
    assert days(date(2024, 2, 28)) == {"mandatory_hours": (215, False), "all_hours": (307, False)}  # 2024-02-29 exists
    assert days(date(2024, 9, 30))["mandatory_hours"] == (0, False)       # the deadline day itself
    assert days(date(2024, 10, 1))["mandatory_hours"] == (None, True)     # passed: never negative
    assert days(date(2025, 1, 1)) == {"mandatory_hours": (None, True), "all_hours": (None, True)}


def test_deadline_remaining_is_mandatory_only_for_the_package_date(rules: RulesFile) -> None:
    status = compute_status(rules, [rec("policy", "1"), rec("other", "4")], today=date(2024, 3, 1))
    remaining = {d.id: d.remaining for d in status.deadlines}
    assert remaining == {"mandatory_hours": 9, "all_hours": 15}


def test_mid_year_hire_keeps_the_full_requirement(rules: RulesFile) -> None:
    assert rules.hours.new_hires is not None and rules.hours.new_hires.prorate is False
    assert "未規定" in rules.hours.new_hires.source                     # the rule says where it comes from
    hired = compute_status(rules, [], today=date(2024, 6, 1), hire_date=date(2024, 5, 20))
    assert hired.hired_this_year and hired.required == 20 and hired.remaining == 20
    veteran = compute_status(rules, [], today=date(2024, 6, 1), hire_date=date(2010, 5, 20))
    assert not veteran.hired_this_year
    first_day = compute_status(rules, [], today=date(2024, 6, 1), hire_date=date(2024, 1, 1))
    assert not first_day.hired_this_year                                  # there from the plan's first day


def test_temporary_staff_are_not_subject(rules: RulesFile) -> None:
    assert not compute_status(rules, [], today=date(2024, 3, 1), rank="臨時人員").applies
    assert compute_status(rules, [], today=date(2024, 3, 1), rank="約聘").applies
    assert compute_status(rules, [], today=date(2024, 3, 1), rank="").applies


def test_next_focus_treats_the_mandatory_buckets_as_one_gap(rules: RulesFile) -> None:
    today = date(2024, 3, 1)
    # mandatory missing 2 + 3 = 5 ≥ other missing 4: the package first, for its largest bucket
    focus = compute_status(rules, [rec("policy", "1"), rec("environment", "2"), rec("democracy", "2"),
                                   rec("other", "6")], today=today).next_focus()
    assert focus is not None and focus[0] is True and focus[1] == 5 and focus[2].id == "democracy"
    focus = compute_status(rules, [rec("policy", "1"), rec("environment", "4"), rec("democracy", "4")],
                           today=today).next_focus()
    assert focus is not None and focus[0] is False and focus[1] == 10 and focus[2].id == "other"
    done = [rec("policy", "1"), rec("environment", "4"), rec("democracy", "5"), rec("other", "10")]
    assert compute_status(rules, done, today=today).next_focus() is None
