"""The intent corpus: its format, its header, and a dev split that never moves a line."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceagent.funnel.states import Act, Intent
from voiceagent.intent import corpus

HEADER = (corpus.CORPUS_DIR / "header.txt").read_text(encoding="utf-8")


def test_every_corpus_file_opens_with_the_labelling_rules() -> None:
    paths = corpus.files(corpus.TRAIN_DIR) + corpus.files(corpus.HELDOUT_DIR)
    assert paths
    for path in paths:
        assert path.read_text(encoding="utf-8").startswith(HEADER), path.name


def test_training_corpus_parses_and_covers_every_label() -> None:
    examples = corpus.load_train()
    assert {e.intent for e in examples} == set(Intent)
    assert {e.act for e in examples} == set(Act)


def test_a_broken_line_names_its_file_and_line() -> None:
    with pytest.raises(corpus.CorpusError, match=r"x\.tsv:2: "):
        corpus.parse("# header\nstop\tdo_not_call\n", "x.tsv")
    with pytest.raises(corpus.CorpusError, match=r"x\.tsv:1: .*'maybe'"):
        corpus.parse("stop\tmaybe\tnone\n", "x.tsv")


def test_comments_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    path.write_text("# rules\n\nstop\tdo_not_call\tnone\nstop\tdo_not_call\tnone\n")
    assert corpus.read([path]) == [corpus.Example("stop", Intent.DO_NOT_CALL, Act.NONE, "a.tsv:3")]


def test_dev_split_is_about_fifteen_percent_and_follows_the_words() -> None:
    examples = corpus.load_train()
    fit, dev = corpus.split(examples)
    assert 0.10 < len(dev) / len(examples) < 0.20
    assert corpus.is_dev("Don't call me again!") == corpus.is_dev("dont call me again")
    assert not {e.text for e in fit} & {e.text for e in dev}
