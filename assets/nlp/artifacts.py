"""Trained NLP artifacts shipped with the project: the sentiment classifier and the theme centroids, per model.

Training fine-tunes the sentiment encoder's adapter on the shipped labelled set and embeds the theme
catalogue: about three minutes on two cores. A fresh deployment, a demo or a test database should not pay that
before its first comment is classified. ``python -m assets.nlp.artifacts`` (``make nlp-model``) trains from the
shipped data and writes ``data/trained/<model name>.json`` (the classifier's two softmax layers, the theme
centroids and the evaluation report) and ``data/trained/<model name>.adapter.safetensors`` (the encoder's
adapter, named by its hash in the JSON). At run time the artifact is used only while its hashes match the
labelled set, the catalogue and the adapter file; otherwise the classifier is trained again (and kept in
nlp.sentiment_models). A test retrains and checks the shipped files give the same answers.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from assets.nlp import sentiment, themes
from assets.nlp.embeddings import DEFAULT_MODEL_NAME, Encoder
from assets.nlp.tuning import Adapter

TRAINED_DIR = Path(__file__).resolve().parent / "data" / "trained"
FORMAT = 2


def catalogue_sha256() -> str:
    ids, sentences = themes.catalogue_texts()
    return hashlib.sha256(json.dumps([ids, sentences], ensure_ascii=False).encode("utf-8")).hexdigest()


def labelled_sha256() -> str:
    return sentiment.training_sha256(sentiment.load_labelled())


def _safe(model_name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in model_name)


def artifact_path(model_name: str) -> Path:
    return TRAINED_DIR / f"{_safe(model_name)}.json"


def adapter_path(model_name: str, artifact: Path | None = None) -> Path:
    """The adapter file beside the artifact (``<model>.adapter.safetensors``)."""
    artifact = artifact or artifact_path(model_name)
    return artifact.with_name(artifact.name.removesuffix(".json") + ".adapter.safetensors")


def build(encoder: Encoder, model_name: str) -> tuple[dict, Adapter]:
    """Train the classifier and compute the centroids for ``model_name`` from the shipped data."""
    model, adapter, report = sentiment.train_from_shipped(encoder, model_name)
    ids, sentences = themes.catalogue_texts()
    theme_ids, centroids = themes.theme_centroids(encoder.sentence(sentences), ids)
    artifact = {
        "format": FORMAT,
        "model_name": model_name,
        "labelled_sha256": labelled_sha256(),
        "catalogue_sha256": catalogue_sha256(),
        "sentiment": model.to_json(),
        "sentiment_report": report,
        "theme_ids": theme_ids,
        "theme_centroids": centroids.astype(float).tolist(),
    }
    return artifact, adapter


def load(model_name: str, path: Path | None = None) -> dict | None:
    """The shipped artifact for ``model_name``, or None when there is none or it is of another format."""
    path = path or artifact_path(model_name)
    if not path.exists():
        return None
    artifact = json.loads(path.read_text(encoding="utf-8"))
    if artifact.get("format") != FORMAT or artifact.get("model_name") != model_name:
        return None
    return artifact


def load_adapter(model_name: str, path: Path | None = None) -> Adapter | None:
    path = adapter_path(model_name, path)
    return Adapter.from_bytes(path.read_bytes()) if path.exists() else None


def shipped_classifier(model_name: str,
                       path: Path | None = None) -> tuple[sentiment.SentimentModel, Adapter, dict] | None:
    """The shipped (model, adapter, report), or None when missing or trained on other data than the shipped set."""
    artifact = load(model_name, path)
    if artifact is None or artifact["labelled_sha256"] != labelled_sha256():
        return None
    adapter = load_adapter(model_name, path)
    try:
        model = sentiment.SentimentModel.from_json(artifact["sentiment"])
    except ValueError:
        return None
    if adapter is None or adapter.sha256 != model.adapter_sha256:
        return None
    return model, adapter, artifact["sentiment_report"]


def shipped_centroids(model_name: str) -> tuple[list[str], np.ndarray] | None:
    artifact = load(model_name)
    if artifact is None or artifact["catalogue_sha256"] != catalogue_sha256():
        return None
    return list(artifact["theme_ids"]), np.asarray(artifact["theme_centroids"], dtype=np.float32)


def write(model_name: str = DEFAULT_MODEL_NAME, path: Path | None = None) -> Path:
    artifact, adapter = build(Encoder(), model_name)
    path = path or artifact_path(model_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    adapter_path(model_name, path).write_bytes(adapter.to_bytes())
    path.write_text(json.dumps(artifact, indent=1) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    written = write(*(sys.argv[1:2] or [DEFAULT_MODEL_NAME]))
    report = json.loads(written.read_text())["sentiment_report"]
    print(f"wrote {written} and its adapter: held-out accuracy {report['heldout']['accuracy']:.3f}, "
          f"independent accuracy {report['independent']['accuracy']:.3f}")
    print(sentiment.confusion_markdown(report))
