"""The warehouse server: the embedded PostgreSQL (pgserver) by default, an external one when configured.

The embedded server is started with ``cleanup_mode=None`` so that it outlives the process that started it:
the Dagster webserver, the daemon, dbt and Streamlit are separate processes that all connect to it through
the Unix socket in its data directory.
"""

from __future__ import annotations

import logging
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import psycopg.sql

from orchestration.config import DAGSTER_DB, WAREHOUSE_DB, NovoraConfig

logging.getLogger("pgserver").setLevel(logging.WARNING)


class DatabaseError(RuntimeError):
    """A problem with the warehouse server that a user can act on (message is one clear line)."""


def _embedded_server(config: NovoraConfig):
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; /tmp is fine for a lock
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: it is only needed for the embedded server

    config.home.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(config.pgdata, cleanup_mode=None)
        if not is_running(config):
            # pgserver keeps one handle per data directory and process; a server stopped since this process first
            # reached it (`novora db stop`, a crash, a restart by the operator) is started again, not assumed up
            with server._lock:
                server.ensure_postgres_running()
        return server
    except Exception as exc:  # pgserver raises several kinds; the log in pgdata has the detail
        raise DatabaseError(
            f"could not start the embedded PostgreSQL in {config.pgdata}: {exc} (see {config.pgdata / 'log'})"
        ) from exc


def with_database(url: str, database: str) -> str:
    """Return ``url`` pointing at another database on the same server (query parameters such as host kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(database), parts.query, parts.fragment))


def ensure_server(config: NovoraConfig) -> str:
    """Make sure the warehouse server runs and both databases exist; return the warehouse URL."""
    if not config.embedded:
        assert config.database_url is not None
        _check_reachable(config.database_url)
        return config.database_url
    server = _embedded_server(config)
    admin_url = server.get_uri("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("select datname from pg_database")}
        for name in (WAREHOUSE_DB, DAGSTER_DB):
            if name not in existing:
                conn.execute(f'create database "{name}"')
    return with_database(admin_url, WAREHOUSE_DB)


def warehouse_url(config: NovoraConfig) -> str:
    """libpq URL of the warehouse, starting the embedded server if needed."""
    return ensure_server(config)


APP_ROLE = "novora_app"  # the Streamlit app's restricted role (migration 0006_app_role.sql)


def as_role(url: str, role: str) -> str:
    """``url`` connecting as ``role`` instead (no password: embedded servers trust their socket)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("user", "password")]
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{quote(role)}@{host}", parts.path, urlencode(query), parts.fragment))


def app_url(config: NovoraConfig) -> str:
    """URL the Streamlit app reads through: ``NOVORA_APP_DATABASE_URL``, else the warehouse as ``novora_app``."""
    url = ensure_server(config)
    return config.app_database_url or as_role(url, APP_ROLE)


def set_app_password(url: str, app_database_url: str) -> None:
    """Give ``novora_app`` the password of ``NOVORA_APP_DATABASE_URL`` (external servers; run after migrating)."""
    password = libpq_params(app_database_url)["password"]
    if password:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                psycopg.sql.SQL("alter role {} with password {}").format(
                    psycopg.sql.Identifier(APP_ROLE), psycopg.sql.Literal(password)
                )
            )


def dagster_storage_url(config: NovoraConfig) -> str:
    """URL for Dagster's run, event-log and schedule storage (dagster-postgres)."""
    if config.dagster_database_url:
        return config.dagster_database_url
    url = ensure_server(config)
    return url if not config.embedded else with_database(url, DAGSTER_DB)


def is_running(config: NovoraConfig) -> bool:
    """True when the embedded server's postmaster is alive (no server is started by asking)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver.utils import PostmasterInfo

    if not (config.pgdata / "PG_VERSION").exists():
        return False
    info = PostmasterInfo.read_from_pgdata(config.pgdata)
    return info is not None and info.is_running()


def running_warehouse_url(config: NovoraConfig) -> str | None:
    """The warehouse URL without starting anything: None when the embedded server is not running (an external
    server's URL is returned as configured, reachable or not)."""
    if not config.embedded:
        return config.database_url
    if not is_running(config):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(config.pgdata)
    return with_database(info.get_uri(), WAREHOUSE_DB) if info is not None else None


def stop_server(config: NovoraConfig) -> bool:
    """Stop the embedded server; return False when it was not running."""
    if not config.embedded:
        raise DatabaseError("NOVORA_DATABASE_URL points at an external server; Novora does not stop it")
    if not is_running(config):
        return False
    import os

    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=config.pgdata, user=user)
    except subprocess.CalledProcessError as exc:
        detail = first_line(exc.stderr or exc.stdout or exc) if isinstance(exc.stderr or exc.stdout, str) else exc
        raise DatabaseError(f"pg_ctl could not stop the server in {config.pgdata}: {detail}") from exc
    return True


def _check_reachable(url: str) -> None:
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to NOVORA_DATABASE_URL ({redact(url)}): {first_line(exc)}") from exc


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def libpq_params(url: str) -> dict[str, str]:
    """Split a libpq URL into the fields a dbt profile needs (host may be a socket directory)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {
        "host": query.get("host") or parts.hostname or "localhost",
        "port": str(query.get("port") or parts.port or 5432),
        "user": query.get("user") or parts.username or "postgres",
        "password": query.get("password") or parts.password or "",
        "dbname": (parts.path or "/").lstrip("/") or WAREHOUSE_DB,
        "sslmode": query.get("sslmode", "prefer"),
    }


@contextmanager
def connect(url: str, **kwargs) -> Iterator[psycopg.Connection]:
    """A psycopg connection that is closed on exit (commit on success, rollback on error)."""
    with psycopg.connect(url, **kwargs) as conn:
        yield conn
