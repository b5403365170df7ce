"""The intents data file (``data/intents.yaml``): its schema, and how its phrases and typed text are folded.

:mod:`bot.intents` builds the recognizer from it; this module changes when the file's shape does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.textfold import compact, fold

SEARCH = "search"
"""The label of course words (``search_examples`` and the catalog's names): not a command."""

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)

_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff]) (?=[\u3400-\u9fff\uf900-\ufaff])")

_EMPLOYEE_NO = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,3}[-_]?[0-9]{3,12}(?![A-Za-z0-9])")
# A binding code as HR hands it out (4+4 with a dash, or 8 letters and digits mixed): an argument the
# classifier must not read ("VRWV-5UNB" once looked like "unbind" to its character n-grams).
_CODE_LIKE = re.compile(r"(?<![A-Za-z0-9-])(?:[A-Za-z0-9]{4}-[A-Za-z0-9]{4}|(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])"
                        r"[A-Za-z0-9]{8})(?![A-Za-z0-9-])")

def phrase_key(text: str) -> str:
    """The form texts and phrases are compared in: :func:`compact`, or for punctuation only, the marks.

    ``compact`` drops punctuation, so "?" would fold to nothing and never equal anything. A text with
    no letters or digits keeps its folded marks instead, spaces dropped and a run of one mark counted
    once: "?", "？", "??" and "？ ？" are all "?". Empty only for an empty or all-space text.
    """
    words = compact(text)
    if words:
        return words
    marks = "".join(fold(text).split())
    return "".join(ch for i, ch in enumerate(marks) if i == 0 or marks[i - 1] != ch)

@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """The spaced form the classifier reads: folded, punctuation as spaces, no spaces between Chinese characters."""
    spaced = _NON_WORD.sub(" ", fold(text)).strip()
    return " ".join(_CJK_GAP.sub("", spaced).split())

def _ends_word(s: str, at: int) -> bool:
    """True when position ``at`` of ``s`` is not inside an ASCII word (so "cancel" is no prefix of "cancellation")."""
    if at <= 0 or at >= len(s):
        return True
    return not (s[at - 1].isascii() and s[at - 1].isalnum() and s[at].isascii() and s[at].isalnum())

class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    exact: tuple[str, ...] = ()
    prefix: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    strict: bool = False
    search_first: bool = False
    argument: Literal["words", "employee_no"] = "words"
    with_number_of: tuple[str, ...] = ()
    """Rules this one answers instead when the text holds an employee number (its ``argument`` is employee_no)."""
    label: str | None = None

    @model_validator(mode="after")
    def _every_phrase_can_match(self) -> _Rule:
        if self.name == SEARCH:
            raise ValueError(f"{SEARCH!r} is reserved for the course words of search_examples")
        if self.with_number_of and self.argument != "employee_no":
            raise ValueError("with_number_of needs argument: employee_no")
        for phrase in self.exact:
            if not phrase_key(phrase):
                raise ValueError(f"exact phrase {phrase!r} folds to nothing and could never match")
        for kind, phrases in (("prefix", self.prefix), ("keywords", self.keywords), ("contains", self.contains),
                              ("examples", self.examples)):
            for phrase in phrases:
                if not compact(phrase):
                    raise ValueError(f"{kind} phrase {phrase!r} folds to nothing (punctuation is dropped) "
                                     "and could never match; punctuation-only phrases go under exact")
        return self

class _Politeness(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    leading: tuple[str, ...] = ()
    trailing: tuple[str, ...] = ()

class _Confirm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    yes: tuple[str, ...] = ()
    no: tuple[str, ...] = ()

class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sure: float = Field(0.5, gt=0, le=1)
    margin: float = Field(0.2, ge=0, le=1)
    clarify: float = Field(0.25, gt=0, le=1)
    pair: float = Field(0.6, gt=0, le=2)
    contains: float = Field(0.9, gt=0, le=1)
    temperature: float = Field(0.3, gt=0)

class _IntentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[_Rule, ...] = Field(min_length=1)
    search_examples: tuple[str, ...] = ()
    politeness: _Politeness = _Politeness()
    question_words: tuple[str, ...] = ()
    confirm: _Confirm = _Confirm()
    decision: _Decision = _Decision()
    search_fillers: tuple[str, ...] = ()
    typos: dict[str, str] = {}
    """Slips of phonetic (注音) typing in command words and their fix ("報明" → "報名"), applied before anything."""

    @model_validator(mode="after")
    def _names_are_unique(self) -> _IntentsFile:
        names = [r.name for r in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rules named more than once: {', '.join(twice)}")
        unknown = sorted({n for r in self.rules for n in r.with_number_of} - set(names))
        if unknown:
            raise ValueError(f"with_number_of names rules that do not exist: {', '.join(unknown)}")
        chained = sorted(typo for typo in self.typos if any(typo in fix for fix in self.typos.values()))
        if chained or "" in self.typos:
            raise ValueError(f"typos whose fix holds a typo (or an empty typo): {', '.join(chained)}")
        return self

def _phrases(words: Sequence[str]) -> tuple[str, ...]:
    """Politeness phrases in normalised form, longest first."""
    return tuple(sorted({p for p in (normalize(w) for w in words) if p}, key=len, reverse=True))

def _has_word(folded: str, word: str) -> bool:
    """``word`` occurs in ``folded`` (as a whole word when it is ASCII)."""
    if not word.isascii():
        return word in folded
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", folded) is not None

def _find_word(spaced: str, word: str) -> int:
    """Where ``word`` first occurs in ``spaced``, -1 when nowhere (ASCII words not inside longer ones)."""
    start = spaced.find(word)
    while start >= 0:
        if _ends_word(spaced, start) and _ends_word(spaced, start + len(word)):
            return start
        start = spaced.find(word, start + 1)
    return -1

@lru_cache(maxsize=1024)
def _char_key(ch: str) -> str:
    return compact(ch)

def _original_span(text: str, words: str) -> str:
    """The part of ``text`` that folds to ``words`` (so an argument keeps the letters as typed), else ``words``."""
    key = compact(words)
    if not key:
        return ""
    starts: list[int] = []  # compact position → index in text
    pieces = []
    for i, ch in enumerate(text):
        piece = _char_key(ch)
        pieces.append(piece)
        starts.extend([i] * len(piece))
    at = "".join(pieces).find(key)
    if at < 0:
        return words
    end = at + len(key)
    return text[starts[at]:starts[end] if end < len(starts) else len(text)].strip()
