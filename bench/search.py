"""Search quality and latency: right course in the top 3, nothing unrelated in the top 5; p50/p99 of one query.

Run: .venv/bin/python bench/search.py [--rounds N]      # latency on the plan catalog and one ten times larger
     .venv/bin/python bench/search.py --quality          # quality on the tuned set and on the held-out set
The tuned set is tests/data/search_queries.yaml (realistic typing: typos, English, simplified characters,
aliases, sentences); the held-out set tests/data/search_heldout.yaml was written before the search was tuned and
is never tuned against (report it, never fit it). The larger catalog repeats every item ten times with new ids.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.config import DEFAULT_DATA_DIR
from bot.intents import IntentRecognizer
from bot.services.catalog import Catalog, CatalogFile, SearchEngine, load_catalog, load_search_words
from bot.textfold import fold

ROOT = Path(__file__).resolve().parent.parent
TUNED = ROOT / "tests" / "data" / "search_queries.yaml"
HELD_OUT = ROOT / "tests" / "data" / "search_heldout.yaml"


@dataclass(frozen=True)
class Quality:
    """How a query set fared: the share with a right course in the top 3 and with no unrelated one in the top 5."""

    queries: int
    top3: float
    clean5: float
    misses: list[tuple[str, list[str]]]
    unrelated: list[tuple[str, list[str]]]


def queries(path: Path) -> list[dict[str, object]]:
    """The queries of a set, each with ``query``, ``expect`` and maybe ``related``."""
    return list(yaml.safe_load(path.read_text(encoding="utf-8")))


def engine(catalog: Catalog | None = None) -> SearchEngine:
    """A search engine as the bot builds it (fillers of the intents file, words of data/search.yaml)."""
    fillers = IntentRecognizer.load(DEFAULT_DATA_DIR / "intents.yaml").fillers
    return SearchEngine(catalog or load_catalog(DEFAULT_DATA_DIR, 113), fillers, load_search_words(DEFAULT_DATA_DIR))


def related(catalog: Catalog, ids: set[str]) -> set[str]:
    """``ids`` with the series of each course and the courses of each series."""
    out = set(ids)
    for i in ids:
        item = catalog.items[i]
        if item.series_id:
            out.add(item.series_id)
        out.update(item.course_ids)
    return out


def quality(search: SearchEngine, path: Path) -> Quality:
    """Score one query set."""
    rows = queries(path)
    misses, unrelated = [], []
    for row in rows:
        expect = {str(i) for i in row["expect"]}  # type: ignore[attr-defined]
        allowed = related(search.catalog, expect | {str(i) for i in row.get("related", [])})  # type: ignore[attr-defined]
        top = [h.item.id for h in search.search(str(row["query"]), limit=5)]
        if not expect & set(top[:3]):
            misses.append((str(row["query"]), top))
        if set(top) - allowed:
            unrelated.append((str(row["query"]), sorted(set(top) - allowed)))
    n = len(rows)
    return Quality(n, 1 - len(misses) / n, 1 - len(unrelated) / n, misses, unrelated)


def print_quality() -> None:
    """Print both sets' figures and what went wrong."""
    search = engine()
    for label, path in (("tuned", TUNED), ("held-out", HELD_OUT)):
        q = quality(search, path)
        print(f"{label:9s} {q.queries:3d} queries  right course in top 3: {q.top3:.1%}  "
              f"no unrelated course in top 5: {q.clean5:.1%}")
        for query, top in q.misses:
            print(f"    miss       {query!r}: {top}")
        for query, extra in q.unrelated:
            print(f"    unrelated  {query!r}: {extra}")


def tenfold(catalog: Catalog) -> Catalog:
    """A catalog with every item repeated ten times under new ids (titles get a copy number)."""
    doc = catalog.spec.model_dump()
    for track in doc["tracks"]:
        for cat in track["categories"]:
            originals = list(cat["items"])
            cat["items"] = list(originals)
            for copy in range(1, 10):
                for item in originals:
                    clone = dict(item, id=f"{item['id']}X{copy}", title=f"{item['title']}（{copy}）")
                    clone["courses"] = [dict(c, id=f"{c['id']}X{copy}") for c in item.get("courses", [])]
                    cat["items"].append(clone)
    return Catalog(CatalogFile.model_validate(doc))


def measure(engine: SearchEngine, queries: list[str], rounds: int, *,
            cached: bool = False) -> tuple[float, float, float]:
    """Return p50, p99 and max latency in milliseconds of single queries.

    Uncached (the default) clears the result cache before every query, so each one is really scored;
    the character-folding cache stays warm, as in a running server.
    """
    for q in queries:
        engine.search(q)
    samples = []
    for _ in range(rounds):
        for q in queries:
            if not cached:
                for cache in (SearchEngine._ranked, SearchEngine._piece_hits, SearchEngine._word_hits):
                    cache.cache_clear()
            start = time.perf_counter()
            engine.search(q)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1], samples[-1]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--quality", action="store_true", help="quality figures on the tuned and held-out sets")
    args = parser.parse_args()
    if args.quality:
        print_quality()
        return
    texts = [str(q["query"]) for path in (TUNED, HELD_OUT) for q in queries(path)]
    base = load_catalog(DEFAULT_DATA_DIR, 113)
    print(f"{len(texts)} queries x {args.rounds} rounds")
    for label, catalog in (("plan catalog", base), ("10x catalog", tenfold(base))):
        search = engine(catalog)
        p50, p99, worst = measure(search, texts, args.rounds)
        print(f"{label:13s} items={len(catalog):4d} names={search.name_count:5d}  "
              f"p50={p50:.3f} ms  p99={p99:.3f} ms  max={worst:.3f} ms  (scored every time)")
        p50, p99, worst = measure(search, texts, args.rounds, cached=True)
        print(f"{'':13s} repeated queries from the result cache: p50={p50:.4f} ms  p99={p99:.4f} ms")
    fold.cache_clear()
    for cache in (SearchEngine._ranked, SearchEngine._piece_hits, SearchEngine._word_hits):
        cache.cache_clear()
    search = engine(base)
    p50, p99, worst = measure(search, [q + " " for q in texts], 1)
    print(f"cold fold     (first sight of each query, incl. simplified->traditional) p99={p99:.3f} ms")


if __name__ == "__main__":
    main()
