"""``novora bench``: time each pipeline stage at benchmark scale (SPEC section 9); JSON out.

Ingestion and the comment stages (orchestration/bench_nlp.py) are timed on the first survey. dbt is timed
per survey, as production runs it: the survey's partition (``tag:survey_partition`` with ``--vars
survey_ids``) and then the marts. The surveys between the first and the last are built in one partitioned
run; the last survey is then timed like the first. A new survey must cost O(that survey), not O(all history),
so the last survey's cost over the first's stays near 1. At the end a full
refresh (O(all history)) must give exactly the marts the incremental path gave.

The benchmark has its own NOVORA_HOME (its own embedded server and landing zone) and its own dbt target folder,
so it never touches the demo's data or the project's dbt/target, and it starts from an empty schema every time
so that runs are comparable.

Then the alerts (orchestration/bench_alerts.py): every rule over the year of surveys, the year's notifications
sent to local receivers, and, unless ``live`` is off, one more survey (generated with the others and held back)
dropped into the landing zone while the real Dagster daemon runs, timed from landing to its alert emails.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from assets.ingestion import ingest
from orchestration import database, migrate
from orchestration.config import load_config
from orchestration.dbt import DBT_BUILD_ARGS, SURVEY_PARTITION_TAG, run_dbt, survey_scope_vars
from orchestration.resources import dbt_environment

PER_SURVEY_DBT_UNDER_SECONDS = 30
LAST_VS_FIRST_RATIO_UNDER = 1.3
COUNTED_TABLES = ("intermediate.int_answers_scored", "marts.driver_scores")
SLOWEST_NODES = 5

Progress = Callable[[str], None]


@dataclass(frozen=True)
class AppStage:
    """How the app stage measures the pages (orchestration/bench_app.py)."""

    query_repeats: int = 30  # uncached runs of each page query
    render_repeats: int = 20  # cold and warm renders of each page
    render: bool = True


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


# ---------------------------------------------------------------- dbt runs and their figures


@dataclass(frozen=True)
class DbtRun:
    """One timed dbt invocation: wall seconds (start-up and parsing included), dbt's own elapsed time for the
    nodes, and the slowest nodes (models and tests) by execution time."""

    seconds: float
    dbt_elapsed: float
    slowest: dict[str, float]

    def figures(self) -> dict[str, object]:
        return {"seconds": round(self.seconds, 3), "dbt_elapsed": round(self.dbt_elapsed, 3),
                "slowest_nodes": self.slowest}


@dataclass(frozen=True)
class SurveyCost:
    """What one new survey costs in dbt: its partition build, then the marts build after it."""

    partition: DbtRun
    marts: DbtRun

    @property
    def total(self) -> float:
        return self.partition.seconds + self.marts.seconds


def slowest_nodes(run_results: Mapping, n: int = SLOWEST_NODES) -> dict[str, float]:
    """The ``n`` nodes of a dbt run_results.json that took longest, slowest first: ``{unique_id: seconds}``."""
    results = sorted(run_results.get("results", []), key=lambda r: r.get("execution_time") or 0.0, reverse=True)
    return {r["unique_id"]: round(r.get("execution_time") or 0.0, 3) for r in results[:n]}


def dbt_cost_figures(first: SurveyCost, last: SurveyCost, middle_partition: DbtRun | None,
                     middle_surveys: int) -> dict[str, float | None]:
    """Per-survey dbt seconds: first and last survey (partition, marts, total), the surveys in between per
    survey, and the last survey's cost over the first's (near 1 when a survey costs O(that survey))."""
    per_middle = middle_partition.seconds / middle_surveys if middle_partition and middle_surveys else None
    figures = {
        "first_survey_partition": first.partition.seconds,
        "first_survey_marts": first.marts.seconds,
        "first_survey_total": first.total,
        "last_survey_partition": last.partition.seconds,
        "last_survey_marts": last.marts.seconds,
        "last_survey_total": last.total,
        "middle_surveys_partition_per_survey": per_middle,
        "last_vs_first_ratio": last.total / first.total if first.total else None,
    }
    return {k: None if v is None else round(v, 3) for k, v in figures.items()}


def dbt_targets(costs: Mapping[str, float | None]) -> dict[str, object]:
    """SPEC section 9 targets for dbt: a survey's build under 30 s, the 12th survey costing under 1.3x the 1st."""
    worst = max(costs["first_survey_total"] or 0.0, costs["last_survey_total"] or 0.0)
    ratio = costs["last_vs_first_ratio"]
    return {"per_survey_dbt_under_seconds": PER_SURVEY_DBT_UNDER_SECONDS,
            "per_survey_dbt_met": worst < PER_SURVEY_DBT_UNDER_SECONDS,
            "last_vs_first_ratio_under": LAST_VS_FIRST_RATIO_UNDER,
            "last_vs_first_ratio_met": ratio is not None and ratio < LAST_VS_FIRST_RATIO_UNDER}


@dataclass(frozen=True)
class BenchDbt:
    """dbt on the benchmark's warehouse, with target and log folders of its own: the benchmark neither disturbs
    nor is disturbed by other dbt runs in the project, and run_results.json is always this run's."""

    env: dict[str, str]
    target: Path
    progress: Progress

    @classmethod
    def prepare(cls, url: str, folder: Path, progress: Progress) -> BenchDbt:
        """Parse once, untimed, so the first timed build parses no more than every later build does."""
        target = folder / "target"
        env = {**os.environ, **dbt_environment(url), "DBT_TARGET_PATH": str(target),
               "DBT_LOG_PATH": str(folder / "logs")}
        progress("dbt parse (untimed) ...")
        run_dbt("parse", "--quiet", env=env)
        return cls(env, target, progress)

    def build(self, label: str, *args: str) -> DbtRun:
        """Time one ``dbt build``; the figure goes to progress at once, so even an unfinished benchmark tells."""
        started = time.perf_counter()
        run_dbt(*DBT_BUILD_ARGS, *args, env=self.env)
        seconds = time.perf_counter() - started
        results = json.loads((self.target / "run_results.json").read_text())
        run = DbtRun(seconds, float(results.get("elapsed_time") or 0.0), slowest_nodes(results))
        self.progress(f"  {label}: {run.seconds:.1f} s (dbt's own elapsed {run.dbt_elapsed:.1f} s)")
        return run

    def partitions(self, survey_ids: list[str]) -> DbtRun:
        """The surveys' staging views and incremental models (what the Dagster survey partitions run)."""
        return self.build(f"partition build of {len(survey_ids)} survey(s)", "--select", f"tag:{SURVEY_PARTITION_TAG}",
                          "--vars", survey_scope_vars(survey_ids))

    def marts(self) -> DbtRun:
        """Seeds, hierarchy, suppression and the marts, rebuilt from the per-survey tables."""
        return self.build("marts build", "--exclude", f"tag:{SURVEY_PARTITION_TAG}")

    def survey_cost(self, survey_id: str) -> SurveyCost:
        return SurveyCost(self.partitions([survey_id]), self.marts())


# ---------------------------------------------------------------- warehouse checks


def row_counts(conn: psycopg.Connection, tables: tuple[str, ...] = COUNTED_TABLES) -> dict[str, int]:
    query = sql.SQL("select count(*) from {}")
    return {t: conn.execute(query.format(sql.Identifier(*t.split(".")))).fetchone()[0] for t in tables}


def survey_responses(conn: psycopg.Connection, survey_id: str) -> int:
    """Distinct responses loaded for one survey."""
    row = conn.execute("select count(distinct response_id) from raw.responses where survey_id = %s", (survey_id,))
    return row.fetchone()[0]


def mart_checksums(conn: psycopg.Connection) -> dict[str, str]:
    """An md5 of every mart table's rows in a fixed order: equal checksums, equal marts."""
    tables = [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "and table_type = 'BASE TABLE' order by table_name").fetchall()]
    query = sql.SQL("select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {} as t")
    return {t: conn.execute(query.format(sql.Identifier("marts", t))).fetchone()[0] for t in tables}


def full_refresh_check(conn: psycopg.Connection, dbt: BenchDbt) -> tuple[DbtRun, list[str]]:
    """Rebuild everything from scratch (O(all history)); the marts whose rows differ from the incremental path's."""
    before = mart_checksums(conn)
    run = dbt.build("full refresh", "--full-refresh")
    after = mart_checksums(conn)
    return run, sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


# ---------------------------------------------------------------- stages


def ingest_first_survey(conn: psycopg.Connection, landing: Path, survey_id: str, seconds: dict[str, float],
                        progress: Progress) -> tuple[ingest.LoadReport, ingest.LoadReport]:
    """The org and the first survey, each ingestion step timed, re-deliveries included; (invitations, responses)."""
    progress("loading the org and the survey definition ...")
    started = time.perf_counter()
    ingest.ingest_org(conn, landing)
    ingest.ingest_survey_definition(conn, landing, survey_id)
    seconds["org_and_survey_definition"] = time.perf_counter() - started
    started = time.perf_counter()
    invitations = ingest.ingest_invitations(conn, landing, survey_id)
    seconds["invitations_total"] = time.perf_counter() - started
    progress(f"loading {survey_id}: responses ...")
    responses = ingest.ingest_responses(conn, landing, survey_id)
    for name, value in responses.timings.items():
        seconds[f"responses_{name}"] = value
    seconds["responses_total"] = responses.seconds
    progress("re-delivering identical responses (must be a no-op) ...")
    seconds["responses_identical_redelivery"] = ingest.ingest_responses(conn, landing, survey_id).seconds
    progress("re-delivering corrected responses (replaces the survey's partition) ...")
    append_duplicate_answer(ingest.survey_dir(landing, survey_id) / "responses.csv")
    corrected = ingest.ingest_responses(conn, landing, survey_id)
    seconds["responses_corrected_redelivery"] = corrected.seconds
    seconds["responses_corrected_redelivery_load"] = corrected.timings.get("load_seconds", 0.0)
    progress(f"  responses: {responses.seconds:.1f} s (COPY load {responses.timings.get('load_seconds', 0.0):.1f} s)")
    return invitations, responses


def ingest_surveys(conn: psycopg.Connection, landing: Path, survey_ids: list[str]) -> int:
    """Load later surveys (definition, invitations, responses) as the ingestion assets do; answer rows loaded."""
    loaded = 0
    for survey_id in survey_ids:
        reports = (ingest.ingest_survey_definition(conn, landing, survey_id),
                   ingest.ingest_invitations(conn, landing, survey_id),
                   ingest.ingest_responses(conn, landing, survey_id))
        failed = [r for r in reports if r.status != "loaded"]
        if failed:
            raise RuntimeError(f"survey {survey_id}: {failed[0].dataset} {failed[0].status} ({failed[0].file_error})")
        loaded += reports[-1].rows_loaded
    return loaded


def ingest_timed(conn: psycopg.Connection, landing: Path, survey_ids: list[str], key: str,
                 seconds: dict[str, float], progress: Progress) -> None:
    progress(f"loading {len(survey_ids)} survey(s) ({survey_ids[0]} .. {survey_ids[-1]}) ...")
    started = time.perf_counter()
    ingest_surveys(conn, landing, survey_ids)
    seconds[key] = time.perf_counter() - started


def middle_surveys_cost(conn: psycopg.Connection, landing: Path, dbt: BenchDbt, survey_ids: list[str],
                        seconds: dict[str, float], progress: Progress) -> tuple[DbtRun | None, DbtRun | None]:
    """Surveys 2..N-1: ingested, then their partitions in one dbt run and the marts; (partitions, marts)."""
    if not survey_ids:
        return None, None
    ingest_timed(conn, landing, survey_ids, "middle_surveys_ingest", seconds, progress)
    progress(f"dbt: {len(survey_ids)} survey partitions in one run, then the marts ...")
    return dbt.partitions(survey_ids), dbt.marts()


def last_survey_cost(conn: psycopg.Connection, landing: Path, dbt: BenchDbt, survey_id: str,
                     seconds: dict[str, float], progress: Progress) -> SurveyCost:
    ingest_timed(conn, landing, [survey_id], "last_survey_ingest", seconds, progress)
    progress(f"dbt: {survey_id}'s partition, then the marts ...")
    return dbt.survey_cost(survey_id)


@dataclass(frozen=True)
class DbtBenchResult:
    """Every timed dbt run of the benchmark, the row counts at the end and the full-refresh comparison."""

    first: SurveyCost
    middle_surveys: int
    middle_partition: DbtRun | None
    middle_marts: DbtRun | None
    last: SurveyCost
    row_counts: dict[str, int]
    full_refresh: DbtRun | None  # only with --full-refresh-check (it is O(all history))
    full_refresh_differing: list[str]

    def costs(self) -> dict[str, float | None]:
        return dbt_cost_figures(self.first, self.last, self.middle_partition, self.middle_surveys)

    def figures(self) -> dict[str, object]:
        return {
            **self.costs(),
            "middle_surveys_partition_total": _seconds(self.middle_partition),
            "middle_surveys_marts": _seconds(self.middle_marts),
            "full_refresh": _seconds(self.full_refresh),
            "full_refresh_identical": None if self.full_refresh is None else not self.full_refresh_differing,
            "full_refresh_differing_marts": self.full_refresh_differing,
            "row_counts": self.row_counts,
        }

    def stages(self) -> dict[str, object]:
        runs = {"first_survey_partition": self.first.partition, "first_survey_marts": self.first.marts,
                "middle_surveys_partition": self.middle_partition, "middle_surveys_marts": self.middle_marts,
                "last_survey_partition": self.last.partition, "last_survey_marts": self.last.marts,
                "full_refresh": self.full_refresh}
        return {name: run.figures() for name, run in runs.items() if run is not None}


def _seconds(run: DbtRun | None) -> float | None:
    return round(run.seconds, 3) if run else None


def bench_dbt(conn: psycopg.Connection, landing: Path, dbt: BenchDbt, survey_ids: list[str],
              seconds: dict[str, float], progress: Progress, check_full_refresh: bool) -> DbtBenchResult:
    """dbt per survey: the first (already ingested), the middle ones in one run, the last; then, if asked, a full
    refresh compared with the incremental marts."""
    first, *middle, last = survey_ids
    progress(f"dbt: {first}'s partition (staging views, incremental models, tests), then the marts ...")
    first_cost = dbt.survey_cost(first)
    # the key predates the per-survey split: the first dbt build after the first survey, as before
    seconds["dbt_build_staging"] = first_cost.total
    middle_partition, middle_marts = middle_surveys_cost(conn, landing, dbt, middle, seconds, progress)
    last_cost = last_survey_cost(conn, landing, dbt, last, seconds, progress)
    counts = row_counts(conn)
    full_refresh, differing = None, []
    if check_full_refresh:
        progress("dbt build --full-refresh of everything (O(all history)), compared with the incremental marts ...")
        full_refresh, differing = full_refresh_check(conn, dbt)
    return DbtBenchResult(first_cost, len(middle), middle_partition, middle_marts, last_cost, counts,
                          full_refresh, differing)


# ---------------------------------------------------------------- the benchmark


def hold_back(landing: Path, survey_id: str, folder: Path) -> Path:
    """Move a generated survey out of the landing zone (it lands later, while the daemon runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / survey_id
    if target.exists():
        shutil.rmtree(target)
    os.replace(landing / "surveys" / survey_id, target)
    return target


def run_bench(home: Path, teams: int, employees_per_team: int, progress: Progress, surveys: int = 12,
              check_full_refresh: bool = False, comments_only: bool = False, live: bool = True,
              app: AppStage | None = None) -> dict:
    """Every stage on a fresh warehouse; with ``live``, one survey more is generated and held back, to land
    while the real daemon runs (orchestration/bench_alerts.py); with ``app``, the dashboards' page queries and
    renders over the year loaded, last (orchestration/bench_app.py)."""
    from orchestration.bench_alerts import bench_alert_evaluation, bench_live
    from orchestration.bench_nlp import bench_comments
    from orchestration.synthetic import GenerateOptions, generate

    if surveys < 2:
        raise ValueError("the benchmark needs at least 2 surveys (the first and the last are compared)")
    home.mkdir(parents=True, exist_ok=True)
    config = load_config({"NOVORA_HOME": str(home), "NOVORA_LANDING": str(home / "landing")})
    figures: dict[str, object] = {"machine": machine()}
    seconds: dict[str, float] = {}

    surveys = 1 if comments_only else surveys
    live = live and not comments_only
    generated = surveys + 1 if live else surveys
    if (home / "landing").exists():  # surveys of an earlier run with more of them must not be loaded
        shutil.rmtree(home / "landing")
    progress(f"generating {teams} teams x {employees_per_team} employees and {generated} surveys ...")
    started = time.perf_counter()
    report = generate(config.landing, GenerateOptions(teams=teams, employees_per_team=employees_per_team,
                                                      surveys=generated, participation=1.0))
    seconds["generate"] = time.perf_counter() - started
    held = hold_back(config.landing, report.surveys[-1], home / "held") if live else None
    loaded = report.surveys[:surveys]
    first = loaded[0]

    url = database.ensure_server(config)
    migrate.reset(url)
    dbt = BenchDbt.prepare(url, home / "dbt", progress)
    with psycopg.connect(url, autocommit=True) as conn:
        invitations, responses = ingest_first_survey(conn, config.landing, first, seconds, progress)
        first_responses = survey_responses(conn, first)
        figures["comments"] = bench_comments(conn, first, progress)
        if comments_only:
            return figures
        dbt_result = bench_dbt(conn, config.landing, dbt, loaded, seconds, progress, check_full_refresh)
        figures["alerts"] = bench_alert_evaluation(conn, progress)
    if held is not None:
        try:
            figures["live"] = bench_live(config, url, held, loaded, progress)
        except Exception as error:  # the figures measured so far still come out; the CLI exits non-zero
            progress(f"live stage failed: {type(error).__name__}: {error}")
            figures["live"] = {"error": f"{type(error).__name__}: {error}"}
    if app is not None:
        from orchestration.bench_app import measure_app

        try:
            figures["app"] = measure_app(config, url, progress, app.query_repeats, app.render_repeats, app.render)
        except Exception as error:  # as for live: what was measured still comes out; the CLI exits non-zero
            progress(f"app stage failed: {type(error).__name__}: {error}")
            figures["app"] = {"error": f"{type(error).__name__}: {error}"}

    copy_seconds = seconds.get("responses_load_seconds", 0.0)
    figures.update({
        "scale": {"teams": report.teams, "employees": report.employees, "survey_id": first,
                  "responses": first_responses, "answer_rows_delivered": responses.rows_delivered,
                  "answer_rows_loaded": responses.rows_loaded, "answer_rows_rejected": responses.rows_rejected,
                  "invitations_loaded": invitations.rows_loaded, "surveys": len(loaded),
                  "last_survey_id": loaded[-1], "responses_generated": report.responses,
                  "held_back_survey_id": None if held is None else held.name},
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "rates": {
            "copy_load_rows_per_second": round(responses.rows_loaded / copy_seconds) if copy_seconds else None,
            "validate_rows_per_second": round(responses.rows_delivered / seconds["responses_validate_seconds"])
            if seconds.get("responses_validate_seconds") else None,
        },
        "dbt": dbt_result.figures(),
        "dbt_stages": dbt_result.stages(),
        "targets": {"copy_load_1_25M_rows_under_seconds": 15,
                    "copy_load_met": copy_seconds < 15 if responses.rows_loaded >= 1_250_000 else None,
                    **dbt_targets(dbt_result.costs())},
    })
    return figures
