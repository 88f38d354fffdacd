"""Data health beyond the ingestion ledger: what is loaded, how fresh each Dagster asset is, and the latest runs.

The counts come from the ingestion ledger (``raw.deliveries``: rows loaded and rejected per current delivery),
the quarantine view and the participation mart, never from staging: the app's role ``novora_app`` cannot read
staging, raw identities or unmasked text.

Freshness and runs come from Dagster's instance (``$NOVORA_HOME/dagster``, the storage the webserver and the
daemon share). The app only reads it: it never writes ``dagster.yaml``, migrates storage or launches a run.
Asset keys and groups come from the code location (``orchestration.definitions.build_definitions``), so an
asset that was never materialised is listed too.

Staleness and the catalog are ``orchestration.health``'s, the same rules ``novora health`` applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import data
from orchestration.config import NovoraConfig
from orchestration.health import (  # noqa: F401 - the page and its tests name these through this module
    CATCH_UP_GRACE,
    CATCHING_UP,
    EVENT_DRIVEN,
    FRESH,
    NEVER,
    STALE,
    CatalogAsset,
    Check,
    DagsterUnavailable,
    Heartbeat,
    Materialisation,
    asset_catalog,
    daemon_check,
    first_line,
    format_age,
    freshness_state,
    open_instance,
    read_heartbeats,
    read_materialisations,
    utc,
)

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
            "started_at": utc(record.start_time),
            "ended_at": utc(record.end_time),
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
def _dagster_records(config: NovoraConfig) -> tuple[dict[tuple[str, ...], Materialisation], list[dict[str, Any]],
                                                    dict[str, Heartbeat], list[str]]:
    # Dagster's event log is read at most once per DAGSTER_CACHE_SECONDS (and again after "Refresh data"):
    # reading it takes longer than every warehouse query of the page together
    catalog = _catalog_for(config)
    instance = _instance_for(config)
    return (read_materialisations(instance, catalog), run_records(instance, config.dagster_url),
            *read_heartbeats(instance))


data.on_refresh(_dagster_records.clear)


@dataclass(frozen=True)
class Pipeline:
    """What the Data health page shows of Dagster: per-asset freshness, the newest runs and the daemon's health
    (``novora health``'s daemon check)."""

    freshness: pd.DataFrame
    runs: pd.DataFrame
    dagster_url: str
    daemon: Check


def pipeline(config: NovoraConfig | None = None, now: datetime | None = None) -> Pipeline:
    """Freshness of every asset and the newest runs as of ``now``, from Dagster's instance as read at most
    ``DAGSTER_CACHE_SECONDS`` ago (``config``: the environment's).

    Raises ``DagsterUnavailable`` (one line) when the code location or the instance cannot be read.
    """
    config = config or data.config()
    now = now or datetime.now(UTC)
    try:
        catalog = _catalog_for(config)
        materialisations, rows, heartbeats, required = _dagster_records(config)
    except DagsterUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - the rest of the page must still work: one line instead
        raise DagsterUnavailable(f"cannot read Dagster's run history: {first_line(exc)}") from exc
    freshness = freshness_frame(catalog, materialisations, config.dagster_url, now)
    return Pipeline(freshness=freshness, runs=runs_frame(rows, now), dagster_url=config.dagster_url,
                    daemon=daemon_check(heartbeats, required, now))
