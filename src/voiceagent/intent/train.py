"""Training the intent model from the corpus: `voiceagent intent train` calls `train_corpus`.

Deterministic: the same corpus gives the same artefact. Lines are read in file then line order,
noise variants come from fixed seeds, the vocabulary is sorted, the solver is deterministic and
the weights are rounded to float16 before they are written or compared.

Steps:
1. every training line plus `VARIANTS` recogniser-noise variants of it (`noise.augment`), and
   each safety line said together with another line (`noise.compose`);
2. features (`features.extract`) kept when seen in at least `MIN_COUNT` rows;
3. one multinomial logistic regression per head, intent and act;
4. the safety thresholds: a model fitted on the fit part of the dev split scores the dev lines
   and their noise variants (another seed); each safety intent, in precedence order, gets the
   highest threshold that keeps its dev recall at its target (`RECALL_TARGETS`);
5. the shipped model is fitted on all of train and carries those thresholds.

scikit-learn is a development dependency: it is imported only here, only when training.
"""

from __future__ import annotations

import importlib
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voiceagent.funnel.states import Act, Intent
from voiceagent.intent import corpus, features, learned
from voiceagent.intent.corpus import Example
from voiceagent.intent.features import block_weight, canonical, extract
from voiceagent.intent.local import LocalClassifier, safety_hits
from voiceagent.intent.noise import augment, compose
from voiceagent.intent.precedence import highest

TRAIN_SEED = 1
DEV_SEED = 2  # dev noise; the bench uses yet another seed
VARIANTS = 3
COMPOSED_VARIANTS = 1
DEV_VARIANTS = 3
MIN_COUNT = 2
C_INTENT = 250.0  # chosen on dev: sharper probabilities, higher safety thresholds
C_ACT = 100.0
MAX_ITER = 3000
TOLERANCE = 1e-4
RECALL_TARGETS: Mapping[Intent, float] = {
    Intent.DO_NOT_CALL: 1.0,
    Intent.HUMAN_REQUEST: 0.98,
    Intent.AI_QUESTION: 0.98,
}
THRESHOLD_GRID = tuple(round(0.5 - step / 100, 2) for step in range(46))  # 0.50 down to 0.05
ABSENT_BIAS = -30.0  # a label with no training line is never predicted
MANIFEST = learned.ARTEFACT.with_suffix(".json")

Progress = Callable[[str], None]


class TrainingUnavailable(RuntimeError):
    """scikit-learn (a development dependency) is not installed."""


def _sklearn() -> tuple[Any, Any]:
    try:
        linear = importlib.import_module("sklearn.linear_model")
        sparse = importlib.import_module("scipy.sparse")
    except ImportError:
        raise TrainingUnavailable(
            "training needs scikit-learn, a development dependency: pip install -e '.[dev]'"
        ) from None
    return linear, sparse


@dataclass(frozen=True)
class Result:
    model: learned.Model
    manifest: dict[str, Any]
    seconds: float


# --- features -------------------------------------------------------------------------------


def vocabulary(featurised: Sequence[tuple[list[str], list[str]]]) -> tuple[str, ...]:
    counts: Counter[str] = Counter()
    for words, chars in featurised:
        counts.update(words)
        counts.update(chars)
    return tuple(sorted(feature for feature, count in counts.items() if count >= MIN_COUNT))


def design_matrix(
    featurised: Sequence[tuple[list[str], list[str]]], index: Mapping[str, int], sparse: Any
) -> Any:
    """The rows `learned.Model.logits` sums at run time, as a sparse matrix."""
    data: list[float] = []
    columns: list[int] = []
    pointers = [0]
    for words, chars in featurised:
        for block, scale in ((words, features.WORD_SCALE), (chars, features.CHAR_SCALE)):
            rows = sorted(index[f] for f in block if f in index)
            data.extend([block_weight(len(rows), scale)] * len(rows))
            columns.extend(rows)
        pointers.append(len(columns))
    return sparse.csr_matrix(
        (np.array(data, dtype=np.float64), np.array(columns), np.array(pointers)),
        shape=(len(featurised), len(index)),
    )


# --- fitting --------------------------------------------------------------------------------


def _head(
    linear: Any, x: Any, labels: Sequence[str], classes: Sequence[str], c: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(weights (features, classes), bias (classes,)) in `classes` order; absent labels muted."""
    model = linear.LogisticRegression(C=c, solver="newton-cg", max_iter=MAX_ITER, tol=TOLERANCE)
    model.fit(x, list(labels))
    weights = np.zeros((x.shape[1], len(classes)))
    bias = np.full(len(classes), ABSENT_BIAS)
    for column, label in enumerate(model.classes_):
        target = list(classes).index(str(label))
        weights[:, target] = model.coef_[column]
        bias[target] = model.intercept_[column]
    return weights, bias


def fit(
    examples: Sequence[Example],
    thresholds: Mapping[Intent, float] | None = None,
    progress: Progress | None = None,
) -> learned.Model:
    linear, sparse = _sklearn()
    say = progress or (lambda _: None)
    composed = compose(examples, seed=TRAIN_SEED)
    rows = augment(examples, seed=TRAIN_SEED, n=VARIANTS)
    rows += augment(composed, seed=TRAIN_SEED, n=COMPOSED_VARIANTS)
    say(
        f"features of {len(rows)} rows ({len(examples)} lines + {VARIANTS} variants each, "
        f"{len(composed)} composed)"
    )
    featurised = [extract(text) for text, _ in rows]
    vocab = vocabulary(featurised)
    index = {feature: row for row, feature in enumerate(vocab)}
    x = design_matrix(featurised, index, sparse)
    intents = tuple(Intent)
    acts = tuple(Act)
    say(f"intent head over {len(vocab)} features")
    intent_labels = [e.intent.value for _, e in rows]
    wi, bi = _head(linear, x, intent_labels, [i.value for i in intents], C_INTENT)
    say("act head")
    act_labels = [e.act.value for _, e in rows]
    wa, ba = _head(linear, x, act_labels, [a.value for a in acts], C_ACT)
    # Rounded here, so the model in memory is the model on disk.
    weights = np.hstack([wi, wa]).astype(np.float16).astype(np.float32)
    bias = np.round(np.concatenate([bi, ba]), 4).astype(np.float32)
    return learned.Model(
        vocabulary=vocab,
        weights=weights,
        bias=bias,
        intents=intents,
        acts=acts,
        thresholds=dict(thresholds or {}),
    )


# --- thresholds and figures -----------------------------------------------------------------


def choose_thresholds(
    model: learned.Model, dev: Sequence[tuple[str, Example]]
) -> dict[Intent, float]:
    """For each safety intent in precedence order, the highest threshold at which the local
    classifier as it runs (the model's decision with the thresholds already chosen, and the
    safety rules over it) meets its dev recall target.

    The rules are counted because they are part of what decides on a call: a line only they
    catch ("erase my details") would otherwise drag a threshold to the floor and cost precision
    everywhere else, while the rules never miss what they match.
    """
    probabilities = [model.probabilities(text)[0] for text, _ in dev]
    ruled = [highest(hit.rule.intent for hit in safety_hits(canonical(text))) for text, _ in dev]
    chosen: dict[Intent, float] = {}
    for intent in learned.SAFETY_ORDER:
        target = RECALL_TARGETS[intent]
        positives = [
            (p, rule)
            for p, rule, (_, e) in zip(probabilities, ruled, dev, strict=True)
            if e.intent is intent
        ]
        threshold = THRESHOLD_GRID[-1]
        for candidate in THRESHOLD_GRID:
            trial = {**chosen, intent: candidate}
            found = sum(
                highest([model.decide(p, trial), *([rule] if rule else [])]) is intent
                for p, rule in positives
            )
            if not positives or found / len(positives) >= target:
                threshold = candidate
                break
        chosen[intent] = threshold
    return chosen


def figures(model: learned.Model, rows: Sequence[tuple[str, Example]]) -> dict[str, Any]:
    """Accuracy, act accuracy, per-intent precision and recall over `rows` of the classifier
    the service runs with `model`: the model and the safety rules."""
    classifier = LocalClassifier(model)
    predictions = [classifier.classify(text) for text, _ in rows]
    pairs = [(e.intent, p.intent) for (_, e), p in zip(rows, predictions, strict=True)]
    per_intent = {}
    for intent in model.intents:
        said = sum(1 for _, got in pairs if got is intent)
        support = sum(1 for gold, _ in pairs if gold is intent)
        right = sum(1 for gold, got in pairs if gold is intent and got is intent)
        per_intent[intent.value] = {
            "precision": round(right / said, 4) if said else None,
            "recall": round(right / support, 4) if support else None,
            "support": support,
        }
    acts_right = sum(1 for (_, e), p in zip(rows, predictions, strict=True) if e.act is p.act)
    return {
        "rows": len(rows),
        "accuracy": round(sum(g is p for g, p in pairs) / len(pairs), 4) if pairs else None,
        "act_accuracy": round(acts_right / len(rows), 4) if rows else None,
        "intents": per_intent,
    }


def train(
    examples: Sequence[Example], progress: Progress | None = None
) -> tuple[learned.Model, dict[str, Any]]:
    """The shipped model (thresholds from the dev split, weights from all of train) and its
    dev figures."""
    say = progress or (lambda _: None)
    fit_part, dev = corpus.split(examples)
    say(f"dev split: {len(fit_part)} lines to fit, {len(dev)} to set thresholds")
    dev_model = fit(fit_part, progress=say)
    dev_rows = augment(dev, seed=DEV_SEED, n=DEV_VARIANTS)
    thresholds = choose_thresholds(dev_model, dev_rows)
    say("thresholds: " + ", ".join(f"{i.value} {t:.2f}" for i, t in thresholds.items()))
    dev_model = learned.Model(
        dev_model.vocabulary,
        dev_model.weights,
        dev_model.bias,
        dev_model.intents,
        dev_model.acts,
        thresholds,
    )
    dev_figures = {
        "clean": figures(dev_model, [(e.text, e) for e in dev]),
        "clean_and_noisy": figures(dev_model, dev_rows),
    }
    say("final model on all of train")
    model = fit(examples, thresholds, progress=say)
    return model, dev_figures


def train_corpus(directory: Path = corpus.TRAIN_DIR, progress: Progress | None = None) -> Result:
    began = time.perf_counter()
    paths = corpus.files(directory)
    examples = corpus.read(paths)
    if not examples:
        raise corpus.CorpusError(f"no training lines in {directory}/*.tsv")
    model, dev_figures = train(examples, progress)
    manifest = {
        "corpus_sha256": corpus.fingerprint(paths),
        "files": {
            p.name: sum(1 for e in examples if e.source.startswith(p.name + ":")) for p in paths
        },
        "lines": len(examples),
        "intents": dict(sorted(Counter(e.intent.value for e in examples).items())),
        "acts": dict(sorted(Counter(e.act.value for e in examples).items())),
        "features": len(model.vocabulary),
        "thresholds": {i.value: t for i, t in model.thresholds.items()},
        "settings": {
            "variants": VARIANTS,
            "min_count": MIN_COUNT,
            "c_intent": C_INTENT,
            "c_act": C_ACT,
            "train_seed": TRAIN_SEED,
            "dev_seed": DEV_SEED,
            "dev_percent": corpus.DEV_PERCENT,
        },
        "dev": dev_figures,
    }
    return Result(model, manifest, time.perf_counter() - began)


def save(result: Result, artefact: Path = learned.ARTEFACT) -> None:
    learned.write(result.model, artefact)
    text = json.dumps(result.manifest, indent=2, sort_keys=False) + "\n"
    artefact.with_suffix(".json").write_text(text, encoding="utf-8")


def differences(shipped: learned.Model, trained: learned.Model) -> list[str]:
    """What differs between two models, beyond float16 rounding; empty when they agree."""
    found = []
    if shipped.vocabulary != trained.vocabulary:
        added = set(trained.vocabulary) - set(shipped.vocabulary)
        removed = set(shipped.vocabulary) - set(trained.vocabulary)
        found.append(f"vocabulary: {len(added)} features added, {len(removed)} removed")
    elif not np.allclose(shipped.weights, trained.weights, rtol=2e-3, atol=2e-3):
        worst = float(np.abs(shipped.weights - trained.weights).max())
        found.append(f"weights differ (largest difference {worst:.4f})")
    if shipped.intents != trained.intents or shipped.acts != trained.acts:
        found.append("labels differ")
    elif not np.allclose(shipped.bias, trained.bias, atol=2e-3):
        found.append("biases differ")
    if dict(shipped.thresholds) != dict(trained.thresholds):
        shown = [{i.value: t for i, t in m.thresholds.items()} for m in (shipped, trained)]
        found.append(f"thresholds: shipped {shown[0]}, trained {shown[1]}")
    return found
