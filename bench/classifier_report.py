"""Quality and speed of the local intent classifier on the held-out corpus.

Run: PYTHONPATH=src python bench/classifier_report.py [--misses] [--model-only]

For held-out clean transcripts, held-out noisy recogniser output, and the clean lines passed
through `intent.noise` with a seed training never uses, prints: intent accuracy, per-intent
precision and recall, act accuracy, the intent and act confusion matrices, the same figures over
the held-out lines that are not also training lines (once normalised), and the mean and p99 time
per utterance. Then the dev-split figures the training run recorded. `--misses` lists every wrong
label; `--model-only` scores the learned model without the safety rules.

The held-out files are scored, never trained or tuned on. Timings live here, not in the tests.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from voiceagent.funnel.states import Act, Intent
from voiceagent.intent import LocalClassifier, learned
from voiceagent.intent.corpus import Example, load_heldout, load_train
from voiceagent.intent.features import canonical
from voiceagent.intent.noise import variants
from voiceagent.intent.types import Classification

BENCH_NOISE_SEED = 7_368_787  # never used by training (train.TRAIN_SEED, train.DEV_SEED)
BENCH_NOISE_VARIANTS = 2
TIMING_ROUNDS = 5
SAFETY = (Intent.DO_NOT_CALL, Intent.AI_QUESTION, Intent.HUMAN_REQUEST)
# Held-out lines that, once normalised, are also training lines score as seen; the unseen subset
# is the truer figure for speech the model has never met.
SEEN = frozenset(canonical(example.text) for example in load_train())


@dataclass(frozen=True)
class Row:
    text: str
    gold: Example
    got: Classification


class ModelOnly:
    """The learned model without the rule override, for comparison."""

    def __init__(self) -> None:
        self._model = learned.shipped()

    def classify(self, text: str) -> Classification:
        prediction = self._model.predict(text)
        return Classification(prediction.intent, "model", prediction.act)


def confusion(rows: Sequence[Row], labels: Sequence[str], attr: str) -> None:
    counts = Counter((getattr(r.gold, attr).value, getattr(r.got, attr).value) for r in rows)
    present = [label for label in labels if any(label in pair for pair in counts)]
    width = max(len(label) for label in present)
    print(
        "  " + "gold / said".ljust(width) + " " + " ".join(f"{i:>4}" for i in range(len(present)))
    )
    for i, gold in enumerate(present):
        cells = " ".join(f"{counts.get((gold, said), 0) or '.':>4}" for said in present)
        print(f"  {gold:<{width}} {cells}   {i}")


def report(name: str, pairs: Sequence[tuple[str, Example]], classifier: object) -> list[Row]:
    classify = classifier.classify  # type: ignore[attr-defined]
    rows = [Row(text, gold, classify(text)) for text, gold in pairs]
    right = sum(r.gold.intent is r.got.intent for r in rows)
    acts = sum(r.gold.act is r.got.act for r in rows)
    print(f"\n== {name}: {len(rows)} utterances")
    print(
        f"intent accuracy {right / len(rows):.3f} ({right}/{len(rows)}), "
        f"act accuracy {acts / len(rows):.3f} ({acts}/{len(rows)})"
    )
    print(f"  {'intent':<16}{'precision':>10}{'recall':>8}{'support':>9}")
    for intent in Intent:
        said = sum(r.got.intent is intent for r in rows)
        support = sum(r.gold.intent is intent for r in rows)
        tp = sum(r.got.intent is intent and r.gold.intent is intent for r in rows)
        precision = f"{tp / said:.3f}" if said else "-"
        recall = f"{tp / support:.3f}" if support else "-"
        print(f"  {intent.value:<16}{precision:>10}{recall:>8}{support:>9}")
    safety = []
    for intent in SAFETY:
        support = sum(r.gold.intent is intent for r in rows)
        tp = sum(r.got.intent is intent and r.gold.intent is intent for r in rows)
        safety.append(f"{intent.value} {tp / support:.3f}" if support else f"{intent.value} -")
    print("safety recall: " + ", ".join(safety))
    unseen = [r for r in rows if canonical(r.text) not in SEEN]
    if unseen:
        said_dnc = [r for r in unseen if r.got.intent is Intent.DO_NOT_CALL]
        dnc_precision = sum(r.gold.intent is Intent.DO_NOT_CALL for r in said_dnc) / max(
            1, len(said_dnc)
        )
        recalls = []
        for intent in SAFETY:
            support = [r for r in unseen if r.gold.intent is intent]
            found = sum(r.got.intent is intent for r in support)
            recalls.append(f"{intent.value} {found / len(support):.3f}" if support else "-")
        print(
            f"  unseen subset ({len(unseen)} lines not in train, once normalised): intent "
            f"accuracy {sum(r.gold.intent is r.got.intent for r in unseen) / len(unseen):.3f}, "
            f"act accuracy {sum(r.gold.act is r.got.act for r in unseen) / len(unseen):.3f}, "
            f"do_not_call precision {dnc_precision:.3f}, recall {', '.join(recalls)}"
        )
    print("intent confusion (rows gold, columns said):")
    confusion(rows, [i.value for i in Intent], "intent")
    print("act confusion (rows gold, columns said):")
    confusion(rows, [a.value for a in Act], "act")
    return rows


def timing(texts: Sequence[str], classifier: object) -> None:
    classify = classifier.classify  # type: ignore[attr-defined]
    samples = []
    cpu_began = time.process_time_ns()
    for _ in range(TIMING_ROUNDS):
        for text in texts:
            began = time.perf_counter_ns()
            classify(text)
            samples.append((time.perf_counter_ns() - began) / 1000)
    # CPU time too: on a shared box the wall clock also counts other processes' turns.
    cpu = (time.process_time_ns() - cpu_began) / 1000 / len(samples)
    samples.sort()
    p99 = samples[max(0, int(len(samples) * 0.99) - 1)]
    print(
        f"\ntime per utterance: mean {statistics.fmean(samples):.1f} us, p99 {p99:.1f} us, "
        f"CPU mean {cpu:.1f} us ({len(samples)} classifications)"
    )


def dev_figures() -> None:
    manifest_path = learned.ARTEFACT.with_suffix(".json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    print(f"\n== dev split (from {manifest_path.name}; a model fitted without these lines)")
    print(f"thresholds: {manifest['thresholds']}")
    for name, figures in manifest["dev"].items():
        recalls = ", ".join(
            f"{intent.value} {figures['intents'][intent.value]['recall']}" for intent in SAFETY
        )
        print(
            f"  {name:<16} rows {figures['rows']:>5}  accuracy {figures['accuracy']:.3f}  "
            f"act accuracy {figures['act_accuracy']:.3f}  safety recall: {recalls}"
        )


def main(argv: list[str]) -> None:
    classifier: object = ModelOnly() if "--model-only" in argv else LocalClassifier()
    heldout = load_heldout()
    if not heldout:
        print("no held-out files in corpus/intent/heldout/")
        return
    sets: dict[str, list[tuple[str, Example]]] = {
        f"held-out {stem}": [(e.text, e) for e in examples] for stem, examples in heldout.items()
    }
    clean = heldout.get("clean", [])
    if clean:
        sets["held-out clean + bench noise"] = [
            (variant, e)
            for e in clean
            for variant in variants(e.text, BENCH_NOISE_SEED, BENCH_NOISE_VARIANTS)
        ]
    all_rows = {name: report(name, pairs, classifier) for name, pairs in sets.items()}
    timing([text for pairs in sets.values() for text, _ in pairs], classifier)
    dev_figures()
    if "--misses" in argv:
        for name, rows in all_rows.items():
            print(f"\n== misses: {name}")
            for r in rows:
                if r.gold.intent is not r.got.intent or r.gold.act is not r.got.act:
                    mark = "I" if r.gold.intent is not r.got.intent else " "
                    mark += "A" if r.gold.act is not r.got.act else " "
                    print(
                        f"{mark} {r.gold.intent.value:>14} -> {r.got.intent.value:<14} "
                        f"{r.gold.act.value:>28} -> {r.got.act.value:<28} {r.got.reason:<14}"
                        f"{r.text!r}"
                    )


if __name__ == "__main__":
    main(sys.argv[1:])
