"""Real Dagster materialisations, the landing sensor and the CLI, on the embedded server."""

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.resources import LandingZone, WarehouseResource
from orchestration.runner import materialize_all, open_instance
from orchestration.sensors import landing_sensor

pytestmark = pytest.mark.integration


def scalar(conn, query: str):
    return conn.execute(query).fetchone()[0]


def test_definitions_load_with_partitioned_ingestion_and_dbt_assets(novora_config):
    defs = build_definitions(novora_config)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw/teams", "raw/employees", "raw/surveys", "raw/questions", "raw/invitations", "raw/responses",
            "staging/stg_raw__responses", "staging/drivers"} <= keys
    assert graph.get(dg.AssetKey(["raw", "responses"])).partitions_def.name == "survey"
    assert graph.get(dg.AssetKey(["raw", "teams"])).partitions_def is None
    # lineage: the staging view depends on the raw asset the ingestion produces
    assert dg.AssetKey(["raw", "responses"]) in graph.get(dg.AssetKey(["staging", "stg_raw__responses"])).parent_keys
    check_names = {key.name for key in graph.asset_check_keys}
    assert {"rows_reconcile", "contract"} <= check_names
    assert any(name.startswith("unique") for name in check_names)  # dbt tests surface as asset checks
    assert defs.resolve_sensor_def("landing_sensor")
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"ingest_org", "ingest_survey", "land_survey",
                                                            "build_survey", "build_marts"}
    # the survey's dbt models share the ingestion's partitions; the marts are unpartitioned
    assert graph.get(dg.AssetKey(["staging", "stg_raw__responses"])).partitions_def.name == "survey"
    assert graph.get(dg.AssetKey(["intermediate", "int_answers_scored"])).partitions_def.name == "survey"
    assert graph.get(dg.AssetKey(["marts", "engagement"])).partitions_def is None
    # anonymity tests are blocking checks on the marts
    engagement_checks = {key.name: key for key in graph.asset_check_keys
                         if key.asset_key == dg.AssetKey(["marts", "engagement"])}
    assert {"no_differencing_gap_engagement_", "published_groups_meet_min_n_engagement_n_respondents"} <= set(
        engagement_checks)
    spec = defs.get_assets_def(dg.AssetKey(["marts", "engagement"])).get_spec_for_check_key(
        engagement_checks["no_differencing_gap_engagement_"])
    assert spec.blocking
    # dbt descriptions and column schemas reach the asset catalog
    engagement = graph.get(dg.AssetKey(["marts", "engagement"]))
    assert engagement.description.startswith("Per survey and group")
    columns = {c.name: c for c in engagement.metadata["dagster/column_schema"].columns}
    assert columns["engagement_score"].type == "numeric" and columns["engagement_score"].description
    # comments: survey-partitioned Python assets from raw/responses, read by dbt as sources, up to the marts
    assert graph.get(dg.AssetKey(["nlp", "comments"])).partitions_def.name == "survey"
    assert dg.AssetKey(["raw", "responses"]) in graph.get(dg.AssetKey(["nlp", "comments"])).parent_keys
    assert dg.AssetKey(["nlp", "comments"]) in graph.get(dg.AssetKey(["nlp", "embeddings"])).parent_keys
    assert dg.AssetKey(["nlp", "comment_enrichment"]) in graph.get(
        dg.AssetKey(["staging", "stg_nlp__comments"])).parent_keys
    assert dg.AssetKey(["staging", "stg_nlp__comments"]) in graph.get(dg.AssetKey(["marts", "comments"])).parent_keys
    nlp_checks = defs.get_assets_def(dg.AssetKey(["nlp", "comments"]))
    assert nlp_checks.get_spec_for_check_key(dg.AssetCheckKey(dg.AssetKey(["nlp", "comments"]), "no_pii_left")).blocking
    assert "enrich_comments" in {j.name for j in defs.resolve_all_job_defs()}


def test_materialize_loads_everything_and_a_second_pass_changes_nothing(
    novora_config, warehouse_url, conn, fixture_landing
):
    defs = build_definitions(novora_config)
    first = materialize_all(novora_config, defs, echo=lambda m: None)
    assert first.ok, [(s.name, s.error, s.failed_checks) for s in first.steps]
    assert [s.name for s in first.steps] == ["org", "survey 2026-01", "survey models", "comments", "marts",
                                              "alerts"]
    assert "raw/responses:contract" in first.steps[1].warnings  # bad rows are reported, not fatal
    assert scalar(conn, "select count(*) from raw.responses") == 11
    assert scalar(conn, "select count(*) from staging.stg_raw__responses") == 11
    assert scalar(conn, "select count(distinct response_id) from staging.stg_raw__responses") == 3
    assert scalar(conn, "select count(*) from staging.drivers") == 8

    instance = open_instance(novora_config)
    assert "2026-01" in instance.get_dynamic_partitions("survey")
    record = instance.get_latest_materialization_event(dg.AssetKey(["raw", "responses"]))
    metadata = record.asset_materialization.metadata
    assert metadata["rows_loaded"].value == 11 and metadata["rows_rejected"].value == 13
    assert record.asset_materialization.partition == "2026-01"
    evaluation = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(["raw", "responses"]), "rows_reconcile")]
    )
    assert list(evaluation.values())[0].status.value == "SUCCEEDED"

    counts_before = {t: scalar(conn, f"select count(*) from {t}") for t in
                     ("raw.responses", "raw.invitations", "raw.employees", "quarantine.rejected_rows",
                      "raw.deliveries")}
    second = materialize_all(novora_config, defs, echo=lambda m: None)
    assert second.ok
    assert {t: scalar(conn, f"select count(*) from {t}") for t in counts_before} == counts_before
    record = instance.get_latest_materialization_event(dg.AssetKey(["raw", "responses"]))
    assert record.asset_materialization.metadata["status"].value == "unchanged"


def test_materialize_fails_loudly_when_a_survey_cannot_be_checked(novora_config, warehouse_url, fixture_landing):
    (fixture_landing / "surveys" / "2026-01" / "survey.json").write_text("{not json")
    summary = materialize_all(novora_config, build_definitions(novora_config), echo=lambda m: None)
    assert not summary.ok
    survey = next(s for s in summary.steps if s.name == "survey 2026-01")
    assert not survey.success
    assert survey.error == "survey 2026-01 is not loaded: its survey.json must load first"
    # the unreadable file is an error, not a warning
    assert survey.failed_checks == ["raw/questions:contract (survey.json is not valid JSON: Expecting property name"
                                    " enclosed in double quotes at line 1)"]
    # nothing half-loaded reached dbt: the models and marts build from what raw holds
    assert next(s for s in summary.steps if s.name == "survey models").ok
    assert next(s for s in summary.steps if s.name == "marts").ok


def run_cli(*args: str, env_config) -> subprocess.CompletedProcess:
    env = {**os.environ, "NOVORA_HOME": str(env_config.home), "NOVORA_LANDING": str(env_config.landing)}
    novora = Path(sys.executable).with_name("novora")
    return subprocess.run([str(novora), *args], env=env, capture_output=True, text=True, timeout=600)


def test_cli_materialize_exit_codes_and_one_line_errors(novora_config, warehouse_url, fixture_landing):
    survey_json = fixture_landing / "surveys" / "2026-01" / "survey.json"
    good = survey_json.read_text()
    survey_json.write_text("[]")
    failed = run_cli("materialize", env_config=novora_config)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == ["novora: error: materialisation failed for: survey 2026-01"]
    assert "survey.json must hold a JSON object" in failed.stdout  # the reason is in the step's line

    survey_json.write_text(good)
    ok = run_cli("materialize", env_config=novora_config)
    assert ok.returncode == 0, ok.stderr
    assert "every blocking check passed" in ok.stdout
    assert "responses    2026-01            24         11        13" in ok.stdout

    missing = run_cli("materialize", env_config=novora_config.__class__(
        home=novora_config.home, landing=novora_config.landing / "nope", database_url=None,
        dagster_database_url=None))
    assert missing.returncode == 1 and missing.stderr.startswith("novora: error: landing zone")
    assert len(missing.stderr.strip().splitlines()) == 1


def test_cli_db_url_is_usable_by_psycopg(novora_config):
    import psycopg

    result = run_cli("db", "url", env_config=novora_config)
    assert result.returncode == 0
    with psycopg.connect(result.stdout.strip()) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == "novora"


def test_landing_sensor_registers_partitions_and_requests_exact_runs(novora_config, warehouse_url, fixture_landing):
    instance = open_instance(novora_config)
    if "2026-01" in instance.get_dynamic_partitions("survey"):  # left by an earlier test on the shared instance
        instance.delete_dynamic_partition("survey", "2026-01")
    resources = {"landing": LandingZone(path=str(fixture_landing)),
                 "warehouse": WarehouseResource(novora_home=str(novora_config.home))}
    settled = time.time() - 60  # files written a minute ago: the sensor does not wait for them to settle
    for path in fixture_landing.rglob("*.*"):
        os.utime(path, (settled, settled))

    def evaluate(cursor):
        with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
            return landing_sensor(context)

    first = evaluate(None)
    assert [r.job_name for r in first.run_requests] == ["ingest_org"]
    assert first.dynamic_partitions_requests[0].partition_keys == ["2026-01"]
    instance.add_dynamic_partitions("survey", ["2026-01"])
    second = evaluate(first.cursor)
    assert [(r.job_name, r.partition_key) for r in second.run_requests] == [("land_survey", "2026-01")]
    assert second.run_requests[0].run_key.startswith("survey:2026-01:")
    third = evaluate(second.cursor)
    assert third.run_requests == [] and third.dynamic_partitions_requests == []
    assert json.loads(third.cursor)["surveys"] == json.loads(second.cursor)["surveys"]

    # after `novora materialize` loaded everything, a sensor that starts from scratch requests nothing
    assert materialize_all(novora_config, build_definitions(novora_config), echo=lambda m: None).ok
    fresh = evaluate(None)
    assert fresh.run_requests == [] and fresh.dynamic_partitions_requests == []


def test_an_external_server_is_used_as_is(novora_config, warehouse_url, fixture_landing, tmp_path):
    """NOVORA_DATABASE_URL points everything (warehouse, Dagster storage, dbt) at a server Novora did not start."""
    from orchestration import database
    from orchestration.config import load_config

    external = load_config({"NOVORA_HOME": str(tmp_path / "home"), "NOVORA_LANDING": str(fixture_landing),
                            "NOVORA_DATABASE_URL": warehouse_url})
    summary = materialize_all(external, build_definitions(external), echo=lambda m: None)
    assert summary.ok, [(s.name, s.error) for s in summary.steps]
    assert not external.pgdata.exists()  # no embedded server was started
    assert "NOVORA_DAGSTER_STORAGE_URL" in (external.dagster_home / "dagster.yaml").read_text()
    import psycopg

    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from staging.stg_raw__responses").fetchone()[0] == 11
    with pytest.raises(database.DatabaseError, match="external server"):
        database.stop_server(external)


def _evaluate(**kwargs):
    """dg.evaluate_automation_conditions in a thread of its own: it calls asyncio.run, which refuses to run
    where an event loop is running (the session-wide Playwright browser of the e2e tests keeps one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(dg.evaluate_automation_conditions, **kwargs).result()


def _requested(defs: dg.Definitions, result) -> set[str]:
    """Asset keys (as strings) that an automation evaluation requested."""
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return {key.to_user_string() for key in keys if result.get_num_requested(key)}


def test_automation_builds_the_warehouse_from_scratch(novora_config, warehouse_url, fixture_landing):
    """The warehouse_automation conditions, evaluated by Dagster's own engine in process: with only the raw
    tables loaded (a fresh deployment, nothing built by dbt yet), the first tick requests the seed, the org and
    settings models and the survey's models; once those exist, the next tick requests the rollups and marts."""
    defs = build_definitions(novora_config)
    instance = open_instance(novora_config)
    # a fresh deployment: the test session's Dagster storage remembers other tests' materialisations
    instance.wipe_assets(list(defs.resolve_asset_graph().get_all_asset_keys()))
    instance.add_dynamic_partitions("survey", ["2026-01"])
    assert defs.resolve_job_def("ingest_org").execute_in_process(instance=instance).success
    assert defs.resolve_job_def("ingest_survey").execute_in_process(instance=instance, partition_key="2026-01").success

    first = _evaluate(defs=defs, instance=instance)
    requested = _requested(defs, first)
    assert {"staging/drivers", "staging/stg_app__settings", "staging/stg_raw__teams", "intermediate/int_team_closure",
            "staging/stg_raw__responses", "intermediate/int_team_metric_cells"} <= requested
    assert first.get_requested_partitions(dg.AssetKey(["intermediate", "int_answers_scored"])) == {"2026-01"}
    assert not {"intermediate/int_group_metric_cells", "marts/engagement"} & requested  # no survey built yet

    survey_run = defs.resolve_job_def("build_survey").execute_in_process(instance=instance, partition_key="2026-01")
    assert survey_run.success
    reference = [dg.AssetKey(key.split("/")) for key in requested if key.split("/")[0] != "raw"
                 and defs.resolve_assets_def(dg.AssetKey(key.split("/"))).partitions_def is None]
    assert defs.resolve_job_def("build_marts").execute_in_process(instance=instance, asset_selection=reference).success

    second = _evaluate(defs=defs, instance=instance, cursor=first.cursor)
    assert {"intermediate/int_group_metric_cells", "intermediate/int_group_suppression", "marts/engagement",
            "marts/driver_scores", "marts/trends"} <= _requested(defs, second)


def test_a_landing_run_builds_the_alerts_and_holds_the_automation(novora_config, warehouse_url, fixture_landing):
    """land_survey takes a delivered survey through its models and the marts to the alerts in one run; while such
    a run is queued or in flight the automation requests nothing (it would compete for the cores), and once it is
    over, the automation picks up what the run leaves: the survey's comments."""
    defs = build_definitions(novora_config)
    instance = open_instance(novora_config)
    instance.wipe_assets(list(defs.resolve_asset_graph().get_all_asset_keys()))
    instance.add_dynamic_partitions("survey", ["2026-01"])
    assert defs.resolve_job_def("ingest_org").execute_in_process(instance=instance).success
    land = defs.resolve_job_def("land_survey")

    in_flight = instance.create_run_for_job(job_def=land, status=dg.DagsterRunStatus.STARTED,
                                            tags={"dagster/partition": "2026-01"})
    try:
        assert _requested(defs, _evaluate(defs=defs, instance=instance)) == set()
    finally:
        instance.delete_run(in_flight.run_id)
    # with no landing run around, the same state asks for the org's models (the control for the line above)
    assert {"staging/stg_raw__teams", "intermediate/int_team_hierarchy"} <= _requested(
        defs, _evaluate(defs=defs, instance=instance))

    result = land.execute_in_process(instance=instance, partition_key="2026-01")
    assert result.success
    built = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert {"raw/responses", "intermediate/int_answers_scored", "marts/engagement", "alerts/alerts"} <= built
    assert not {key for key in built if key.startswith("nlp/")}  # the comments are not in the landing run

    after = _evaluate(defs=defs, instance=instance)
    assert after.get_requested_partitions(dg.AssetKey(["nlp", "comments"])) == {"2026-01"}
    assert "intermediate/int_answers_scored" not in _requested(defs, after)  # built by the landing run
