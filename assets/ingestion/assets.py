"""Dagster assets for the landing zone: thin wrappers around :mod:`assets.ingestion.ingest`.

Every ingestion asset carries two checks:
- ``rows_reconcile`` (ERROR, blocking): rows loaded + rows rejected = rows delivered. If it ever failed,
  rows would have vanished, so nothing downstream may run on the result.
- ``contract``: the delivery met its contract. Quarantined rows make it a WARN (bad input is expected in real
  life; good rows flow on); a file rejected whole makes it an ERROR (the previous delivery stays loaded, but
  the run reports failure so that someone looks).
"""


import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dagster as dg
import psycopg

from assets.ingestion.ingest import (
    LoadReport,
    MissingReferenceData,
    ingest_invitations,
    ingest_org,
    ingest_responses,
    ingest_survey_definition,
)
from assets.ingestion.retention import archived_redelivery
from orchestration.partitions import survey_partitions
from orchestration.resources import LandingZone, WarehouseResource

GROUP = "ingestion"
T = TypeVar("T")

TEAMS = dg.AssetKey(["raw", "teams"])
EMPLOYEES = dg.AssetKey(["raw", "employees"])
SURVEYS = dg.AssetKey(["raw", "surveys"])
QUESTIONS = dg.AssetKey(["raw", "questions"])
INVITATIONS = dg.AssetKey(["raw", "invitations"])
RESPONSES = dg.AssetKey(["raw", "responses"])

RECONCILE = "rows_reconcile"
CONTRACT = "contract"


def check_specs(*keys: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    specs = []
    for key in keys:
        specs.append(dg.AssetCheckSpec(RECONCILE, asset=key, blocking=True,
                                       description="rows loaded + rows rejected = rows delivered"))
        specs.append(dg.AssetCheckSpec(CONTRACT, asset=key,
                                       description="the delivery met its data contract (nothing quarantined)"))
    return specs


def report_metadata(report: LoadReport) -> dict[str, dg.MetadataValue]:
    """Counts, timings and reasons only: never a delivered value (comments and names stay in raw)."""
    metadata: dict[str, dg.MetadataValue] = {
        "status": dg.MetadataValue.text(report.status),
        "file": dg.MetadataValue.path(report.file_path),
        "rows_delivered": dg.MetadataValue.int(report.rows_delivered),
        "rows_loaded": dg.MetadataValue.int(report.rows_loaded),
        "rows_rejected": dg.MetadataValue.int(report.rows_rejected),
        "seconds": dg.MetadataValue.float(round(report.seconds, 3)),
    }
    for name, value in report.timings.items():
        metadata[name] = dg.MetadataValue.float(round(value, 3))
    if report.file_error:
        metadata["file_error"] = dg.MetadataValue.text(report.file_error)
    if report.reasons:
        table = "\n".join(f"| {reason} | {count} |" for reason, count in report.reasons.most_common(20))
        metadata["rejection_reasons"] = dg.MetadataValue.md("| reason | rows |\n| --- | --- |\n" + table)
    return metadata


def check_results(key: dg.AssetKey, report: LoadReport) -> list[dg.AssetCheckResult]:
    reconciles = report.rows_loaded + report.rows_rejected == report.rows_delivered
    clean = report.status != "file_rejected" and report.rows_rejected == 0
    contract_text = (
        report.file_error if report.status == "file_rejected"
        else f"{report.rows_rejected} of {report.rows_delivered} rows quarantined" if report.rows_rejected
        else "no rows quarantined"
    )
    return [
        dg.AssetCheckResult(
            asset_key=key, check_name=RECONCILE, passed=reconciles, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"delivered": report.rows_delivered, "loaded": report.rows_loaded,
                      "rejected": report.rows_rejected},
        ),
        dg.AssetCheckResult(
            # A file rejected whole is an error the operator must act on (the run exits non-zero);
            # quarantined rows are a warning: the good rows flowed on.
            asset_key=key, check_name=CONTRACT, passed=clean,
            severity=dg.AssetCheckSeverity.ERROR if report.status == "file_rejected" else dg.AssetCheckSeverity.WARN,
            description=contract_text,
        ),
    ]


def materialize_result(key: dg.AssetKey, report: LoadReport, log: dg.DagsterLogManager) -> dg.MaterializeResult:
    if report.status == "file_rejected":
        log.error(f"{key.to_user_string()}: file rejected whole: {report.file_error}")
    elif report.rows_rejected:
        log.warning(f"{key.to_user_string()}: {report.rows_rejected} of {report.rows_delivered} rows quarantined")
    return dg.MaterializeResult(asset_key=key, metadata=report_metadata(report),
                                check_results=check_results(key, report))


RECONNECT_ATTEMPTS = 4  # a restarted server is back within seconds; one that stays down fails the step
RECONNECT_WAIT_SECONDS = 5.0
# no server answer at all, a broken connection (08...), or the server shutting down or starting (57P01-57P03)
_TRANSIENT_STATES = ("08", "57P01", "57P02", "57P03")


def is_transient(exc: psycopg.OperationalError) -> bool:
    """A fault that trying again on a new connection can cure (not a full disk or a resource limit)."""
    return exc.sqlstate is None or exc.sqlstate.startswith(_TRANSIENT_STATES)


def database_fault_reason(what: str, exc: psycopg.OperationalError, attempts: int = 1) -> str:
    """One line for an operator: what could not be loaded, why, and that nothing of it was kept."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    cause = (f"the database connection was lost ({detail})" if is_transient(exc)
             else f"the database server is out of disk space ({detail})" if isinstance(exc, psycopg.errors.DiskFull)
             else f"the database server refused the write ({detail})")
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return (f"{what} was not loaded{tries}: {cause}. Its transaction was rolled back, so the previous delivery is "
            "still the one in the warehouse; the next run loads it again.")


def with_reconnects(what: str, work: Callable[[], T], log: dg.DagsterLogManager,
                    attempts: int = RECONNECT_ATTEMPTS, wait_seconds: float = RECONNECT_WAIT_SECONDS) -> T:
    """``work()`` (which opens its own connection and commits or rolls back whole), tried again on a new
    connection when the server went away; a fault that persists or is not transient fails the step in one line."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except psycopg.OperationalError as exc:
            if not is_transient(exc) or attempt == attempts:
                raise dg.Failure(description=database_fault_reason(what, exc, attempt)) from exc
            log.warning(f"{what}: the database connection was lost ({' '.join(str(exc).split())}); nothing was "
                        f"kept; trying again in {wait_seconds:.0f} s (attempt {attempt + 1} of {attempts})")
            time.sleep(wait_seconds)
    raise AssertionError("unreachable")


def _refuse_archived(conn: psycopg.Connection, landing: LandingZone, survey_id: str) -> None:
    """Files delivered again for an archived survey fail the step with what to do (restore it first)."""
    reason = archived_redelivery(conn, landing.root, survey_id)
    if reason:
        raise dg.Failure(description=reason, allow_retries=False)


def _ingest_survey_file(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    landing: LandingZone,
    ingest: Callable[[psycopg.Connection, Path, str], LoadReport],
    key: dg.AssetKey,
) -> dg.MaterializeResult:
    """Run one survey file's ingestion for the run's partition; missing reference data fails the step clearly."""

    def work() -> LoadReport:
        with warehouse.connect() as conn:
            _refuse_archived(conn, landing, context.partition_key)
            return ingest(conn, landing.root, context.partition_key)

    try:
        report = with_reconnects(f"{key.to_user_string()} of survey {context.partition_key}", work, context.log)
    except MissingReferenceData as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    return materialize_result(key, report, context.log)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(TEAMS, group_name=GROUP, description="The team hierarchy from org/teams.csv (validated)."),
        dg.AssetSpec(EMPLOYEES, group_name=GROUP, description="The roster from org/employees.csv (validated)."),
    ],
    check_specs=check_specs(TEAMS, EMPLOYEES),
)
def org(context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZone):
    """teams.csv and employees.csv, checked together because each refers to the other."""
    def work() -> tuple[LoadReport, LoadReport]:
        with warehouse.connect() as conn:
            return ingest_org(conn, landing.root)

    teams_report, employees_report = with_reconnects("org/teams.csv and org/employees.csv", work, context.log)
    yield materialize_result(TEAMS, teams_report, context.log)
    yield materialize_result(EMPLOYEES, employees_report, context.log)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(SURVEYS, group_name=GROUP, description="One row per survey, from survey.json."),
        dg.AssetSpec(QUESTIONS, group_name=GROUP, description="The questions of each survey, from survey.json."),
    ],
    check_specs=[*check_specs(QUESTIONS)],
    partitions_def=survey_partitions,
)
def survey_definition(context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZone):
    """survey.json of one survey: its title, dates and questions."""
    def work() -> LoadReport:
        with warehouse.connect() as conn:
            _refuse_archived(conn, landing, context.partition_key)
            return ingest_survey_definition(conn, landing.root, context.partition_key)

    report = with_reconnects(f"survey.json of survey {context.partition_key}", work, context.log)
    yield dg.MaterializeResult(asset_key=SURVEYS, metadata={"status": dg.MetadataValue.text(report.status)})
    yield materialize_result(QUESTIONS, report, context.log)


@dg.asset(
    key=INVITATIONS,
    group_name=GROUP,
    partitions_def=survey_partitions,
    deps=[TEAMS, EMPLOYEES, SURVEYS],
    check_specs=check_specs(INVITATIONS),
)
def invitations(context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZone):
    """Who was invited to a survey, with the team they were on at launch (the participation denominator)."""
    return _ingest_survey_file(context, warehouse, landing, ingest_invitations, INVITATIONS)


@dg.asset(
    key=RESPONSES,
    group_name=GROUP,
    partitions_def=survey_partitions,
    deps=[TEAMS, QUESTIONS],
    check_specs=check_specs(RESPONSES),
)
def responses(context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZone):
    """Every answer of a survey (anonymous: a response carries its team, never a person), loaded with COPY."""
    return _ingest_survey_file(context, warehouse, landing, ingest_responses, RESPONSES)


ingestion_assets = [org, survey_definition, invitations, responses]
