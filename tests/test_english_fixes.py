"""English views of issue 10 part 7: plurals, plan years with their ROC year, class names, labels cut between words."""

from __future__ import annotations

import pytest

from bot.bootstrap import Runtime
from bot.channels.line_render import MAX_ACTION_LABEL, fit
from bot.config import DEFAULT_DATA_DIR
from bot.services.catalog import load_catalog
from bot.texts import MessageCatalog
from tests.dialog import Say, all_text, run_dialog


@pytest.fixture(scope="module")
def texts() -> MessageCatalog:
    return MessageCatalog.load()


@pytest.mark.parametrize(("key", "values", "expected"), [
    ("search.results", {"query": "x", "count": 1}, '1 course found for "x":'),
    ("search.results", {"query": "x", "count": 2}, '2 courses found for "x":'),
    ("classes.confirm.seats", {"left": 1}, "1 seat left."),
    ("classes.confirm.seats", {"left": 3}, "3 seats left."),
])
def test_english_plurals_follow_the_count(texts: MessageCatalog, key: str, values: dict[str, object],
                                          expected: str) -> None:
    assert texts.get(key, "en", **values) == expected


def test_chinese_texts_are_left_alone(texts: MessageCatalog) -> None:
    assert texts.get("classes.confirm.seats", "zh-TW", left=1) == texts.get("classes.confirm.seats", "zh-TW", left=1)
    assert "1" in texts.get("classes.confirm.seats", "zh-TW", left=1)


def _cut_mid_word(label: str, limit: int = MAX_ACTION_LABEL) -> bool:
    shown = fit(label, limit)
    if not shown.endswith("…") or shown == label:
        return False
    kept = shown[:-1]
    return kept[-1:].isalnum() and label[len(kept):len(kept) + 1].isalnum()


def _english_labels(texts: MessageCatalog) -> list[str]:
    labels = [texts.get(k, "en") for k in sorted(texts.keys()) if ".button." in k or k.startswith("clarify.option.")]
    catalog = load_catalog(DEFAULT_DATA_DIR, 113)
    labels += [f"{t.id} | {t.title_en}" for t in catalog.spec.tracks]
    labels += [c.title_en for t in catalog.spec.tracks for c in t.categories]
    labels += [i.title_en for i in catalog]
    return [label for label in labels if "{" not in label]


def test_no_english_button_label_is_cut_inside_a_word(texts: MessageCatalog) -> None:
    labels = _english_labels(texts)
    assert len(labels) > 100
    assert [label for label in labels if _cut_mid_word(label)] == []
    assert fit("A | Adept/Advice: Essential Competencies", 20) == "A | Adept/Advice:…"


async def test_english_views_say_the_plan_year_and_translate_class_names(sqlite_app: Runtime) -> None:
    outcomes = await run_dialog(sqlite_app, "T0001", [
        Say("English"),
        Say("hours", intent="hours", shows=["plan year 2024 (ROC 113)", "Labor Standards Act: Practical Cases"],
            hides=["plan year 113 "]),
        Say("enroll python", intent="enroll", shows=["Python for Absolute Beginners | Session 1 (sample)"],
            hides=["第1期", "｜"]),
        Say("my schedule", intent="schedule", shows=["(1 meeting)"], hides=["1 meetings"]),
    ])
    assert "範例" not in all_text(outcomes[2].replies).split("Where:")[0]
