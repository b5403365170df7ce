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
    """The recognizer as load_app builds it: the catalog's names are course words (and masked as such)."""
    from bot.bootstrap import catalog_names
    from bot.services.catalog import load_catalog

    names = catalog_names(load_catalog(DEFAULT_DATA_DIR, 113))
    return IntentRecognizer.load(DEFAULT_DATA_DIR / "intents.yaml", search_names=names)


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


# ---------------------------------------------------------------- issue 10: learned from examples


@pytest.fixture(scope="module")
def understood() -> IntentRecognizer:
    """The recognizer as the app has it (the catalog's names as course words)."""
    from bot.bootstrap import catalog_names
    from bot.services.catalog import load_catalog

    names = catalog_names(load_catalog(DEFAULT_DATA_DIR, 113))
    return IntentRecognizer.load(DEFAULT_DATA_DIR / "intents.yaml", search_names=names)


@pytest.mark.parametrize(("text", "rule", "argument"), [
    ("請問可以幫我取消報名嗎", "cancel_enrollment", ""),                  # politeness around a command
    ("幫我報名 Power BI", "enroll", "Power BI"),                           # the argument keeps its letters
    ("我想報名python的課", "enroll", "python的課"),
    ("查時數 T0002", "hours_of", "T0002"),
    ("幫我查T0002的時數", "hours_of", "T0002"),                            # the number anywhere
    ("ＢＲＯＷＳＥ　ＣＯＵＲＳＥＳ", "browse", ""),                          # full width
    ("取 消 報 名", "cancel_enrollment", ""),                              # extra spaces
    ("mainmenu", "help", ""),                                              # missing space
    ("今年还要上几小时", "hours", ""),                                     # simplified
    ("我還差幾小実", "hours", ""),                                         # a typo
    ("please sign me up for time management", "enroll", "time management"),
    ("I'd like to cancel python", "cancel_enrollment", "python"),
    ("取消 python", "cancel_enrollment", "python"),
    ("cancel python", "cancel_enrollment", "python"),
    ("我要取消", "cancel_enrollment", ""),                                 # not the bare stop word
    ("取消綁定帳號", "unbind", "帳號"),                                     # the longest prefix wins
])
def test_requests_are_understood_with_their_argument(understood: IntentRecognizer, text: str, rule: str,
                                                     argument: str) -> None:
    match = understood.match(text)
    assert match is not None, understood.understand(text)
    assert (match.name, match.argument) == (rule, argument)


@pytest.mark.parametrize("text", ["報名時間到什麼時候", "T0002", "cancellation policy"])
def test_a_command_word_is_not_enough(understood: IntentRecognizer, text: str) -> None:
    decided = understood.understand(text)
    assert decided.decision.value != "command"


def test_every_decision_has_a_score_and_a_runner_up(understood: IntentRecognizer) -> None:
    for text in ("我要取消報名", "今年還要上幾小時", "時間管理"):
        decided = understood.understand(text)
        assert 0 <= decided.score <= 1 and decided.alternatives
        assert decided.alternatives[0].score <= decided.score or decided.decision.value == "command"


@pytest.mark.parametrize(("text", "answer"), [("好", "yes"), ("確認報名", "yes"), ("OK", "yes"), ("好的謝謝", "yes"),
                                               ("不要", "no"), ("先不要", "no"), ("No", "no"), ("取消", None),
                                               ("報名 python", None)])
def test_typed_answers_at_a_confirmation_card(understood: IntentRecognizer, text: str, answer: str | None) -> None:
    assert understood.confirm_answer(text, "確認報名", "先不要") == answer


@pytest.mark.parametrize(("raw", "problem"), [
    ({"rules": [{"name": "help", "exact": ["help"], "sample": ["x"]}]}, "Extra inputs are not permitted"),
    ({"rules": [{"name": "help", "exact": ["help"]}, {"name": "help", "exact": ["?"]}]}, "named more than once"),
    ({"rules": [{"name": "search", "exact": ["x"]}]}, "reserved"),
    ({"rules": [{"name": "help", "examples": ["!!"]}]}, "folds to nothing"),
    ({"rules": [{"name": "help", "exact": [881]}]}, "valid string"),
    ({"rules": [{"name": "help", "exact": ["x"]}], "decision": {"sure": 2}}, "decision.sure"),
    ({"rules": [{"name": "help", "exact": ["x"]}], "typos": {"報明": "報名", "報": "報明"}}, "fix holds a typo"),
])
def test_a_bad_intents_file_is_refused_with_the_key(tmp_path: Path, raw: dict[str, object], problem: str) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError, match=problem):
        IntentRecognizer.load(path)


def test_a_trained_model_is_read_back_from_its_cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import intent_model

    examples = [("我要報名", "enroll"), ("取消報名", "cancel"), ("我的時數", "hours")]
    first = intent_model.train(["cache test", 1], lambda: examples, temperature=0.5, cache_dir=tmp_path)
    assert list(tmp_path.glob("intent-model-*.npz"))
    intent_model._trained.clear()
    monkeypatch.setattr(intent_model, "_fit", lambda _: pytest.fail("trained again instead of reading the cache"))
    again = intent_model.train(["cache test", 1], lambda: examples, temperature=0.5, cache_dir=tmp_path)
    assert again.scores("我要報名") == first.scores("我要報名")


@pytest.mark.parametrize("text", ["綁定 T0002 VRWV-5UNB", "綁定 T0002 UNBD-7KXQ", "綁定 T0001 K7PMQ3XA",
                                  "bind T0003 5UNB-LNKX", "我要綁定 T0002 NBUN-2345"])
def test_a_binding_code_is_an_argument_not_a_word(understood: IntentRecognizer, text: str) -> None:
    assert understood.understand(text).intent == "bind", text


@pytest.mark.parametrize(("text", "rule", "argument"), [
    ("我要報明Python", "enroll", "Python"),          # 注音 slips of command words are fixed first
    ("取銷報名", "cancel_enrollment", ""),
    ("綁訂", "bind", ""),
    ("我的時樹", "hours", ""),
])
def test_typing_slips_of_command_words_are_fixed(recognizer: IntentRecognizer, text: str, rule: str,
                                                 argument: str) -> None:
    found = recognizer.match(text)
    assert found is not None and (found.name, found.argument) == (rule, argument)


@pytest.mark.parametrize(("text", "rule", "argument"), [
    ("幫我報 Notion AI", "enroll", "Notion AI"),     # course words would outweigh 報 without the mask
    ("退掉時間管理", "cancel_enrollment", "時間管理"),
    ("withdraw from python", "cancel_enrollment", "python"),
    ("canva那堂在教什麼", "course", "canva"),
])
def test_command_words_decide_when_the_sentence_holds_course_words(recognizer: IntentRecognizer, text: str,
                                                                   rule: str, argument: str) -> None:
    found = recognizer.match(text)
    assert found is not None and found.name == rule and argument.casefold() in found.argument.casefold()


def test_course_words_are_masked_but_a_rules_own_words_are_not(recognizer: IntentRecognizer) -> None:
    assert recognizer.model_text("幫我報 Notion AI") == "報 ※"
    assert recognizer.model_text("有沒有python的課") == "有沒有 ※ 的課"
    assert recognizer.model_text("改成英文") == "改成英文"      # 英文 switches the language: never a course word
    assert recognizer.model_text("pythonic") == "pythonic"      # only whole ASCII words
