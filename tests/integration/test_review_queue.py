"""The review queue across re-deliveries (store.sync_review_queue) and the decision history (review.decide)."""

from __future__ import annotations

import pytest

from assets.nlp import review
from assets.nlp.store import Flagged, sync_review_queue

pytestmark = pytest.mark.integration


def queue(conn) -> dict[str, tuple]:
    rows = conn.execute("select comment_id, status, reviewed_by, is_current, text_sha256 from nlp.review_queue")
    return {r[0]: r[1:] for r in rows}


def test_decisions_survive_an_identical_redelivery_and_reopen_when_the_text_changes(conn):
    first = [Flagged("s:r1:q", "t1", "hash-a", ("abuse",), "medium"),
             Flagged("s:r2:q", "t1", "hash-b", ("threat",), "high")]
    assert sync_review_queue(conn, "s", first) == {"new": 2, "kept": 0, "reopened": 0, "retired": 0}
    review.decide(conn, "s:r1:q", "dismissed", "hr.admin", "quoting a film")
    review.decide(conn, "s:r2:q", "escalated", "hr.admin")

    # the same survey delivered again, unchanged: both decisions stand
    assert sync_review_queue(conn, "s", first) == {"new": 0, "kept": 2, "reopened": 0, "retired": 0}
    assert queue(conn)["s:r1:q"][:3] == ("dismissed", "hr.admin", True)

    # corrected: r1's text changed (reviewed afresh), r2 is gone (kept, not current), r3 is new
    corrected = [Flagged("s:r1:q", "t1", "hash-a2", ("abuse",), "medium"),
                 Flagged("s:r3:q", "t2", "hash-c", ("self_harm",), "high")]
    assert sync_review_queue(conn, "s", corrected) == {"new": 1, "kept": 0, "reopened": 1, "retired": 1}
    state = queue(conn)
    assert state["s:r1:q"] == ("pending", None, True, "hash-a2")
    assert state["s:r2:q"][:3] == ("escalated", "hr.admin", False)
    assert state["s:r3:q"][:3] == ("pending", None, True)
    history = conn.execute("select comment_id, from_status, to_status, actor from nlp.review_events "
                           "order by event_id").fetchall()
    assert history == [("s:r1:q", "pending", "dismissed", "hr.admin"), ("s:r2:q", "pending", "escalated", "hr.admin"),
                       ("s:r1:q", "dismissed", "pending", "novora")]


def test_a_decision_needs_a_reviewer(conn):
    sync_review_queue(conn, "s", [Flagged("s:r1:q", "t1", "h", ("profanity",), "low")])
    with pytest.raises(review.ReviewError, match="reviewer"):
        review.decide(conn, "s:r1:q", "reviewed", "  ")
    assert queue(conn)["s:r1:q"][0] == "pending"
