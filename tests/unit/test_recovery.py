"""orchestration/recovery.py: when a run's worker counts as gone, with real processes (a killed ``sleep`` for a
dead pid, this test's own Python process for a live one, a ``sleep`` for a pid reused by another program), and
what marking such a run failed does in a real Dagster instance (SQLite, in a temporary folder): the run fails
with the reason, and Dagster's run retries, configured as in orchestration/instance.py, will re-execute it, while
a run failed by a step is not retried."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData, JobFailureData, RunFailureReason
from dagster._core.instance_for_test import instance_for_test
from dagster._core.storage.tags import RUN_FAILURE_REASON_TAG, WILL_RETRY_TAG
from dagster._core.test_utils import create_run_for_test

from orchestration import recovery
from orchestration.instance import dagster_yaml
from orchestration.recovery import (
    START_GRACE_SECONDS,
    Process,
    Worker,
    fail_orphans,
    find_orphans,
    launcher_checks_its_workers,
    orphan_reason,
    read_process,
    recorded_worker,
    worker_alive,
)

STARTED, STARTING = dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING
GONE = ("run worker (pid {pid}) is gone: the daemon or the machine stopped during the run; "
        "Novora marked the run failed so that it is retried")

pytestmark = pytest.mark.skipif(not recovery.can_see_processes(), reason="needs Linux's /proc")


def dead_pid() -> int:
    child = subprocess.Popen(["sleep", "60"])
    child.kill()
    child.wait()
    return child.pid


@pytest.fixture
def sleeper():
    child = subprocess.Popen(["sleep", "60"])
    yield child
    child.kill()
    child.wait()


def this_process() -> Process:
    process = read_process(os.getpid())
    assert process is not None
    return process


# ---------------------------------------------------------------- the decision


def test_a_worker_whose_process_runs_is_left_alone():
    me, now = this_process(), time.time()
    worker = Worker(os.getpid(), recorded_at=now - 1)  # recorded after this process started
    assert worker_alive(worker, me, now)
    assert orphan_reason(STARTED, worker, me, launched_at=now - 5, now=now) is None
    assert orphan_reason(STARTING, worker, me, launched_at=now - 5, now=now) is None


def test_a_worker_whose_process_is_gone_is_an_orphan_with_one_clear_line():
    pid = dead_pid()
    assert read_process(pid) is None
    worker, now = Worker(pid, recorded_at=time.time() - 30), time.time()
    assert not worker_alive(worker, None, now)
    assert orphan_reason(STARTED, worker, None, launched_at=None, now=now) == GONE.format(pid=pid)
    assert "\n" not in GONE


def test_a_zombie_worker_is_gone():
    child = subprocess.Popen(["sleep", "60"])
    try:
        child.kill()  # not waited for: a zombie until it is
        deadline = time.monotonic() + 10
        while (process := read_process(child.pid)) is not None and not process.zombie:
            assert time.monotonic() < deadline, "the killed child never became a zombie"
            time.sleep(0.05)
        assert process is not None and process.zombie
        now = time.time()
        assert orphan_reason(STARTED, Worker(child.pid, now - 30), process, None, now) == GONE.format(pid=child.pid)
    finally:
        child.wait()


def test_a_pid_now_held_by_another_program_is_gone(sleeper):
    process = read_process(sleeper.pid)
    assert process is not None and process.cmdline[0] == "sleep"
    now = time.time()
    worker = Worker(sleeper.pid, recorded_at=now)  # even recorded after it started: `sleep` is no run worker
    assert not worker_alive(worker, process, now)
    reason = orphan_reason(STARTED, worker, process, None, now)
    assert reason is not None and "(its pid now belongs to another process)" in reason


def test_a_pid_reused_by_a_python_process_started_after_the_worker_recorded_it_is_gone():
    me, now = this_process(), time.time()
    before_me = now - me.age_seconds - 60  # the pid was recorded a minute before this process started
    assert not worker_alive(Worker(os.getpid(), before_me), me, now)
    # started a moment before it recorded its pid, as a worker does; or the wall clock stepped forward a little
    assert worker_alive(Worker(os.getpid(), now - me.age_seconds + 3), me, now)
    assert worker_alive(Worker(os.getpid(), now - me.age_seconds - 10), me, now)


def test_a_run_without_a_worker_pid_gets_a_grace_after_its_launch():
    now = time.time()
    assert orphan_reason(STARTING, None, None, launched_at=now - 10, now=now) is None
    assert orphan_reason(STARTING, None, None, launched_at=now - START_GRACE_SECONDS + 1, now=now) is None
    late = orphan_reason(STARTING, None, None, launched_at=now - START_GRACE_SECONDS, now=now)
    assert late is not None and late.startswith(f"run worker never started within {START_GRACE_SECONDS:.0f} s")
    # executed in process (novora materialize): never launched, so nothing to check however old it is
    assert orphan_reason(STARTED, None, None, launched_at=None, now=now) is None
    assert orphan_reason(STARTING, None, None, launched_at=None, now=now) is None
    # STARTED with no worker pid: not a worker of the default launcher
    assert orphan_reason(STARTED, None, None, launched_at=now - 3600, now=now) is None


@pytest.mark.parametrize("status", [s for s in dg.DagsterRunStatus if s not in (STARTED, STARTING)])
def test_only_runs_in_flight_are_looked_at(status):
    now = time.time()
    assert orphan_reason(status, Worker(dead_pid(), now - 30), None, now - 300, now) is None
    assert orphan_reason(status, None, None, now - 3600, now) is None


def test_proc_stat_with_spaces_and_parentheses_in_the_command_name(tmp_path: Path):
    (tmp_path / "42").mkdir()
    hz = os.sysconf("SC_CLK_TCK")
    rest = ["S", "1"] + ["0"] * 17 + [str(100 * hz)] + ["0"] * 10  # starttime (field 22): 100 s after boot
    (tmp_path / "42" / "stat").write_text("42 (a (b) c) " + " ".join(rest) + "\n")
    (tmp_path / "42" / "cmdline").write_bytes(b"/venv/bin/python\0-c\0from multiprocessing.spawn import x\0")
    (tmp_path / "uptime").write_text("160.50 99.0\n")
    process = read_process(42, proc=tmp_path)
    assert process == Process(42, pytest.approx(60.5), ("/venv/bin/python", "-c",
                                                        "from multiprocessing.spawn import x"), False)
    (tmp_path / "42" / "stat").write_text("42 (python) Z " + " ".join(rest[1:]) + "\n")
    assert read_process(42, proc=tmp_path).zombie
    assert read_process(43, proc=tmp_path) is None


def test_an_empty_command_line_is_read_again_while_the_process_execs(tmp_path: Path):
    (tmp_path / "42").mkdir()
    hz = os.sysconf("SC_CLK_TCK")
    rest = ["S", "1"] + ["0"] * 17 + [str(100 * hz)] + ["0"] * 10
    (tmp_path / "42" / "stat").write_text("42 (sleep) " + " ".join(rest) + "\n")
    (tmp_path / "uptime").write_text("160.50 99.0\n")
    cmdline = tmp_path / "42" / "cmdline"
    cmdline.write_bytes(b"")  # between closing the old program's files and setting up the new command line
    exec_done = threading.Timer(0.05, cmdline.write_bytes, args=(b"sleep\x0060\x00",))
    exec_done.start()
    try:
        assert read_process(42, proc=tmp_path, settle_seconds=5).cmdline == ("sleep", "60")
    finally:
        exec_done.cancel()
    cmdline.write_bytes(b"")  # a kernel thread's stays empty: given up on after the settle time
    started = time.monotonic()
    assert read_process(42, proc=tmp_path, settle_seconds=0.1).cmdline == ()
    assert 0.1 <= time.monotonic() - started < 2


# ---------------------------------------------------------------- in a Dagster instance


@pytest.fixture
def instance():
    config = dagster_yaml("postgresql://unused", embedded=True)
    with instance_for_test(overrides={"run_retries": config["run_retries"]}) as test_instance:
        yield test_instance


def started_run(instance: dg.DagsterInstance, pid: int | None, job_name: str = "land_survey") -> dg.DagsterRun:
    run = create_run_for_test(instance, job_name=job_name, status=STARTED)
    if pid is not None:
        instance.report_engine_event(f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid))
    return run


def test_the_workers_pid_is_read_from_the_runs_engine_event(instance):
    run = started_run(instance, pid=4242)
    instance.report_engine_event("Executing steps in process (pid: 99)", run, EngineEventData.in_process(99))
    worker = recorded_worker(instance, run.run_id)
    assert worker is not None and worker.pid == 4242 and abs(worker.recorded_at - time.time()) < 60
    assert recorded_worker(instance, started_run(instance, pid=None).run_id) is None


def test_an_orphan_is_failed_with_its_reason_and_will_be_retried(instance):
    pid = dead_pid()
    orphan = started_run(instance, pid)
    alive = started_run(instance, os.getpid())
    in_process = started_run(instance, None)  # novora materialize: no worker pid, never launched
    found = find_orphans(instance)
    assert [(o.run_id, o.reason) for o in found] == [(orphan.run_id, GONE.format(pid=pid))]

    assert fail_orphans(instance, found) == found
    failed = instance.get_run_by_id(orphan.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    assert failed.tags[RUN_FAILURE_REASON_TAG] == RunFailureReason.UNEXPECTED_TERMINATION.value
    assert failed.tags[WILL_RETRY_TAG] == "true"  # run_retries as orchestration/instance.py writes them
    failure = instance.get_records_for_run(orphan.run_id, of_type=DagsterEventType.RUN_FAILURE).records
    assert [r.event_log_entry.dagster_event.message for r in failure] == [GONE.format(pid=pid)]
    for untouched in (alive, in_process):
        assert instance.get_run_by_id(untouched.run_id).status == STARTED
    # found again (say by a second sensor tick that read it before the first reported): reported once only
    assert fail_orphans(instance, found) == []
    assert len(instance.get_records_for_run(orphan.run_id, of_type=DagsterEventType.RUN_FAILURE).records) == 1


def test_a_run_failed_by_a_step_is_not_retried(instance):
    run = started_run(instance, None)
    instance.report_run_failed(run, "Steps failed: ['responses'].",
                               JobFailureData(error=None, failure_reason=RunFailureReason.STEP_FAILURE))
    assert instance.get_run_by_id(run.run_id).tags[WILL_RETRY_TAG] == "false"


def test_a_launched_run_that_never_recorded_a_worker_is_failed_after_the_grace(instance):
    run = create_run_for_test(instance, job_name="land_survey")
    instance.report_dagster_event(DagsterEvent(DagsterEventType.PIPELINE_STARTING.value, "land_survey"),
                                  run_id=run.run_id)
    assert instance.get_run_by_id(run.run_id).status == STARTING
    assert find_orphans(instance) == []
    later = time.time() + START_GRACE_SECONDS + 1
    [orphan] = find_orphans(instance, now=later)
    assert orphan.run_id == run.run_id and "never started" in orphan.reason


def test_the_sensor_checks_the_default_launchers_runs_only(instance):
    assert launcher_checks_its_workers(instance) is None  # DefaultRunLauncher, on Linux
    with instance_for_test(synchronous_run_launcher=True) as other:
        reason = launcher_checks_its_workers(other)
        assert reason is not None and "SyncInMemoryRunLauncher" in reason


def test_the_sensor_fails_orphans_and_says_so(instance):
    pid = dead_pid()
    orphan = started_run(instance, pid)
    context = dg.build_sensor_context(instance=instance)
    result = recovery.orphaned_runs_sensor(context)
    assert isinstance(result, dg.SkipReason) and orphan.run_id in result.skip_message
    assert instance.get_run_by_id(orphan.run_id).status == dg.DagsterRunStatus.FAILURE
    assert recovery.orphaned_runs_sensor(dg.build_sensor_context(instance=instance)).skip_message == \
        "every run in flight has its worker"


def test_dagster_yaml_retries_a_crashed_worker_but_not_a_failed_step(tmp_path: Path, monkeypatch):
    import yaml
    from dagster._core.instance.config import dagster_instance_config

    for embedded in (True, False):
        config = dagster_yaml("postgresql://u:p@h:5432/dagster", embedded=embedded)
        assert config["run_retries"] == {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}
        assert config["run_monitoring"]["enabled"]
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("NOVORA_DAGSTER_STORAGE_URL", "postgresql+psycopg2://u:p@h:5432/dagster")
    dagster_instance_config(str(tmp_path))  # raises on a schema error


def test_a_landing_run_about_to_be_retried_still_holds_the_automation_back(instance):
    """Between the failure and the retry Dagster creates, the automation must not build on what the failed run
    finished (orchestration/automation.py): the run counts as active until its retry exists."""
    from dagster._core.storage.tags import AUTO_RETRY_RUN_ID_TAG

    from orchestration.automation import RETRY_PENDING_SECONDS, job_run_active, landing_run_active, retry_pending

    run = started_run(instance, dead_pid())
    assert job_run_active(instance, "land_survey") and landing_run_active(instance)  # STARTED, not yet found
    fail_orphans(instance, find_orphans(instance))
    assert retry_pending(instance, "land_survey") and landing_run_active(instance)
    assert not job_run_active(instance, "ingest_org")
    # should Dagster never create the retry, the automation is held back for a while only
    later = datetime.now(UTC) + timedelta(seconds=RETRY_PENDING_SECONDS + 1)
    assert not retry_pending(instance, "land_survey", now=later)
    # the retry exists (queued: active in its own right): the failed run no longer counts
    instance.add_run_tags(run.run_id, {AUTO_RETRY_RUN_ID_TAG: "retry"})
    assert not job_run_active(instance, "land_survey")
    # a run failed by a step is not retried, so nothing is pending after it
    stepped = started_run(instance, None)
    instance.report_run_failed(stepped, "Steps failed.",
                               JobFailureData(error=None, failure_reason=RunFailureReason.STEP_FAILURE))
    assert not landing_run_active(instance)


# ---------------------------------------------------------------- runs executed by a Novora command


def command_run(instance: dg.DagsterInstance, pid: int, host: str | None = None,
                trigger: str = "novora materialize") -> dg.DagsterRun:
    """A run as `novora materialize` executes it in its own process: tagged with that process, started."""
    tags = {recovery.TRIGGER_TAG: trigger, **recovery.in_process_tags(host=host, pid=pid)}
    run = create_run_for_test(instance, job_name="ingest_survey", status=STARTED, tags=tags)
    instance.report_dagster_event(DagsterEvent(DagsterEventType.RUN_START.value, "ingest_survey"), run_id=run.run_id)
    return run


def test_the_command_executing_a_run_is_read_from_its_tags():
    tags = {recovery.TRIGGER_TAG: "novora rescore: threshold 6.0 -> 5.5", recovery.PROCESS_TAG: "box-1:4242"}
    assert recovery.executing_command(tags, 100.0, "box-1") == Worker(4242, 100.0, "novora rescore")
    assert recovery.executing_command(tags, 100.0, "box-2") is None  # another host's pids: not ours to check
    assert recovery.executing_command(tags, None, "box-1") is None
    assert recovery.executing_command({recovery.PROCESS_TAG: "box-1:x"}, 100.0, "box-1") is None
    assert recovery.executing_command({}, 100.0, "box-1") is None
    assert recovery.executing_command({recovery.PROCESS_TAG: "box-1:7"}, 1.0, "box-1").command == "the Novora command"
    assert recovery.in_process_tags(host="box-1", pid=7) == {recovery.PROCESS_TAG: "box-1:7",
                                                              "dagster/max_retries": "0"}


def test_a_killed_commands_run_is_failed_with_its_reason_and_not_retried(instance):
    pid = dead_pid()
    killed = command_run(instance, pid)
    running = command_run(instance, os.getpid())  # this test's process: alive, and older than its run
    elsewhere = command_run(instance, pid, host="another-container")
    [orphan] = find_orphans(instance)
    assert (orphan.run_id, orphan.job_name) == (killed.run_id, "ingest_survey")
    assert orphan.reason == (f"novora materialize (pid {pid}) stopped before the run finished: it was killed or the "
                             "machine stopped; the run is not retried, run `novora materialize` again")
    assert fail_orphans(instance, [orphan]) == [orphan]
    failed = instance.get_run_by_id(killed.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    assert failed.tags[WILL_RETRY_TAG] == "false"  # dagster/max_retries = 0: the command runs it again
    for untouched in (running, elsewhere):
        assert instance.get_run_by_id(untouched.run_id).status == STARTED


def test_a_command_fails_only_the_runs_of_killed_commands(instance):
    """A command may run in another container than the daemon's run workers: their pids are not its to judge."""
    launched = started_run(instance, dead_pid())
    killed = command_run(instance, dead_pid(), trigger="novora rescore: model v2")
    [orphan] = recovery.fail_stopped_commands(instance)
    assert orphan.run_id == killed.run_id and orphan.reason.startswith("novora rescore (pid ")
    assert instance.get_run_by_id(launched.run_id).status == STARTED
    assert recovery.fail_stopped_commands(instance) == []
