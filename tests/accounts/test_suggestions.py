"""What to take next: catalog courses of the bucket with the largest gap (a pure rule)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.config import DEFAULT_DATA_DIR
from bot.services.catalog import load_catalog
from bot.services.hours import HoursStatus, RecordView, suggested_courses


def _status(taken: list[str]) -> HoursStatus:
    records = [RecordView(occurred_on=date(2024, 2, 1), title=t, course_code=None, hours=Decimal(2),
                          bucket="democracy", mode="", source="portal", credited=True, forfeit_reason=None)
               for t in taken]
    return HoursStatus(plan_year=113, today=date(2024, 3, 1), applies=True, hired_this_year=False, buckets=[],
                       deadlines=[], records=records)


def test_suggestions_are_courses_of_the_bucket_not_yet_taken() -> None:
    catalog = load_catalog(DEFAULT_DATA_DIR, 113)
    picks = suggested_courses(catalog, "democracy", _status(["人權教育"]), "T0001", limit=3)
    assert picks and len(picks) <= 3
    assert all(p.bucket == "democracy" and p.kind != "series" for p in picks)
    assert "人權教育" not in {p.title for p in picks}


def test_colleagues_see_different_starting_points() -> None:
    catalog = load_catalog(DEFAULT_DATA_DIR, 113)
    firsts = {suggested_courses(catalog, "other", _status([]), f"E{i:04d}", limit=1)[0].id for i in range(30)}
    assert len(firsts) > 1


def test_no_course_of_the_bucket_left_gives_nothing() -> None:
    catalog = load_catalog(DEFAULT_DATA_DIR, 113)
    everything = [i.title for i in catalog if i.bucket == "environment"]
    assert suggested_courses(catalog, "environment", _status(everything), "T0001", limit=3) == []
