"""The automation cadences and stale-data alerts: their pure rules at the boundaries, and the definitions."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from orchestration import cadences as c
from orchestration.health import CATCH_UP_GRACE, CatalogAsset

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPENED, CLOSED = T0, T0 + timedelta(hours=8)
SURVEY = c.SurveyWindow("2026-03", OPENED, CLOSED)


# ---------------------------------------------------------------- open surveys


@pytest.mark.parametrize(("now", "is_open"), [
    (OPENED - timedelta(seconds=1), False),
    (OPENED, True),  # opening exactly now: open
    (CLOSED - timedelta(seconds=1), True),
    (CLOSED, False),  # closing exactly now: closed
    (CLOSED + timedelta(days=1), False),
])
def test_a_survey_is_open_from_opened_at_until_just_before_closed_at(now, is_open):
    assert c.survey_is_open(SURVEY, now) is is_open


def test_a_survey_without_closed_at_stays_open_once_opened():
    forever = c.SurveyWindow("always", OPENED, None)
    assert c.survey_is_open(forever, OPENED + timedelta(days=400))
    assert not c.survey_is_open(forever, OPENED - timedelta(microseconds=1))


def test_open_surveys_lists_the_open_ones_sorted():
    windows = [c.SurveyWindow("2026-04", OPENED, None), SURVEY, c.SurveyWindow("2025-12", T0 - timedelta(days=90),
                                                                               T0 - timedelta(days=80))]
    assert c.open_surveys(windows, OPENED) == ["2026-03", "2026-04"]
    assert c.open_surveys(windows, CLOSED) == ["2026-04"]
    assert c.open_surveys([], OPENED) == []


# ---------------------------------------------------------------- what a cadence rebuilds

# raw/responses (partitioned) -> stg (partitioned) -> int_group (rollup) -> mart (rollup)
PARENTS = {"stg": ("raw",), "int_group": ("stg",), "mart": ("int_group", "teams")}
PARTITIONED = frozenset({"raw", "stg"})


def times(minutes: dict[str, int | None]) -> dict[str, datetime | None]:
    return {k: None if v is None else T0 + timedelta(minutes=v) for k, v in minutes.items()}


def test_needs_rebuild_only_when_an_input_is_strictly_newer():
    assert not c.needs_rebuild(T0, T0)  # equal: not behind
    assert c.needs_rebuild(T0, T0 + timedelta(microseconds=1))
    assert not c.needs_rebuild(T0, None)  # nothing read has been built
    assert c.needs_rebuild(None, T0)  # never built while its input exists


def test_nothing_behind_plans_no_run():
    asset_times = times({"raw": 0, "stg": 1, "int_group": 2, "mart": 3, "teams": 0})
    partition_times = {"s1": times({"raw": 0, "stg": 1})}
    assert c.plan_rebuilds(PARENTS, PARTITIONED, asset_times, partition_times, ["s1"]) == []


def test_a_redelivered_open_survey_rebuilds_its_partition_and_what_reads_it():
    asset_times = times({"raw": 10, "stg": 1, "int_group": 2, "mart": 3, "teams": 0})
    partition_times = {"s1": times({"raw": 10, "stg": 1}), "s2": times({"raw": 0, "stg": 1})}
    plan = c.plan_rebuilds(PARENTS, PARTITIONED, asset_times, partition_times, ["s1", "s2"])
    assert plan == [c.Rebuild("s1", ("int_group", "mart", "stg"))]


def test_the_rollups_go_with_the_last_survey_run_only():
    asset_times = times({"raw": 10, "stg": 1, "int_group": 2, "mart": 3, "teams": 0})
    partition_times = {"s1": times({"raw": 10, "stg": 1}), "s2": times({"raw": 9, "stg": 1})}
    plan = c.plan_rebuilds(PARENTS, PARTITIONED, asset_times, partition_times, ["s1", "s2"])
    assert plan == [c.Rebuild("s1", ("stg",)), c.Rebuild("s2", ("int_group", "mart", "stg"))]


def test_a_behind_rollup_without_open_surveys_is_one_unpartitioned_run():
    asset_times = times({"raw": 0, "stg": 1, "int_group": 2, "mart": 3, "teams": 5})
    assert c.plan_rebuilds(PARENTS, PARTITIONED, asset_times, {}, []) == [c.Rebuild(None, ("mart",))]


def test_what_another_run_builds_now_is_left_to_it():
    asset_times = times({"raw": 0, "stg": 1, "int_group": 2, "mart": 3, "teams": 5})
    assert c.plan_rebuilds(PARENTS, PARTITIONED, asset_times, {}, [], in_progress=frozenset({"mart"})) == []


# ---------------------------------------------------------------- staleness and episodes

MART = CatalogAsset(("marts", "enps"), "marts", (("intermediate", "int_group_scores"),))


def test_a_mart_is_stale_only_after_more_than_the_grace():
    built, changed = T0, T0 + timedelta(minutes=5)
    seen = {"marts/enps": built, "intermediate/int_group_scores": changed}
    assert c.stale_marts([MART], seen, changed + CATCH_UP_GRACE) == {}  # exactly at the grace: catching up
    stale = c.stale_marts([MART], seen, changed + CATCH_UP_GRACE + timedelta(seconds=1))
    assert stale == {"marts/enps": c.StaleMart("marts/enps", built, "intermediate/int_group_scores", changed)}
    assert "marts/enps is behind intermediate/int_group_scores, materialised 30 min ago" in \
        stale["marts/enps"].reason(changed + CATCH_UP_GRACE + timedelta(seconds=1))


def test_a_mart_newer_than_what_it_reads_is_fresh_however_old():
    seen = {"marts/enps": T0, "intermediate/int_group_scores": T0 - timedelta(days=1)}
    assert c.stale_marts([MART], seen, T0 + timedelta(days=365)) == {}


def stale(mart: str, at: datetime = T0) -> c.StaleMart:
    return c.StaleMart(mart, None, "intermediate/int_group_scores", at)


def test_an_episode_starts_once_lasts_while_stale_and_ends_when_fresh():
    first = c.advance_episodes({}, {"marts/enps": stale("marts/enps")})
    assert first.started == ("marts/enps",) and first.ended == ()
    again = c.advance_episodes(first.open, {"marts/enps": stale("marts/enps", T0 + timedelta(hours=1))})
    assert again.started == () and again.open == first.open  # a newer input does not start another episode
    fresh = c.advance_episodes(again.open, {})
    assert fresh.ended == ("marts/enps",) and fresh.open == {}
    anew = c.advance_episodes(fresh.open, {"marts/enps": stale("marts/enps", T0 + timedelta(hours=2))})
    assert anew.started == ("marts/enps",)


def test_the_episode_key_is_the_same_for_the_same_episodes_only():
    step = c.advance_episodes({}, {"marts/enps": stale("marts/enps"), "marts/trends": stale("marts/trends")})
    key = c.episode_key(step.started, step.open)
    assert key.startswith("stale-data:") and key == c.episode_key(list(reversed(step.started)), step.open)
    later = c.advance_episodes({}, {"marts/enps": stale("marts/enps", T0 + timedelta(seconds=1))})
    assert c.episode_key(later.started, later.open) != c.episode_key(["marts/enps"], step.open)


def test_the_message_names_every_stale_mart_and_the_grace():
    subject, body = c.render_stale([stale("marts/enps"), stale("marts/trends")], T0 + timedelta(hours=1),
                                   CATCH_UP_GRACE, "http://dagster.test:3000/")
    assert subject == "[Novora] stale data: 2 marts behind what they read"
    assert "within 30 min" in body and "- marts/enps is behind" in body and "- marts/trends is behind" in body
    assert "http://dagster.test:3000/runs" in body


# ---------------------------------------------------------------- the definitions


@pytest.fixture(scope="module")
def repository():
    from orchestration.definitions import build_definitions

    definitions = build_definitions()
    dg.Definitions.validate_loadable(definitions)
    return definitions.get_repository_def()


@pytest.mark.parametrize(("name", "cron", "job", "some_keys"), [
    ("participation_counters_every_5_min", "*/5 * * * *", "refresh_participation_counters",
     {"marts/participation", "marts/surveys", "intermediate/int_team_participation"}),
    ("driver_summaries_and_sentiment_every_10_min", "*/10 * * * *", "refresh_driver_summaries_and_sentiment",
     {"marts/driver_scores", "marts/engagement", "marts/enps", "nlp/comment_enrichment", "marts/comment_insights"}),
    ("trends_alerts_and_report_caches_every_15_min", "*/15 * * * *", "refresh_trends_alerts_and_report_caches",
     {"marts/trends", "alerts/alerts"}),
])
def test_every_cadence_has_its_cron_and_target(repository, name, cron, job, some_keys):
    schedule = repository.get_schedule_def(name)
    assert (schedule.cron_schedule, schedule.job_name, schedule.execution_timezone) == (cron, job, "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    cadence = next(x for x in c.CADENCES if x.name == name)
    keys = {k.to_user_string() for k in repository.get_job(job).asset_layer.selected_asset_keys}
    assert keys == {k.to_user_string() for k in cadence.keys} and some_keys <= keys


def test_stale_data_alerts_is_on_and_every_mart_has_its_freshness_check(repository):
    sensor = repository.get_sensor_def("stale_data_alerts")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = repository.asset_graph
    marts = {k.to_user_string() for k in graph.materializable_asset_keys if graph.get(k).group_name == "marts"}
    checked = {k.asset_key.to_user_string() for k in graph.asset_check_keys if k.name == c.FRESHNESS_CHECK}
    assert marts and checked == marts


def test_after_a_failed_run_a_cadence_waits_for_a_new_change():
    failed_at = T0 + timedelta(minutes=10)
    assert not c.waits_after_failure(None, T0)  # no failed run
    assert c.waits_after_failure(failed_at, T0)  # the change it failed on
    assert c.waits_after_failure(failed_at, failed_at)  # exactly then: not after the run
    assert not c.waits_after_failure(failed_at, failed_at + timedelta(seconds=1))  # a new change: try again
