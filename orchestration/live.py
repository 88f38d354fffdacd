"""A live Novora: the real Dagster daemon over one home, and a survey's way from the landing zone to the
notifications it causes, timed.

The daemon runs every sensor (landing, warehouse automation, alert notifications) and launches the runs they
request, exactly as in production; nothing here clicks or calls a job. ``novora bench`` uses this to measure
the latency from a survey folder landing to its first alert email at benchmark scale; the integration tests use
it to check that a dropped survey folder leads to alerts and emails without manual action.

The warehouse is polled once a second. The survey's rows in ``raw``, its survey models and its marts are
timed by that poll (one second's resolution); the evaluation that found its alerts and its first and last
notifications by the times the warehouse recorded; the first email by the moment the SMTP receiver got it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import dagster as dg
import psycopg
from dagster._core.scheduler.instigation import TickStatus

from orchestration.automation import ACTIVE_RUN_STATUSES
from orchestration.config import NovoraConfig, child_environment
from orchestration.demo import daemon_service, launch, stop_all
from orchestration.instance import storage_environment
from orchestration.receivers import Mail, Receivers
from orchestration.runner import open_instance

Progress = Callable[[str], None]

# raw -> survey models -> marts, and the comments' own path (enriched, then in the marts that read them): when
# the survey's rows first appear at each stage
MILESTONE_QUERIES = {
    "ingested": "select exists (select 1 from raw.deliveries where survey_id = %(s)s and dataset = 'responses' "
                "and is_current)",
    "survey_models": "select exists (select 1 from intermediate.int_answers_scored where survey_id = %(s)s)",
    "marts": "select exists (select 1 from marts.engagement where survey_id = %(s)s)",
    "comments_enriched": "select exists (select 1 from nlp.comment_enrichment where survey_id = %(s)s)",
    "comment_marts": "select exists (select 1 from marts.comment_insights where survey_id = %(s)s "
                     "and n_comments > 0)",
}
# when an evaluation of the rules recorded after the survey's marts were there found alerts of the survey
EVALUATED = """
    select min(evaluated_at) from alerts.evaluations where evaluated_at >= to_timestamp(%(since)s)
    and exists (select 1 from alerts.alerts where survey_id = %(s)s and still_holds)"""
# when the survey's first and last notifications went out after it landed (a RECURRING alert notified before
# carries the newest survey it was seen in, so its earlier notifications now name this survey too)
SENT = """
    select min(n.sent_at), max(n.sent_at) from alerts.notifications as n join alerts.alerts as a using (alert_id)
    where a.survey_id = %(s)s and n.status = 'sent' and n.sent_at >= to_timestamp(%(since)s)"""
QUIET_SECONDS = 75  # two ticks of the automation sensor (30 s) and then some: nothing more is coming
# every current alert of the survey has its notifications, and none is still waiting to go out
ALL_NOTIFIED = """
    select not exists (select 1 from alerts.alerts as a where a.survey_id = %(s)s and a.still_holds
                       and a.status = 'open'
                       and not exists (select 1 from alerts.notifications as n where n.alert_id = a.alert_id))
       and not exists (select 1 from alerts.notifications as n join alerts.alerts as a using (alert_id)
                       where a.survey_id = %(s)s and n.status in ('pending', 'sending') and not n.is_digest)"""


class LiveError(RuntimeError):
    """The live pipeline did not get where it should in time; the message says how far it got."""


@dataclass(frozen=True)
class Latency:
    """Seconds from the survey folder landing to each milestone (None: not reached before the deadline)."""

    survey_id: str
    ingested: float | None = None
    survey_models: float | None = None
    marts: float | None = None
    alerts: float | None = None
    notified: float | None = None
    first_email: float | None = None
    comments_enriched: float | None = None
    comment_marts: float | None = None
    all_notified: float | None = None
    emails: int = 0

    def figures(self) -> dict[str, object]:
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def survey_mails(mails: list[Mail], survey_id: str) -> list[Mail]:
    """The alert emails about one survey (their subject ends with it: see ``notify.render_alert``)."""
    return [m for m in mails if m.subject.endswith(f", {survey_id}")]


def land(staged: Path, landing: Path) -> float:
    """Move a complete survey folder into the landing zone in one rename, as a delivery tool should (the landing
    sensor also waits for files still being written); returns the moment it landed (``time.time()``)."""
    target = landing / "surveys" / staged.name
    if target.exists():
        raise LiveError(f"{target} is already in the landing zone")
    target.parent.mkdir(parents=True, exist_ok=True)
    landed_at = time.time()
    os.replace(staged, target)
    return landed_at


@contextlib.contextmanager
def running_daemon(config: NovoraConfig, receivers: Receivers | None = None) -> Iterator[Path]:
    """The Dagster daemon over ``config``'s home (and its code server, run workers) until the block ends; alert
    notifications go to ``receivers``. Yields the daemon's log file."""
    open_instance(config)  # database, migrations, dagster.yaml
    env = {**child_environment(config), **storage_environment(config), **(receivers.env() if receivers else {})}
    config.logs.mkdir(parents=True, exist_ok=True)
    service = launch(daemon_service(), env, config.logs / "live-daemon.log")
    try:
        yield config.logs / "live-daemon.log"
    finally:
        stop_all([service])


def wait_until_sensors_ticked(config: NovoraConfig, sensors: tuple[str, ...], timeout: float,
                              since: float | None = None) -> None:
    """Block until each of ``sensors`` has completed a tick after ``since`` (default: now): the daemon is up,
    the code location loaded, and the automation sensor has made its first evaluation."""
    since = time.time() if since is None else since
    instance = dg.DagsterInstance.from_config(str(config.dagster_home))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            pending = [name for name in sensors if not _ticked_since(instance, name, since)]
            if not pending:
                return
            time.sleep(2)
        raise LiveError(f"the daemon's sensors {', '.join(pending)} did not tick within {timeout:.0f} s "
                        f"(see {config.logs / 'live-daemon.log'})")
    finally:
        instance.dispose()


def _ticked_since(instance: dg.DagsterInstance, sensor_name: str, since: float) -> bool:
    done = [TickStatus.SUCCESS, TickStatus.SKIPPED]
    return any(tick.timestamp >= since
               for state in instance.all_instigator_state() if state.name == sensor_name
               for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1,
                                              statuses=done))


def follow(config: NovoraConfig, url: str, survey_id: str, landed_at: float, receivers: Receivers,
           timeout: float, progress: Progress = lambda m: None, poll_seconds: float = 1.0,
           quiet_seconds: float = QUIET_SECONDS) -> Latency:
    """Poll until the survey's alerts have all gone out after an evaluation of its marts and no run has been in
    flight for ``quiet_seconds`` (the automation may still start one on its next tick: the comments reach their
    marts on a path of their own), or until ``timeout`` seconds after it landed. Returns the milestones reached,
    in seconds since ``landed_at``; ``all_notified`` is when the survey's last notification was sent."""
    reached: dict[str, float] = {}
    quiet_since: float | None = None
    sent_params = {"s": survey_id, "since": landed_at}

    def reach(name: str, at: float) -> None:
        reached[name] = at - landed_at
        progress(f"  {name} after {reached[name]:.0f} s")

    with dg.DagsterInstance.from_config(str(config.dagster_home)) as instance, \
            psycopg.connect(url, autocommit=True) as conn:
        while time.time() - landed_at < timeout:
            now = time.time()
            for name, query in MILESTONE_QUERIES.items():
                if name not in reached and _holds(conn, query, {"s": survey_id}):
                    reach(name, now)
            if "marts" in reached and "alerts" not in reached:
                evaluated = conn.execute(EVALUATED, {"s": survey_id,
                                                     "since": landed_at + reached["marts"] - poll_seconds}).fetchone()
                if evaluated[0] is not None:
                    reach("alerts", evaluated[0].timestamp())
            if "alerts" in reached and "notified" not in reached:
                first_sent = conn.execute(SENT, sent_params).fetchone()[0]
                if first_sent is not None:
                    reach("notified", first_sent.timestamp())
            settled = "notified" in reached and _holds(conn, ALL_NOTIFIED, {"s": survey_id}) \
                and _in_flight(instance) == 0
            quiet_since = (quiet_since or now) if settled else None
            if quiet_since is not None and now - quiet_since >= quiet_seconds:
                reach("all_notified", conn.execute(SENT, sent_params).fetchone()[1].timestamp())
                break
            time.sleep(poll_seconds)
    mails = survey_mails(receivers.smtp.mails, survey_id)
    first = min((m.received_at for m in mails), default=None)
    return Latency(survey_id=survey_id, **reached, first_email=None if first is None else first - landed_at,
                   emails=len(mails))


def _holds(conn: psycopg.Connection, query: str, params: dict) -> bool:
    try:
        return bool(conn.execute(query, params).fetchone()[0])
    except psycopg.errors.UndefinedTable:  # a model dbt has not built yet in this warehouse
        return False


def runs_in_flight(config: NovoraConfig) -> int:
    """Runs queued or running in the instance (after the notifications, the pipeline should come to rest)."""
    with dg.DagsterInstance.from_config(str(config.dagster_home)) as instance:
        return _in_flight(instance)


def _in_flight(instance: dg.DagsterInstance) -> int:
    return len(instance.get_run_ids(filters=dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES)))
