"""How the sentiment classifier's settings were chosen: five-fold cross-validation on the training split only.

``python -m assets.nlp.sentiment_cv [--rank 8 --learning-rate 5e-4 --epochs 8 ...]`` prints, for the same five
stratified folds of the training split (the held-out split is never read):

* the linear layer over each candidate view (the sentence embedding, and the mean of layers 3, 4 and 5), with
  the cue block, at its best ``C``;
* the tuned encoder (adapter + head) with the given settings, alone;
* the average of the two at a few weights.

Each fold fine-tunes an adapter, so a run takes about ten minutes on two cores. The defaults in
:mod:`assets.nlp.tuning`, :data:`assets.nlp.embeddings.SENTIMENT_LAYER` and
:data:`assets.nlp.sentiment.TUNED_WEIGHT` are what this reported best (README, "Sentiment").
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import fields

import numpy as np

from assets.nlp import sentiment
from assets.nlp.embeddings import Encoder, encode_with_layer
from assets.nlp.tuning import DEFAULT_TUNING, TuningConfig, fine_tune

LAYERS = (3, 4, 5, 6)  # 6 is the last layer: the sentence embedding
WEIGHTS = (0.0, 0.3, 0.5, 0.7, 1.0)  # share of the tuned encoder in the average


def _folds(labels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=sentiment.CV_FOLDS, shuffle=True, random_state=0).split(labels, labels))


def linear_out_of_fold(vectors: np.ndarray, labels: np.ndarray, cues: np.ndarray, folds) -> np.ndarray:
    """Out-of-fold probabilities of the linear layer, its C and cue weight chosen inside each training fold."""
    proba = np.zeros((len(labels), len(sentiment.LABELS)))
    for fit, held in folds:
        layer = sentiment.fit_linear(vectors[fit], labels[fit].tolist(), cues[fit])
        proba[held] = layer.proba(vectors[held], cues[held])
    return proba


def tuned_out_of_fold(encoder: Encoder, texts: list[str], labels: np.ndarray, cues: np.ndarray, folds,
                      config: TuningConfig, progress=print) -> np.ndarray:
    proba = np.zeros((len(labels), len(sentiment.LABELS)))
    index = np.array([sentiment.LABELS.index(label) for label in labels])
    for k, (fit, held) in enumerate(folds, start=1):
        started = time.perf_counter()
        adapter, head = fine_tune(encoder.model, [texts[i] for i in fit], index[fit], cues[fit],
                                  len(sentiment.LABELS), config)
        layer = sentiment.SoftmaxLayer(head.coef, head.intercept, config.feature_scale, config.cue_weight)
        proba[held] = layer.proba(encoder.tuned([texts[i] for i in held], adapter), cues[held])
        progress(f"fold {k}: tuned accuracy {_accuracy(proba[held], labels[held]):.3f} "
                 f"({time.perf_counter() - started:.0f} s)")
    return proba


def _accuracy(proba: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.array(sentiment.LABELS)[proba.argmax(axis=1)] == labels))


def cross_validate(config: TuningConfig = DEFAULT_TUNING, progress=print) -> dict:
    train_df, _ = sentiment.split(sentiment.load_labelled())
    texts, labels = train_df["text"].tolist(), train_df["label"].to_numpy()
    cues = sentiment.cue_matrix(texts)
    folds = _folds(labels)
    encoder = Encoder()
    result: dict = {"n_train": len(texts), "folds": len(folds), "tuning": {f.name: getattr(config, f.name)
                                                                           for f in fields(config)}}
    linear = {}
    for layer in LAYERS:
        _, vectors = encode_with_layer(texts, encoder.model, layer=layer)
        linear[layer] = linear_out_of_fold(vectors, labels, cues, folds)
        progress(f"linear over layer {layer}: {_accuracy(linear[layer], labels):.3f}")
    result["linear_by_layer"] = {str(layer): _accuracy(p, labels) for layer, p in linear.items()}
    tuned = tuned_out_of_fold(encoder, texts, labels, cues, folds, config, progress)
    result["tuned"] = _accuracy(tuned, labels)
    result["average_by_layer_and_weight"] = {
        str(layer): {str(w): _accuracy(w * tuned + (1 - w) * linear[layer], labels) for w in WEIGHTS}
        for layer in LAYERS}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in fields(TuningConfig):
        parser.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default)
    args = parser.parse_args(argv)
    config = TuningConfig(**{f.name: getattr(args, f.name) for f in fields(TuningConfig)})
    print(json.dumps(cross_validate(config), indent=1))


if __name__ == "__main__":
    main()
