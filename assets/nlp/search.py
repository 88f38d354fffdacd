"""Semantic search over published comments: embed the query, return the nearest comments through pgvector.

Only ``marts.comments`` is searched, so only publishable comments come back (masked text, teams with enough
commenting respondents, nothing held for safety review), and only from the teams the caller may see. The
query is embedded in memory and never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import psycopg

from assets.nlp.store import vector_literal

MAX_QUERY_CHARS = 500


class SearchError(ValueError):
    """A query that cannot be searched (empty, too long); the message is one line for the user."""


@dataclass(frozen=True)
class SearchHit:
    comment_id: str
    survey_id: str
    team_id: str
    team_name: str
    text_masked: str
    sentiment_label: str
    theme: str | None
    similarity: float


def teams_in_scope(conn: psycopg.Connection, root_team_ids: Sequence[str]) -> list[str]:
    """The teams a manager of ``root_team_ids`` may see: those teams and every team below them."""
    rows = conn.execute(
        """select distinct team_id from intermediate.int_team_closure
           where ancestor_team_id = any(%s) order by team_id""",
        (list(root_team_ids),),
    ).fetchall()
    return [row[0] for row in rows]


def search_comments(
    conn: psycopg.Connection,
    query: str,
    embed: Callable[[list[str]], np.ndarray],
    model_name: str,
    *,
    team_ids: Sequence[str] | None,
    survey_ids: Sequence[str] | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """The ``limit`` published comments nearest to ``query`` (cosine similarity, best first).

    ``team_ids`` is the caller's scope: None for someone who may see every team (an admin), otherwise the
    teams they may see (an empty list finds nothing). ``survey_ids`` narrows to surveys.
    """
    query = " ".join(query.split())
    if not query:
        raise SearchError("the search query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"the search query is longer than {MAX_QUERY_CHARS} characters")
    if not 1 <= limit <= 500:
        raise SearchError("limit must be between 1 and 500")
    if team_ids is not None and not team_ids:
        return []
    vector = vector_literal(embed([query])[0])
    rows = conn.execute(
        """select c.comment_id, c.survey_id, c.team_id, c.team_name, c.text_masked, c.sentiment_label, c.theme,
                  1 - (e.embedding <=> %(q)s::vector) as similarity
           from marts.comments as c
           inner join nlp.embeddings as e on e.text_sha256 = c.text_sha256 and e.model_name = %(model)s
           where (%(teams)s::text[] is null or c.team_id = any(%(teams)s::text[]))
             and (%(surveys)s::text[] is null or c.survey_id = any(%(surveys)s::text[]))
           order by e.embedding <=> %(q)s::vector, c.comment_id
           limit %(limit)s""",
        {"q": vector, "model": model_name, "limit": limit,
         "teams": list(team_ids) if team_ids is not None else None,
         "surveys": list(survey_ids) if survey_ids is not None else None},
    ).fetchall()
    return [SearchHit(*row[:7], similarity=float(row[7])) for row in rows]
