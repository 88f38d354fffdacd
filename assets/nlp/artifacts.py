"""Trained NLP artifacts shipped with the project: the sentiment classifier and the theme centroids, per model.

Training embeds the shipped labelled sets and the theme catalogue (about 1,600 texts, tens of seconds on two
cores) and cross-validates the classifier; a fresh deployment, a demo or a test database should not pay that
before its first comment is classified. ``python -m assets.nlp.artifacts`` (``make nlp-model``) trains from the
shipped data and writes ``data/trained/<model name>.json`` with its evaluation report. At run time the artifact
is used only while its hashes match the labelled set and the catalogue; otherwise the classifier is trained
again (and kept in nlp.sentiment_models). A test retrains and checks the shipped file gives the same answers.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assets.nlp import sentiment, themes
from assets.nlp.embeddings import DEFAULT_MODEL_NAME

TRAINED_DIR = Path(__file__).resolve().parent / "data" / "trained"
FORMAT = 1

Embed = Callable[[list[str]], np.ndarray]


def catalogue_sha256() -> str:
    ids, sentences = themes.catalogue_texts()
    return hashlib.sha256(json.dumps([ids, sentences], ensure_ascii=False).encode("utf-8")).hexdigest()


def labelled_sha256() -> str:
    return sentiment.training_sha256(sentiment.load_labelled())


def artifact_path(model_name: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_name)
    return TRAINED_DIR / f"{safe}.json"


def build(embed: Embed, model_name: str) -> dict:
    """Train the classifier and compute the centroids for ``model_name`` from the shipped data."""
    model, report = sentiment.train_from_shipped(embed, model_name)
    ids, sentences = themes.catalogue_texts()
    theme_ids, centroids = themes.theme_centroids(embed(sentences), ids)
    return {
        "format": FORMAT,
        "model_name": model_name,
        "labelled_sha256": labelled_sha256(),
        "catalogue_sha256": catalogue_sha256(),
        "sentiment": model.to_json(),
        "sentiment_report": report,
        "theme_ids": theme_ids,
        "theme_centroids": centroids.astype(float).tolist(),
    }


def load(model_name: str, path: Path | None = None) -> dict | None:
    """The shipped artifact for ``model_name``, or None when there is none or its training data changed since."""
    path = path or artifact_path(model_name)
    if not path.exists():
        return None
    artifact = json.loads(path.read_text(encoding="utf-8"))
    if artifact.get("format") != FORMAT or artifact.get("model_name") != model_name:
        return None
    return artifact


def shipped_classifier(model_name: str) -> tuple[sentiment.SentimentModel, dict] | None:
    artifact = load(model_name)
    if artifact is None or artifact["labelled_sha256"] != labelled_sha256():
        return None
    return sentiment.SentimentModel.from_json(artifact["sentiment"]), artifact["sentiment_report"]


def shipped_centroids(model_name: str) -> tuple[list[str], np.ndarray] | None:
    artifact = load(model_name)
    if artifact is None or artifact["catalogue_sha256"] != catalogue_sha256():
        return None
    return list(artifact["theme_ids"]), np.asarray(artifact["theme_centroids"], dtype=np.float32)


def write(model_name: str = DEFAULT_MODEL_NAME, path: Path | None = None) -> Path:
    from assets.nlp.embeddings import encode, load_model

    model = load_model()
    artifact = build(lambda texts: encode(texts, model), model_name)
    path = path or artifact_path(model_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(artifact, indent=1) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    written = write(*(sys.argv[1:2] or [DEFAULT_MODEL_NAME]))
    report = json.loads(written.read_text())["sentiment_report"]
    print(f"wrote {written}: held-out accuracy {report['heldout']['accuracy']:.3f}, "
          f"independent accuracy {report['independent']['accuracy']:.3f}")
