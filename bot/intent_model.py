"""The intent classifier: character n-grams of the folded text into a linear model, learned at start-up.

The recognizer (:mod:`bot.intents`) hands it text with course words masked (``※``).
Rasa's default pipeline is the anchor: character n-gram counts (here TF-IDF of 1–4 character n-grams, which
needs no word segmentation for Chinese and shrugs off typos and missing spaces) into a linear classifier.
scikit-learn's ``LinearSVC`` was chosen by measurement (``bench/intents.py --compare``, top-1 on the 232 tuned
phrasings): 96.6 % against 93.5 % for logistic regression (C=10, which also trains in ~10 s against 0.3 s)
and 92.2 % for SGD; a sigmoid-calibrated SVC scores within a phrase of it but trains three to ten times
slower, so the plain SVC with temperature scaling was kept. Its margins become scores by a
softmax with one temperature (``decision.temperature`` in data/intents.yaml, chosen on the tuned set:
temperature scaling, the simplest calibration, which keeps the order of the margins).

Training takes ~0.3 s, but importing scikit-learn (with SciPy) takes 1–3 s, so a trained model is kept twice:
per process (the tests load the app many times and train once) and as a file in ``cache_dir`` named by a
hash of its examples, so a later start with the same examples reads ~1 MB of arrays and never imports
scikit-learn. Prediction does not go through scikit-learn either (its per-call validation alone is
~0.3 ms): the vocabulary, idf weights and coefficients are plain arrays, and a text costs a dictionary
lookup per n-gram and one small matrix product (``bench/intents.py``: p99 well under 1 ms).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

NGRAMS = (1, 4)
"""Character n-gram lengths."""
SVC_C = 1.0
FORMAT = 2
"""Version of the cached file's layout (part of its name)."""
_CACHE_SIZE = 4
_SPACES = re.compile(r"\s\s+")


def char_ngrams(text: str) -> list[str]:
    """The character n-grams of ``text`` (1–4 long), across the spaces left between words.

    The same as scikit-learn's ``analyzer="char"``, written out so that scoring needs no scikit-learn. ``char_wb``
    (n-grams inside words) measured within one tuned phrasing of it (97.0 % against 96.6 % top-1); ``char``
    was kept because typed text often lacks its spaces ("mainmenu" still shares 4-grams with "main menu").
    """
    text = _SPACES.sub(" ", text)
    low, high = NGRAMS
    grams = list(text) if low == 1 else []
    for n in range(max(low, 2), min(high, len(text)) + 1):
        grams.extend(text[i:i + n] for i in range(len(text) - n + 1))
    return grams


@dataclass(frozen=True)
class IntentModel:
    """A trained classifier: the labels, and what scoring a text needs (no scikit-learn object is kept)."""

    labels: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: NDArray[np.float64]
    coef: NDArray[np.float64]
    """(labels × features)."""
    intercept: NDArray[np.float64]
    temperature: float

    def scores(self, text: str) -> list[tuple[str, float]]:
        """Every label with its score (softmax of the margins / temperature), best first.

        ``text`` must be normalised the way the training examples were (the recognizer does it).
        """
        counts = Counter(self.vocabulary[g] for g in char_ngrams(text) if g in self.vocabulary)
        if counts:
            index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
            weights = tf * self.idf[index]
            weights /= math.sqrt(float(weights @ weights))
            margins = self.coef[:, index] @ weights + self.intercept
        else:
            margins = self.intercept.copy()
        z = margins / self.temperature
        z = np.exp(z - z.max())
        z /= z.sum()
        order = np.argsort(-z)
        return [(self.labels[i], float(z[i])) for i in order]


_trained: dict[str, IntentModel] = {}
_lock = Lock()


def train(source: object, examples: Callable[[], Sequence[tuple[str, str]]], *, temperature: float,
          cache_dir: Path | None = None) -> IntentModel:
    """Learn the ``(text, label)`` pairs ``examples()`` gives, or take the model already learned from ``source``.

    ``source`` is what the examples are made from (JSON-serialisable: the data file's phrases and whatever
    shapes them), so a model already trained, in this process or in ``cache_dir``, is found without making
    the examples again. A cache file that cannot be read or written is only logged: the model is then
    trained, or not kept.

    Raises:
        ValueError: fewer than two labels.
    """
    key = hashlib.sha256(json.dumps([source, NGRAMS, SVC_C, FORMAT], ensure_ascii=False).encode()).hexdigest()
    with _lock:
        known = _trained.get(key)
        if known is None:
            path = cache_dir / f"intent-model-{FORMAT}-{key[:20]}.npz" if cache_dir is not None else None
            known = _read(path) if path is not None else None
            if known is None:
                known = _fit(examples())
                if path is not None:
                    _write(path, known)
            if len(_trained) >= _CACHE_SIZE:
                _trained.pop(next(iter(_trained)))
            _trained[key] = known
    if known.temperature != temperature:
        known = IntentModel(known.labels, known.vocabulary, known.idf, known.coef, known.intercept, temperature)
    return known


def _fit(examples: Sequence[tuple[str, str]]) -> IntentModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    texts = [t for t, _ in examples]
    labels = [label for _, label in examples]
    if len(set(labels)) < 2:
        raise ValueError("the intent model needs examples of at least two labels")
    vectorizer = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True)
    features = vectorizer.fit_transform(texts)
    svc = LinearSVC(C=SVC_C, random_state=0)  # liblinear shuffles: the same examples give the same model
    svc.fit(features, labels)
    classes = tuple(str(c) for c in svc.classes_)
    coef = np.asarray(svc.coef_, dtype=np.float64)
    intercept = np.asarray(svc.intercept_, dtype=np.float64)
    if len(classes) == 2:  # one margin for the second label; the first label's is its opposite
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    return IntentModel(labels=classes, vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
                       idf=np.asarray(vectorizer.idf_, dtype=np.float64), coef=coef, intercept=intercept,
                       temperature=1.0)


def _read(path: Path) -> IntentModel | None:
    """The model kept in ``path``, or None (no such file, or one that cannot be read)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            grams = [str(g) for g in f["grams"]]
            return IntentModel(labels=tuple(str(x) for x in f["labels"]),
                               vocabulary={g: i for i, g in enumerate(grams)}, idf=f["idf"].astype(np.float64),
                               coef=f["coef"].astype(np.float64), intercept=f["intercept"].astype(np.float64),
                               temperature=1.0)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:
        log.warning("intent model cache %s unreadable (%s); training again", path.name, type(exc).__name__)
        return None


def _write(path: Path, model: IntentModel) -> None:
    """Keep ``model`` in ``path`` (written to a temporary file, then renamed: a reader never sees half a file)."""
    grams = [""] * len(model.vocabulary)
    for gram, index in model.vocabulary.items():
        grams[index] = gram
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        with os.fdopen(fd, "wb") as out:
            np.savez(out, labels=np.array(model.labels), grams=np.array(grams), idf=model.idf, coef=model.coef,
                     intercept=model.intercept)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("intent model not kept in %s (%s)", path.parent, type(exc).__name__)
