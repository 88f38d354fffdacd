"""The landing sensor's planning rules, without Dagster: exactly the runs needed, once."""

import json
import os
import time
from pathlib import Path

from assets.ingestion.landing import WatchState, plan
from tests.landing_fixture import write_landing


def later() -> float:
    """"Now" an hour after this moment: well after every file the test wrote has settled (taken when called, not
    when the module is collected: a full suite reaches these tests more than an hour after collecting them)."""
    return time.time() + 3600


def tick(landing: Path, state: WatchState, known=(), org_active=False, now=None):
    decision, new_state = plan(landing, state, set(known), org_active, now=later() if now is None else now)
    # the state must survive the sensor's JSON cursor
    return decision, WatchState.from_json(json.loads(json.dumps(new_state.to_json())))


def test_first_tick_runs_org_and_defers_surveys_until_the_org_run_is_done(tmp_path):
    landing = write_landing(tmp_path)
    first, state = tick(landing, WatchState())
    assert first.run_org and first.run_surveys == {}
    assert first.new_partitions == ["2026-01"] and first.deferred == ["2026-01"]

    while_org_runs, state = tick(landing, state, known={"2026-01"}, org_active=True)
    assert while_org_runs.run_org is None and while_org_runs.run_surveys == {}

    after, state = tick(landing, state, known={"2026-01"})
    assert list(after.run_surveys) == ["2026-01"] and after.run_org is None

    unchanged, _ = tick(landing, state, known={"2026-01"})
    assert unchanged.run_org is None and unchanged.run_surveys == {} and unchanged.new_partitions == []


def settled_state(landing: Path) -> WatchState:
    _, state = tick(landing, WatchState())
    _, state = tick(landing, state, known={"2026-01"})
    return state


def test_touching_a_file_without_changing_it_requests_nothing(tmp_path):
    landing = write_landing(tmp_path)
    state = settled_state(landing)
    path = landing / "surveys" / "2026-01" / "responses.csv"
    os.utime(path, (time.time() + 5, time.time() + 5))
    decision, _ = tick(landing, state, known={"2026-01"})
    assert decision.run_surveys == {} and decision.run_org is None


def test_a_changed_survey_file_requests_that_survey_only(tmp_path):
    landing = write_landing(tmp_path)
    second = landing / "surveys" / "2026-02"
    second.mkdir()
    for name in ("survey.json", "invitations.csv", "responses.csv"):
        (second / name).write_bytes((landing / "surveys" / "2026-01" / name).read_bytes())
    _, state = tick(landing, WatchState())
    _, state = tick(landing, state, known={"2026-01", "2026-02"})
    with (second / "responses.csv").open("a") as handle:
        handle.write("r9,2026-02,eng,2026-02-03T10:00:00Z,rec_1,7,\n")
    decision, state = tick(landing, state, known={"2026-01", "2026-02"})
    assert list(decision.run_surveys) == ["2026-02"]


def test_a_new_org_version_reruns_every_survey_once_after_the_org_run(tmp_path):
    landing = write_landing(tmp_path)
    state = settled_state(landing)
    with (landing / "org" / "teams.csv").open("a") as handle:
        handle.write("qa,Quality,eng,E004\n")
    decision, state = tick(landing, state, known={"2026-01"})
    assert decision.run_org and decision.deferred == ["2026-01"]
    decision, state = tick(landing, state, known={"2026-01"})
    assert list(decision.run_surveys) == ["2026-01"]
    decision, _ = tick(landing, state, known={"2026-01"})
    assert decision.run_surveys == {}


def test_files_still_being_written_wait_for_a_later_tick(tmp_path):
    landing = write_landing(tmp_path)
    state = settled_state(landing)
    path = landing / "surveys" / "2026-01" / "responses.csv"
    path.write_text(path.read_text() + "r8,2026-01,eng,2026-01-06T10:00:00Z,rec_1,9,\n")
    decision, state_during = tick(landing, state, known={"2026-01"}, now=time.time())
    assert decision.run_surveys == {} and str(path) in decision.unsettled
    decision, _ = tick(landing, state_during, known={"2026-01"})
    assert list(decision.run_surveys) == ["2026-01"]


def test_a_folder_without_survey_json_is_not_a_survey(tmp_path):
    landing = write_landing(tmp_path)
    (landing / "surveys" / "drafts").mkdir()
    decision, _ = tick(landing, WatchState())
    assert decision.new_partitions == ["2026-01"]


def test_files_already_in_the_warehouse_are_remembered_not_run_again(tmp_path):
    from assets.ingestion.files import sha256_file

    landing = write_landing(tmp_path)
    loaded = {str(p): sha256_file(p) for p in landing.rglob("*.*")}
    decision, state = plan(landing, WatchState(), {"2026-01"}, False, now=later(), loaded=loaded)
    assert decision.run_org is None and decision.run_surveys == {} and decision.deferred == []
    # a later change is still noticed, and a new org version still re-runs the survey after the org run
    with (landing / "org" / "teams.csv").open("a") as handle:
        handle.write("qa,Quality,eng,E004\n")
    decision, state = plan(landing, state, {"2026-01"}, False, now=later(), loaded=loaded)
    assert decision.run_org and decision.deferred == ["2026-01"]
    decision, state = plan(landing, state, {"2026-01"}, False, now=later(), loaded=loaded)
    assert list(decision.run_surveys) == ["2026-01"]


def test_a_survey_loaded_with_other_content_is_run(tmp_path):
    from assets.ingestion.files import sha256_file

    landing = write_landing(tmp_path)
    loaded = {str(p): sha256_file(p) for p in landing.rglob("*.*")}
    loaded[str(landing / "surveys" / "2026-01" / "responses.csv")] = "an older delivery"
    decision, _ = plan(landing, WatchState(), {"2026-01"}, False, now=later(), loaded=loaded)
    assert decision.run_org is None and list(decision.run_surveys) == ["2026-01"]
