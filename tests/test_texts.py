"""The message catalog: every key the code uses exists, in both languages, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.texts import MessageCatalog, TextsError

REPO = Path(__file__).resolve().parent.parent
KEY_CALL = re.compile(r"""\b(?:t|choice|get)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")


def test_every_literal_key_used_in_code_exists() -> None:
    texts = MessageCatalog.load()
    used: dict[str, str] = {}
    for path in [*REPO.glob("bot/**/*.py"), *REPO.glob("handlers/**/*.py")]:
        for key in KEY_CALL.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, str(path.relative_to(REPO)))
    assert len(used) > 20  # the scan really found the calls
    known = texts.keys()
    missing = {k: f for k, f in used.items() if k not in known}
    assert not missing


def test_a_key_without_english_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("a.b:\n  zh-TW: 只有中文\n", encoding="utf-8")
    with pytest.raises(TextsError, match=r"x\.yaml: key 'a\.b' needs exactly zh-TW and en"):
        MessageCatalog.load(tmp_path)


def test_placeholders_must_match(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("a.b:\n  zh-TW: '{name}您好'\n  en: 'Hello {nmae}'\n", encoding="utf-8")
    with pytest.raises(TextsError, match="different placeholders"):
        MessageCatalog.load(tmp_path)


def test_lookup_formats_and_falls_back_to_zh() -> None:
    texts = MessageCatalog.load()
    expected = 'No course matches "x". Try other words, or browse from the menu.'
    assert texts.get("search.none", "en", query="x") == expected
    assert texts.get("lang.switched", "fr") == texts.get("lang.switched", "zh-TW")
    with pytest.raises(KeyError):
        texts.get("no.such.key", "zh-TW")
