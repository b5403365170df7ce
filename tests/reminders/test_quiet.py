"""Quiet hours, without a database: inside or not, and when a push held back may go."""

from __future__ import annotations

from datetime import datetime, time

from bot.clock import TAIPEI
from bot.config import DEFAULT_DATA_DIR
from bot.services.notices import QuietHours


def taipei(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TAIPEI)


def test_the_default_quiet_hours_are_nine_at_night_to_eight_in_the_morning_in_taipei() -> None:
    quiet = QuietHours.load(DEFAULT_DATA_DIR)
    assert quiet.contains(taipei("2024-09-22T21:00"))
    assert quiet.contains(taipei("2024-09-23T07:59"))
    assert not quiet.contains(taipei("2024-09-23T08:00"))
    assert not quiet.contains(taipei("2024-09-22T20:59"))


def test_a_push_held_at_night_goes_at_eight_the_next_morning_and_one_in_the_day_is_not_moved() -> None:
    quiet = QuietHours(time(21), time(8))
    assert quiet.defer(taipei("2024-09-22T22:30")) == taipei("2024-09-23T08:00")
    assert quiet.defer(taipei("2024-09-23T03:00")) == taipei("2024-09-23T08:00")
    assert quiet.defer(taipei("2024-09-23T12:00")) == taipei("2024-09-23T12:00")


def test_only_reminders_and_surveys_wait_a_freed_seat_does_not() -> None:
    quiet = QuietHours.load(DEFAULT_DATA_DIR)
    assert quiet.covers("reminders.class_evening")
    assert not quiet.covers("classes.promoted")
    assert not quiet.covers(None)
