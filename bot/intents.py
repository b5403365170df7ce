"""Free-text intent recognition: an ordered keyword table from ``data/intents.yaml``.

Text is folded like search queries (width, case, simplified → traditional, no spaces or punctuation),
then the rules are tried in file order: the first rule with an ``exact`` phrase equal to the text, a
``prefix`` the text starts with (the rest becomes the argument), or a phrase it ``contains`` wins.
A text of punctuation only ("?", "？？") keeps its marks (see :func:`phrase_key`), so it can equal an
``exact`` phrase; a phrase that would fold to nothing refuses the file instead of never matching.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.datafiles import read_yaml, validate_file
from bot.textfold import compact, fold


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


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    exact: tuple[str, ...] = ()
    prefix: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _every_phrase_can_match(self) -> _Rule:
        for phrase in self.exact:
            if not phrase_key(phrase):
                raise ValueError(f"exact phrase {phrase!r} folds to nothing and could never match")
        for kind, phrases in (("prefix", self.prefix), ("contains", self.contains)):
            for phrase in phrases:
                if not compact(phrase):
                    raise ValueError(f"{kind} phrase {phrase!r} folds to nothing (punctuation is dropped) "
                                     "and could never match; punctuation-only phrases go under exact")
        return self


class _IntentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[_Rule, ...] = Field(min_length=1)
    search_fillers: tuple[str, ...] = ()


@dataclass(frozen=True)
class IntentMatch:
    """The rule that matched and the rest of the text (for "報名 python" the argument is "python")."""

    name: str
    argument: str = ""


class IntentRecognizer:
    """Match text against the ordered rule table."""

    def __init__(self, rules: tuple[_Rule, ...], fillers: tuple[str, ...]) -> None:
        self.fillers = fillers
        self._rules = [
            (r.name, {phrase_key(p) for p in r.exact},
             sorted({compact(p) for p in r.prefix}, key=len, reverse=True),
             {compact(p) for p in r.contains})
            for r in rules
        ]

    @property
    def names(self) -> set[str]:
        """Every rule name."""
        return {r[0] for r in self._rules}

    @classmethod
    def load(cls, path: Path) -> IntentRecognizer:
        """Load and validate the rule file."""
        spec = validate_file(_IntentsFile, read_yaml(path), path)
        return cls(spec.rules, spec.search_fillers)

    def match(self, text: str) -> IntentMatch | None:
        """Return the first matching rule, or None when the text is not a command."""
        q = phrase_key(text)
        if not q:
            return None
        for name, exact, prefixes, contains in self._rules:
            if q in exact:
                return IntentMatch(name)
            for p in prefixes:
                if q.startswith(p):
                    return IntentMatch(name, _rest_after(text, p))
            if any(c in q for c in contains):
                return IntentMatch(name)
        return None


def _rest_after(text: str, compact_prefix: str) -> str:
    """The part of the original text after the characters that make up ``compact_prefix``."""
    consumed = 0
    for i, ch in enumerate(text):
        if consumed >= len(compact_prefix):
            return text[i:].strip()
        consumed += len(compact(ch))
    return ""
