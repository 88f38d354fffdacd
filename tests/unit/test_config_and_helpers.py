"""Small pure pieces: configuration, URLs, migration discovery, dbt wiring helpers."""

import json
import os
import re
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.ingestion.contracts import is_survey_id
from assets.ingestion.ingest import UnreadableFile, parse_survey_json
from orchestration import database, migrate
from orchestration.config import child_environment, load_config
from orchestration.dbt import asset_key_for, group_for, manifest_is_stale, survey_scope_vars
from orchestration.instance import dagster_yaml, sqlalchemy_url
from orchestration.runner import partition_range_tags


def test_defaults_live_under_novora_home(tmp_path):
    config = load_config({"NOVORA_HOME": str(tmp_path)})
    assert config.embedded and config.landing == tmp_path / "landing"
    assert config.pgdata == tmp_path / "pgdata" and config.dagster_home == tmp_path / "dagster"
    assert config.dagster_url == "http://127.0.0.1:3000" and not config.debug


def test_environment_overrides(tmp_path):
    config = load_config({"NOVORA_HOME": str(tmp_path), "NOVORA_LANDING": str(tmp_path / "drop"),
                          "NOVORA_DATABASE_URL": "postgresql://u:p@db/novora", "NOVORA_DAGSTER_URL": "http://x:1/",
                          "NOVORA_DEBUG": "1"})
    assert not config.embedded and config.landing == tmp_path / "drop"
    assert config.dagster_url == "http://x:1" and config.debug
    env = child_environment(config, base={"PATH": "/bin"})
    assert env["DAGSTER_HOME"] == str(tmp_path / "dagster") and env["NOVORA_DATABASE_URL"] == config.database_url
    assert env["PATH"] == "/bin" and env["HF_HUB_OFFLINE"] == "1"


def test_libpq_params_from_socket_and_tcp_urls():
    socket = database.libpq_params("postgresql://postgres:@/novora?host=/tmp/h/pgdata")
    assert socket == {"host": "/tmp/h/pgdata", "port": "5432", "user": "postgres", "password": "",
                      "dbname": "novora", "sslmode": "prefer"}
    tcp = database.libpq_params("postgresql://novora:s3cret@db.internal:6543/warehouse?sslmode=require")
    assert (tcp["host"], tcp["port"], tcp["password"], tcp["dbname"], tcp["sslmode"]) == (
        "db.internal", "6543", "s3cret", "warehouse", "require")


def test_urls_are_redacted_and_switched_between_databases():
    assert database.redact("postgresql://novora:s3cret@db/x") == "postgresql://novora:***@db/x"
    assert database.with_database("postgresql://p:@/novora?host=/s", "dagster") == "postgresql://p:@/dagster?host=/s"


def test_dagster_storage_names_the_psycopg2_driver_and_keeps_external_secrets_out_of_the_file():
    assert sqlalchemy_url("postgresql://p:@/dagster?host=/s") == "postgresql+psycopg2://p:@/dagster?host=/s"
    assert sqlalchemy_url("postgres://u:p@h/d") == "postgresql+psycopg2://u:p@h/d"
    embedded = dagster_yaml("postgresql://p:@/dagster?host=/s", embedded=True)
    assert embedded["storage"]["postgres"]["postgres_url"].startswith("postgresql+psycopg2://")
    external = dagster_yaml("postgresql://u:secret@h/d", embedded=False)
    assert external["storage"]["postgres"]["postgres_url"] == {"env": "NOVORA_DAGSTER_STORAGE_URL"}
    assert external["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_migrations_are_numbered_without_gaps(tmp_path):
    assert [m.version for m in migrate.discover()] == list(range(1, len(migrate.discover()) + 1))
    (tmp_path / "0001_a.sql").write_text("select 1")
    (tmp_path / "0003_c.sql").write_text("select 1")
    with pytest.raises(migrate.MigrationError, match="without gaps"):
        migrate.discover(tmp_path)
    (tmp_path / "0003_c.sql").unlink()
    (tmp_path / "2_bad.sql").write_text("select 1")
    with pytest.raises(migrate.MigrationError, match="0001_name.sql"):
        migrate.discover(tmp_path)


def test_dbt_asset_keys_follow_sources_and_schemas():
    assert asset_key_for("source", "raw", "responses", "raw") == dg.AssetKey(["raw", "responses"])
    assert asset_key_for("model", "staging", "stg_raw__teams") == dg.AssetKey(["staging", "stg_raw__teams"])
    assert group_for(["novora", "staging", "stg_raw__teams"]) == "staging"
    assert group_for(["novora", "drivers"]) == "staging"


def test_manifest_is_stale_when_a_model_is_newer(tmp_path):
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "m.sql"
    model.write_text("select 1")
    manifest = tmp_path / "target" / "manifest.json"
    assert manifest_is_stale(tmp_path, manifest)
    manifest.parent.mkdir()
    manifest.write_text("{}")
    past = time.time() - 100
    os.utime(model, (past, past))
    assert not manifest_is_stale(tmp_path, manifest)
    model.write_text("select 2")
    assert manifest_is_stale(tmp_path, manifest)


@pytest.mark.integration
def test_migration_checksums_guard_applied_files(pg_home: Path):
    url = database.ensure_server(load_config({"NOVORA_HOME": str(pg_home)}))
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists zz_migrate_test cascade")
    first = migrate.Migration(1, "zz", "create schema zz_migrate_test")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists app")
        conn.execute("drop table if exists app.schema_migrations")
    assert migrate.migrate(url, [first]) == [1]
    assert migrate.migrate(url, [first]) == []
    with pytest.raises(migrate.MigrationError, match="was changed after it was applied"):
        migrate.migrate(url, [migrate.Migration(1, "zz", "create schema zz_other")])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema zz_migrate_test cascade")
        conn.execute("drop table app.schema_migrations")


def test_only_the_newest_dbt_run_targets_of_each_dbt_asset_set_are_kept(tmp_path):
    from orchestration.dbt import prune_run_targets

    for prefix, count in (("dbt_models", 5), ("dbt_survey_models", 3)):
        for i in range(count):
            folder = tmp_path / f"{prefix}-{i:03d}"
            folder.mkdir()
            (folder / "run_results.json").write_text("{}")
            os.utime(folder, (1000 + i, 1000 + i))
    (tmp_path / "compiled").mkdir()
    (tmp_path / "manifest.json").write_text("{}")
    removed = prune_run_targets(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == ["dbt_models-000", "dbt_models-001", "dbt_models-002",
                                               "dbt_survey_models-000"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compiled", "dbt_models-003", "dbt_models-004",
                                                          "dbt_survey_models-001", "dbt_survey_models-002",
                                                          "manifest.json"]


def test_a_runs_parse_state_replaces_the_projects_whole(tmp_path):
    from orchestration.dbt import keep_partial_parse

    run = tmp_path / "dbt_models-abc"
    run.mkdir()
    (tmp_path / "partial_parse.msgpack").write_bytes(b"parsed at install")
    assert not keep_partial_parse(run, tmp_path)  # the run wrote none (dbt stopped before parsing)
    assert (tmp_path / "partial_parse.msgpack").read_bytes() == b"parsed at install"
    (run / "partial_parse.msgpack").write_bytes(b"parsed with this home's profile")
    assert keep_partial_parse(run, tmp_path)
    assert (tmp_path / "partial_parse.msgpack").read_bytes() == b"parsed with this home's profile"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_models-abc", "partial_parse.msgpack"]
    (run / "partial_parse.msgpack").write_bytes(b"newer")
    (tmp_path / "partial_parse.msgpack").unlink()
    (tmp_path / "partial_parse.msgpack").mkdir()  # cannot be replaced by a file: the step goes on, nothing left
    assert not keep_partial_parse(run, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_models-abc", "partial_parse.msgpack"]


@pytest.mark.parametrize("value, ok", [("2026-03", True), ("q1.pulse_v2", True), ("A", True), ("x" * 64, True),
                                       ("x" * 65, False), ("-2026", False), ("2026 03", False), ("a,b", False),
                                       ("it's", False), ("", False), ("ünï", False)])
def test_survey_ids_are_safe_for_partitions_and_sql(value, ok):
    assert is_survey_id(value) is ok


def test_survey_scope_vars_are_the_sorted_distinct_surveys_of_the_run():
    assert json.loads(survey_scope_vars(["2026-03", "2026-01", "2026-03"])) == {"survey_ids": "2026-01,2026-03"}
    bad = "x');drop"
    with pytest.raises(ValueError, match=re.escape(f"not a survey id: {bad!r}")):
        survey_scope_vars(["2026-01", bad])
    with pytest.raises(ValueError, match="at least one survey"):
        survey_scope_vars([])


def test_partition_range_tags_span_the_wanted_partitions_in_dagster_order():
    tags = partition_range_tags(["2026-02", "2026-01", "2026-03", "old"], ["2026-03", "2026-01"])
    assert tags == {"dagster/asset_partition_range_start": "2026-01", "dagster/asset_partition_range_end": "2026-03"}


def test_a_survey_folder_whose_name_is_not_a_survey_id_is_rejected_with_the_reason(tmp_path):
    folder = tmp_path / "march pulse"
    folder.mkdir()
    (folder / "survey.json").write_text(json.dumps({
        "survey_id": "march pulse", "title": "March", "opened_at": "2026-03-02T09:00:00Z", "questions": []}))
    with pytest.raises(UnreadableFile, match="the folder name 'march pulse' is not a survey id"):
        parse_survey_json(folder / "survey.json", "march pulse")
