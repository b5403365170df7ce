"""How the course search reads a query: the words file ``data/search.yaml`` and the query's terms.

A query is folded (:func:`bot.textfold.fold`), cut into terms (ASCII words and runs of other characters),
and freed of words that say nothing about a course (stop words anywhere, the intents file's search fillers
at the ends). Synonym groups let a term match a name that holds an equivalent word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.datafiles import read_yaml, validate_file
from bot.textfold import compact, fold

_TERM = re.compile(r"[a-z0-9]+|[^\W\da-z_]+", re.UNICODE)


class SearchWordsFile(BaseModel):
    """The whole ``data/search.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stopwords: tuple[str, ...] = ()
    english_stopwords: tuple[str, ...] = ()
    light_characters: tuple[str, ...] = ()
    whole_words: tuple[str, ...] = ()
    echo_at_most: int = Field(default=30, ge=5, le=200)
    synonyms: tuple[tuple[str, ...], ...] = ()

    @field_validator("stopwords")
    @classmethod
    def _long_enough(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        short = [w for w in words if len(compact(w)) < 2]
        if short:
            raise ValueError(f"stop words need two characters or more: {', '.join(short)}")
        return words

    @field_validator("light_characters")
    @classmethod
    def _single(cls, chars: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in chars if len(compact(c)) != 1]
        if bad:
            raise ValueError(f"light characters are single characters: {', '.join(bad)}")
        return chars

    @field_validator("synonyms")
    @classmethod
    def _groups(cls, groups: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        for group in groups:
            if len({compact(w) for w in group if compact(w)}) < 2:
                raise ValueError(f"a synonym group needs two different words: {list(group)}")
        return groups


@dataclass(frozen=True)
class Term:
    """One term of a query: an ASCII word, or a run of other (CJK) characters."""

    text: str
    ascii: bool


class QueryReader:
    """Cuts queries into terms and knows each term's synonyms."""

    def __init__(self, words: SearchWordsFile | None = None, fillers: tuple[str, ...] = ()) -> None:
        words = words or SearchWordsFile()
        self._stop_runs = sorted({compact(w) for w in words.stopwords}, key=len, reverse=True)
        self._stop_ascii = frozenset(compact(w) for w in words.english_stopwords)
        # Longest fillers first, so "我想找" goes before "我想".
        self._fillers = sorted({compact(f) for f in fillers if compact(f)}, key=len, reverse=True)
        self.light = frozenset(compact(c) for c in words.light_characters)
        self.echo_at_most = words.echo_at_most
        self.whole_words = tuple(sorted({compact(w) for w in words.whole_words if compact(w)}))
        self._synonyms: dict[str, frozenset[str]] = {}
        for group in words.synonyms:
            forms = frozenset(compact(w) for w in group if compact(w))
            for form in forms:
                self._synonyms[form] = self._synonyms.get(form, frozenset()) | (forms - {form})
        self._synonym_prefixes = frozenset(w[:end] for w in self._synonyms for end in range(2, len(w) + 1))

    def begins_synonym(self, piece: str) -> bool:
        """Whether ``piece`` begins a word of some synonym group (so a longer piece may still match)."""
        return piece in self._synonym_prefixes

    def synonyms(self, word: str) -> frozenset[str]:
        """The other words of ``word``'s synonym groups (compact forms)."""
        return self._synonyms.get(word, frozenset())

    def _strip_fillers(self, q: str) -> str:
        changed = True
        while changed and q:
            changed = False
            for f in self._fillers:
                if q.startswith(f) and len(q) > len(f):
                    q, changed = q[len(f):], True
                elif q.endswith(f) and len(q) > len(f):
                    q, changed = q[: -len(f)], True
        return q

    def terms(self, query: str) -> tuple[Term, ...]:
        """The terms of ``query`` that say which course is meant, in order.

        ASCII words are dropped whole when they are stop words or fillers; runs of other characters are cut at
        stop words and lose fillers at their ends; single characters typed apart ("時 間 管 理") are joined.
        """
        raw = self._join_singles([m.group(0) for m in _TERM.finditer(fold(query))])
        terms: list[Term] = []
        for token in raw:
            if token.isascii():
                if token not in self._stop_ascii and token not in self._fillers:
                    terms.append(Term(token, True))
                continue
            for part in self._cut_stopwords(token):
                part = self._strip_fillers(part)
                if part and part not in self._fillers:
                    terms.append(Term(part, False))
        if not terms:  # only stop words: search what was typed
            terms = [Term(t, t.isascii()) for t in raw]
        return tuple(terms)

    @staticmethod
    def _join_singles(tokens: list[str]) -> list[str]:
        out: list[str] = []
        single = False  # whether out[-1] is made of single CJK characters typed apart
        for token in tokens:
            alone = len(token) == 1 and not token.isascii()
            if alone and single:
                out[-1] += token
            else:
                out.append(token)
                single = alone
        return out

    def _cut_stopwords(self, run: str) -> list[str]:
        parts = [run]
        for stop in self._stop_runs:
            parts = [piece for part in parts for piece in part.split(stop)]
        return [p for p in parts if p]


def load_search_words(data_dir: Path) -> SearchWordsFile:
    """Load and validate ``data/search.yaml`` (an absent file means no stop words and no synonyms)."""
    path = data_dir / "search.yaml"
    if not path.exists():
        return SearchWordsFile()
    return validate_file(SearchWordsFile, read_yaml(path), path)
