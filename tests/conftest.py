"""Shared fixtures: one embedded PostgreSQL for the session, a fresh schema per test that needs one."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from orchestration import database, migrate
from orchestration.config import NovoraConfig, load_config
from tests.landing_fixture import write_landing

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")



def _without_dagster_state_storage():
    """``with DagsterInstance`` sets a "current" Dagster state storage in a context variable that its exit does not
    always clear (an instance entered in a generator is exited whenever that generator is collected, and then
    puts back whatever was current when it entered). Code building Definitions later reaches the disposed
    instance through it: "Attempted to resolve undefined DagsterInstance weakref"."""
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


@pytest.fixture(autouse=True)
def no_leftover_dagster_state_storage():
    """Each test starts and ends without a current Dagster state storage."""
    yield from _without_dagster_state_storage()


@pytest.fixture(autouse=True, scope="module")
def no_leftover_dagster_state_storage_in_module():
    """Each module's fixtures start without one too (a module fixture materialising a warehouse is set up before
    its first test's own reset; CI of 9e5f1b8 lost test_marts, test_privacy and test_rescore to a leftover)."""
    yield from _without_dagster_state_storage()


@pytest.fixture(autouse=True)
def main_module_kept():
    """Each test ends with the ``__main__`` it started with. Streamlit's AppTest runs a page as ``__main__`` and
    leaves it there; a process spawned afterwards (multiprocessing's spawn runs ``__main__``'s file again in the
    child) would run that page instead of the work it was given, and die."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def pg_home() -> Path:
    """NOVORA_HOME of the test session's embedded server (stopped and removed at the end).

    Not under pytest's basetemp: run as root, the server runs as the ``pgserver`` user, and any pytest start
    (this session's or a neighbour's) takes other users' access off ``/tmp/pytest-of-root``.
    """
    home = Path(tempfile.mkdtemp(prefix="novora-test-"))
    config = load_config({"NOVORA_HOME": str(home)})
    database.ensure_server(config)
    yield home
    database.stop_server(config)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def novora_config(pg_home: Path, tmp_path: Path) -> NovoraConfig:
    """A configuration on the session server with an empty landing zone of this test's own."""
    landing = tmp_path / "landing"
    landing.mkdir()
    return load_config({"NOVORA_HOME": str(pg_home), "NOVORA_LANDING": str(landing)})


@pytest.fixture
def warehouse_url(novora_config: NovoraConfig) -> str:
    """The warehouse with every Novora schema dropped and migrated again: each test starts empty."""
    url = database.ensure_server(novora_config)
    migrate.reset(url)
    return url


@pytest.fixture
def conn(warehouse_url: str):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def fixture_landing(novora_config: NovoraConfig) -> Path:
    """The hand-checked landing zone of tests/landing_fixture.py."""
    return write_landing(novora_config.landing)


def materialized_warehouse(pg_home: Path, landing: Path) -> tuple[NovoraConfig, str]:
    """An empty warehouse on the session server, everything in ``landing`` materialised as `novora materialize`
    would (real Dagster runs of ingestion, dbt, comments); every step must succeed."""
    from orchestration.definitions import build_definitions
    from orchestration.runner import materialize_all

    config = load_config({"NOVORA_HOME": str(pg_home), "NOVORA_LANDING": str(landing)})
    url = database.ensure_server(config)
    migrate.reset(url)
    summary = materialize_all(config, build_definitions(config), echo=lambda m: None)
    assert summary.ok, [(s.name, s.error, s.failed_checks) for s in summary.steps if not s.ok]
    return config, url
