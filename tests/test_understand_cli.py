"""``abc-bot understand``: the developer's view of the intent recognition, and its JSON contract (docs/cli.md)."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.conversation import Intent

DOCUMENTED = {i.value for i in Intent}


def test_json_gives_one_line_per_text_in_the_documented_names(capsys: pytest.CaptureFixture[str]) -> None:
    texts = ["我要取消報名", "幫我報名 Power BI", "查時數 T0002", "謝謝", "請假", "時間管理", "上課報名"]
    assert main(["understand", "--json", *texts]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["text"] for d in lines] == texts
    for d in lines:
        assert set(d) == {"text", "intent", "score", "argument", "alternatives"}
        assert d["intent"] in DOCUMENTED and 0 <= d["score"] <= 1
        assert all(set(a) == {"intent", "score"} and a["intent"] in DOCUMENTED | {"search"} for a in d["alternatives"])
    by_text = {d["text"]: d for d in lines}
    assert by_text["我要取消報名"]["intent"] == "cancel_enrollment"
    assert by_text["幫我報名 Power BI"]["argument"] == "Power BI"
    assert (by_text["查時數 T0002"]["intent"], by_text["查時數 T0002"]["argument"]) == ("hours", "T0002")
    assert by_text["謝謝"]["intent"] == "smalltalk"
    assert by_text["請假"]["intent"] == "out_of_scope"
    assert by_text["時間管理"]["intent"] == "search"
    assert by_text["上課報名"]["intent"] == "clarify"


def test_text_output_names_the_rule_score_argument_and_runner_up(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["understand", "--lang", "en", "上課報名", "sign me up for python"]) == 0
    out = capsys.readouterr().out
    assert "intent: clarify" in out and "Did you mean: " in out
    assert "Enroll in a class" in out and "My class schedule" in out
    assert "intent: enroll (rule enroll, command), score 1.00" in out and "argument: python" in out
    assert "runner-up:" in out
