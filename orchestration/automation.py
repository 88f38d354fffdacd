"""Named automation conditions for the dbt assets (evaluated by the ``warehouse_automation`` sensor).

Dagster's ``eager()`` builds what *becomes* missing and what sits under a change, and waits while any
dependency is missing. On a fresh deployment that runs on sensors alone (docker-compose) that never builds
the seed or the models of surveys loaded before the sensor's first tick, an external source (app.settings)
counts as a missing dependency forever, and one survey that failed to load would hold back every survey's
marts. So every dbt asset is built when what is under it changes, or when it is missing and its last run did
not fail (after a failure it waits for an upstream change rather than retrying every tick), and:

- ``survey_models``: survey-partitioned models wait for the same survey's raw tables;
- ``reference_models``: unpartitioned models that read no survey model wait for their dependencies;
- ``rollup_models``: unpartitioned models that read survey models directly (the group rollups) wait until at
  least one survey's models exist; a survey whose models are missing (its delivery failed) does not hold
  them back, they read whatever surveys are loaded.

Every one of them also waits while a landing run (``land_survey``, ``ingest_org``) is queued or in flight. Such a
run builds the survey's models, the marts and the alerts itself, one step after another; without the wait the
automation would start the comments and every rollup as soon as the raw tables under them were in, each in a run
of its own, all sharing the machine's cores with the landing run and each other. The comments (and what reads
them) follow once the landing run is over. A custom condition is Python, so the ``warehouse_automation`` sensor
evaluates in the code location (``use_user_code_server``).
"""

import warnings
from datetime import UTC, datetime, timedelta

import dagster as dg

# Runs requested by the landing sensor; their names are the jobs' (orchestration/jobs.py imports this module's
# conditions through the assets, so the names are spelled here rather than imported from there).
LANDING_JOBS = ("land_survey", "ingest_org")
ACTIVE_RUN_STATUSES = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
                       dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]

# Survey-partitioned assets the rollups read: the dbt models of a survey and its comments (NLP assets).
SURVEY_MODELS = dg.AssetSelection.tag("survey_partition", "") | dg.AssetSelection.groups("nlp")
# dbt sources that no Dagster asset produces (app.settings, raw.deliveries): never "materialised".
# (include_sources is marked beta; its warning would be printed by every CLI command that loads the code.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    EXTERNAL_SOURCES = dg.AssetSelection.all(include_sources=True) - dg.AssetSelection.all()


def job_run_active(instance: dg.DagsterInstance, job_name: str) -> bool:
    """True while a run of ``job_name`` is queued, starting or running, or failed and about to be retried."""
    if instance.get_runs(filters=dg.RunsFilter(job_name=job_name, statuses=ACTIVE_RUN_STATUSES), limit=1):
        return True
    return retry_pending(instance, job_name)


# A run whose worker died is marked failed (orchestration/recovery.py) and Dagster's daemon creates its retry a few
# seconds later. In between, the steps it finished (a survey's raw tables) look like fresh changes with no landing
# run in flight: the automation would build on them in a run of its own, beside the retry. So a failed run that
# Dagster will retry counts as active until its retry exists (that one is then queued), for this long at most
# (should the retries stop being made, the automation is not held back for ever).
RETRY_PENDING_SECONDS = 600


def retry_pending(instance: dg.DagsterInstance, job_name: str, now: datetime | None = None) -> bool:
    """A run of ``job_name`` failed recently, Dagster marked it to be retried and has not created the retry yet."""
    from dagster._core.storage.tags import AUTO_RETRY_RUN_ID_TAG, WILL_RETRY_TAG

    since = (now or datetime.now(UTC)) - timedelta(seconds=RETRY_PENDING_SECONDS)
    failed = instance.get_runs(filters=dg.RunsFilter(job_name=job_name, statuses=[dg.DagsterRunStatus.FAILURE],
                                                     tags={WILL_RETRY_TAG: "true"}, updated_after=since), limit=10)
    return any(AUTO_RETRY_RUN_ID_TAG not in run.tags for run in failed)


def landing_run_active(instance: dg.DagsterInstance) -> bool:
    return any(job_run_active(instance, job) for job in LANDING_JOBS)


# One answer per automation tick, not one per asset: every asset's condition asks at the same evaluation time.
_landing_busy_at: dict[tuple[int, object], bool] = {}


def _landing_busy(instance: dg.DagsterInstance, evaluation_time: object) -> bool:
    key = (id(instance), evaluation_time)
    if key not in _landing_busy_at:
        _landing_busy_at.clear()
        _landing_busy_at[key] = landing_run_active(instance)
    return _landing_busy_at[key]


class NoLandingRunActive(dg.AutomationCondition):
    """True for every candidate while no landing run is queued or in flight; false for all of them otherwise."""

    @property
    def name(self) -> str:
        return "no_landing_run_active"

    @property
    def description(self) -> str:
        return "no land_survey or ingest_org run is queued or in flight"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        if context.candidate_subset.is_empty:
            return dg.AutomationResult(context, true_subset=context.get_empty_subset())
        busy = _landing_busy(context.asset_graph_view.instance, context.evaluation_time)
        return dg.AutomationResult(context, true_subset=context.get_empty_subset() if busy
                                   else context.candidate_subset)


def _base(missing_deps: dg.AutomationCondition, label: str) -> dg.AutomationCondition:
    changed = (dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()).since_last_handled()
    never_built = dg.AutomationCondition.missing() & ~dg.AutomationCondition.execution_failed()
    return (
        (changed | never_built)
        & ~missing_deps
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
        & NoLandingRunActive()
    ).with_label(label)


def survey_models() -> dg.AutomationCondition:
    return _base(dg.AutomationCondition.any_deps_missing().ignore(EXTERNAL_SOURCES), "survey_models")


def reference_models() -> dg.AutomationCondition:
    return _base(dg.AutomationCondition.any_deps_missing().ignore(EXTERNAL_SOURCES), "reference_models")


def rollup_models() -> dg.AutomationCondition:
    some_survey_built = dg.AutomationCondition.any_deps_match(~dg.AutomationCondition.missing()).allow(SURVEY_MODELS)
    missing_deps = dg.AutomationCondition.any_deps_missing().ignore(SURVEY_MODELS | EXTERNAL_SOURCES)
    return _base(missing_deps, "rollup_models") & some_survey_built


def alert_evaluation() -> dg.AutomationCondition:
    """The alerts asset: re-evaluated whenever a mart it reads was rebuilt (a new survey, a corrected
    re-delivery, a changed min_n), once every mart it reads exists."""
    return _base(dg.AutomationCondition.any_deps_missing().ignore(EXTERNAL_SOURCES), "alert_evaluation")
