"""``novora rescore``: evaluate the alerts again after a rule, threshold or model change, keeping the history.

Real Dagster runs on the instance the UI and the daemon share (they show in Dagster UI's run history, tagged
``novora/trigger = novora rescore: <reason>``), one after another:

1. the comments of the chosen surveys (mask, embed from the cache, classify sentiment and themes), when asked
   (``--comments``) or, by default, only for the surveys whose comments were not all scored by the sentiment
   classifier in use (``nlp.comment_enrichment.sentiment_model`` against :func:`assets.nlp.pipeline.classifier_in_use`);
2. the marts (every survey: they read every survey's rows and the current settings);
3. the alert evaluation, recorded in alerts.evaluations with the trigger and versions it used; each alert it
   raises, changes or resolves is written with that evaluation's id (alerts.alert_revisions, alert_events).

An unchanged warehouse re-scored again writes no revision and changes no alert's status or values. The pure
steps (which surveys, which comments, the summary) are plain functions below; :func:`run_rescore` wires them to
the database and Dagster.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import psycopg
from psycopg.rows import dict_row

from assets.alerts.revisions import RESCORE_TRIGGER
from assets.nlp import pipeline
from assets.nlp.store import scored_models
from orchestration import database, migrate, runner
from orchestration.config import NovoraConfig
from orchestration.jobs import build_marts_job, enrich_comments_job, evaluate_alerts_job
from orchestration.partitions import survey_partitions

Echo = Callable[[str], None]
AUDIT_ACTION = "alerts.rescore"


class RescoreError(RuntimeError):
    """A rescore that cannot start (unknown or archived survey, no reason, nothing loaded); one line."""


@dataclass(frozen=True)
class EvaluationState:
    """One row of alerts.evaluations, as the summary compares them."""

    evaluation_id: int
    rule_version: str | None
    settings_sha256: str
    thresholds: Mapping[str, object]
    sentiment_model: str | None
    trigger: str | None = None
    current_alerts: int = 0
    new_alerts: int = 0
    reopened_alerts: int = 0
    changed_alerts: int | None = 0
    resolved_alerts: int = 0


@dataclass(frozen=True)
class Plan:
    trigger: str
    surveys: list[str]
    comment_surveys: list[str]
    comments_why: str
    model_in_use: str | None
    before: EvaluationState | None


@dataclass
class RescoreResult:
    plan: Plan
    steps: list[runner.StepOutcome] = field(default_factory=list)
    after: EvaluationState | None = None

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps) and self.after is not None

    @property
    def failure(self) -> str | None:
        """One line: the first step that failed and why."""
        for step in self.steps:
            if not step.ok:
                why = step.error or (f"blocking checks failed: {', '.join(step.failed_checks)}"
                                     if step.failed_checks else "failed")
                return f"rescore failed at {step.name}: {why}"
        return None if self.after is not None else "rescore failed: the evaluation was not recorded"


# ------------------------------------------------------------------------------------------- pure steps


def trigger_for(reason: str) -> str:
    """The trigger recorded with the evaluation: ``novora rescore: <reason>``."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise RescoreError("--reason must say why the history is re-scored (it is recorded with the evaluation)")
    return f"{RESCORE_TRIGGER}: {reason}"


def choose_surveys(loaded: Sequence[str], archived: set[str], requested: Sequence[str]) -> list[str]:
    """The surveys to re-score, in survey order: those requested, or every loaded survey that is not archived.
    An unknown or archived survey is refused (an archived survey's comments cannot be scored from an empty raw)."""
    if not loaded:
        raise RescoreError("no survey is loaded yet: run `novora materialize` first")
    if not requested:
        return [s for s in loaded if s not in archived]
    for survey_id in requested:
        if survey_id not in loaded:
            raise RescoreError(f"survey {survey_id} is not loaded (loaded: {', '.join(loaded)})")
        if survey_id in archived:
            raise RescoreError(f"survey {survey_id} is archived: restore it first "
                               f"(`novora retention restore --survey {survey_id}`)")
    return [s for s in loaded if s in set(requested)]


def comment_surveys(requested: bool | None, surveys: Sequence[str], scored: Mapping[str, set[str | None]],
                    in_use: str | None) -> tuple[list[str], str]:
    """Which surveys' comments to re-score, and why: all (``--comments``), none (``--no-comments``), or by
    default those with a comment scored by another classifier than ``in_use``, or never scored (None). Surveys
    without comments are never re-scored. ``in_use`` None: the next enrichment trains a classifier first."""
    with_comments = [s for s in surveys if scored.get(s)]
    if requested is False:
        return [], "not re-scored (--no-comments)"
    if requested:
        return with_comments, "re-scored as asked (--comments)"
    if in_use is None:
        return with_comments, "re-scored: the sentiment classifier in use is not trained yet"
    stale = [s for s in with_comments if scored[s] != {in_use}]
    if stale:
        return stale, f"re-scored where not all scored with {in_use}, the classifier in use"
    return [], f"not re-scored: every comment was scored with {in_use}, the classifier in use"


def contiguous_blocks(known: Sequence[str], wanted: Sequence[str]) -> list[list[str]]:
    """``wanted`` cut into runs of neighbours in ``known`` (Dagster's partition order): one Dagster run covers a
    range of partitions, so surveys with an unwanted one between them go in separate runs."""
    chosen = set(wanted)
    blocks: list[list[str]] = []
    previous_wanted = False
    for key in known:
        if key in chosen:
            if previous_wanted:
                blocks[-1].append(key)
            else:
                blocks.append([key])
        previous_wanted = key in chosen
    return blocks


def threshold_changes(before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    """"name old → new" for each setting that differs (severities one by one)."""
    def flat(values: Mapping[str, object]) -> dict[str, object]:
        out = {k: v for k, v in values.items() if k != "severity"}
        out.update({f"severity {k}": v for k, v in dict(values.get("severity") or {}).items()})
        return out

    old, new = flat(before), flat(after)
    return [f"{k} {old.get(k, 'unset')} → {new.get(k, 'unset')}" for k in sorted(old.keys() | new.keys())
            if old.get(k) != new.get(k)]


def summary_lines(before: EvaluationState | None, after: EvaluationState) -> list[str]:
    """What the re-score did to the alerts and which versions it moved from and to."""
    raised = after.new_alerts + after.reopened_alerts
    changed = after.changed_alerts or 0
    unchanged = after.current_alerts - raised - changed
    changes = threshold_changes(before.thresholds if before else {}, after.thresholds) if before else []
    return [
        f"alerts: {raised} raised, {changed} changed, {after.resolved_alerts} resolved, {unchanged} unchanged "
        f"({after.current_alerts} hold now; evaluation {after.evaluation_id})",
        f"rule version: {_or_none(before and before.rule_version)} → {after.rule_version}",
        f"thresholds: {_or_none(before and before.settings_sha256[:12])} → {after.settings_sha256[:12]}"
        + (f" ({'; '.join(changes)})" if changes else ""),
        f"sentiment model: {_or_none(before and before.sentiment_model)} → {_or_none(after.sentiment_model)}",
    ]


def _or_none(value: object) -> str:
    return str(value) if value else "none"


# ------------------------------------------------------------------------------------------- the database

STATE_SQL = """
select evaluation_id, rule_version, settings_sha256, thresholds, sentiment_model, trigger, current_alerts,
    new_alerts, reopened_alerts, changed_alerts, resolved_alerts
from alerts.evaluations
"""


def latest_evaluation(conn: psycopg.Connection) -> EvaluationState | None:
    with conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(STATE_SQL + " order by evaluation_id desc limit 1").fetchone()
    return EvaluationState(**row) if row else None


def evaluation_of_run(conn: psycopg.Connection, run_id: str) -> EvaluationState | None:
    with conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(STATE_SQL + " where run_id = %s order by evaluation_id desc limit 1",
                             (run_id,)).fetchone()
    return EvaluationState(**row) if row else None


def plan(conn: psycopg.Connection, config: NovoraConfig, reason: str, requested: Sequence[str],
         comments: bool | None) -> Plan:
    """Check the request against the warehouse and decide every step, before any run starts."""
    trigger = trigger_for(reason)
    loaded = [r[0] for r in conn.execute("select survey_id from raw.surveys order by opened_at, survey_id")]
    archived = {r[0] for r in conn.execute("select survey_id from raw.archived_surveys")}
    surveys = choose_surveys(loaded, archived, requested)
    in_use = pipeline.classifier_in_use(conn, config.embedding_model_name)
    identity = in_use.identity if in_use is not None else None
    chosen, why = comment_surveys(comments, surveys, scored_models(conn, surveys), identity)
    return Plan(trigger, surveys, chosen, why, identity, latest_evaluation(conn))


def audit(conn: psycopg.Connection, actor: str, result: RescoreResult) -> None:
    """One app.audit_log entry per rescore, failed or not: the reason, the surveys and what it did."""
    p, after = result.plan, result.after
    detail = {"trigger": p.trigger, "surveys": p.surveys, "comment_surveys": p.comment_surveys,
              "sentiment_model_in_use": p.model_in_use,
              "steps": [{"step": s.name, "ok": s.ok, "error": s.error} for s in result.steps],
              "evaluation_id": after.evaluation_id if after else None,
              "before": _versions(p.before), "after": _versions(after), "failure": result.failure}
    conn.execute("insert into app.audit_log (actor, action, subject, detail) values (%s, %s, %s, %s)",
                 (actor, AUDIT_ACTION, ", ".join(p.surveys), json.dumps(detail)))


def _versions(state: EvaluationState | None) -> dict | None:
    if state is None:
        return None
    return {"evaluation_id": state.evaluation_id, "rule_version": state.rule_version,
            "settings_sha256": state.settings_sha256, "sentiment_model": state.sentiment_model}


# ------------------------------------------------------------------------------------------- the runs


def step_outcome(name: str, result: dg.ExecuteInProcessResult) -> runner.StepOutcome:
    """How ``novora materialize`` reads a run's result (blocking checks, warnings, the first error line);
    a thin wrapper, the function is private to orchestration/runner.py."""
    return runner._outcome(name, result)


@dataclass
class Runs:
    """Executes jobs in this process on the shared instance, Dagster's and dbt's output to a log file."""

    defs: dg.Definitions
    instance: dg.DagsterInstance
    trigger: str
    log_path: Path
    verbose: bool = False

    def run(self, name: str, job_name: str, partition_key: str | None = None,
            tags: dict[str, str] | None = None) -> tuple[runner.StepOutcome, str]:
        result = runner.execute_in_command(self.defs.resolve_job_def(job_name), self.instance, self.trigger,
                                           self.log_path, self.verbose, partition_key, tags)
        return step_outcome(name, result), result.run_id


def _echo_step(echo: Echo, outcome: runner.StepOutcome, extra: str = "") -> None:
    if outcome.ok:
        echo(f"{outcome.name}: ok{extra}")
        return
    echo(f"{outcome.name}: FAILED ({outcome.error or ', '.join(outcome.failed_checks) or 'failed'})")


def _comment_runs(runs: Runs, surveys: list[str], result: RescoreResult, echo: Echo) -> bool:
    known = runs.instance.get_dynamic_partitions(survey_partitions.name)
    missing = [s for s in surveys if s not in known]
    if missing:  # loaded outside this instance (another DAGSTER_HOME, a reset instance)
        runs.instance.add_dynamic_partitions(survey_partitions.name, missing)
        known = runs.instance.get_dynamic_partitions(survey_partitions.name)
    for block in contiguous_blocks(known, surveys):
        label = block[0] if len(block) == 1 else f"{block[0]}..{block[-1]}"
        if len(block) == 1:
            outcome, _ = runs.run(f"comments {label}", enrich_comments_job.name, partition_key=block[0])
        else:
            outcome, _ = runs.run(f"comments {label}", enrich_comments_job.name,
                                  tags=runner.partition_range_tags(known, block))
        result.steps.append(outcome)
        _echo_step(echo, outcome)
        if not outcome.ok:
            return False
    return True


def run_rescore(config: NovoraConfig, definitions: Callable[[], dg.Definitions], reason: str,
                requested: Sequence[str] = (), comments: bool | None = None, actor: str = "novora",
                echo: Echo = print, verbose: bool = False) -> RescoreResult:
    """Plan (refusing a bad request before anything runs), run the steps, record the audit entry."""
    url = database.ensure_server(config)
    migrate.migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        chosen = plan(conn, config, reason, requested, comments)
    echo(f"rescore ({chosen.trigger}): surveys {', '.join(chosen.surveys)}")
    echo(f"comments: {chosen.comments_why}"
         + (f": {', '.join(chosen.comment_surveys)}" if chosen.comment_surveys else ""))
    config.logs.mkdir(parents=True, exist_ok=True)
    instance = runner.open_instance(config)
    runner.fail_stopped_commands(instance, echo)
    runs = Runs(definitions(), instance, chosen.trigger, config.logs / "rescore.log", verbose)
    result = RescoreResult(chosen)
    try:
        if _comment_runs(runs, chosen.comment_surveys, result, echo):
            outcome, _ = runs.run("marts", build_marts_job.name)
            result.steps.append(outcome)
            _echo_step(echo, outcome)
            if outcome.ok:
                outcome, run_id = runs.run("alerts", evaluate_alerts_job.name)
                result.steps.append(outcome)
                with psycopg.connect(url, autocommit=True) as conn:
                    result.after = evaluation_of_run(conn, run_id)
                _echo_step(echo, outcome, f" (evaluation {result.after.evaluation_id})" if result.after else "")
                if result.ok and result.after is not None:
                    for line in summary_lines(chosen.before, result.after):
                        echo(line)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            audit(conn, actor, result)
    if not verbose:
        echo(f"(Dagster and dbt output: {runs.log_path})")
    return result
