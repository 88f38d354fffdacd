"""alerts.notifications: planning rows for new alerts and failed runs, and sending them exactly once.

Exactly once per (alert, channel, recipient): the row is unique, and a row is claimed (``sending``, attempt
counted) in its own committed transaction before anything is sent, so two sensor ticks never send it twice.
A transient failure (connection refused, SMTP 4xx, HTTP 5xx/429/408) puts it back to ``pending`` with an
exponentially growing wait; a permanent one (SMTP 5xx, HTTP 4xx, no address), or the last allowed attempt, makes
it ``failed`` with its error. Every attempt is a row of alerts.notification_attempts. A row left ``sending`` by a
process that died mid-send is marked failed, not resent: it may have arrived, and a duplicate is worse than a
visible "interrupted".
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import psycopg
from psycopg.rows import dict_row

from assets.alerts import notify
from orchestration.config import SmtpConfig

INTERRUPTED_AFTER = timedelta(minutes=15)
BATCH = 500


class DeliveryError(Exception):
    """A message that did not go out; ``transient`` ones are retried."""

    def __init__(self, message: str, transient: bool):
        super().__init__(message)
        self.transient = transient


def send_email(smtp: SmtpConfig, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, to, subject
    message.set_content(body)
    try:
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password)
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        raise DeliveryError(f"SMTP refused {to}: {code} {_text(reply)}", transient=400 <= code < 500) from None
    except smtplib.SMTPResponseException as error:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port} answered {error.smtp_code} {_text(error.smtp_error)}",
                            transient=400 <= error.smtp_code < 500) from None
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port} unreachable: {error}", transient=True) from None
    except smtplib.SMTPException as error:  # e.g. STARTTLS not offered: configuration, not chance
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {error}", transient=False) from None


def send_webhook(url: str, subject: str, body: str, timeout: float = 15) -> None:
    """A Slack-compatible incoming webhook: POST {"text": ...} as JSON."""
    payload = json.dumps({"text": f"*{subject}*\n{body}"}).encode()
    request = urllib.request.Request(url, data=payload, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "novora"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as error:
        transient = error.code in (408, 425, 429) or error.code >= 500
        raise DeliveryError(f"webhook answered HTTP {error.code} {error.reason}", transient=transient) from None
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"webhook unreachable: {getattr(error, 'reason', error)}", transient=True) from None


def _text(reply: bytes | str) -> str:
    return (reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)).replace("\n", " ")[:300]


@dataclass(frozen=True)
class Transports:
    """The configured channels; ``send`` delivers one message to one address."""

    smtp: SmtpConfig | None = None
    webhook_url: str = ""

    @property
    def configured(self) -> tuple[str, ...]:
        return tuple(c for c, ok in (("email", self.smtp), ("webhook", self.webhook_url)) if ok)

    def send(self, channel: str, address: str, subject: str, body: str) -> None:
        if channel == "email" and self.smtp:
            send_email(self.smtp, address, subject, body)
        elif channel == "webhook" and self.webhook_url:
            send_webhook(self.webhook_url, subject, body)
        else:
            raise DeliveryError(f"the {channel} channel is not configured any more", transient=True)


def usable_channels(settings: notify.NotifySettings, transports: Transports) -> tuple[list[str], list[str]]:
    """(channels to use, listed channels that are not configured)."""
    used = [c for c in settings.channels if c in transports.configured]
    return used, [c for c in settings.channels if c not in transports.configured]


def admin_recipients(conn: psycopg.Connection) -> list[str]:
    """Employee ids of the active admins (notifications about runs and stale data go to them)."""
    return [r[0] for r in conn.execute("select employee_id from raw.employees where dashboard_role = 'admin' "
                                       "and is_active order by employee_id")]


def insert_notification(conn, subject_column: str, subject_id, planned: notify.Planned, due: datetime) -> int:
    """One planned notification, at most once per subject, channel and recipient (the unique index decides)."""
    cursor = conn.execute(
        f"insert into alerts.notifications ({subject_column}, channel, recipient, is_digest, subject, body, "  # noqa: S608
        "next_attempt_at) values (%s, %s, %s, %s, %s, %s, %s) on conflict do nothing",
        (subject_id, planned.channel, planned.recipient, planned.is_digest, planned.subject, planned.body, due))
    return cursor.rowcount


def plan_alert_notifications(conn: psycopg.Connection, settings: notify.NotifySettings, channels: Sequence[str],
                             now: datetime) -> int:
    """Rows for every open alert that still holds and lacks a notification on a usable channel."""
    if not channels:
        return 0
    with conn.cursor(row_factory=dict_row) as cursor:
        alerts = cursor.execute(
            "select a.alert_id, a.alert_type, a.severity, a.survey_id, a.team_id, a.scope, a.team_name, a.message, "
            "a.metric_value, a.threshold, a.is_significant, t.manager_employee_id as manager_id "
            "from alerts.alerts as a left join raw.teams as t on t.team_id = a.team_id "
            "where a.status = 'open' and a.still_holds order by a.alert_id").fetchall()
    if not alerts:
        return 0
    already = set(conn.execute("select alert_id, channel, recipient from alerts.notifications "
                               "where alert_id is not null").fetchall())
    admins = admin_recipients(conn)
    digest_at = notify.next_digest(now, settings.digest_hour_utc)
    inserted = 0
    with conn.transaction():
        for row in alerts:
            alert = notify.AlertNotice(**row)
            for planned in notify.plan_alert(alert, admins, channels, settings, already):
                inserted += insert_notification(conn, "alert_id", alert.alert_id, planned,
                                    digest_at if planned.is_digest else now)
    return inserted


def plan_run_failure(conn: psycopg.Connection, run_id: str, job_name: str, error: str, channels: Sequence[str],
                     dagster_url: str, now: datetime) -> int:
    """Rows telling the admins (and the webhook) that a run failed; once per run, channel and recipient."""
    subject, body = notify.render_run_failure(job_name, run_id, error, dagster_url)
    pairs = ([("email", a) for a in admin_recipients(conn)] if "email" in channels else [])
    pairs += [(notify.WEBHOOK, notify.WEBHOOK)] if notify.WEBHOOK in channels else []
    with conn.transaction():
        return sum(insert_notification(conn, "run_id", run_id, notify.Planned(c, r, False, subject, body), now)
                   for c, r in pairs)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    interrupted: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
                f"{self.interrupted} interrupted")
        return text + (f"; last error: {self.errors[-1]}" if self.errors else "")


def _claim(conn: psycopg.Connection, now: datetime) -> tuple[int, list[dict]]:
    """Mark interrupted sends failed, then claim the due rows (status sending, attempt counted), committed."""
    with conn.transaction():
        interrupted = conn.execute(
            "update alerts.notifications set status = 'failed', error = 'delivery was interrupted after it "
            "started; not resent, as it may have arrived' where status = 'sending' and last_attempt_at < %s",
            (now - INTERRUPTED_AFTER,)).rowcount
        with conn.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(
                "update alerts.notifications set status = 'sending', attempts = attempts + 1, last_attempt_at = %s "
                "where notification_id in (select notification_id from alerts.notifications "
                "where status = 'pending' and next_attempt_at <= %s order by notification_id limit %s "
                "for update skip locked) "
                "returning notification_id, channel, recipient, is_digest, subject, body, attempts",
                (now, now, BATCH)).fetchall()
    return interrupted, rows


def _addresses(conn: psycopg.Connection, employee_ids: set[str]) -> dict[str, str]:
    if not employee_ids:
        return {}
    return dict(conn.execute("select employee_id, email from raw.employees where employee_id = any(%s) "
                             "and is_active and coalesce(email, '') <> ''", (list(employee_ids),)).fetchall())


def _record(conn, rows: Sequence[dict], error: DeliveryError | None, settings: notify.NotifySettings,
            now: datetime, report: DeliveryReport) -> None:
    with conn.transaction():
        for row in rows:
            if error is None:
                outcome = "sent"
                conn.execute("update alerts.notifications set status = 'sent', sent_at = %s, error = null "
                             "where notification_id = %s", (now, row["notification_id"]))
                report.sent += 1
            elif error.transient and row["attempts"] < settings.max_attempts:
                outcome = "transient"
                wait = timedelta(seconds=notify.backoff_seconds(row["attempts"], settings.retry_base_seconds))
                conn.execute("update alerts.notifications set status = 'pending', next_attempt_at = %s, "
                             "error = %s where notification_id = %s", (now + wait, str(error), row["notification_id"]))
                report.retrying += 1
            else:
                outcome = "transient" if error.transient else "permanent"
                note = str(error) if not error.transient else f"{error} (gave up after {row['attempts']} attempts)"
                conn.execute("update alerts.notifications set status = 'failed', error = %s "
                             "where notification_id = %s", (note, row["notification_id"]))
                report.failed += 1
            conn.execute("insert into alerts.notification_attempts (notification_id, attempt, outcome, error, "
                         "attempted_at) values (%s, %s, %s, %s, %s)",
                         (row["notification_id"], row["attempts"], outcome, None if error is None else str(error),
                          now))
    if error is not None:
        report.errors.append(str(error))


def deliver_due(conn: psycopg.Connection, transports: Transports, settings: notify.NotifySettings,
                now: datetime | None = None) -> DeliveryReport:
    """Send every due pending notification once; digest rows of one recipient and channel go as one message.
    ``now`` fixes the clock (tests of backoff); by default it is the real time."""
    def clock() -> datetime:
        return now or datetime.now(UTC)

    interrupted, rows = _claim(conn, clock())
    report = DeliveryReport(interrupted=interrupted)
    addresses = _addresses(conn, {r["recipient"] for r in rows if r["channel"] == "email"})
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        key = (row["channel"], row["recipient"]) if row["is_digest"] else ("one", row["notification_id"])
        groups[key].append(row)
    for group in groups.values():
        first = group[0]
        if len(group) == 1 and not first["is_digest"]:
            subject, body = first["subject"], first["body"]
        else:
            subject, body = notify.render_digest([(r["subject"], r["body"]) for r in group], clock())
        error = None
        try:
            if first["channel"] == "email":
                address = addresses.get(first["recipient"])
                if address is None:
                    raise DeliveryError(f"employee {first['recipient']} has no email address (or is not active) "
                                        "in raw.employees", transient=False)
            else:
                address = first["recipient"]
            transports.send(first["channel"], address, subject, body)
        except DeliveryError as failure:
            error = failure
        except Exception as failure:  # a bug in a transport: recorded as a permanent failure, never lost
            error = DeliveryError(f"{type(failure).__name__}: {failure}", transient=False)
        _record(conn, group, error, settings, clock(), report)
    return report


@dataclass
class NotifyPass:
    planned: int
    delivery: DeliveryReport
    unconfigured: list[str]

    def summary(self) -> str:
        text = f"{self.planned} new notifications; {self.delivery.summary()}"
        if self.unconfigured:
            text += ("; listed but not configured: " + ", ".join(self.unconfigured)
                     + " (set NOVORA_SMTP_HOST / NOVORA_WEBHOOK_URL)")
        return text


def load_notify_settings(conn: psycopg.Connection) -> notify.NotifySettings:
    keys = ("notification_channels", "notify.medium_digest", "notify.digest_hour_utc", "notify.max_attempts",
            "notify.retry_base_seconds")
    return notify.NotifySettings.from_settings(dict(conn.execute(
        "select setting_key, value from app.settings where setting_key = any(%s)", (list(keys),)).fetchall()))


def notify_pending(conn: psycopg.Connection, transports: Transports, now: datetime | None = None) -> NotifyPass:
    """One pass of the notification sensor: plan rows for new alerts, then send whatever is due."""
    settings = load_notify_settings(conn)
    channels, unconfigured = usable_channels(settings, transports)
    planned = plan_alert_notifications(conn, settings, channels, now or datetime.now(UTC))
    return NotifyPass(planned, deliver_due(conn, transports, settings, now), unconfigured)
