"""The ``app/users`` asset: dashboard accounts kept in step with the roster. Thin over ``users.sync_users``."""

import dagster as dg

from assets.access.users import sync_users
from assets.ingestion.assets import EMPLOYEES, TEAMS
from orchestration import automation
from orchestration.resources import WarehouseResource

USERS = dg.AssetKey(["app", "users"])
CHECK = "every_role_holder_has_an_account"


@dg.asset(
    key=USERS,
    deps=[EMPLOYEES, TEAMS],
    group_name="access",
    description=("Dashboard accounts: one per active employee with a dashboard_role, with the teams each may "
                 "see (a manager: the teams they manage and every team below). Passwords are kept; accounts "
                 "that left the roster are deactivated and their sessions end."),
    automation_condition=automation.reference_models(),
    check_specs=[dg.AssetCheckSpec(CHECK, asset=USERS, blocking=False,
                                   description="every active role holder on the roster got a working account")],
)
def users(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        report = sync_users(conn)
    for problem in report.problems:
        context.log.warning(problem)
    context.log.info(f"{report.active} accounts ({report.created} new, {report.changed} changed, "
                     f"{report.deactivated} deactivated); {report.without_password} without a password yet")
    return dg.MaterializeResult(
        metadata={"active_accounts": report.active, "created": report.created, "changed": report.changed,
                  "deactivated": report.deactivated, "by_role": dg.MetadataValue.json(report.by_role),
                  "without_password": report.without_password},
        check_results=[dg.AssetCheckResult(
            check_name=CHECK, passed=not report.problems, severity=dg.AssetCheckSeverity.WARN,
            description=("every active role holder has an account" if not report.problems
                         else "; ".join(report.problems[:10])),
            metadata={"problems": len(report.problems)})],
    )


access_assets = [users]
