"""The admin review queue of flagged comments: who decided what, when, and why.

pending -> reviewed | escalated | dismissed, and an escalated comment can later be reviewed or dismissed.
"reviewed" means an admin read the comment and released it; "dismissed" means the flag was a false alarm;
"escalated" means it was handed on (HR, security) and stays held. Managers see a flagged comment only once it
is reviewed or dismissed: ``HELD_STATUSES`` is what marts.comments leaves out.
"""

from __future__ import annotations

import psycopg

STATUSES = ("pending", "reviewed", "escalated", "dismissed")
HELD_STATUSES = ("pending", "escalated")
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"reviewed", "escalated", "dismissed"}),
    "escalated": frozenset({"reviewed", "dismissed"}),
    "reviewed": frozenset({"escalated"}),
    "dismissed": frozenset({"escalated"}),
}


class ReviewError(ValueError):
    """A decision that cannot be recorded (unknown comment, unknown status, a move the lifecycle forbids)."""


def check_transition(current: str, target: str) -> None:
    if target not in STATUSES:
        raise ReviewError(f"unknown review status {target!r}: expected one of {', '.join(STATUSES)}")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current]))
        raise ReviewError(f"a {current} comment cannot become {target} (allowed: {allowed})")


def decide(conn: psycopg.Connection, comment_id: str, status: str, actor: str, note: str | None = None) -> None:
    """Record an admin's decision on a flagged comment, with its history in nlp.review_events."""
    if not actor.strip():
        raise ReviewError("a review decision needs the reviewer's name")
    with conn.transaction():
        row = conn.execute("select status from nlp.review_queue where comment_id = %s for update",
                           (comment_id,)).fetchone()
        if row is None:
            raise ReviewError(f"comment {comment_id!r} is not in the review queue")
        check_transition(row[0], status)
        conn.execute(
            """update nlp.review_queue set status = %s, reviewed_by = %s, reviewed_at = now(), review_note = %s
               where comment_id = %s""",
            (status, actor, note, comment_id),
        )
        conn.execute(
            """insert into nlp.review_events (comment_id, from_status, to_status, actor, note)
               values (%s, %s, %s, %s, %s)""",
            (comment_id, row[0], status, actor, note),
        )
