"""alerts.alerts and alerts.alert_events: reading the marts for the rules, and keeping one row per real issue.

:func:`sync` is the only writer of findings. In one transaction it inserts new issues (open), refreshes the
ones seen again (``last_seen_at``, values, provenance), and resolves the open or acknowledged ones that no
longer hold (a corrected re-delivery, a changed threshold), recording each change in alerts.alert_events. An
issue that holds again after Novora resolved it is reopened; one a person resolved or dismissed keeps that
decision. Every row it writes names the evaluation (alerts.evaluations) that wrote it, and an alert gains a row
of alerts.alert_revisions when it is raised or what it says changed (:mod:`assets.alerts.revisions`), never for
an unchanged re-evaluation. :func:`decide` is how people move an alert through its lifecycle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from assets.alerts import revisions
from assets.alerts.revisions import Statement
from assets.alerts.rules import ALERT_TYPES, Finding, Thresholds

SYSTEM = "novora"
MART_COLUMNS = {
    "driver_scores": "survey_id, team_id, scope, team_name, driver_id, driver_name, n_respondents, mean_score, "
                     "suppressed",
    "engagement": "survey_id, team_id, scope, team_name, n_respondents, engagement_score, suppressed",
    "enps": "survey_id, team_id, scope, team_name, n_respondents, promoters, passives, detractors, enps, suppressed",
    "participation": "survey_id, team_id, scope, team_name, invited, responded, participation_rate, "
                     "prev_survey_id, prev_participation_rate, participation_change_rel",
    "trends": "survey_id, team_id, scope, team_name, driver_id, n_respondents, mean_score, prev_survey_id, "
              "prev_mean_score, delta_abs, delta_rel, suppressed, prev_suppressed, std_error, prev_std_error, "
              "delta_ci_low, delta_ci_high",
    "comment_insights": "survey_id, team_id, scope, team_name, n_comments, negative_share, top_negative_theme, "
                        "suppressed",
}
# who may move an alert where (a person); Novora itself only resolves and reopens
TRANSITIONS = {"open": {"acknowledged", "resolved", "dismissed"}, "acknowledged": {"resolved", "dismissed", "open"},
               "resolved": {"open"}, "dismissed": {"open"}}


class AlertError(ValueError):
    """A lifecycle change that cannot be made; the message is one line for the user."""


def load_marts(conn: psycopg.Connection) -> dict[str, list[dict]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return {mart: cursor.execute(f"select {columns} from marts.{mart}").fetchall()  # noqa: S608 (constants)
                for mart, columns in MART_COLUMNS.items()}


def survey_order(conn: psycopg.Connection) -> list[str]:
    """Surveys by opening date (what "latest" means for RECURRING)."""
    return [r[0] for r in conn.execute("select survey_id from raw.surveys order by opened_at, survey_id")]


def load_settings(conn: psycopg.Connection) -> dict[str, object]:
    return dict(conn.execute("select setting_key, value from app.settings").fetchall())


def load_thresholds(conn: psycopg.Connection) -> Thresholds:
    return Thresholds.from_settings(load_settings(conn))


def sentiment_models(conn: psycopg.Connection) -> dict[str, str]:
    """Per survey, the sentiment model whose scores marts.comments holds (several joined with ", ";
    'unrecorded' for comments scored before models were recorded, or a marts.comments built before the column)."""
    if not conn.execute("select to_regclass('marts.comments') is not null").fetchone()[0]:
        return {}
    has_column = conn.execute(
        "select exists (select 1 from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'comments' and column_name = 'sentiment_model')").fetchone()[0]
    model = "coalesce(sentiment_model, %(unrecorded)s)" if has_column else "%(unrecorded)s::text"
    rows = conn.execute(f"select survey_id, string_agg(distinct {model}, ', ' order by {model}) "  # noqa: S608
                        "from marts.comments group by survey_id", {"unrecorded": revisions.UNRECORDED})
    return dict(rows.fetchall())


@dataclass(frozen=True)
class EvaluationContext:
    """The evaluation a sync writes for: its row in alerts.evaluations, what asked for it and what it used."""

    evaluation_id: int
    trigger: str
    rule_version: str
    thresholds: Mapping[str, object]  # Thresholds.as_json()
    sentiment_models: Mapping[str, str] = field(default_factory=dict)  # survey -> model (sentiment_models)


@dataclass
class SyncReport:
    new: int = 0
    seen_again: int = 0
    resolved: int = 0
    reopened: int = 0
    holding: int = 0
    changed: int = 0  # seen again with a new revision, neither new nor reopened
    by_type: dict[str, int] | None = None


def _json(value):
    return json.loads(json.dumps(value, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat()))


def statement(f: Finding, models_by_survey: Mapping[str, str]) -> Statement:
    """What the finding says, as a revision records it."""
    provenance = _json(f.provenance)
    return Statement(severity=f.severity, metric_value=f.metric_value, threshold=f.threshold, message=f.message,
                     rule_version=str(provenance["rule_version"]), thresholds=provenance.get("thresholds", {}),
                     provenance=provenance,
                     sentiment_model=revisions.alert_sentiment_model(f.alert_type, f.survey_id, provenance,
                                                                     models_by_survey))


LATEST_REVISIONS_SQL = """
select distinct on (alert_id) alert_id, severity, metric_value, threshold, message, rule_version, thresholds,
    provenance, sentiment_model
from alerts.alert_revisions
order by alert_id, revision_id desc
"""


def latest_revisions(conn: psycopg.Connection) -> dict[int, Statement]:
    return {row[0]: Statement(*row[1:]) for row in conn.execute(LATEST_REVISIONS_SQL)}


def sync(conn: psycopg.Connection, findings: Sequence[Finding], evaluation: EvaluationContext) -> SyncReport:
    """Make alerts.alerts hold exactly ``findings`` as its current issues (see the module docstring)."""
    report = SyncReport(holding=len(findings), by_type={t: 0 for t in ALERT_TYPES})
    with conn.transaction():
        conn.execute("lock table alerts.alerts in share row exclusive mode")  # one evaluation at a time
        existing = {row[0]: row[1:] for row in conn.execute(
            "select dedup_key, alert_id, status, still_holds, status_changed_by, alert_type, survey_id "
            "from alerts.alerts")}
        latest = latest_revisions(conn)
        for f in findings:
            report.by_type[f.alert_type] += 1
            now = statement(f, evaluation.sentiment_models)
            if f.dedup_key not in existing:
                _raise(conn, f, now, evaluation)
                report.new += 1
                continue
            alert_id, status, _, changed_by, _, _ = existing.pop(f.dedup_key)
            _refresh(conn, alert_id, f, evaluation)
            report.seen_again += 1
            previous = latest.get(alert_id)
            changed = revisions.what_changed(previous, now)
            if changed:
                _revise(conn, alert_id, now, evaluation.evaluation_id)
            if status == "resolved" and changed_by == SYSTEM:
                note = revisions.reopened_note(evaluation.trigger, _versions(previous, now, evaluation))
                _move(conn, alert_id, status, "open", SYSTEM, note, evaluation.evaluation_id)
                report.reopened += 1
            elif changed:
                report.changed += 1
        for alert_id, status, still_holds, _, alert_type, survey_id in existing.values():
            if not still_holds:
                continue
            conn.execute("update alerts.alerts set still_holds = false, last_evaluation_id = %s where alert_id = %s",
                         (evaluation.evaluation_id, alert_id))
            if status in ("open", "acknowledged"):
                previous = latest.get(alert_id)
                model = revisions.alert_sentiment_model(alert_type, survey_id, previous.provenance if previous
                                                        else {}, evaluation.sentiment_models)
                versions = revisions.versions_note(previous, evaluation.rule_version, evaluation.thresholds, model)
                _move(conn, alert_id, status, "resolved", SYSTEM,
                      revisions.resolved_note(evaluation.trigger, versions), evaluation.evaluation_id)
                report.resolved += 1
    return report


def _columns(f: Finding) -> dict[str, object]:
    return {"alert_type": f.alert_type, "severity": f.severity, "survey_id": f.survey_id, "team_id": f.team_id,
            "scope": f.scope, "team_name": f.team_name, "driver_id": f.driver_id, "theme": f.theme,
            "metric_value": f.metric_value, "threshold": f.threshold, "message": f.message,
            "is_significant": f.is_significant, "ci_low": f.ci_low, "ci_high": f.ci_high,
            "rule_version": f.provenance["rule_version"], "provenance": Jsonb(_json(f.provenance))}


def _raise(conn, f: Finding, now: Statement, evaluation: EvaluationContext) -> None:
    values = {"dedup_key": f.dedup_key, **_columns(f), "first_evaluation_id": evaluation.evaluation_id,
              "last_evaluation_id": evaluation.evaluation_id}
    alert_id = conn.execute(
        f"insert into alerts.alerts ({', '.join(values)}) values ({', '.join('%s' for _ in values)}) "  # noqa: S608
        "returning alert_id", list(values.values())).fetchone()[0]
    _event(conn, alert_id, None, "open", SYSTEM, revisions.raised_note(evaluation.trigger, now),
           evaluation.evaluation_id)
    _revise(conn, alert_id, now, evaluation.evaluation_id)


def _refresh(conn, alert_id: int, f: Finding, evaluation: EvaluationContext) -> None:
    updates = _columns(f)
    conn.execute(
        f"update alerts.alerts set {', '.join(f'{k} = %s' for k in updates)}, still_holds = true, "  # noqa: S608
        "last_seen_at = now(), last_evaluation_id = %s where alert_id = %s",
        [*updates.values(), evaluation.evaluation_id, alert_id])


def _versions(previous: Statement | None, now: Statement, evaluation: EvaluationContext) -> str:
    return revisions.versions_note(previous, now.rule_version, evaluation.thresholds, now.sentiment_model)


def _revise(conn, alert_id: int, now: Statement, evaluation_id: int) -> None:
    conn.execute(
        "insert into alerts.alert_revisions (alert_id, evaluation_id, rule_version, thresholds, metric_value, "
        "threshold, severity, message, provenance, sentiment_model) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (alert_id, evaluation_id, now.rule_version, Jsonb(dict(now.thresholds)), now.metric_value, now.threshold,
         now.severity, now.message, Jsonb(dict(now.provenance)), now.sentiment_model))


def _event(conn, alert_id: int, from_status: str | None, to_status: str, actor: str, note: str | None,
           evaluation_id: int | None = None) -> None:
    conn.execute("insert into alerts.alert_events (alert_id, from_status, to_status, actor, note, evaluation_id) "
                 "values (%s, %s, %s, %s, %s, %s)", (alert_id, from_status, to_status, actor, note, evaluation_id))


def _move(conn, alert_id: int, from_status: str, to_status: str, actor: str, note: str | None,
          evaluation_id: int | None = None) -> None:
    conn.execute("update alerts.alerts set status = %s, status_changed_at = now(), status_changed_by = %s "
                 "where alert_id = %s", (to_status, actor, alert_id))
    _event(conn, alert_id, from_status, to_status, actor, note, evaluation_id)


def decide(conn: psycopg.Connection, alert_id: int, to_status: str, actor: str, note: str | None = None) -> None:
    """A person moves an alert: open -> acknowledged -> resolved | dismissed (or back to open), with a note."""
    actor = (actor or "").strip()
    if not actor or actor == SYSTEM:
        raise AlertError("an alert decision needs the name of the person making it")
    with conn.transaction():
        row = conn.execute("select status from alerts.alerts where alert_id = %s for update", (alert_id,)).fetchone()
        if row is None:
            raise AlertError(f"alert {alert_id} does not exist")
        if to_status not in TRANSITIONS.get(row[0], set()):
            raise AlertError(f"alert {alert_id} is {row[0]}: it cannot become {to_status}")
        _move(conn, alert_id, row[0], to_status, actor, (note or "").strip() or None)
