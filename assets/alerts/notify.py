"""Who hears about an alert, and what they get: pure functions over alert rows and settings.

Email goes to the team's manager (``raw.teams.manager_employee_id``); a high-severity alert, an org-wide one, or
one whose team has no manager also goes to the admins (``dashboard_role = 'admin'``). The webhook channel is one
Slack-compatible incoming webhook: one message per alert. Medium-severity alerts may instead go out once a day,
as one digest per recipient and channel. A failed Novora run goes to the admins on every channel.

Recipients are employee ids; the address is looked up when the message is sent (see :mod:`.delivery`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from assets.alerts.rules import SettingsError

CHANNELS = ("email", "webhook")
WEBHOOK = "webhook"  # the webhook channel's one recipient


@dataclass(frozen=True)
class NotifySettings:
    """The notify.* settings and notification_channels of app.settings."""

    channels: tuple[str, ...] = ("email", "webhook")
    medium_digest: bool = False
    digest_hour_utc: int = 8
    max_attempts: int = 6
    retry_base_seconds: int = 30

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> NotifySettings:
        values: dict[str, object] = {}
        if "notification_channels" in settings:
            channels = settings["notification_channels"]
            if not isinstance(channels, list) or any(c not in CHANNELS for c in channels):
                raise SettingsError(f"setting notification_channels must be a list of {', '.join(CHANNELS)}, "
                                    f"not {channels!r}")
            values["channels"] = tuple(dict.fromkeys(channels))
        if "notify.medium_digest" in settings:
            if not isinstance(settings["notify.medium_digest"], bool):
                raise SettingsError(f"setting notify.medium_digest must be true or false, "
                                    f"not {settings['notify.medium_digest']!r}")
            values["medium_digest"] = settings["notify.medium_digest"]
        for key, name, low, high in (("notify.digest_hour_utc", "digest_hour_utc", 0, 23),
                                     ("notify.max_attempts", "max_attempts", 1, 100),
                                     ("notify.retry_base_seconds", "retry_base_seconds", 1, 86_400)):
            if key in settings:
                value = settings[key]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    raise SettingsError(f"setting {key} must be a whole number from {low} to {high}, not {value!r}")
                values[name] = value
        return cls(**values)


def backoff_seconds(attempts_made: int, base: int) -> int:
    """Wait before the next attempt: base, 2 x base, 4 x base ... after the first, second, third failure."""
    return base * 2 ** max(attempts_made - 1, 0)


def next_digest(now: datetime, hour_utc: int) -> datetime:
    """The next digest time at or after ``now``: today at ``hour_utc`` (UTC) if that is still ahead, else tomorrow."""
    now = now.astimezone(UTC)
    today = now.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return today if today >= now else today + timedelta(days=1)


@dataclass(frozen=True)
class AlertNotice:
    """What a notification needs of an alert (alerts.alerts joined to its team's manager)."""

    alert_id: int
    alert_type: str
    severity: str
    survey_id: str
    team_id: str
    scope: str
    team_name: str | None
    message: str
    metric_value: Decimal | None
    threshold: Decimal
    is_significant: bool | None
    manager_id: str | None


@dataclass(frozen=True)
class Planned:
    channel: str
    recipient: str
    is_digest: bool
    subject: str
    body: str


def recipients(alert: AlertNotice, admins: Sequence[str], channels: Sequence[str]) -> list[tuple[str, str]]:
    """(channel, recipient) pairs for an alert, on the channels that are listed and configured."""
    pairs: list[tuple[str, str]] = []
    if "email" in channels:
        people = [alert.manager_id] if alert.scope != "org" and alert.manager_id else []
        if alert.severity == "high" or not people:
            people += admins
        pairs += [("email", person) for person in dict.fromkeys(people)]
    if WEBHOOK in channels:
        pairs.append((WEBHOOK, WEBHOOK))
    return pairs


def render_alert(alert: AlertNotice) -> tuple[str, str]:
    group = alert.team_name or alert.team_id
    if alert.scope == "subtree":
        group += " (with sub-teams)"
    subject = f"[Novora] {alert.severity.upper()} {alert.alert_type}: {group}, {alert.survey_id}"
    lines = [alert.message, "",
             f"Alert type: {alert.alert_type} ({alert.severity} severity)",
             f"Group: {group}", f"Survey: {alert.survey_id}"]
    if alert.metric_value is not None:
        lines.append(f"Value: {alert.metric_value:.3f} (threshold {alert.threshold})")
    if alert.is_significant is not None:
        lines.append("The change is " + ("beyond" if alert.is_significant else "within") +
                     " what chance explains for a group of this size (95 % interval).")
    lines += ["", f"Alert {alert.alert_id} in Novora: acknowledge, resolve or dismiss it there."]
    return subject, "\n".join(lines)


def plan_alert(alert: AlertNotice, admins: Sequence[str], channels: Sequence[str], settings: NotifySettings,
               already: set[tuple[int, str, str]]) -> list[Planned]:
    """The notifications an alert still needs (``already``: the (alert_id, channel, recipient) rows that exist)."""
    subject, body = render_alert(alert)
    digest = settings.medium_digest and alert.severity == "medium"
    return [Planned(channel, recipient, digest, subject, body)
            for channel, recipient in recipients(alert, admins, channels)
            if (alert.alert_id, channel, recipient) not in already]


def render_run_failure(job_name: str, run_id: str, error: str, dagster_url: str) -> tuple[str, str]:
    first_line = (error or "no error message").strip().splitlines()[0][:500] if error else "no error message"
    subject = f"[Novora] run failed: {job_name}"
    body = "\n".join([f"The Novora run {run_id} of {job_name} failed.", "", f"Error: {first_line}", "",
                      f"Run in Dagster UI: {dagster_url.rstrip('/')}/runs/{run_id}"])
    return subject, body


def render_digest(items: Sequence[tuple[str, str]], day: datetime) -> tuple[str, str]:
    """One message for several medium alerts (``items``: their subjects and bodies)."""
    subject = f"[Novora] daily digest {day:%Y-%m-%d}: {len(items)} medium-severity alert{'s' * (len(items) != 1)}"
    body = "\n\n".join(f"{i}. {s.removeprefix('[Novora] ')}\n{b}" for i, (s, b) in enumerate(items, start=1))
    return subject, body
