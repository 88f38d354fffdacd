"""Every query the Novora app runs, in one place.

Pages call these functions and only lay out what comes back. Each query is parameterised (values travel as
psycopg parameters, never inside the SQL text) and runs in a read-only transaction. Results are cached
(``st.cache_data``) for as long as the data under them is unchanged: the cache key holds the warehouse URL (two
warehouses never share an entry) and the *data version*, a digest of what PostgreSQL's statistics say was
inserted, updated or deleted in the tables the app reads, and of their identity (dbt rebuilds a mart as a new
table). The version is read at most every ``VERSION_CHECK_SECONDS``, so new data shows within seconds of landing
and an unchanged warehouse is not queried again for an hour (``RESULT_TTL_SECONDS``). What people change in the
app clears the cache at once (``transaction``). The functions also work without a running Streamlit server
(pytest and AppTest call them directly).

The app connects as the restricted role ``novora_app`` (migration 0006): it reads the marts, alerts, app
settings and accounts, masked comments, the ingestion ledger (``raw.deliveries``) and the quarantine through
``quarantine.rejected_rows_for_app``, a view without the raw records of responses (unmasked comments) and
employees (names, emails). It cannot read raw identities at all, whatever a page asks for.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd
import psycopg
import streamlit as st

from orchestration import database
from orchestration.config import NovoraConfig, load_config

RESULT_TTL_SECONDS = 3600  # an unchanged warehouse is read again after this long at the latest
VERSION_CHECK_SECONDS = 5  # how often the data version is read (how soon new data shows)
RESULT_CACHE_ENTRIES = 5000  # query results kept at most (the oldest go first)
QUARANTINE_SAMPLE_LIMIT = 200

Params = tuple[Any, ...] | dict[str, Any] | None

# Datasets in the order they are ingested (org files first, then each survey's files).
DATASET_ORDER = ("teams", "employees", "surveys", "invitations", "responses")
# Datasets whose quarantined raw records may be shown: responses can carry unmasked free text and employee
# records carry names and emails (identities stay in raw and quarantine, SPEC section 5); the others hold ids.
DATASETS_WITH_VISIBLE_RECORDS = ("teams", "surveys", "invitations")

HEALTH_RELATIONS = ("raw.deliveries", "quarantine.rejected_rows_for_app")

# Sentinel for the quarantine filter: rows of the org files, which belong to no survey.
ORG_FILES = ""


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be reached; the message is one line a person can act on."""


# ---------------------------------------------------------------- connection


@functools.lru_cache(maxsize=16)
def _config_for(settings: tuple[tuple[str, str], ...], cwd: str) -> NovoraConfig:
    return load_config(dict(settings))


def config() -> NovoraConfig:
    """The configuration of the environment now (``NOVORA_*`` variables), read once per distinct environment:
    every query asks for it, and reading it resolves paths on disk."""
    settings = tuple(sorted((key, value) for key, value in os.environ.items() if key.startswith("NOVORA_")))
    return _config_for(settings, os.getcwd())  # a relative NOVORA_HOME is relative to the working directory


def landing_zone() -> str:
    """The landing zone this installation reads (NOVORA_LANDING, or the one under NOVORA_HOME)."""
    return str(config().landing)


def dagster_ui_url(env: Mapping[str, str] | None = None) -> str:
    """Where Dagster UI listens (asset lineage, materialisations, backfills): ``NOVORA_DAGSTER_URL``."""
    return (config() if env is None else load_config(env)).dagster_url


# NovoraConfig is a frozen (hashable) dataclass: keying on its own hash spares Streamlit hashing it field by field on
# every query of every page run.
@st.cache_resource(show_spinner="Connecting to the warehouse…", hash_funcs={NovoraConfig: hash})
def _warehouse_url_for(config: NovoraConfig) -> str:
    # Starting the embedded server (or checking an external one) is slow: do it once per configuration.
    return database.app_url(config)


def warehouse_url() -> str:
    """libpq URL the app reads through: the warehouse as ``novora_app`` (or ``NOVORA_APP_DATABASE_URL``)."""
    try:
        return _warehouse_url_for(config())
    except database.DatabaseError as exc:
        raise WarehouseUnavailable(database.first_line(exc)) from exc


# Schemas whose tables the app reads; sessions and the audit log change with every sign-in and are not data.
DATA_VERSION_PARAMS = {
    "schemas": ["raw", "quarantine", "nlp", "alerts", "app", "marts"],
    "unversioned": ["app.sessions", "app.audit_log"],
}

DATA_VERSION_SQL = """
select md5(coalesce(string_agg(
    concat_ws(':', class.oid, stats.n_tup_ins, stats.n_tup_upd, stats.n_tup_del), ',' order by class.oid
), '')) as version
from pg_class as class
inner join pg_namespace as namespace on namespace.oid = class.relnamespace
left join pg_stat_user_tables as stats on stats.relid = class.oid
where
    namespace.nspname = any(%(schemas)s::text[])
    and class.relkind in ('r', 'p')
    and (namespace.nspname || '.' || class.relname) <> all(%(unversioned)s::text[])
"""


@contextmanager
def _connected(url: str, doing: str = "query", read_only: bool = True) -> Iterator[psycopg.Connection]:
    """A connection as the app's role (a statement never runs longer than 15 s); a lost or refused connection
    becomes one ``WarehouseUnavailable`` line."""
    try:
        with psycopg.connect(url, connect_timeout=10, options="-c statement_timeout=15000") as conn:
            conn.read_only = read_only
            yield conn
    except psycopg.OperationalError as exc:
        raise WarehouseUnavailable(
            f"cannot {doing} the warehouse ({database.redact(url)}): {database.first_line(exc)}"
        ) from exc


@st.cache_data(ttl=VERSION_CHECK_SECONDS, show_spinner=False)
def data_version(url: str) -> str:
    """A digest that changes whenever rows are written to (or a table is rebuilt in) the schemas the app reads.

    PostgreSQL's table statistics count every insert, update and delete (they reach the statistics within a
    second or so of the commit); dbt replaces a mart by a new table, whose oid differs.
    """
    with _connected(url) as conn:
        return conn.execute(DATA_VERSION_SQL, DATA_VERSION_PARAMS).fetchone()[0]


@st.cache_data(ttl=RESULT_TTL_SECONDS, max_entries=RESULT_CACHE_ENTRIES, show_spinner=False)
def _read(url: str, sql: str, params: Params = None, version: str = "") -> pd.DataFrame:
    """Run one read-only query; the result is cached per (url, sql, params, data version)."""
    with _connected(url) as conn:
        cursor = conn.execute(sql, params)
        columns = [column.name for column in cursor.description or []]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def query(sql: str, params: Params = None) -> pd.DataFrame:
    """Run a parameterised read-only query against the configured warehouse (cached while the data is unchanged)."""
    url = warehouse_url()
    return _read(url, sql, params, data_version(url))


@contextmanager
def connection() -> Iterator[psycopg.Connection]:
    """A read-write connection as the app's role (committed when the block ends without an exception)."""
    with _connected(warehouse_url(), "write to", read_only=False) as conn:
        yield conn


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """A read-write connection for what people change in the app (alert decisions, settings, reviews).

    Commits when the block ends without an exception; afterwards every cached query result is dropped, so the
    next page run shows the change.
    """
    try:
        with connection() as conn:
            yield conn
    finally:
        refresh()


_REFRESH_HOOKS: list[Callable[[], None]] = []


def on_refresh(hook: Callable[[], None]) -> None:
    """Have ``refresh`` also call ``hook`` (a page module's own cache of something outside the warehouse)."""
    if hook not in _REFRESH_HOOKS:
        _REFRESH_HOOKS.append(hook)


def refresh() -> None:
    """Forget cached query results (the next page run reads the warehouse, and Dagster's records, again)."""
    _read.clear()
    data_version.clear()
    for hook in _REFRESH_HOOKS:
        hook()


# ---------------------------------------------------------------- readiness


def missing_relations(relations: tuple[str, ...]) -> list[str]:
    """Relations among ``relations`` that do not exist yet (nothing materialised, or dbt not run yet)."""
    frame = query(
        "select name from unnest(%s::text[]) as name where to_regclass(name) is null order by name",
        (list(relations),),
    )
    return frame["name"].tolist()


# ---------------------------------------------------------------- data health


CURRENT_DELIVERIES_SQL = """
select
    dataset,
    survey_id,
    file_path,
    rows_delivered,
    rows_loaded,
    rows_rejected,
    rows_rejected::float / nullif(rows_delivered, 0) as rejected_share,
    loaded_at,
    file_modified_at
from raw.deliveries
where is_current
order by
    survey_id nulls first,
    array_position(%s::text[], dataset),
    dataset
"""


def current_deliveries() -> pd.DataFrame:
    """The delivery of each dataset (and survey) whose rows are in raw now, with its row accounting."""
    return query(CURRENT_DELIVERIES_SQL, (list(DATASET_ORDER),))


REJECTED_FILES_SQL = """
with

latest as (
    -- the newest delivery attempt of each dataset (and survey)
    select distinct on (dataset, coalesce(survey_id, ''))
        dataset, survey_id, file_path, is_file_rejected, file_error, loaded_at
    from raw.deliveries
    order by dataset, coalesce(survey_id, ''), delivery_id desc
),

serving as (
    select dataset, survey_id, loaded_at from raw.deliveries where is_current
)

select
    latest.dataset,
    latest.survey_id,
    latest.file_path,
    latest.file_error,
    latest.loaded_at as rejected_at,
    serving.loaded_at as serving_delivery_loaded_at
from latest
left join serving
    on serving.dataset = latest.dataset
    and coalesce(serving.survey_id, '') = coalesce(latest.survey_id, '')
where latest.is_file_rejected
order by latest.survey_id nulls first, array_position(%s::text[], latest.dataset)
"""


def rejected_files() -> pd.DataFrame:
    """Files whose newest delivery could not be read at all, with the reason.

    ``serving_delivery_loaded_at`` is when the earlier good delivery still in use was loaded (null: none).
    """
    return query(REJECTED_FILES_SQL, (list(DATASET_ORDER),))


QUARANTINE_SCOPES_SQL = """
select dataset, coalesce(survey_id, %s) as survey_id, count(*) as rows_rejected
from quarantine.rejected_rows_for_app
group by 1, 2
order by 2, array_position(%s::text[], dataset)
"""


def quarantine_scopes() -> pd.DataFrame:
    """The (dataset, survey) pairs that have quarantined rows; org files have survey_id ``ORG_FILES``."""
    return query(QUARANTINE_SCOPES_SQL, (ORG_FILES, list(DATASET_ORDER)))


_QUARANTINE_FILTER = """
    (%(dataset)s::text is null or dataset = %(dataset)s)
    and (%(survey_id)s::text is null or coalesce(survey_id, '') = %(survey_id)s)
"""

QUARANTINE_REASONS_SQL = f"""
with

rejected as (
    select dataset, reasons from quarantine.rejected_rows_for_app where {_QUARANTINE_FILTER}
),

reasons as (
    select reason, dataset from rejected cross join lateral unnest(rejected.reasons) as reason
),

final as (
    select
        reason,
        count(*) as rows_rejected,
        string_agg(distinct dataset, ', ') as datasets
    from reasons
    group by reason
)

select * from final
order by rows_rejected desc, reason
"""


def quarantine_reasons(dataset: str | None = None, survey_id: str | None = None) -> pd.DataFrame:
    """Quarantine reasons ranked by how many rows they rejected (a row with two reasons counts for both).

    ``dataset`` / ``survey_id`` narrow the ranking; ``survey_id=ORG_FILES`` means the org files.
    """
    return query(QUARANTINE_REASONS_SQL, {"dataset": dataset, "survey_id": survey_id})


QUARANTINE_SAMPLE_SQL = f"""
with

rejected as (
    select * from quarantine.rejected_rows_for_app where {_QUARANTINE_FILTER}
),

final as (
    select
        dataset,
        survey_id,
        file_path,
        line_number,
        array_to_string(reasons, '; ') as reasons,
        -- responses may hold unmasked comments: their raw record never leaves the database
        case when dataset = any(%(visible)s::text[]) then raw_record::text end as raw_record,
        rejected_at
    from rejected
)

select * from final
order by survey_id nulls first, array_position(%(order)s::text[], dataset), file_path, line_number nulls first
limit %(limit)s
"""

QUARANTINE_COUNT_SQL = f"select count(*) as n from quarantine.rejected_rows_for_app where {_QUARANTINE_FILTER}"


def quarantine_sample(
    dataset: str | None = None, survey_id: str | None = None, limit: int = QUARANTINE_SAMPLE_LIMIT
) -> pd.DataFrame:
    """Quarantined rows (file, line, every reason), first ``limit`` by file order.

    ``raw_record`` is null for responses (unmasked comments) and employees (names, emails).
    """
    return query(
        QUARANTINE_SAMPLE_SQL,
        {
            "dataset": dataset,
            "survey_id": survey_id,
            "visible": list(DATASETS_WITH_VISIBLE_RECORDS),
            "order": list(DATASET_ORDER),
            "limit": int(limit),
        },
    )


def quarantine_count(dataset: str | None = None, survey_id: str | None = None) -> int:
    """How many rows are quarantined in the selection."""
    return int(query(QUARANTINE_COUNT_SQL, {"dataset": dataset, "survey_id": survey_id}).iloc[0]["n"])
