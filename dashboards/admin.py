"""Data access and rules for the Admin page: settings, dashboard accounts, the safety review queue, the audit log.

Every change goes through ``data.transaction()`` as the app's role, names the admin who made it and writes an
``app.audit_log`` entry in the same transaction. Values are checked here (pure ``parse_setting``) before they
reach the database, with the same rules the alert evaluation applies when it reads them.
"""

from __future__ import annotations

import json

import pandas as pd
from psycopg.types.json import Jsonb

from assets.access import auth
from assets.alerts import rules
from assets.nlp import review
from dashboards import data
from dashboards.scope import Viewer

# Anonymity thresholds below this would publish groups of one or two people: never allowed from the app.
MIN_ANONYMITY_THRESHOLD = 3
CHANNELS = ("email", "webhook")
# setting key -> kind, for the settings the app edits that the alert rules do not parse themselves
APP_SETTINGS = {
    "comment_min_n": "count",
    "pii_masking": "bool",
    "notification_channels": "channels",
    "app.session_idle_minutes": "count",
    "app.session_max_hours": "count",
    "app.max_failed_sign_ins": "count",
    "app.lockout_minutes": "count",
}


class AdminError(ValueError):
    """A change the app refuses; the message is one line for the admin."""


def setting_kind(key: str) -> str | None:
    if key in rules.SETTINGS:
        return rules.SETTINGS[key][1]
    return APP_SETTINGS.get(key)


def parse_setting(key: str, text: str) -> object:
    """The JSON value to store for ``key`` typed as ``text``; ``AdminError`` with the reason otherwise."""
    kind = setting_kind(key)
    if kind is None:
        raise AdminError(f"{key} cannot be changed from the app")
    if kind == "channels":
        names = [part.strip().lower() for part in text.replace(";", ",").split(",") if part.strip()]
        unknown = [name for name in names if name not in CHANNELS]
        if unknown:
            raise AdminError(f"unknown channel {unknown[0]!r}: use {' and/or '.join(CHANNELS)}")
        return list(dict.fromkeys(names))
    try:
        value = rules._parse(key, text, kind)
    except rules.SettingsError as exc:
        raise AdminError(str(exc)) from None
    if key in ("min_n", "comment_min_n") and value < MIN_ANONYMITY_THRESHOLD:
        raise AdminError(f"{key} must be at least {MIN_ANONYMITY_THRESHOLD} to keep answers anonymous")
    if kind == "decimal":
        return float(value)
    return value


def display_value(value: object) -> str:
    """How a stored JSON value is shown in the editor (the text ``parse_setting`` reads back)."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- settings


def settings() -> pd.DataFrame:
    """Every setting with its current value (as text), description and last change."""
    frame = data.query(
        "select setting_key, value, description, updated_at, updated_by from app.settings order by setting_key")
    frame["editable"] = frame["setting_key"].map(lambda key: setting_kind(key) is not None)
    frame["value"] = frame["value"].map(display_value)
    return frame


def change_setting(viewer: Viewer, key: str, text: str) -> object:
    """Store a new value for ``key`` (an audit entry records old and new); returns the stored value."""
    value = parse_setting(key, text)
    with data.transaction() as conn:
        row = conn.execute("select value from app.settings where setting_key = %s for update", (key,)).fetchone()
        if row is None:
            raise AdminError(f"there is no setting {key}")
        if row[0] == value:
            return value
        conn.execute("update app.settings set value = %s, updated_at = now(), updated_by = %s where setting_key = %s",
                     (Jsonb(value), viewer.email, key))
        auth.audit(conn, viewer.email, "setting.changed", key, {"from": row[0], "to": value})
    return value


# ---------------------------------------------------------------- accounts


ACCOUNTS_SQL = """
select
    u.email,
    u.role,
    u.team_id,
    case u.role
        when 'admin' then 'every team'
        when 'viewer' then 'org level'
        else coalesce(string_agg(a.team_id, ', ' order by a.team_id), 'org level (manages no team)')
    end as sees,
    u.password_hash is not null as has_password,
    coalesce(u.locked_until > now(), false) as locked,
    u.last_sign_in_at,
    u.password_set_at
from app.users as u
left join app.user_team_access as a on a.user_id = u.user_id
where u.is_active
group by u.user_id
order by array_position(array['admin', 'manager', 'viewer'], u.role), lower(u.email)
"""


def accounts() -> pd.DataFrame:
    """Active dashboard accounts: role, what each sees, password set, locked, last sign-in."""
    return data.query(ACCOUNTS_SQL)


def set_password(viewer: Viewer, email: str, password: str) -> None:
    with data.transaction() as conn:
        try:
            auth.set_password(conn, email, password, actor=viewer.email)
        except auth.AuthError as exc:
            raise AdminError(str(exc)) from None


def unlock(viewer: Viewer, email: str) -> None:
    with data.transaction() as conn:
        row = conn.execute("""update app.users set locked_until = null, failed_sign_ins = 0
                              where is_active and lower(email) = lower(%s) returning user_id""",
                           (email,)).fetchone()
        if row is None:
            raise AdminError(f"no active dashboard account has the email {email!r}")
        auth.audit(conn, viewer.email, "user.unlocked", row[0])


# ---------------------------------------------------------------- review queue


# The held comments are ordered and cut first, then their text is read by key: the join never touches the other
# comments (a year at benchmark size holds 209,000, a few thousand of them flagged).
REVIEW_SQL = """
with held as (
    select
        comment_id, survey_id, team_id, categories, severity, status, flagged_at, reviewed_by, review_note,
        array_position(array['high', 'medium', 'low'], severity) as severity_rank
    from nlp.review_queue
    where is_current and status = any(%(statuses)s::text[])
    order by severity_rank, flagged_at, comment_id
    limit %(limit)s
)

select
    held.comment_id,
    held.survey_id,
    held.team_id,
    array_to_string(held.categories, ', ') as categories,
    held.severity,
    held.status,
    c.text_masked,
    held.flagged_at,
    held.reviewed_by,
    held.review_note
from held
left join nlp.comments as c on held.comment_id = c.comment_id
order by held.severity_rank, held.flagged_at, held.comment_id
"""


def review_items(statuses: tuple[str, ...] = review.HELD_STATUSES, limit: int = 500) -> pd.DataFrame:
    """Flagged comments in ``statuses`` (masked text), most severe first."""
    return data.query(REVIEW_SQL, {"statuses": list(statuses), "limit": int(limit)})


def review_counts() -> dict[str, int]:
    frame = data.query("select status, count(*) as n from nlp.review_queue where is_current group by status")
    return {status: int(frame.loc[frame["status"] == status, "n"].sum()) for status in review.STATUSES}


def decide_review(viewer: Viewer, comment_id: str, status: str, note: str) -> None:
    with data.transaction() as conn:
        try:
            review.decide(conn, comment_id, status, actor=viewer.email, note=note.strip() or None)
        except review.ReviewError as exc:
            raise AdminError(str(exc)) from None


# ---------------------------------------------------------------- audit log


def audit_log(limit: int = 200) -> pd.DataFrame:
    frame = data.query("""select occurred_at, actor, action, subject, detail from app.audit_log
                          order by audit_id desc limit %s""", (int(limit),))
    frame["detail"] = frame["detail"].map(lambda d: json.dumps(d, sort_keys=True) if d else "")
    return frame

