"""Sensors: ``landing_sensor`` turns deliveries in the landing zone into exactly the runs they need."""


import json
import time

import dagster as dg

from assets.ingestion.landing import WatchState, plan
from orchestration.jobs import ingest_org_job, ingest_survey_job
from orchestration.partitions import survey_partitions
from orchestration.resources import LandingZone, WarehouseResource

_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def loaded_files(conn) -> dict[str, str]:
    """File path -> content hash of every delivery whose rows are in the warehouse now."""
    rows = conn.execute("select file_path, content_sha256 from raw.deliveries where is_current").fetchall()
    return {path: sha for path, sha in rows if sha}


def org_run_active(instance: dg.DagsterInstance) -> bool:
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=ingest_org_job.name, statuses=_ACTIVE), limit=1)
    return bool(runs)


@dg.sensor(
    name="landing_sensor",
    jobs=[ingest_org_job, ingest_survey_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers new survey partitions and requests a run for each new or changed delivery.",
)
def landing_sensor(
    context: dg.SensorEvaluationContext, landing: LandingZone, warehouse: WarehouseResource
) -> dg.SensorResult:
    state = WatchState.from_json(json.loads(context.cursor) if context.cursor else None)
    known = set(context.instance.get_dynamic_partitions(survey_partitions.name))
    with warehouse.connect() as conn:
        loaded = loaded_files(conn)
    decision, new_state = plan(landing.root, state, known, org_run_active(context.instance), now=time.time(),
                               loaded=loaded)
    requests = []
    if decision.run_org:
        requests.append(dg.RunRequest(run_key=f"org:{decision.run_org}", job_name=ingest_org_job.name,
                                      tags={"novora/trigger": "landing_sensor"}))
    for survey_id, key in decision.run_surveys.items():
        requests.append(dg.RunRequest(run_key=f"survey:{survey_id}:{key}", job_name=ingest_survey_job.name,
                                      partition_key=survey_id, tags={"novora/trigger": "landing_sensor"}))
    if decision.deferred:
        context.log.info(f"waiting for the org run before loading: {', '.join(decision.deferred)}")
    if decision.unsettled:
        context.log.info(f"still being written, checked again next tick: {', '.join(decision.unsettled)}")
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            [survey_partitions.build_add_request(decision.new_partitions)] if decision.new_partitions else []
        ),
        cursor=json.dumps(new_state.to_json()),
    )


# dbt models carry AutomationCondition.eager(); this sensor evaluates those conditions (Dagster's default one is
# created stopped), so a survey delivered through the landing sensor reaches the warehouse without a click.
warehouse_automation_sensor = dg.AutomationConditionSensorDefinition(
    "warehouse_automation",
    target=dg.AssetSelection.groups("nlp", "staging", "intermediate", "marts"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=("Masks, embeds and classifies a survey's comments and rebuilds the dbt models (running their "
                 "tests) when the raw tables under them change."),
)
