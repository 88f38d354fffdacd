"""One survey's comments through the NLP steps: mask and flag, embed (cached), classify and theme.

Each step reads what the previous one wrote and returns a report of counts and timings (what Dagster shows
as metadata). Reports never carry comment text: not even masked text goes into Dagster's event log.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import psycopg

from assets.nlp import artifacts, pii, safety, sentiment, store, themes
from assets.nlp.embeddings import DIMENSIONS, Encoder, Views, text_hash
from assets.nlp.tuning import Adapter

Embed = Callable[[list[str]], np.ndarray]
OTHER_THEME = "other"  # what themes.assign_themes gives a comment no catalogue theme fits
# Agglomerative clustering holds a square distance matrix: beyond this many distinct unassigned texts in one
# survey, the first ones by text hash (a stable, unbiased sample) are clustered and the rest stay 'other'.
MAX_CLUSTERED_TEXTS = 4000


# ------------------------------------------------------------------------------------------- mask and flag


@dataclass
class MaskReport:
    n_comments: int = 0
    n_with_pii: int = 0
    pii_counts: Counter = field(default_factory=Counter)
    n_flagged: int = 0
    flag_counts: Counter = field(default_factory=Counter)
    queue: dict[str, int] = field(default_factory=dict)
    roster_size: int = 0
    seconds: float = 0.0


def mask_answers(
    survey_id: str, answers: Sequence[store.CommentAnswer], roster: pii.Roster
) -> tuple[list[store.MaskedComment], list[store.Flagged]]:
    """Masked comments and safety flags for a survey's answers. Flags are found on the original text (a
    masked name must not hide a threat) but only the masked text's hash is kept with them."""
    masked_rows, flagged = [], []
    for answer in answers:
        masked = pii.mask(answer.text, roster)
        digest = text_hash(masked.text)
        cid = answer.comment_id(survey_id)
        masked_rows.append(store.MaskedComment(cid, answer.response_id, answer.question_id, answer.team_id,
                                               masked.text, digest, {k: v for k, v in masked.counts.items() if v}))
        flags = safety.flag(answer.text)
        if flags:
            severity = max((f.severity for f in flags), key=SEVERITY_ORDER.index)
            flagged.append(store.Flagged(cid, answer.team_id, digest, tuple(f.category for f in flags), severity))
    return masked_rows, flagged


SEVERITY_ORDER = ("low", "medium", "high")


def load_roster(conn: psycopg.Connection) -> pii.Roster:
    """The roster's names as the masker looks them up (built once per run: 50,000 names take about a second)."""
    return pii.Roster.from_full_names(store.roster_names(conn))


def mask_survey(conn: psycopg.Connection, survey_id: str, roster: pii.Roster | None = None) -> MaskReport:
    started = time.perf_counter()
    answers = store.comment_answers(conn, survey_id)
    roster = roster if roster is not None else load_roster(conn)
    masked_rows, flagged = mask_answers(survey_id, answers, roster)
    store.replace_comments(conn, survey_id, masked_rows)
    queue = store.sync_review_queue(conn, survey_id, flagged)
    report = MaskReport(n_comments=len(masked_rows), roster_size=len(roster), n_flagged=len(flagged), queue=queue)
    for row in masked_rows:
        report.pii_counts.update(row.pii_counts)
        report.n_with_pii += bool(row.pii_counts)
    for item in flagged:
        report.flag_counts.update(item.categories)
    report.seconds = time.perf_counter() - started
    return report


# ------------------------------------------------------------------------------------------- embeddings


@dataclass
class EmbedReport:
    n_comments: int = 0
    n_distinct: int = 0
    n_cached: int = 0  # distinct texts with every view cached already
    n_embedded: int = 0  # distinct texts that needed at least one forward pass
    n_base_encoded: int = 0  # texts run through the model (sentence and layer views)
    n_tuned_encoded: int = 0  # texts run through the sentiment encoder
    seconds: float = 0.0
    embed_seconds: float = 0.0  # of which forward passes, both encoders

    @property
    def embedded_per_second(self) -> float:
        return self.n_embedded / self.embed_seconds if self.embed_seconds else 0.0

    def add(self, other: EmbedReport) -> None:
        for name in ("n_comments", "n_distinct", "n_cached", "n_embedded", "n_base_encoded", "n_tuned_encoded",
                     "seconds", "embed_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def embed_missing(conn: psycopg.Connection, texts_by_hash: dict[str, str], encoder: Encoder, views: Views,
                  adapter: Adapter, report: EmbedReport | None = None) -> EmbedReport:
    """Compute and cache the views the cache lacks for these texts: the sentence and layer views in one pass
    of the model, the tuned view in one pass of the sentiment encoder. A cached view is never recomputed."""
    report = report or EmbedReport()
    cached = {name: store.cached_hashes(conn, texts_by_hash, name) for name in views.names()}
    base = [h for h in texts_by_hash if h not in cached[views.sentence] or h not in cached[views.layer]]
    tuned = [h for h in texts_by_hash if h not in cached[views.tuned]]
    report.n_distinct = len(texts_by_hash)
    report.n_embedded = len(set(base) | set(tuned))
    report.n_cached = report.n_distinct - report.n_embedded
    report.n_base_encoded, report.n_tuned_encoded = len(base), len(tuned)
    started = time.perf_counter()
    if base:
        sentence, layer = encoder.base_views([texts_by_hash[h] for h in base])
        for name, vectors in ((views.sentence, sentence), (views.layer, layer)):
            keep = [i for i, h in enumerate(base) if h not in cached[name]]
            store.store_embeddings(conn, [base[i] for i in keep], vectors[keep], name)
    if tuned:
        store.store_embeddings(conn, tuned, encoder.tuned([texts_by_hash[h] for h in tuned], adapter), views.tuned)
    report.embed_seconds = time.perf_counter() - started if report.n_embedded else 0.0
    return report


def cached_embed(conn: psycopg.Connection, embed: Embed, model_name: str) -> Embed:
    """``embed`` (the sentence view) routed through the cache table: each distinct text is encoded once."""

    def embed_cached(texts: list[str]) -> np.ndarray:
        by_hash = {text_hash(t): t for t in texts}
        cached = store.cached_hashes(conn, by_hash, model_name)
        todo = [h for h in by_hash if h not in cached]
        if todo:
            store.store_embeddings(conn, todo, embed([by_hash[h] for h in todo]), model_name)
        vectors = store.load_embeddings(conn, list(by_hash), model_name)
        return np.stack([vectors[text_hash(t)] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    return embed_cached


def embed_survey(conn: psycopg.Connection, survey_id: str, encoder: Encoder, views: Views,
                 adapter: Adapter) -> EmbedReport:
    started = time.perf_counter()
    rows = store.survey_texts(conn, survey_id)
    report = EmbedReport(n_comments=len(rows))
    embed_missing(conn, {h: t for _, h, t in rows}, encoder, views, adapter, report)
    report.seconds = time.perf_counter() - started
    return report


# ------------------------------------------------------------------------------------------- classifier


@dataclass(frozen=True)
class Classifier:
    """The sentiment classifier in use: the numpy model, its encoder's adapter, its evaluation report."""

    model: sentiment.SentimentModel
    adapter: Adapter
    report: dict

    @property
    def views(self) -> Views:
        return Views(self.model.model_name, self.adapter.sha256)

    @property
    def identity(self) -> str:
        """What every comment it scores records as its sentiment model (:func:`sentiment.model_identity`)."""
        return sentiment.model_identity(self.model.model_name, self.model.training_sha256, self.adapter.sha256)


def _stored_classifier(conn: psycopg.Connection, model_name: str, key: str) -> Classifier | None:
    """The classifier kept in nlp.sentiment_models for this model and labelled set, if this code can read it."""
    stored = store.stored_classifier(conn, model_name, key)
    if not stored:
        return None
    model_json, adapter_bytes, report = stored
    try:  # one this code cannot read (its inputs changed) is replaced by the caller
        adapter = Adapter.from_bytes(adapter_bytes)
        model = sentiment.SentimentModel.from_json(model_json)
    except ValueError:
        return None
    return Classifier(model, adapter, report) if model.adapter_sha256 == adapter.sha256 else None


def classifier_in_use(conn: psycopg.Connection, model_name: str) -> Classifier | None:
    """The classifier the next enrichment will score comments with, found without training one: the stored
    classifier, else the shipped artifact; None when the next enrichment has to train one first."""
    stored = _stored_classifier(conn, model_name, artifacts.labelled_sha256())
    if stored is not None:
        return stored
    shipped = artifacts.shipped_classifier(model_name)
    return Classifier(*shipped) if shipped else None


def classifier(conn: psycopg.Connection, encoder: Encoder, model_name: str) -> Classifier:
    """The sentiment classifier for ``model_name``, kept in nlp.sentiment_models: the shipped trained artifact
    while it matches the labelled set, else trained from the shipped labelled set (once per labelled set and
    embedding model; about two and a half minutes on two cores)."""
    key = artifacts.labelled_sha256()
    stored = _stored_classifier(conn, model_name, key)
    if stored is not None:
        return stored
    shipped = artifacts.shipped_classifier(model_name)
    model, adapter, report = shipped or sentiment.train_from_shipped(encoder, model_name)
    store.store_classifier(conn, model_name, key, model.to_json(), adapter.to_bytes(), adapter.sha256, report)
    return Classifier(model, adapter, report)


def theme_centroids(conn: psycopg.Connection, embed: Embed, model_name: str) -> tuple[list[str], np.ndarray]:
    shipped = artifacts.shipped_centroids(model_name)
    if shipped:
        return shipped
    ids, sentences = themes.catalogue_texts()
    return themes.theme_centroids(cached_embed(conn, embed, model_name)(sentences), ids)


# ------------------------------------------------------------------------------------------- enrichment


@dataclass
class EnrichReport:
    n_comments: int = 0
    sentiment_counts: Counter = field(default_factory=Counter)
    theme_counts: Counter = field(default_factory=Counter)
    emerging: list[tuple[str, tuple[str, ...], int]] = field(default_factory=list)
    seconds: float = 0.0


def enrich_rows(
    comment_ids: Sequence[str],
    texts: Sequence[str],
    vectors: np.ndarray,
    sentiment_labels: Sequence[str],
    sentiment_scores: Sequence[float],
    theme_ids: list[str],
    centroids: np.ndarray,
    min_cluster_size: int = 5,
) -> tuple[list[store.Enrichment], list[tuple[str, tuple[str, ...], int]]]:
    """Each comment's sentiment (given) and theme (from its sentence embedding); the comments no catalogue theme
    fits are clustered into emerging themes (over their distinct texts, so a pasted comment does not make a
    cluster on its own)."""
    if not len(comment_ids):
        return [], []
    assignments = themes.assign_themes(vectors, theme_ids, centroids)
    theme = [a.theme for a in assignments]
    confidence = [float(a.confidence) for a in assignments]
    source = ["catalogue" if t != OTHER_THEME else "other" for t in theme]

    other_texts = list(dict.fromkeys(texts[i] for i, t in enumerate(theme) if t == OTHER_THEME))
    if len(other_texts) > MAX_CLUSTERED_TEXTS:
        other_texts = sorted(other_texts, key=text_hash)[:MAX_CLUSTERED_TEXTS]
    emerging_out = []
    if len(other_texts) >= min_cluster_size:
        first_index = {}
        for i, text in enumerate(texts):
            first_index.setdefault(text, i)
        other_vectors = np.stack([vectors[first_index[t]] for t in other_texts])
        clusters = themes.emerging_themes(other_texts, other_vectors, min_cluster_size=min_cluster_size)
        text_theme = {}
        for cluster in clusters:
            centre = other_vectors[list(cluster.members)].mean(axis=0)
            centre /= np.linalg.norm(centre) or 1.0
            for m in cluster.members:
                text_theme[other_texts[m]] = (cluster.theme, float(np.clip(other_vectors[m] @ centre, 0.0, 1.0)))
        counts = Counter()
        for i, text in enumerate(texts):
            if theme[i] == OTHER_THEME and text in text_theme:
                theme[i], confidence[i] = text_theme[text]
                source[i] = "emerging"
                counts[theme[i]] += 1
        emerging_out = [(c.theme, tuple(c.keywords), counts[c.theme]) for c in clusters]

    rows = [
        store.Enrichment(cid, sentiment_labels[i], float(np.clip(sentiment_scores[i], -1.0, 1.0)), theme[i],
                         float(np.clip(confidence[i], 0.0, 1.0)), source[i])
        for i, cid in enumerate(comment_ids)
    ]
    return rows, emerging_out


def _views(conn: psycopg.Connection, survey_id: str, hashes: list[str], name: str) -> np.ndarray:
    """The survey's vectors of view ``name``, one row per hash; a missing one is an error naming the step to run."""
    by_hash = store.load_embeddings(conn, hashes, name)
    missing = set(hashes) - set(by_hash)
    if missing:
        raise RuntimeError(f"survey {survey_id}: {len(missing)} comment texts have no {name} vector yet; "
                           "materialise nlp/embeddings first")
    return np.stack([by_hash[h] for h in hashes]) if hashes else np.zeros((0, DIMENSIONS), np.float32)


def enrich_survey(conn: psycopg.Connection, survey_id: str, encoder: Encoder, model_name: str,
                  chosen: Classifier | None = None,
                  catalogue: tuple[list[str], np.ndarray] | None = None) -> EnrichReport:
    """Classify one survey from its cached views; ``chosen`` (the classifier) and ``catalogue`` (theme ids,
    centroids) are looked up when not given (a run over many surveys passes them in once)."""
    started = time.perf_counter()
    chosen = chosen or classifier(conn, encoder, model_name)
    theme_ids, centroids = catalogue or theme_centroids(conn, encoder.sentence, model_name)
    rows = store.survey_texts(conn, survey_id)
    hashes, texts = [h for _, h, _ in rows], [t for _, _, t in rows]
    views = chosen.views
    labels, scores = chosen.model.predict(sentiment.SentimentInputs(
        layer=_views(conn, survey_id, hashes, views.layer), tuned=_views(conn, survey_id, hashes, views.tuned),
        texts=texts))
    sentence = _views(conn, survey_id, hashes, views.sentence)
    enriched, emerging = enrich_rows([cid for cid, _, _ in rows], texts, sentence, labels, scores, theme_ids,
                                     centroids)
    store.replace_enrichment(conn, survey_id, enriched, model_name, emerging, chosen.identity)
    report = EnrichReport(n_comments=len(enriched), emerging=emerging)
    report.sentiment_counts.update(r.sentiment_label for r in enriched)
    report.theme_counts.update(r.theme for r in enriched)
    report.seconds = time.perf_counter() - started
    return report
