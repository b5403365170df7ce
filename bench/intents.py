"""Intent recognition: how fast, what it costs at start-up, and how often it is right.

    .venv/bin/python bench/intents.py             # classification p50/p99, start-up time and memory
    .venv/bin/python bench/intents.py --quality   # accuracy and confusion on the tuned phrasings
    .venv/bin/python bench/intents.py --quality --held-out   # … and on the held-out ones (report, never tune)
    .venv/bin/python bench/intents.py --compare   # the classifiers considered, on the tuned phrasings

The held-out phrasings (tests/data/intent_heldout.yaml) are never used to tune anything: their figure is
the honest one. Quality counts what the chat would answer (``handlers.search.how_answered``): a phrasing
labelled ``search`` is right when it is not taken for a command (course results or "no course matches").
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TUNED = REPO / "tests" / "data" / "intent_phrasings.yaml"
HELD_OUT = REPO / "tests" / "data" / "intent_heldout.yaml"
NOT_A_COMMAND = {"search", "unknown"}


def phrasings(path: Path) -> list[tuple[str, str]]:
    """``(text, label)`` pairs of a phrasings file (label → list of texts)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(str(text), str(label)) for label, texts in data.items() for text in texts]


def load() -> tuple[object, object]:
    """The loaded app and the route table, as the chat has them."""
    from bot.bootstrap import load_app
    from bot.config import load_settings
    from handlers import build_routes

    return load_app(load_settings()), build_routes()


def answered(app: object, routes: object, text: str) -> str:
    """The rule the chat would answer ``text`` with (see handlers.search.how_answered)."""
    from handlers.search import how_answered

    return how_answered(app, routes, app.intents.understand(text))[1]  # type: ignore[attr-defined,arg-type]


def right(label: str, got: str) -> bool:
    """``got`` is the right answer for a phrasing labelled ``label``."""
    return got == label or (label == "search" and got in NOT_A_COMMAND)


def score(app: object, routes: object, path: Path) -> tuple[float, float, list[tuple[str, str, str]]]:
    """Accuracy, accuracy counting a clarifying question that offers the right rule, and the errors."""
    items = phrasings(path)
    errors: list[tuple[str, str, str]] = []
    asked_right = 0
    for text, label in items:
        got = answered(app, routes, text)
        if right(label, got):
            continue
        understood = app.intents.understand(text)  # type: ignore[attr-defined]
        if got == "clarify" and label in understood.options:
            asked_right += 1
        errors.append((text, label, got))
    n = len(items)
    return (n - len(errors)) / n, (n - len(errors) + asked_right) / n, errors


def quality(held_out: bool) -> None:
    """Print accuracy and confusion on the tuned phrasings (and the held-out ones: only to report, never to tune)."""
    app, routes = load()
    for name, path in (("tuned", TUNED), ("held-out", HELD_OUT))[:2 if held_out else 1]:
        acc, acc_asked, errors = score(app, routes, path)
        n = len(phrasings(path))
        print(f"{name}: {n} phrasings, accuracy {acc:.1%} ({n - len(errors)}/{n}); "
              f"counting a clarifying question that offers the right rule: {acc_asked:.1%}")
        confusion = Counter((label, got) for _, label, got in errors)
        for (label, got), count in confusion.most_common():
            examples = "; ".join(t for t, lab, g in errors if (lab, g) == (label, got))
            print(f"  {label} → {got}: {count}  ({examples})")


def latency(rounds: int) -> None:
    """Classification time per text: every phrasing, first with cold text-folding caches, then warm."""
    from bot.intents import normalize
    from bot.textfold import fold

    app, _ = load()
    texts = [t for t, _ in phrasings(TUNED) + phrasings(HELD_OUT)]
    intents = app.intents  # type: ignore[attr-defined]
    for label, clear in (("cold (first time a text is seen)", True), ("warm (text seen before)", False)):
        times: list[float] = []
        for _ in range(rounds):
            if clear:
                fold.cache_clear()
                normalize.cache_clear()
                intents._strip.cache_clear()
            gc.disable()
            for text in texts:
                t0 = time.perf_counter()
                intents.understand(text)
                times.append(time.perf_counter() - t0)
            gc.enable()
        times.sort()
        p50 = statistics.median(times) * 1000
        p99 = times[int(len(times) * 0.99)] * 1000
        print(f"understand(), {label}: p50 {p50:.3f} ms, p99 {p99:.3f} ms ({len(times)} calls)")


_PROBE = """
import resource, sys, time
t0 = time.perf_counter()
from bot.bootstrap import load_app
from bot.config import load_settings
settings = load_settings()
{setup}
t1 = time.perf_counter()
app = load_app(settings)
t2 = time.perf_counter()
print(t2 - t1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 'sklearn' in sys.modules)
"""


def _probe(setup: str, env: dict[str, str] | None = None) -> tuple[float, float, bool]:
    import os

    out = subprocess.run([sys.executable, "-c", _PROBE.format(setup=setup)], capture_output=True, text=True,
                         check=True, cwd=REPO, env={**os.environ, **(env or {})}).stdout.split()
    return float(out[0]), int(out[1]) / 1024, out[2] == "True"


def startup() -> None:
    """What the model adds to start-up: load_app with the model trained, read from its cache, and left out."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cold = _probe("", {"MODEL_CACHE_DIR": tmp})
        cached = _probe("", {"MODEL_CACHE_DIR": tmp})
    without = _probe("import bot.intent_model as m\n"
                     "m.train = lambda source, examples, *, temperature, cache_dir=None: None\n"
                     "import bot.intents as i\ni.train = m.train")
    print(f"load_app, model trained (no cache, imports scikit-learn): {cold[0]:.2f} s, max RSS {cold[1]:.0f} MiB")
    print(f"load_app, model read from its cache file:                 {cached[0]:.2f} s, "
          f"max RSS {cached[1]:.0f} MiB{'' if not cached[2] else ' (scikit-learn imported!)'}")
    print(f"load_app without any model (for comparison):               {without[0]:.2f} s, "
          f"max RSS {without[1]:.0f} MiB")


def compare() -> None:
    """Top-1 accuracy of the classifiers considered, on the tuned phrasings (the reason for LinearSVC)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.svm import LinearSVC

    from bot import intent_model

    app, _ = load()
    intents = app.intents  # type: ignore[attr-defined]
    spec_examples = [(intents.model_text(t), lab) for t, lab in _training_examples()]
    texts, labels = zip(*[(t, lab) for t, lab in spec_examples if t], strict=True)
    tuned = [(intents.model_text(t), lab) for t, lab in phrasings(TUNED)]
    for analyzer_name, analyzer in (("char 1-4", intent_model.char_ngrams), ("char_wb 1-4", "char_wb")):
        for name, make in (("LinearSVC C=1", lambda: LinearSVC(C=1.0)),
                           ("LogisticRegression C=10", lambda: LogisticRegression(C=10, max_iter=3000)),
                           ("SGD log-loss", lambda: SGDClassifier(loss="log_loss", random_state=0)),
                           ("LinearSVC, sigmoid-calibrated (3-fold)",
                            lambda: CalibratedClassifierCV(LinearSVC(), cv=3))):
            kw = {"analyzer": analyzer} if callable(analyzer) else {"analyzer": analyzer, "ngram_range": (1, 4)}
            vec = TfidfVectorizer(sublinear_tf=True, **kw)
            t0 = time.perf_counter()
            features = vec.fit_transform(texts)
            clf = make().fit(features, labels)
            took = time.perf_counter() - t0
            predicted = clf.predict(vec.transform([t for t, _ in tuned]))
            top1 = sum(p == lab for p, (_, lab) in zip(predicted, tuned, strict=True)) / len(tuned)
            print(f"{analyzer_name:12} {name:40} top-1 {top1:.1%}  training {took:.2f} s")


def _training_examples() -> list[tuple[str, str]]:
    from bot.bootstrap import catalog_names
    from bot.config import load_settings
    from bot.services.catalog import load_catalog

    settings = load_settings()
    data = yaml.safe_load((settings.data_dir / "intents.yaml").read_text(encoding="utf-8"))
    out = [(str(p), r["name"]) for r in data["rules"]
           for key in ("exact", "prefix", "contains", "examples") for p in r.get(key, [])]
    names = catalog_names(load_catalog(settings.data_dir, settings.plan_year))
    out += [(str(p), "search") for p in [*data.get("search_examples", []), *names]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--held-out", action="store_true", help="with --quality: the held-out set too")
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.quality:
        quality(args.held_out)
    elif args.compare:
        compare()
    else:
        latency(args.rounds)
        startup()


if __name__ == "__main__":
    main()
