"""Data health beyond the ingestion ledger: what is loaded, how fresh each Dagster asset is, and the latest runs.

The counts come from the ingestion ledger (``raw.deliveries``: rows loaded and rejected per current delivery),
the quarantine view and the participation mart, never from staging: the app's role ``novora_app`` cannot read
staging, raw identities or unmasked text.

Freshness and runs come from Dagster's instance (``$NOVORA_HOME/dagster``, the storage the webserver and the
daemon share). The app only reads it: it never writes ``dagster.yaml``, migrates storage or launches a run.
Asset keys and groups come from the code location (``orchestration.definitions.build_definitions``), so an
asset that was never materialised is listed too.

Staleness: nothing in Novora runs on a clock. Raw tables load when a file lands (the landing sensor); every
other asset is rebuilt by the landing run or the automation sensor after what it reads changed. So an asset's
"cadence" is *its upstream*: it is stale when an asset it reads was materialised after it and the pipeline has
had ``CATCH_UP_GRACE`` to rebuild it. Ingestion assets (event driven, nothing upstream to wait for) show their
age only.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import data
from orchestration.config import NovoraConfig

# ---------------------------------------------------------------- ingested counts

INGESTED_SQL = """
with

current_deliveries as (select * from raw.deliveries where is_current),

ledger as (
    select
        coalesce(sum(rows_loaded) filter (where dataset = 'teams'), 0) as teams,
        coalesce(sum(rows_rejected) filter (where dataset = 'teams'), 0) as teams_rejected,
        coalesce(sum(rows_loaded) filter (where dataset = 'employees'), 0) as employees,
        coalesce(sum(rows_rejected) filter (where dataset = 'employees'), 0) as employees_rejected,
        -- a survey's survey.json is one delivery of dataset 'surveys'; its rows are the survey's questions
        count(distinct survey_id) filter (where dataset = 'surveys') as surveys,
        coalesce(sum(rows_loaded) filter (where dataset = 'surveys'), 0) as questions,
        coalesce(sum(rows_loaded) filter (where dataset = 'invitations'), 0) as invited,
        coalesce(sum(rows_loaded) filter (where dataset = 'responses'), 0) as answers,
        coalesce(sum(rows_rejected) filter (where dataset = 'responses'), 0) as answers_rejected
    from current_deliveries
),

quarantined as (
    select count(*) as rows_quarantined, count(distinct file_path) as files_with_rejections
    from quarantine.rejected_rows_for_app
)

select * from ledger, quarantined
"""

# Respondents per survey at org level (participation counts are published for every group, SPEC section 6).
RESPONDENTS_RELATION = "marts.participation"
RESPONDENTS_SQL = f"select coalesce(sum(responded), 0) as respondents from {RESPONDENTS_RELATION} where scope = 'org'"


@dataclass(frozen=True)
class IngestedCounts:
    """What the current deliveries loaded and rejected. ``respondents`` is None until the marts are built."""

    teams: int
    teams_rejected: int
    employees: int
    employees_rejected: int
    surveys: int
    questions: int
    invited: int
    answers: int
    answers_rejected: int
    rows_quarantined: int
    files_with_rejections: int
    respondents: int | None


def ingested_counts() -> IngestedCounts:
    """Counts of what is loaded now, read from the ingestion ledger (no staging access needed)."""
    row = data.query(INGESTED_SQL).iloc[0]
    respondents = None
    if not data.missing_relations((RESPONDENTS_RELATION,)):
        respondents = int(data.query(RESPONDENTS_SQL).iloc[0]["respondents"])
    fields = [name for name in IngestedCounts.__dataclass_fields__ if name != "respondents"]
    return IngestedCounts(**{name: int(row[name]) for name in fields}, respondents=respondents)


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 row`` / ``1,234 rows``: counts always carry thousands separators."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


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


def format_duration(started_at: datetime | None, ended_at: datetime | None, now: datetime) -> str:
    """A run's duration; a run still going shows how long it has been running so far."""
    if started_at is None:
        return ""
    if ended_at is None:
        return f"{format_age(now - started_at)} so far"
    return format_age(ended_at - started_at)


def run_url(dagster_url: str, run_id: str | None) -> str | None:
    """The run's page in Dagster UI."""
    return f"{dagster_url.rstrip('/')}/runs/{run_id}" if run_id else None


def asset_url(dagster_url: str, key_path: Sequence[str]) -> str:
    """The asset's page in Dagster UI (``/assets/marts/engagement``)."""
    return f"{dagster_url.rstrip('/')}/assets/{'/'.join(key_path)}"


# ---------------------------------------------------------------- catalog and freshness


# Groups in pipeline order, for the table.
GROUP_ORDER = ("ingestion", "access", "staging", "intermediate", "nlp", "marts", "alerts")


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


def _group_rank(group: str) -> int:
    return GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)


def freshness_frame(
    catalog: Iterable[CatalogAsset],
    materialisations: Mapping[tuple[str, ...], Materialisation],
    dagster_url: str,
    now: datetime,
    grace: timedelta = CATCH_UP_GRACE,
) -> pd.DataFrame:
    """One row per asset: group, key, last materialised, age, state, last run (status, id, link), asset link.

    Ordered by pipeline stage, then key. ``materialisations`` lacks assets never materialised.
    """
    empty = Materialisation(None, None, None, None)
    rows = []
    for asset in sorted(catalog, key=lambda a: (_group_rank(a.group), a.key_path)):
        seen = materialisations.get(asset.key_path, empty)
        upstream_times = [materialisations[p].materialised_at for p in asset.upstream
                          if p in materialisations and materialisations[p].materialised_at is not None]
        upstream_at = max(upstream_times, default=None)
        age = now - seen.materialised_at if seen.materialised_at else None
        rows.append({
            "group": asset.group,
            "asset": asset.key,
            "last_materialised_at": pd.Timestamp(seen.materialised_at) if seen.materialised_at else pd.NaT,
            "age": format_age(age),
            "state": freshness_state(asset.group, seen.materialised_at, upstream_at, now, grace),
            "last_run_status": seen.last_run_status,
            "last_run_id": seen.last_run_id,
            "last_run_url": run_url(dagster_url, seen.last_run_id),
            "asset_url": asset_url(dagster_url, asset.key_path),
        })
    frame = pd.DataFrame(rows, columns=FRESHNESS_COLUMNS)
    frame["last_materialised_at"] = pd.to_datetime(frame["last_materialised_at"], utc=True)
    return frame


FRESHNESS_COLUMNS = ["group", "asset", "last_materialised_at", "age", "state", "last_run_status", "last_run_id",
                     "last_run_url", "asset_url"]


def stale_assets(freshness: pd.DataFrame) -> list[str]:
    """Keys of the assets flagged stale."""
    return freshness.loc[freshness["state"] == STALE, "asset"].tolist()


# ---------------------------------------------------------------- reading Dagster's instance

RECENT_RUNS = 20
DAGSTER_CACHE_SECONDS = 10
PARTITION_TAG = "dagster/partition"


class DagsterUnavailable(RuntimeError):
    """Dagster's instance cannot be read; the message is one line a person can act on."""


def _utc(timestamp: float | None) -> datetime | None:
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
        raise DagsterUnavailable(f"cannot open Dagster's instance at {home}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
            materialised_at=_utc(event.timestamp) if event else None,
            materialised_run_id=event.run_id if event else None,
            last_run_id=last_run[key],
            last_run_status=statuses.get(last_run[key]) if last_run[key] else None,
        )
    return result


RUN_COLUMNS = ["job", "status", "partition", "started_at", "duration", "run_id", "run_url"]


def run_records(instance: Any, dagster_url: str, limit: int = RECENT_RUNS) -> list[dict[str, Any]]:
    """The ``limit`` newest runs (newest first) as read from the instance: job, status, partition, start and end
    (UTC, None while not started or still going), run id and link."""
    rows = []
    for record in instance.get_run_records(limit=limit):
        run = record.dagster_run
        rows.append({
            "job": run.job_name,
            "status": run.status.value,
            "partition": run.tags.get(PARTITION_TAG),
            "started_at": _utc(record.start_time),
            "ended_at": _utc(record.end_time),
            "run_id": run.run_id,
            "run_url": run_url(dagster_url, run.run_id),
        })
    return rows


def runs_frame(rows: Sequence[Mapping[str, Any]], now: datetime) -> pd.DataFrame:
    """Run records as the page shows them at ``now``: a run still going shows how long it has run so far."""
    frame = pd.DataFrame(
        [{**{k: v for k, v in row.items() if k != "ended_at"},
          "started_at": pd.Timestamp(row["started_at"]) if row["started_at"] else pd.NaT,
          "duration": format_duration(row["started_at"], row["ended_at"], now)} for row in rows],
        columns=RUN_COLUMNS,
    )
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True)
    return frame


# ---------------------------------------------------------------- for the page


@st.cache_resource(show_spinner="Reading the code location…")
def _catalog_for(config: NovoraConfig) -> tuple[CatalogAsset, ...]:
    # importing the code location takes seconds (dbt manifest, every domain): once per configuration
    from orchestration.definitions import build_definitions

    return asset_catalog(build_definitions(config))


@st.cache_resource(show_spinner="Opening Dagster's instance…")
def _instance_for(config: NovoraConfig) -> Any:
    return open_instance(config)


@st.cache_data(ttl=DAGSTER_CACHE_SECONDS, show_spinner=False, hash_funcs={NovoraConfig: hash})
def _dagster_records(config: NovoraConfig) -> tuple[dict[tuple[str, ...], Materialisation], list[dict[str, Any]]]:
    # Dagster's event log is read at most once per DAGSTER_CACHE_SECONDS (and again after "Refresh data"):
    # reading it takes longer than every warehouse query of the page together
    catalog = _catalog_for(config)
    instance = _instance_for(config)
    return read_materialisations(instance, catalog), run_records(instance, config.dagster_url)


data.on_refresh(_dagster_records.clear)


@dataclass(frozen=True)
class Pipeline:
    """What the Data health page shows of Dagster: per-asset freshness and the newest runs."""

    freshness: pd.DataFrame
    runs: pd.DataFrame
    dagster_url: str


def pipeline(config: NovoraConfig | None = None, now: datetime | None = None) -> Pipeline:
    """Freshness of every asset and the newest runs as of ``now``, from Dagster's instance as read at most
    ``DAGSTER_CACHE_SECONDS`` ago (``config``: the environment's).

    Raises ``DagsterUnavailable`` (one line) when the code location or the instance cannot be read.
    """
    config = config or data.config()
    now = now or datetime.now(UTC)
    try:
        catalog = _catalog_for(config)
        materialisations, rows = _dagster_records(config)
    except DagsterUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - the rest of the page must still work: one line instead
        raise DagsterUnavailable(f"cannot read Dagster's run history: {_first_line(exc)}") from exc
    freshness = freshness_frame(catalog, materialisations, config.dagster_url, now)
    return Pipeline(freshness=freshness, runs=runs_frame(rows, now), dagster_url=config.dagster_url)
