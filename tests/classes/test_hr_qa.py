"""What a city HR officer's real files found in the classes imports (ROC dates, full-width digits, code case)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.services.classes import import_attendance, read_attendance_csv, read_classes_file
from tests.classes.conftest import add_classes, add_people, class_id, enroll_as, spec


def test_classes_csv_takes_roc_dates_and_full_width_digits(tmp_path: Path) -> None:
    # As typed in Excel on zh-TW Windows and saved as plain "CSV" (Big5): ROC dates, full-width numbers.
    path = tmp_path / "classes.csv"
    path.write_bytes(("班期代碼,課程代碼,班期名稱,辦理方式,地點,時數,名額,報名開始,報名截止,上課時間\r\n"
                      "113-GE-09,A3-3,第9期,專題演講,大禮堂,２,５０,113/03/01,113年3月10日 17:00,"
                      "113/3/20 ０９：００-11:00；1130327 09:00-11:00\r\n").encode("cp950"))
    cls = read_classes_file(path, plan_year=113).classes[0]
    assert (cls.capacity, str(cls.hours)) == (50, "2")
    assert cls.registration.opens_at == datetime(2024, 2, 29, 16, 0, tzinfo=UTC)       # 3/1 00:00 Taipei
    assert cls.registration.closes_at == datetime(2024, 3, 10, 9, 0, tzinfo=UTC)       # 17:00 Taipei
    assert [m.starts_at.astimezone(TAIPEI) for m in cls.meetings] == [
        datetime(2024, 3, 20, 9, 0, tzinfo=TAIPEI), datetime(2024, 3, 27, 9, 0, tzinfo=TAIPEI)]


def test_classes_file_still_names_an_impossible_roc_date(tmp_path: Path) -> None:
    path = tmp_path / "classes.csv"
    path.write_text("班期代碼,課程代碼,辦理方式,地點,時數,名額,報名開始,報名截止,上課時間\n"
                    "X-1,A3-3,專題演講,大禮堂,2,50,113/02/30,113/03/10,113/3/20 09:00-11:00\n", encoding="utf-8-sig")
    try:
        read_classes_file(path, plan_year=113)
    except ValueError as exc:
        assert "'113/02/30' is not a real date" in str(exc) and "line 2" in str(exc)
    else:
        raise AssertionError("an impossible date was accepted")


async def test_attendance_finds_the_class_whatever_the_letter_case(app: Runtime, clock: FrozenClock,
                                                                     tmp_path: Path) -> None:
    # `report class demo-tm-01` finds the class; the attendance sheet HR typed the same way must too.
    await add_classes(app, spec("T-QA-1", course="A3-3", capacity=3, hours="3",
                                meetings=(("2024-03-20", "09:00", "12:00"),)))
    cid = await class_id(app, "T-QA-1")
    a, b = await add_people(app, 2, prefix="Q")
    for person in (a, b):
        await enroll_as(app, cid, person)
    clock.set(datetime(2024, 3, 20, 12, 0, tzinfo=TAIPEI))
    path = tmp_path / "att.csv"
    path.write_bytes(("班期代碼,員工編號,出缺席,請假時數\r\n"
                      "t-qa-1,q0001,出席,１\r\n"                # exactly 1/3 of 3 h: credited
                      "Ｔ－ＱＡ－１,Q0002,出席,1.01\r\n").encode("cp950"))  # over 1/3: not credited
    lines = read_attendance_csv(path)
    async with app.sessions.begin() as s:
        report = await import_attendance(s, lines, rules=app.rules, catalog=app.catalog,
                                         settings=app.app.enrollment, now=app.clock.now(), batch="b",
                                         source=str(path))
    assert (report.attended, report.credited, report.forfeited, report.records_created) == (2, 1, 1, 2)
