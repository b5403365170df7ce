"""`abc-bot import classes` says what is wrong in the reader's language, with the file's header and cell.

zh-TW by default, English with --lang en, like the other importers (issue 15, part 4).

It said ``c.csv: line 2 [code=C-1].hours: Input should be a valid decimal`` (the internal field name and
the validator's text); every problem of the file is listed at once, nothing written (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook

from tests.conftest import Cli
from tests.imports.conftest import dump, put

HEADER = "班期代碼,課程代碼,班期名稱,辦理方式,地點,時數,名額,報名開始,報名截止,上課時間,限主管,狀態\n"
BAD = (HEADER
       + "C-1,B1-3-1,第1期,專班,教室,三,20,2024-03-01,2024-03-10 17:00,2024-03-20 09:00-12:00,否,開放\n"
       + "C 2,B1-3-1,,專班,教室,3,-5,2024-03-01,113/2/30,2024-03-20 12:00-09:00,也許,暫停\n"
       + "C-1,B1-3-1,,專班,教室,3,10,2024-03-01,2024-03-10,2024-03-20 09:00-10:00,,\n")


def test_every_problem_in_chinese_with_header_and_cell(cli: Cli, tmp_path: Path, db: Path) -> None:
    put(tmp_path, "c.csv", BAD)
    before = dump(db)
    zh = cli(["import", "classes", "c.csv"])
    assert zh.returncode == 2
    for expected in ("第 2 列：「時數」欄（F2）的「三」不是數字",
                     "第 3 列：「限主管」欄（K3）的「也許」不是「是」或「否」",
                     "「班期代碼」欄（A3）的「C 2」不是班期代碼",
                     "「名額」欄（G3）的「-5」不能小於 0",
                     "「報名截止」欄（I3）的「113/2/30」不是實際存在的日期",
                     "「上課時間」欄（J3）的 2024-03-20 這堂課結束時間（09:00）早於開始時間（12:00）",
                     "「狀態」欄（L3）的「暫停」不是 open/closed/cancelled 其中之一",
                     "第 4 列：「班期代碼」欄（A4）的班期代碼與第 2 列相同"):
        assert expected in zh.stderr, zh.stderr
    for internal in ("hours", "capacity", "supervisors_only", "Input should", "[code=", "registration"):
        assert internal not in zh.stderr, (internal, zh.stderr)
    en = cli(["import", "classes", "c.csv", "--lang", "en"])
    assert en.returncode == 2 and 'row 2: column "時數" (F2): "三" is not a number' in en.stderr
    assert 'column "名額" (G3): "-5" must be at least 0' in en.stderr
    rejected = json.loads(cli(["import", "classes", "c.csv", "--json"]).stdout)["rejected"]
    assert [r["line"] for r in rejected] == [2, 3, 4]
    assert dump(db) == before                                        # nothing written


def test_what_only_the_catalog_knows_names_the_cell_too(cli: Cli, tmp_path: Path) -> None:
    put(tmp_path, "d.csv", HEADER
        + "C-1,ZZ-9,第1期,遠足,教室,3,20,2024-03-01,2024-03-10 17:00,2024-03-20 09:00-12:00,,\n"
        + "C-2,B1-3,第1期,專班,教室,3,20,2024-03-01,2024-03-10 17:00,2024-03-20 09:00-12:00,,\n")
    zh = cli(["import", "classes", "d.csv"]).stderr
    assert "第 2 列：「課程代碼」欄（B2）的課程代碼 ZZ-9 不在 113 年度的課程目錄中" in zh
    assert "第 2 列：「辦理方式」欄（D2）的「遠足」不是 專班/" in zh
    assert "第 3 列：「課程代碼」欄（B3）的 B1-3 是系列課程" in zh
    en = cli(["import", "classes", "d.csv", "--lang", "en"]).stderr
    assert 'row 2: column "課程代碼" (B2): course ZZ-9 is not in the 113 catalog' in en


def test_a_workbook_names_its_excel_cells(cli: Cli, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["113年度 班期計畫"])                                    # a title above the header
    for line in BAD.splitlines()[:2]:
        ws.append(line.split(","))
    wb.save(tmp_path / "c.xlsx")
    zh = cli(["import", "classes", "c.xlsx"])
    assert zh.returncode == 2 and "第 3 列：「時數」欄（F3）的「三」不是數字" in zh.stderr, zh.stderr
