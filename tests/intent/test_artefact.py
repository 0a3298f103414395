"""The shipped intent model is what the corpus trains, and the service reads it without sklearn.

Retraining takes tens of seconds: it runs once for the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voiceagent.intent import corpus, learned
from voiceagent.intent import train as training


@pytest.fixture(scope="module")
def trained() -> training.Result:
    pytest.importorskip("sklearn")
    return training.train_corpus()


def test_manifest_names_the_corpus_the_artefact_was_trained_from() -> None:
    manifest = json.loads(learned.ARTEFACT.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["corpus_sha256"] == corpus.fingerprint(corpus.files(corpus.TRAIN_DIR)), (
        "corpus/intent/train changed since the model was trained: run `make intent-model`"
    )


def test_shipped_artefact_is_what_the_corpus_trains(trained: training.Result) -> None:
    shipped = learned.shipped()
    assert shipped.vocabulary == trained.model.vocabulary
    assert shipped.intents == trained.model.intents
    assert shipped.acts == trained.model.acts
    assert dict(shipped.thresholds) == dict(trained.model.thresholds)
    np.testing.assert_allclose(shipped.weights, trained.model.weights, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(shipped.bias, trained.model.bias, atol=2e-3)
    assert training.differences(shipped, trained.model) == []


def test_shipped_manifest_is_what_the_corpus_trains(trained: training.Result) -> None:
    manifest = json.loads(learned.ARTEFACT.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest == json.loads(json.dumps(trained.manifest))


def test_every_safety_intent_has_a_threshold_set_on_dev() -> None:
    thresholds = learned.shipped().thresholds
    assert set(thresholds) == set(training.RECALL_TARGETS)
    assert all(0 < value <= 0.5 for value in thresholds.values())


def test_the_artefact_is_written_byte_for_byte_the_same(tmp_path: Path) -> None:
    copy = tmp_path / "model.npz"
    learned.write(learned.shipped(), copy)
    assert copy.read_bytes() == learned.ARTEFACT.read_bytes()


def test_artefact_stays_small() -> None:
    assert learned.ARTEFACT.stat().st_size < 4 * 1024 * 1024


def test_classifying_loads_no_training_library() -> None:
    code = (
        "import sys\n"
        "from voiceagent.intent import LocalClassifier\n"
        "LocalClassifier().classify('take me off your list')\n"
        "assert not {'sklearn', 'scipy'} & set(sys.modules), sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_missing_artefact_is_named(tmp_path: Path) -> None:
    with pytest.raises(learned.ArtefactError, match="voiceagent intent train"):
        learned.read(tmp_path / "absent.npz")
