"""Dashboard accounts on the real embedded PostgreSQL: roster sync, passwords, sign-in, lockout, sessions,
and what the app's database role may and may not read. The roster is tests/landing_fixture.py: E001 admin
(manages org), E002 manager of eng, E003 manager of ops, E006 viewer; E004, E005, E007 have no role; E008 is
inactive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from assets.access.auth import REFUSED, AuthError, resume, set_password, sign_in, sign_out
from assets.access.users import sync_users
from assets.ingestion.ingest import ingest_org
from orchestration import database

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"


@pytest.fixture
def roster(conn, fixture_landing):
    ingest_org(conn, fixture_landing)
    return sync_users(conn)


def audit_actions(conn, subject):
    return [r[0] for r in conn.execute(
        "select action from app.audit_log where subject = %s order by audit_id", (subject,))]


def test_accounts_follow_the_roster(conn, roster):
    assert (roster.active, roster.created, roster.deactivated) == (4, 4, 0)
    assert roster.by_role == {"admin": 1, "manager": 2, "viewer": 1}
    assert roster.without_password == 4 and roster.problems == []
    access = conn.execute("select user_id, team_id, via_team_id from app.user_team_access order by 1, 2").fetchall()
    assert access == [("E002", "eng", "eng"), ("E003", "ops", "ops")]
    # E003 leaves the roster's role holders: the account is deactivated and its session ends
    set_password(conn, "alan.turing@acme.example", PASSWORD, actor="test")
    token = sign_in(conn, "Alan.Turing@acme.example ", PASSWORD)
    conn.execute("update raw.employees set dashboard_role = null where employee_id = 'E003'")
    again = sync_users(conn)
    assert (again.active, again.created, again.deactivated) == (3, 0, 1)
    assert resume(conn, token) is None
    assert conn.execute("select end_reason from app.sessions where user_id = 'E003'").fetchone() == ("deactivated",)
    assert audit_actions(conn, "E003") == ["user.created", "password.set", "sign_in", "user.deactivated"]


def test_sign_in_resume_and_sign_out(conn, roster):
    with pytest.raises(AuthError, match=REFUSED):  # no password set yet
        sign_in(conn, "grace.hopper@acme.example", PASSWORD)
    set_password(conn, "grace.hopper@acme.example", PASSWORD, actor="test")
    token = sign_in(conn, "grace.hopper@acme.example", PASSWORD)
    viewer = resume(conn, token)
    assert (viewer.user_id, viewer.role, viewer.teams) == ("E002", "manager", ("eng",))
    assert resume(conn, token + "x") is None
    stored = conn.execute("select token_sha256 from app.sessions").fetchone()[0]
    assert token not in stored and len(stored) == 64
    sign_out(conn, token)
    assert resume(conn, token) is None
    assert conn.execute("select end_reason from app.sessions").fetchone() == ("signed_out",)

    set_password(conn, "ada.lovelace@acme.example", PASSWORD, actor="test")
    set_password(conn, "barbara.liskov@acme.example", PASSWORD, actor="test")
    admin = resume(conn, sign_in(conn, "ada.lovelace@acme.example", PASSWORD))
    viewer = resume(conn, sign_in(conn, "barbara.liskov@acme.example", PASSWORD))
    assert (admin.role, admin.teams) == ("admin", None)
    assert (viewer.role, viewer.teams) == ("viewer", ())


def test_bad_passwords_and_unknown_accounts_are_refused(conn, roster):
    with pytest.raises(AuthError, match="at least 12 characters"):
        set_password(conn, "grace.hopper@acme.example", "short", actor="test")
    with pytest.raises(AuthError, match="no active dashboard account"):
        set_password(conn, "katherine.johnson@acme.example", PASSWORD, actor="test")  # no dashboard role
    with pytest.raises(AuthError, match=REFUSED):
        sign_in(conn, "nobody@acme.example", PASSWORD)
    assert conn.execute("select count(*) from app.users where password_hash is not null").fetchone() == (0,)


def test_five_failures_lock_the_account_for_fifteen_minutes(conn, roster):
    set_password(conn, "grace.hopper@acme.example", PASSWORD, actor="test")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for attempt in range(4):
        with pytest.raises(AuthError, match=REFUSED):
            sign_in(conn, "grace.hopper@acme.example", f"wrong password {attempt}", now=now)
    assert conn.execute("select failed_sign_ins from app.users where user_id = 'E002'").fetchone() == (4,)
    with pytest.raises(AuthError, match=REFUSED):  # the fifth locks
        sign_in(conn, "grace.hopper@acme.example", "wrong password 5", now=now)
    with pytest.raises(AuthError, match="locked .* try again in 15 min"):  # even the right password
        sign_in(conn, "grace.hopper@acme.example", PASSWORD, now=now + timedelta(seconds=30))
    token = sign_in(conn, "grace.hopper@acme.example", PASSWORD, now=now + timedelta(minutes=15))
    assert resume(conn, token, now=now + timedelta(minutes=16)).user_id == "E002"
    assert audit_actions(conn, "E002").count("sign_in.refused") == 6


def test_sessions_expire_when_idle(conn, roster):
    set_password(conn, "grace.hopper@acme.example", PASSWORD, actor="test")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    token = sign_in(conn, "grace.hopper@acme.example", PASSWORD, now=now)
    assert resume(conn, token, now=now + timedelta(minutes=29)) is not None  # activity moves the idle clock
    assert resume(conn, token, now=now + timedelta(minutes=58)) is not None
    assert resume(conn, token, now=now + timedelta(minutes=88)) is None
    assert conn.execute("select end_reason from app.sessions").fetchone() == ("idle",)


def test_a_session_records_its_use_at_most_once_a_minute(conn, roster):
    set_password(conn, "grace.hopper@acme.example", PASSWORD, actor="test")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    token = sign_in(conn, "grace.hopper@acme.example", PASSWORD, now=now)

    def last_seen():
        return conn.execute("select last_seen_at from app.sessions").fetchone()[0]

    assert resume(conn, token, now=now + timedelta(seconds=59)) is not None
    assert last_seen() == now  # a click within the minute writes nothing
    assert resume(conn, token, now=now + timedelta(seconds=60)) is not None
    assert last_seen() == now + timedelta(seconds=60)
    # idle time counts from the last recorded use: 30 minutes after it the session is over
    assert resume(conn, token, now=now + timedelta(seconds=60 + 59)) is not None
    assert resume(conn, token, now=now + timedelta(minutes=31)) is None


def test_the_app_role_reads_what_pages_show_and_nothing_of_raw(warehouse_url, conn, roster):
    app_url = database.as_role(warehouse_url, database.APP_ROLE)
    with psycopg.connect(app_url, autocommit=True) as app:
        assert app.execute("select current_user").fetchone() == ("novora_app",)
        assert app.execute("select count(*) from app.users").fetchone() == (4,)
        assert app.execute("select count(*) from quarantine.rejected_rows_for_app where dataset = 'employees' "
                           "and raw_record is not null").fetchone() == (0,)
        for forbidden in ("raw.employees", "raw.teams", "raw.responses", "quarantine.rejected_rows",
                          "staging.stg_raw__employees"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(f"select * from {forbidden} limit 1")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("update app.users set role = 'admin' where user_id = 'E006'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("delete from app.audit_log")
        # the sign-in itself runs as the app role
        set_password(conn, "barbara.liskov@acme.example", PASSWORD, actor="test")
        assert resume(app, sign_in(app, "barbara.liskov@acme.example", PASSWORD)).role == "viewer"


def test_the_data_version_changes_with_data_and_not_with_sign_ins(warehouse_url, conn, roster):
    from dashboards import data

    app_url = database.as_role(warehouse_url, database.APP_ROLE)

    def version():
        conn.execute("select pg_stat_force_next_flush()")  # this connection's writes reach the statistics now
        data.data_version.clear()  # and the app reads the version again now (not within its 5 s)
        return data.data_version(app_url)

    set_password(conn, "grace.hopper@acme.example", PASSWORD, actor="test")
    token = sign_in(conn, "grace.hopper@acme.example", PASSWORD)
    settled = version()
    assert len(settled) == 32 and version() == settled
    # page runs record the session's use and the audit log grows: the figures did not change
    resume(conn, token, now=datetime.now(UTC) + timedelta(minutes=5))
    conn.execute("insert into app.audit_log (actor, action) values ('test', 'test')")
    assert version() == settled
    # a setting changes: results cached under the old version are not used again
    conn.execute("update app.settings set value = '7' where setting_key = 'min_n'")
    changed = version()
    assert changed != settled
    # a mart rebuilt by dbt is a new table: the version changes even with the same rows
    conn.execute("create schema if not exists marts; create table marts.example (n int)")
    created = version()
    assert created != changed
    conn.execute("create table marts.example_new (n int); drop table marts.example; "
                 "alter table marts.example_new rename to example")
    assert version() not in (created, changed)


def test_the_cli_lists_accounts_and_sets_a_password(conn, roster, novora_config):
    from click.testing import CliRunner

    from orchestration.cli import cli

    runner = CliRunner()
    env = {"NOVORA_HOME": str(novora_config.home), "NOVORA_DATABASE_URL": ""}
    done = runner.invoke(cli, ["users", "set-password", "grace.hopper@acme.example", "--password-stdin"],
                         input=PASSWORD + "\n", env=env)
    assert (done.exit_code, done.output) == (0, "password set for grace.hopper@acme.example\n")
    assert resume(conn, sign_in(conn, "grace.hopper@acme.example", PASSWORD)).user_id == "E002"
    refused = runner.invoke(cli, ["users", "set-password", "grace.hopper@acme.example", "--password-stdin"],
                            input="short\n", env=env)
    assert refused.exit_code == 1 and "a password needs at least 12 characters" in refused.output
    listed = runner.invoke(cli, ["users", "list"], env=env)
    assert listed.exit_code == 0
    assert listed.output.splitlines() == [
        "ada.lovelace@acme.example\tadmin\tevery team\tno password yet",
        "alan.turing@acme.example\tmanager\t1 team\tno password yet",
        "grace.hopper@acme.example\tmanager\t1 team\tpassword set",
        "barbara.liskov@acme.example\tviewer\torg level\tno password yet",
    ]
