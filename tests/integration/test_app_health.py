"""The Data health page (admins only) against a real warehouse and a real Dagster instance.

One module warehouse of its own (own NOVORA_HOME, so its Dagster run history holds only these runs): the
hand-checked landing zone of tests/landing_fixture.py after one `materialize_all`. The page is run on its own
with a signed-in ``Viewer`` in session state (how every page is tested), and once through app.py with a real
sign-in. Every expected count was taken by hand from the fixture's literals (see the comments there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import data, health
from dashboards.scope import Viewer
from orchestration import database
from orchestration import health as oh
from orchestration.config import load_config
from tests.landing_fixture import write_landing

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboards" / "views" / "data_health.py")
APP = str(ROOT / "dashboards" / "app.py")
TIMEOUT = 90  # seconds; the first run imports the code location
DAGSTER_URL = "http://dagster.test:3000"

ADMIN = Viewer("E001", "ada.lovelace@acme.example", "admin", None)
MANAGER = Viewer("E002", "grace.hopper@acme.example", "manager", ("eng",))

# Hand-counted from tests/landing_fixture.py.
TEAMS, TEAMS_REJECTED = 3, 1  # ghost: unknown manager
EMPLOYEES, EMPLOYEES_REJECTED = 8, 3  # E005 duplicate, team xyz, line 12
QUESTIONS = 4  # happiness: unknown driver
INVITED, INVITATIONS_REJECTED = 7, 3
ANSWERS, ANSWERS_REJECTED = 11, 13
RESPONDENTS = 3  # r1, r2, r3
QUARANTINED = TEAMS_REJECTED + EMPLOYEES_REJECTED + 1 + INVITATIONS_REJECTED + ANSWERS_REJECTED  # 21
FILES_WITH_REJECTIONS = 5  # teams, employees, survey.json, invitations, responses
NO_DAEMON = ("**Dagster daemon:** no heartbeat from the Dagster daemon ever: is `dagster-daemon run` up (`novora demo` "
             "starts it)?\n\nNothing lands or rebuilds until it runs again (`novora health` checks the same).")


@pytest.fixture(scope="module")
def warehouse() -> Iterator[dict[str, str]]:
    """Environment of a warehouse holding the materialised fixture, with its own Dagster instance."""
    from orchestration.definitions import build_definitions
    from orchestration.runner import materialize_all

    saved = dict(os.environ)
    # not under pytest's basetemp: the embedded server runs as another user when tests run as root
    root = Path(tempfile.mkdtemp(prefix="novora-health-"))
    env = {"NOVORA_HOME": str(root / "home"), "NOVORA_LANDING": str(write_landing(root / "landing"))}
    try:
        os.environ.update(env)
        for name in ("NOVORA_DATABASE_URL", "NOVORA_APP_DATABASE_URL", "NOVORA_DAGSTER_DATABASE_URL"):
            os.environ.pop(name, None)
        config = load_config()
        summary = materialize_all(config, build_definitions(config), echo=lambda message: None)
        assert summary.ok, [(s.name, s.error, s.failed_checks) for s in summary.steps if not s.ok]
        yield env
    finally:
        database.stop_server(load_config())
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def loaded(warehouse, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in warehouse.items():
        monkeypatch.setenv(name, value)
    for name in ("NOVORA_DATABASE_URL", "NOVORA_APP_DATABASE_URL", "NOVORA_DAGSTER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOVORA_DAGSTER_URL", DAGSTER_URL)
    return warehouse


@pytest.fixture
def instance(loaded) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(load_config().dagster_home)) as opened:
        yield opened


def run_page(viewer: Viewer | None, tab: str | None = None) -> AppTest:
    """The page as ``viewer``, with its tab ``tab`` open (the first, Deliveries, by default)."""
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    if viewer is not None:
        at.session_state["novora_viewer"] = viewer
    if tab is not None:
        at.session_state["health_tab"] = tab
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has ``column``."""
    [frame] = [f.value for f in at.dataframe if column in f.value.columns]
    return frame


# ---------------------------------------------------------------- access


def test_not_signed_in_sees_nothing(loaded) -> None:
    at = run_page(None)
    assert [w.value for w in at.warning] == ["Sign in to see survey results."]
    assert not at.title and not at.dataframe and not at.metric


def test_a_manager_is_refused(loaded) -> None:
    at = run_page(MANAGER)
    assert [e.value for e in at.error] == ["This page is for admins only."]
    assert not at.title and not at.dataframe and not at.metric


def test_an_admin_reaches_it_through_the_app(loaded) -> None:
    from assets.access.auth import set_password

    with psycopg.connect(database.ensure_server(load_config()), autocommit=True) as conn:
        set_password(conn, ADMIN.email, "correct horse battery", actor="test")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input[0].input(ADMIN.email)
    at.text_input[1].input("correct horse battery")
    at.button[0].click().run()
    at.switch_page("views/data_health.py").run()

    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["Data health"]
    assert [tab.label for tab in at.tabs] == ["Deliveries", "Quarantine", "Asset freshness", "Latest runs"]
    assert {s.value for s in at.subheader} == {"Current deliveries", "Files rejected whole"}


# ---------------------------------------------------------------- ingested counts


def test_ingested_counts_read_the_ledger_not_staging(loaded) -> None:
    # data.query connects as novora_app, which cannot read staging: these counts come from raw.deliveries
    assert health.ingested_counts() == health.IngestedCounts(
        teams=TEAMS, teams_rejected=TEAMS_REJECTED, employees=EMPLOYEES, employees_rejected=EMPLOYEES_REJECTED,
        surveys=1, questions=QUESTIONS, invited=INVITED, answers=ANSWERS, answers_rejected=ANSWERS_REJECTED,
        rows_quarantined=QUARANTINED, files_with_rejections=FILES_WITH_REJECTIONS, respondents=RESPONDENTS,
    )


def test_page_shows_the_ingested_counts(loaded) -> None:
    shown = {m.label: (m.value, m.delta) for m in run_page(ADMIN).metric}
    assert shown == {
        "Teams": ("3", "1 row rejected"),
        "Employees": ("8", "3 rejected"),
        "Surveys loaded": ("1", "4 questions in all"),
        "Answers loaded": ("11", "13 rejected"),
        "Respondents": ("3", "of 7 invited"),
        "Rows quarantined": ("21", "in 5 files"),
    }


def test_quarantine_and_deliveries_are_still_there(loaded) -> None:
    at = run_page(ADMIN)
    deliveries = frame_with(at, "rows_delivered")
    assert int(deliveries["rows_rejected"].sum()) == QUARANTINED
    assert "No file was rejected whole" in at.success[0].value
    at = run_page(ADMIN, "Quarantine")
    assert len(frame_with(at, "raw_record")) == QUARANTINED
    assert len(at.get("vega_lite_chart")) == 1


# ---------------------------------------------------------------- freshness and runs


def test_asset_freshness_from_the_real_materialisation(loaded, instance: dg.DagsterInstance) -> None:
    at = run_page(ADMIN, "Asset freshness")
    freshness = frame_with(at, "last_materialised_at")
    assert not [w.value for w in at.warning]  # nothing stale, the instance was read
    assert [e.value for e in at.error] == [NO_DAEMON]  # materialised in process: no daemon ever ran here

    # every asset of the code location, materialised by the one pass, none behind what it reads
    from orchestration.definitions import build_definitions

    keys = build_definitions(load_config()).resolve_asset_graph().materializable_asset_keys
    assert sorted(freshness["asset"]) == sorted("/".join(key.path) for key in keys)
    assert freshness["last_materialised_at"].notna().all()
    states = dict(zip(freshness["asset"], freshness["state"], strict=True))
    assert {states[k] for k in ("raw/teams", "raw/employees", "raw/responses", "raw/invitations")} == {
        health.EVENT_DRIVEN
    }
    assert {state for key, state in states.items() if not key.startswith("raw/")} == {health.FRESH}
    assert freshness["group"].iloc[0] == "ingestion" and freshness["group"].iloc[-1] == "alerts"
    assert set(freshness["last_run_status"]) == {"SUCCESS"}

    # the time and run are Dagster's own record of the materialisation
    row = freshness.set_index("asset").loc["marts/engagement"]
    event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "engagement"]))
    assert row["last_materialised_at"] == pd.Timestamp(datetime.fromtimestamp(event.timestamp, tz=UTC))
    assert row["last_run_url"] == f"{DAGSTER_URL}/runs/{event.run_id}"
    assert row["asset_url"] == f"{DAGSTER_URL}/assets/marts/engagement"
    age = datetime.now(UTC) - datetime.fromtimestamp(event.timestamp, tz=UTC)
    assert row["age"].endswith(("s", "min")) and age < timedelta(hours=1)


def test_latest_runs_are_the_instance_newest_first(loaded, instance: dg.DagsterInstance) -> None:
    runs = frame_with(run_page(ADMIN, "Latest runs"), "job")
    records = instance.get_run_records(limit=20)

    assert 0 < len(runs) == len(records) <= 20
    assert runs["run_url"].tolist() == [f"{DAGSTER_URL}/runs/{r.dagster_run.run_id}" for r in records]
    assert runs["job"].tolist() == [r.dagster_run.job_name for r in records]
    assert {"ingest_org", "build_marts", "evaluate_alerts"} <= set(runs["job"])
    assert set(runs["status"]) == {"SUCCESS"}
    assert runs["started_at"].is_monotonic_decreasing
    assert runs.loc[runs["job"] == "ingest_survey", "partition"].tolist() == ["2026-01"]
    assert runs["duration"].str.fullmatch(r"\d+ (s|min)").all()


def test_an_asset_behind_its_upstream_is_stale_after_the_grace(loaded, instance: dg.DagsterInstance) -> None:
    # the teams' staging view is recorded as rebuilt now; what reads it has not been rebuilt since
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=["staging", "stg_raw__teams"]))
    changed = datetime.fromtimestamp(
        instance.get_latest_materialization_event(dg.AssetKey(["staging", "stg_raw__teams"])).timestamp, tz=UTC
    )
    config = load_config()
    data.refresh()  # what "Refresh data" does: Dagster's records are read again

    at_grace = health.pipeline(config, now=changed + health.CATCH_UP_GRACE).freshness.set_index("asset")["state"]
    assert at_grace["intermediate/int_team_hierarchy"] == health.CATCHING_UP
    assert at_grace["marts/teams"] == health.CATCHING_UP
    assert not health.stale_assets(at_grace.reset_index())

    later = health.pipeline(config, now=changed + health.CATCH_UP_GRACE + timedelta(seconds=1)).freshness
    stale = health.stale_assets(later)
    assert {"intermediate/int_team_hierarchy", "marts/teams", "marts/participation"} <= set(stale)
    assert "marts/engagement" not in stale  # reads int_group_scores, which did not change
    assert "staging/stg_raw__teams" not in stale

    # the page (now: within the grace) says they are catching up, and warns of none
    at = run_page(ADMIN, "Asset freshness")
    assert frame_with(at, "last_materialised_at").set_index("asset").loc["marts/teams", "state"] == health.CATCHING_UP
    assert not at.warning


def test_unreadable_dagster_instance_is_one_warning(loaded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the same warehouse, reached by URL, from a home that holds no Dagster instance
    url = database.ensure_server(load_config())
    monkeypatch.setenv("NOVORA_HOME", str(tmp_path))
    monkeypatch.setenv("NOVORA_DATABASE_URL", url)
    at = run_page(ADMIN)
    assert not at.warning  # the Deliveries tab needs no Dagster
    assert frame_with(at, "rows_delivered")["rows_loaded"].sum() == TEAMS + EMPLOYEES + QUESTIONS + INVITED + ANSWERS

    for tab in ("Asset freshness", "Latest runs"):
        at = run_page(ADMIN, tab)
        assert [w.value for w in at.warning] == [
            f"Asset freshness and runs are not available: no Dagster instance at {tmp_path / 'dagster'} yet "
            "(`novora up` or `novora materialize` writes it)"
        ]
        assert not at.dataframe
        assert {m.label for m in at.metric} >= {"Teams", "Rows quarantined"}


# ---------------------------------------------------------------- novora health (real instance, daemon, server)
# Last in the module: a real daemon runs sensors over this home, and the server is stopped and started again.


def novora_health(*args: str) -> subprocess.CompletedProcess:
    """``novora health`` as an operator runs it: its own process, this module's environment."""
    return subprocess.run([str(Path(sys.executable).parent / "novora"), "health", *args], capture_output=True,
                          text=True, timeout=180, env=dict(os.environ))


def checks_of(report: oh.Report) -> dict[str, tuple[str, str]]:
    return {check.name: (check.status, check.detail) for check in report.checks}


def test_health_without_a_daemon_is_unhealthy_and_says_why(loaded) -> None:
    done = novora_health()
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "novora health: unhealthy (1 of 5 checks failed)"
    assert [line.split()[:2] for line in lines[1:]] == [
        ["OK", "database"], ["OK", "dagster"], ["FAIL", "daemon"], ["OK", "runs"], ["OK", "freshness"]]
    assert "no heartbeat from the Dagster daemon ever" in lines[3]
    assert "schema at version" in lines[1]

    as_json = json.loads(novora_health("--json").stdout)
    assert as_json["healthy"] is False and len(as_json["reasons"]) == 1
    assert as_json["reasons"][0].startswith("daemon: no heartbeat from the Dagster daemon ever")
    from orchestration.definitions import build_definitions

    keys = build_definitions(load_config()).resolve_asset_graph().materializable_asset_keys
    assert sorted(a["asset"] for a in as_json["assets"]) == sorted("/".join(key.path) for key in keys)
    # every asset's newest run succeeded; the freshness test above recorded the teams' view without a run
    assert {a["asset"] for a in as_json["assets"] if a["last_run_status"] != "SUCCESS"} <= {"staging/stg_raw__teams"}
    assert all(a["last_materialised_at"] for a in as_json["assets"])


def test_health_names_the_stale_assets_once_the_grace_is_over(loaded, instance: dg.DagsterInstance) -> None:
    # the teams' staging view recorded as rebuilt now: the assets that read it fall behind
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=["staging", "stg_raw__teams"]))
    changed = datetime.fromtimestamp(
        instance.get_latest_materialization_event(dg.AssetKey(["staging", "stg_raw__teams"])).timestamp, tz=UTC)
    config = load_config()

    within = checks_of(oh.check_health(config, now=changed + oh.CATCH_UP_GRACE))["freshness"]
    assert within[0] == oh.OK and "catching up within 30 min" in within[1]

    later = oh.check_health(config, now=changed + oh.CATCH_UP_GRACE + timedelta(seconds=1))
    status, detail = checks_of(later)["freshness"]
    stale = sorted(a.asset for a in later.assets if a.state == oh.STALE)
    assert status == oh.FAIL
    assert detail == f"{len(stale)} assets behind what they read for more than 30 min: {oh.named(stale)}"
    assert {"intermediate/int_team_hierarchy", "marts/teams", "marts/participation"} <= set(stale)
    assert "marts/engagement" not in stale and "staging/stg_raw__teams" not in stale
    assert not later.healthy


def test_health_with_a_real_daemon_then_without(loaded) -> None:
    from orchestration.live import running_daemon, wait_until_sensors_ticked

    config = load_config()
    with running_daemon(config):
        wait_until_sensors_ticked(config, ("landing_sensor",), timeout=240)
        status, detail = checks_of(oh.check_health(config))["daemon"]
        with dg.DagsterInstance.from_config(str(config.dagster_home)) as instance:
            required = instance.get_required_daemon_types()
        assert (status, detail.split(",")[0]) == (oh.OK, f"{len(required)} daemons beat"), detail
        data.refresh()
        at = run_page(ADMIN, "Latest runs")
        assert not at.error
        assert any(c.value.startswith(f"Dagster daemon (sensors, automation, run queue): {len(required)} daemons "
                                      "beat, the latest ") for c in at.caption)
    # stopped: its last heartbeat ages past the tolerance (exactly at it, the daemon still counts as alive)
    with dg.DagsterInstance.from_config(str(config.dagster_home)) as instance:
        last = min(beat.at for kind, beat in oh.read_heartbeats(instance)[0].items() if kind in required)
    at_tolerance = checks_of(oh.check_health(config, now=last + oh.DAEMON_TOLERANCE))["daemon"]
    assert at_tolerance[0] == oh.OK, at_tolerance
    status, detail = checks_of(oh.check_health(config, now=last + oh.DAEMON_TOLERANCE + timedelta(seconds=1)))[
        "daemon"]
    assert status == oh.FAIL and detail.endswith("(more than 5 min): the Dagster daemon is down or stuck"), detail


def test_health_with_the_database_stopped(loaded) -> None:
    config = load_config()
    assert database.stop_server(config)
    try:
        done = novora_health()
        assert done.returncode == 1
        assert done.stdout.splitlines() == [
            "novora health: unhealthy (1 of 5 checks failed)",
            f"FAIL    database   the embedded PostgreSQL in {config.pgdata} is not running (`novora db start`)",
            *(f"SKIPPED {name:<9}  not checked: the database does not answer"
              for name in ("dagster", "daemon", "runs", "freshness")),
        ]
        assert not database.is_running(config)  # asking did not start it
    finally:  # as an operator would (pgserver keeps a handle of the stopped server in this process)
        subprocess.run([str(Path(sys.executable).parent / "novora"), "db", "start"], check=True, timeout=120,
                       capture_output=True, env=dict(os.environ))
    assert novora_health().stdout.splitlines()[1].startswith("OK      database")
