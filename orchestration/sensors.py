"""Sensors: ``landing_sensor`` turns deliveries in the landing zone into exactly the runs they need; the
alert sensors send notifications, re-evaluate on changed thresholds and tell admins about failed runs."""


import json
import time
import warnings
from datetime import UTC, datetime

import dagster as dg

from assets.alerts.delivery import deliver_due, load_notify_settings, notify_pending, plan_run_failure, usable_channels
from assets.alerts.evaluate import settings_changed
from assets.alerts.rules import SettingsError
from assets.ingestion.landing import WatchState, plan
from orchestration.automation import job_run_active
from orchestration.jobs import evaluate_alerts_job, ingest_org_job, land_survey_job
from orchestration.partitions import survey_partitions
from orchestration.resources import LandingZone, NotifierResource, WarehouseResource


def loaded_files(conn) -> dict[str, str]:
    """File path -> content hash of every delivery whose rows are in the warehouse now."""
    rows = conn.execute("select file_path, content_sha256 from raw.deliveries where is_current").fetchall()
    return {path: sha for path, sha in rows if sha}


@dg.sensor(
    name="landing_sensor",
    jobs=[ingest_org_job, land_survey_job],
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=("Registers new survey partitions and requests one land_survey run (raw tables, dbt models, "
                 "marts, alerts) for each new or changed survey delivery."),
)
def landing_sensor(
    context: dg.SensorEvaluationContext, landing: LandingZone, warehouse: WarehouseResource
) -> dg.SensorResult:
    state = WatchState.from_json(json.loads(context.cursor) if context.cursor else None)
    known = set(context.instance.get_dynamic_partitions(survey_partitions.name))
    with warehouse.connect() as conn:
        loaded = loaded_files(conn)
    org_running = job_run_active(context.instance, ingest_org_job.name)
    decision, new_state = plan(landing.root, state, known, org_running, now=time.time(), loaded=loaded)
    requests = []
    if decision.run_org:
        requests.append(dg.RunRequest(run_key=f"org:{decision.run_org}", job_name=ingest_org_job.name,
                                      tags={"novora/trigger": "landing_sensor"}))
    for survey_id, key in decision.run_surveys.items():
        requests.append(dg.RunRequest(run_key=f"survey:{survey_id}:{key}", job_name=land_survey_job.name,
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


# The dbt, comment and alert assets carry the conditions of orchestration/automation.py; this sensor evaluates
# them (Dagster's default one is created stopped), so what the landing runs leave (a survey's comments, the marts
# that read them) follows without a click.
# use_user_code_server is marked beta; its warning would be printed by every CLI command that loads the code.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    warehouse_automation_sensor = dg.AutomationConditionSensorDefinition(
        "warehouse_automation",
        target=dg.AssetSelection.groups("nlp", "staging", "intermediate", "marts", "alerts", "access"),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        use_user_code_server=True,  # its conditions include Python of ours (automation.NoLandingRunActive)
        description=("Masks, embeds and classifies a survey's comments, rebuilds the dbt models (running their "
                     "tests) when the raw tables under them change, and re-evaluates the alerts after the marts."),
    )


@dg.sensor(
    name="alert_notifications",
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=("Plans a notification for every new open alert (manager, admins for high severity, the webhook) "
                 "and sends what is due: once per alert, channel and recipient, retrying transient failures."),
)
def alert_notifications_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                               notifier: NotifierResource) -> dg.SkipReason:
    with warehouse.connect() as conn:
        try:
            result = notify_pending(conn, notifier.transports())
        except SettingsError as error:
            return dg.SkipReason(f"notifications paused: {error}")
    if result.planned or result.delivery.sent or result.delivery.failed:
        context.log.info(result.summary())
    return dg.SkipReason(result.summary())


@dg.sensor(
    name="alert_settings",
    job=evaluate_alerts_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-evaluates the alerts when their thresholds, severities or min_n change in app.settings.",
)
def alert_settings_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        try:
            changed = settings_changed(conn)
        except SettingsError as error:
            return dg.SkipReason(f"alert settings cannot be used: {error}")
    if changed is None:
        return dg.SkipReason("alert settings unchanged since the latest evaluation")
    return dg.RunRequest(run_key=f"settings:{changed}", tags={"novora/trigger": "alert_settings"})


def run_failure_reason(instance: dg.DagsterInstance, run_id: str, fallback: str) -> str:
    """What went wrong: the first failed step's innermost error (e.g. "SettingsError: setting ... must be a
    number"), not the run's "Steps failed: [...]"; the run's own message when no step failed."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=1).records
    for record in records:
        event = record.event_log_entry.dagster_event
        error = event.step_failure_data.error if event and event.step_failure_data else None
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None and error.message.strip():
            return error.message.strip()
    return fallback


@dg.run_failure_sensor(
    name="run_failure_notifications",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Tells the admins (email) and the webhook when any Novora run fails.",
)
def run_failure_notifications(context: dg.RunFailureSensorContext, warehouse: WarehouseResource,
                              notifier: NotifierResource) -> None:
    run = context.dagster_run
    error = run_failure_reason(context.instance, run.run_id, context.failure_event.message or "")
    transports = notifier.transports()
    with warehouse.connect() as conn:
        settings = load_notify_settings(conn)
        channels, _ = usable_channels(settings, transports)
        planned = plan_run_failure(conn, run.run_id, run.job_name, error, channels, notifier.dagster_url,
                                   now=datetime.now(UTC))
        report = deliver_due(conn, transports, settings)
    context.log.info(f"run {run.run_id} of {run.job_name} failed: {planned} notifications; {report.summary()}")
