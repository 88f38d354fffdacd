"""What the Alerts inbox reads, how it shapes it, and the decisions people take on an alert.

Every read filters ``alerts.alerts`` by the viewer's teams in SQL (admins: all; managers: their teams and the
organisation; viewers: organisation alerts only). A decision re-checks, in the same transaction and with the
alert row locked, that the alert's team is in the deciding person's scope, so a forged alert id changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
import psycopg

from assets.alerts.store import TRANSITIONS, AlertError, decide
from dashboards import data
from dashboards.scope import Viewer

STATUSES = ("open", "acknowledged", "resolved", "dismissed")
DEFAULT_STATUSES = ("open", "acknowledged")
SEVERITIES = ("high", "medium", "low")
# the button for each target status, in the order they are offered
ACTIONS = {"acknowledged": "Acknowledge", "resolved": "Resolve", "dismissed": "Dismiss", "open": "Reopen"}

DECIMAL_TEXT = re.compile(r"-?\d+\.\d+")

_TEAMS = "(%(teams)s::text[] is null or team_id = any(%(teams)s::text[]))"

ALERTS_SQL = f"""
select
    alert_id,
    severity,
    alert_type,
    status,
    survey_id,
    team_name,
    coalesce(driver_id, theme) as subject,
    metric_value::float as metric_value,
    threshold::float as threshold,
    message,
    first_seen_at,
    last_seen_at,
    still_holds,
    team_id,
    scope
from alerts.alerts
where
    {_TEAMS}
    and (%(statuses)s::text[] is null or status = any(%(statuses)s::text[]))
    and (%(severities)s::text[] is null or severity = any(%(severities)s::text[]))
    and (%(types)s::text[] is null or alert_type = any(%(types)s::text[]))
    and (%(survey)s::text is null or survey_id = %(survey)s)
    and (%(team)s::text is null or team_id = %(team)s)
order by
    array_position(array['high', 'medium', 'low'], severity),
    survey_id desc,
    last_seen_at desc,
    alert_id desc
"""


def alerts(
    team_filter: Sequence[str] | None,
    statuses: Sequence[str] | None = DEFAULT_STATUSES,
    severities: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
    survey_id: str | None = None,
    team_id: str | None = None,
) -> pd.DataFrame:
    """Alerts in the viewer's scope, most severe and newest first; an empty or None filter means "any"."""
    return data.query(
        ALERTS_SQL,
        {
            "teams": _list(team_filter),
            "statuses": _any(statuses),
            "severities": _any(severities),
            "types": _any(types),
            "survey": survey_id,
            "team": team_id,
        },
    )


OPTIONS_SQL = f"""
select distinct alert_type, survey_id, team_id, team_name
from alerts.alerts
where {_TEAMS}
"""


def filter_options(team_filter: Sequence[str] | None) -> dict[str, list]:
    """The values the inbox filters offer: types, surveys (newest first) and teams ((id, name)) in scope."""
    frame = data.query(OPTIONS_SQL, {"teams": _list(team_filter)})
    teams = frame[["team_id", "team_name"]].drop_duplicates().sort_values(["team_name", "team_id"])
    return {
        "types": sorted(frame["alert_type"].unique().tolist()),
        "surveys": sorted(frame["survey_id"].unique().tolist(), reverse=True),
        "teams": list(teams.itertuples(index=False, name=None)),
    }


DETAIL_SQL = f"""
select
    alert_id, alert_type, severity, status, survey_id, team_id, scope, team_name, driver_id, theme,
    metric_value::float as metric_value, threshold::float as threshold, message, is_significant,
    ci_low::float as ci_low, ci_high::float as ci_high, rule_version, provenance, still_holds,
    first_seen_at, last_seen_at, status_changed_at, status_changed_by
from alerts.alerts
where alert_id = %(alert_id)s and {_TEAMS}
"""


def alert(alert_id: int, team_filter: Sequence[str] | None) -> dict[str, Any] | None:
    """One alert with its provenance, or None when it does not exist or is outside the viewer's scope."""
    frame = data.query(DETAIL_SQL, {"alert_id": int(alert_id), "teams": _list(team_filter)})
    return None if frame.empty else frame.iloc[0].to_dict()


EVENTS_SQL = """
select events.occurred_at, events.from_status, events.to_status, events.actor, events.note
from alerts.alert_events as events
inner join alerts.alerts as alerts on alerts.alert_id = events.alert_id
where events.alert_id = %(alert_id)s and (%(teams)s::text[] is null or alerts.team_id = any(%(teams)s::text[]))
order by events.occurred_at, events.event_id
"""


def history(alert_id: int, team_filter: Sequence[str] | None) -> pd.DataFrame:
    """The alert's status changes, oldest first (who, when, from, to, note); empty outside the viewer's scope."""
    return data.query(EVENTS_SQL, {"alert_id": int(alert_id), "teams": _list(team_filter)})


REVISIONS_SQL = """
select
    revisions.recorded_at,
    revisions.evaluation_id,
    evaluations.trigger,
    revisions.rule_version,
    revisions.thresholds,
    revisions.sentiment_model,
    revisions.metric_value::float as metric_value,
    revisions.threshold::float as threshold,
    revisions.severity,
    revisions.message
from alerts.alert_revisions as revisions
inner join alerts.alerts as alerts on alerts.alert_id = revisions.alert_id
left join alerts.evaluations as evaluations on evaluations.evaluation_id = revisions.evaluation_id
where revisions.alert_id = %(alert_id)s and (%(teams)s::text[] is null or alerts.team_id = any(%(teams)s::text[]))
order by revisions.revision_id
"""
NO_TRIGGER = "before provenance was recorded"  # revisions of alerts raised before migration 0009


def revisions(alert_id: int, team_filter: Sequence[str] | None) -> pd.DataFrame:
    """What the alert said each time an evaluation raised it or changed it, oldest first: when, which evaluation
    and what asked for it, the rule version, thresholds and sentiment model, the value and threshold."""
    return revision_rows(data.query(REVISIONS_SQL, {"alert_id": int(alert_id), "teams": _list(team_filter)}))


def revision_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Revisions as the page shows them: thresholds as "name value" text, a missing trigger or model named."""
    frame = frame.copy()
    frame["thresholds"] = [thresholds_text(t) for t in frame["thresholds"]]
    frame["trigger"] = frame["trigger"].fillna(NO_TRIGGER)
    frame["sentiment_model"] = frame["sentiment_model"].fillna("—")
    return frame


def thresholds_text(thresholds: Any) -> str:
    """{"low_score": "6.0", "min_n": 4} -> "low_score 6.0, min_n 4"."""
    if isinstance(thresholds, str):
        thresholds = json.loads(thresholds)
    return ", ".join(f"{name} {_readable(value)}" for name, value in (thresholds or {}).items()) or "—"


def allowed_actions(status: str) -> list[tuple[str, str]]:
    """(target status, button label) a person may move an alert in ``status`` to, in a fixed order."""
    targets = TRANSITIONS.get(status, set())
    return [(target, label) for target, label in ACTIONS.items() if target in targets]


def may_decide(viewer: Viewer) -> bool:
    """Admins and managers act on alerts; viewers (org results only) read them."""
    return viewer.role in ("admin", "manager")


IN_SCOPE_SQL = f"""
select team_id from alerts.alerts where alert_id = %(alert_id)s and {_TEAMS} for update
"""


def decide_in_scope(
    conn: psycopg.Connection, viewer: Viewer, alert_id: int, to_status: str, note: str | None = None
) -> None:
    """Move an alert for ``viewer``, refusing (AlertError) an alert outside their scope before changing anything."""
    if not may_decide(viewer):
        raise AlertError("viewers can read alerts but not change them; ask a manager or an admin")
    with conn.transaction():
        row = conn.execute(IN_SCOPE_SQL, {"alert_id": int(alert_id), "teams": _list(viewer.team_filter())}).fetchone()
        if row is None:
            raise AlertError(f"alert {alert_id} does not exist or is not one of your teams' alerts")
        decide(conn, int(alert_id), to_status, actor=viewer.email, note=note)


def provenance_rows(provenance: Any) -> pd.DataFrame:
    """The provenance jsonb as readable (item, value) rows: nested keys joined with " › ", lists numbered."""
    if isinstance(provenance, str):
        provenance = json.loads(provenance)
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(f"{prefix} › {key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
            if len(value) == 1:
                walk(prefix, value[0])
                return
            for number, inner in enumerate(value, start=1):
                walk(f"{prefix} [{number}]", inner)
        else:
            rows.append((prefix or "value", _readable(value)))

    if provenance:
        walk("", provenance)
    return pd.DataFrame(rows, columns=["item", "value"])


def _readable(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_readable(v) for v in value) or "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str) and DECIMAL_TEXT.fullmatch(value):
        # marts' numerics arrive as exact decimal text ("0.60000000000000000000"): drop the trailing zeros
        return format(Decimal(value).normalize(), "f")
    return str(value)


def _list(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(values)


def _any(values: Sequence[str] | None) -> list[str] | None:
    return list(values) if values else None
