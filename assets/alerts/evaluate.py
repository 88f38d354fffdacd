"""One evaluation: read the marts and the thresholds, run every rule, sync alerts.alerts. Thin over rules/store."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

import psycopg

from assets.alerts import rules, store


@dataclass
class Evaluation:
    report: store.SyncReport
    thresholds: rules.Thresholds
    mart_rows: int
    seconds: float


def settings_hash(thresholds: rules.Thresholds) -> str:
    """Names the settings an evaluation used: a sensor re-evaluates when the current ones hash differently."""
    return hashlib.sha256(json.dumps(thresholds.as_json(), sort_keys=True).encode()).hexdigest()


def evaluate_alerts(conn: psycopg.Connection) -> Evaluation:
    """Evaluate every rule and sync alerts.alerts; the evaluation is recorded in alerts.evaluations."""
    started = time.perf_counter()
    thresholds = store.load_thresholds(conn)
    marts = store.load_marts(conn)
    findings = rules.evaluate(marts, store.survey_order(conn), thresholds)
    report = store.sync(conn, findings)
    evaluation = Evaluation(report, thresholds, sum(len(rows) for rows in marts.values()),
                            time.perf_counter() - started)
    conn.execute("insert into alerts.evaluations (settings_sha256, thresholds, mart_rows, current_alerts, new_alerts, "
                 "resolved_alerts, reopened_alerts, seconds) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                 (settings_hash(thresholds), json.dumps(thresholds.as_json()), evaluation.mart_rows, report.holding,
                  report.new, report.resolved, report.reopened, round(evaluation.seconds, 3)))
    return evaluation


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
