"""Search quality (a top-3 hit rate over a realistic query set) and search behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import DEFAULT_DATA_DIR
from bot.intents import IntentRecognizer
from bot.services.catalog import SearchEngine, load_catalog
from bot.textfold import ascii_words, compact, fold

DATA = Path(__file__).resolve().parent / "data"
TOP3_THRESHOLD = 0.95


@pytest.fixture(scope="module")
def engine() -> SearchEngine:
    catalog = load_catalog(DEFAULT_DATA_DIR, 113)
    intents = IntentRecognizer.load(DEFAULT_DATA_DIR / "intents.yaml")
    return SearchEngine(catalog, intents.fillers)


def _queries() -> list[dict[str, object]]:
    return yaml.safe_load((DATA / "search_queries.yaml").read_text(encoding="utf-8"))


def test_query_set_is_large_and_refers_to_real_items(engine: SearchEngine) -> None:
    queries = _queries()
    assert len(queries) >= 60
    unknown = {i for q in queries for i in q["expect"] if i not in engine.catalog.items}  # type: ignore[attr-defined]
    assert not unknown


def test_top3_hit_rate(engine: SearchEngine) -> None:
    queries = _queries()
    misses = []
    for q in queries:
        top = [h.item.id for h in engine.search(str(q["query"]), limit=3)]
        if not set(top) & set(q["expect"]):  # type: ignore[arg-type]
            misses.append((q["query"], q["expect"], top))
    rate = 1 - len(misses) / len(queries)
    print(f"top-3 hit rate {rate:.3f} over {len(queries)} queries; misses: {misses}")
    assert rate >= TOP3_THRESHOLD, misses


def test_unrelated_queries_find_nothing(engine: SearchEngine) -> None:
    nohits = yaml.safe_load((DATA / "search_nohits.yaml").read_text(encoding="utf-8"))
    found = {q: [h.item.id for h in engine.search(q)] for q in nohits}
    assert not {q: ids for q, ids in found.items() if ids}


@pytest.mark.parametrize("query", ["ai", "fb", "ig", "3d"])
def test_short_ascii_queries_match_whole_words_only(engine: SearchEngine, query: str) -> None:
    hits = engine.search(query, limit=None)
    assert hits, query
    for hit in hits:
        assert query in ascii_words(hit.matched), (query, hit.matched)


def test_short_query_does_not_match_inside_words(engine: SearchEngine) -> None:
    # "te" is inside "Master", "Twin" … but is no word of any title.
    assert engine.search("te") == []


def test_results_are_ranked_and_unique(engine: SearchEngine) -> None:
    hits = engine.search("管理", limit=None)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.item.id for h in hits}) == len(hits)


def test_fillers_are_stripped(engine: SearchEngine) -> None:
    assert engine.normalize_query("我想找時間管理的課") == "時間管理"
    assert engine.search("我想找時間管理的課", limit=1)[0].item.title == "我要成為時間管理大師"


def test_folding() -> None:
    assert compact("ＰＯＷＥＲ　ＢＩ") == "powerbi"
    assert fold("区块链") == "區塊鏈"
    assert compact("「法規」保健，防身術！") == "法規保健防身術"


def test_empty_and_punctuation_only_queries(engine: SearchEngine) -> None:
    assert engine.search("") == []
    assert engine.search("？！…　") == []
