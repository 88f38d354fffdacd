"""The Novora code location: every domain's definitions merged. Nothing else lives here."""

import os

import dagster as dg

from assets.access.assets import access_assets
from assets.alerts.assets import alert_assets
from assets.ingestion.assets import ingestion_assets
from assets.nlp.assets import nlp_assets
from orchestration.cadences import cadence_jobs, cadence_schedules, mart_freshness_checks, stale_data_alerts
from orchestration.config import load_config
from orchestration.dbt import build_dbt_assets
from orchestration.housekeeping import dagster_housekeeping
from orchestration.jobs import jobs
from orchestration.recovery import orphaned_runs_sensor
from orchestration.resources import resources_for
from orchestration.scaling import executor_from_env
from orchestration.sensors import (
    alert_notifications_sensor,
    alert_settings_sensor,
    landing_sensor,
    run_failure_notifications,
    warehouse_automation_sensor,
)


def build_definitions(config=None) -> dg.Definitions:
    config = config or load_config()
    dbt_assets = build_dbt_assets()
    return dg.Definitions(
        assets=[*ingestion_assets, *nlp_assets, *dbt_assets, *alert_assets, *access_assets],
        asset_checks=[mart_freshness_checks(dbt_assets)],
        jobs=[*jobs, *cadence_jobs.values()],
        schedules=cadence_schedules,
        sensors=[landing_sensor, warehouse_automation_sensor, alert_notifications_sensor, alert_settings_sensor,
                 run_failure_notifications, stale_data_alerts, orphaned_runs_sensor, dagster_housekeeping],
        resources=resources_for(config),
        executor=executor_from_env(os.environ),  # NOVORA_EXECUTOR (orchestration/scaling.py)
    )


defs = build_definitions()
