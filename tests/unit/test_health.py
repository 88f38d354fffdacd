"""``novora health``'s checks as pure functions: their boundaries, without a clock, a daemon or a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestration import health
from orchestration.health import (
    CATCHING_UP,
    EVENT_DRIVEN,
    FAIL,
    FRESH,
    OK,
    SKIPPED,
    STALE,
    AssetHealth,
    CatalogAsset,
    Check,
    Heartbeat,
    Materialisation,
    Report,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TOLERANCE = timedelta(minutes=5)
REQUIRED = ["SENSOR", "ASSET", "QUEUED_RUN_COORDINATOR"]


def beats(age: timedelta, errors: tuple[str, ...] = ()) -> dict[str, Heartbeat]:
    return {kind: Heartbeat(NOW - age, errors) for kind in REQUIRED}


# ---------------------------------------------------------------- daemon


def test_a_daemon_exactly_at_the_tolerance_is_alive() -> None:
    check = health.daemon_check(beats(TOLERANCE), REQUIRED, NOW, TOLERANCE)
    assert check == Check("daemon", OK, "3 daemons beat, the latest 5 min ago")


def test_one_second_past_the_tolerance_is_down() -> None:
    check = health.daemon_check(beats(TOLERANCE + timedelta(seconds=1)), REQUIRED, NOW, TOLERANCE)
    assert check.status == FAIL
    assert check.detail == ("no heartbeat for 5 min from ASSET, QUEUED_RUN_COORDINATOR, SENSOR (more than 5 min): "
                            "the Dagster daemon is down or stuck")


def test_no_heartbeat_ever() -> None:
    check = health.daemon_check({}, REQUIRED, NOW, TOLERANCE)
    assert check.status == FAIL and "no heartbeat from the Dagster daemon ever" in check.detail


def test_a_daemon_type_that_never_beat_and_one_that_reports_an_error() -> None:
    heartbeats = {"SENSOR": Heartbeat(NOW - timedelta(seconds=20), ("sensor daemon: code location failed to load",)),
                  "ASSET": Heartbeat(NOW - timedelta(seconds=10))}
    check = health.daemon_check(heartbeats, REQUIRED, NOW, TOLERANCE)
    assert check.status == FAIL
    assert check.detail == ("never a heartbeat from QUEUED_RUN_COORDINATOR; "
                            "SENSOR reports: sensor daemon: code location failed to load")


def test_daemons_not_required_do_not_count() -> None:
    heartbeats = {**beats(timedelta(seconds=30)), "BACKFILL": Heartbeat(NOW - timedelta(days=3))}
    assert health.daemon_check(heartbeats, REQUIRED, NOW, TOLERANCE).ok


# ---------------------------------------------------------------- runs and freshness

CATALOG = (
    CatalogAsset(("raw", "responses"), "ingestion", ()),
    CatalogAsset(("staging", "stg_raw__responses"), "staging", (("raw", "responses"),)),
    CatalogAsset(("marts", "engagement"), "marts", (("staging", "stg_raw__responses"),)),
)


def seen(minutes_ago: float, status: str = "SUCCESS") -> Materialisation:
    return Materialisation(NOW - timedelta(minutes=minutes_ago), "r-ok", f"r-{status.lower()}", status)


def test_assets_read_in_order_with_their_state() -> None:
    assets = health.asset_health(CATALOG, {("raw", "responses"): seen(50), ("staging", "stg_raw__responses"): seen(40),
                                           ("marts", "engagement"): seen(41)}, NOW)
    assert [(a.asset, a.state) for a in assets] == [
        ("marts/engagement", STALE),  # its upstream was rebuilt 40 min ago, more than the 30 min grace
        ("raw/responses", EVENT_DRIVEN),
        ("staging/stg_raw__responses", FRESH),
    ]
    assert assets[0].last_materialised_at == NOW - timedelta(minutes=41) and assets[0].last_run_status == "SUCCESS"


def test_stale_exactly_at_the_grace_is_still_catching_up() -> None:
    materialised = {("raw", "responses"): seen(60), ("staging", "stg_raw__responses"): seen(30),
                    ("marts", "engagement"): seen(45)}
    assets = health.asset_health(CATALOG, materialised, NOW)
    assert {a.asset: a.state for a in assets}["marts/engagement"] == CATCHING_UP
    check = health.freshness_check(assets)
    assert check == Check("freshness", OK, "no asset behind what it reads (1 catching up within 30 min)")

    later = health.asset_health(CATALOG, materialised, NOW + timedelta(seconds=1))
    assert health.freshness_check(later) == Check(
        "freshness", FAIL, "1 asset behind what it reads for more than 30 min: marts/engagement")


def test_runs_fail_on_a_failed_last_run_and_on_assets_never_materialised() -> None:
    assets = health.asset_health(CATALOG, {("raw", "responses"): seen(5, "FAILURE"),
                                           ("staging", "stg_raw__responses"): seen(4)}, NOW)
    check = health.runs_check(assets, NOW)
    assert check.status == FAIL
    assert check.detail == ("the last run of 1 asset failed: raw/responses; 1 never materialised: marts/engagement "
                            "(drop files into the landing zone, or `novora materialize`)")


def test_runs_ok_names_the_newest_and_oldest() -> None:
    assets = health.asset_health(CATALOG, {k.key_path: seen(m) for k, m in zip(CATALOG, (90, 60, 3), strict=True)},
                                 NOW)
    assert health.runs_check(assets, NOW) == Check(
        "runs", OK, "3 assets materialised, the latest 3 min ago, the oldest 1 h 30 min ago; no last run failed")


def test_a_canceled_run_is_a_failure_too() -> None:
    asset = AssetHealth("marts/engagement", "marts", NOW, "CANCELED", "r1", FRESH)
    assert health.runs_check([asset], NOW).status == FAIL


def test_names_are_capped() -> None:
    assert health.named([f"a{i}" for i in range(7)]) == "a0, a1, a2, a3, a4 and 2 more"
    assert health.named(["b", "a"]) == "a, b"


# ---------------------------------------------------------------- database and the report


def test_database_version_behind_the_code() -> None:
    check = health.database_check(6, 8, "PostgreSQL at db:5432 (database novora)")
    assert check.status == FAIL
    assert check.detail == ("PostgreSQL at db:5432 (database novora) answers but its schema is at version 6, this "
                            "code expects 8: `novora db start` migrates it")
    assert health.database_check(8, 8, "here").ok
    down = health.database_check(None, 8, "here", "here does not answer: timeout")
    assert (down.status, down.detail) == (FAIL, "here does not answer: timeout")


def test_report_lines_reasons_and_json() -> None:
    report = Report((Check("database", FAIL, "the embedded PostgreSQL in /x is not running (`novora db start`)"),
                     Check("daemon", SKIPPED, "not checked: the database does not answer")))
    assert not report.healthy
    assert report.lines() == [
        "novora health: unhealthy (1 of 2 checks failed)",
        "FAIL    database  the embedded PostgreSQL in /x is not running (`novora db start`)",
        "SKIPPED daemon    not checked: the database does not answer",
    ]
    assert report.reasons() == ["database: the embedded PostgreSQL in /x is not running (`novora db start`)"]
    assert report.as_dict()["healthy"] is False and report.as_dict()["assets"] == []
    assert Report((Check("database", OK, "fine"),)).healthy
