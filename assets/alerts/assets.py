"""The alerts asset: evaluates SPEC section 4's rules whenever the marts it reads change. Thin over evaluate."""

import dagster as dg

from assets.alerts.evaluate import alerts_from_suppressed_numbers, evaluate_alerts, run_trigger
from assets.alerts.rules import RULE_VERSION
from orchestration import automation
from orchestration.resources import WarehouseResource

ALERTS = dg.AssetKey(["alerts", "alerts"])
MARTS_READ = [dg.AssetKey(["marts", name]) for name in
              ("driver_scores", "engagement", "enps", "participation", "trends", "comment_insights")]


@dg.asset(
    key=ALERTS,
    deps=MARTS_READ,
    group_name="alerts",
    description=("One row per issue the alert rules find in the marts (LOW_SCORE ... RECURRING), with its "
                 "provenance; re-evaluation refreshes, never duplicates, and resolves what no longer holds."),
    automation_condition=automation.alert_evaluation(),
    check_specs=[dg.AssetCheckSpec("no_alert_from_suppressed_numbers", asset=ALERTS, blocking=True,
                                   description="every current alert stands on a published mart row")],
)
def alerts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Evaluate every rule over every survey (a year of surveys is a few thousand mart rows)."""
    with warehouse.connect() as conn:
        evaluation = evaluate_alerts(conn, trigger=run_trigger(context.run.tags), run_id=context.run.run_id)
        offending = alerts_from_suppressed_numbers(conn)
    report = evaluation.report
    context.log.info(f"evaluation {evaluation.evaluation_id} ({evaluation.trigger}): {report.holding} current "
                     f"alerts: {report.new} new, {report.changed} changed, {report.resolved} resolved, "
                     f"{report.reopened} reopened ({evaluation.seconds:.2f} s)")
    return dg.MaterializeResult(
        metadata={
            "evaluation_id": evaluation.evaluation_id, "trigger": evaluation.trigger,
            "current_alerts": report.holding, "new": report.new, "seen_again": report.seen_again,
            "changed": report.changed, "resolved": report.resolved, "reopened": report.reopened,
            "rule_version": RULE_VERSION, "sentiment_model": evaluation.sentiment_model or "no comments",
            "by_type": dg.MetadataValue.json({k: v for k, v in report.by_type.items() if v}),
            "thresholds": dg.MetadataValue.json(evaluation.thresholds.as_json()),
            "mart_rows_read": evaluation.mart_rows, "seconds": round(evaluation.seconds, 3),
        },
        check_results=[dg.AssetCheckResult(
            check_name="no_alert_from_suppressed_numbers", passed=not offending,
            severity=dg.AssetCheckSeverity.ERROR,
            description=("every current alert stands on a published row" if not offending
                         else f"alerts {offending[:20]} stand on suppressed or unpublished rows"))],
    )


alert_assets = [alerts]
