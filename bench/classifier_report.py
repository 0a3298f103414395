"""Quality and speed of the local intent classifier over the labelled set.

Run: PYTHONPATH=src python bench/classifier_report.py [--misses]

Prints per-intent precision, recall, F1 and support over the labelled set, overall accuracy, the
mean and p99 time per utterance, and the accuracy over the smaller held-out set (written after
the rules, so the truer figure for unseen speech). Timings live here, not in the tests: a test
asserts behaviour, not speed.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

from voiceagent.funnel.states import Intent
from voiceagent.intent import LocalClassifier

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "intent" / "labelled.yaml"
HELDOUT = LABELLED.with_name("heldout.yaml")
TIMING_ROUNDS = 20


def load(path: Path = LABELLED) -> list[tuple[str, Intent, str]]:
    """(text, expected intent, kind) for every item; kind is "plain" or "hard"."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        (text, Intent(intent), kind)
        for intent, kinds in raw.items()
        for kind, texts in kinds.items()
        for text in texts
    ]


def main(argv: list[str]) -> None:
    classifier = LocalClassifier()
    items = load()
    predicted = [classifier.classify(text) for text, _, _ in items]

    print(f"{'intent':<16}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for intent in Intent:
        tp = sum(
            1
            for (_, exp, _), got in zip(items, predicted, strict=True)
            if exp is intent and got.intent is intent
        )
        said = sum(1 for got in predicted if got.intent is intent)
        support = sum(1 for _, exp, _ in items if exp is intent)
        precision = tp / said if said else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"{intent.value:<16}{precision:>10.3f}{recall:>8.3f}{f1:>8.3f}{support:>9}")

    right = [exp is got.intent for (_, exp, _), got in zip(items, predicted, strict=True)]
    hard = [ok for ok, (_, _, kind) in zip(right, items, strict=True) if kind == "hard"]
    print(
        f"\naccuracy {sum(right) / len(right):.3f} ({sum(right)}/{len(right)}); "
        f"hard cases {sum(hard) / len(hard):.3f} ({sum(hard)}/{len(hard)})"
    )

    samples = []
    for _ in range(TIMING_ROUNDS):
        for text, _, _ in items:
            began = time.perf_counter_ns()
            classifier.classify(text)
            samples.append((time.perf_counter_ns() - began) / 1000)
    samples.sort()
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(
        f"time per utterance: mean {statistics.fmean(samples):.1f} us, p99 {p99:.1f} us "
        f"({len(samples)} classifications)"
    )

    heldout = load(HELDOUT)
    held_right = sum(classifier.classify(text).intent is exp for text, exp, _ in heldout)
    print(f"held-out set: accuracy {held_right / len(heldout):.3f} ({held_right}/{len(heldout)})")

    if "--misses" in argv:
        print()
        for text, exp, kind in items + heldout:
            got = classifier.classify(text)
            if got.intent is not exp:
                print(f"{kind:<6}{exp.value:<15}-> {got.intent.value:<15}{got.reason:<24}{text!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
