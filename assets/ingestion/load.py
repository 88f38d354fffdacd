"""Writing validated rows into ``raw`` and rejected ones into ``quarantine``, atomically, with COPY.

A dataset (or one survey's slice of it) is replaced in a single transaction: the previous rows and the
previous quarantine entries are deleted, the new delivery is recorded, and the new rows are copied in. Readers
see either the old delivery or the new one, never a mixture.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from assets.ingestion.validate import Rejection


@dataclass(frozen=True)
class Delivery:
    """What one file delivered and what became of it; written to ``raw.deliveries``."""

    dataset: str
    survey_id: str | None
    file_path: str
    content_sha256: str | None
    fingerprint: str
    rows_delivered: int
    rows_loaded: int
    rows_rejected: int
    file_error: str | None = None
    file_modified_at: datetime | None = None


def current_fingerprint(conn: psycopg.Connection, dataset: str, survey_id: str | None) -> str | None:
    row = conn.execute(
        "select fingerprint from raw.deliveries where is_current and dataset = %s "
        "and coalesce(survey_id, '') = coalesce(%s, '')",
        (dataset, survey_id),
    ).fetchone()
    return row[0] if row else None


def record_delivery(conn: psycopg.Connection, delivery: Delivery) -> int:
    """Make ``delivery`` the current one for its dataset (and survey); return its id."""
    conn.execute(
        "update raw.deliveries set is_current = false where is_current and dataset = %s "
        "and coalesce(survey_id, '') = coalesce(%s, '')",
        (delivery.dataset, delivery.survey_id),
    )
    row = conn.execute(
        """insert into raw.deliveries (dataset, survey_id, file_path, content_sha256, fingerprint, rows_delivered,
               rows_loaded, rows_rejected, is_file_rejected, file_error, file_modified_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning delivery_id""",
        (
            delivery.dataset,
            delivery.survey_id,
            delivery.file_path,
            delivery.content_sha256,
            delivery.fingerprint,
            delivery.rows_delivered,
            delivery.rows_loaded,
            delivery.rows_rejected,
            delivery.file_error is not None,
            delivery.file_error,
            delivery.file_modified_at,
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


def delete_rows(conn: psycopg.Connection, table: str, survey_id: str | None = None) -> int:
    """Delete a table's rows, or one survey's rows of it."""
    target = sql.Identifier(*table.split("."))
    if survey_id is None:
        cursor = conn.execute(sql.SQL("delete from {}").format(target))
    else:
        cursor = conn.execute(sql.SQL("delete from {} where survey_id = %s").format(target), (survey_id,))
    return cursor.rowcount


def lock_slice(conn: psycopg.Connection, dataset: str, survey_id: str | None) -> None:
    """Serialise loads of the same dataset slice: two deliveries of one survey at once load one after the other
    (and the second, holding the lock, finds the delivery already loaded when it is the same file)."""
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"novora:{dataset}:{survey_id or ''}",))


def partition_name(survey_id: str) -> str:
    """A safe, stable table name for a survey's partition (survey ids are free text)."""
    return "responses_" + hashlib.sha256(survey_id.encode()).hexdigest()[:16]


def swap_survey_partition(
    conn: psycopg.Connection, table: str, survey_id: str, frame: pd.DataFrame, columns: Sequence[str]
) -> int:
    """Replace one survey's partition of ``table`` (partitioned by list of survey_id) with ``frame``.

    The rows are copied into a new table without indexes, the primary key is built in bulk (several times
    faster than maintaining it row by row), and the table replaces the old partition. Call inside a
    transaction: until it commits, readers keep seeing the old partition.
    """
    schema, parent = table.split(".")
    final = partition_name(survey_id)
    staging = final + "_new"
    conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(schema, staging)))
    conn.execute(sql.SQL("create table {} (like {} including defaults)").format(
        sql.Identifier(schema, staging), sql.Identifier(schema, parent)))
    copied = copy_frame(conn, f"{schema}.{staging}", frame, columns)
    conn.execute(sql.SQL("alter table {} add constraint {} check (survey_id = {})").format(
        sql.Identifier(schema, staging), sql.Identifier(staging + "_survey"), sql.Literal(survey_id)))
    conn.execute(sql.SQL("alter table {} add primary key (survey_id, response_id, question_id)").format(
        sql.Identifier(schema, staging)))
    conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(schema, final)))
    conn.execute(sql.SQL("alter table {} attach partition {} for values in ({})").format(
        sql.Identifier(schema, parent), sql.Identifier(schema, staging), sql.Literal(survey_id)))
    conn.execute(sql.SQL("alter table {} rename to {}").format(
        sql.Identifier(schema, staging), sql.Identifier(final)))
    return copied


def replace_rows(
    conn: psycopg.Connection, table: str, survey_id: str | None, frame: pd.DataFrame, columns: Sequence[str]
) -> int:
    """Replace a table's rows (or one survey's rows) with ``frame``: delete, then COPY. Call inside a transaction."""
    delete_rows(conn, table, survey_id)
    return copy_frame(conn, table, frame, columns)


def copy_frame(conn: psycopg.Connection, table: str, frame: pd.DataFrame, columns: Sequence[str]) -> int:
    """COPY ``frame[columns]`` into ``table``. None becomes NULL; every value is sent as text.

    Arrow writes the CSV (about 15x faster than pandas at 1.25 M rows): strings are quoted, so an empty
    string stays an empty string and only a missing value, written unquoted, becomes NULL.
    """
    if frame.empty:
        return 0
    table_arrow = pa.Table.from_pandas(frame[list(columns)].astype(object), preserve_index=False)
    table_arrow = table_arrow.cast(pa.schema([pa.field(c, pa.string()) for c in columns]))
    buffer = io.BytesIO()
    pacsv.write_csv(table_arrow, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        view = buffer.getbuffer()
        for start in range(0, len(view), 8 << 20):
            copy.write(view[start : start + (8 << 20)])
        del view
    return len(frame)


def replace_quarantine(
    conn: psycopg.Connection,
    delivery_id: int,
    dataset: str,
    survey_id: str | None,
    file_path: str,
    rejections: Iterable[Rejection],
) -> int:
    """Swap the quarantine entries of a dataset (and survey) for those of the new delivery."""
    conn.execute(
        "delete from quarantine.rejected_rows where dataset = %s and coalesce(survey_id, '') = coalesce(%s, '')",
        (dataset, survey_id),
    )
    rows = [
        (delivery_id, dataset, survey_id, file_path, r.line_number,
         None if r.raw_record is None else json.dumps(r.raw_record, ensure_ascii=False), list(r.reasons))
        for r in rejections
    ]
    if rows:
        with conn.cursor() as cursor, cursor.copy(
            "copy quarantine.rejected_rows (delivery_id, dataset, survey_id, file_path, line_number, raw_record,"
            " reasons) from stdin"
        ) as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)
