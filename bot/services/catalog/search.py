"""Course search: a result must be about the words asked; title and alias hits rank above description hits.

Every catalog item contributes *names*: its titles, aliases, the topics a class lists, and (weakly) its
descriptions. A query is cut into terms (:mod:`bot.services.catalog.search_words`): ASCII words and runs
of CJK characters. An ASCII word matches a whole word of a name (or, from four letters, a word it begins,
or one typo away: one edit from five letters, two from nine, a swap at four), never letters inside a word
("ai" is not in "retail", "word" not in "workout"). A CJK run is covered by pieces of two characters or
more that names hold ("英語遊戲" = 英語 + 遊戲), synonyms of data/search.yaml standing in for a piece. An
item's score is the share of the query its names cover, weighted by how good each match is (0–100); items
that cover much less than the best one are no results.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.services.catalog.items import Catalog, CatalogItem
from bot.services.catalog.search_words import QueryReader, SearchWordsFile, Term
from bot.textfold import compact, fold

MatchVia = Literal["title", "title_en", "alias", "topic", "description"]

# How much a hit through each kind of name is worth, relative to a title hit.
VIA_WEIGHT: dict[MatchVia, float] = {"title": 1.0, "title_en": 1.0, "alias": 0.97, "topic": 0.95,
                                     "description": 0.6}
SYNONYM = 0.9  # a piece matched through a synonym
PREFIX = 0.9  # an ASCII word that begins a name's word ("present" → presentation)
TYPO = 0.85  # an ASCII word one or two edits from a name's word
PLURAL = 0.98  # "stock" for "stocks"
MIN_SCORE = 45.0  # no result below this (0–100): half a query matched through an alias passes
RELATIVE = 0.8  # … nor below this share of the best result's score
ASCII_WEIGHT = 2.0  # an ASCII word weighs as much as two CJK characters
LIGHT_WEIGHT = 1 / 3  # a light character (學, 寫 …) a third of one
MIN_FUZZY = 4  # ASCII words shorter than this match whole words only
_ASCII_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class SearchHit:
    """One ranked result."""

    item: CatalogItem
    score: float
    via: MatchVia
    matched: str


@dataclass(frozen=True)
class _Name:
    item_id: str
    via: MatchVia
    original: str
    compact: str


_Hits = dict[str, tuple[float, int]]  # item id → (weight of the match, index of the name)


def _typo_budget(word: str) -> int:
    return 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0


class SearchEngine:
    """An in-memory index over one catalog."""

    def __init__(self, catalog: Catalog, fillers: Iterable[str] = (), words: SearchWordsFile | None = None) -> None:
        self.catalog = catalog
        self.reader = QueryReader(words, tuple(fillers))
        self._names: list[_Name] = []
        self._bigrams: dict[str, set[int]] = {}
        self._words: dict[str, list[int]] = {}
        for item in catalog:
            self._add(item.id, "title", item.title)
            self._add(item.id, "title_en", item.title_en)
            for alias in item.aliases:
                self._add(item.id, "alias", alias)
            for topic in item.topics:
                self._add(item.id, "topic", topic.title)
                self._add(item.id, "topic", topic.title_en)
            self._add(item.id, "description", item.description)
            self._add(item.id, "description", item.description_en)
        self._vocabulary = sorted({w for w, idx in self._words.items()
                                   if any(self._names[i].via != "description" for i in idx)})

    @property
    def name_count(self) -> int:
        """How many names the index holds."""
        return len(self._names)

    def _add(self, item_id: str, via: MatchVia, text: str) -> None:
        c = compact(text)
        if not c:
            return
        index = len(self._names)
        self._names.append(_Name(item_id, via, text, c))
        for a, b in itertools.pairwise(c):
            self._bigrams.setdefault(a + b, set()).add(index)
        words = _ASCII_WORD.findall(fold(text))
        joined = {a + b for a, b in itertools.pairwise(words)}  # "power automate" → powerautomate
        for word in {*words, *joined}:
            self._words.setdefault(word, []).append(index)

    def normalize_query(self, query: str) -> str:
        """The query as searched: its terms, folded and joined ("我想找時間管理的課" → "時間管理")."""
        return "".join(t.text for t in self.reader.terms(query))

    def search(self, query: str, limit: int | None = 10) -> list[SearchHit]:
        """Rank catalog items for ``query``; best first, one hit per item.

        Args:
            query: what the user typed, in any script or language.
            limit: how many hits at most (None for all).

        Returns:
            Hits about the words asked, best first.
        """
        terms = self.reader.terms(query)
        if not terms:
            return []
        hits = self._ranked(terms)
        return list(hits) if limit is None else list(hits[:limit])

    @lru_cache(maxsize=2048)  # noqa: B019 (one engine per app, living as long as the process)
    def _ranked(self, terms: tuple[Term, ...]) -> tuple[SearchHit, ...]:
        """All hits of a query's terms; employees type the same few words, so results are cached."""
        total = 0.0
        gained: dict[str, float] = {}
        best_name: dict[str, tuple[float, int]] = {}
        for term in terms:
            if term.ascii:
                weight = ASCII_WEIGHT
                for item_id, (w, index) in self._word_hits(term.text).items():
                    if len(terms) > 1 and self._names[index].via == "description":
                        continue  # a description counts only when it holds the whole query, as for CJK runs
                    self._credit(gained, best_name, item_id, weight * w, index)
            else:
                weights = [LIGHT_WEIGHT if ch in self.reader.light else 1.0 for ch in term.text]
                weight = sum(weights)
                for item_id, (covered, index) in self._cover(term.text, weights).items():
                    self._credit(gained, best_name, item_id, covered, index)
            total += weight
        if not total:
            return ()
        scored = {item_id: 100.0 * g / total for item_id, g in gained.items()}
        top = max(scored.values(), default=0.0)
        floor = max(MIN_SCORE, top * RELATIVE)
        q = "".join(t.text for t in terms)
        ranked = sorted(
            ((s, fuzz.ratio(q, self._names[best_name[i][1]].compact), i) for i, s in scored.items() if s >= floor),
            key=lambda t: (-t[0], -t[1], t[2]))
        return tuple(
            SearchHit(self.catalog.items[i], round(s, 1), self._names[best_name[i][1]].via,
                      self._names[best_name[i][1]].original)
            for s, _tie, i in ranked
        )

    @staticmethod
    def _credit(gained: dict[str, float], best_name: dict[str, tuple[float, int]], item_id: str,
                amount: float, index: int) -> None:
        gained[item_id] = gained.get(item_id, 0.0) + amount
        if amount > best_name.get(item_id, (0.0, -1))[0]:
            best_name[item_id] = (amount, index)

    @lru_cache(maxsize=8192)  # noqa: B019
    def _word_hits(self, word: str) -> _Hits:
        """Items whose names hold the ASCII ``word`` (whole, plural, begun, or mistyped)."""
        hits: _Hits = {}
        forms = [(word, 1.0)] + [(s, SYNONYM) for s in self.reader.synonyms(word) if s.isascii()]
        forms += [(f, PLURAL) for f in (word + "s", word + "es", word[:-1] if word.endswith("s") else "")
                  if f and f != word]
        for form, w in forms:
            for index in self._words.get(form, []):
                self._keep(hits, index, w)
        if len(word) >= MIN_FUZZY:
            for other in self._vocabulary:
                if len(other) > len(word) and other.startswith(word):
                    self._keep_words(hits, other, PREFIX)
            budget = _typo_budget(word)
            swaps = [v for v in self._vocabulary if len(v) == len(word) and sorted(v) == sorted(word)
                     and OSA.distance(v, word) == 1] if not budget else []
            typos = [m[0] for m in process.extract(word, self._vocabulary, scorer=OSA.distance,
                                                    score_cutoff=budget, limit=None)] if budget else swaps
            for other in typos:
                if other != word and len(other) >= MIN_FUZZY:
                    self._keep_words(hits, other, TYPO)
        return hits

    def _keep_words(self, hits: _Hits, word: str, w: float) -> None:
        for index in self._words.get(word, []):
            if self._names[index].via != "description":
                self._keep(hits, index, w)

    def _keep(self, hits: _Hits, index: int, w: float) -> None:
        name = self._names[index]
        value = w * VIA_WEIGHT[name.via]
        if value > hits.get(name.item_id, (0.0, -1))[0]:
            hits[name.item_id] = (value, index)

    @lru_cache(maxsize=8192)  # noqa: B019
    def _piece_hits(self, piece: str) -> tuple[_Hits, bool]:
        """Items whose names hold ``piece`` (or a synonym of it), with the best weight of each; and whether it may grow.

        It may grow when some name holds its letters or it begins a synonym: else no longer piece matches either.
        """
        hits: _Hits = {}
        exists = False
        for form, w in [(piece, 1.0), *((s, SYNONYM) for s in self.reader.synonyms(piece))]:
            postings: set[int] | None = None
            for a, b in itertools.pairwise(form):
                found = self._bigrams.get(a + b)
                if not found:
                    postings = set()
                    break
                postings = set(found) if postings is None else postings & found
            for index in postings or ():
                name = self._names[index].compact
                if form == piece and piece in name:
                    exists = True
                if self._holds(name, form):
                    self._keep(hits, index, w)
        return hits, exists or bool(hits) or self.reader.begins_synonym(piece)

    def _holds(self, name: str, form: str) -> bool:
        """Whether ``name`` holds ``form`` other than inside one of the whole words of data/search.yaml."""
        at = name.find(form)
        while at >= 0:
            end = at + len(form)
            if not any(self._cuts(name, at, end, word) for word in self.reader.whole_words if form != word):
                return True
            at = name.find(form, at + 1)
        return False

    @staticmethod
    def _cuts(name: str, start: int, end: int, word: str) -> bool:
        """Whether name[start:end] lies inside an occurrence of ``word`` without being all of it."""
        at = name.find(word)
        while at >= 0:
            if at <= start and end <= at + len(word):
                return True
            at = name.find(word, at + 1)
        return False

    def _cover(self, run: str, weights: list[float]) -> dict[str, tuple[float, int]]:
        """For each item, how much of the CJK ``run`` its names cover (in character weights), and its best name.

        The best cover is a dynamic programme over the run's end positions, using only the pieces an item holds.
        """
        n = len(run)
        upto = list(itertools.accumulate(weights, initial=0.0))
        by_item: dict[str, dict[int, list[tuple[int, float, int]]]] = {}  # item → end → (start, gain, name)
        spans = [(0, 1)] if n == 1 else []
        for begin in range(n):
            for stop in range(begin + 2, n + 1):
                hits, grows = self._piece_hits(run[begin:stop])
                for item_id, (w, index) in hits.items():
                    if self._names[index].via == "description" and stop - begin < n:
                        continue  # a description counts only when it holds the whole run
                    by_item.setdefault(item_id, {}).setdefault(stop, []).append(
                        (begin, w * (upto[stop] - upto[begin]), index))
                if not grows:
                    break  # a longer piece from this start cannot be in any name either
        for begin, stop in spans:
            for item_id, (w, index) in self._piece_hits_single(run).items():
                by_item.setdefault(item_id, {}).setdefault(stop, []).append((begin, w * weights[0], index))
        result: dict[str, tuple[float, int]] = {}
        for item_id, ends in by_item.items():
            best = [0.0] * (n + 1)
            name_at: list[tuple[float, int]] = [(0.0, -1)] * (n + 1)
            for stop in range(1, n + 1):
                best[stop], name_at[stop] = best[stop - 1], name_at[stop - 1]
                for begin, gain, index in ends.get(stop, ()):
                    if best[begin] + gain > best[stop]:
                        best[stop] = best[begin] + gain
                        name_at[stop] = max(name_at[begin], (gain, index))
            if best[n] > 0:
                result[item_id] = (best[n], name_at[n][1])
        return result

    @lru_cache(maxsize=1024)  # noqa: B019
    def _piece_hits_single(self, char: str) -> _Hits:
        """A query of one character: items with a name holding it as a whole word of the name's start."""
        hits: _Hits = {}
        for index, name in enumerate(self._names):
            if name.via != "description" and name.compact == char:
                self._keep(hits, index, 1.0)
        return hits
