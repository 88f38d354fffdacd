"""Runs whose worker died with the machine: found, marked failed with a reason, and retried.

Novora's runs are started by Dagster's default run launcher: the daemon's code server (the ``user_code``
container in docker-compose) starts one run worker process per run. If that process dies without a word (the
daemon's process group or the machine killed, an OOM kill), Dagster's storage keeps the run STARTED for ever:
the default launcher cannot check its workers' health, so Dagster's run monitoring never looks at it. A run
that is "in flight" for ever is worse than a failure here: the warehouse automation waits while a landing run is
in flight and the landing sensor defers surveys while an org run is, so the whole pipeline would stall, silently.

The ``orphaned_runs`` sensor looks at every STARTING or STARTED run and at the process that its worker
recorded ("Started process for run (pid: N)", an engine event). When that process no longer exists on this
host it marks the run failed, with one line saying why; Dagster's run retries (``run_retries`` in dagster.yaml,
orchestration/instance.py) then re-execute it from the failed step. Until that retry exists the failed run still
holds the automation back (``automation.retry_pending``). Every Novora step can run again: loads replace a
survey's slice in one transaction, dbt rebuilds, alert evaluation and notifications deduplicate. A run failed by
a step (a rejected file, a failed dbt test) is not retried: retry_on_asset_or_op_failure is off.

A pid can be reused by a later process, so the worker counts as alive only while a process with that pid
exists, is not a zombie, is a Python (or dagster) process, and had been running when the pid was recorded.
Runs launched by another launcher (Kubernetes: its run monitoring checks the pods) are left to Dagster. A run
launched but without a worker pid yet gets ``START_GRACE_SECONDS`` to start one.

``novora materialize`` and ``novora rescore`` execute their runs in their own process, not through a launcher.
Each such run carries ``novora/process`` (``<host>:<pid>`` of the command) and ``dagster/max_retries = 0``: when
the command is killed, the sensor (or the next ``novora materialize`` or ``novora rescore`` on that host) finds
the process gone by the same rule and marks the run failed, saying to run the command again. Such a run is not
retried by Dagster (it has no code location to be re-launched from; the command runs it again). A run tagged on
another host (another container: other pids) is left alone, and so is a run with neither a worker pid nor that
tag that was not launched.

Everything that decides is a pure function of what was read (``worker_alive``, ``orphan_reason``); the sensor
only reads Dagster's records and ``/proc`` and reports the failure.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.events import JobFailureData, RunFailureReason
from dagster._core.storage.tags import MAX_RETRIES_TAG

# What the run worker of the default launcher records first: "Started process for run (pid: N)." (the code
# server's subprocess, dagster/_grpc/impl.py, and `dagster api execute_run`); resumed runs record "Started
# process for resuming job (pid: N)."
WORKER_EVENT_PREFIX = "Started process for"
# A launched run whose worker has not recorded its pid yet is left alone this long (Dagster's own run monitoring
# fails a run still STARTING after 180 s; starting a worker takes seconds).
START_GRACE_SECONDS = 120.0
# The worker must have started before it recorded its pid. Its start is measured on the boot clock, the event on
# the wall clock: this much allows for the wall clock being stepped forward during the run (an NTP correction) and
# still tells a pid reused after a crash (a container restarted: its pids start again from 1) from the worker.
CLOCK_SLACK_SECONDS = 30.0
# The pid event comes among the first engine events of a run; a multiprocess run records more per step.
ENGINE_EVENTS_READ = 100
IN_FLIGHT = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)
PROC = Path("/proc")
EXEC_SETTLE_SECONDS = 0.2  # how long an empty command line is read again

RETRIED = "Novora marked the run failed so that it is retried"
# A run executed in process by a Novora command: "<host>:<pid>" of that command's process.
PROCESS_TAG = "novora/process"
TRIGGER_TAG = "novora/trigger"


@dataclass(frozen=True)
class Worker:
    """The process executing the run and when it was known to run it (seconds since the epoch): a launched run's
    worker and when it recorded its pid, or a Novora command (``command``) and when the run started."""

    pid: int
    recorded_at: float
    command: str | None = None


@dataclass(frozen=True)
class Process:
    """What ``/proc`` says about a pid now."""

    pid: int
    age_seconds: float  # how long it has been running
    cmdline: tuple[str, ...]
    zombie: bool


# ---------------------------------------------------------------- the decision (pure)


def looks_like_a_run_worker(cmdline: tuple[str, ...]) -> bool:
    """A run worker is a Python process: the code server's spawned subprocess (``python -c "from
    multiprocessing.spawn ..."``) or ``dagster api execute_run``."""
    if not cmdline:
        return False
    return "python" in Path(cmdline[0]).name or any("dagster" in part for part in cmdline)


def worker_alive(worker: Worker, process: Process | None, now: float) -> bool:
    """The worker's process still runs: its pid exists, is not a zombie, is a Python process, and was running
    when the worker recorded its pid (a process that started later got the pid after the worker died)."""
    if process is None or process.zombie or not looks_like_a_run_worker(process.cmdline):
        return False
    started_at = now - process.age_seconds
    return started_at <= worker.recorded_at + CLOCK_SLACK_SECONDS


def gone_reason(worker: Worker, process: Process | None) -> str:
    detail = ""
    if process is not None and not process.zombie:
        detail = " (its pid now belongs to another process)"
    if worker.command:
        return (f"{worker.command} (pid {worker.pid}) stopped before the run finished{detail}: it was killed or "
                f"the machine stopped; the run is not retried, run `{worker.command}` again")
    return (f"run worker (pid {worker.pid}) is gone{detail}: the daemon or the machine stopped during the run; "
            f"{RETRIED}")


def orphan_reason(status: dg.DagsterRunStatus, worker: Worker | None, process: Process | None,
                  launched_at: float | None, now: float, grace: float = START_GRACE_SECONDS) -> str | None:
    """Why the run is to be marked failed, or None to leave it alone.

    ``worker``: the pid its worker recorded, or of the Novora command executing it (None: none yet, or executed
    by a process of no known pid); ``process``: what ``/proc`` says about that pid (None: no such process);
    ``launched_at``: when a run launcher launched it (None: it was not launched).
    """
    if status not in IN_FLIGHT:
        return None
    if worker is not None:
        return None if worker_alive(worker, process, now) else gone_reason(worker, process)
    if launched_at is None or now - launched_at < grace:
        return None
    if status == dg.DagsterRunStatus.STARTING:
        return (f"run worker never started within {grace:.0f} s of the launch: the daemon or the machine stopped "
                f"before the run began; {RETRIED}")
    return None  # STARTED without a worker pid: not a worker of this launcher, nothing to check


def in_process_tags(host: str | None = None, pid: int | None = None) -> dict[str, str]:
    """The tags of a run a Novora command executes in its own process (``novora materialize``, ``rescore``)."""
    return {PROCESS_TAG: f"{host or socket.gethostname()}:{pid or os.getpid()}", MAX_RETRIES_TAG: "0"}


def executing_command(tags: dict[str, str], started_at: float | None, host: str) -> Worker | None:
    """The Novora command executing a run in its own process on ``host``, from the run's tags and start; None for
    a launched run, or one executed on another host (whose pids this host cannot see)."""
    value = tags.get(PROCESS_TAG, "")
    tagged_host, _, pid = value.rpartition(":")
    if tagged_host != host or not pid.isdigit() or started_at is None:
        return None
    command = tags.get(TRIGGER_TAG, "").split(":")[0].strip() or "the Novora command"
    return Worker(pid=int(pid), recorded_at=started_at, command=command)


# ---------------------------------------------------------------- reading /proc


def can_see_processes(proc: Path = PROC) -> bool:
    return (proc / "self" / "stat").exists() and (proc / "uptime").exists()


def read_process(pid: int, proc: Path = PROC, settle_seconds: float = EXEC_SETTLE_SECONDS) -> Process | None:
    """The process with ``pid`` on this host, or None when there is none.

    A process in the middle of ``exec`` shows an empty command line for a moment (Linux sets the new one up
    after closing the old program's files), so an empty one of a live process is read again for up to
    ``settle_seconds``: a process that keeps it empty (a kernel thread) is no run worker."""
    folder = proc / str(pid)
    try:
        stat = (folder / "stat").read_text()
        cmdline = (folder / "cmdline").read_bytes()
        uptime = float((proc / "uptime").read_text().split()[0])
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return None
    except PermissionError:  # another user's process: not a worker of ours (they run as the code server's user)
        return Process(pid=pid, age_seconds=0.0, cmdline=(), zombie=False)
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after its last ')'
    fields = stat[stat.rindex(")") + 2:].split()
    state, start_ticks = fields[0], int(fields[19])  # fields 3 and 22 of proc(5)
    zombie = state in ("Z", "X", "x")
    deadline = time.monotonic() + settle_seconds
    while not cmdline.strip(b"\0") and not zombie and time.monotonic() < deadline:
        time.sleep(0.01)
        try:
            cmdline = (folder / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            return None  # it ended meanwhile
    age = uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    args = tuple(part.decode(errors="replace") for part in cmdline.split(b"\0") if part)
    return Process(pid=pid, age_seconds=age, cmdline=args, zombie=zombie)


# ---------------------------------------------------------------- reading Dagster's records


def recorded_worker(instance: dg.DagsterInstance, run_id: str) -> Worker | None:
    """The pid the run's worker recorded (the latest, should the run have been resumed)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT,
                                           limit=ENGINE_EVENTS_READ).records
    found = None
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None or not (event.message or "").startswith(WORKER_EVENT_PREFIX):
            continue
        data = event.engine_event_data
        value = data.metadata.get("pid") if data is not None else None
        text = getattr(value, "value", value)
        pid = int(text) if text is not None and str(text).isdigit() else event.pid
        if pid:
            found = Worker(pid=int(pid), recorded_at=entry.timestamp)
    return found


def launch_time(instance: dg.DagsterInstance, run_id: str) -> float | None:
    """When a run launcher launched the run (its RUN_STARTING event); None for a run executed in process."""
    return instance.get_run_stats(run_id).launch_time


def run_executor(instance: dg.DagsterInstance, run: dg.DagsterRun, host: str) -> Worker | None:
    """The process executing ``run``: the worker it recorded, else the Novora command of its tags on ``host``."""
    worker = recorded_worker(instance, run.run_id)
    if worker is not None or PROCESS_TAG not in run.tags:
        return worker
    started_at = instance.get_run_stats(run.run_id).start_time
    if started_at is None:  # not started yet: when it was created (the command created it)
        record = instance.get_run_record_by_id(run.run_id)
        started_at = record.create_timestamp.timestamp() if record else None
    return executing_command(run.tags, started_at, host)


@dataclass(frozen=True)
class Orphan:
    run_id: str
    job_name: str
    reason: str


def find_orphans(instance: dg.DagsterInstance, now: float | None = None,
                 read: Callable[[int], Process | None] = read_process,
                 grace: float = START_GRACE_SECONDS, host: str | None = None,
                 in_process_only: bool = False) -> list[Orphan]:
    """Every STARTING or STARTED run whose worker (or Novora command) is gone, with the reason; with
    ``in_process_only``, only the runs of Novora commands (what a command may check: a launched run's worker may
    live in another container, whose pids are not this one's)."""
    host = host or socket.gethostname()
    orphans = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(IN_FLIGHT))):
        if in_process_only and PROCESS_TAG not in run.tags:
            continue
        worker = run_executor(instance, run, host)
        process = read(worker.pid) if worker else None
        launched_at = None if worker else launch_time(instance, run.run_id)
        reason = orphan_reason(run.status, worker, process, launched_at, time.time() if now is None else now,
                               grace)
        if reason:
            orphans.append(Orphan(run.run_id, run.job_name, reason))
    return orphans


def fail_orphans(instance: dg.DagsterInstance, orphans: list[Orphan]) -> list[Orphan]:
    """Mark each orphan failed (not a step failure, so Dagster's run retries re-execute it). A run that finished
    while it was being looked at is left as it finished: its worker was found gone, so whatever it wrote before
    it exited is in storage now."""
    failed = []
    for orphan in orphans:
        run = instance.get_run_by_id(orphan.run_id)
        if run is None or run.status not in IN_FLIGHT:
            continue
        instance.report_run_failed(
            run, orphan.reason,
            JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION))
        failed.append(orphan)
    return failed


def fail_stopped_commands(instance: dg.DagsterInstance) -> list[Orphan]:
    """What a Novora command does before its own runs: the runs of an earlier command on this host that was killed
    are marked failed, with the reason (so none stays in flight for ever when no daemon runs)."""
    return fail_orphans(instance, find_orphans(instance, in_process_only=True))


def launcher_checks_its_workers(instance: dg.DagsterInstance) -> str | None:
    """Why this sensor leaves the instance's runs alone, or None when it is the one to check them."""
    from dagster._core.launcher import DefaultRunLauncher

    launcher = instance.run_launcher
    if not isinstance(launcher, DefaultRunLauncher):
        return (f"runs are launched by {type(launcher).__name__}, whose workers Dagster's run monitoring "
                f"checks")
    if not can_see_processes():
        return "this system has no /proc: run workers cannot be checked"
    return None


@dg.sensor(
    name="orphaned_runs",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=("Marks a run failed when its run worker process is gone (the daemon or the machine stopped "
                 "during the run), so that it does not stay in flight for ever and Dagster's run retries "
                 "re-execute it."),
)
def orphaned_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    instance = context.instance
    elsewhere = launcher_checks_its_workers(instance)
    if elsewhere:
        return dg.SkipReason(elsewhere)
    failed = fail_orphans(instance, find_orphans(instance))
    for orphan in failed:
        context.log.warning(f"run {orphan.run_id} of {orphan.job_name} marked failed: {orphan.reason}")
    if not failed:
        return dg.SkipReason("every run in flight has its worker")
    return dg.SkipReason(f"marked {len(failed)} run(s) failed whose worker was gone: "
                         + ", ".join(o.run_id for o in failed))
