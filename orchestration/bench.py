"""``novora bench``: time each pipeline stage on one benchmark-size survey (SPEC section 9); JSON out.

The benchmark has its own NOVORA_HOME (its own embedded server and landing zone), so it never touches the
demo's data, and it starts from an empty schema every time so that runs are comparable.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from assets.ingestion import ingest
from orchestration import database, migrate
from orchestration.config import load_config
from orchestration.dbt import ensure_manifest, run_dbt
from orchestration.resources import dbt_environment


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "system": platform.system()}


def append_duplicate_answer(path: Path) -> None:
    """A late correction: the file changes (one answer delivered twice), so the survey is loaded again."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 4096))
        last = handle.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    with path.open("ab") as handle:
        handle.write(last + b"\n")


def run_bench(home: Path, teams: int, employees_per_team: int, progress: Callable[[str], None]) -> dict:
    from orchestration.synthetic import GenerateOptions, generate

    home.mkdir(parents=True, exist_ok=True)
    config = load_config({"NOVORA_HOME": str(home), "NOVORA_LANDING": str(home / "landing")})
    figures: dict[str, object] = {"machine": machine()}
    seconds: dict[str, float] = {}

    progress(f"generating {teams} teams x {employees_per_team} employees and one survey ...")
    started = time.perf_counter()
    report = generate(config.landing, GenerateOptions(teams=teams, employees_per_team=employees_per_team,
                                                      surveys=1, participation=1.0))
    seconds["generate"] = time.perf_counter() - started
    survey_id = report.surveys[0]

    url = database.ensure_server(config)
    migrate.reset(url)
    with psycopg.connect(url, autocommit=True) as conn:
        progress("loading the org and the survey definition ...")
        started = time.perf_counter()
        ingest.ingest_org(conn, config.landing)
        ingest.ingest_survey_definition(conn, config.landing, survey_id)
        seconds["org_and_survey_definition"] = time.perf_counter() - started
        started = time.perf_counter()
        invitations = ingest.ingest_invitations(conn, config.landing, survey_id)
        seconds["invitations_total"] = time.perf_counter() - started
        progress(f"loading {survey_id}: responses ...")
        responses = ingest.ingest_responses(conn, config.landing, survey_id)
        for name, value in responses.timings.items():
            seconds[f"responses_{name}"] = value
        seconds["responses_total"] = responses.seconds
        progress("re-delivering identical responses (must be a no-op) ...")
        again = ingest.ingest_responses(conn, config.landing, survey_id)
        seconds["responses_identical_redelivery"] = again.seconds
        progress("re-delivering corrected responses (replaces the survey's partition) ...")
        append_duplicate_answer(ingest.survey_dir(config.landing, survey_id) / "responses.csv")
        corrected = ingest.ingest_responses(conn, config.landing, survey_id)
        seconds["responses_corrected_redelivery"] = corrected.seconds
        seconds["responses_corrected_redelivery_load"] = corrected.timings.get("load_seconds", 0.0)

    progress("dbt build (seeds, staging views and their tests) ...")
    ensure_manifest()
    env = {**os.environ, **dbt_environment(url)}
    started = time.perf_counter()
    run_dbt("build", env=env)
    seconds["dbt_build_staging"] = time.perf_counter() - started

    copy_seconds = seconds.get("responses_load_seconds", 0.0)
    figures.update({
        "scale": {"teams": report.teams, "employees": report.employees, "survey_id": survey_id,
                  "responses": report.responses, "answer_rows_delivered": responses.rows_delivered,
                  "answer_rows_loaded": responses.rows_loaded, "answer_rows_rejected": responses.rows_rejected,
                  "invitations_loaded": invitations.rows_loaded},
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "rates": {
            "copy_load_rows_per_second": round(responses.rows_loaded / copy_seconds) if copy_seconds else None,
            "validate_rows_per_second": round(responses.rows_delivered / seconds["responses_validate_seconds"])
            if seconds.get("responses_validate_seconds") else None,
        },
        "targets": {"copy_load_1_25M_rows_under_seconds": 15,
                    "copy_load_met": copy_seconds < 15 if responses.rows_loaded >= 1_250_000 else None},
    })
    return figures
