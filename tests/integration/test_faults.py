"""Faults that really happen, really caused: the database restarted mid-load, a landing file replaced while it is
being ingested, two deliveries of one survey at once, and a full disk. Each runs real Dagster runs against the
embedded PostgreSQL, and in each: no partial delivery is published, nothing is duplicated, the run recovers (a
load tries again on a new connection when the server comes back) or the next one does, and a failed run says why
in one line. (The daemon killed mid-run: test_fault_daemon.py.)

Each load is made to stop at a chosen point by holding a real lock from the test: a transaction that has read
``raw.responses`` holds its partitions, so a load waits just before it swaps in the new partition (its rows
already copied into the staging table); the load's advisory lock holds it before it writes anything.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from dagster._core.storage.tags import WILL_RETRY_TAG

from assets.ingestion.files import sha256_bytes
from assets.ingestion.landing import WatchState, plan
from orchestration import database
from orchestration.config import NovoraConfig, child_environment, load_config
from orchestration.definitions import build_definitions
from orchestration.jobs import build_survey_job, ingest_org_job, ingest_survey_job
from orchestration.partitions import survey_partitions
from orchestration.recovery import PROCESS_TAG
from orchestration.runner import _outcome, materialize_all, open_instance
from orchestration.sensors import loaded_files
from tests.landing_fixture import RESPONSES_1

pytestmark = pytest.mark.integration

SURVEY = "2026-01"
# The fixture's 11 valid rows (physical lines 1-13) delivered again without the 13 bad ones, r3's recognition
# corrected from 1 to 2: 11 delivered, 11 loaded, none rejected.
CORRECTED = "".join(RESPONSES_1.splitlines(keepends=True)[:13]).replace(
    "r3,2026-01,ops,2026-01-07T08:30:00Z,rec_1,1,", "r3,2026-01,ops,2026-01-07T08:30:00Z,rec_1,2,")
R3_RECOGNITION = "select score from raw.responses where survey_id = '2026-01' and response_id = 'r3' " \
                 "and question_id = 'rec_1'"


def run_job(home: str, landing: str, job_name: str, partition: str | None = None) -> tuple[bool, str | None, str]:
    """One real Dagster run in this process, recorded in the instance: (success, the one-line reason, run id)."""
    config = load_config({"NOVORA_HOME": home, "NOVORA_LANDING": landing})
    instance = open_instance(config)
    if partition and partition not in instance.get_dynamic_partitions(survey_partitions.name):
        instance.add_dynamic_partitions(survey_partitions.name, [partition])
    job = build_definitions(config).resolve_job_def(job_name)
    result = job.execute_in_process(instance=instance, partition_key=partition, raise_on_error=False,
                                    tags={"novora/trigger": "test_faults"})
    outcome = _outcome(job_name, result)
    return outcome.ok, outcome.error, result.run_id


def run_in_background(pool: ProcessPoolExecutor, config: NovoraConfig, job_name: str,
                      partition: str | None = None) -> Future:
    """The run in a process of its own, as a run worker would be."""
    return pool.submit(run_job, str(config.home), str(config.landing), job_name, partition)


@pytest.fixture
def loaded(novora_config: NovoraConfig, warehouse_url: str, fixture_landing: Path):
    """The fixture's org and survey 2026-01 loaded by real runs; returns (config, url)."""
    for job_name, partition in ((ingest_org_job.name, None), (ingest_survey_job.name, SURVEY)):
        ok, error, _ = run_job(str(novora_config.home), str(fixture_landing), job_name, partition)
        assert ok, error
    return novora_config, warehouse_url


@pytest.fixture
def pool():
    """Run workers of the test's own. A failed test leaves no worker behind: one still waiting on a lock would hold
    the pool's shutdown, and with it the suite, forever."""
    executor = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield executor
    finally:
        workers = list((executor._processes or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.kill()
            worker.join(timeout=30)


def snapshot(conn: psycopg.Connection) -> dict[str, list]:
    """Everything a load writes: the survey's rows, the ledger, the quarantine."""
    return {
        "responses": conn.execute("select response_id, question_id, score, comment, delivery_id from raw.responses "
                                  "where survey_id = %s order by 1, 2", (SURVEY,)).fetchall(),
        "deliveries": conn.execute("select delivery_id, dataset, survey_id, content_sha256, is_current "
                                   "from raw.deliveries order by 1").fetchall(),
        "quarantine": conn.execute("select delivery_id, dataset, line_number from quarantine.rejected_rows "
                                   "order by 1, 2, 3").fetchall(),
    }


def assert_one_clean_delivery(conn: psycopg.Connection, rows: int, rejected: int) -> None:
    """Exactly one current delivery per dataset, its rows once, its quarantine once, no staging left over."""
    current = conn.execute("select dataset, count(*) from raw.deliveries where is_current "
                           "group by dataset order by dataset").fetchall()
    assert current == [(d, 1) for d in ("employees", "invitations", "responses", "surveys", "teams")]
    assert conn.execute("select count(*), count(distinct (response_id, question_id)) from raw.responses "
                        "where survey_id = %s", (SURVEY,)).fetchone() == (rows, rows)
    assert conn.execute("select count(*) from quarantine.rejected_rows where dataset = 'responses'"
                        ).fetchone()[0] == rejected
    assert conn.execute("select rows_loaded, rows_rejected from raw.deliveries where is_current "
                        "and dataset = 'responses'").fetchone() == (rows, rejected)
    assert staging_tables(conn) == []


def staging_tables(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(r"select tablename from pg_tables where schemaname = 'raw' "
                                       r"and tablename like '%\_new'")]


def wait_for_waiting(conn: psycopg.Connection, query_like: str, count: int = 1, timeout: float = 180,
                     future: Future | None = None) -> None:
    """Until ``count`` other backends wait on a lock while running a statement like ``query_like``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = conn.execute("select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                               "and query ilike %s and pid <> pg_backend_pid()", (query_like,)).fetchone()[0]
        if waiting >= count:
            return
        if future is not None and future.done():
            raise AssertionError(f"the run ended before it reached the lock: {future.result()}")
        time.sleep(0.2)
    raise AssertionError(f"no run waited on {query_like!r} within {timeout} s")


@contextmanager
def holding_partitions(url: str) -> Iterator[psycopg.Connection]:
    """A transaction that has read raw.responses: a load waits for it just before swapping its partition in.
    Closed on the way out whatever happens, so that a failed test leaves no lock for the next one to wait on."""
    holder = psycopg.connect(url)
    try:
        holder.execute("select count(*) from raw.responses")
        yield holder
    finally:
        holder.close()


def deliver(landing: Path, text: str) -> bytes:
    """Replace the survey's responses.csv the way a delivery tool should: write aside, then rename over it."""
    target = landing / "surveys" / SURVEY / "responses.csv"
    aside = target.with_suffix(".partial")
    aside.write_text(text, encoding="utf-8")
    aside.replace(target)
    return text.encode()


# --------------------------------------------------------------------------------------- the faults


def test_the_database_restarted_mid_load_publishes_nothing_and_the_run_loads_it_on_a_new_connection(loaded, pool):
    config, url = loaded
    with psycopg.connect(url, autocommit=True) as conn:
        before = snapshot(conn)
    deliver(config.landing, CORRECTED)
    with holding_partitions(url):
        run = run_in_background(pool, config, ingest_survey_job.name, SURVEY)
        with psycopg.connect(url, autocommit=True) as watcher:
            wait_for_waiting(watcher, "drop table%", future=run)  # its 11 rows are in the staging table now
        database.stop_server(config)  # a fast shutdown: every session is ended, open transactions roll back
        database.ensure_server(config)

    ok, error, run_id = run.result(timeout=300)
    assert ok, error  # the step tried again on a new connection once the server was back
    with open_instance(config) as instance:
        said = [e.user_message for e in instance.all_logs(run_id) if "connection was lost" in e.user_message]
    assert 1 <= len(said) <= 3, said  # one attempt per 5 s while the server starts (longer on a loaded machine)
    assert said[0].startswith("raw/responses of survey 2026-01: the database connection was lost (")
    assert said[0].endswith("nothing was kept; trying again in 5 s (attempt 2 of 4)")
    with psycopg.connect(url, autocommit=True) as conn:
        after = snapshot(conn)
        assert_one_clean_delivery(conn, rows=11, rejected=0)
        assert conn.execute(R3_RECOGNITION).fetchone()[0] == 2
    # the interrupted attempt left nothing behind: one delivery more, the corrected one, written by the retry
    assert len(after["deliveries"]) == len(before["deliveries"]) + 1
    assert after["deliveries"][:-1] == [(*d[:4], d[4] and d[1] != "responses") for d in before["deliveries"]]


def test_a_file_replaced_while_it_is_ingested_loads_one_whole_version_and_the_next_run_the_other(loaded, pool):
    config, url = loaded
    first = deliver(config.landing, CORRECTED)
    with holding_partitions(url):
        run = run_in_background(pool, config, ingest_survey_job.name, SURVEY)
        with psycopg.connect(url, autocommit=True) as watcher:
            wait_for_waiting(watcher, "drop table%", future=run)  # the file was read and its rows copied
        # the original delivery comes back over it before the load commits
        second = deliver(config.landing, RESPONSES_1)
    ok, error, _ = run.result(timeout=300)
    assert ok, error

    with psycopg.connect(url, autocommit=True) as conn:
        # the load holds exactly the version it read, recorded under that version's hash: never a mixture
        assert_one_clean_delivery(conn, rows=11, rejected=0)
        assert conn.execute("select content_sha256 from raw.deliveries where is_current and dataset = 'responses'"
                            ).fetchone()[0] == sha256_bytes(first)
        assert conn.execute(R3_RECOGNITION).fetchone()[0] == 2
        # the landing sensor sees the file on disk is not what is loaded, and asks for a run of the survey
        decision, _ = plan(config.landing, WatchState(), {SURVEY}, False, now=time.time() + 3600,
                           loaded=loaded_files(conn))
    assert list(decision.run_surveys) == [SURVEY]

    ok, error, _ = run_job(str(config.home), str(config.landing), ingest_survey_job.name, SURVEY)
    assert ok, error
    with psycopg.connect(url, autocommit=True) as conn:
        assert_one_clean_delivery(conn, rows=11, rejected=13)
        assert conn.execute("select content_sha256 from raw.deliveries where is_current and dataset = 'responses'"
                            ).fetchone()[0] == sha256_bytes(second)
        assert conn.execute(R3_RECOGNITION).fetchone()[0] == 1


def test_two_deliveries_of_one_survey_at_once_load_once(loaded, pool):
    config, url = loaded
    deliver(config.landing, CORRECTED)
    with psycopg.connect(url, autocommit=True) as conn:
        deliveries_before = len(snapshot(conn)["deliveries"])
        # the test holds the survey's load lock: both runs read and check the file, then wait for it together
        conn.execute("select pg_advisory_lock(hashtext('novora:responses:2026-01'))")
        runs = [run_in_background(pool, config, ingest_survey_job.name, SURVEY) for _ in range(2)]
        wait_for_waiting(conn, "select pg_advisory_xact_lock%", count=2, timeout=240)
        conn.execute("select pg_advisory_unlock(hashtext('novora:responses:2026-01'))")
        outcomes = [run.result(timeout=300) for run in runs]
        assert all(ok for ok, _, _ in outcomes), outcomes

        assert_one_clean_delivery(conn, rows=11, rejected=0)
        # one new delivery in the ledger: the second run found the same file already loaded under the lock
        assert len(snapshot(conn)["deliveries"]) == deliveries_before + 1
        assert conn.execute(R3_RECOGNITION).fetchone()[0] == 2


class FullDisk:
    """A 1 MiB filesystem as a tablespace: ``fill()`` fills it and makes it where new warehouse tables go, so that
    the next write there fails with ENOSPC; ``free()`` gives the space back, as an operator would."""

    def __init__(self, mount: Path, url: str):
        self.mount, self.url, self.admin = mount, url, database.with_database(url, "postgres")

    def fill(self) -> None:
        fd = os.open(self.mount / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for size in (1 << 16, 1 << 12, 1 << 9):  # until not one page is left
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    continue
        finally:
            os.close(fd)
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f"alter database {database.WAREHOUSE_DB} set default_tablespace = full_disk")

    def free(self) -> None:
        (self.mount / "filler").unlink()


def test_a_killed_novora_materialize_leaves_no_run_in_flight_and_the_next_one_loads_it(loaded):
    """`novora materialize` executes its runs in its own process: killed (SIGKILL) while it loads a survey, its
    run stays STARTED in Dagster's storage and nothing is published; the next `novora materialize` marks that run
    failed with the reason (not retried: the command loads it itself) and loads the delivery once."""
    config, url = loaded
    with psycopg.connect(url, autocommit=True) as conn:
        before = snapshot(conn)
    deliver(config.landing, CORRECTED)
    novora = Path(sys.executable).parent / "novora"
    log = config.home / "killed-materialize.log"
    with holding_partitions(url), open(log, "w") as out:
        command = subprocess.Popen([str(novora), "materialize"], env=child_environment(config), stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            with psycopg.connect(url, autocommit=True) as watcher:
                wait_for_waiting(watcher, "drop table%", timeout=300)  # its rows are in the staging table now
        finally:
            command.kill()
            command.wait(timeout=60)
    with open_instance(config) as instance:
        [killed] = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED],
                                                   tags={PROCESS_TAG: f"{socket.gethostname()}:{command.pid}"}))
        assert killed.job_name == ingest_survey_job.name
    with psycopg.connect(url, autocommit=True) as conn:
        # the killed client's transaction rolls back once the lock is free: its server session ends with it
        deadline = time.monotonic() + 60
        while staging_tables(conn) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert snapshot(conn) == before and staging_tables(conn) == []

    said: list[str] = []
    summary = materialize_all(config, build_definitions(config), echo=said.append)
    assert summary.ok, [(s.name, s.error, s.failed_checks) for s in summary.steps if not s.ok]
    assert said[0] == (f"run {killed.run_id} of ingest_survey marked failed: novora materialize (pid {command.pid}) "
                       "stopped before the run finished: it was killed or the machine stopped; the run is not "
                       "retried, run `novora materialize` again")
    with open_instance(config) as instance:
        failed = instance.get_run_by_id(killed.run_id)
        assert failed.status == dg.DagsterRunStatus.FAILURE and failed.tags[WILL_RETRY_TAG] == "false"
        assert instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED],
                                               tags={"novora/trigger": "novora materialize"})) == []
    with psycopg.connect(url, autocommit=True) as conn:
        assert_one_clean_delivery(conn, rows=11, rejected=0)
        assert conn.execute(R3_RECOGNITION).fetchone()[0] == 2


@pytest.fixture
def full_disk(loaded):
    config, url = loaded
    mount = Path(tempfile.mkdtemp(prefix="full-disk-", dir=config.home))  # the server can reach into its home
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True,
                       capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"this machine cannot mount a small filesystem to fill: {exc}")
    if os.geteuid() == 0:  # the embedded server runs as the pgserver user
        shutil.chown(mount, "pgserver", "pgserver")
    disk = FullDisk(mount, url)
    with psycopg.connect(disk.admin, autocommit=True) as conn:
        conn.execute(f"create tablespace full_disk location '{mount}'")
    try:
        yield disk
    finally:
        try:
            with psycopg.connect(disk.admin, autocommit=True) as conn:
                conn.execute(f"alter database {database.WAREHOUSE_DB} reset default_tablespace")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("alter table all in tablespace full_disk set tablespace pg_default")
                conn.execute("alter index all in tablespace full_disk set tablespace pg_default")
            with psycopg.connect(disk.admin, autocommit=True) as conn:
                conn.execute("drop tablespace full_disk")
        finally:
            subprocess.run(["umount", "--lazy", str(mount)], check=False)
            mount.rmdir()


def test_a_full_disk_fails_the_load_with_the_reason_and_the_next_run_after_space_is_freed_loads_it(loaded,
                                                                                                  full_disk):
    config, url = loaded
    with psycopg.connect(url, autocommit=True) as conn:
        before = snapshot(conn)
    deliver(config.landing, CORRECTED)
    full_disk.fill()

    ok, error, _ = run_job(str(config.home), str(config.landing), ingest_survey_job.name, SURVEY)
    assert not ok
    assert error.startswith("raw/responses of survey 2026-01 was not loaded: the database server is out of disk "
                            "space (could not extend file"), error
    assert "No space left on device" in error
    with psycopg.connect(url, autocommit=True) as conn:
        assert snapshot(conn) == before
        assert staging_tables(conn) == []

    full_disk.free()  # the operator frees space
    ok, error, _ = run_job(str(config.home), str(config.landing), ingest_survey_job.name, SURVEY)
    assert ok, error
    with psycopg.connect(url, autocommit=True) as conn:
        assert_one_clean_delivery(conn, rows=11, rejected=0)
        assert conn.execute(R3_RECOGNITION).fetchone()[0] == 2


def many_responses(respondents: int, first_recognition: int) -> str:
    """A survey's responses.csv with three scored answers per respondent (enough rows to need new pages)."""
    lines = ["response_id,survey_id,team_id,submitted_at,question_id,score,comment"]
    for i in range(respondents):
        team = "eng" if i % 2 else "ops"
        scores = {"rec_1": first_recognition if i == 0 else 1 + i % 10, "gro_1": 1 + (i * 7) % 10, "enps": i % 11}
        lines += [f"p{i},2026-01,{team},2026-01-06T10:00:00Z,{q},{score}," for q, score in scores.items()]
    return "\n".join(lines) + "\n"


def test_a_full_disk_during_a_surveys_dbt_build_keeps_its_published_rows(loaded, full_disk):
    """The survey's incremental models (delete the survey, insert it again, in one transaction) run out of space
    half way: each keeps the survey's rows as they were; after space is freed the next build replaces them."""
    config, url = loaded
    scored = "select response_id, question_id, score from intermediate.int_answers_scored order by 1, 2"
    deliver(config.landing, many_responses(300, first_recognition=1))
    for job_name in (ingest_survey_job.name, build_survey_job.name):
        ok, error, _ = run_job(str(config.home), str(config.landing), job_name, SURVEY)
        assert ok, error
    deliver(config.landing, many_responses(300, first_recognition=2))
    ok, error, _ = run_job(str(config.home), str(config.landing), ingest_survey_job.name, SURVEY)
    assert ok, error  # raw is on the roomy disk; the survey's scored answers are moved to the full one
    with psycopg.connect(url, autocommit=True) as conn:
        before = conn.execute(scored).fetchall()
        assert len(before) == 900 and ("p0", "rec_1", 1) in before
        conn.execute("alter table intermediate.int_answers_scored set tablespace full_disk")
    full_disk.fill()

    ok, error, _ = run_job(str(config.home), str(config.landing), build_survey_job.name, SURVEY)
    assert not ok
    assert error.startswith("dbt build failed: int_answers_scored: could not extend file "), error
    assert "No space left on device. A failed model keeps what it held before this run" in error
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute(scored).fetchall() == before  # the survey's rows as they were, not a part of them

    full_disk.free()
    ok, error, _ = run_job(str(config.home), str(config.landing), build_survey_job.name, SURVEY)
    assert ok, error
    with psycopg.connect(url, autocommit=True) as conn:
        after = conn.execute(scored).fetchall()
    assert len(after) == 900 and ("p0", "rec_1", 2) in after
    assert [r for r in after if r[:2] != ("p0", "rec_1")] == [r for r in before if r[:2] != ("p0", "rec_1")]
