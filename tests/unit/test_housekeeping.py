"""orchestration/housekeeping.py: schedule ticks purged by dagster.yaml's retention.schedule (Dagster's scheduler
never purges them). The decision is checked alone, then the sensor against a real Dagster instance (SQLite, in
a temporary folder) configured with Novora's retention: ticks written at known ages, exactly at the cut and one
second past it, of two schedules and one sensor (the sensor's ticks are Dagster's to purge, not ours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.instance_for_test import instance_for_test
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteInstigatorOrigin, RemoteRepositoryOrigin
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    ScheduleInstigatorData,
    SensorInstigatorData,
    TickData,
    TickStatus,
)
from dagster_shared.error import SerializableErrorInfo

from orchestration import housekeeping
from orchestration.housekeeping import Purge, describe, purge_plan, purge_schedule_ticks, schedule_retention
from orchestration.instance import dagster_yaml

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SKIPPED, SUCCESS, FAILURE, STARTED = TickStatus.SKIPPED, TickStatus.SUCCESS, TickStatus.FAILURE, TickStatus.STARTED
NOVORA = {SKIPPED: 7, SUCCESS: 90, FAILURE: 90, STARTED: -1}


def test_one_purge_per_number_of_days_and_none_for_statuses_kept_for_ever():
    assert purge_plan(NOVORA, NOW) == [Purge((FAILURE, SUCCESS), NOW - timedelta(days=90)),
                                       Purge((SKIPPED,), NOW - timedelta(days=7))]
    assert purge_plan({SKIPPED: -1, SUCCESS: -1, FAILURE: -1, STARTED: -1}, NOW) == []
    assert purge_plan({SKIPPED: 0, SUCCESS: 1}, NOW) == [Purge((SUCCESS,), NOW - timedelta(days=1))]
    assert describe(NOVORA) == "failure 90 d, skipped 7 d, started for ever, success 90 d"


def test_novora_keeps_skipped_schedule_ticks_a_week_and_the_others_90_days():
    retention = dagster_yaml("postgresql://u:p@h/dagster", embedded=False)["retention"]
    with instance_for_test(overrides={"retention": retention}) as instance:
        assert instance.get_tick_retention_settings(InstigatorType.SCHEDULE) == NOVORA
        # sensors: Dagster's own default, applied by its sensor daemon
        assert instance.get_tick_retention_settings(InstigatorType.SENSOR) == NOVORA | {SUCCESS: -1, FAILURE: -1}


def instigator(instance: dg.DagsterInstance, name: str, kind: InstigatorType) -> InstigatorState:
    origin = RemoteInstigatorOrigin(RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("novora"), "__repository__"),
                                    name)
    data = (ScheduleInstigatorData("*/5 * * * *", NOW.timestamp() - 400 * 86400) if kind == InstigatorType.SCHEDULE
            else SensorInstigatorData())
    state = InstigatorState(origin, kind, InstigatorStatus.DECLARED_IN_CODE, data)
    instance.add_instigator_state(state)
    return state


def tick(instance: dg.DagsterInstance, state: InstigatorState, status: TickStatus, age: timedelta) -> float:
    at = (NOW - age).timestamp()
    instance.create_tick(TickData(instigator_origin_id=state.instigator_origin_id, instigator_name=state.name,
                                  instigator_type=state.instigator_type, status=status, timestamp=at,
                                  selector_id=state.selector_id, run_ids=[],
                                  error=SerializableErrorInfo("tick failed", [], "Exception") if status == FAILURE
                                  else None))
    return at


def kept(instance: dg.DagsterInstance, state: InstigatorState) -> list[tuple[str, float]]:
    return sorted((t.status.value, t.timestamp)
                  for t in instance.get_ticks(state.instigator_origin_id, state.selector_id))


@pytest.fixture
def instance():
    retention = dagster_yaml("postgresql://u:p@h/dagster", embedded=False)["retention"]
    with instance_for_test(overrides={"retention": retention}) as test_instance:
        yield test_instance


def test_old_schedule_ticks_go_by_status_and_age_and_nothing_else_does(instance):
    week, quarter, second = timedelta(days=7), timedelta(days=90), timedelta(seconds=1)
    five_min = instigator(instance, "participation_counters_every_5_min", InstigatorType.SCHEDULE)
    ten_min = instigator(instance, "driver_summaries_and_sentiment_every_10_min", InstigatorType.SCHEDULE)
    sensor = instigator(instance, "landing_sensor", InstigatorType.SENSOR)
    stays = [
        tick(instance, five_min, SKIPPED, week),  # exactly at the cut: kept
        tick(instance, five_min, SKIPPED, timedelta(days=6)),
        tick(instance, five_min, SUCCESS, quarter),
        tick(instance, five_min, FAILURE, timedelta(days=89)),
        tick(instance, five_min, STARTED, timedelta(days=400)),  # kept for ever
    ]
    goes = [
        tick(instance, five_min, SKIPPED, week + second),
        tick(instance, five_min, SKIPPED, timedelta(days=30)),
        tick(instance, five_min, SUCCESS, quarter + second),
        tick(instance, five_min, FAILURE, timedelta(days=365)),
    ]
    other_schedule_stays = tick(instance, ten_min, SUCCESS, timedelta(days=10))
    tick(instance, ten_min, SKIPPED, timedelta(days=8))
    sensor_ticks = [tick(instance, sensor, SKIPPED, timedelta(days=30)), tick(instance, sensor, SUCCESS, quarter * 2)]
    assert len(kept(instance, five_min)) == len(stays) + len(goes)

    assert purge_schedule_ticks(instance, schedule_retention(instance), NOW) == (2, purge_plan(NOVORA, NOW))
    assert sorted(at for _, at in kept(instance, five_min)) == sorted(stays)
    assert kept(instance, ten_min) == [("SUCCESS", other_schedule_stays)]
    assert sorted(at for _, at in kept(instance, sensor)) == sorted(sensor_ticks)
    assert purge_schedule_ticks(instance, schedule_retention(instance), NOW)[0] == 2  # again: nothing more goes
    assert len(kept(instance, five_min)) == len(stays)


def test_the_sensor_purges_and_says_by_what_rule(instance):
    schedule = instigator(instance, "trends_alerts_and_report_caches_every_15_min", InstigatorType.SCHEDULE)
    tick(instance, schedule, SKIPPED, timedelta(days=800))
    result = housekeeping.dagster_housekeeping(dg.build_sensor_context(instance=instance))
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == ("schedule ticks of 1 schedules purged by retention.schedule: failure 90 d, "
                                   "skipped 7 d, started for ever, success 90 d")
    assert kept(instance, schedule) == []


def test_with_every_tick_kept_for_ever_the_sensor_purges_nothing():
    with instance_for_test() as instance:  # Dagster's defaults: schedule ticks kept for ever
        schedule = instigator(instance, "participation_counters_every_5_min", InstigatorType.SCHEDULE)
        at = tick(instance, schedule, SKIPPED, timedelta(days=800))
        result = housekeeping.dagster_housekeeping(dg.build_sensor_context(instance=instance))
        assert result.skip_message.startswith("retention.schedule keeps every tick (")
        assert kept(instance, schedule) == [("SKIPPED", at)]
