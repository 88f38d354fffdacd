"""The helpers around the live daemon and the benchmark's held-back survey (no daemon needed)."""

from pathlib import Path

import pytest

from orchestration.bench import hold_back
from orchestration.live import Latency, LiveError, land, survey_mails
from orchestration.receivers import Mail


def mail(subject: str) -> Mail:
    return Mail("novora@test", ("a@b.example",), subject, "", 0.0)


def test_survey_mails_are_those_whose_subject_names_the_survey():
    mails = [mail("[Novora] HIGH LOW_SCORE: Team low, 2026-03"), mail("[Novora] HIGH LOW_SCORE: Team low, 2026-02"),
             mail("[Novora] MEDIUM BIG_DROP_ABS: Team 2026-03, 2026-02"), mail("[Novora] run failed: ingest_survey")]
    assert survey_mails(mails, "2026-03") == mails[:1]
    assert survey_mails(mails, "2026-02") == mails[1:3]


def test_latency_figures_round_to_a_tenth_and_keep_what_was_not_reached():
    figures = Latency("2026-03", ingested=12.345, marts=80.04, emails=4).figures()
    assert figures == {"survey_id": "2026-03", "ingested": 12.3, "survey_models": None, "marts": 80.0,
                       "alerts": None, "notified": None, "first_email": None, "comments_enriched": None,
                       "comment_marts": None, "all_notified": None, "emails": 4}


def test_a_survey_lands_whole_and_never_over_one_already_there(tmp_path: Path):
    staged = tmp_path / "incoming" / "2026-03"
    staged.mkdir(parents=True)
    (staged / "survey.json").write_text("{}")
    landing = tmp_path / "landing"
    land(staged, landing)
    assert (landing / "surveys" / "2026-03" / "survey.json").read_text() == "{}" and not staged.exists()
    staged.mkdir()
    with pytest.raises(LiveError, match="already in the landing zone"):
        land(staged, landing)
    assert staged.exists()  # nothing moved


def test_hold_back_moves_a_survey_out_of_the_landing_zone_replacing_an_older_copy(tmp_path: Path):
    landing = tmp_path / "landing"
    (landing / "surveys" / "2026-13").mkdir(parents=True)
    (landing / "surveys" / "2026-13" / "responses.csv").write_text("new")
    (tmp_path / "held" / "2026-13").mkdir(parents=True)
    (tmp_path / "held" / "2026-13" / "stale.csv").write_text("old")
    held = hold_back(landing, "2026-13", tmp_path / "held")
    assert held == tmp_path / "held" / "2026-13"
    assert [p.name for p in held.iterdir()] == ["responses.csv"]
    assert not (landing / "surveys" / "2026-13").exists()
