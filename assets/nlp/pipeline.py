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
from assets.nlp.embeddings import text_hash

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
    n_cached: int = 0
    n_embedded: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def embedded_per_second(self) -> float:
        return self.n_embedded / self.embed_seconds if self.embed_seconds else 0.0


def embed_missing(conn: psycopg.Connection, texts_by_hash: dict[str, str], embed: Embed, model_name: str,
                  report: EmbedReport | None = None) -> EmbedReport:
    """Embed the texts whose hash is not cached for ``model_name`` yet, and cache them."""
    report = report or EmbedReport()
    cached = store.cached_hashes(conn, texts_by_hash, model_name)
    todo = [h for h in texts_by_hash if h not in cached]
    report.n_distinct, report.n_cached, report.n_embedded = len(texts_by_hash), len(cached), len(todo)
    if todo:
        started = time.perf_counter()
        vectors = embed([texts_by_hash[h] for h in todo])
        report.embed_seconds = time.perf_counter() - started
        store.store_embeddings(conn, todo, vectors, model_name)
    return report


def cached_embed(conn: psycopg.Connection, embed: Embed, model_name: str) -> Embed:
    """``embed`` routed through the cache table: each distinct text is encoded once per model, ever."""

    def embed_cached(texts: list[str]) -> np.ndarray:
        by_hash = {text_hash(t): t for t in texts}
        embed_missing(conn, by_hash, embed, model_name)
        vectors = store.load_embeddings(conn, list(by_hash), model_name)
        return np.stack([vectors[text_hash(t)] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    return embed_cached


def embed_survey(conn: psycopg.Connection, survey_id: str, embed: Embed, model_name: str) -> EmbedReport:
    started = time.perf_counter()
    rows = store.survey_texts(conn, survey_id)
    report = EmbedReport(n_comments=len(rows))
    embed_missing(conn, {h: t for _, h, t in rows}, embed, model_name, report)
    report.seconds = time.perf_counter() - started
    return report


# ------------------------------------------------------------------------------------------- classifier


def classifier(conn: psycopg.Connection, embed: Embed, model_name: str) -> tuple[sentiment.SentimentModel, dict]:
    """The sentiment classifier for ``model_name``, kept in nlp.sentiment_models: the shipped trained artifact
    while it matches the labelled set, else trained from the shipped labelled set (once per labelled set and
    embedding model)."""
    key = artifacts.labelled_sha256()
    stored = store.stored_classifier(conn, model_name, key)
    if stored:
        return sentiment.SentimentModel.from_json(stored[0]), stored[1]
    shipped = artifacts.shipped_classifier(model_name)
    model, report = shipped or sentiment.train_from_shipped(cached_embed(conn, embed, model_name), model_name)
    store.store_classifier(conn, model_name, key, model.to_json(), report)
    return model, report


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
    model: sentiment.SentimentModel,
    theme_ids: list[str],
    centroids: np.ndarray,
    min_cluster_size: int = 5,
) -> tuple[list[store.Enrichment], list[tuple[str, tuple[str, ...], int]]]:
    """Sentiment and theme of each comment; the comments no catalogue theme fits are clustered into emerging
    themes (over their distinct texts, so a pasted comment does not make a cluster on its own)."""
    if not len(comment_ids):
        return [], []
    labels, scores = model.predict(vectors, list(texts))
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
        store.Enrichment(cid, labels[i], float(np.clip(scores[i], -1.0, 1.0)), theme[i],
                         float(np.clip(confidence[i], 0.0, 1.0)), source[i])
        for i, cid in enumerate(comment_ids)
    ]
    return rows, emerging_out


def enrich_survey(conn: psycopg.Connection, survey_id: str, embed: Embed, model_name: str,
                  model: sentiment.SentimentModel | None = None,
                  catalogue: tuple[list[str], np.ndarray] | None = None) -> EnrichReport:
    """Classify one survey; ``model`` and ``catalogue`` (theme ids, centroids) are looked up when not given
    (a run over many surveys passes them in once)."""
    started = time.perf_counter()
    model = model or classifier(conn, embed, model_name)[0]
    theme_ids, centroids = catalogue or theme_centroids(conn, embed, model_name)
    rows = store.survey_texts(conn, survey_id)
    vectors_by_hash = store.load_embeddings(conn, [h for _, h, _ in rows], model_name)
    missing = {h for _, h, _ in rows} - set(vectors_by_hash)
    if missing:
        raise RuntimeError(f"survey {survey_id}: {len(missing)} comment texts have no {model_name} embedding yet; "
                           "materialise nlp/embeddings first")
    vectors = (np.stack([vectors_by_hash[h] for _, h, _ in rows]) if rows
               else np.zeros((0, centroids.shape[1]), np.float32))
    enriched, emerging = enrich_rows([cid for cid, _, _ in rows], [t for _, _, t in rows], vectors, model,
                                     theme_ids, centroids)
    store.replace_enrichment(conn, survey_id, enriched, model_name, emerging)
    report = EnrichReport(n_comments=len(enriched), emerging=emerging)
    report.sentiment_counts.update(r.sentiment_label for r in enriched)
    report.theme_counts.update(r.theme for r in enriched)
    report.seconds = time.perf_counter() - started
    return report
