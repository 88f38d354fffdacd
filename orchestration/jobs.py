"""Jobs: what the landing sensor and the CLI run. Named for what they do."""

import warnings

import dagster as dg

from assets.access.assets import users
from assets.alerts.assets import alert_assets
from assets.ingestion.assets import invitations, org, responses, survey_definition
from assets.nlp.assets import nlp_assets
from orchestration.dbt import SURVEY_PARTITION_TAG
from orchestration.partitions import survey_partitions

_DBT_GROUPS = dg.AssetSelection.groups("staging", "intermediate", "marts")
_SURVEY_MODELS = dg.AssetSelection.tag(SURVEY_PARTITION_TAG, "")

ingest_org_job = dg.define_asset_job(
    "ingest_org",
    selection=dg.AssetSelection.assets(org, users),
    description=("Load org/teams.csv and org/employees.csv into raw (bad rows to quarantine), then bring the "
                 "dashboard accounts in step with the roster."),
)

ingest_survey_job = dg.define_asset_job(
    "ingest_survey",
    selection=dg.AssetSelection.assets(survey_definition, invitations, responses),
    partitions_def=survey_partitions,
    description="Load one survey's survey.json, invitations.csv and responses.csv (a survey partition).",
)

# land_survey mixes the dbt models' single-run backfill policy with the raw assets' none; Dagster warns and uses
# one partition per run, which is what the landing sensor asks for anyway (backfills use the other jobs).
warnings.filterwarnings("ignore", message="Asset job land_survey materializes assets with varying BackfillPolicies")
land_survey_job = dg.define_asset_job(
    "land_survey",
    selection=dg.AssetSelection.assets(survey_definition, invitations, responses) | _DBT_GROUPS
    | dg.AssetSelection.assets(*alert_assets),
    partitions_def=survey_partitions,
    executor_def=dg.in_process_executor,
    description=("What the landing sensor runs for a new or changed survey delivery, step after step in one "
                 "process: its raw tables, its dbt models, the marts over every survey and the alerts, so that a "
                 "new survey's alerts go out minutes after it lands. Its comments (masking, embeddings, "
                 "sentiment) and the marts that read them follow by automation once this run is over."),
)

build_survey_job = dg.define_asset_job(
    "build_survey",
    selection=_SURVEY_MODELS,
    partitions_def=survey_partitions,
    description="dbt build of one survey's staging views and incremental models (answers, respondents, teams).",
)

enrich_comments_job = dg.define_asset_job(
    "enrich_comments",
    selection=dg.AssetSelection.assets(*nlp_assets),
    partitions_def=survey_partitions,
    description="Mask, flag, embed (cached) and classify one survey's comments (a survey partition).",
)

build_marts_job = dg.define_asset_job(
    "build_marts",
    selection=_DBT_GROUPS - _SURVEY_MODELS,
    description="dbt build of the hierarchy, suppression and marts over every survey, with their tests as checks.",
)

evaluate_alerts_job = dg.define_asset_job(
    "evaluate_alerts",
    selection=dg.AssetSelection.assets(*alert_assets),
    description="Evaluate the alert rules over the marts: new issues open, resolved ones close, none duplicates.",
)

jobs = [ingest_org_job, ingest_survey_job, land_survey_job, build_survey_job, enrich_comments_job, build_marts_job,
        evaluate_alerts_job]
