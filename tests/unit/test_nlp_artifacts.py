"""The shipped trained artifact (sentiment classifier, theme centroids) is what training on the shipped data gives,
and it is ignored as soon as that data changes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assets.nlp import artifacts, sentiment
from assets.nlp.embeddings import DEFAULT_MODEL_NAME, encode


def test_artifact_is_shipped_for_the_default_model_and_matches_the_data():
    artifact = artifacts.load(DEFAULT_MODEL_NAME)
    assert artifact is not None, "run `make nlp-model` and commit assets/nlp/data/trained/"
    assert artifact["labelled_sha256"] == artifacts.labelled_sha256()
    assert artifact["catalogue_sha256"] == artifacts.catalogue_sha256()
    assert artifacts.shipped_classifier(DEFAULT_MODEL_NAME) is not None
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
    wrong_format.write_text(json.dumps({"format": 0, "model_name": DEFAULT_MODEL_NAME}))
    assert artifacts.load(DEFAULT_MODEL_NAME, wrong_format) is None


@pytest.mark.slow
def test_retraining_gives_the_shipped_artifact():
    shipped = artifacts.load(DEFAULT_MODEL_NAME)
    rebuilt = artifacts.build(encode, DEFAULT_MODEL_NAME)
    assert rebuilt["theme_ids"] == shipped["theme_ids"]
    assert np.allclose(rebuilt["theme_centroids"], shipped["theme_centroids"], atol=1e-5)
    for name in ("heldout", "independent"):
        assert rebuilt["sentiment_report"][name]["accuracy"] == pytest.approx(
            shipped["sentiment_report"][name]["accuracy"], abs=0.005)
    _, heldout = sentiment.split(sentiment.load_labelled())
    texts = heldout["text"].tolist()
    vectors = encode(texts)
    old, _ = sentiment.SentimentModel.from_json(shipped["sentiment"]).predict(vectors, texts)
    new, _ = sentiment.SentimentModel.from_json(rebuilt["sentiment"]).predict(vectors, texts)
    assert np.mean(np.array(old) == np.array(new)) >= 0.99
