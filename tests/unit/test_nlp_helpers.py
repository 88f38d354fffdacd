"""The small pure parts around the NLP assets: review lifecycle, the independent PII re-scan, search input."""

from __future__ import annotations

import numpy as np
import pytest

from assets.nlp import review
from assets.nlp.checks import leftover_pii, name_ngrams
from assets.nlp.search import MAX_QUERY_CHARS, SearchError, search_comments
from assets.nlp.store import comment_id, vector_literal


@pytest.mark.parametrize(("current", "target"), [
    ("pending", "reviewed"), ("pending", "escalated"), ("pending", "dismissed"),
    ("escalated", "reviewed"), ("escalated", "dismissed"), ("reviewed", "escalated"), ("dismissed", "escalated"),
])
def test_allowed_review_transitions(current, target):
    review.check_transition(current, target)


@pytest.mark.parametrize(("current", "target", "message"), [
    ("pending", "pending", "a pending comment cannot become pending"),
    ("reviewed", "dismissed", "a reviewed comment cannot become dismissed (allowed: escalated)"),
    ("escalated", "pending", "cannot become pending"),
    ("pending", "approved", "unknown review status 'approved'"),
])
def test_forbidden_review_transitions_say_why(current, target, message):
    with pytest.raises(review.ReviewError, match=message.replace("(", r"\(").replace(")", r"\)")):
        review.check_transition(current, target)


def test_held_statuses_are_the_undecided_ones():
    assert set(review.HELD_STATUSES) == {"pending", "escalated"}
    assert set(review.TRANSITIONS) == set(review.STATUSES)


def test_leftover_scan_finds_each_kind_and_passes_clean_text():
    names = name_ngrams(["Ann Smith", "José García-López", "Madonna"])
    assert ("madonna",) not in names  # a single word is not a name the scan can rely on
    found = leftover_pii([
        "ask ann smith about it",
        "José García-López rocks",
        "mail a.b+c@example.co.uk",
        "card 4111-1111-1111-1111",
        "ssn 078-05-1120",
        "call +44 20 7946 0123",
    ], names)
    assert found == {"name": 2, "email": 1, "card": 1, "ssn": 1, "phone": 1}
    clean = ["[NAME] is great, mail [EMAIL]", "ORD-2026-004512 shipped on 2026-03-14", "v1.11.4 broke it",
             "order 4111111111111112 (not Luhn)", "we grew 15% to $1,250,000", "Ann and Smith are different people"]
    assert leftover_pii(clean, names) == {}


def test_vector_literal_round_trips_float32():
    vector = np.array([0.1, -0.25, 1e-8, 0.3333333], dtype=np.float32)
    parsed = np.array(vector_literal(vector)[1:-1].split(","), dtype=np.float32)
    assert np.allclose(parsed, vector, rtol=1e-6)


def test_comment_id_is_stable_and_readable():
    assert comment_id("2026-05", "r-1", "open_1") == "2026-05:r-1:open_1"


@pytest.mark.parametrize(("query", "limit", "message"), [
    ("", 20, "empty"), ("  \n ", 20, "empty"), ("x" * (MAX_QUERY_CHARS + 1), 20, "longer than 500"),
    ("pay", 0, "between 1 and 500"),
])
def test_search_rejects_bad_input_before_touching_the_database(query, limit, message):
    with pytest.raises(SearchError, match=message):
        search_comments(None, query, lambda texts: np.zeros((1, 3)), "m", team_ids=None, limit=limit)


def test_search_with_no_visible_team_finds_nothing_without_querying():
    assert search_comments(None, "pay", lambda texts: np.zeros((1, 3)), "m", team_ids=[]) == []
