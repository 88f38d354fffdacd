"""Fixtures for browser tests: a generated org materialised into its own embedded warehouse, with one account
per role, a real `streamlit run` server on a free port, and Debian's Chromium driven by Playwright. Every process
started here is stopped here."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from orchestration import database, migrate
from orchestration.config import child_environment, load_config

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SITE_OPTIONS = {"teams": 8, "employees_per_team": 12, "surveys": 3, "bad_rows": 6, "seed": 7}
# Above the default 4 so that a small team of this org (a planted low-participation team) is suppressed.
SITE_MIN_N = 6


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: drives a real browser against a real server (needs /usr/bin/chromium)")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and server logs go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@dataclass(frozen=True)
class Site:
    """A served app over a generated, materialised warehouse, with one signed-up account per role."""

    url: str
    database_url: str
    landing: Path
    accounts: dict[str, tuple[str, str]]  # role -> (email, password)
    manager_teams: frozenset[str]  # what the manager account may see, worked out here from org/teams.csv


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_manager_teams(landing: Path, employee_id: str) -> frozenset[str]:
    """The teams ``employee_id`` manages and every team below them, straight from teams.csv."""
    teams = read_csv(landing / "org" / "teams.csv")
    seen = {t["team_id"] for t in teams if t["manager_employee_id"] == employee_id}
    grew = True
    while grew:
        below = {t["team_id"] for t in teams if t["parent_team_id"] in seen}
        grew = not below <= seen
        seen |= below
    return frozenset(seen)


def choose_accounts(landing: Path) -> dict[str, str]:
    """role -> employee id: the first admin, the first viewer, and the manager who sees the most teams short of
    all of them (so that there are teams they must not see)."""
    people = [p for p in read_csv(landing / "org" / "employees.csv") if p["active"].lower() == "true"]
    chosen = {}
    for role in ("admin", "viewer"):
        chosen[role] = min(p["employee_id"] for p in people if p["dashboard_role"] == role)
    every_team = len(read_csv(landing / "org" / "teams.csv"))
    managers = [p["employee_id"] for p in people if p["dashboard_role"] == "manager"
                and 1 < len(expected_manager_teams(landing, p["employee_id"])) < every_team]
    chosen["manager"] = max(sorted(managers), key=lambda e: len(expected_manager_teams(landing, e)))
    return chosen


@contextmanager
def served_app(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`streamlit run dashboards/app.py` on a free port (the benchmark's server), for as long as the block runs."""
    from orchestration.bench_app import streamlit_server

    try:
        with streamlit_server(env, log_path) as url:
            yield url
    except RuntimeError as exc:  # it did not come up: say why, with its log
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def site(artifacts: Path) -> Iterator[Site]:
    """A small synthetic org (8 teams, 3 surveys, planted alerts and bad rows), materialised as `novora
    materialize` does, with passwords for one admin, one manager and one viewer, served by a real Streamlit."""
    from assets.access.auth import set_password
    from orchestration.definitions import build_definitions
    from orchestration.runner import materialize_all
    from orchestration.synthetic import GenerateOptions, generate

    # Not under pytest's basetemp: the embedded server runs as another user when tests run as root, and every
    # pytest start (this session's or a neighbour's) takes the others' permission off /tmp/pytest-of-<user>.
    root = Path(tempfile.mkdtemp(prefix="novora-e2e-"))
    landing = root / "landing"
    generate(landing, GenerateOptions(**SITE_OPTIONS))
    env = {"NOVORA_HOME": str(root / "home"), "NOVORA_LANDING": str(landing)}
    config = load_config(env)
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        os.environ.pop("NOVORA_DATABASE_URL", None)
        os.environ.pop("NOVORA_APP_DATABASE_URL", None)
        url = database.ensure_server(config)
        migrate.migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("update app.settings set value = %s where setting_key = 'min_n'", (str(SITE_MIN_N),))
        summary = materialize_all(config, build_definitions(config), echo=lambda message: None)
        assert summary.ok, [(s.name, s.error) for s in summary.steps if not s.ok]
        chosen = choose_accounts(landing)
        emails = {p["employee_id"]: p["email"] for p in read_csv(landing / "org" / "employees.csv")}
        accounts = {}
        with psycopg.connect(url, autocommit=True) as conn:
            for role, employee_id in chosen.items():
                password = f"e2e {role} password 2026"
                set_password(conn, emails[employee_id], password, actor="e2e")
                accounts[role] = (emails[employee_id], password)
        child = child_environment(config, base=saved)
        child.pop("NOVORA_DATABASE_URL", None)
        with served_app(child, artifacts / "streamlit-e2e.log") as app_url:
            yield Site(app_url, url, landing, accounts, expected_manager_teams(landing, chosen["manager"]))
    finally:
        database.stop_server(config)
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright's sync API."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
