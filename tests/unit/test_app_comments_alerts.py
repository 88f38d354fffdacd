"""Pure parts of the Comments page and the Alerts inbox: labels, shaping, allowed actions, provenance."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.alerts.store import AlertError
from assets.nlp.search import SearchHit
from dashboards import alerts, comments
from dashboards.scope import Viewer

VIEWER = Viewer("u3", "exec@acme.example", "viewer", ())


def test_withheld_message_names_the_threshold() -> None:
    assert comments.withheld_message("below_min_n", 4) == "hidden to protect anonymity: fewer than 4 comments"
    assert comments.withheld_message(None, 5) == "hidden to protect anonymity: fewer than 5 comments"
    assert comments.withheld_message("complementary", 4).startswith("hidden to protect anonymity: showing them")


def test_share_label() -> None:
    assert comments.share_label(0.25) == "25 %"
    assert comments.share_label(2 / 3) == "67 %"
    assert comments.share_label(None) == "hidden"
    assert comments.share_label(float("nan")) == "hidden"


def test_insights_display_shows_suppressed_rows_as_hidden() -> None:
    frame = pd.DataFrame({
        "team_name": ["Organisation", "Engineering", "Data"],
        "scope": ["org", "subtree", "team"],
        "n_comments": [21, 11, 2],
        "negative_share": [0.25, 0.5, None],
        "neutral_share": [0.5, 0.25, None],
        "positive_share": [0.25, 0.25, None],
        "top_themes": ["pay, tools", "meetings", None],
        "suppressed": [False, False, True],
        "team_id": ["__org__", "eng", "data"],
    })

    shown = comments.insights_display(frame, 4)

    hidden = "hidden to protect anonymity: fewer than 4 comments"
    assert shown["group"].tolist() == ["Organisation", "Engineering (with sub-teams)", "Data"]
    assert shown["n_comments"].tolist() == [21, 11, 2]  # counts are published even when suppressed
    assert shown.iloc[0].tolist()[2:] == ["25 %", "50 %", "25 %", "pay, tools"]
    assert shown.iloc[2].tolist()[2:] == [hidden] * 4
    assert comments.org_insight(frame)["n_comments"] == 21
    assert comments.org_insight(frame.iloc[1:]) is None


def test_hits_frame_keeps_order_and_fields() -> None:
    hits = [SearchHit("c2", "2026-05", "web", "Web", "slow build", "negative", "tools", 0.8),
            SearchHit("c1", "2026-05", "ops", "Operations", "more training", "neutral", None, 0.4)]

    frame = comments.hits_frame(hits)

    assert frame["comment_id"].tolist() == ["c2", "c1"]
    assert frame.columns.tolist() == comments.SEARCH_COLUMNS
    assert comments.hits_frame([]).empty


def test_allowed_actions_follow_the_lifecycle() -> None:
    assert alerts.allowed_actions("open") == [("acknowledged", "Acknowledge"), ("resolved", "Resolve"),
                                              ("dismissed", "Dismiss")]
    assert alerts.allowed_actions("acknowledged") == [("resolved", "Resolve"), ("dismissed", "Dismiss"),
                                                      ("open", "Reopen")]
    assert alerts.allowed_actions("resolved") == [("open", "Reopen")]
    assert alerts.allowed_actions("dismissed") == [("open", "Reopen")]
    assert alerts.allowed_actions("unknown") == []


def test_viewers_read_alerts_but_do_not_decide() -> None:
    assert alerts.may_decide(Viewer("u1", "a@acme.example", "admin", None))
    assert alerts.may_decide(Viewer("u2", "m@acme.example", "manager", ("sales",)))
    assert not alerts.may_decide(VIEWER)
    with pytest.raises(AlertError, match="viewers can read alerts"):
        alerts.decide_in_scope(None, VIEWER, 1, "acknowledged", "no")  # refused before touching the database


def test_provenance_rows_are_readable() -> None:
    provenance = {
        "rule_version": "1",
        "thresholds": {"low_score": "6.0"},
        "rows": [{"mart": "marts.driver_scores", "key": {"survey_id": "2026-01", "team_id": "low"},
                  "values": {"mean_score": "5.00000000000000000000", "n_respondents": 5, "suppressed": False}}],
    }

    rows = alerts.provenance_rows(provenance)

    assert list(rows.itertuples(index=False, name=None)) == [
        ("rule_version", "1"),
        ("thresholds › low_score", "6"),
        ("rows › mart", "marts.driver_scores"),
        ("rows › key › survey_id", "2026-01"),
        ("rows › key › team_id", "low"),
        ("rows › values › mean_score", "5"),
        ("rows › values › n_respondents", "5"),
        ("rows › values › suppressed", "no"),
    ]


def test_provenance_of_a_recurring_alert_and_as_text() -> None:
    provenance = '{"rule_version": "1", "surveys": ["2026-01", "2026-02"], "rows": [{"a": 1}, {"a": null}]}'

    rows = dict(alerts.provenance_rows(provenance).itertuples(index=False, name=None))

    assert rows == {"rule_version": "1", "surveys": "2026-01, 2026-02", "rows [1] › a": "1", "rows [2] › a": "—"}
    assert alerts.provenance_rows(None).empty
