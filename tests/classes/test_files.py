"""The classes file (YAML and CSV) and enrollment.yaml: validated as a whole, problems named by file, class, line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.config import DEFAULT_DATA_DIR
from bot.datafiles import DataFileError
from bot.db.models.classes import TrainingClass
from bot.services.classes import import_classes, load_enrollment_settings, read_classes_file
from tests.classes.conftest import classes_file, spec


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_demo_file_is_marked_as_samples_and_its_dates_follow_today() -> None:
    path = DEFAULT_DATA_DIR / "demo" / "classes.yaml"
    first = read_classes_file(path, plan_year=113, today=date(2024, 3, 1))
    later = read_classes_file(path, plan_year=113, today=date(2026, 11, 26))
    assert first.sample and "範例" in path.read_text(encoding="utf-8").splitlines()[0]
    assert all("範例" in c.name for c in first.classes)
    py1 = next(c for c in first.classes if c.code == "DEMO-PY-01")
    assert py1.starts_at == datetime(2024, 3, 15, 1, 0, tzinfo=UTC)          # today+14 09:00 Taipei
    assert py1.registration.closes_at == datetime(2024, 3, 8, 9, 0, tzinfo=UTC)
    assert next(c for c in later.classes if c.code == "DEMO-PY-01").starts_at.year == 2026
    with pytest.raises(DataFileError, match="relative dates"):
        read_classes_file(path, plan_year=113, today=None)


def test_yaml_times_stay_text_and_dates_alone_close_at_the_end_of_the_day(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", """
plan_year: 113
classes:
  - code: X-1
    course: B1-3-1
    mode: 專班
    place: 教室
    hours: 1.5
    capacity: 10
    registration: {opens: 2024-03-01, closes: 2024-03-15}
    meetings:
      - {date: 2024-03-20, start: 14:00, end: 15:30}
""")
    c = read_classes_file(path, plan_year=113).classes[0]
    assert c.meetings[0].starts_at == datetime(2024, 3, 20, 6, 0, tzinfo=UTC)   # 14:00 was not read as 840
    assert c.registration.opens_at == datetime(2024, 2, 29, 16, 0, tzinfo=UTC)  # 3/1 00:00 Taipei
    assert c.registration.closes_at == datetime(2024, 3, 15, 16, 0, tzinfo=UTC)  # 3/16 00:00 Taipei: all of 3/15
    assert str(c.hours) == "1.5"


def test_every_problem_is_reported_with_the_class_code(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", """
plan_year: 113
classes:
  - code: OK-1
    course: B1-3-1
    mode: 專班
    place: 教室
    hours: 3
    capacity: 10
    registration: {opens: 2024-03-01, closes: "2024-03-25 17:00"}
    meetings: [{date: 2024-03-20, start: "09:00", end: "12:00"}]
  - code: BAD-2
    course: B1-3-1
    mode: 專班
    hours: -1
    capacity: ten
    registration: {opens: 2024-03-01, closes: 2024-03-10}
    meetings: [{date: 2024-03-20, start: "12:00", end: "09:00"}]
    colour: blue
""")
    with pytest.raises(DataFileError) as err:
        read_classes_file(path, plan_year=113)
    text = str(err.value)
    assert "classes.[code=BAD-2].hours" in text and "classes.[code=BAD-2].capacity" in text
    assert "classes.[code=BAD-2].colour" in text and "ends (09:00) before it starts" in text
    assert str(path) in text
    fixed = path.read_text(encoding="utf-8").replace("hours: -1", "hours: 3").replace("capacity: ten", "capacity: 5")
    fixed = fixed.replace('start: "12:00", end: "09:00"', 'start: "09:00", end: "12:00"')
    fixed = fixed.replace("    colour: blue\n", "")
    with pytest.raises(DataFileError, match=r"\[code=OK-1\].*close no later than the first meeting"):
        read_classes_file(write(tmp_path, "late.yaml", fixed), plan_year=113)


def test_csv_with_chinese_headers_and_several_meetings(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv",
                 "班期代碼,課程代碼,班期名稱,辦理方式,地點,時數,名額,報名開始,報名截止,上課時間,限定官等,限主管,狀態\n"
                 "C-1,B1-3-1,第1期,專班,教室,6,20,2024-03-01,2024-03-10 17:00,"
                 "2024-03-20 09:00-12:00; 2024-03-27 09:00-12:00,簡任、薦任,否,開放\n"
                 "C-2,A2-6-1,,專班,教室,3,10,2024-03-01,2024-03-10,"
                 "2024-03-20 09:00-10:00 、 2024-03-20 09:30-11:00,,,\n")
    with pytest.raises(DataFileError) as err:
        read_classes_file(path, plan_year=113)
    assert "line 3 [code=C-2]" in str(err.value) and "two meetings overlap" in str(err.value)
    ok = path.read_text(encoding="utf-8").splitlines()[:2]
    c = read_classes_file(write(tmp_path, "ok.csv", "\n".join(ok) + "\n"), plan_year=113).classes[0]
    assert len(c.meetings) == 2 and c.eligibility.ranks == ("簡任", "薦任") and c.status == "open"
    assert c.eligibility.supervisors_only is False
    with pytest.raises(DataFileError, match="missing column"):
        read_classes_file(write(tmp_path, "h.csv", "code,course\nX,B1-3-1\n"), plan_year=113)


async def test_import_refuses_unknown_courses_series_and_modes_and_writes_nothing(app: Runtime) -> None:
    bad = classes_file(spec("T-1"), spec("T-2", course="ZZ-9"), spec("T-3", course="B1-3"), spec("T-4", mode="遠足"))
    with pytest.raises(DataFileError) as err:
        async with app.sessions.begin() as s:
            await import_classes(s, bad, settings=load_enrollment_settings(DEFAULT_DATA_DIR, 113), deps=app.app.deps,
                                 now=app.clock.now(), batch="t", source="f.yaml")
    text = str(err.value)
    assert "[code=T-2].course: ZZ-9 is not in the 113 catalog" in text
    assert "[code=T-3].course: B1-3 is a series" in text and "[code=T-4].mode" in text
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(TrainingClass)
                                .where(TrainingClass.code.like("T-%")))).scalar_one() == 0


def test_enrollment_settings_errors_name_file_and_key(tmp_path: Path) -> None:
    folder = tmp_path / "plans" / "113"
    folder.mkdir(parents=True)
    (folder / "enrollment.yaml").write_text("year: 113\nmodes: {專班: classroom}\nfairness: {period: fortnight}\n",
                                            encoding="utf-8")
    with pytest.raises(DataFileError, match=r"enrollment.yaml: fairness.period"):
        load_enrollment_settings(tmp_path, 113)
    settings = load_enrollment_settings(DEFAULT_DATA_DIR, 113)
    assert "專班" in settings.modes and settings.modes["數位學習"] == "digital"


def test_an_hr_mapping_that_renames_one_column_keeps_the_default_names_of_the_others(tmp_path: Path) -> None:
    """--mapping is laid over data/imports/*.yaml (as for the roster and hours), not used instead of it."""
    from bot.services.classes import read_attendance_csv

    mapping = write(tmp_path, "m.yaml", "columns:\n  code: [開班序號]\n  class: [開班序號]\n")
    classes = write(tmp_path, "c.csv", "開班序號,課程代碼,辦理方式,地點,時數,名額,報名開始,報名截止,上課時間\n"
                                       "C-9,B1-3-1,專班,教室,3,20,2024-03-01,2024-03-10,2024-03-20 09:00-12:00\n")
    [c] = read_classes_file(classes, plan_year=113, mapping=mapping).classes
    assert (c.code, c.course, c.capacity) == ("C-9", "B1-3-1", 20)
    attendance = write(tmp_path, "a.csv", "開班序號,員工編號,出缺席\nC-9,T0001,出席\n")
    [line] = read_attendance_csv(attendance, mapping)
    assert (line.class_ref, line.employee_no, line.attendance) == ("C-9", "T0001", "attended")
