"""The comment stages of ``novora bench``: masking, embeddings cold and warm, sentiment and themes.

Runs on one loaded survey (the benchmark's first: 50,000 responses, about 20,000 comments). "Cold" starts from
an empty embedding cache; "warm" repeats the same steps, which must embed nothing. Rates are comments per
second over the survey's comments; the encoding rate is also given per distinct text actually encoded, and the
two forward passes (the model: sentence and layer views; the sentiment encoder: the tuned view) are timed apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg

from assets.nlp import pipeline
from assets.nlp.embeddings import DEFAULT_MODEL_NAME, Encoder, load_model

Progress = Callable[[str], None]


def _rate(n: int, seconds: float) -> float | None:
    return round(n / seconds, 1) if seconds > 0 else None


def bench_comments(conn: psycopg.Connection, survey_id: str, progress: Progress, batch_size: int = 64) -> dict:
    """Figures for one survey's comments; empties the embedding cache and trained classifiers first."""
    conn.execute("truncate nlp.embeddings, nlp.sentiment_models")
    started = time.perf_counter()
    model = load_model()
    model_load = time.perf_counter() - started

    encoder = TimedEncoder(model, batch_size)

    progress(f"comments of {survey_id}: masking and flagging ...")
    masked = pipeline.mask_survey(conn, survey_id)
    n = masked.n_comments
    figures: dict[str, object] = {
        "survey_id": survey_id, "comments": n, "model_name": DEFAULT_MODEL_NAME, "batch_size": batch_size,
        "model_load_seconds": round(model_load, 3),
        "mask": {"seconds": round(masked.seconds, 3), "comments_per_second": _rate(n, masked.seconds),
                 "comments_with_pii": masked.n_with_pii, "flagged": masked.n_flagged,
                 "roster_names": masked.roster_size},
    }

    progress("the sentiment classifier (shipped artifact, or trained from the shipped labelled set) ...")
    started = time.perf_counter()
    chosen = pipeline.classifier(conn, encoder, DEFAULT_MODEL_NAME)
    figures["classifier"] = {"seconds": round(time.perf_counter() - started, 3),
                             "adapter_sha256": chosen.adapter.sha256,
                             "heldout_accuracy": chosen.report["heldout"]["accuracy"],
                             "heldout_macro_f1": chosen.report["heldout"]["macro_f1"],
                             "independent_accuracy": chosen.report["independent"]["accuracy"]}

    for phase in ("cold", "warm"):
        progress(f"comments of {survey_id}: embeddings and enrichment, {phase} cache ...")
        encoder.seconds = {"base": 0.0, "tuned": 0.0}
        embedded = pipeline.embed_survey(conn, survey_id, encoder, chosen.views, chosen.adapter)
        enriched = pipeline.enrich_survey(conn, survey_id, encoder, DEFAULT_MODEL_NAME, chosen)
        total = embedded.seconds + enriched.seconds
        figures[phase] = {
            "distinct_texts": embedded.n_distinct, "new_embeddings": embedded.n_embedded,
            "model_passes": embedded.n_base_encoded, "sentiment_encoder_passes": embedded.n_tuned_encoded,
            "model_pass_seconds": round(encoder.seconds["base"], 3),
            "sentiment_encoder_pass_seconds": round(encoder.seconds["tuned"], 3),
            "embed_seconds": round(embedded.seconds, 3),
            "embed_comments_per_second": _rate(n, embedded.seconds),
            "encoded_texts_per_second": round(embedded.embedded_per_second, 1) if embedded.n_embedded else None,
            "sentiment_and_themes_seconds": round(enriched.seconds, 3),
            "sentiment_and_themes_comments_per_second": _rate(n, enriched.seconds),
            "emerging_themes": len(enriched.emerging),
            "total_seconds": round(total, 3), "comments_per_second": _rate(n, total),
        }
    return figures


class TimedEncoder(Encoder):
    """The encoder with each forward pass timed, so the bench can say what the sentiment encoder costs."""

    def __init__(self, model, batch_size: int):
        super().__init__(batch_size=batch_size, model=model)
        self.seconds = {"base": 0.0, "tuned": 0.0}

    def base_views(self, texts):
        started = time.perf_counter()
        try:
            return super().base_views(texts)
        finally:
            self.seconds["base"] += time.perf_counter() - started

    def tuned(self, texts, adapter):
        started = time.perf_counter()
        try:
            return super().tuned(texts, adapter)
        finally:
            self.seconds["tuned"] += time.perf_counter() - started
