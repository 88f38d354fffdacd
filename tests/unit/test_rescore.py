"""The decisions of `novora rescore` before any run starts, and its summary (orchestration/rescore.py)."""

from __future__ import annotations

import pytest

from orchestration.rescore import (
    EvaluationState,
    RescoreError,
    choose_surveys,
    comment_surveys,
    contiguous_blocks,
    summary_lines,
    threshold_changes,
    trigger_for,
)

LOADED = ["2026-01", "2026-02", "2026-03", "2026-04"]
IN_USE = "all-MiniLM-L6-v2@b32cc1fd9d7d.ae72f05f51a7"
OLD = "all-MiniLM-L6-v2@0123456789ab.0123456789ab"


def test_the_reason_is_required_and_recorded() -> None:
    assert trigger_for("  threshold   review\n Q1 ") == "novora rescore: threshold review Q1"
    with pytest.raises(RescoreError, match="--reason must say why"):
        trigger_for("   ")


def test_surveys_default_to_every_loaded_survey_not_archived() -> None:
    assert choose_surveys(LOADED, {"2026-01"}, ()) == ["2026-02", "2026-03", "2026-04"]
    assert choose_surveys(LOADED, set(), ("2026-03", "2026-01", "2026-03")) == ["2026-01", "2026-03"]  # survey order


def test_unknown_archived_or_no_surveys_are_refused_in_one_line() -> None:
    with pytest.raises(RescoreError, match=r"^survey 2025-12 is not loaded \(loaded: 2026-01, 2026-02, 2026-03, "):
        choose_surveys(LOADED, set(), ("2025-12",))
    with pytest.raises(RescoreError, match=r"^survey 2026-01 is archived: restore it first \(`novora retention "
                                           r"restore --survey 2026-01`\)$"):
        choose_surveys(LOADED, {"2026-01"}, ("2026-02", "2026-01"))
    with pytest.raises(RescoreError, match="no survey is loaded yet"):
        choose_surveys([], set(), ())


def test_comments_are_re_scored_where_another_model_scored_them() -> None:
    scored = {"2026-01": {OLD}, "2026-02": {IN_USE}, "2026-03": {IN_USE, None}}  # 2026-04 has no comments
    assert comment_surveys(None, LOADED, scored, IN_USE) == (
        ["2026-01", "2026-03"], f"re-scored where not all scored with {IN_USE}, the classifier in use")
    assert comment_surveys(None, ["2026-02", "2026-04"], scored, IN_USE) == (
        [], f"not re-scored: every comment was scored with {IN_USE}, the classifier in use")
    assert comment_surveys(True, LOADED, scored, IN_USE) == (["2026-01", "2026-02", "2026-03"],
                                                             "re-scored as asked (--comments)")
    assert comment_surveys(False, LOADED, scored, IN_USE) == ([], "not re-scored (--no-comments)")
    assert comment_surveys(None, LOADED, scored, None)[0] == ["2026-01", "2026-02", "2026-03"]  # to be trained


def test_one_run_per_range_of_neighbouring_partitions() -> None:
    assert contiguous_blocks(LOADED, LOADED) == [LOADED]
    assert contiguous_blocks(LOADED, ["2026-04", "2026-01", "2026-02"]) == [["2026-01", "2026-02"], ["2026-04"]]
    assert contiguous_blocks(LOADED, ["2026-03"]) == [["2026-03"]]
    assert contiguous_blocks(LOADED, []) == []


def test_the_summary_counts_alerts_and_names_versions_before_and_after() -> None:
    thresholds = {"low_score": "6.0", "min_n": 4, "severity": {"LOW_SCORE": "high"}}
    before = EvaluationState(3, "1", "a" * 64, thresholds, IN_USE, current_alerts=12)
    after = EvaluationState(4, "1", "b" * 64, {**thresholds, "low_score": "5.5"}, IN_USE, current_alerts=11,
                            new_alerts=1, reopened_alerts=1, changed_alerts=3, resolved_alerts=3)
    assert summary_lines(before, after) == [
        "alerts: 2 raised, 3 changed, 3 resolved, 6 unchanged (11 hold now; evaluation 4)",
        "rule version: 1 → 1",
        "thresholds: aaaaaaaaaaaa → bbbbbbbbbbbb (low_score 6.0 → 5.5)",
        f"sentiment model: {IN_USE} → {IN_USE}",
    ]
    first = summary_lines(None, EvaluationState(1, "1", "c" * 64, thresholds, None, current_alerts=2, new_alerts=2))
    assert first[0].startswith("alerts: 2 raised, 0 changed, 0 resolved, 0 unchanged")
    assert first[1:] == ["rule version: none → 1", "thresholds: none → cccccccccccc", "sentiment model: none → none"]


def test_threshold_changes_list_each_setting_and_severity() -> None:
    before = {"low_score": "6.0", "severity": {"LOW_SCORE": "high", "ENPS_NEG": "high"}}
    after = {"low_score": "6.0", "min_n": 5, "severity": {"LOW_SCORE": "medium", "ENPS_NEG": "high"}}
    assert threshold_changes(before, after) == ["min_n unset → 5", "severity LOW_SCORE high → medium"]
