"""The learned intent model at run time: the shipped artefact, loaded once, numpy only.

The artefact (`model/intent_model.npz`, written by `voiceagent intent train`) holds the feature
vocabulary, one weight matrix for both heads (intent and act, side by side), their biases and
the safety thresholds set on the dev split. Scoring an utterance is a sum of the weight rows of
its known features (`features.extract`, each block scaled to a fixed length) and two softmaxes.

Safety intents are decided recall-first: `do_not_call`, `human_request` and `ai_question` are
chosen when their probability reaches their threshold, even when a funnel intent scores higher.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voiceagent.funnel.states import INTENT_PRECEDENCE, SAFETY_INTENTS, Act, Intent
from voiceagent.intent import features
from voiceagent.intent.features import block_weight, canonical, extract_canonical

ARTEFACT = Path(__file__).resolve().parent / "model" / "intent_model.npz"
FORMAT_VERSION = 1
SCORE_FLOOR = 0.01  # acts less likely than this are left out of the logged scores
SAFETY_ORDER: tuple[Intent, ...] = tuple(i for i in INTENT_PRECEDENCE if i in SAFETY_INTENTS)

Floats = npt.NDArray[np.float32]


class ArtefactError(RuntimeError):
    """The model artefact is missing or not one this code can read."""


@dataclass(frozen=True, eq=False)
class Prediction:
    intent: Intent
    act: Act
    intent_p: Floats  # probability per label, in `Model.intents` order
    act_p: Floats  # in `Model.acts` order


@dataclass(frozen=True, eq=False)
class Model:
    vocabulary: tuple[str, ...]  # sorted; row i of `weights` belongs to vocabulary[i]
    weights: Floats  # (features, intents + acts)
    bias: Floats  # (intents + acts,)
    intents: tuple[Intent, ...]
    acts: tuple[Act, ...]
    thresholds: Mapping[Intent, float]  # the safety intents only
    index: Mapping[str, int] = field(init=False, repr=False)
    _position: Mapping[Intent, int] = field(init=False, repr=False)
    _names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Frozen: derived lookups are set once, here.
        rows = {feature: row for row, feature in enumerate(self.vocabulary)}
        object.__setattr__(self, "index", rows)
        object.__setattr__(self, "_position", {i: n for n, i in enumerate(self.intents)})
        object.__setattr__(self, "_names", tuple(i.value for i in self.intents))

    def logits(self, text: str) -> Floats:
        return self.logits_canonical(canonical(text))

    def logits_canonical(self, text: str) -> Floats:
        """`logits` of a text already in `features.canonical` form."""
        index = self.index
        words, chars = extract_canonical(text)
        word_rows = [row for feature in words if (row := index.get(feature)) is not None]
        char_rows = [row for feature in chars if (row := index.get(feature)) is not None]
        values = [block_weight(len(word_rows), features.WORD_SCALE)] * len(word_rows)
        values += [block_weight(len(char_rows), features.CHAR_SCALE)] * len(char_rows)
        if not values:
            return self.bias.copy()
        z: Floats = (
            self.bias + np.asarray(values, dtype=np.float32) @ self.weights[word_rows + char_rows]
        )
        return z

    def probabilities(self, text: str) -> tuple[Floats, Floats]:
        return self._heads(self.logits(text))

    def _heads(self, z: Floats) -> tuple[Floats, Floats]:
        split = len(self.intents)
        return _softmax(z[:split]), _softmax(z[split:])

    def decide(self, intent_p: Floats, thresholds: Mapping[Intent, float] | None = None) -> Intent:
        """The first safety intent, by precedence, at or over its threshold; else the argmax.

        `thresholds` stands in for the model's own while they are being chosen (training).
        """
        chosen = self.thresholds if thresholds is None else thresholds
        for intent in SAFETY_ORDER:
            threshold = chosen.get(intent)
            if threshold is not None and intent_p[self._position[intent]] >= threshold:
                return intent
        return self.intents[int(np.argmax(intent_p))]

    def predict(self, text: str) -> Prediction:
        return self.predict_canonical(canonical(text))

    def predict_canonical(self, text: str) -> Prediction:
        """`predict` of a text already in `features.canonical` form."""
        intent_p, act_p = self._heads(self.logits_canonical(text))
        return Prediction(self.decide(intent_p), self.acts[int(act_p.argmax())], intent_p, act_p)

    def scores(self, prediction: Prediction) -> dict[str, float]:
        """For logs: each intent's probability and the likelier acts', rounded."""
        found = dict(zip(self._names, prediction.intent_p.round(3).tolist(), strict=True))
        for act, p in zip(self.acts, prediction.act_p.tolist(), strict=True):
            if p >= SCORE_FLOOR:
                found[act.value] = round(p, 3)
        return found


def _softmax(z: Floats) -> Floats:
    e = np.exp(z - z.max())
    result: Floats = e / e.sum()
    return result


# --- the artefact on disk -------------------------------------------------------------------


def _joined(items: tuple[str, ...]) -> npt.NDArray[np.uint8]:
    return np.frombuffer("\n".join(items).encode("utf-8"), dtype=np.uint8)


def _split(array: npt.NDArray[np.uint8]) -> tuple[str, ...]:
    text = array.tobytes().decode("utf-8")
    return tuple(text.split("\n")) if text else ()


def to_arrays(model: Model) -> dict[str, npt.NDArray[np.generic]]:
    safety = tuple(intent for intent in SAFETY_ORDER if intent in model.thresholds)
    return {
        "version": np.array([FORMAT_VERSION], dtype=np.int32),
        "vocabulary": _joined(model.vocabulary),
        "weights": model.weights.astype(np.float16),
        "bias": model.bias.astype(np.float32),
        "intents": _joined(tuple(i.value for i in model.intents)),
        "acts": _joined(tuple(a.value for a in model.acts)),
        "threshold_intents": _joined(tuple(i.value for i in safety)),
        "thresholds": np.array([model.thresholds[i] for i in safety], dtype=np.float32),
    }


def from_arrays(arrays: Mapping[str, npt.NDArray[np.generic]]) -> Model:
    version = int(arrays["version"][0])
    if version != FORMAT_VERSION:
        raise ArtefactError(f"intent model format {version}, this code reads {FORMAT_VERSION}")
    safety = tuple(Intent(value) for value in _split(arrays["threshold_intents"]))  # type: ignore[arg-type]
    return Model(
        vocabulary=_split(arrays["vocabulary"]),  # type: ignore[arg-type]
        weights=np.asarray(arrays["weights"], dtype=np.float32),
        bias=np.asarray(arrays["bias"], dtype=np.float32),
        intents=tuple(Intent(v) for v in _split(arrays["intents"])),  # type: ignore[arg-type]
        acts=tuple(Act(v) for v in _split(arrays["acts"])),  # type: ignore[arg-type]
        thresholds=dict(
            zip(safety, (round(float(t), 4) for t in arrays["thresholds"]), strict=True)
        ),
    )


def write(model: Model, path: Path) -> None:
    """Write the artefact byte for byte the same for the same model (fixed zip timestamps)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in sorted(to_arrays(model).items()):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    path.write_bytes(buffer.getvalue())


def read(path: Path) -> Model:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return from_arrays({name: archive[name] for name in archive.files})
    except FileNotFoundError:
        raise ArtefactError(f"no intent model at {path}: run `voiceagent intent train`") from None
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ArtefactError(f"unreadable intent model {path}: {exc}") from None


@cache
def shipped() -> Model:
    """The artefact in the package, read once per process."""
    return read(ARTEFACT)
