"""The alert stages of ``novora bench``: the rules over a year of surveys, the year's notifications, and the
live latency of a new survey from its folder landing to its alert emails, with the real daemon.

The year is loaded by the benchmark itself (direct ingestion and its own dbt runs, so each stage can be timed
alone). Before the daemon starts, the benchmark records those surveys in Dagster as materialised, as after
``novora materialize``; otherwise the daemon's automation would rebuild the whole year first. The new survey
then goes the production way: landing sensor, ingestion run, automation (the survey's dbt models, its
comments, the marts, the alerts) and the notification sensor, every sensor interval included.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import psycopg

from assets.alerts.delivery import Transports, notify_pending
from assets.alerts.evaluate import evaluate_alerts
from orchestration.config import NovoraConfig, SmtpConfig
from orchestration.live import follow, land, running_daemon, wait_until_sensors_ticked
from orchestration.receivers import Receivers
from orchestration.runner import open_instance

Progress = Callable[[str], None]
LATENCY_TARGET_SECONDS = 240  # issue 5: a new survey's first alert email under 4 minutes at benchmark scale
SENSORS = ("landing_sensor", "warehouse_automation", "alert_notifications")


def bench_alert_evaluation(conn: psycopg.Connection, progress: Progress) -> dict[str, object]:
    """Every rule over every survey loaded: the first evaluation (every alert new), then a re-evaluation of
    unchanged marts (every alert seen again, none new), each timed."""
    progress("alerts: evaluating every rule over every survey (first time, then unchanged) ...")
    first = evaluate_alerts(conn)
    again = evaluate_alerts(conn)
    progress(f"  {first.report.holding} alerts from {first.mart_rows:,} mart rows in {first.seconds:.1f} s; "
             f"re-evaluation {again.seconds:.1f} s")
    return {
        "surveys": conn.execute("select count(*) from raw.surveys").fetchone()[0],
        "mart_rows_read": first.mart_rows,
        "first_evaluation_seconds": round(first.seconds, 3),
        "re_evaluation_seconds": round(again.seconds, 3),
        "alerts": first.report.holding,
        "by_type": {k: v for k, v in (first.report.by_type or {}).items() if v},
        "re_evaluation_new": again.report.new,
        "re_evaluation_seen_again": again.report.seen_again,
    }


def transports(receivers: Receivers) -> Transports:
    return Transports(SmtpConfig(host="127.0.0.1", port=receivers.smtp.port, sender="novora@bench.local"),
                      receivers.webhook.url)


def send_backlog(conn: psycopg.Connection, receivers: Receivers, progress: Progress) -> dict[str, object]:
    """The year's alerts, notified once (as the notification sensor would, batch by batch), timed."""
    progress("alerts: sending the year's notifications to the local SMTP server and webhook ...")
    started = time.perf_counter()
    planned = sent = failed = 0
    while True:
        result = notify_pending(conn, transports(receivers))
        planned, sent, failed = planned + result.planned, sent + result.delivery.sent, failed + result.delivery.failed
        if not (result.planned or result.delivery.sent or result.delivery.failed):
            break
    seconds = time.perf_counter() - started
    progress(f"  {sent} sent, {failed} failed in {seconds:.1f} s")
    return {"notifications": planned, "sent": sent, "failed": failed, "seconds": round(seconds, 3),
            "emails_received": len(receivers.smtp.mails), "webhook_posts": len(receivers.webhook.delivered)}


def record_as_materialized(config: NovoraConfig, survey_ids: list[str]) -> int:
    """Start Dagster's storage afresh and record every asset (each loaded survey's partition) as materialised by
    the benchmark; returns the number of events recorded."""
    from orchestration.definitions import build_definitions
    from orchestration.partitions import survey_partitions

    instance = open_instance(config)
    try:
        instance.wipe()  # runs, events, partitions of an earlier benchmark
        instance.wipe_all_schedules()  # sensor cursors and ticks
        instance.add_dynamic_partitions(survey_partitions.name, survey_ids)
        graph = build_definitions(config).resolve_asset_graph()
        recorded = 0
        for key in sorted(graph.materializable_asset_keys, key=lambda k: k.to_user_string()):
            partitions = survey_ids if graph.get(key).partitions_def is not None else [None]
            for partition in partitions:
                instance.report_runless_asset_event(dg.AssetMaterialization(
                    asset_key=key, partition=partition, metadata={"built_by": "novora bench (outside Dagster)"}))
                recorded += 1
        return recorded
    finally:
        instance.dispose()


def bench_live(config: NovoraConfig, url: str, held: Path, loaded: list[str], progress: Progress,
               timeout: float = 2700) -> dict[str, object]:
    """Drop the held-back survey folder into the landing zone while the daemon runs; time it to the emails."""
    progress(f"live: recording {len(loaded)} surveys in Dagster as materialised ...")
    recorded = record_as_materialized(config, loaded)
    with Receivers() as receivers:
        with psycopg.connect(url, autocommit=True) as conn:
            backlog = send_backlog(conn, receivers, progress)
        progress("live: starting dagster-daemon (sensors, automation, run queue) ...")
        started = time.time()
        with running_daemon(config, receivers) as log:
            wait_until_sensors_ticked(config, SENSORS, timeout=300, since=started)
            daemon_ready = time.time() - started
            progress(f"live: daemon ready after {daemon_ready:.0f} s; dropping {held.name} into the landing zone")
            landed_at = land(held, config.landing)
            latency = follow(config, url, held.name, landed_at, receivers, timeout, progress)
    first_email = latency.first_email
    return {
        "survey_id": held.name,
        "events_recorded": recorded,
        "year_notifications": backlog,
        "daemon_ready_seconds": round(daemon_ready, 1),
        "seconds_after_landing": latency.figures(),
        "daemon_log": str(log),
        "target_first_email_under_seconds": LATENCY_TARGET_SECONDS,
        "target_met": None if first_email is None else first_email < LATENCY_TARGET_SECONDS,
    }
