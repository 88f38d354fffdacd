"""Housekeeping of Dagster's own records: schedule ticks, which Dagster keeps for ever.

Dagster's sensor daemon purges old sensor ticks by the instance's ``retention`` settings (dagster.yaml), but its
scheduler never purges schedule ticks, whatever ``retention.schedule`` says. Novora's three cadences
(orchestration/cadences.py) tick 22 times an hour, about 190,000 ticks a year, nearly all of them skipped
("nothing behind what it reads"). The ``dagster_housekeeping`` sensor applies ``retention.schedule`` itself, once
an hour: each tick status is kept its number of days (``-1``: for ever). Novora's dagster.yaml
(orchestration/instance.py) keeps skipped ticks 7 days and the others 90; the runs they requested are kept
whatever happens (a run records its own trigger, ``novora/trigger``).

``purge_plan`` decides (pure); ``purge_schedule_ticks`` applies it to every schedule Dagster keeps state for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.scheduler.instigation import TickStatus

HOUSEKEEPING_INTERVAL_SECONDS = 3600


@dataclass(frozen=True)
class Purge:
    """Ticks of these statuses older than ``before`` go."""

    statuses: tuple[TickStatus, ...]
    before: datetime


def purge_plan(retention: Mapping[TickStatus, int], now: datetime) -> list[Purge]:
    """One purge per number of days kept (statuses kept for ever, ``days <= 0``, are left out), oldest cut
    first."""
    by_days: dict[int, list[TickStatus]] = {}
    for status, days in retention.items():
        if days > 0:
            by_days.setdefault(days, []).append(status)
    return [Purge(tuple(sorted(statuses, key=lambda s: s.value)), now - timedelta(days=days))
            for days, statuses in sorted(by_days.items(), reverse=True)]


def describe(retention: Mapping[TickStatus, int]) -> str:
    """``failure 90 d, skipped 7 d, started for ever, success 90 d``: by status, as the sensor reports it."""
    return ", ".join(f"{status.value.lower()} {f'{days} d' if days > 0 else 'for ever'}"
                     for status, days in sorted(retention.items(), key=lambda item: item[0].value))


def schedule_retention(instance: dg.DagsterInstance) -> Mapping[TickStatus, int]:
    """dagster.yaml's ``retention.schedule``: days kept by tick status."""
    return instance.get_tick_retention_settings(InstigatorType.SCHEDULE)


def purge_schedule_ticks(instance: dg.DagsterInstance, retention: Mapping[TickStatus, int],
                         now: datetime) -> tuple[int, list[Purge]]:
    """Purge every schedule's ticks by ``retention``; returns how many schedules were looked at and the purges
    applied to each."""
    plan = purge_plan(retention, now)
    states = instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
    for state in states:
        for purge in plan:
            instance.purge_ticks(state.instigator_origin_id, state.selector_id, before=purge.before.timestamp(),
                                 tick_statuses=list(purge.statuses))
    return len(states), plan


@dg.sensor(
    name="dagster_housekeeping",
    minimum_interval_seconds=HOUSEKEEPING_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=("Once an hour: purges schedule ticks older than dagster.yaml's retention.schedule (Dagster keeps "
                 "them for ever otherwise; the cadences tick 22 times an hour). Runs are never purged."),
)
def dagster_housekeeping(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    retention = schedule_retention(context.instance)
    schedules, plan = purge_schedule_ticks(context.instance, retention, datetime.now(UTC))
    if not plan:
        return dg.SkipReason(f"retention.schedule keeps every tick ({describe(retention)}): nothing to purge")
    return dg.SkipReason(f"schedule ticks of {schedules} schedules purged by retention.schedule: "
                         f"{describe(retention)}")
