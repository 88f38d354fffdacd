"""One evaluation: read the marts and the thresholds, run every rule, sync alerts.alerts. Thin over rules/store."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg

from assets.alerts import revisions, rules, store

AUTOMATION = "automation"
TRIGGER_TAG = "novora/trigger"  # set by the CLI and the sensors on the runs they launch
# Dagster's own run tags (dagster._core.storage.tags), spelled here so this module stays free of Dagster
BACKFILL_ID_TAG = "dagster/backfill"
SCHEDULE_TAG = "dagster/schedule_name"
AUTOMATION_TAGS = ("dagster/from_automation_condition", "dagster/auto_materialize", "dagster/sensor_name")


@dataclass
class Evaluation:
    report: store.SyncReport
    thresholds: rules.Thresholds
    mart_rows: int
    seconds: float
    evaluation_id: int = 0
    trigger: str = AUTOMATION
    sentiment_model: str | None = None


def settings_hash(thresholds: rules.Thresholds) -> str:
    """Names the settings an evaluation used: a sensor re-evaluates when the current ones hash differently."""
    return hashlib.sha256(json.dumps(thresholds.as_json(), sort_keys=True).encode()).hexdigest()


def run_trigger(tags: Mapping[str, str]) -> str:
    """What asked for a Dagster run, from its tags: the trigger the CLI or a sensor set (``novora rescore: ...``,
    ``novora materialize``, ``alert_settings``, ``landing_sensor``), a backfill, a schedule, the automation, or
    a person (Dagster UI's launchpad)."""
    if tags.get(TRIGGER_TAG):
        return tags[TRIGGER_TAG]
    if tags.get(BACKFILL_ID_TAG):
        return f"backfill {tags[BACKFILL_ID_TAG]}"
    if tags.get(SCHEDULE_TAG):
        return f"schedule {tags[SCHEDULE_TAG]}"
    if any(tags.get(tag) for tag in AUTOMATION_TAGS):
        return AUTOMATION
    return "Dagster run"


EVALUATION_SQL = """
insert into alerts.evaluations (settings_sha256, thresholds, rule_version, sentiment_model, trigger, run_id,
    mart_rows, current_alerts, new_alerts, resolved_alerts, reopened_alerts, changed_alerts, seconds)
values (%s, %s, %s, %s, %s, %s, %s, 0, 0, 0, 0, 0, 0)
returning evaluation_id
"""

COUNTS_SQL = """
update alerts.evaluations set current_alerts = %s, new_alerts = %s, resolved_alerts = %s, reopened_alerts = %s,
    changed_alerts = %s, seconds = %s
where evaluation_id = %s
"""


def evaluate_alerts(conn: psycopg.Connection, trigger: str = AUTOMATION, run_id: str | None = None) -> Evaluation:
    """Evaluate every rule and sync alerts.alerts; the evaluation is recorded in alerts.evaluations first, in the
    same transaction, so every alert, event and revision it writes names it. ``trigger`` says what asked for it."""
    started = time.perf_counter()
    thresholds = store.load_thresholds(conn)
    marts = store.load_marts(conn)
    models = store.sentiment_models(conn)
    findings = rules.evaluate(marts, store.survey_order(conn), thresholds)
    model = revisions.join_models(models.values())
    mart_rows = sum(len(rows) for rows in marts.values())
    with conn.transaction():
        evaluation_id = conn.execute(EVALUATION_SQL, (
            settings_hash(thresholds), json.dumps(thresholds.as_json()), rules.RULE_VERSION, model, trigger, run_id,
            mart_rows)).fetchone()[0]
        report = store.sync(conn, findings, store.EvaluationContext(
            evaluation_id, trigger, rules.RULE_VERSION, thresholds.as_json(), models))
        seconds = time.perf_counter() - started
        conn.execute(COUNTS_SQL, (report.holding, report.new, report.resolved, report.reopened, report.changed,
                                  round(seconds, 3), evaluation_id))
    return Evaluation(report, thresholds, mart_rows, seconds, evaluation_id, trigger, model)


def settings_changed(conn: psycopg.Connection) -> str | None:
    """The current settings' hash when it differs from the latest evaluation's (None: unchanged, or never
    evaluated yet: the first evaluation comes from the marts' automation)."""
    latest = conn.execute("select settings_sha256 from alerts.evaluations order by evaluation_id desc limit 1"
                          ).fetchone()
    current = settings_hash(store.load_thresholds(conn))
    return current if latest is not None and latest[0] != current else None


def alerts_from_suppressed_numbers(conn: psycopg.Connection) -> list[int]:
    """Current alerts whose mart row is not published (or, for participation, whose group is under min_n).

    Written in SQL apart from the rules, so that a rule that ever reads a suppressed number is caught."""
    rows = conn.execute(
        """with min_n as (select (value #>> '{}')::integer as n from app.settings where setting_key = 'min_n')
           select a.alert_id from alerts.alerts as a
           where a.still_holds and not case a.alert_type
               when 'LOW_SCORE' then case when a.driver_id = 'engagement'
                   then exists (select 1 from marts.engagement as m where (m.survey_id, m.team_id, m.scope)
                                = (a.survey_id, a.team_id, a.scope) and not m.suppressed
                                and m.engagement_score is not null)
                   else exists (select 1 from marts.driver_scores as m where (m.survey_id, m.team_id, m.scope,
                                m.driver_id) = (a.survey_id, a.team_id, a.scope, a.driver_id) and not m.suppressed
                                and m.mean_score is not null) end
               when 'ENPS_NEG' then exists (select 1 from marts.enps as m where (m.survey_id, m.team_id, m.scope)
                   = (a.survey_id, a.team_id, a.scope) and not m.suppressed and m.enps is not null)
               when 'NEG_SENT_SPIKE' then exists (select 1 from marts.comment_insights as m
                   where (m.survey_id, m.team_id, m.scope) = (a.survey_id, a.team_id, a.scope)
                   and not m.suppressed and m.negative_share is not null)
               when 'RECURRING' then true
               else case when a.alert_type in ('BIG_DROP_ABS', 'BIG_DROP_REL')
                   then exists (select 1 from marts.trends as m where (m.survey_id, m.team_id, m.scope, m.driver_id)
                                = (a.survey_id, a.team_id, a.scope, a.driver_id) and not m.suppressed
                                and not m.prev_suppressed and m.delta_abs is not null)
                   else exists (select 1 from marts.participation as m where (m.survey_id, m.team_id, m.scope)
                                = (a.survey_id, a.team_id, a.scope) and m.invited >= (select n from min_n)) end
           end
           order by a.alert_id"""
    ).fetchall()
    return [r[0] for r in rows]
