"""The Data health page's pure rules: asset staleness at its boundary, ages, durations and Dagster UI links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from dashboards import health
from dashboards.health import CatalogAsset, Materialisation

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GRACE = health.CATCH_UP_GRACE


def test_grace_is_thirty_minutes() -> None:
    assert health.CATCH_UP_GRACE.total_seconds() == 30 * 60


def test_never_materialised() -> None:
    assert health.freshness_state("marts", None, NOW, NOW) == health.NEVER
    assert health.freshness_state("ingestion", None, None, NOW) == health.NEVER


def test_ingestion_is_event_driven_whatever_its_age() -> None:
    a_year_ago = NOW - timedelta(days=365)
    assert health.freshness_state("ingestion", a_year_ago, None, NOW) == health.EVENT_DRIVEN
    # even when an asset it reads is newer (invitations read the org): a file landing is what loads it
    assert health.freshness_state("ingestion", a_year_ago, NOW - timedelta(days=1), NOW) == health.EVENT_DRIVEN


def test_fresh_when_built_after_everything_it_reads_however_old() -> None:
    built = NOW - timedelta(days=90)
    assert health.freshness_state("marts", built, built - timedelta(seconds=1), NOW) == health.FRESH
    assert health.freshness_state("marts", built, built, NOW) == health.FRESH  # same instant: not behind
    assert health.freshness_state("staging", built, None, NOW) == health.FRESH  # a seed reads nothing


def test_stale_boundary_is_the_grace_after_the_upstream_change() -> None:
    built = NOW - timedelta(hours=2)
    changed = lambda ago: NOW - ago  # noqa: E731 - the upstream materialised this long ago
    assert health.freshness_state("marts", built, changed(GRACE - timedelta(seconds=1)), NOW) == health.CATCHING_UP
    assert health.freshness_state("marts", built, changed(GRACE), NOW) == health.CATCHING_UP  # exactly 30 min
    assert health.freshness_state("marts", built, changed(GRACE + timedelta(microseconds=1)), NOW) == health.STALE
    assert health.freshness_state("alerts", built, changed(timedelta(hours=1)), NOW) == health.STALE


def test_custom_grace() -> None:
    built, changed = NOW - timedelta(hours=1), NOW - timedelta(minutes=6)
    assert health.freshness_state("marts", built, changed, NOW, grace=timedelta(minutes=5)) == health.STALE
    assert health.freshness_state("marts", built, changed, NOW, grace=timedelta(minutes=10)) == health.CATCHING_UP


def test_format_age() -> None:
    assert health.format_age(None) == ""
    assert health.format_age(timedelta(seconds=-3)) == "0 s"  # clock skew between hosts
    assert health.format_age(timedelta(seconds=59.9)) == "59 s"
    assert health.format_age(timedelta(seconds=60)) == "1 min"
    assert health.format_age(timedelta(minutes=59, seconds=59)) == "59 min"
    assert health.format_age(timedelta(hours=3, minutes=5)) == "3 h 05 min"
    assert health.format_age(timedelta(hours=23, minutes=59)) == "23 h 59 min"
    assert health.format_age(timedelta(days=2, hours=4, minutes=30)) == "2 d 4 h"


def test_format_duration() -> None:
    start = NOW - timedelta(minutes=3)
    assert health.format_duration(None, None, NOW) == ""  # queued, not started
    assert health.format_duration(start, start + timedelta(seconds=75), NOW) == "1 min"
    assert health.format_duration(start, None, NOW) == "3 min so far"


def test_runs_read_once_show_the_time_so_far_at_each_page_run() -> None:
    start = NOW - timedelta(minutes=3)
    rows = [
        {"job": "build_marts", "status": "STARTED", "partition": None, "started_at": start, "ended_at": None,
         "run_id": "r2", "run_url": "http://dagster/runs/r2"},
        {"job": "ingest_survey", "status": "SUCCESS", "partition": "2026-01", "started_at": start,
         "ended_at": start + timedelta(seconds=42), "run_id": "r1", "run_url": "http://dagster/runs/r1"},
        {"job": "ingest_org", "status": "QUEUED", "partition": None, "started_at": None, "ended_at": None,
         "run_id": "r0", "run_url": "http://dagster/runs/r0"},
    ]
    frame = health.runs_frame(rows, NOW)
    assert list(frame.columns) == health.RUN_COLUMNS
    assert frame["duration"].tolist() == ["3 min so far", "42 s", ""]
    assert health.runs_frame(rows, NOW + timedelta(minutes=2))["duration"].tolist() == ["5 min so far", "42 s", ""]
    assert frame["started_at"].iloc[0] == pd.Timestamp(start) and pd.isna(frame["started_at"].iloc[2])
    assert str(frame["started_at"].dt.tz) == "UTC"
    assert health.runs_frame([], NOW).columns.tolist() == health.RUN_COLUMNS


def test_dagster_ui_links() -> None:
    assert health.run_url("http://dagster:3000/", "abc-123") == "http://dagster:3000/runs/abc-123"
    assert health.run_url("http://dagster:3000", None) is None
    assert health.asset_url("http://dagster:3000/", ("marts", "engagement")) == "http://dagster:3000/assets/marts/engagement"


def test_freshness_frame_orders_by_pipeline_stage_and_flags_the_asset_behind() -> None:
    catalog = [
        CatalogAsset(("marts", "engagement"), "marts", (("intermediate", "int_group_scores"),)),
        CatalogAsset(("intermediate", "int_group_scores"), "intermediate", (("raw", "teams"),)),
        CatalogAsset(("raw", "teams"), "ingestion", ()),
        CatalogAsset(("alerts", "alerts"), "alerts", (("marts", "engagement"),)),
    ]
    seen = {
        ("raw", "teams"): Materialisation(NOW - timedelta(hours=1), "r3", "r3", "SUCCESS"),
        # built before the teams changed, 1 h ago: stale
        ("intermediate", "int_group_scores"): Materialisation(NOW - timedelta(hours=5), "r1", "r2", "FAILURE"),
        ("marts", "engagement"): Materialisation(NOW - timedelta(hours=4), "r1", "r1", "SUCCESS"),
    }
    frame = health.freshness_frame(catalog, seen, "http://d:3000", NOW)

    assert frame["asset"].tolist() == [
        "raw/teams", "intermediate/int_group_scores", "marts/engagement", "alerts/alerts"
    ]
    assert frame["state"].tolist() == [health.EVENT_DRIVEN, health.STALE, health.FRESH, health.NEVER]
    assert frame["age"].tolist() == ["1 h 00 min", "5 h 00 min", "4 h 00 min", ""]
    assert frame["last_run_status"].tolist()[:3] == ["SUCCESS", "FAILURE", "SUCCESS"]
    assert frame["last_run_url"].tolist()[:2] == ["http://d:3000/runs/r3", "http://d:3000/runs/r2"]
    assert frame["asset_url"].iloc[3] == "http://d:3000/assets/alerts/alerts"
    assert frame["last_materialised_at"].iloc[0] == pd.Timestamp("2026-03-02T11:00:00Z")
    assert pd.isna(frame["last_materialised_at"].iloc[3])
    assert health.stale_assets(frame) == ["intermediate/int_group_scores"]
