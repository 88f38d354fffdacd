"""A survey backfill launched the way Dagster UI launches it (its GraphQL API), run by the real daemon."""

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from orchestration.config import PROJECT_ROOT, WORKSPACE_FILE, child_environment
from orchestration.definitions import build_definitions
from orchestration.instance import storage_environment
from orchestration.receivers import free_port
from orchestration.runner import open_instance

pytestmark = pytest.mark.integration

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on PartitionSetNotFoundError { message }
  }
}"""
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on PythonError { message }
  }
}"""


def graphql(port: int, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def test_backfill_of_one_survey_from_the_ui_succeeds(novora_config, warehouse_url, fixture_landing, tmp_path):
    instance = open_instance(novora_config)
    instance.add_dynamic_partitions("survey", ["2026-01"])
    org = build_definitions(novora_config).resolve_job_def("ingest_org").execute_in_process(instance=instance)
    assert org.success

    env = {**child_environment(novora_config), **storage_environment(novora_config)}
    port = free_port()
    bin_dir = Path(sys.executable).parent
    logs = tmp_path / "logs"
    logs.mkdir()
    commands = {
        "webserver": [str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w",
                      str(WORKSPACE_FILE)],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", str(WORKSPACE_FILE)],
    }
    processes = []
    for name, command in commands.items():
        with (logs / f"{name}.log").open("w") as log:  # the child keeps its own copy of the descriptor
            processes.append(subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log,
                                              stderr=subprocess.STDOUT))
    try:
        def up():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    return True
            except OSError:
                return False

        wait_for(up, 120, "dagster-webserver")
        survey_assets = [["raw", "surveys"], ["raw", "questions"], ["raw", "invitations"], ["raw", "responses"]]
        launched = graphql(port, LAUNCH, {"params": {
            "partitionNames": ["2026-01"],
            "assetSelection": [{"path": path} for path in survey_assets],
            "fromFailure": False,
        }})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]

        def finished():
            status = graphql(port, STATUS, {"id": backfill_id})["partitionBackfillOrError"]["status"]
            return status if status not in ("REQUESTED", "CANCELING", "FAILING") else None

        status = wait_for(finished, 300, "the backfill to finish")
        assert status in ("COMPLETED", "COMPLETED_SUCCESS"), (status, (logs / "daemon.log").read_text()[-3000:])
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert runs and all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)

    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        # Runs the daemon launched (the automation follows the backfill with dbt and the comments) outlive it in
        # their own processes: let them end, or they write into the next test's warehouse on this server.
        wait_for(lambda: not instance.get_runs(filters=dg.RunsFilter(statuses=[
            dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING])),
            300, "the runs the daemon launched to end")

    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.responses where survey_id = '2026-01'").fetchone()[0] == 11
        assert conn.execute("select count(*) from raw.invitations").fetchone()[0] == 7
