"""The daemon killed during a run and started again (issue 7, build point 7): no partial partition is published,
no row or alert is duplicated, the run is recovered, and the operator is told why.

Everything is real: dagster-daemon (its code server and the run worker it starts), the embedded PostgreSQL (a
server of this test's own), dbt, an SMTP server and a webhook receiver on 127.0.0.1. The landing zone is
tests/alerts_fixture.py's: January and February are loaded first (`novora materialize`), March is dropped in while
the daemon runs, and its land_survey run is caught in the middle of loading its responses: the test holds a lock
on raw.responses that the load needs to publish the survey's partition (ATTACH PARTITION), so the run's
transaction has copied March's rows into a staging table and waits. Then the daemon's whole process group gets
SIGKILL (a machine crash, an OOM kill), the run worker with it. Dagster's storage still says STARTED.

The daemon started again: the ``orphaned_runs`` sensor (orchestration/recovery.py) finds that the worker's process
is gone and marks the run failed with the reason, the admins are emailed that reason, and Dagster's run retries
re-execute the run from the step it stopped in. March then ends loaded exactly once, with exactly its two alerts
(LOW_SCORE and RECURRING for team ``low``), each emailed once, and nothing is left in flight.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from dagster._core.storage.tags import PARENT_RUN_ID_TAG, PARTITION_NAME_TAG

from orchestration import database
from orchestration.automation import ACTIVE_RUN_STATUSES
from orchestration.config import child_environment, load_config
from orchestration.definitions import build_definitions
from orchestration.demo import daemon_service, launch, stop_all
from orchestration.instance import storage_environment
from orchestration.live import land, running_daemon, wait_until_sensors_ticked
from orchestration.receivers import Receivers
from orchestration.recovery import RETRIED, read_process, recorded_worker
from orchestration.runner import materialize_all, open_instance
from tests.alerts_fixture import EXPECTED, RESPONSES, expected_mail, mail_keys, write_alerts_landing

pytestmark = pytest.mark.integration

SURVEY = "2026-03"
# March's rows: three scores per respondent, one more row per comment
EXPECTED_ROWS = sum(3 + (comment is not None) for team in RESPONSES[SURVEY].values() for *_, comment in team)


@pytest.fixture
def fault_home():
    home = Path(tempfile.mkdtemp(prefix="novora-fault-"))  # not under pytest's basetemp: see tests/conftest.py
    yield home
    database.stop_server(load_config({"NOVORA_HOME": str(home)}))
    shutil.rmtree(home, ignore_errors=True)


def tail(log: Path, n: int = 4000) -> str:
    return log.read_text(errors="replace")[-n:] if log.exists() else "(no daemon log)"


def wait_until(what: str, check: Callable[[], object], timeout: float, log: Path, poll: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"{what}: not within {timeout:.0f} s\n{tail(log)}")


class Phases:
    """How long each phase took, printed when the test ends (pytest -s shows it; -rA too)."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.lines: list[str] = []

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.lines.append(f"{name:<58}{now - self.last:6.1f} s  (at {now - self.started:6.1f} s)")
        self.last = now

    def report(self) -> None:
        print("\n" + "\n".join(self.lines))


def land_survey_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter(job_name="land_survey", tags={PARTITION_NAME_TAG: SURVEY})))


def waiting_on(conn: psycopg.Connection, holder: int) -> list[tuple[int, str]]:
    """Backends waiting for a lock that ``holder`` (a backend pid) holds: (pid, query)."""
    return conn.execute("select pid, query from pg_stat_activity where %s = any(pg_blocking_pids(pid))",
                        (holder,)).fetchall()


@pytest.fixture
def phases():
    timed = Phases()
    yield timed
    timed.report()


@pytest.mark.timeout(900)  # 6 to 7 minutes here (two cores)
def test_a_run_interrupted_by_a_killed_daemon_is_failed_with_a_reason_and_recovered(fault_home, phases):
    landing = write_alerts_landing(fault_home / "landing")
    staged = fault_home / "incoming" / SURVEY
    staged.parent.mkdir()
    os.replace(landing / "surveys" / SURVEY, staged)
    config = load_config({"NOVORA_HOME": str(fault_home), "NOVORA_LANDING": str(landing)})
    summary = materialize_all(config, build_definitions(config), echo=lambda m: None)
    assert summary.ok, [(s.name, s.error, s.failed_checks) for s in summary.steps if not s.ok]
    url = database.ensure_server(config)
    phases.done("materialise the org, January and February")
    backlog = expected_mail({"2026-01", "2026-02"})
    instance = open_instance(config)
    env = {**child_environment(config), **storage_environment(config)}
    config.logs.mkdir(parents=True, exist_ok=True)
    log = config.logs / "live-daemon.log"

    with Receivers() as receivers, psycopg.connect(url, autocommit=True) as watch, \
            psycopg.connect(url) as locker:
        daemon = launch(daemon_service(), {**env, **receivers.env()}, log)
        try:
            wait_until_sensors_ticked(config, ("landing_sensor", "orphaned_runs"), timeout=240)
            # the alerts already raised go out first: none is left mid-send when the daemon is killed
            assert receivers.smtp.wait_for(len(backlog), timeout=180), tail(log)
            phases.done("first daemon up, January's and February's alerts sent")

            # March's load may copy its rows, but not publish them: ATTACH PARTITION waits for this lock
            locker.execute("lock table raw.responses in share update exclusive mode")
            holder = locker.info.backend_pid
            land(staged, landing)

            def caught_mid_load():
                runs = [r for r in land_survey_runs(instance) if r.status == dg.DagsterRunStatus.STARTED]
                worker = recorded_worker(instance, runs[0].run_id) if runs else None
                waiting = waiting_on(watch, holder)
                return (runs[0], worker, waiting) if worker and waiting else None

            run, worker, waiting = wait_until("March's land_survey run waiting on the lock", caught_mid_load,
                                              timeout=240, log=log)
            [(backend, query)] = waiting
            assert "attach partition" in query.lower(), query
            # its staging table (created, filled and indexed in its transaction) is invisible to everyone else
            unseen = watch.execute("select count(*) from pg_locks where pid = %s and locktype = 'relation' and "
                                   "relation not in (select oid from pg_class)", (backend,)).fetchone()[0]
            assert unseen > 0, "the run's transaction holds tables of its own: March's rows copied, not published"
            phases.done("March landed, its run caught mid-load (worker pid known)")

            os.killpg(daemon.process.pid, signal.SIGKILL)  # the daemon, its code server, the run worker
            daemon.process.wait()
            wait_until("the run worker dies with the daemon",
                       lambda: (p := read_process(worker.pid)) is None or p.zombie, timeout=30, log=log, poll=0.2)
        finally:
            stop_all([daemon])  # the group is gone already; this closes the log
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # stuck, as it would be
        locker.rollback()  # released: the orphaned backend takes the lock, finds its client gone and rolls back
        wait_until("the dead run's backend ends",
                   lambda: not watch.execute("select 1 from pg_stat_activity where pid = %s", (backend,)).fetchone(),
                   timeout=60, log=log, poll=0.2)
        assert published(watch) == (0, 0, 0), "nothing of March published"
        phases.done("daemon killed: worker gone, run STARTED, nothing published")

        restarted = time.time()
        with running_daemon(config, receivers) as log:
            failed = wait_until("the orphaned run marked failed",
                                lambda: (r := instance.get_run_by_id(run.run_id)).status
                                == dg.DagsterRunStatus.FAILURE and r, timeout=240, log=log)
            phases.done("daemon restarted, orphaned run marked failed")
            retry = wait_until("the run retried", lambda: next(
                (r for r in land_survey_runs(instance) if r.tags.get(PARENT_RUN_ID_TAG) == run.run_id), None),
                timeout=120, log=log)
            retry = wait_until("the retry finished", lambda: (r := instance.get_run_by_id(retry.run_id)).is_finished
                               and r, timeout=420, log=log)
            assert retry.status == dg.DagsterRunStatus.SUCCESS, tail(log)
            phases.done("retry re-executed from the failed step and succeeded")
            march = expected_mail({SURVEY})
            wait_until("March's alerts and the run failure emailed",
                       lambda: len(alert_mails(receivers)) >= len(backlog) + len(march)
                       and run_failure_mails(receivers), timeout=180, log=log)
            phases.done("March's alerts and the run failure emailed")
            # Nothing is stuck: no run from before the retry ended is still in flight, and the automation, which
            # waits while a landing run is in flight, takes up March's comments. (Its chain of runs after a
            # landing, comments, comment marts, alerts, takes minutes more here; tests/integration/
            # test_live_alerts.py follows it to the end.)
            retry_ended = instance.get_run_record_by_id(retry.run_id).end_time
            try:
                wait_until("the automation's run for March's comments", lambda: [
                    r for r in instance.get_runs(filters=dg.RunsFilter(
                        created_after=datetime.fromtimestamp(retry_ended, tz=UTC)))
                    if r.job_name == "__ASSET_JOB" and r.tags.get(PARTITION_NAME_TAG) == SURVEY], timeout=150,
                    log=log)
                left = instance.get_run_records(filters=dg.RunsFilter(
                    statuses=ACTIVE_RUN_STATUSES, created_before=datetime.fromtimestamp(retry_ended, tz=UTC)))
            finally:
                phases.lines += runs_since(instance, restarted)
            assert left == [], [r.dagster_run.run_id for r in left]
            # while the run waited for its retry and while the retry ran, the automation held back (a run
            # about to be retried counts as in flight: orchestration/automation.py)
            beside = [r.run_id for r in instance.get_runs(filters=dg.RunsFilter(
                created_after=datetime.fromtimestamp(restarted, tz=UTC),
                created_before=datetime.fromtimestamp(retry_ended, tz=UTC))) if r.run_id != retry.run_id]
            assert beside == [], beside
            phases.done("no run left in flight; the automation took over")

    reason = f"run worker (pid {worker.pid}) is gone: the daemon or the machine stopped during the run; {RETRIED}"
    failure = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    assert [r.event_log_entry.dagster_event.message for r in failure] == [reason]
    assert failed.tags.get("dagster/failure_reason") == "UNEXPECTED_TERMINATION"
    # the admin is told the reason, once
    [told] = run_failure_mails(receivers)
    assert f"Error: {reason}" in told.body and run.run_id in told.body, told.body
    assert failure[0].event_log_entry.timestamp >= restarted
    # only the run that was cut off was retried, once
    assert [r.run_id for r in land_survey_runs(instance) if r.tags.get(PARENT_RUN_ID_TAG)] == [retry.run_id]

    with psycopg.connect(url) as conn:
        rows, distinct = conn.execute(
            "select count(*), count(distinct (survey_id, response_id, question_id)) from raw.responses "
            "where survey_id = %s", (SURVEY,)).fetchone()
        assert rows == distinct == EXPECTED_ROWS
        current = dict(conn.execute(
            "select dataset, count(*) from raw.deliveries where survey_id = %s and is_current group by dataset",
            (SURVEY,)).fetchall())
        assert current == {"surveys": 1, "invitations": 1, "responses": 1}, current
        assert conn.execute("select rows_loaded from raw.deliveries where survey_id = %s and is_current "
                            "and dataset = 'responses'", (SURVEY,)).fetchone()[0] == EXPECTED_ROWS
        assert staging_tables(conn) == []
        assert conn.execute("select count(*), count(distinct dedup_key) from alerts.alerts").fetchone() == \
            (len(EXPECTED), len(EXPECTED))
        march_alerts = conn.execute("select alert_type, team_id from alerts.alerts where survey_id = %s "
                                    "order by 1, 2", (SURVEY,)).fetchall()
        assert march_alerts == sorted((k[0], k[2]) for k in EXPECTED if k[1] == SURVEY)
    assert mail_keys(alert_mails(receivers)) == sorted(backlog + march)  # each alert emailed exactly once


def runs_since(instance: dg.DagsterInstance, since: float) -> list[str]:
    """One line per run created after ``since``: job, status, seconds it ran, what it built."""
    lines = []
    for record in reversed(instance.get_run_records(filters=dg.RunsFilter(
            created_after=datetime.fromtimestamp(since, tz=UTC)))):
        run = record.dagster_run
        took = (record.end_time or time.time()) - (record.start_time or time.time())
        assets = sorted(k.to_user_string() for k in run.asset_selection or ())
        lines.append(f"  run {run.run_id[:8]} {run.job_name:<16}{run.status.value:<10}{took:6.1f} s  "
                     f"{run.tags.get(PARTITION_NAME_TAG, '')} {', '.join(assets)[:150]}")
    return lines


def published(conn: psycopg.Connection) -> tuple[int, int, int]:
    """March's rows in raw.responses, its current responses deliveries, and staging tables left over."""
    rows = conn.execute("select count(*) from raw.responses where survey_id = %s", (SURVEY,)).fetchone()[0]
    current = conn.execute("select count(*) from raw.deliveries where survey_id = %s and dataset = 'responses' "
                           "and is_current", (SURVEY,)).fetchone()[0]
    return rows, current, len(staging_tables(conn))


def staging_tables(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "select tablename from pg_tables where schemaname = 'raw' and tablename like 'responses\\_%\\_new'")]


def alert_mails(receivers: Receivers) -> list:
    return [m for m in receivers.smtp.mails if m.subject.startswith(("[Novora] HIGH ", "[Novora] MEDIUM "))]


def run_failure_mails(receivers: Receivers) -> list:
    return [m for m in receivers.smtp.mails if m.subject.startswith("[Novora] run failed: land_survey")]
