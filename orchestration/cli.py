"""The ``novora`` command line (SPEC section 2).

Anything a user can cause ends in one clear line on stderr and a non-zero exit, never a bare traceback
(set ``NOVORA_DEBUG=1`` to see one).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from orchestration import database
from orchestration.config import load_config


class UserError(click.ClickException):
    def show(self, file=None) -> None:  # one line, no usage dump
        click.echo(f"novora: error: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Novora: employee-engagement survey analytics on Dagster, dbt and PostgreSQL."""


# ---------------------------------------------------------------- db


@cli.group()
def db() -> None:
    """The warehouse server (embedded PostgreSQL unless NOVORA_DATABASE_URL is set)."""


@db.command("start")
def db_start() -> None:
    """Start the embedded server (and bring the schema up to date)."""
    from orchestration import migrate

    config = load_config()
    url = database.ensure_server(config)
    applied = migrate.migrate(url)
    if config.app_database_url:
        database.set_app_password(url, config.app_database_url)
    where = f"embedded, data in {config.pgdata}" if config.embedded else "external"
    click.echo(f"database running ({where}); schema version {migrate.current_version(url)}"
               + (f", applied {', '.join(map(str, applied))}" if applied else ""))


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    config = load_config()
    click.echo("database stopped" if database.stop_server(config) else "database was not running")


@db.command("url")
def db_url() -> None:
    """Print a libpq URL of the warehouse (for psql and psycopg)."""
    click.echo(database.warehouse_url(load_config()))


# ---------------------------------------------------------------- generate


@cli.command()
@click.option("--teams", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--employees-per-team", type=click.IntRange(1, 100_000), default=30, show_default=True)
@click.option("--surveys", type=click.IntRange(1, 120), default=6, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--start-month", default="2026-01", show_default=True, help="Month of the first survey (YYYY-MM).")
@click.option("--participation", type=click.FloatRange(0.0, 1.0), default=None,
              help="Everyone's response probability (default: realistic per-team rates).")
@click.option("--bad-rows", type=click.IntRange(0, 1_000_000), default=0, show_default=True,
              help="Plant this many invalid rows, to see the quarantine at work.")
@click.option("--landing", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Landing zone to write (default: NOVORA_LANDING or $NOVORA_HOME/landing).")
def generate(teams, employees_per_team, surveys, seed, start_month, participation, bad_rows, landing) -> None:
    """Write a synthetic org and its surveys into the landing zone (same seed, same files)."""
    from orchestration.synthetic import GenerateOptions
    from orchestration.synthetic import generate as run_generate

    target = landing.resolve() if landing else load_config().landing
    try:
        options = GenerateOptions(teams=teams, employees_per_team=employees_per_team, surveys=surveys, seed=seed,
                                  start_month=start_month, participation=participation, bad_rows=bad_rows)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    report = run_generate(target, options)
    click.echo(f"wrote {report.teams} teams, {report.employees} employees, {len(report.surveys)} surveys "
               f"({report.responses:,} responses, {report.answer_rows:,} answer rows) to {target} "
               f"in {report.seconds:.1f}s")


# ---------------------------------------------------------------- materialize


@cli.command()
@click.option("-v", "--verbose", is_flag=True, help="Show Dagster's and dbt's output instead of logging it.")
def materialize(verbose: bool) -> None:
    """Materialise every asset for every survey in the landing zone, in this process."""
    from orchestration.definitions import build_definitions
    from orchestration.runner import materialize_all

    config = load_config()
    if not config.landing.is_dir():
        raise UserError(f"landing zone {config.landing} does not exist (run `novora generate` or set NOVORA_LANDING)")
    stdout = click.get_text_stream("stdout")
    summary = materialize_all(config, build_definitions(config), echo=lambda m: click.echo(m, file=stdout),
                              verbose=verbose)
    _print_quarantine(config)
    if not summary.ok:
        failed = [s.name for s in summary.steps if not s.ok]
        raise UserError(f"materialisation failed for: {', '.join(failed)}")
    click.echo("all assets materialised; every blocking check passed")


def _print_quarantine(config) -> None:
    import psycopg

    with psycopg.connect(database.warehouse_url(config)) as conn:
        rows = conn.execute(
            """select dataset, coalesce(survey_id, '-'), sum(rows_delivered), sum(rows_loaded), sum(rows_rejected),
                      bool_or(is_file_rejected)
               from raw.deliveries where is_current or (is_file_rejected and loaded_at > now() - interval '1 hour')
               group by 1, 2 order by 2, 1"""
        ).fetchall()
    if not rows:
        return
    click.echo(f"{'dataset':<12} {'survey':<10} {'delivered':>10} {'loaded':>10} {'rejected':>9}")
    for dataset, survey, delivered, loaded, rejected, file_rejected in rows:
        note = "  (a file was rejected whole: see quarantine.rejected_rows)" if file_rejected else ""
        click.echo(f"{dataset:<12} {survey:<10} {delivered:>10,} {loaded:>10,} {rejected:>9,}{note}")


# ---------------------------------------------------------------- demo, docs, bench


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface the UIs listen on.")
@click.option("--dagster-port", type=int, default=3000, show_default=True)
@click.option("--app-port", type=int, default=8501, show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare everything, then exit instead of serving the UIs.")
def demo(host: str, dagster_port: int, app_port: int, no_serve: bool) -> None:
    """Database, synthetic data, every asset materialised, then Dagster UI and the Streamlit app."""
    from orchestration.demo import run_demo

    code = run_demo(load_config(), host=host, dagster_port=dagster_port, app_port=app_port, serve=not no_serve,
                    echo=click.echo)
    if code:
        raise UserError("demo stopped: see the messages above")


@cli.command()
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--no-serve", is_flag=True, help="Only generate the docs site into dbt_project/target.")
def docs(port: int, no_serve: bool) -> None:
    """Generate and serve dbt docs (the lineage graph from sources to marts)."""
    from orchestration.docs import serve_docs

    serve_docs(load_config(), port=port, serve=not no_serve, echo=click.echo)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The report as JSON (checks, reasons, every asset).")
@click.option("--daemon-tolerance", type=click.IntRange(1, None), default=300, show_default=True,
              help="Seconds a Dagster daemon may go without a heartbeat.")
@click.option("--stale-after", type=click.IntRange(1, None), default=30, show_default=True,
              help="Minutes an asset may stay behind what it reads before it counts as stale.")
def health(as_json: bool, daemon_tolerance: int, stale_after: int) -> None:
    """Check the database, the Dagster daemon's heartbeat, every asset's last run and freshness; exit 1 when
    anything is unhealthy, with the reasons."""
    from datetime import timedelta

    from orchestration.health import check_health

    report = check_health(load_config(), daemon_tolerance=timedelta(seconds=daemon_tolerance),
                          grace=timedelta(minutes=stale_after))
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else "\n".join(report.lines()))
    if not report.healthy:
        sys.exit(1)


@cli.command()
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the benchmark's own database and landing zone live (default: $NOVORA_HOME/bench).")
@click.option("--teams", type=int, default=100, show_default=True)
@click.option("--employees-per-team", type=int, default=500, show_default=True)
@click.option("--surveys", type=click.IntRange(2, 120), default=12, show_default=True,
              help="Surveys to load one after another; dbt's cost of the last is compared with the first's.")
@click.option("--full-refresh-check", is_flag=True,
              help="Also rebuild everything with dbt --full-refresh and compare the marts (slow: all history).")
@click.option("--comments-only", is_flag=True,
              help="Only one survey: ingestion and the comment stages (masking, embeddings cold/warm, sentiment).")
@click.option("--no-live", is_flag=True,
              help="Skip the live stage (a new survey landing while dagster-daemon runs, timed to its alert emails).")
@click.option("--app-only", is_flag=True,
              help="Only the dashboards: a year of surveys through the real pipeline (novora materialize), then "
                   "every page's queries and renders (quick: --teams 20 --employees-per-team 50).")
@click.option("--no-app", is_flag=True, help="Skip the app stage (page queries and renders) after the others.")
@click.option("--participation", type=click.FloatRange(0.01, 1.0), default=None,
              help="With --app-only: everyone's response probability (default: realistic per-team rates).")
@click.option("--query-repeats", type=click.IntRange(1, 10_000), default=30, show_default=True,
              help="Uncached runs of each page query.")
@click.option("--render-repeats", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="Cold and warm renders of each page in Chromium.")
@click.option("--no-render", is_flag=True, help="Time the page queries only (no Streamlit server, no browser).")
@click.option("--reuse", is_flag=True,
              help="With --app-only: measure the year an earlier --app-only run loaded under --home again (after a "
                   "change to the app), without generating and materialising it anew.")
def bench(home: Path | None, teams: int, employees_per_team: int, surveys: int, full_refresh_check: bool,
          comments_only: bool, no_live: bool, app_only: bool, no_app: bool, participation: float | None,
          query_repeats: int, render_repeats: int, no_render: bool, reuse: bool) -> None:
    """Time ingestion of a benchmark-size survey, its comments (masking, embeddings cold and warm, sentiment,
    themes), dbt's cost per survey (first vs last), alert evaluation over the year, with the real daemon a
    new survey's way from landing to its alert emails, and the app's page queries and renders; JSON on stdout."""
    from orchestration.bench import AppStage, run_bench

    config = load_config()
    bench_home = (home or config.home / "bench").resolve()
    progress = lambda m: click.echo(m, err=True)  # noqa: E731
    app = AppStage(query_repeats, render_repeats, not no_render)
    if reuse and not app_only:
        raise UserError("--reuse goes with --app-only (the other stages always load their own data)")
    if app_only:
        from orchestration.bench_app import AppBenchOptions, run_app_bench

        options = AppBenchOptions(teams, employees_per_team, surveys, participation, app, reuse)
        try:
            figures = run_app_bench(bench_home / "app", options, progress)
        except RuntimeError as exc:  # nothing to measure (--reuse on an empty home), no admin or manager
            raise UserError(f"bench: {exc}") from exc
    else:
        figures = run_bench(bench_home, teams=teams, employees_per_team=employees_per_team, surveys=surveys,
                            check_full_refresh=full_refresh_check, comments_only=comments_only, live=not no_live,
                            app=None if no_app or comments_only else app, progress=progress)
    click.echo(json.dumps(figures, indent=2))
    if isinstance(figures.get("live"), dict) and "error" in figures["live"]:
        raise UserError(f"bench: the live stage failed: {figures['live']['error']}")
    stage = figures.get("app")
    if isinstance(stage, dict) and ("error" in stage or "error" in stage.get("render", {})):
        raise UserError(f"bench: the app stage failed: {stage.get('error') or stage['render']['error']}")


# ---------------------------------------------------------------- users


def _cli_actor() -> str:
    """Who ran a command, as audit entries record it."""
    import getpass

    return f"cli:{getpass.getuser()}"


def _warehouse_conn():
    """A connection to the migrated warehouse (starting the embedded server if needed)."""
    import psycopg

    from orchestration import migrate

    url = database.ensure_server(load_config())
    migrate.migrate(url)
    return psycopg.connect(url, autocommit=True)


@cli.group()
def users() -> None:
    """Dashboard accounts (made from the roster's dashboard_role by the app/users asset)."""


@users.command("list")
def users_list() -> None:
    """Every active dashboard account: email, role, teams it may see, whether a password is set."""
    with _warehouse_conn() as conn:
        rows = conn.execute(
            """select u.email, u.role, u.password_hash is not null, u.locked_until > now(),
                      (select count(*) from app.user_team_access as a where a.user_id = u.user_id)
               from app.users as u where u.is_active order by u.role, lower(u.email)""").fetchall()
    if not rows:
        click.echo("no dashboard accounts yet: materialise the org (`novora materialize`) with dashboard roles "
                   "on the roster")
        return
    for email, role, has_password, locked, teams in rows:
        seen = {"admin": "every team", "viewer": "org level"}.get(role, f"{teams} team{'' if teams == 1 else 's'}")
        state = "locked" if locked else ("password set" if has_password else "no password yet")
        click.echo(f"{email}\t{role}\t{seen}\t{state}")


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def users_set_password(email: str, password_stdin: bool) -> None:
    """Set the password of the dashboard account with EMAIL (its open sessions end)."""
    from assets.access.auth import AuthError, set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _warehouse_conn() as conn:
        try:
            set_password(conn, email, password, actor=_cli_actor())
        except AuthError as exc:
            raise UserError(str(exc)) from exc
    click.echo(f"password set for {email.strip()}")


# ---------------------------------------------------------------- rescore


@cli.command()
@click.option("--survey", "survey_ids", multiple=True,
              help="Re-score this survey's comments (repeatable; default: every loaded survey not archived). The "
                   "marts and the alerts always cover every survey.")
@click.option("--reason", required=True, help="Why (recorded with the evaluation and in the audit log).")
@click.option("--comments/--no-comments", default=None,
              help="Re-score the comments' sentiment and themes first (default: only the surveys whose comments "
                   "were scored by another sentiment classifier than the one in use).")
@click.option("-v", "--verbose", is_flag=True, help="Show Dagster's and dbt's output instead of logging it.")
def rescore(survey_ids: tuple[str, ...], reason: str, comments: bool | None, verbose: bool) -> None:
    """Re-score history after a rule, threshold or model change: the comments (when needed), the marts, then the
    alerts, as real Dagster runs; every alert raised, changed or resolved names the evaluation and versions."""
    from orchestration.definitions import build_definitions
    from orchestration.rescore import RescoreError, run_rescore

    config = load_config()
    stdout = click.get_text_stream("stdout")
    try:
        result = run_rescore(config, lambda: build_definitions(config), reason, survey_ids, comments,
                             actor=_cli_actor(), echo=lambda m: click.echo(m, file=stdout), verbose=verbose)
    except RescoreError as exc:
        raise UserError(str(exc)) from exc
    if not result.ok:
        raise UserError(result.failure or "rescore failed")


# ---------------------------------------------------------------- privacy


@cli.group()
def privacy() -> None:
    """Privacy requests about one person: export what Novora holds about them, or erase their identity."""


@privacy.command("export")
@click.option("--employee", "employee_id", required=True, help="The person's employee id on the roster.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Write the JSON document to this file (default: standard output).")
def privacy_export(employee_id: str, output: Path | None) -> None:
    """Everything Novora holds about EMPLOYEE, as JSON, per table (never survey answers: they are anonymous)."""
    from assets.access.privacy import PrivacyError, collect_export, record_export

    with _warehouse_conn() as conn:
        try:
            document = collect_export(conn, employee_id)
        except PrivacyError as exc:
            raise UserError(str(exc)) from exc
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if output is None:
            click.echo(text, nl=False)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UserError(f"cannot write {output}: {exc.strerror or exc}") from exc
        record_export(conn, document, actor=_cli_actor())
    if output is not None:
        click.echo(f"exported {sum(document['row_counts'].values())} rows about {document['employee_id']} "
                   f"to {output}")


@privacy.command("delete")
@click.option("--employee", "employee_id", required=True, help="The person's employee id on the roster.")
@click.option("--yes", is_flag=True, help="Erase. Without it, only show what would change (and exit 1).")
def privacy_delete(employee_id: str, yes: bool) -> None:
    """Erase EMPLOYEE's identity everywhere (a pseudonym replaces it; every aggregate stays the same)."""
    from assets.access.privacy import PrivacyError, erase_person

    with _warehouse_conn() as conn:
        try:
            erasure = erase_person(conn, employee_id, actor=_cli_actor(), dry_run=not yes)
        except PrivacyError as exc:
            raise UserError(str(exc)) from exc
    if erasure.already_erased:
        click.echo(f"employee {employee_id.strip()} was already erased (now {erasure.pseudonym}); nothing to do")
        return
    for table, count in sorted(erasure.changed_rows.items()):
        click.echo(f"{table}\t{count}")
    if not yes:
        raise UserError(f"dry run: {erasure.total} rows would change and nothing was changed; "
                        "run again with --yes to erase")
    click.echo(f"erased {employee_id.strip()}: {erasure.total} rows changed; the person is now {erasure.pseudonym}")


# ---------------------------------------------------------------- retention


@cli.group()
def retention() -> None:
    """Archive old surveys' raw rows and landing files to Parquet under $NOVORA_HOME/archive (marts stay)."""


@retention.command("archive")
@click.option("--older-than", "months", type=int, default=None,
              help="Archive surveys closed more than this many months ago (default: setting retention.raw_months).")
@click.option("--survey", "survey_ids", multiple=True,
              help="Only this survey (repeatable); archived whatever its age unless --older-than is given too.")
@click.option("--dry-run", is_flag=True, help="List what would be archived; change nothing.")
def retention_archive(months: int | None, survey_ids: tuple[str, ...], dry_run: bool) -> None:
    """Archive surveys: their raw rows (kept: the survey's title, dates and questions) and landing files."""
    from assets.ingestion import retention as r

    config = load_config()
    try:
        months = None if months is None else r.retention_months(months, "--older-than")
    except r.RetentionError as exc:
        raise UserError(str(exc)) from exc
    with _warehouse_conn() as conn:
        try:
            for survey_id in sorted(r.archived_among(conn, survey_ids)):
                click.echo(f"survey {survey_id} is archived already: nothing to do")
            due = r.plan_archive(conn, months=months, survey_ids=survey_ids)
            if not due:
                click.echo("no survey to archive")
                return
            for survey_id in due:
                if dry_run:
                    click.echo(f"would archive survey {survey_id}")
                    continue
                result = r.archive_survey(conn, survey_id, archive_root=config.archive, landing=config.landing,
                                          actor=_cli_actor())
                rows = ", ".join(f"{name} {n:,}" for name, n in result.row_counts.items())
                click.echo(f"archived survey {survey_id} to {result.path} ({rows}; "
                           f"{result.landing_files} landing files)")
                for warning in result.warnings:
                    click.echo(f"novora: warning: {warning}", err=True)
        except r.RetentionError as exc:
            raise UserError(str(exc)) from exc


@retention.command("restore")
@click.option("--survey", "survey_id", required=True, help="The archived survey to put back.")
def retention_restore(survey_id: str) -> None:
    """Put an archived survey's raw rows and landing files back (then backfill it in Dagster, or run
    `novora materialize`)."""
    from assets.ingestion import retention as r

    config = load_config()
    with _warehouse_conn() as conn:
        try:
            result = r.restore_survey(conn, survey_id, archive_root=config.archive, landing=config.landing,
                                      actor=_cli_actor())
        except r.RetentionError as exc:
            raise UserError(str(exc)) from exc
    rows = ", ".join(f"{name} {n:,}" for name, n in result.row_counts.items())
    click.echo(f"restored survey {survey_id} from {result.path} ({rows}; {result.landing_files} landing files)")
    for warning in result.warnings:
        click.echo(f"novora: warning: {warning}", err=True)


@retention.command("list")
def retention_list() -> None:
    """Every archived survey: when, by whom, where, and how many rows."""
    from assets.ingestion import retention as r

    with _warehouse_conn() as conn:
        rows = r.list_archived(conn)
    if not rows:
        click.echo("no archived surveys")
        return
    for survey_id, archived_at, archived_by, path, counts in rows:
        click.echo(f"{survey_id}\t{archived_at:%Y-%m-%d %H:%M}\t{archived_by}\t{path}\t"
                   f"{counts.get('raw.responses', 0):,} answers")


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    from orchestration.migrate import MigrationError

    try:
        cli.main(args=argv, prog_name="novora", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("novora: aborted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:  # `novora`, `novora db`: show what there is to run
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        sys.exit(0)
    except click.UsageError as exc:  # one line, with where to look, instead of click's three
        where = exc.ctx.command_path if exc.ctx else "novora"
        click.echo(f"novora: error: {exc.format_message()} (see `{where} --help`)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (database.DatabaseError, MigrationError, OSError) as exc:
        click.echo(f"novora: error: {database.first_line(exc)}", err=True)
        sys.exit(1)
    except Exception as exc:  # an unexpected failure still gets one line; NOVORA_DEBUG shows the traceback
        if load_config().debug:
            raise
        click.echo(f"novora: error: {type(exc).__name__}: {database.first_line(exc)} "
                   "(set NOVORA_DEBUG=1 for the traceback)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
