"""dbt wired into Dagster: one DbtProject, one translator, the dbt assets.

Raw tables appear as dbt sources whose asset keys are the ingestion assets' keys (``raw/<table>``), so the
asset graph runs from each landing file through staging to the marts. dbt tests become asset checks; tests of
severity error are blocking, so a failed anonymity test stops every asset downstream in the run.

Two sets of dbt assets: the models tagged ``survey_partition`` (the survey's staging views and the incremental
answer-, respondent- and team-level models) are partitioned by survey, and a run builds exactly its surveys
(``--vars '{survey_ids: ...}'``); everything else (hierarchy, suppression, marts) is small, unpartitioned, and
rebuilt from those per-survey tables.
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from assets.ingestion.contracts import SURVEY_ID_RULE, is_survey_id
from assets.ingestion.retention import archived_among
from orchestration import automation
from orchestration.config import DBT_PROJECT_DIR
from orchestration.partitions import survey_partitions
from orchestration.resources import WarehouseResource

SURVEY_PARTITION_TAG = "survey_partition"
# dbt sources written by the survey-partitioned NLP assets (assets/nlp): models reading them roll surveys up.
NLP_SOURCE_PREFIX = "source.novora.nlp."

# dbt parse renders the profile but never connects; these stand in when no warehouse is configured yet.
_PARSE_ONLY_ENV = {"NOVORA_PG_HOST": "localhost", "NOVORA_PG_USER": "postgres", "NOVORA_PG_DBNAME": "novora"}
_SOURCE_DIRS = ("models", "seeds", "macros", "tests")


@cache
def project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


dbt_project = project()


def manifest_is_stale(project_dir: Path, manifest: Path) -> bool:
    """True when manifest.json is missing or older than any file of the dbt project."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in _SOURCE_DIRS:
        files.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return any(p.stat().st_mtime > built for p in files if p.exists())


def dbt_command() -> list[str]:
    """The dbt executable of this environment (the venv's, not whatever is first on PATH)."""
    candidate = Path(sys.executable).with_name("dbt")
    return [str(candidate)] if candidate.exists() else ["dbt"]


def dbt_args(*args: str, project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    """A dbt command line for the Novora project (profiles.yml lives in the project)."""
    return [*dbt_command(), *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]


def run_dbt(*args: str, env: Mapping[str, str], project_dir: Path = DBT_PROJECT_DIR) -> None:
    """Run a dbt command outside Dagster; a failure becomes one line (dbt's last) in a RuntimeError."""
    result = subprocess.run(dbt_args(*args, project_dir=project_dir), env=dict(env), capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        detail = (result.stdout + result.stderr).strip().splitlines()
        command = " ".join(a for a in args if not a.startswith("-"))
        raise RuntimeError(f"dbt {command} failed: " + (detail[-1] if detail else f"exit {result.returncode}"))


def parse_manifest(project_dir: Path = DBT_PROJECT_DIR) -> None:
    """Run ``dbt parse`` so the code location can load (needs no database connection)."""
    run_dbt("parse", "--quiet", env={**_PARSE_ONLY_ENV, **os.environ}, project_dir=project_dir)


def ensure_manifest() -> Path:
    if manifest_is_stale(dbt_project.project_dir, dbt_project.manifest_path):
        parse_manifest(dbt_project.project_dir)
    return dbt_project.manifest_path


# dagster-dbt names a run's target folder after the dbt assets' op: one prefix per set of dbt assets below.
RUN_TARGET_PREFIXES = ("dbt_models-", "dbt_survey_models-")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def prune_run_targets(target_dir: Path, keep: int = 20, prefixes: tuple[str, ...] = RUN_TARGET_PREFIXES
                      ) -> list[Path]:
    """dagster-dbt gives every run its own target folder (artifacts for that run's debugging, about 14 MB); keep
    the newest ``keep`` of each set of dbt assets so that a year of runs does not fill the disk. Returns what was
    removed."""
    removed = []
    for prefix in prefixes:
        runs = sorted((p for p in target_dir.glob(prefix + "*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
        removed += runs[:-keep] if keep else runs
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def keep_partial_parse(run_target: Path, target_dir: Path) -> bool:
    """Make a finished run's parse state the one the next run starts from. dagster-dbt copies the project's
    ``partial_parse.msgpack`` into each run's folder; the one written at install was parsed with a stand-in
    profile, and dbt parses everything again when the profile differs, so without this every run parsed the
    whole project. Replaced atomically: a run starting now reads the old file or the new one, whole. A file that
    cannot be written (a full disk) leaves the old one: the next run parses more, nothing fails."""
    source = run_target / PARTIAL_PARSE_FILE
    if not source.is_file():
        return False
    aside = target_dir / f".{PARTIAL_PARSE_FILE}.{os.getpid()}"
    try:
        shutil.copyfile(source, aside)
        os.replace(aside, target_dir / PARTIAL_PARSE_FILE)
    except OSError:
        aside.unlink(missing_ok=True)
        return False
    return True


def asset_key_for(resource_type: str, schema: str | None, name: str, source_name: str | None = None) -> dg.AssetKey:
    """Sources keep the ingestion keys (``raw/teams``); models and seeds are keyed ``<schema>/<name>``."""
    if resource_type == "source":
        return dg.AssetKey([source_name or schema or "raw", name])
    return dg.AssetKey([schema or "public", name])


def group_for(fqn: list[str]) -> str:
    """The dbt folder a model lives in (staging, intermediate, marts) is its Dagster group; seeds go to staging."""
    return fqn[1] if len(fqn) > 2 else "staging"


@cache
def survey_partitioned_nodes() -> frozenset[str]:
    """Unique ids of the dbt nodes tagged ``survey_partition`` (from the manifest)."""
    manifest = json.loads(ensure_manifest().read_text())
    return frozenset(uid for uid, node in manifest["nodes"].items()
                     if SURVEY_PARTITION_TAG in node.get("tags", []))


class NovoraDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        props = dbt_resource_props
        is_source = props["resource_type"] == "source"
        name = (props.get("identifier") or props["name"]) if is_source else props["name"]
        return asset_key_for(props["resource_type"], props.get("schema"), name, props.get("source_name"))

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        # Rebuild (and re-test) as soon as what is under a model changes: a new survey flows to the warehouse
        # without anyone clicking (orchestration/automation.py says why there are three conditions).
        if SURVEY_PARTITION_TAG in dbt_resource_props.get("tags", []):
            return automation.survey_models()
        parents = dbt_resource_props.get("depends_on", {}).get("nodes", [])
        if any(parent in survey_partitioned_nodes() or parent.startswith(NLP_SOURCE_PREFIX) for parent in parents):
            return automation.rollup_models()
        return automation.reference_models()

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return group_for(list(dbt_resource_props.get("fqn", [])))


translator = NovoraDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def survey_scope_vars(survey_ids: list[str]) -> str:
    """The ``--vars`` of a dbt run limited to these surveys (a partitioned run or backfill)."""
    if not survey_ids:
        raise ValueError("a survey-partitioned dbt run needs at least one survey id")
    bad = [s for s in survey_ids if not is_survey_id(s)]
    if bad:
        raise ValueError(f"not a survey id: {bad[0]!r} ({SURVEY_ID_RULE})")
    return json.dumps({"survey_ids": ",".join(sorted(set(survey_ids)))})


# Unit tests are checked by the test suite (``make test``), not on every data run. "buildable": a test runs
# when each model it reads is built in this run or upstream of one that is, so a run of the org's models does
# not test a mart that may not exist yet, and a mart's run still checks it against the hierarchy it reads.
DBT_BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test", "--indirect-selection", "buildable"]
FAILED_STATUSES = ("error", "fail", "runtime error")


def dbt_failure_reason(run_results: Mapping[str, Any] | None, fallback: str, shown: int = 3) -> str:
    """One line for an operator from dbt's run_results.json: each failed node and what the database said.

    dbt builds each model in one transaction (a table is swapped in, a survey's rows are deleted and inserted
    together), so a failed model keeps what it held and the models after it are skipped; the line says so."""
    failed = [r for r in (run_results or {}).get("results", []) if r.get("status") in FAILED_STATUSES]
    if not failed:
        return fallback
    parts = []
    for result in failed[:shown]:
        lines = [line.strip() for line in str(result.get("message") or result["status"]).splitlines() if line.strip()]
        detail = [line for line in lines if not line.startswith(("Database Error in", "compiled code at"))]
        parts.append(f"{result['unique_id'].split('.')[-1]}: {(detail or lines or [result['status']])[0]}")
    more = f"; and {len(failed) - shown} more" if len(failed) > shown else ""
    return (f"dbt build failed: {'; '.join(parts)}{more}. A failed model keeps what it held before this run and "
            "the models after it were skipped; the next run builds them again.")


def stream_dbt(dbt: DbtCliResource, args: list[str], context: dg.AssetExecutionContext, target_dir: Path):
    """Run dbt, yielding its events; a failure ends the step with :func:`dbt_failure_reason`'s line. Old run
    folders are pruned whatever happens; a successful run without ``--vars`` leaves its parse state for the next
    (a run with them is parsed for its own surveys: dbt parses again when the vars differ)."""
    try:
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        yield from invocation.stream()
        if invocation.is_successful():
            if "--vars" not in args:
                keep_partial_parse(invocation.target_path, target_dir)
            return
    finally:
        prune_run_targets(target_dir)
    error = invocation.get_error()
    fallback = str(error).strip().splitlines()[0] if error else "dbt build failed"
    try:
        run_results = invocation.get_artifact("run_results.json")
    except (OSError, ValueError):
        run_results = None  # dbt stopped before it ran anything (a profile or connection problem)
    raise dg.Failure(description=dbt_failure_reason(run_results, fallback))


def build_dbt_assets() -> list[dg.AssetsDefinition]:
    manifest = ensure_manifest()
    target_dir = Path(dbt_project.project_dir) / dbt_project.target_path

    @dbt_assets(manifest=manifest, project=dbt_project, dagster_dbt_translator=translator, name="dbt_survey_models",
                select=f"tag:{SURVEY_PARTITION_TAG}", partitions_def=survey_partitions,
                backfill_policy=dg.BackfillPolicy.single_run())
    def dbt_survey_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """A survey's staging views and incremental models: rebuilds exactly the surveys of the run."""
        warehouse.export_for_dbt()
        surveys = list(context.partition_keys)
        with warehouse.connect() as conn:
            archived = archived_among(conn, surveys)
        if archived:
            # Their raw rows are in the archive: rebuilding would empty their per-survey tables (the marts stay).
            context.log.info(f"archived, left as built: {', '.join(sorted(archived))}")
            surveys = [s for s in surveys if s not in archived]
            if not surveys:
                return
        survey_vars = survey_scope_vars(surveys)
        yield from stream_dbt(dbt, [*DBT_BUILD_ARGS, "--vars", survey_vars], context, target_dir)

    @dbt_assets(manifest=manifest, project=dbt_project, dagster_dbt_translator=translator, name="dbt_models",
                exclude=f"tag:{SURVEY_PARTITION_TAG}")
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """Seeds, org staging, hierarchy, suppression and the marts, with their dbt tests as asset checks."""
        warehouse.export_for_dbt()
        yield from stream_dbt(dbt, DBT_BUILD_ARGS, context, target_dir)

    return [dbt_survey_models, dbt_models]
