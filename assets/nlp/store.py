"""The NLP tables in PostgreSQL: reading a survey's comments from raw, writing masked and derived rows.

Every write replaces one survey's rows in one transaction (delete, then COPY), so a re-delivered survey never
leaves stale comments behind and readers see the old or the new survey, never a mixture. Only
:func:`comment_answers` and :func:`roster_names` read unmasked data, and only into this process's memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class CommentAnswer:
    """One free-text answer as it sits in raw (unmasked: never written anywhere but nlp.comments, masked)."""

    response_id: str
    question_id: str
    team_id: str
    text: str

    def comment_id(self, survey_id: str) -> str:
        return comment_id(survey_id, self.response_id, self.question_id)


@dataclass(frozen=True)
class MaskedComment:
    comment_id: str
    response_id: str
    question_id: str
    team_id: str
    text_masked: str
    text_sha256: str
    pii_counts: dict[str, int]


@dataclass(frozen=True)
class Flagged:
    comment_id: str
    team_id: str
    text_sha256: str
    categories: tuple[str, ...]
    severity: str


def comment_id(survey_id: str, response_id: str, question_id: str) -> str:
    """Stable across re-deliveries: the same answer keeps its id (and its review decision)."""
    return f"{survey_id}:{response_id}:{question_id}"


def comment_answers(conn: psycopg.Connection, survey_id: str) -> list[CommentAnswer]:
    """The survey's non-blank comments, in a stable order."""
    rows = conn.execute(
        """select response_id, question_id, team_id, comment from raw.responses
           where survey_id = %s and comment is not null and btrim(comment) <> ''
           order by response_id, question_id""",
        (survey_id,),
    ).fetchall()
    return [CommentAnswer(*row) for row in rows]


def roster_names(conn: psycopg.Connection) -> list[str]:
    """Full names of everyone on the roster, former employees included (their names are personal data too)."""
    return [row[0] for row in conn.execute("select full_name from raw.employees order by employee_id")]


def replace_comments(conn: psycopg.Connection, survey_id: str, comments: Sequence[MaskedComment]) -> None:
    with conn.transaction():
        conn.execute("delete from nlp.comments where survey_id = %s", (survey_id,))
        with conn.cursor().copy(
            "copy nlp.comments (comment_id, survey_id, response_id, question_id, team_id, text_masked, "
            "text_sha256, pii_counts) from stdin"
        ) as copy:
            for c in comments:
                copy.write_row((c.comment_id, survey_id, c.response_id, c.question_id, c.team_id, c.text_masked,
                                c.text_sha256, Jsonb(c.pii_counts)))


def sync_review_queue(conn: psycopg.Connection, survey_id: str, flagged: Sequence[Flagged]) -> dict[str, int]:
    """Put newly flagged comments in the queue as pending; keep the decision on comments already reviewed
    unless their text changed (a corrected re-delivery is reviewed afresh); mark queue rows whose comment is
    gone from the survey, or no longer flagged, as not current. Returns counts: new, kept, reopened, retired."""
    counts = {"new": 0, "kept": 0, "reopened": 0, "retired": 0}
    with conn.transaction():
        existing = {
            row[0]: row[1]
            for row in conn.execute("select comment_id, text_sha256 from nlp.review_queue where survey_id = %s",
                                    (survey_id,))
        }
        for item in flagged:
            previous = existing.pop(item.comment_id, None)
            if previous is None:
                counts["new"] += 1
            elif previous == item.text_sha256:
                counts["kept"] += 1
            else:
                counts["reopened"] += 1
                conn.execute(
                    """insert into nlp.review_events (comment_id, from_status, to_status, actor, note)
                       select comment_id, status, 'pending', 'novora', 'comment text changed in a re-delivery'
                       from nlp.review_queue where comment_id = %s and status <> 'pending'""",
                    (item.comment_id,),
                )
            conn.execute(
                """insert into nlp.review_queue (comment_id, survey_id, team_id, text_sha256, categories, severity)
                   values (%s, %s, %s, %s, %s, %s)
                   on conflict (comment_id) do update set
                       team_id = excluded.team_id, categories = excluded.categories, severity = excluded.severity,
                       is_current = true,
                       status = case when nlp.review_queue.text_sha256 = excluded.text_sha256
                                     then nlp.review_queue.status else 'pending' end,
                       reviewed_by = case when nlp.review_queue.text_sha256 = excluded.text_sha256
                                          then nlp.review_queue.reviewed_by end,
                       reviewed_at = case when nlp.review_queue.text_sha256 = excluded.text_sha256
                                          then nlp.review_queue.reviewed_at end,
                       review_note = case when nlp.review_queue.text_sha256 = excluded.text_sha256
                                          then nlp.review_queue.review_note end,
                       flagged_at = case when nlp.review_queue.text_sha256 = excluded.text_sha256
                                         then nlp.review_queue.flagged_at else now() end,
                       text_sha256 = excluded.text_sha256""",
                (item.comment_id, survey_id, item.team_id, item.text_sha256, list(item.categories), item.severity),
            )
        if existing:
            counts["retired"] = len(existing)
            conn.execute("update nlp.review_queue set is_current = false where comment_id = any(%s)",
                         (list(existing),))
    return counts


def survey_texts(conn: psycopg.Connection, survey_id: str) -> list[tuple[str, str, str]]:
    """(comment_id, text_sha256, text_masked) of the survey's masked comments, in a stable order."""
    return conn.execute(
        "select comment_id, text_sha256, text_masked from nlp.comments where survey_id = %s order by comment_id",
        (survey_id,),
    ).fetchall()


def cached_hashes(conn: psycopg.Connection, hashes: Iterable[str], model_name: str) -> set[str]:
    return {
        row[0]
        for row in conn.execute(
            "select text_sha256 from nlp.embeddings where model_name = %s and text_sha256 = any(%s)",
            (model_name, list(set(hashes))),
        )
    }


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form; 7 significant digits keep float32 exactly enough for cosine similarity."""
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


def store_embeddings(conn: psycopg.Connection, hashes: Sequence[str], vectors: np.ndarray, model_name: str) -> None:
    with conn.transaction(), conn.cursor().copy(
        "copy nlp.embeddings (text_sha256, model_name, embedding) from stdin"
    ) as copy:
        for text_sha256, vector in zip(hashes, vectors, strict=True):
            copy.write_row((text_sha256, model_name, vector_literal(vector)))


def load_embeddings(conn: psycopg.Connection, hashes: Sequence[str], model_name: str) -> dict[str, np.ndarray]:
    rows = conn.execute(
        "select text_sha256, embedding::real[] from nlp.embeddings where model_name = %s and text_sha256 = any(%s)",
        (model_name, list(set(hashes))),
    ).fetchall()
    return {h: np.asarray(v, dtype=np.float32) for h, v in rows}


@dataclass(frozen=True)
class Enrichment:
    comment_id: str
    sentiment_label: str
    sentiment_score: float
    theme: str
    theme_confidence: float
    theme_source: str


def replace_enrichment(conn: psycopg.Connection, survey_id: str, rows: Sequence[Enrichment], model_name: str,
                       emerging: Sequence[tuple[str, Sequence[str], int]], sentiment_model: str | None = None) -> None:
    """The survey's sentiment and themes, and its emerging themes (theme, keywords, comment count);
    ``sentiment_model`` names the classifier that scored them (``pipeline.Classifier.identity``)."""
    with conn.transaction():
        conn.execute("delete from nlp.comment_enrichment where survey_id = %s", (survey_id,))
        conn.execute("delete from nlp.emerging_themes where survey_id = %s", (survey_id,))
        with conn.cursor().copy(
            "copy nlp.comment_enrichment (comment_id, survey_id, sentiment_label, sentiment_score, theme, "
            "theme_confidence, theme_source, model_name, sentiment_model) from stdin"
        ) as copy:
            for r in rows:
                copy.write_row((r.comment_id, survey_id, r.sentiment_label, r.sentiment_score, r.theme,
                                r.theme_confidence, r.theme_source, model_name, sentiment_model))
        for theme, keywords, n in emerging:
            conn.execute(
                "insert into nlp.emerging_themes (survey_id, theme, keywords, n_comments) values (%s, %s, %s, %s)",
                (survey_id, theme, list(keywords), n),
            )


def stored_classifier(conn: psycopg.Connection, model_name: str,
                      training_sha256: str) -> tuple[dict, bytes, dict] | None:
    """(classifier JSON, adapter bytes, evaluation report) kept for this model and training set, if any."""
    row = conn.execute(
        """select classifier, adapter, report from nlp.sentiment_models
           where model_name = %s and training_sha256 = %s""",
        (model_name, training_sha256),
    ).fetchone()
    return (row[0], bytes(row[1]), row[2]) if row else None


def scored_models(conn: psycopg.Connection, survey_ids: Sequence[str]) -> dict[str, set[str | None]]:
    """Per survey with comments, the sentiment models its comments were scored with (None: a comment scored
    before models were recorded, or not scored at all)."""
    rows = conn.execute(
        """select c.survey_id, e.sentiment_model from nlp.comments as c
           left join nlp.comment_enrichment as e on e.comment_id = c.comment_id
           where c.survey_id = any(%s) group by 1, 2""", (list(survey_ids),)).fetchall()
    scored: dict[str, set[str | None]] = {}
    for survey_id, model in rows:
        scored.setdefault(survey_id, set()).add(model)
    return scored


def store_classifier(conn: psycopg.Connection, model_name: str, training_sha256: str, classifier: dict,
                     adapter: bytes, adapter_sha256: str, report: dict) -> None:
    conn.execute(
        """insert into nlp.sentiment_models (model_name, training_sha256, classifier, adapter, adapter_sha256, report)
           values (%s, %s, %s, %s, %s, %s)
           on conflict (model_name, training_sha256) do update
           set classifier = excluded.classifier, adapter = excluded.adapter, adapter_sha256 = excluded.adapter_sha256,
               report = excluded.report, trained_at = now()""",
        (model_name, training_sha256, Jsonb(classifier), adapter, adapter_sha256, Jsonb(report)),
    )
