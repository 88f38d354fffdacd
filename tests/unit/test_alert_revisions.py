"""When an alert gains a revision, and how its events name the versions (assets/alerts/revisions.py)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pandas as pd
import pytest

from assets.alerts import revisions
from assets.alerts.evaluate import run_trigger
from assets.alerts.revisions import Statement
from dashboards.alerts import revision_rows, thresholds_text

LOW = Statement(
    severity="high", metric_value=Decimal("5.0"), threshold=Decimal("6.0"),
    message="Team low: recognition averages 5.00 in 2026-01, below 6.0", rule_version="1",
    thresholds={"low_score": "6.0"},
    provenance={"rule_version": "1", "thresholds": {"low_score": "6.0"},
                "rows": [{"mart": "marts.driver_scores", "values": {"mean_score": "5.0000", "n_respondents": 5}}]},
)


def test_the_same_statement_needs_no_revision() -> None:
    assert revisions.what_changed(LOW, replace(LOW)) == []
    # numbers compare by value, wherever they are: 5.0 is 5.00, "6.0" is "6"
    same_numbers = replace(LOW, metric_value=Decimal("5.00"), thresholds={"low_score": "6"},
                           provenance={**LOW.provenance, "rows": [{"mart": "marts.driver_scores",
                                                                   "values": {"mean_score": "5.00",
                                                                              "n_respondents": 5}}]})
    assert revisions.what_changed(LOW, same_numbers) == []


def test_a_changed_threshold_is_a_revision() -> None:
    lower = replace(LOW, threshold=Decimal("5.5"), thresholds={"low_score": "5.5"},
                    message="Team low: recognition averages 5.00 in 2026-01, below 5.5",
                    provenance={**LOW.provenance, "thresholds": {"low_score": "5.5"}})
    assert revisions.what_changed(LOW, lower) == ["threshold", "message", "thresholds", "provenance"]


def test_a_changed_rule_version_is_a_revision() -> None:
    v2 = replace(LOW, rule_version="2", provenance={**LOW.provenance, "rule_version": "2"})
    assert revisions.what_changed(LOW, v2) == ["rule_version", "provenance"]


def test_a_changed_value_severity_or_model_is_a_revision() -> None:
    assert revisions.what_changed(LOW, replace(LOW, metric_value=Decimal("4.8"))) == ["metric_value"]
    assert revisions.what_changed(LOW, replace(LOW, severity="medium")) == ["severity"]
    spike = replace(LOW, sentiment_model="m@aaa.bbb")
    assert revisions.what_changed(spike, replace(spike, sentiment_model="m@ccc.ddd")) == ["sentiment_model"]
    assert revisions.what_changed(None, LOW) == ["raised"]


@pytest.mark.parametrize(("a", "b", "equal"), [
    ("6.0", Decimal("6"), True), (4, "4", True), (True, 1, False), (False, "false", False), (None, None, True),
    ("drop", "drop", True), ("NaN", "NaN", True), ({"a": [1, "2.50"]}, {"a": [1, "2.5"]}, True),
    ({"a": 1}, {"a": 1, "b": 2}, False), ([1, 2], [1], False), ("2026-01", "2026-02", False),
])
def test_same_compares_json_values_and_numbers_by_value(a, b, equal: bool) -> None:
    assert revisions.same(a, b) is equal


def test_notes_name_the_versions_that_changed() -> None:
    now = {"low_score": "5.5", "min_n": 4}
    assert revisions.versions_note(LOW, "2", now, None) == "rule version 2 (was 1), low_score 5.5 (was 6.0)"
    assert revisions.versions_note(LOW, "1", {"low_score": "6.0"}, None) == "rule version 1, same thresholds"
    spike = replace(LOW, thresholds={"neg_sent_spike": "0.3"}, sentiment_model="m@old.old")
    assert revisions.versions_note(spike, "1", {"neg_sent_spike": "0.3"}, "m@new.new") == \
        "rule version 1, sentiment model m@new.new (was m@old.old)"
    assert revisions.resolved_note("novora rescore: Q1 review", "rule version 1, low_score 5.5 (was 6.0)") == \
        "no longer holds on re-score: rule version 1, low_score 5.5 (was 6.0)"
    assert revisions.resolved_note("automation", "rule version 1, same thresholds") == \
        "no longer holds on re-evaluation: rule version 1, same thresholds"
    assert revisions.reopened_note("alert_settings", "rule version 1") == "holds again on re-evaluation: rule version 1"
    assert revisions.raised_note("automation", LOW) == "raised by rule version 1"
    assert revisions.raised_note("novora rescore: x", replace(LOW, sentiment_model="m@a.b")) == \
        "raised on re-score: rule version 1, low_score 6.0, sentiment model m@a.b"


def test_the_sentiment_model_belongs_to_comment_alerts_only() -> None:
    models = {"2026-01": "m@a.a", "2026-02": "m@b.b", "2026-03": "m@a.a"}
    assert revisions.alert_sentiment_model("LOW_SCORE", "2026-01", {}, models) is None
    assert revisions.alert_sentiment_model("NEG_SENT_SPIKE", "2026-02", {}, models) == "m@b.b"
    assert revisions.alert_sentiment_model("NEG_SENT_SPIKE", "2026-09", {}, models) is None  # no comments there
    recurring = {"recurring_type": "NEG_SENT_SPIKE", "surveys": ["2026-01", "2026-02", "2026-03"]}
    assert revisions.alert_sentiment_model("RECURRING", "2026-03", recurring, models) == "m@a.a, m@b.b"
    assert revisions.alert_sentiment_model("RECURRING", "2026-03", {"recurring_type": "LOW_SCORE",
                                                                     "surveys": ["2026-01"]}, models) is None
    assert revisions.join_models(["m@b.b, m@a.a", None, "m@a.a"]) == "m@a.a, m@b.b"
    assert revisions.join_models([]) is None


@pytest.mark.parametrize(("tags", "trigger"), [
    ({"novora/trigger": "novora rescore: Q1 review"}, "novora rescore: Q1 review"),
    ({"novora/trigger": "alert_settings", "dagster/sensor_name": "alert_settings"}, "alert_settings"),
    ({"dagster/from_automation_condition": "true", "dagster/sensor_name": "warehouse_automation"}, "automation"),
    ({"dagster/backfill": "abcdefgh"}, "backfill abcdefgh"),
    ({"dagster/schedule_name": "trends_alerts_and_report_caches_every_15_min"},
     "schedule trends_alerts_and_report_caches_every_15_min"),
    ({}, "Dagster run"),
])
def test_an_evaluation_says_what_asked_for_it(tags: dict, trigger: str) -> None:
    assert run_trigger(tags) == trigger


def test_the_page_shows_revisions_readably() -> None:
    frame = pd.DataFrame({"thresholds": [{"low_score": "6.00", "require_significance": False}, {}],
                          "trigger": [None, "novora rescore: Q1"], "sentiment_model": [None, "m@a.b"]})
    shown = revision_rows(frame)
    assert shown["thresholds"].tolist() == ["low_score 6, require_significance no", "—"]
    assert shown["trigger"].tolist() == ["before provenance was recorded", "novora rescore: Q1"]
    assert shown["sentiment_model"].tolist() == ["—", "m@a.b"]
    assert thresholds_text('{"recurring_min_surveys": 3}') == "recurring_min_surveys 3"
