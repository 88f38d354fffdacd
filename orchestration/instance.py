"""Dagster's instance: run, event-log and schedule storage on the warehouse server (dagster-postgres)."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration import database
from orchestration.config import NovoraConfig


def sqlalchemy_url(url: str) -> str:
    """Dagster's storage goes through SQLAlchemy, whose plain ``postgresql://`` now means psycopg 3; Dagster's
    event log (``NOTIFY ... %(id)s``) needs psycopg2's client-side parameters, so name the driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def dagster_yaml(storage_url: str, embedded: bool, max_concurrent_runs: int = 2) -> dict:
    """The instance configuration. An external URL may carry a password, so it is referenced by env var."""
    postgres_url = sqlalchemy_url(storage_url) if embedded else {"env": "NOVORA_DAGSTER_STORAGE_URL"}
    return {
        "storage": {"postgres": {"postgres_url": postgres_url}},
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {"max_concurrent_runs": max_concurrent_runs},
        },
        "run_monitoring": {"enabled": True, "poll_interval_seconds": 30},
        # A run whose worker died (marked failed by the orphaned_runs sensor, orchestration/recovery.py, or by
        # Dagster's start timeout) is re-executed from the step it stopped in; one failed by a step (a rejected
        # file, a failed dbt test) is not: running it again would fail the same way.
        "run_retries": {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False},
        # Ticks, not runs: Dagster's sensor daemon applies `sensor` (its default keeps skipped ticks 7 days and the
        # others for ever); `schedule` is applied by Novora's dagster_housekeeping sensor (orchestration/
        # housekeeping.py), since Dagster's scheduler never purges: the cadences tick 22 times an hour.
        "retention": {
            "schedule": {"purge_after_days": {"skipped": 7, "success": 90, "failure": 90}},
            "sensor": {"purge_after_days": {"skipped": 7}},
        },
        "telemetry": {"enabled": False},
        "nux": {"enabled": False},
    }


def write_instance(config: NovoraConfig) -> Path:
    """Write ``$NOVORA_HOME/dagster/dagster.yaml`` (idempotent) and return DAGSTER_HOME."""
    home = config.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    url = database.dagster_storage_url(config)
    text = "# Written by `novora`: Dagster storage on the Novora PostgreSQL server.\n" + yaml.safe_dump(
        dagster_yaml(url, config.embedded), sort_keys=False
    )
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return home


def storage_environment(config: NovoraConfig) -> dict[str, str]:
    """Variables that dagster.yaml refers to (only for an external server)."""
    if config.embedded:
        return {}
    return {"NOVORA_DAGSTER_STORAGE_URL": sqlalchemy_url(database.dagster_storage_url(config))}
