"""How typed text and names are folded before they are compared: width, case, simplified → traditional."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_ASCII_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1)
def _converter() -> object:
    from opencc import OpenCC

    return OpenCC("s2tw")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Fold width and case and convert simplified characters to traditional."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    if any("\u4e00" <= ch <= "\u9fff" for ch in normal):
        normal = _converter().convert(normal)  # type: ignore[attr-defined]
    return normal


def compact(text: str) -> str:
    """Fold, then drop spaces and punctuation: the form names and queries are compared in."""
    return _NON_WORD.sub("", fold(text))


def ascii_words(text: str) -> set[str]:
    """The ASCII words of a folded text ("AI人工智慧" → {"ai"})."""
    return set(_ASCII_WORD.findall(fold(text)))
