"""Intent recognition: how fast, what it costs at start-up, and how often it is right.

    .venv/bin/python bench/intents.py             # classification p50/p99, start-up time and memory
    .venv/bin/python bench/intents.py --quality   # accuracy and confusion on the tuned phrasings
    .venv/bin/python bench/intents.py --quality --held-out   # … and on the held-out ones (report, never tune)
    .venv/bin/python bench/intents.py --quality --sealed     # … and on the sealed set (report, never tune)
    .venv/bin/python bench/intents.py --compare   # the classifiers considered, on the tuned phrasings
    .venv/bin/python bench/intents.py --cv        # 5-fold: examples + 4/5 of the tuned phrasings → the other 1/5

The held-out and sealed figures print only the count of each confusion (label → answer), never the phrases:
what is tuned on is the tuned set and its cross-validation (``--cv``), whose phrases are printed.

The held-out phrasings (tests/data/intent_heldout.yaml) are never used to tune anything: their figure is
the honest one. The sealed set (tests/data/intent_sealed.yaml) was written later, before the third round of
tuning, by someone who had read neither the model's examples nor the held-out file; it is labelled with the
``chat --json`` intents (not rule names) and is never used to tune either. Quality counts what the chat
would answer (``handlers.search.how_answered``): a phrasing labelled ``search`` is right when it is not
taken for a command (course results or "no course matches").
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
SEALED = REPO / "tests" / "data" / "intent_sealed.yaml"
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


def chat_intent(app: object, routes: object, text: str) -> str:
    """The ``chat --json`` intent the chat would answer ``text`` with (the personnel-office fallback: out_of_scope)."""
    from handlers.search import how_answered

    intent, rule = how_answered(app, routes, app.intents.understand(text))  # type: ignore[attr-defined,arg-type]
    return "out_of_scope" if rule == "out_of_scope" else str(intent.value)


def score_sealed(app: object, routes: object, path: Path = SEALED) -> tuple[float, float, list[tuple[str, str, str]]]:
    """As :func:`score`, for a file labelled with chat intents (the sealed set)."""
    intent_of = {name: str(route.intent.value) for name, route in routes.intents.items()}  # type: ignore[attr-defined]
    items = phrasings(path)
    errors: list[tuple[str, str, str]] = []
    asked_right = 0
    for text, label in items:
        got = chat_intent(app, routes, text)
        if right(label, got):
            continue
        understood = app.intents.understand(text)  # type: ignore[attr-defined]
        if got == "clarify" and label in {intent_of.get(o, o) for o in understood.options}:
            asked_right += 1
        errors.append((text, label, got))
    n = len(items)
    return (n - len(errors)) / n, (n - len(errors) + asked_right) / n, errors


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


def quality(held_out: bool, sealed: bool = False) -> None:
    """Print accuracy and confusion on the tuned phrasings (and the held-out and sealed ones: only to report)."""
    app, routes = load()
    sets = [("tuned", TUNED, score)]
    if held_out:
        sets.append(("held-out", HELD_OUT, score))
    if sealed:
        sets.append(("sealed (chat intents)", SEALED, score_sealed))
    for name, path, scorer in sets:
        acc, acc_asked, errors = scorer(app, routes, path)
        n = len(phrasings(path))
        print(f"{name}: {n} phrasings, accuracy {acc:.1%} ({n - len(errors)}/{n}); "
              f"counting a clarifying question that offers the right rule: {acc_asked:.1%}")
        if path == SEALED:
            unseen = _not_examples(app, items_of=phrasings(path))
            wrong = sum(1 for text, _, _ in errors if text in unseen)
            print(f"  of which not an example of the model ({len(unseen)}): "
                  f"{(len(unseen) - wrong) / len(unseen):.1%} ({len(unseen) - wrong}/{len(unseen)})")
        _confusion(errors, show=path == TUNED)


def _not_examples(app: object, items_of: list[tuple[str, str]]) -> set[str]:
    """The texts of ``items_of`` that fold to no example of the model (its ``examples`` and ``search_examples``)."""
    from bot.intents import phrase_key

    settings = app.settings  # type: ignore[attr-defined]
    data = yaml.safe_load((settings.data_dir / "intents.yaml").read_text(encoding="utf-8"))
    examples = {phrase_key(str(p)) for r in data["rules"] for p in r.get("examples", [])}
    examples |= {phrase_key(str(p)) for p in data.get("search_examples", [])}
    return {text for text, _ in items_of if phrase_key(text) not in examples}


def _confusion(errors: list[tuple[str, str, str]], *, show: bool) -> None:
    """Print each ``label → answer`` pair with its count, and its phrases when ``show``."""
    confusion = Counter((label, got) for _, label, got in errors)
    for (label, got), count in confusion.most_common():
        examples = "; ".join(t for t, lab, g in errors if (lab, g) == (label, got))
        print(f"  {label} → {got}: {count}" + (f"  ({examples})" if show else ""))


def cross_validate(folds: int = 5) -> None:
    """Accuracy on each fifth of the tuned phrasings of a model that learned the others too (the tuning signal).

    The examples of data/intents.yaml plus four fifths of tests/data/intent_phrasings.yaml train the
    recognizer; the remaining fifth is scored as :func:`score` does. The folds are fixed (every fifth phrasing
    of each label), so two runs compare.
    """
    import dataclasses

    from bot.bootstrap import catalog_names
    from bot.datafiles import read_yaml, validate_file
    from bot.intents import IntentRecognizer
    from bot.intents_file import _IntentsFile
    from bot.services.catalog import load_catalog

    app, routes = load()
    settings = app.settings  # type: ignore[attr-defined]
    path = settings.data_dir / "intents.yaml"
    spec = validate_file(_IntentsFile, read_yaml(path), path)
    names = catalog_names(load_catalog(settings.data_dir, settings.plan_year))
    items = phrasings(TUNED)
    seen: Counter[str] = Counter()
    fold_of = []
    for _, label in items:
        fold_of.append(seen[label] % folds)
        seen[label] += 1
    errors: list[tuple[str, str, str]] = []
    for k in range(folds):
        extra = [(t, lab) for (t, lab), f in zip(items, fold_of, strict=True) if f != k]
        rules = [r.model_copy(update={"examples": (*r.examples, *(t for t, lab in extra if lab == r.name))})
                 for r in spec.rules]
        search = (*spec.search_examples, *(t for t, lab in extra if lab == "search"))
        recognizer = IntentRecognizer(spec.model_copy(update={"rules": rules, "search_examples": search}),
                                      search_names=names)
        fold_app = dataclasses.replace(app, intents=recognizer)  # type: ignore[type-var]
        for (text, label), f in zip(items, fold_of, strict=True):
            if f == k:
                got = answered(fold_app, routes, text)
                if not right(label, got):
                    errors.append((text, label, got))
    n = len(items)
    print(f"tuned, {folds}-fold (examples + the other folds → this fold): accuracy {(n - len(errors)) / n:.1%} "
          f"({n - len(errors)}/{n})")
    _confusion(errors, show=True)


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
    parser.add_argument("--sealed", action="store_true", help="with --quality: the sealed set too")
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--cv", action="store_true", help="5-fold cross-validation on the tuned phrasings")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.quality:
        quality(args.held_out, args.sealed)
    elif args.compare:
        compare()
    elif args.cv:
        cross_validate()
    else:
        latency(args.rounds)
        startup()


if __name__ == "__main__":
    main()
