"""Free-text intent recognition in zh-TW, English and simplified characters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import DEFAULT_DATA_DIR
from bot.datafiles import DataFileError
from bot.intents import IntentMatch, IntentRecognizer


@pytest.fixture(scope="module")
def recognizer() -> IntentRecognizer:
    return IntentRecognizer.load(DEFAULT_DATA_DIR / "intents.yaml")


@pytest.mark.parametrize(("text", "expected"), [
    ("help", IntentMatch("help")),
    ("說明", IntentMatch("help")),
    ("/start", IntentMatch("help")),
    ("選單", IntentMatch("help")),
    ("Menu", IntentMatch("help")),
    ("課程", IntentMatch("browse")),
    ("Browse", IntentMatch("browse")),
    ("B", IntentMatch("track_b")),
    ("track c", IntentMatch("track_c")),
    ("我還差幾小時", IntentMatch("hours")),
    ("我还差几小时?", IntentMatch("hours")),
    ("How many hours do I still need", IntentMatch("hours")),
    ("時數", IntentMatch("hours")),
    ("我的報名", IntentMatch("my_enrollments")),
    ("my enrollments", IntentMatch("my_enrollments")),
    ("取消報名", IntentMatch("cancel_enrollment")),
    ("取消报名 python", IntentMatch("cancel_enrollment", "python")),
    ("報名 零基礎 Python", IntentMatch("enroll", "零基礎 Python")),
    ("我要報名時間管理", IntentMatch("enroll", "時間管理")),
    ("enroll in power bi", IntentMatch("enroll", "power bi")),
    ("證書", IntentMatch("certificate")),
    ("我想申請獎勵", IntentMatch("certificate")),
    ("綁定", IntentMatch("bind")),
    ("Link Account", IntentMatch("bind")),
    ("解除綁定", IntentMatch("unbind")),
    ("English", IntentMatch("lang_en")),
    ("中文", IntentMatch("lang_zh")),
    ("介紹 python", IntentMatch("course", "python")),
    ("ＨＥＬＰ", IntentMatch("help")),
    ("?", IntentMatch("help")),
    ("？", IntentMatch("help")),
    ("??", IntentMatch("help")),
    ("？？", IntentMatch("help")),
    (" ? ？", IntentMatch("help")),
])
def test_recognised(recognizer: IntentRecognizer, text: str, expected: IntentMatch) -> None:
    assert recognizer.match(text) == expected


@pytest.mark.parametrize("text", ["時間管理", "python", "power bi", "区块链", "勞基法", "", "   ", "🙂"])
def test_course_words_are_not_commands(recognizer: IntentRecognizer, text: str) -> None:
    assert recognizer.match(text) is None


@pytest.mark.parametrize("text", ["?!", "…", "。", "?？!"])
def test_other_punctuation_is_not_the_question_mark(recognizer: IntentRecognizer, text: str) -> None:
    assert recognizer.match(text) is None


@pytest.mark.parametrize("rule", [{"name": "help", "exact": ["  "]}, {"name": "help", "prefix": ["?"]},
                                  {"name": "help", "contains": ["！"]}])
def test_a_phrase_that_could_never_match_refuses_the_file(tmp_path: Path, rule: dict[str, object]) -> None:
    """A phrase that folds to nothing used to be dropped silently (``?`` never matched); now the file is refused."""
    path = tmp_path / "intents.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    with pytest.raises(DataFileError, match="folds to nothing"):
        IntentRecognizer.load(path)
