"""Is Novora healthy? The checks behind ``novora health`` and the Data health page.

- **database**: the warehouse server answers, and its schema is at the version this code expects;
- **dagster**: Dagster's instance (run and event storage) can be read;
- **daemon**: every daemon the instance needs (sensors, automation, run queue, backfills) sent a heartbeat within
  ``DAEMON_TOLERANCE`` and reported no error in it;
- **runs**: every asset has been materialised and the newest run that planned it did not fail;
- **freshness**: no asset is behind what it reads for longer than the pipeline needs to catch up.

Staleness: nothing in Novora runs on a clock. Raw tables load when a file lands (the landing sensor); every
other asset is rebuilt by the landing run or the automation sensor after what it reads changed. So an asset's
"cadence" is *its upstream*: it is stale when an asset it reads was materialised after it and the pipeline has
had ``CATCH_UP_GRACE`` to rebuild it. Ingestion assets (event driven, nothing upstream to wait for) show their
age only.

Everything here only reads: no server is started, nothing is migrated, no run is launched. The checks are pure
functions of what was read (``daemon_check``, ``runs_check``, ``freshness_check``), so their boundaries are
tested without a clock or a daemon.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestration.config import NovoraConfig
from orchestration.database import first_line, libpq_params

# ---------------------------------------------------------------- staleness (pure)

# Groups loaded when a file lands: no upstream to wait for, no clock, so only their age is shown.
EVENT_DRIVEN_GROUPS = ("ingestion",)
# How long the pipeline may take to rebuild an asset after what it reads changed. A landing run takes a survey
# to its alerts in about two minutes at benchmark scale (README, "live latency"), the automation sensor ticks
# every 15 s and waits while a landing run is in flight, and the comments (embeddings, sentiment) follow after
# it; 30 minutes is several times the slowest of these, so "stale" means the rebuild did not happen, not that
# it is still on its way.
CATCH_UP_GRACE = timedelta(minutes=30)

FRESH = "fresh"
CATCHING_UP = "catching up"
STALE = "stale"
NEVER = "never materialised"
EVENT_DRIVEN = "event driven"


def freshness_state(
    group: str,
    last_materialised_at: datetime | None,
    upstream_materialised_at: datetime | None,
    now: datetime,
    grace: timedelta = CATCH_UP_GRACE,
) -> str:
    """How fresh one asset is.

    ``upstream_materialised_at`` is the newest materialisation of any asset it reads (None: none read, or none
    materialised). Stale: an upstream changed after it, more than ``grace`` ago; within ``grace`` it is catching
    up. Ingestion assets are event driven: age only.
    """
    if last_materialised_at is None:
        return NEVER
    if group in EVENT_DRIVEN_GROUPS:
        return EVENT_DRIVEN
    if upstream_materialised_at is None or upstream_materialised_at <= last_materialised_at:
        return FRESH
    return STALE if now - upstream_materialised_at > grace else CATCHING_UP


def format_age(age: timedelta | None) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``: how long ago, to the precision a person needs."""
    if age is None:
        return ""
    seconds = max(0, math.floor(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


# ---------------------------------------------------------------- catalog


@dataclass(frozen=True)
class CatalogAsset:
    """One materialisable asset of the code location: its key, group and the materialisable assets it reads."""

    key_path: tuple[str, ...]
    group: str
    upstream: tuple[tuple[str, ...], ...]

    @property
    def key(self) -> str:
        return "/".join(self.key_path)


def asset_catalog(definitions: Any) -> tuple[CatalogAsset, ...]:
    """Every materialisable asset of ``definitions`` (a ``dg.Definitions``); sources (app.settings) are left out."""
    graph = definitions.resolve_asset_graph()
    keys = set(graph.materializable_asset_keys)
    return tuple(
        CatalogAsset(
            key_path=tuple(key.path),
            group=graph.get(key).group_name or "default",
            upstream=tuple(sorted(tuple(parent.path) for parent in graph.get(key).parent_keys if parent in keys)),
        )
        for key in keys
    )


@dataclass(frozen=True)
class Materialisation:
    """What Dagster's storage says about one asset: its newest materialisation and its newest run."""

    materialised_at: datetime | None
    materialised_run_id: str | None
    last_run_id: str | None
    last_run_status: str | None


# ---------------------------------------------------------------- reading Dagster's instance


class DagsterUnavailable(RuntimeError):
    """Dagster's instance cannot be read; the message is one line a person can act on."""


def utc(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None


def open_instance(config: NovoraConfig) -> Any:
    """Dagster's instance under ``$NOVORA_HOME/dagster`` (written by `novora up` / `novora materialize`).

    Never writes dagster.yaml or migrates: the app only reads what the pipeline recorded.
    """
    import dagster as dg

    from orchestration.instance import storage_environment

    home = config.dagster_home
    if not (home / "dagster.yaml").exists():
        raise DagsterUnavailable(
            f"no Dagster instance at {home} yet (`novora up` or `novora materialize` writes it)"
        )
    try:
        # an external server's dagster.yaml names its storage URL by environment variable (orchestration.instance)
        os.environ.update(storage_environment(config))
        return dg.DagsterInstance.from_config(str(home))
    except Exception as exc:  # noqa: BLE001 - any failure to open becomes one line on the page
        raise DagsterUnavailable(f"cannot open Dagster's instance at {home}: {first_line(exc)}") from exc


def read_materialisations(instance: Any, catalog: Sequence[CatalogAsset]) -> dict[tuple[str, ...], Materialisation]:
    """The newest materialisation (any partition) and the newest run of every catalog asset that has either."""
    import dagster as dg

    records = instance.get_asset_records([dg.AssetKey(list(asset.key_path)) for asset in catalog])
    entries = {tuple(record.asset_entry.asset_key.path): record.asset_entry for record in records}
    # the newest run that planned the asset (it may have failed after the last success), else the last success's
    last_run = {key: entry.last_planned_materialization_run_id or entry.last_run_id for key, entry in entries.items()}
    run_ids = sorted({run_id for run_id in last_run.values() if run_id})
    statuses = {}
    if run_ids:
        for record in instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids)):
            statuses[record.dagster_run.run_id] = record.dagster_run.status.value
    result = {}
    for key, entry in entries.items():
        event = entry.last_materialization
        result[key] = Materialisation(
            materialised_at=utc(event.timestamp) if event else None,
            materialised_run_id=event.run_id if event else None,
            last_run_id=last_run[key],
            last_run_status=statuses.get(last_run[key]) if last_run[key] else None,
        )
    return result


# ---------------------------------------------------------------- the checks (pure)

OK, FAIL, SKIPPED = "ok", "fail", "skipped"
# Dagster's daemons beat every 30 s; five minutes without one is ten missed beats, not a busy machine.
DAEMON_TOLERANCE = timedelta(minutes=5)
FAILED_RUN_STATUSES = ("FAILURE", "CANCELED")
NAMES_SHOWN = 5  # assets named in one line; the rest are counted


@dataclass(frozen=True)
class Check:
    """One line of the health report: what was checked, ``ok`` / ``fail`` / ``skipped``, and why."""

    name: str
    status: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class Heartbeat:
    """A daemon's newest heartbeat: when, and the first line of each error it reported."""

    at: datetime
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssetHealth:
    """One asset as the report lists it: when it was last materialised, its newest run's status, freshness."""

    asset: str
    group: str
    last_materialised_at: datetime | None
    last_run_status: str | None
    last_run_id: str | None
    state: str


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]
    assets: tuple[AssetHealth, ...] = field(default=())

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks)

    def reasons(self) -> list[str]:
        return [f"{check.name}: {check.detail}" for check in self.checks if check.status == FAIL]

    def lines(self) -> list[str]:
        failed = sum(check.status == FAIL for check in self.checks)
        head = "healthy" if self.healthy else f"unhealthy ({failed} of {len(self.checks)} checks failed)"
        width = max(len(check.name) for check in self.checks)
        return [f"novora health: {head}"] + [
            f"{check.status.upper():<7} {check.name:<{width}}  {check.detail}" for check in self.checks
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "reasons": self.reasons(),
            "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in self.checks],
            "assets": [{
                "asset": a.asset, "group": a.group, "state": a.state, "last_run_status": a.last_run_status,
                "last_run_id": a.last_run_id,
                "last_materialised_at": a.last_materialised_at.isoformat() if a.last_materialised_at else None,
            } for a in self.assets],
        }


def named(keys: Sequence[str], shown: int = NAMES_SHOWN) -> str:
    """``a, b, c`` or ``a, b, c and 4 more``."""
    keys = sorted(keys)
    rest = len(keys) - shown
    return ", ".join(keys[:shown]) + (f" and {rest} more" if rest > 0 else "")


def daemon_check(heartbeats: Mapping[str, Heartbeat], required: Sequence[str], now: datetime,
                 tolerance: timedelta = DAEMON_TOLERANCE) -> Check:
    """Every ``required`` daemon beat within ``tolerance`` of ``now`` without an error (exactly at the tolerance
    still counts as alive)."""
    if not heartbeats:
        return Check("daemon", FAIL, "no heartbeat from the Dagster daemon ever: is `dagster-daemon run` up "
                                     "(`novora demo` starts it)?")
    missing = [kind for kind in required if kind not in heartbeats]
    late = {kind: now - heartbeats[kind].at for kind in required
            if kind in heartbeats and now - heartbeats[kind].at > tolerance}
    errors = {kind: heartbeats[kind].errors[0] for kind in required
              if kind in heartbeats and kind not in late and heartbeats[kind].errors}
    problems = []
    if late:
        newest = min(late.values())
        problems.append(f"no heartbeat for {format_age(newest)} from {named(list(late))} (more than "
                        f"{format_age(tolerance)}): the Dagster daemon is down or stuck")
    if missing:
        problems.append(f"never a heartbeat from {named(missing)}")
    if errors:
        problems.append("; ".join(f"{kind} reports: {error}" for kind, error in sorted(errors.items())))
    if problems:
        return Check("daemon", FAIL, "; ".join(problems))
    newest = min(now - heartbeats[kind].at for kind in required) if required else timedelta(0)
    return Check("daemon", OK, f"{len(required)} daemons beat, the latest {format_age(newest)} ago")


def asset_health(catalog: Sequence[CatalogAsset], materialisations: Mapping[tuple[str, ...], Materialisation],
                 now: datetime, grace: timedelta = CATCH_UP_GRACE) -> tuple[AssetHealth, ...]:
    """Every asset of ``catalog``: its newest materialisation, its newest run's status and its freshness."""
    empty = Materialisation(None, None, None, None)
    rows = []
    for asset in sorted(catalog, key=lambda a: a.key_path):
        seen = materialisations.get(asset.key_path, empty)
        upstream = [materialisations[p].materialised_at for p in asset.upstream
                    if p in materialisations and materialisations[p].materialised_at is not None]
        rows.append(AssetHealth(
            asset=asset.key, group=asset.group, last_materialised_at=seen.materialised_at,
            last_run_status=seen.last_run_status, last_run_id=seen.last_run_id,
            state=freshness_state(asset.group, seen.materialised_at, max(upstream, default=None), now, grace),
        ))
    return tuple(rows)


def runs_check(assets: Sequence[AssetHealth], now: datetime) -> Check:
    """Every asset materialised at least once, and the newest run that planned it did not fail."""
    if not assets:
        return Check("runs", FAIL, "the code location defines no asset")
    never = [a.asset for a in assets if a.last_materialised_at is None]
    failed = [a.asset for a in assets if a.last_run_status in FAILED_RUN_STATUSES]
    problems = []
    if failed:
        problems.append(f"the last run of {len(failed)} asset{'s' * (len(failed) != 1)} failed: {named(failed)}")
    if never:
        problems.append(f"{len(never)} never materialised: {named(never)} (drop files into the landing zone, or "
                        "`novora materialize`)")
    if problems:
        return Check("runs", FAIL, "; ".join(problems))
    times = [a.last_materialised_at for a in assets if a.last_materialised_at is not None]
    return Check("runs", OK, f"{len(assets)} assets materialised, the latest {format_age(now - max(times))} ago, "
                             f"the oldest {format_age(now - min(times))} ago; no last run failed")


def freshness_check(assets: Sequence[AssetHealth], grace: timedelta = CATCH_UP_GRACE) -> Check:
    """No asset behind what it reads for longer than ``grace``."""
    stale = [a.asset for a in assets if a.state == STALE]
    catching_up = [a.asset for a in assets if a.state == CATCHING_UP]
    if stale:
        what = "1 asset behind what it reads" if len(stale) == 1 else f"{len(stale)} assets behind what they read"
        return Check("freshness", FAIL, f"{what} for more than {format_age(grace)}: {named(stale)}")
    detail = "no asset behind what it reads"
    if catching_up:
        detail += f" ({len(catching_up)} catching up within {format_age(grace)})"
    return Check("freshness", OK, detail)


def database_check(version: int | None, expected: int, where: str, error: str | None = None) -> Check:
    """The warehouse answered (``error`` None) with its schema at ``version``; the code expects ``expected``."""
    if error is not None:
        return Check("database", FAIL, error)
    if version != expected:
        return Check("database", FAIL, f"{where} answers but its schema is at version {version}, this code "
                                       f"expects {expected}: `novora db start` migrates it")
    return Check("database", OK, f"{where} answers; schema at version {version}")


# ---------------------------------------------------------------- reading (I/O)


def _redacted(url: str) -> str:
    """Where the server is, without a password: the socket directory or host:port, and the database."""
    params = libpq_params(url)
    place = params["host"] if params["host"].startswith("/") else f"{params['host']}:{params['port']}"
    return f"PostgreSQL at {place} (database {params['dbname']})"


def read_database(config: NovoraConfig, timeout_s: int = 5) -> tuple[Check, str | None]:
    """The database check, and the warehouse URL when it answered."""
    import psycopg

    from orchestration import database, migrate

    expected = len(migrate.discover())
    url = database.running_warehouse_url(config)
    if url is None:
        return database_check(None, expected, "", f"the embedded PostgreSQL in {config.pgdata} is not running "
                                                   "(`novora db start`)"), None
    where = _redacted(url)
    try:
        with psycopg.connect(url, connect_timeout=timeout_s, autocommit=True) as conn:
            conn.execute("select 1")
        version = migrate.current_version(url)
    except Exception as exc:  # noqa: BLE001 - any failure to answer is the reason, in one line
        return database_check(None, expected, where, f"{where} does not answer: {first_line(exc)}"), None
    return database_check(version, expected, where), url


def read_heartbeats(instance: Any) -> tuple[dict[str, Heartbeat], list[str]]:
    """Every daemon's newest heartbeat, and the daemon types this instance needs."""
    heartbeats = {
        kind: Heartbeat(at=datetime.fromtimestamp(beat.timestamp, tz=UTC),
                        errors=tuple(first_line(error.message) for error in (beat.errors or ())))
        for kind, beat in instance.get_daemon_heartbeats().items()
    }
    return heartbeats, list(instance.get_required_daemon_types())


def check_health(config: NovoraConfig, now: datetime | None = None, daemon_tolerance: timedelta = DAEMON_TOLERANCE,
                 grace: timedelta = CATCH_UP_GRACE, catalog: Sequence[CatalogAsset] | None = None) -> Report:
    """Every check, in order; a check that needs what failed before it is skipped, with the reason."""
    now = now or datetime.now(UTC)
    database, url = read_database(config)
    checks = [database]
    later = ("dagster", "daemon", "runs", "freshness")
    if url is None:
        return Report(tuple(checks + [Check(name, SKIPPED, "not checked: the database does not answer")
                                      for name in later]))
    try:
        instance = open_instance(config)
        if catalog is None:
            from orchestration.definitions import build_definitions

            catalog = asset_catalog(build_definitions(config))
        materialisations = read_materialisations(instance, catalog)
        heartbeats, required = read_heartbeats(instance)
    except Exception as exc:  # noqa: BLE001 - Dagster's storage unreadable: one reason, the rest skipped
        reason = (str(exc) if isinstance(exc, DagsterUnavailable)
                  else f"cannot read Dagster's storage: {first_line(exc)}")
        return Report(tuple(checks + [Check("dagster", FAIL, reason)] + [
            Check(name, SKIPPED, "not checked: Dagster's instance cannot be read") for name in later[1:]]))
    assets = asset_health(catalog, materialisations, now, grace)
    checks += [
        Check("dagster", OK, f"instance at {config.dagster_home} read; {len(catalog)} assets in the code location"),
        daemon_check(heartbeats, required, now, daemon_tolerance),
        runs_check(assets, now),
        freshness_check(assets, grace),
    ]
    return Report(tuple(checks), assets)
