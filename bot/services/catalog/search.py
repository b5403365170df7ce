"""Course search: typo-tolerant, bilingual, simplified-or-traditional, alias-aware.

Every catalog item contributes several *names* (its title, English title, aliases, and the
topics a class lists). Names and queries are folded the same way (NFKC, case, simplified →
traditional, no spaces or punctuation), then scored with rapidfuzz's ``partial_ratio`` in one
C-level pass. Short ASCII queries ("ai", "fb") must match a whole word, so they do not hit
inside unrelated words ("retail").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz, process

from bot.services.catalog.items import Catalog, CatalogItem
from bot.textfold import ascii_words, compact

MatchVia = Literal["title", "title_en", "alias", "topic"]

# How much a hit through each kind of name is worth, relative to a title hit.
VIA_WEIGHT: dict[MatchVia, float] = {"title": 1.0, "title_en": 0.98, "alias": 0.97, "topic": 0.95}
SCORE_CUTOFF = 72.0
SHORT_ASCII = 3


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


class SearchEngine:
    """An in-memory index over one catalog."""

    def __init__(self, catalog: Catalog, fillers: Iterable[str] = ()) -> None:
        self.catalog = catalog
        self._names: list[_Name] = []
        self._by_word: dict[str, list[int]] = {}
        for item in catalog:
            self._add(item.id, "title", item.title)
            self._add(item.id, "title_en", item.title_en)
            for alias in item.aliases:
                self._add(item.id, "alias", alias)
            for topic in item.topics:
                self._add(item.id, "topic", topic.title)
                self._add(item.id, "topic", topic.title_en)
        self._choices = [n.compact for n in self._names]
        # Longest fillers first, so "我想找" goes before "我想".
        self._fillers = sorted({compact(f) for f in fillers if compact(f)}, key=len, reverse=True)

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
        for word in ascii_words(text):
            self._by_word.setdefault(word, []).append(index)

    def normalize_query(self, query: str) -> str:
        """Fold the query and strip filler words ("我想找…課程") from its ends."""
        q = compact(query)
        changed = True
        while changed and q:
            changed = False
            for f in self._fillers:
                if q.startswith(f) and len(q) > len(f):
                    q, changed = q[len(f):], True
                elif q.endswith(f) and len(q) > len(f):
                    q, changed = q[: -len(f)], True
        return q

    def search(self, query: str, limit: int | None = 10) -> list[SearchHit]:
        """Rank catalog items for ``query``; best first, one hit per item.

        Args:
            query: what the user typed, in any script or language.
            limit: how many hits at most (None for all).

        Returns:
            Hits whose score passed the cutoff, best first.
        """
        q = self.normalize_query(query)
        if not q:
            return []
        hits = self._ranked(q)
        return list(hits) if limit is None else list(hits[:limit])

    @lru_cache(maxsize=2048)  # noqa: B019 (one engine per app, living as long as the process)
    def _ranked(self, q: str) -> tuple[SearchHit, ...]:
        """All hits of a normalised query; employees type the same few words, so results are cached."""
        scored: list[tuple[float, float, int]] = []
        if q.isascii() and len(q) <= SHORT_ASCII:
            for index in self._by_word.get(q, []):
                scored.append((100.0, 100.0, index))
        else:
            matches = process.extract(q, self._choices, scorer=fuzz.partial_ratio, processor=None,
                                      score_cutoff=SCORE_CUTOFF, limit=None)
            for _choice, score, index in matches:
                name = self._names[index]
                if len(name.compact) < len(q):
                    # A short name inside a long query is weaker evidence than the reverse.
                    score *= (len(name.compact) / len(q)) ** 0.5
                if score < SCORE_CUTOFF:
                    continue
                scored.append((score, fuzz.ratio(q, name.compact), index))
        best: dict[str, tuple[float, float, int]] = {}
        for score, tie, index in scored:
            name = self._names[index]
            weighted = score * VIA_WEIGHT[name.via]
            current = best.get(name.item_id)
            if current is None or (weighted, tie) > current[:2]:
                best[name.item_id] = (weighted, tie, index)
        ranked = sorted(best.values(), key=lambda t: (-t[0], -t[1], self._names[t[2]].item_id))
        return tuple(
            SearchHit(self.catalog.items[self._names[i].item_id], round(s, 1),
                      self._names[i].via, self._names[i].original)
            for s, _tie, i in ranked
        )
