"""Search latency: p50/p99 of one query on the plan catalog and on a catalog ten times larger.

Run: .venv/bin/python bench/search.py [--rounds N]
The queries are the quality set of tests/data/search_queries.yaml (realistic typing: typos, English,
simplified characters, aliases). The larger catalog repeats every track's items ten times with new ids.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from bot.config import DEFAULT_DATA_DIR
from bot.intents import IntentRecognizer
from bot.services.catalog import Catalog, CatalogFile, SearchEngine, load_catalog
from bot.textfold import fold

ROOT = Path(__file__).resolve().parent.parent


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
                SearchEngine._ranked.cache_clear()
            start = time.perf_counter()
            engine.search(q)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1], samples[-1]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    queries = [str(q["query"]) for q in yaml.safe_load(
        (ROOT / "tests" / "data" / "search_queries.yaml").read_text(encoding="utf-8"))]
    fillers = IntentRecognizer.load(DEFAULT_DATA_DIR / "intents.yaml").fillers
    base = load_catalog(DEFAULT_DATA_DIR, 113)
    print(f"{len(queries)} queries x {args.rounds} rounds")
    for label, catalog in (("plan catalog", base), ("10x catalog", tenfold(base))):
        engine = SearchEngine(catalog, fillers)
        p50, p99, worst = measure(engine, queries, args.rounds)
        print(f"{label:13s} items={len(catalog):4d} names={engine.name_count:5d}  "
              f"p50={p50:.3f} ms  p99={p99:.3f} ms  max={worst:.3f} ms  (scored every time)")
        p50, p99, worst = measure(engine, queries, args.rounds, cached=True)
        print(f"{'':13s} repeated queries from the result cache: p50={p50:.4f} ms  p99={p99:.4f} ms")
    fold.cache_clear()
    SearchEngine._ranked.cache_clear()
    engine = SearchEngine(base, fillers)
    p50, p99, worst = measure(engine, [q + " " for q in queries], 1)
    print(f"cold fold     (first sight of each query, incl. simplified->traditional) p99={p99:.3f} ms")


if __name__ == "__main__":
    main()
