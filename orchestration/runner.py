"""``novora materialize``: one in-process pass over the whole asset graph, recorded in Dagster's storage.

Order: the org, then every survey partition found in the landing zone (its raw tables, then its dbt models,
then its comments), then the marts, then the alerts. Runs go to the same instance the UI reads, so they appear
in Dagster UI's run history and asset catalog.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from assets.ingestion.contracts import is_survey_id
from assets.ingestion.ingest import survey_ids
from orchestration import database, migrate, recovery
from orchestration.config import NovoraConfig
from orchestration.instance import storage_environment, write_instance
from orchestration.jobs import (
    build_marts_job,
    build_survey_job,
    enrich_comments_job,
    evaluate_alerts_job,
    ingest_org_job,
    ingest_survey_job,
)
from orchestration.partitions import survey_partitions
from orchestration.recovery import TRIGGER_TAG, in_process_tags


@dataclass
class StepOutcome:
    name: str
    success: bool
    failed_checks: list[str] = field(default_factory=list)  # blocking (ERROR) checks that failed
    warnings: list[str] = field(default_factory=list)  # WARN checks that failed
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.success and not self.failed_checks


@dataclass
class MaterializeSummary:
    steps: list[StepOutcome]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)


def open_instance(config: NovoraConfig) -> dg.DagsterInstance:
    """Prepare the database and Dagster's home, then open the instance the webserver and daemon share."""
    url = database.ensure_server(config)
    migrate.migrate(url)
    if config.app_database_url:
        database.set_app_password(url, config.app_database_url)
    home = write_instance(config)
    os.environ.update(storage_environment(config))
    return dg.DagsterInstance.from_config(str(home))


def _outcome(name: str, result: dg.ExecuteInProcessResult) -> StepOutcome:
    failed, warnings = [], []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        label = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        if evaluation.severity == dg.AssetCheckSeverity.ERROR:
            if evaluation.description:
                label += f" ({evaluation.description})"
            failed.append(label)
        else:
            warnings.append(label)
    error = None
    if not result.success:
        failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        if failures:
            data = failures[0].step_failure_data
            error = _first_line(data.error.message) if data and data.error else "step failed"
        else:
            error = "run failed"
    return StepOutcome(name, result.success, failed, warnings, error)


def execute_in_command(job: dg.JobDefinition, instance: dg.DagsterInstance, trigger: str, log_path: Path,
                       verbose: bool = False, partition_key: str | None = None,
                       tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    """Execute ``job`` in this process (a Novora command's run): tagged with what triggered it and with this
    process (orchestration/recovery.py fails it with the reason should the command be killed). Unless
    ``verbose``, Dagster's and dbt's output goes to ``log_path``."""
    with open(log_path, "a", encoding="utf-8") as log, contextlib.ExitStack() as stack:
        if not verbose:
            stack.enter_context(contextlib.redirect_stdout(log))
            stack.enter_context(contextlib.redirect_stderr(log))
        return job.execute_in_process(
            run_config=quiet_run_config("DEBUG" if verbose else "INFO"), instance=instance,
            partition_key=partition_key, raise_on_error=False,
            tags={TRIGGER_TAG: trigger, **in_process_tags(), **(tags or {})})


def fail_stopped_commands(instance: dg.DagsterInstance, echo: Callable[[str], None]) -> None:
    """Before a command's own runs: an earlier command's runs left in flight when it was killed are failed."""
    for orphan in recovery.fail_stopped_commands(instance):
        echo(f"run {orphan.run_id} of {orphan.job_name} marked failed: {orphan.reason}")


def partition_range_tags(known: list[str], wanted: list[str]) -> dict[str, str]:
    """Run tags for one run over the partitions ``wanted``: the range, in Dagster's order of the dynamic
    partitions ``known``, from the first to the last of them."""
    positions = sorted(known.index(key) for key in wanted)
    return {ASSET_PARTITION_RANGE_START_TAG: known[positions[0]], ASSET_PARTITION_RANGE_END_TAG: known[positions[-1]]}


def quiet_run_config(level: str) -> dict:
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def _first_line(message: str) -> str:
    """The error's first line without its exception class ("dagster...Failure: reason" -> "reason")."""
    line = message.strip().splitlines()[0] if message.strip() else "step failed"
    return re.sub(r"^[\w.]+(Error|Failure|Exception): ", "", line)


def materialize_all(
    config: NovoraConfig,
    defs: dg.Definitions,
    echo: Callable[[str], None] = print,
    verbose: bool = False,
) -> MaterializeSummary:
    """Run org, every survey partition (ingestion, then its dbt models), then the marts. Unless ``verbose``,
    Dagster's and dbt's own output goes to ``$NOVORA_HOME/logs/materialize.log`` and only one line per step is
    echoed."""
    instance = open_instance(config)
    fail_stopped_commands(instance, echo)
    config.logs.mkdir(parents=True, exist_ok=True)
    log_path = config.logs / "materialize.log"
    surveys = survey_ids(config.landing)
    known = set(instance.get_dynamic_partitions(survey_partitions.name))
    new = [s for s in surveys if s not in known]
    if new:
        instance.add_dynamic_partitions(survey_partitions.name, new)
    steps: list[StepOutcome] = []

    def run(name: str, job_name: str, partition_key: str | None = None, tags: dict[str, str] | None = None
            ) -> StepOutcome:
        echo(f"materialising {name} ...")
        result = execute_in_command(defs.resolve_job_def(job_name), instance, "novora materialize", log_path,
                                    verbose, partition_key, tags)
        outcome = _outcome(name, result)
        steps.append(outcome)
        status = "ok" if outcome.ok else "FAILED"
        detail = f" ({outcome.error})" if outcome.error else ""
        if outcome.failed_checks:
            detail += f" blocking checks failed: {', '.join(outcome.failed_checks)}"
        if outcome.warnings:
            detail += f" warnings: {', '.join(outcome.warnings)}"
        echo(f"  {name}: {status}{detail}")
        return outcome

    run("org", ingest_org_job.name)
    for survey_id in surveys:
        run(f"survey {survey_id}", ingest_survey_job.name, survey_id)
    buildable = [s for s in surveys if is_survey_id(s)]  # the others were rejected, with the reason, above
    if buildable:
        # One dbt run for every survey's incremental models (a partition range, as a backfill would run it):
        # each survey is rebuilt from what raw holds, which is the last good delivery where one failed.
        survey_range = partition_range_tags(instance.get_dynamic_partitions(survey_partitions.name), buildable)
        run("survey models", build_survey_job.name, tags=survey_range)
        # Comments of every survey in one run as well: the embedding model loads once.
        run("comments", enrich_comments_job.name, tags=survey_range)
    run("marts", build_marts_job.name)
    run("alerts", evaluate_alerts_job.name)
    if not verbose:
        echo(f"(Dagster and dbt output: {log_path})")
    return MaterializeSummary(steps)
