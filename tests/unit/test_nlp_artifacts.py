"""The shipped trained artifact (sentiment classifier, its encoder's adapter, theme centroids) is what training on
the shipped data gives, and it is ignored as soon as that data, or the adapter file, changes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from assets.nlp import artifacts, sentiment
from assets.nlp.embeddings import DEFAULT_MODEL_NAME, Encoder


def test_artifact_is_shipped_for_the_default_model_and_matches_the_data():
    artifact = artifacts.load(DEFAULT_MODEL_NAME)
    assert artifact is not None, "run `make nlp-model` and commit assets/nlp/data/trained/"
    assert artifact["labelled_sha256"] == artifacts.labelled_sha256()
    assert artifact["catalogue_sha256"] == artifacts.catalogue_sha256()
    model, adapter, report = artifacts.shipped_classifier(DEFAULT_MODEL_NAME)
    assert model.adapter_sha256 == adapter.sha256 and report == artifact["sentiment_report"]
    assert artifacts.adapter_path(DEFAULT_MODEL_NAME).stat().st_size < 2_000_000
    theme_ids, centroids = artifacts.shipped_centroids(DEFAULT_MODEL_NAME)
    assert centroids.shape == (len(theme_ids), 384)
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1, atol=1e-5)


def test_a_stale_or_foreign_artifact_is_not_used(monkeypatch, tmp_path):
    assert artifacts.load("another-model") is None
    monkeypatch.setattr(artifacts, "labelled_sha256", lambda: "changed")
    monkeypatch.setattr(artifacts, "catalogue_sha256", lambda: "changed")
    assert artifacts.shipped_classifier(DEFAULT_MODEL_NAME) is None
    assert artifacts.shipped_centroids(DEFAULT_MODEL_NAME) is None
    wrong_format = tmp_path / "m.json"
    wrong_format.write_text(json.dumps({"format": 1, "model_name": DEFAULT_MODEL_NAME}))
    assert artifacts.load(DEFAULT_MODEL_NAME, wrong_format) is None


def test_an_artifact_whose_adapter_file_is_missing_or_another_is_not_used(tmp_path):
    json_path = tmp_path / f"{DEFAULT_MODEL_NAME}.json"
    shutil.copy(artifacts.artifact_path(DEFAULT_MODEL_NAME), json_path)
    assert artifacts.shipped_classifier(DEFAULT_MODEL_NAME, json_path) is None  # no adapter beside it
    adapter = artifacts.load_adapter(DEFAULT_MODEL_NAME)
    changed = dict(adapter.tensors)
    changed["0.output.dense.B"] = changed["0.output.dense.B"] + 1e-3
    artifacts.adapter_path(DEFAULT_MODEL_NAME, json_path).write_bytes(
        type(adapter)(adapter.config, changed).to_bytes())
    assert artifacts.shipped_classifier(DEFAULT_MODEL_NAME, json_path) is None  # not the adapter it was trained with
    artifacts.adapter_path(DEFAULT_MODEL_NAME, json_path).write_bytes(adapter.to_bytes())
    assert artifacts.shipped_classifier(DEFAULT_MODEL_NAME, json_path) is not None


@pytest.mark.slow
def test_retraining_gives_the_shipped_artifact():
    """`make nlp-model` again: the same settings, the same data, so the same classifier up to float rounding.

    Fine-tuning is deterministic on one machine; on another CPU the rounding of its arithmetic differs, and
    eight epochs carry that into slightly different weights. So the check is on what the model does."""
    shipped = artifacts.load(DEFAULT_MODEL_NAME)
    shipped_model, shipped_adapter, _ = artifacts.shipped_classifier(DEFAULT_MODEL_NAME)
    encoder = Encoder()
    rebuilt, adapter = artifacts.build(encoder, DEFAULT_MODEL_NAME)
    assert rebuilt["theme_ids"] == shipped["theme_ids"]
    assert np.allclose(rebuilt["theme_centroids"], shipped["theme_centroids"], atol=1e-5)
    for name in ("heldout", "independent"):
        assert rebuilt["sentiment_report"][name]["accuracy"] == pytest.approx(
            shipped["sentiment_report"][name]["accuracy"], abs=0.015)
    _, heldout = sentiment.split(sentiment.load_labelled())
    texts = heldout["text"].tolist()
    old, _ = shipped_model.predict(sentiment.inputs_for(encoder, texts, shipped_adapter))
    new, _ = sentiment.SentimentModel.from_json(rebuilt["sentiment"]).predict(
        sentiment.inputs_for(encoder, texts, adapter))
    assert np.mean(np.array(old) == np.array(new)) >= 0.97
