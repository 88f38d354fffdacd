"""Retention end to end (the issue's acceptance): archiving the oldest survey removes its raw rows and landing
files into a Parquet archive, the marts stay through later runs, and restoring it then rebuilding it reproduces
identical marts. Real embedded PostgreSQL, real Dagster runs of real dbt, the real `novora` CLI (in process)."""

from __future__ import annotations

import getpass
import hashlib
import shutil
import time
from pathlib import Path

import psycopg
import pytest

from assets.ingestion.landing import WatchState, plan
from assets.ingestion.load import partition_name
from assets.ingestion.retention import RAW_TABLES, archived_redelivery, read_manifest
from orchestration.cli import main
from orchestration.definitions import build_definitions
from orchestration.jobs import build_marts_job, build_survey_job, enrich_comments_job, ingest_survey_job
from orchestration.runner import materialize_all, open_instance, partition_range_tags
from orchestration.sensors import loaded_files
from tests.conftest import materialized_warehouse
from tests.marts_fixture import write_marts_landing

pytestmark = pytest.mark.integration

OLDEST = "2026-01"


def dump_marts(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Every marts table, each row as PostgreSQL's text of it, in order."""
    tables = [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
    return {t: [r[0] for r in conn.execute(f"select m::text from marts.{t} as m order by 1")] for t in tables}


def dump_raw(conn: psycopg.Connection, survey_id: str) -> dict[str, list[str]]:
    """The survey's rows of every raw table retention archives (ids, types and all)."""
    return {t.name: [r[0] for r in conn.execute(
        f"select r::text from {t.name} as r where {t.where} order by 1", {"survey_id": survey_id})]
        for t in RAW_TABLES}


def file_hashes(folder: Path) -> dict[str, tuple[str, int]]:
    """Content and modification time (to the second: tar keeps microseconds at best) of each file."""
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), int(p.stat().st_mtime))
            for p in sorted(folder.iterdir())}




def dump_built(conn: psycopg.Connection, survey_id: str) -> dict[str, list[str]]:
    """What the survey-partitioned assets built for the survey: its per-survey dbt tables and its comments."""
    tables = [f"intermediate.{r[0]}" for r in conn.execute(
        """select table_name from information_schema.columns where table_schema = 'intermediate'
           and column_name = 'survey_id' and table_name in (select table_name from information_schema.tables
           where table_schema = 'intermediate' and table_type = 'BASE TABLE') order by 1""")]
    tables += ["nlp.comments", "nlp.comment_enrichment", "nlp.review_queue"]
    return {t: [r[0] for r in conn.execute(f"select x::text from {t} as x where survey_id = %s order by 1",
                                           (survey_id,))] for t in tables}


def novora(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def sensor_runs(landing: Path, state: WatchState, conn: psycopg.Connection) -> tuple[dict, WatchState]:
    decision, new_state = plan(landing, state, {"2026-01", "2026-02", "2026-03"}, org_run_active=False,
                               now=time.time() + 60, loaded=loaded_files(conn))
    return {"org": decision.run_org, "surveys": decision.run_surveys, "new": decision.new_partitions}, new_state


def test_archive_keeps_the_marts_and_restore_then_rebuild_reproduces_them(pg_home, tmp_path, monkeypatch, capsys):
    landing = write_marts_landing(tmp_path / "landing")
    config, url = materialized_warehouse(pg_home, landing)
    shutil.rmtree(config.archive, ignore_errors=True)  # the session's home is shared: start without archives
    monkeypatch.setenv("NOVORA_HOME", str(config.home))
    monkeypatch.setenv("NOVORA_LANDING", str(config.landing))
    survey_folder = landing / "surveys" / OLDEST
    landing_files = file_hashes(survey_folder)
    defs = build_definitions(config)

    with psycopg.connect(url, autocommit=True) as conn:
        marts_before = dump_marts(conn)
        built_before = dump_built(conn, OLDEST)
        assert built_before["intermediate.int_answers_scored"] and built_before["nlp.comments"]
        raw_before = dump_raw(conn, OLDEST)
        assert raw_before["raw.responses"] and raw_before["raw.invitations"] and raw_before["quarantine.rejected_rows"]
        assert any(OLDEST in row for row in marts_before["trends"])  # 2026-02's trends refer to it as previous
        no_runs, watched = sensor_runs(landing, WatchState(), conn)  # a sensor that has seen everything loaded
        assert no_runs == {"org": None, "surveys": {}, "new": []}

        # --dry-run changes nothing
        code, out, _ = novora(capsys, "retention", "archive", "--survey", OLDEST, "--dry-run")
        assert (code, out) == (0, f"would archive survey {OLDEST}\n")
        assert dump_raw(conn, OLDEST) == raw_before

        code, out, err = novora(capsys, "retention", "archive", "--survey", OLDEST)
        assert code == 0, err
        folder = config.archive / "surveys" / OLDEST
        assert out.startswith(f"archived survey {OLDEST} to {folder} (")

        # the raw rows are gone (the survey's definition stays), the archive holds all of them, the files moved
        raw_after = dump_raw(conn, OLDEST)
        for table in ("raw.invitations", "raw.responses", "quarantine.rejected_rows"):
            assert raw_after[table] == [], table
        assert raw_after["raw.surveys"] == raw_before["raw.surveys"]
        assert raw_after["raw.questions"] == raw_before["raw.questions"]
        assert 1 == len(raw_after["raw.deliveries"]) < len(raw_before["raw.deliveries"])
        assert conn.execute("select to_regclass(%s)", (f"raw.{partition_name(OLDEST)}",)).fetchone()[0] is None
        assert not survey_folder.exists()
        manifest = read_manifest(folder)
        assert {name: e["rows"] for name, e in manifest["tables"].items()} == {
            name: len(rows) for name, rows in raw_before.items()}
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [f"{t.name}.parquet" for t in RAW_TABLES] + ["landing.tar.gz", "manifest.json"])
        assert manifest["migration_version"] >= 8 and set(manifest["landing"]["files"]) == set(landing_files)

        # archiving again is a no-op; list shows it; the sensor neither runs nor forgets anything
        code, out, _ = novora(capsys, "retention", "archive", "--survey", OLDEST)
        assert (code, out) == (0, f"survey {OLDEST} is archived already: nothing to do\nno survey to archive\n")
        code, out, _ = novora(capsys, "retention", "list")
        assert code == 0 and out.startswith(f"{OLDEST}\t") and str(folder) in out
        runs, watched = sensor_runs(landing, watched, conn)
        assert runs == {"org": None, "surveys": {}, "new": []}
        # files delivered again while it is archived are refused by its ingestion, with what to do
        assert archived_redelivery(conn, landing, OLDEST) is None
        survey_folder.mkdir()
        (survey_folder / "responses.csv").write_text("late\n", encoding="utf-8")
        assert archived_redelivery(conn, landing, OLDEST) == (
            f"survey {OLDEST} is archived ({folder}): restore it first with "
            f"`novora retention restore --survey {OLDEST}`, then deliver its files again")
        shutil.rmtree(survey_folder)

    # marts stay: `novora materialize` (the archived survey is no longer in the landing zone) ...
    summary = materialize_all(config, defs, echo=lambda m: None)
    assert summary.ok, [(s.name, s.error, s.failed_checks) for s in summary.steps if not s.ok]
    with psycopg.connect(url, autocommit=True) as conn:
        assert dump_marts(conn) == marts_before
    # ... and a Dagster backfill over every survey, the archived one included, leaves what the marts read of it
    # (its per-survey dbt tables, its comments) as it was
    instance = open_instance(config)
    every_survey = partition_range_tags(instance.get_dynamic_partitions("survey"), ["2026-01", "2026-02", "2026-03"])
    for job in (build_survey_job, enrich_comments_job):
        assert defs.resolve_job_def(job.name).execute_in_process(instance=instance, tags=every_survey).success
    # a run of the archived survey alone runs no dbt at all, and succeeds
    assert defs.resolve_job_def(build_survey_job.name).execute_in_process(instance=instance,
                                                                          partition_key=OLDEST).success
    with psycopg.connect(url, autocommit=True) as conn:
        assert dump_built(conn, OLDEST) == built_before

        # a tampered archive is refused whole: nothing restored, nothing placed in the landing zone
        parquet = folder / "raw.responses.parquet"
        original = parquet.read_bytes()
        parquet.write_bytes(original[:100] + bytes([original[100] ^ 0xFF]) + original[101:])
        code, _, err = novora(capsys, "retention", "restore", "--survey", OLDEST)
        assert code == 1
        assert err == f"novora: error: {parquet} is damaged or was altered: its sha256 differs from the manifest\n"
        assert dump_raw(conn, OLDEST) == raw_after and not survey_folder.exists()
        parquet.write_bytes(original)

        code, _, err = novora(capsys, "retention", "restore", "--survey", "2026-02")
        assert code == 1 and err == "novora: error: survey 2026-02 is not archived: its rows are in the warehouse\n"

        code, out, err = novora(capsys, "retention", "restore", "--survey", OLDEST)
        assert code == 0, err
        assert out.startswith(f"restored survey {OLDEST} from {folder} (")
        assert dump_raw(conn, OLDEST) == raw_before  # every row back, with its ids and types
        assert file_hashes(survey_folder) == landing_files  # same bytes, same modification times
        assert not folder.exists()
        code, out, _ = novora(capsys, "retention", "list")
        assert out == "no archived surveys\n"
        runs, _ = sensor_runs(landing, watched, conn)  # the files it loaded are back: nothing to run
        assert runs == {"org": None, "surveys": {}, "new": []}

    # rebuild: a backfill of the restored survey (its raw assets and dbt models, then the marts) builds it from
    # raw again: identical marts
    for job in (ingest_survey_job, build_survey_job):
        assert defs.resolve_job_def(job.name).execute_in_process(instance=instance, partition_key=OLDEST).success
    assert defs.resolve_job_def(build_marts_job.name).execute_in_process(instance=instance).success
    with psycopg.connect(url, autocommit=True) as conn:
        assert dump_marts(conn) == marts_before
        assert dump_built(conn, OLDEST) == built_before
        audit = conn.execute(
            "select actor, action, subject, detail from app.audit_log where action like 'retention.%' "
            "order by audit_id").fetchall()
    actor = f"cli:{getpass.getuser()}"
    assert [(a, b, c) for a, b, c, _ in audit] == [(actor, "retention.archive", OLDEST),
                                                   (actor, "retention.restore", OLDEST)]
    expected_counts = {name: len(rows) for name, rows in raw_before.items()}
    assert audit[0][3]["row_counts"] == expected_counts and audit[0][3]["archive_path"] == str(folder)
    assert audit[1][3]["row_counts"]["raw.responses"] == expected_counts["raw.responses"]
    assert audit[1][3]["landing_files"] == len(landing_files)
