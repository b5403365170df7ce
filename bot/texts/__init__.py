"""The message catalog: every user-visible string, in zh-TW first and English.

Texts live in YAML files beside this module, one per feature (``core.yaml``, ``hours.yaml`` …).
Each key maps to ``{zh-TW: ..., en: ...}``; placeholders use ``str.format`` syntax.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

LANGS = ("zh-TW", "en")
TEXTS_DIR = Path(__file__).resolve().parent
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it: the same result, about ten times faster to read."""


class TextsError(ValueError):
    """A message file is malformed (names the file and key)."""


class MessageCatalog:
    """Look up a text by key and language and fill in its placeholders."""

    def __init__(self, texts: Mapping[str, Mapping[str, str]]) -> None:
        self._texts = dict(texts)

    @classmethod
    def load(cls, directory: Path = TEXTS_DIR) -> MessageCatalog:
        """Load and check every ``*.yaml`` file in ``directory``."""
        merged: dict[str, dict[str, str]] = {}
        for path in sorted(directory.glob("*.yaml")):
            raw: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}  # a safe loader
            if not isinstance(raw, dict):
                raise TextsError(f"{path.name}: expected a mapping of keys to texts")
            for key, entry in raw.items():
                if key in merged:
                    raise TextsError(f"{path.name}: key {key!r} is defined twice")
                if not isinstance(entry, dict) or set(entry) != set(LANGS):
                    raise TextsError(f"{path.name}: key {key!r} needs exactly zh-TW and en texts")
                fields = [_fields(str(entry[lang])) for lang in LANGS]
                if fields[0] != fields[1]:
                    raise TextsError(f"{path.name}: key {key!r} has different placeholders per language")
                merged[str(key)] = {lang: str(entry[lang]) for lang in LANGS}
        return cls(merged)

    def keys(self) -> set[str]:
        """Every key in the catalog."""
        return set(self._texts)

    def get(self, key: str, lang: str, /, **values: object) -> str:
        """Return the text for ``key`` in ``lang`` (zh-TW when unknown), formatted with ``values``."""
        entry = self._texts.get(key)
        if entry is None:
            raise KeyError(f"no text for key {key!r}")
        template = entry.get(lang) or entry["zh-TW"]
        if values and lang == "en":
            template = singular_after_one(template, values)
        return template.format(**values) if values else template


_COUNTED = re.compile(r"\{(\w+)\}(\s+)([A-Za-z]+)\b")


def _singular(word: str) -> str:
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + ("Y" if word[-3].isupper() else "y")
    if lower.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith("ss"):
        return word[:-1]
    return word


def singular_after_one(template: str, values: Mapping[str, object]) -> str:
    """English: the plural noun right after a placeholder whose value is 1 made singular.

    ``"{count} courses found"`` with count 1 reads "1 course found", ``"{left} seats left"`` "1 seat left";
    other values, and words that are no plural ("{count} left"), are kept as written.
    """
    def one(value: object) -> bool:
        return str(value).strip() in ("1", "1.0")

    def fix(m: re.Match[str]) -> str:
        name, gap, word = m.group(1), m.group(2), m.group(3)
        if name in values and one(values[name]) and word.lower().endswith("s"):
            return f"{{{name}}}{gap}{_singular(word)}"
        return m.group(0)

    return _COUNTED.sub(fix, template)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
