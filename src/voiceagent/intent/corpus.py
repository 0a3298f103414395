"""The intent corpus: reviewed utterances in the repo, each labelled with an intent and an act.

Files are tab-separated `text<TAB>intent<TAB>act`, `#` starts a comment (each file opens with the
labelling rules, `corpus/intent/header.txt`). `train/*.tsv` is what the model learns from;
`heldout/*.tsv` is only ever scored, by the bench.

The dev split is carved out of train by a stable hash of the normalised text, so a line and its
respellings ("don't call" / "dont call") always fall on the same side, and adding a file never
moves an existing line across. It is used to set the safety thresholds, never to fit weights
of the shipped model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from voiceagent.funnel.states import Act, Intent
from voiceagent.intent.normalise import normalise

# src/voiceagent/intent/corpus.py -> the repository root.
CORPUS_DIR = Path(__file__).resolve().parents[3] / "corpus" / "intent"
TRAIN_DIR = CORPUS_DIR / "train"
HELDOUT_DIR = CORPUS_DIR / "heldout"
DEV_PERCENT = 15


class CorpusError(ValueError):
    """A corpus line that breaks the format: names the file and line."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: Intent
    act: Act
    source: str  # "file.tsv:line"


def parse(text: str, name: str) -> list[Example]:
    examples = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise CorpusError(f"{name}:{number}: expected text<TAB>intent<TAB>act: {line!r}")
        utterance, intent, act = (field.strip() for field in fields)
        try:
            examples.append(Example(utterance, Intent(intent), Act(act), f"{name}:{number}"))
        except ValueError as exc:
            raise CorpusError(f"{name}:{number}: {exc}") from None
    return examples


def files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.tsv"))


def read(paths: Iterable[Path]) -> list[Example]:
    """Every example of the files, in file-name then line order; exact repeats dropped."""
    seen: set[str] = set()
    examples = []
    for path in sorted(paths):
        for example in parse(path.read_text(encoding="utf-8"), path.name):
            if example.text not in seen:
                seen.add(example.text)
                examples.append(example)
    return examples


def load_train(directory: Path = TRAIN_DIR) -> list[Example]:
    return read(files(directory))


def load_heldout(directory: Path = HELDOUT_DIR) -> dict[str, list[Example]]:
    """Held-out examples by file stem ("clean", "noisy"): for scoring only."""
    return {path.stem: read([path]) for path in files(directory)}


def is_dev(text: str) -> bool:
    digest = hashlib.sha256(normalise(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < DEV_PERCENT


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(fit, dev): dev is ~DEV_PERCENT of the lines, chosen by the hash of the normalised text."""
    fit = [example for example in examples if not is_dev(example.text)]
    dev = [example for example in examples if is_dev(example.text)]
    return fit, dev


def fingerprint(paths: Iterable[Path]) -> str:
    """sha256 over the files' names and bytes: the corpus a model was trained from."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
