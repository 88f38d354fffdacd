"""Versioned schema migrations for the warehouse.

Each file ``orchestration/migrations/NNNN_name.sql`` is applied once, in order, inside its own transaction,
and recorded in ``app.schema_migrations`` with its checksum. A transaction-scoped advisory lock makes
concurrent callers (webserver, daemon, CLI starting at the same time) wait instead of racing. Assets never
create tables themselves; they rely on the schema being at the latest version.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Every schema Novora owns (SPEC section 5); dbt's and the migrations' objects live only in these.
NOVORA_SCHEMAS = ("raw", "quarantine", "nlp", "staging", "intermediate", "marts", "alerts", "app")
_LOCK_KEY = 0x4E4F564F  # "NOVO": any constant shared by every Novora process
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migration files, ordered by version; a gap or a badly named file is an error."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file name must look like 0001_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migration versions must be 1..N without gaps, found {versions}")
    return found


def migrate(url: str, migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations; return the versions applied now (empty when already current)."""
    migrations = discover() if migrations is None else migrations
    applied_now: list[int] = []
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("create schema if not exists app")
        conn.execute(
            """create table if not exists app.schema_migrations (
                       version    integer primary key,
                       name       text not null,
                       checksum   text not null,
                       applied_at timestamptz not null default now())"""
        )
        done = {v: c for v, c in conn.execute("select version, checksum from app.schema_migrations")}
        for migration in migrations:
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} was changed after it was applied; "
                        "add a new migration instead"
                    )
                continue
            conn.execute(migration.sql)
            conn.execute(
                "insert into app.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(migration.version)
    return applied_now


def reset(url: str) -> None:
    """Drop every Novora schema and migrate again: an empty warehouse (benchmark and test runs, never the CLI)."""
    with psycopg.connect(url, autocommit=True) as conn:
        # another session still holding a Novora table (a run left waiting) fails the reset in a minute, not never
        conn.execute("set lock_timeout = '60s'")
        conn.execute("drop schema if exists " + ", ".join(NOVORA_SCHEMAS) + " cascade")
    migrate(url)


def current_version(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select coalesce(max(version), 0) from app.schema_migrations"
            if _has_table(conn)
            else "select 0"
        ).fetchone()
    return int(row[0]) if row else 0


def _has_table(conn: psycopg.Connection) -> bool:
    row = conn.execute("select to_regclass('app.schema_migrations') is not null").fetchone()
    return bool(row and row[0])
