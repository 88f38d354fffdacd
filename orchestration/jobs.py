"""Jobs: what the landing sensor and the CLI run. Named for what they do."""

import dagster as dg

from assets.ingestion.assets import invitations, org, responses, survey_definition
from orchestration.partitions import survey_partitions

ingest_org_job = dg.define_asset_job(
    "ingest_org",
    selection=dg.AssetSelection.assets(org),
    description="Load org/teams.csv and org/employees.csv into raw (bad rows to quarantine).",
)

ingest_survey_job = dg.define_asset_job(
    "ingest_survey",
    selection=dg.AssetSelection.assets(survey_definition, invitations, responses),
    partitions_def=survey_partitions,
    description="Load one survey's survey.json, invitations.csv and responses.csv (a survey partition).",
)

build_warehouse_job = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.groups("staging", "intermediate", "marts"),
    description="dbt build: seeds, staging, intermediate and marts, with every dbt test as an asset check.",
)

jobs = [ingest_org_job, ingest_survey_job, build_warehouse_job]
