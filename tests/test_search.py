"""Search quality (right course in the top 3, nothing unrelated in the top 5; a tuned and a held-out set), behaviour."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from bot.services.catalog import SearchEngine
from bot.textfold import ascii_words, compact, fold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import search as bench

DATA = Path(__file__).resolve().parent / "data"
TOP3_FLOOR = 0.97  # the goals of issue 10, part 6, on the set the search is tuned on
CLEAN5_FLOOR = 0.95
# The held-out set (never tuned against) measured 93.7 % and 98.9 % after the first tuning round, 97.9 % and
# 96.8 % after the second (fresh tuned queries, a lower score floor): `.venv/bin/python bench/search.py --quality`
# prints both sets.
HELD_OUT_TOP3_FLOOR = 0.97
HELD_OUT_CLEAN5_FLOOR = 0.96


@pytest.fixture(scope="module")
def engine() -> SearchEngine:
    return bench.engine()


def _queries() -> list[dict[str, object]]:
    return yaml.safe_load((DATA / "search_queries.yaml").read_text(encoding="utf-8"))


def test_query_sets_are_large_and_refer_to_real_items(engine: SearchEngine) -> None:
    queries = _queries() + bench.queries(bench.HELD_OUT)
    assert len(queries) >= 300
    unknown = {i for q in queries for i in [*q["expect"], *q.get("related", [])]  # type: ignore[attr-defined,misc]
               if i not in engine.catalog.items}
    assert not unknown


def test_tuned_set_finds_the_right_course_and_nothing_unrelated(engine: SearchEngine) -> None:
    quality = bench.quality(engine, bench.TUNED)
    assert quality.top3 >= TOP3_FLOOR, quality.misses
    assert quality.clean5 >= CLEAN5_FLOOR, quality.unrelated


def test_held_out_set_stays_above_its_floors(engine: SearchEngine) -> None:
    quality = bench.quality(engine, bench.HELD_OUT)
    assert quality.queries >= 80
    assert quality.top3 >= HELD_OUT_TOP3_FLOOR, quality.misses
    assert quality.clean5 >= HELD_OUT_CLEAN5_FLOOR, quality.unrelated


def test_held_out_queries_are_not_in_the_tuned_set() -> None:
    tuned = {compact(str(q["query"])) for q in bench.queries(bench.TUNED)}
    assert not [q["query"] for q in bench.queries(bench.HELD_OUT) if compact(str(q["query"])) in tuned]


@pytest.mark.parametrize(("query", "expected"), [
    ("notion", ["B1-2-5"]), ("python", ["B1-3-1"]), ("Instagram", ["A2-8-3"]), ("word", []),
    ("退休規劃", ["C1-3-5"]), ("手機拍照", ["A2-8-2"]), ("FB IG 文案", ["A2-8-3"]), ("英語遊戲", ["A2-7-3"]),
    ("團隊管理", ["A1-3"]), ("區塊鏈是什麼", ["B1-3", "B1-3-2"]),
])
def test_the_queries_of_the_issue_find_only_what_they_ask(engine: SearchEngine, query: str,
                                                           expected: list[str]) -> None:
    assert sorted(h.item.id for h in engine.search(query, limit=None)) == expected


def test_a_title_hit_ranks_above_a_description_hit(engine: SearchEngine) -> None:
    # 治理 is in the title of B1-2-1 (AI 與公共治理) and only in the description of others.
    hits = engine.search("治理", limit=None)
    assert hits[0].via in ("title", "alias")
    assert all(h.via != "description" for h in hits)


def test_a_piece_found_through_a_synonym_counts_a_little_less(engine: SearchEngine) -> None:
    direct = engine.search("手機攝影", limit=1)[0]
    through = engine.search("手機拍照", limit=1)[0]
    assert direct.item.id == through.item.id and through.score < direct.score


def test_a_word_inside_a_whole_word_is_no_match(engine: SearchEngine) -> None:
    assert "B1-4-3" not in {h.item.id for h in engine.search("影片", limit=None)}  # not 投影片
    assert "B1-4-3" in {h.item.id for h in engine.search("投影片", limit=None)}


def test_typed_apart_characters_are_joined(engine: SearchEngine) -> None:
    assert engine.search("時 間 管 理", limit=1)[0].item.id == "A2-6-1"


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
