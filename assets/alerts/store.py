"""alerts.alerts and alerts.alert_events: reading the marts for the rules, and keeping one row per real issue.

:func:`sync` is the only writer of findings. In one transaction it inserts new issues (open), refreshes the
ones seen again (``last_seen_at``, values, provenance), and resolves the open or acknowledged ones that no
longer hold (a corrected re-delivery, a changed threshold), recording each change in alerts.alert_events. An
issue that holds again after Novora resolved it is reopened; one a person resolved or dismissed keeps that
decision. :func:`decide` is how people move an alert through its lifecycle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

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


@dataclass
class SyncReport:
    new: int = 0
    seen_again: int = 0
    resolved: int = 0
    reopened: int = 0
    holding: int = 0
    by_type: dict[str, int] | None = None


def _json(value):
    return json.loads(json.dumps(value, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat()))


def sync(conn: psycopg.Connection, findings: Sequence[Finding]) -> SyncReport:
    """Make alerts.alerts hold exactly ``findings`` as its current issues (see the module docstring)."""
    report = SyncReport(holding=len(findings), by_type={t: 0 for t in ALERT_TYPES})
    with conn.transaction():
        conn.execute("lock table alerts.alerts in share row exclusive mode")  # one evaluation at a time
        existing = {row[0]: row[1:] for row in conn.execute(
            "select dedup_key, alert_id, status, still_holds, status_changed_by from alerts.alerts")}
        for f in findings:
            report.by_type[f.alert_type] += 1
            values = {"dedup_key": f.dedup_key, "alert_type": f.alert_type, "severity": f.severity,
                      "survey_id": f.survey_id, "team_id": f.team_id, "scope": f.scope, "team_name": f.team_name,
                      "driver_id": f.driver_id, "theme": f.theme, "metric_value": f.metric_value,
                      "threshold": f.threshold, "message": f.message, "is_significant": f.is_significant,
                      "ci_low": f.ci_low, "ci_high": f.ci_high, "rule_version": f.provenance["rule_version"],
                      "provenance": Jsonb(_json(f.provenance))}
            if f.dedup_key not in existing:
                alert_id = conn.execute(
                    f"insert into alerts.alerts ({', '.join(values)}) values ({', '.join('%s' for _ in values)}) "
                    "returning alert_id", list(values.values())).fetchone()[0]
                _event(conn, alert_id, None, "open", SYSTEM, f"raised by rule version {values['rule_version']}")
                report.new += 1
                continue
            alert_id, status, _, changed_by = existing.pop(f.dedup_key)
            updates = {k: v for k, v in values.items() if k != "dedup_key"}
            conn.execute(
                f"update alerts.alerts set {', '.join(f'{k} = %s' for k in updates)}, still_holds = true, "
                "last_seen_at = now() where alert_id = %s", [*updates.values(), alert_id])
            report.seen_again += 1
            if status == "resolved" and changed_by == SYSTEM:
                _move(conn, alert_id, status, "open", SYSTEM, "holds again on re-evaluation")
                report.reopened += 1
        for alert_id, status, still_holds, _ in existing.values():
            if not still_holds:
                continue
            conn.execute("update alerts.alerts set still_holds = false where alert_id = %s", (alert_id,))
            if status in ("open", "acknowledged"):
                _move(conn, alert_id, status, "resolved", SYSTEM,
                      "no longer holds on re-evaluation (corrected data or changed thresholds)")
                report.resolved += 1
    return report


def _event(conn, alert_id: int, from_status: str | None, to_status: str, actor: str, note: str | None) -> None:
    conn.execute("insert into alerts.alert_events (alert_id, from_status, to_status, actor, note) "
                 "values (%s, %s, %s, %s, %s)", (alert_id, from_status, to_status, actor, note))


def _move(conn, alert_id: int, from_status: str, to_status: str, actor: str, note: str | None) -> None:
    conn.execute("update alerts.alerts set status = %s, status_changed_at = now(), status_changed_by = %s "
                 "where alert_id = %s", (to_status, actor, alert_id))
    _event(conn, alert_id, from_status, to_status, actor, note)


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
