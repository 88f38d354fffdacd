"""Retention: a survey's raw rows and landing files move to compressed Parquet under ``$NOVORA_HOME/archive``
and leave the warehouse; the marts stay; ``restore`` puts everything back exactly, for a backfill.

Layout of an archived survey, ``<archive>/surveys/<survey_id>/``:

- ``<schema>.<table>.parquet`` (zstd): the survey's rows of each raw table (``raw.deliveries``, ``raw.surveys``,
  ``raw.questions``, ``raw.invitations``, ``raw.responses``, ``quarantine.rejected_rows`` of its deliveries),
  ordered by key, column types kept (identities included, so restored rows keep their ids);
- ``landing.tar.gz``: the survey's landing folder as it was (modification times kept);
- ``manifest.json``: per file its sha256 and rows, per table its columns and PostgreSQL types, when and by whom
  it was archived and the warehouse's migration version. Restore checks every hash before touching anything.

The survey's definition (its raw.surveys and raw.questions rows and the delivery they came from) is archived
but stays in the warehouse: it holds no identities, and the marts order surveys by it ("the previous survey" of
every later survey). While a survey is archived, ``raw.archived_surveys`` says so and the survey-partitioned
assets (dbt's per-survey models, the comment stages) leave its results as they are (:func:`archived_among`).

Archive and restore are each one transaction: the files are written to a temporary folder, read back and
checked before the rows are deleted, and the folder is renamed into place before the commit; on any failure the
warehouse and the files are as they were.
"""

from __future__ import annotations

import calendar
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql

from assets.access.privacy import erase_restored
from assets.ingestion.files import sha256_file
from assets.ingestion.load import lock_slice, partition_name

MANIFEST = "manifest.json"
LANDING_ARCHIVE = "landing.tar.gz"
FORMAT_VERSION = 1
SETTING_KEY = "retention.raw_months"
DEFAULT_MONTHS = 24
_BATCH_ROWS = 50_000
_SURVEY_DATASETS = ("surveys", "questions", "invitations", "responses")
# Written last when landing files come back: a survey folder counts as delivered once it has a survey.json.
_DEFINITION_FILE = "survey.json"


class RetentionError(RuntimeError):
    """Something a user can act on (one clear line): nothing was changed."""


@dataclass(frozen=True)
class RawTable:
    """One table a survey has rows in: how to select them, in a stable order."""

    name: str  # schema.table
    where: str  # predicate on %(survey_id)s
    order_by: str
    kept: bool = False  # the survey definition: archived, but stays in the warehouse

    @property
    def file(self) -> str:
        return f"{self.name}.parquet"


_OF_SURVEY = "survey_id = %(survey_id)s"
# In foreign-key order: restore inserts in this order, archive deletes in the reverse.
RAW_TABLES = (
    RawTable("raw.deliveries", _OF_SURVEY, "delivery_id"),
    RawTable("raw.surveys", _OF_SURVEY, "survey_id", kept=True),
    RawTable("raw.questions", _OF_SURVEY, "question_id", kept=True),
    RawTable("raw.invitations", _OF_SURVEY, "employee_id"),
    RawTable("raw.responses", _OF_SURVEY, "response_id, question_id"),
    RawTable("quarantine.rejected_rows",
             "delivery_id in (select delivery_id from raw.deliveries where survey_id = %(survey_id)s)",
             "rejected_row_id"),
)
_TABLES = {t.name: t for t in RAW_TABLES}


# ---------------------------------------------------------------- the retention period (pure)


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus calendar months; the day is clamped to the target month's length (31 March - 1 = 28/29
    February), the time of day is kept."""
    if months < 0:
        raise ValueError("months must not be negative")
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def is_older(closed_at: datetime | None, cutoff: datetime) -> bool:
    """A survey is older than the period when it closed strictly before the cutoff; one still open never is."""
    return closed_at is not None and closed_at < cutoff


def retention_months(value: object, what: str = SETTING_KEY) -> int:
    """The ``retention.raw_months`` setting (or ``--older-than``) as a whole number of months, at least 1."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or int(text) < 1:
        raise RetentionError(f"{what} must be a whole number of months of at least 1, not {value!r}")
    return int(text)


@dataclass(frozen=True)
class SurveyAge:
    survey_id: str
    opened_at: datetime
    closed_at: datetime | None


def due_for_archive(surveys: Iterable[SurveyAge], cutoff: datetime | None,
                    named: Sequence[str] = ()) -> list[str]:
    """The surveys to archive: those named (all when none), and of them those older than ``cutoff`` (no age rule
    when ``cutoff`` is None); oldest first."""
    chosen = [s for s in surveys if (not named or s.survey_id in named)
              and (cutoff is None or is_older(s.closed_at, cutoff))]
    return [s.survey_id for s in sorted(chosen, key=lambda s: (s.opened_at, s.survey_id))]


# ---------------------------------------------------------------- files and the manifest (pure)


_ARROW_TYPES = {
    "text": pa.string(),
    "character varying": pa.string(),
    "jsonb": pa.string(),  # exported as PostgreSQL's own text of the value, loaded back as jsonb
    "text[]": pa.list_(pa.string()),
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "boolean": pa.bool_(),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
}


def arrow_type(pg_type: str) -> pa.DataType:
    try:
        return _ARROW_TYPES[pg_type]
    except KeyError:
        raise RetentionError(f"column type {pg_type} cannot be archived yet (assets/ingestion/retention.py)") from None


def arrow_schema(columns: Sequence[Mapping[str, str]]) -> pa.Schema:
    return pa.schema([pa.field(c["name"], arrow_type(c["type"])) for c in columns])


def table_entry(path: Path, rows: int, columns: Sequence[Mapping[str, str]], kept: bool) -> dict:
    """The manifest's record of one table's Parquet file."""
    return {"file": path.name, "rows": rows, "sha256": sha256_file(path), "columns": [dict(c) for c in columns],
            "kept_in_warehouse": kept}


def manifest_document(survey_id: str, *, opened_at: datetime, closed_at: datetime | None, archived_at: datetime,
                      archived_by: str, migration_version: int, landing_folder: Path, tables: Mapping[str, dict],
                      landing: dict | None) -> dict:
    """manifest.json of a survey archive (what :func:`verify_archive` checks)."""
    return {
        "format": FORMAT_VERSION,
        "survey_id": survey_id,
        "opened_at": opened_at.isoformat(),
        "closed_at": None if closed_at is None else closed_at.isoformat(),
        "archived_at": archived_at.isoformat(),
        "archived_by": archived_by,
        "migration_version": migration_version,
        "landing_folder": str(landing_folder),
        "tables": dict(tables),
        "landing": landing,
    }


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RetentionError(f"{path} is missing: not a Novora survey archive") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RetentionError(f"{path} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise RetentionError(f"{path} is not a version {FORMAT_VERSION} survey archive manifest")
    return manifest


def verify_archive(folder: Path, expected_manifest_sha256: str | None = None) -> dict:
    """Check an archive completely before anything is restored from it: the manifest's own hash (when the
    warehouse recorded one), every file's sha256, every Parquet file's rows and columns. Returns the manifest."""
    if expected_manifest_sha256 is not None:
        path = folder / MANIFEST
        if not path.is_file():
            raise RetentionError(f"{path} is missing: not a Novora survey archive")
        if sha256_file(path) != expected_manifest_sha256:
            raise RetentionError(f"{path} was altered after archiving (sha256 differs from the warehouse's record)")
    manifest = read_manifest(folder)
    entries = [(name, entry["file"], entry["sha256"]) for name, entry in manifest["tables"].items()]
    if manifest.get("landing"):
        entries.append(("landing files", manifest["landing"]["file"], manifest["landing"]["sha256"]))
    for what, file_name, expected in entries:
        path = folder / file_name
        if not path.is_file():
            raise RetentionError(f"{path} is missing from the archive ({what})")
        if sha256_file(path) != expected:
            raise RetentionError(f"{path} is damaged or was altered: its sha256 differs from the manifest")
    for name, entry in manifest["tables"].items():
        metadata = pq.read_metadata(folder / entry["file"])
        if metadata.num_rows != entry["rows"]:
            raise RetentionError(f"{name}: {metadata.num_rows} rows in {entry['file']}, "
                                 f"the manifest says {entry['rows']}")
        if not metadata.schema.to_arrow_schema().equals(arrow_schema(entry["columns"])):
            raise RetentionError(f"{name}: the columns of {entry['file']} differ from the manifest")
    return manifest


def decoded_rows(path: Path) -> int:
    """Rows of a Parquet file counted by decoding every page (a damaged page fails here, not at restore)."""
    return sum(batch.num_rows for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS))


def write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def pack_landing(folder: Path, target: Path) -> dict | None:
    """The survey's landing folder as a gzip'd tar (paths relative to it, modification times kept); None when
    there is no folder. Returns the manifest entry: the archive's and every file's sha256 and size."""
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with tarfile.open(target, "w:gz") as archive:
        for path in files:
            archive.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    return {
        "file": target.name,
        "sha256": sha256_file(target),
        "files": {p.relative_to(folder).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
                  for p in files},
    }


def unpack_landing(archive_path: Path, entry: dict, target: Path) -> dict[str, Path]:
    """Extract the landing files into ``target`` (a scratch folder) and check each against the manifest."""
    with tarfile.open(archive_path, "r:gz") as archive:
        archive.extractall(target, filter="data")
    found = {}
    for name, expected in entry["files"].items():
        path = target / name
        if not path.is_file() or sha256_file(path) != expected["sha256"]:
            raise RetentionError(f"landing file {name} in {archive_path} does not match the manifest")
        found[name] = path
    return found


# ---------------------------------------------------------------- the warehouse side


@dataclass
class ArchiveResult:
    survey_id: str
    status: str  # archived | already_archived
    path: Path
    row_counts: dict[str, int] = field(default_factory=dict)
    landing_files: int = 0
    warnings: list[str] = field(default_factory=list)  # after the commit: what is left for someone to tidy


@dataclass
class RestoreResult:
    survey_id: str
    path: Path
    row_counts: dict[str, int] = field(default_factory=dict)
    landing_files: int = 0
    warnings: list[str] = field(default_factory=list)


def archived_among(conn: psycopg.Connection, survey_ids: Iterable[str]) -> set[str]:
    """Which of these surveys are archived now (their raw rows are in the archive, their results stay as built)."""
    ids = list(survey_ids)
    if not ids:
        return set()
    rows = conn.execute("select survey_id from raw.archived_surveys where survey_id = any(%s)", (ids,))
    return {row[0] for row in rows}


def archived_redelivery(conn: psycopg.Connection, landing: Path, survey_id: str) -> str | None:
    """Why files delivered for an archived survey must not be loaded (None when the survey is not archived or
    its landing folder is absent, as it is after archiving): loading them would mix new rows into a survey whose
    results are frozen. Waits for an archive or restore of the survey in progress (row lock)."""
    row = conn.execute("select archive_path from raw.archived_surveys where survey_id = %s for share",
                       (survey_id,)).fetchone()
    folder = landing / "surveys" / survey_id
    if row is None or not (folder.is_dir() and any(folder.iterdir())):
        return None
    return (f"survey {survey_id} is archived ({row[0]}): restore it first with "
            f"`novora retention restore --survey {survey_id}`, then deliver its files again")


def configured_months(conn: psycopg.Connection) -> int:
    row = conn.execute("select value from app.settings where setting_key = %s", (SETTING_KEY,)).fetchone()
    return DEFAULT_MONTHS if row is None else retention_months(row[0])


def survey_ages(conn: psycopg.Connection) -> list[SurveyAge]:
    """Every survey in the warehouse that is not archived."""
    rows = conn.execute(
        """select s.survey_id, s.opened_at, s.closed_at from raw.surveys as s
           where not exists (select from raw.archived_surveys as a where a.survey_id = s.survey_id)
           order by s.opened_at, s.survey_id""").fetchall()
    return [SurveyAge(*row) for row in rows]


def plan_archive(conn: psycopg.Connection, *, months: int | None = None, survey_ids: Sequence[str] = (),
                 now: datetime | None = None) -> list[str]:
    """The surveys an archive run would take. Named surveys are taken whatever their age unless ``months`` is
    given too; without names, the surveys closed more than ``months`` (default: the setting) months ago.
    Named surveys must exist; named surveys already archived are left out (archiving them is a no-op)."""
    if survey_ids:
        known = {row[0] for row in conn.execute("select survey_id from raw.surveys where survey_id = any(%s)",
                                                (list(survey_ids),))}
        unknown = [s for s in survey_ids if s not in known]
        if unknown:
            raise RetentionError(f"survey {unknown[0]} is not in the warehouse")
    if months is None and not survey_ids:
        months = configured_months(conn)
    cutoff = None if months is None else months_before(now or datetime.now(UTC), months)
    return due_for_archive(survey_ages(conn), cutoff, survey_ids)


def table_columns(conn: psycopg.Connection, table: str) -> list[dict[str, str]]:
    """The table's columns in order with their PostgreSQL types (stored generated columns left out)."""
    schema, name = table.split(".")
    rows = conn.execute(
        """select a.attname, format_type(a.atttypid, a.atttypmod)
           from pg_attribute as a
           where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
           order by a.attnum""", (f"{schema}.{name}",)).fetchall()
    return [{"name": column, "type": pg_type} for column, pg_type in rows]


def _select(table: RawTable, columns: Sequence[Mapping[str, str]]) -> sql.Composed:
    fields = [sql.SQL("{}::text").format(sql.Identifier(c["name"])) if c["type"] == "jsonb"
              else sql.Identifier(c["name"]) for c in columns]
    return sql.SQL("select {} from {} where {} order by {}").format(
        sql.SQL(", ").join(fields), sql.Identifier(*table.name.split(".")), sql.SQL(table.where),
        sql.SQL(table.order_by))


def _batches(conn: psycopg.Connection, query: sql.Composed, survey_id: str, schema: pa.Schema
             ) -> Iterator[pa.RecordBatch]:
    with conn.cursor(name="novora_retention_export") as cursor:
        cursor.execute(query, {"survey_id": survey_id})
        while rows := cursor.fetchmany(_BATCH_ROWS):
            columns = list(zip(*rows))
            yield pa.record_batch([pa.array(values, type=f.type) for values, f in zip(columns, schema)],
                                  schema=schema)


def export_table(conn: psycopg.Connection, table: RawTable, survey_id: str, folder: Path) -> dict:
    """Write the survey's rows of ``table`` to ``folder/<table>.parquet`` (zstd); return its manifest entry."""
    columns = table_columns(conn, table.name)
    schema = arrow_schema(columns)
    path = folder / table.file
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in _batches(conn, _select(table, columns), survey_id, schema):
            writer.write_batch(batch)
            rows += batch.num_rows
        if rows == 0:
            writer.write_table(schema.empty_table())
    return table_entry(path, rows, columns, table.kept)


def count_rows(conn: psycopg.Connection, table: RawTable, survey_id: str) -> int:
    query = sql.SQL("select count(*) from {} where {}").format(sql.Identifier(*table.name.split(".")),
                                                               sql.SQL(table.where))
    row = conn.execute(query, {"survey_id": survey_id}).fetchone()
    return int(row[0]) if row else 0


def _lock_survey(conn: psycopg.Connection, survey_id: str) -> None:
    """Hold the ingestion locks of every dataset of the survey: no delivery of it loads meanwhile."""
    for dataset in _SURVEY_DATASETS:
        lock_slice(conn, dataset, survey_id)


def _migration_version(conn: psycopg.Connection) -> int:
    row = conn.execute("select coalesce(max(version), 0) from app.schema_migrations").fetchone()
    return int(row[0]) if row else 0


def _audit(conn: psycopg.Connection, actor: str, action: str, survey_id: str, detail: dict) -> None:
    conn.execute("insert into app.audit_log (actor, action, subject, detail) values (%s, %s, %s, %s)",
                 (actor, action, survey_id, json.dumps(detail)))


def survey_archive_dir(archive_root: Path, survey_id: str) -> Path:
    return archive_root / "surveys" / survey_id


def _scratch(archive_root: Path, prefix: str) -> Path:
    """A scratch folder next to the archives (same file system, so renaming it into place is atomic)."""
    parent = archive_root / "surveys"
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def archive_survey(conn: psycopg.Connection, survey_id: str, *, archive_root: Path, landing: Path, actor: str,
                   now: datetime | None = None) -> ArchiveResult:
    """Archive one survey: Parquet files, landing files and manifest written and checked, then its raw rows
    deleted (definition kept) and its landing folder removed. A survey archived already is left alone."""
    target = survey_archive_dir(archive_root, survey_id)
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RetentionError("archive needs a connection outside a transaction")
    scratch = _scratch(archive_root, f".archiving-{survey_id}-")
    moved = False
    try:
        with conn.transaction():
            _lock_survey(conn, survey_id)
            if archived_among(conn, [survey_id]):
                return ArchiveResult(survey_id, "already_archived", target)
            opened = conn.execute("select opened_at, closed_at from raw.surveys where survey_id = %s",
                                  (survey_id,)).fetchone()
            if opened is None:
                raise RetentionError(f"survey {survey_id} is not in the warehouse")
            if target.exists():
                raise RetentionError(f"{target} exists but survey {survey_id} is not archived: move it away first")
            tables = {t.name: export_table(conn, t, survey_id, scratch) for t in RAW_TABLES}
            landing_folder = landing / "surveys" / survey_id
            manifest = manifest_document(
                survey_id, opened_at=opened[0], closed_at=opened[1], archived_at=now or datetime.now(UTC),
                archived_by=actor, migration_version=_migration_version(conn), landing_folder=landing_folder,
                tables=tables, landing=pack_landing(landing_folder, scratch / LANDING_ARCHIVE))
            write_json(scratch / MANIFEST, manifest)
            verify_archive(scratch)  # every hash, row count and column type
            counts = {name: entry["rows"] for name, entry in tables.items()}
            for name, rows in counts.items():
                decoded = decoded_rows(scratch / tables[name]["file"])  # read back, every page decoded
                in_warehouse = count_rows(conn, _TABLES[name], survey_id)
                if not decoded == rows == in_warehouse:
                    raise RetentionError(f"{name}: {in_warehouse} rows in the warehouse, {rows} written, "
                                         f"{decoded} read back: nothing archived")
            deleted = _delete_raw(conn, survey_id)
            manifest_sha = sha256_file(scratch / MANIFEST)
            conn.execute(
                """insert into raw.archived_surveys (survey_id, archived_by, archive_path, manifest_sha256,
                       row_counts) values (%s, %s, %s, %s, %s)""",
                (survey_id, actor, str(target), manifest_sha, json.dumps(counts)))
            landing_count = len(manifest["landing"]["files"]) if manifest["landing"] else 0
            _audit(conn, actor, "retention.archive", survey_id, {
                "archive_path": str(target), "row_counts": counts, "rows_deleted": deleted,
                "landing_files": landing_count, "manifest_sha256": manifest_sha})
            os.replace(scratch, target)
            moved = True
    except BaseException:
        if moved:  # the commit failed after the rename: the rows are still in the warehouse
            shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = ArchiveResult(survey_id, "archived", target, counts, landing_count)
    try:
        _remove_landing(landing / "surveys" / survey_id)
    except OSError as exc:  # archived and committed; the leftover folder is no survey without its survey.json
        result.warnings.append(f"could not remove the landing folder {landing / 'surveys' / survey_id}: {exc}")
    return result


def _delete_raw(conn: psycopg.Connection, survey_id: str) -> dict[str, int]:
    """Delete the survey's archived rows (its definition and the delivery it references stay)."""
    params = {"survey_id": survey_id}
    deleted = {}
    deleted["quarantine.rejected_rows"] = conn.execute(
        "delete from quarantine.rejected_rows where " + _TABLES["quarantine.rejected_rows"].where, params).rowcount
    deleted["raw.invitations"] = conn.execute("delete from raw.invitations where survey_id = %(survey_id)s",
                                              params).rowcount
    deleted["raw.responses"] = count_rows(conn, _TABLES["raw.responses"], survey_id)
    # The survey's partition goes whole (a later delivery creates a new one, restore too).
    conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier("raw", partition_name(survey_id))))
    deleted["raw.deliveries"] = conn.execute(
        """delete from raw.deliveries as d where d.survey_id = %(survey_id)s
           and not exists (select from raw.surveys as s where s.delivery_id = d.delivery_id)
           and not exists (select from raw.questions as q where q.delivery_id = d.delivery_id)""",
        params).rowcount
    return deleted


def _remove_landing(folder: Path) -> None:
    """Remove an archived survey's landing folder, survey.json first: without it the folder is no survey to the
    sensor or ``novora materialize`` even if the rest cannot be removed."""
    if not folder.is_dir():
        return
    (folder / _DEFINITION_FILE).unlink(missing_ok=True)
    shutil.rmtree(folder)


def list_archived(conn: psycopg.Connection) -> list[tuple]:
    """survey_id, archived_at, archived_by, archive_path, row_counts of every archived survey, oldest first."""
    return conn.execute(
        """select survey_id, archived_at, archived_by, archive_path, row_counts
           from raw.archived_surveys order by archived_at, survey_id""").fetchall()


def _rows_in_warehouse(conn: psycopg.Connection, table: RawTable, survey_id: str,
                       columns: Sequence[Mapping[str, str]]) -> pa.Table:
    schema = arrow_schema(columns)
    batches = list(_batches(conn, _select(table, columns), survey_id, schema))
    return pa.Table.from_batches(batches, schema=schema)


def _copy_in(conn: psycopg.Connection, table: str, data: pa.Table) -> int:
    """COPY the rows back with their own values (identity columns included: COPY writes them as given)."""
    statement = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, data.column_names)))
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for batch in data.to_batches(_BATCH_ROWS):
            for row in zip(*(column.to_pylist() for column in batch.columns)):
                copy.write_row(row)
    return data.num_rows


def restore_survey(conn: psycopg.Connection, survey_id: str, *, archive_root: Path, landing: Path,
                   actor: str) -> RestoreResult:
    """Put an archived survey back: every archived row with its ids and types, its landing files, then the
    archive folder goes. Every file is checked against the manifest (and the manifest against the warehouse's
    record) first; any mismatch changes nothing."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RetentionError("restore needs a connection outside a transaction")
    placed: list[Path] = []
    scratch: Path | None = None
    try:
        with conn.transaction():
            _lock_survey(conn, survey_id)
            record = conn.execute(
                "select archive_path, manifest_sha256 from raw.archived_surveys where survey_id = %s for update",
                (survey_id,)).fetchone()
            if record is None:
                in_warehouse = conn.execute("select exists (select from raw.surveys where survey_id = %s)",
                                            (survey_id,)).fetchone()
                if in_warehouse and in_warehouse[0]:
                    raise RetentionError(f"survey {survey_id} is not archived: its rows are in the warehouse")
                raise RetentionError(f"survey {survey_id} is not archived")
            folder = Path(record[0])
            manifest = verify_archive(folder, expected_manifest_sha256=record[1])
            if manifest.get("survey_id") != survey_id:
                raise RetentionError(f"{folder / MANIFEST} belongs to survey {manifest.get('survey_id')}")
            unknown = set(manifest["tables"]) - set(_TABLES)
            if unknown:
                raise RetentionError(f"{folder / MANIFEST} names an unknown table {sorted(unknown)[0]}")
            counts = {}
            for table in RAW_TABLES:  # foreign-key order (the manifest's keys are sorted by name)
                if table.name not in manifest["tables"]:
                    raise RetentionError(f"{folder / MANIFEST} has no entry for {table.name}")
                counts[table.name] = _restore_table(conn, table, survey_id, folder, manifest["tables"][table.name])
            # people erased since the archive was written stay erased (privacy requests, assets/access/privacy.py)
            pseudonymised = erase_restored(conn, survey_id)
            conn.execute("delete from raw.archived_surveys where survey_id = %s", (survey_id,))
            landing_entry = manifest.get("landing")
            _audit(conn, actor, "retention.restore", survey_id, {
                "archive_path": str(folder), "row_counts": counts, "rows_pseudonymised": pseudonymised,
                "landing_files": len(landing_entry["files"]) if landing_entry else 0})
            if landing_entry:
                scratch = _scratch(archive_root, f".restoring-{survey_id}-")
                files = unpack_landing(folder / landing_entry["file"], landing_entry, scratch)
                placed = _place_landing(files, landing / "surveys" / survey_id)
    except BaseException:
        _undo_placing(placed, landing / "surveys" / survey_id)
        raise
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    result = RestoreResult(survey_id, folder, counts, len(landing_entry["files"]) if landing_entry else 0)
    try:
        _retire_archive(folder)
    except OSError as exc:  # restored and committed; the archive is only a leftover now
        result.warnings.append(f"could not remove the archive {folder} after restoring: {exc}")
    return result


def _restore_table(conn: psycopg.Connection, table: RawTable, survey_id: str, folder: Path, entry: dict) -> int:
    """Insert the archived rows the warehouse lacks; rows kept in the warehouse must equal the archived ones."""
    columns = entry["columns"]
    current = {c["name"]: c["type"] for c in table_columns(conn, table.name)}
    for column in columns:
        if current.get(column["name"]) != column["type"]:
            raise RetentionError(f"{table.name}.{column['name']} is no longer {column['type']} in the warehouse: "
                                 "this archive cannot be restored as it is")
    archived = pq.read_table(folder / entry["file"])
    present = _rows_in_warehouse(conn, table, survey_id, columns)
    if table.name == "raw.deliveries":
        # the delivery the kept definition references is still there: it must be the archived one
        ids = set(present.column("delivery_id").to_pylist())
        kept = archived.filter(pa.array([i in ids for i in archived.column("delivery_id").to_pylist()], pa.bool_()))
        if not kept.equals(present):
            raise RetentionError(f"survey {survey_id}'s deliveries in the warehouse differ from the archive")
        missing = archived.filter(pa.array([i not in ids for i in archived.column("delivery_id").to_pylist()],
                                           pa.bool_()))
        return _copy_in(conn, table.name, missing)
    if table.kept:
        if not present.equals(archived):
            raise RetentionError(f"{table.name}: survey {survey_id}'s rows in the warehouse differ from the archive "
                                 "(was it delivered again?)")
        return 0
    if present.num_rows:
        raise RetentionError(f"{table.name} holds {present.num_rows} rows of survey {survey_id} already: "
                             "nothing restored")
    if table.name == "raw.responses" and archived.num_rows:
        conn.execute(sql.SQL("create table {} partition of raw.responses for values in ({})").format(
            sql.Identifier("raw", partition_name(survey_id)), sql.Literal(survey_id)))
    return _copy_in(conn, table.name, archived)


def _place_landing(files: Mapping[str, Path], folder: Path) -> list[Path]:
    """Copy the landing files back (modification times kept), survey.json last. A file already there must be
    identical. Returns the files written (for undoing)."""
    for name, source in files.items():
        existing = folder / name
        if existing.exists() and sha256_file(existing) != sha256_file(source):
            raise RetentionError(f"{existing} differs from the archived file: move it away first")
    placed = []
    for name in sorted(files, key=lambda n: (n == _DEFINITION_FILE, n)):
        destination = folder / name
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(files[name], destination)
        placed.append(destination)
    return placed


def _undo_placing(placed: Sequence[Path], folder: Path) -> None:
    """Remove the landing files a failed restore wrote, and the folders it left empty."""
    for path in placed:
        path.unlink(missing_ok=True)
    for directory in sorted({p.parent for p in placed}, key=lambda p: len(p.parts), reverse=True):
        while directory != folder.parent and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent


def _retire_archive(folder: Path) -> None:
    """The archive of a restored survey goes (its rows and files are back); renamed first, so a half-removed
    folder is never taken for an archive."""
    if not folder.exists():
        return
    retired = folder.with_name(f".restored-{folder.name}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}")
    os.replace(folder, retired)
    shutil.rmtree(retired, ignore_errors=True)
