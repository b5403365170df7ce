"""The issue's finding on error messages, for the roster and hours files as for the classes file.

They named internal fields in English (``line 335: hire_date: …`` where the header was 到職日) and raw
validator text (``Input should be a valid decimal``); now the file's own header, its cell, and words.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli
from tests.imports.conftest import put

INTERNAL = ("hire_date", "employee_no", "hours:", "Input should", "valid decimal", "value_error")


def test_a_roster_names_its_own_header_and_cell(cli: Cli, tmp_path: Path) -> None:
    put(tmp_path, "r.csv", "員工編號,姓名,機關,到職日\nT0001,示範員工甲（範例）,桃園市政府人事處,113/2/30\n")
    zh = cli(["import", "roster", "r.csv", "--partial"])
    assert zh.returncode == 1 and "第 2 列：「到職日」欄（D2）的「113/2/30」不是實際存在的日期" in zh.stderr, zh.stderr
    en = cli(["import", "roster", "r.csv", "--partial", "--lang", "en"])
    assert 'row 2: column "到職日" (D2): "113/2/30" is not a real day' in en.stderr, en.stderr
    assert not [w for w in INTERNAL if w in zh.stderr + en.stderr]


def test_an_hours_file_says_what_is_wrong_in_words(cli: Cli, tmp_path: Path) -> None:
    put(tmp_path, "h.csv", "員工編號,課程名稱,上課日期,時數,類別\nT0001,公文寫作,113/2/5,三,其他\n")
    zh = cli(["import", "hours", "h.csv"])
    assert zh.returncode == 1 and "第 2 列：「時數」欄（D2）的「三」不是時數" in zh.stderr, zh.stderr
    assert not [w for w in INTERNAL if w in zh.stderr]
