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
"""

import warnings

import dagster as dg

# Survey-partitioned assets the rollups read: the dbt models of a survey and its comments (NLP assets).
SURVEY_MODELS = dg.AssetSelection.tag("survey_partition", "") | dg.AssetSelection.groups("nlp")
# dbt sources that no Dagster asset produces (app.settings, raw.deliveries): never "materialised".
# (include_sources is marked beta; its warning would be printed by every CLI command that loads the code.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    EXTERNAL_SOURCES = dg.AssetSelection.all(include_sources=True) - dg.AssetSelection.all()


def _base(missing_deps: dg.AutomationCondition, label: str) -> dg.AutomationCondition:
    changed = (dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()).since_last_handled()
    never_built = dg.AutomationCondition.missing() & ~dg.AutomationCondition.execution_failed()
    return (
        (changed | never_built)
        & ~missing_deps
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
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
