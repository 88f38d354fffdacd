"""Sensors: ``landing_sensor`` turns deliveries in the landing zone into exactly the runs they need."""


import json
import time

import dagster as dg

from assets.ingestion.landing import WatchState, plan
from orchestration.jobs import ingest_org_job, ingest_survey_job
from orchestration.partitions import survey_partitions
from orchestration.resources import LandingZone

_ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


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
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZone) -> dg.SensorResult:
    state = WatchState.from_json(json.loads(context.cursor) if context.cursor else None)
    known = set(context.instance.get_dynamic_partitions(survey_partitions.name))
    decision, new_state = plan(landing.root, state, known, org_run_active(context.instance), now=time.time())
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
