"""The reminders file is checked at start-up: a wrong value names its file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import DEFAULT_DATA_DIR
from bot.datafiles import DataFileError
from bot.services.notices import QuietHours
from bot.services.reminders import load_reminders


def copy_with(tmp_path: Path, change: dict[str, object]) -> Path:
    target = tmp_path / "plans" / "113"
    target.mkdir(parents=True)
    raw = yaml.safe_load((DEFAULT_DATA_DIR / "plans" / "113" / "reminders.yaml").read_text(encoding="utf-8"))
    raw.update(change)
    (target / "reminders.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_the_shipped_file_reads_as_the_plan_says() -> None:
    found = load_reminders(DEFAULT_DATA_DIR, 113)
    assert found.deadlines.days_before == (30, 14, 7, 1)
    assert str(found.class_.evening_before) == "18:00:00"
    assert [q.type for q in found.survey.questions] == ["scale", "scale", "text"]


@pytest.mark.parametrize(("change", "says"), [
    ({"deadlines": {"days_before": [7, 7], "at": "09:00"}}, "deadlines"),
    ({"class": {"evening_before": "25:00", "morning_of": "08:00"}}, "class.evening_before"),
    ({"sweep_every_seconds": 1}, "sweep_every_seconds"),
    ({"surprise": True}, "surprise"),
])
def test_a_wrong_value_names_the_file_and_the_key(tmp_path: Path, change: dict[str, object], says: str) -> None:
    with pytest.raises(DataFileError) as problem:
        load_reminders(copy_with(tmp_path, change), 113)
    assert "reminders.yaml" in str(problem.value) and says in str(problem.value)


def test_quiet_hours_in_an_unknown_time_zone_are_refused(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_DATA_DIR / "notices.yaml", tmp_path / "notices.yaml")
    path = tmp_path / "notices.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Asia/Taipei", "Mars/Olympus"), encoding="utf-8")
    with pytest.raises(DataFileError, match="timezone"):
        QuietHours.load(tmp_path)
