"""Privacy requests on a materialised warehouse (real Dagster ingestion, dbt and comment enrichment of
tests/landing_fixture.py): `novora privacy export` and `novora privacy delete`.

The person is E003, Alan Turing (alan.turing@acme.example): manager of ops on the roster and in raw.teams,
invited to 2026-01 (line 4; line 10 repeats him and is quarantined as a duplicate), a manager's dashboard
account with access to ops. The fixture adds a password, a refused and a good sign-in (a session), a failed-run
notification to him with one delivery attempt, and a comment that names him.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from assets.access.auth import AuthError, set_password, sign_in
from assets.access.privacy import keyed_hash, needle_pattern, pseudonym_of
from assets.access.users import sync_users
from assets.ingestion.ingest import ingest_invitations, ingest_org
from orchestration.cli import cli
from orchestration.dbt import dbt_args
from orchestration.resources import dbt_environment
from tests.conftest import materialized_warehouse
from tests.landing_fixture import RESPONSES_1, write_landing

pytestmark = pytest.mark.integration

PERSON, EMAIL, NAME = "E003", "alan.turing@acme.example", "Alan Turing"
PASSWORD = "correct horse battery"
SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "nlp", "alerts", "app", "marts")


@pytest.fixture(scope="module")
def warehouse(pg_home: Path, tmp_path_factory) -> tuple[dict, str, Path]:
    landing = write_landing(tmp_path_factory.mktemp("privacy") / "landing")
    responses = landing / "surveys" / "2026-01" / "responses.csv"
    responses.write_text(RESPONSES_1.replace("Nothing to add", "Nothing to add but ask Alan Turing"), encoding="utf-8")
    config, url = materialized_warehouse(pg_home, landing)
    with psycopg.connect(url, autocommit=True) as conn:
        set_password(conn, EMAIL, PASSWORD, actor="test")
        with pytest.raises(AuthError):
            sign_in(conn, EMAIL, PASSWORD + "!")
        sign_in(conn, EMAIL, PASSWORD)
        conn.execute("""insert into alerts.notifications (run_id, channel, recipient, subject, body, status, error)
                        values ('run-1', 'email', 'E003', 'Novora run failed', 'Dear Alan Turing, run-1 failed.',
                                'failed', 'mailbox alan.turing@acme.example is full')""")
        conn.execute("""insert into alerts.notification_attempts (notification_id, attempt, outcome, error)
                        select notification_id, 1, 'permanent', '552 alan.turing@acme.example: mailbox full'
                        from alerts.notifications where run_id = 'run-1'""")
    env = {"NOVORA_HOME": str(config.home), "NOVORA_LANDING": str(landing), "NOVORA_DATABASE_URL": ""}
    return env, url, landing


def novora(env: dict, *args: str):
    return CliRunner().invoke(cli, list(args), env=env)


def dump(url: str, schemas: tuple[str, ...]) -> dict[str, list[str]]:
    """Every base table of ``schemas`` as its ordered rows (text)."""
    with psycopg.connect(url) as conn:
        tables = [f"{s}.{t}" for s, t in conn.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = any(%s) "
            "and table_type = 'BASE TABLE' order by 1, 2", (list(schemas),))]
        return {t: [r[0] for r in conn.execute(f"select x::text from {t} as x order by 1")] for t in tables}


def scan(url: str, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text/json column of every table and view of SCHEMAS holding a needle:
    an email or name anywhere (case-insensitive), an id as a whole token."""
    hits = []
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            """select table_schema, table_name, column_name from information_schema.columns
               where table_schema = any(%s)
                 and data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')
               order by 1, 2, 3""", (list(SCHEMAS),)).fetchall()
        for schema, table, column in columns:
            for needle in needles:
                condition = ("position(lower(%s) in lower({}::text)) > 0" if " " in needle or "@" in needle
                             else "{}::text ~ ('(^|[^[:alnum:]_])' || %s || '($|[^[:alnum:]_])')")
                query = f"select count(*) from {schema}.{table} where " + condition.format(f'"{column}"')
                if conn.execute(query, (needle,)).fetchone()[0]:
                    hits.append((f"{schema}.{table}", column, needle))
    return hits


def test_unknown_employee_is_one_clear_line_and_nothing_is_written(warehouse, tmp_path):
    env, url, _ = warehouse
    before = dump(url, ("app",))
    out = tmp_path / "export.json"
    for args in (("export", "--employee", "E424242", "--output", str(out)), ("delete", "--employee", "E424242"),
                 ("delete", "--employee", "E424242", "--yes")):
        done = novora(env, "privacy", *args)
        assert done.exit_code == 1
        assert done.stderr == ("novora: error: no employee 'E424242' in Novora's data (roster, invitations, "
                               "teams, dashboard accounts, quarantine)\n")
    assert not out.exists()
    assert dump(url, ("app",)) == before


def test_export_lists_every_row_about_the_person_and_no_answer(warehouse, tmp_path):
    env, url, _ = warehouse
    out = tmp_path / "E003.json"
    done = novora(env, "privacy", "export", "--employee", PERSON, "--output", str(out))
    assert done.exit_code == 0, done.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["employee_id"] == PERSON
    assert "anonymous" in document["survey_answers"] and "no answer" in document["survey_answers"]
    assert document["row_counts"] == {
        "alerts.notification_attempts": 1, "alerts.notifications": 1, "app.audit_log": 4, "app.sessions": 1,
        "app.user_team_access": 1, "app.users": 1, "quarantine.rejected_rows": 1, "raw.employees": 1,
        "raw.invitations": 1, "raw.teams": 1}
    assert done.stdout == f"exported 13 rows about E003 to {out}\n"
    tables = document["tables"]
    assert "raw.responses" not in tables and "nlp.comments" not in tables  # others' anonymous comments
    employee = tables["raw.employees"][0]
    assert {k: employee[k] for k in ("employee_id", "email", "full_name", "team_id", "dashboard_role", "location",
                                     "is_active", "source_line")} == {
        "employee_id": "E003", "email": EMAIL, "full_name": NAME, "team_id": "ops", "dashboard_role": "manager",
        "location": "Manchester", "is_active": True, "source_line": 4}
    assert [(t["team_id"], t["team_name"], t["manager_employee_id"]) for t in tables["raw.teams"]] == [
        ("ops", "Operations", "E003")]
    assert [(i["survey_id"], i["team_id"], i["invited_at"], i["source_line"]) for i in tables["raw.invitations"]] == [
        ("2026-01", "ops", "2026-01-05T09:00:00+00:00", 4)]
    rejected = tables["quarantine.rejected_rows"][0]
    assert (rejected["dataset"], rejected["line_number"], rejected["raw_record"]["employee_id"],
            rejected["reasons"]) == ("invitations", 10, "E003", ["duplicate employee_id (an earlier row has the same)"])
    user = tables["app.users"][0]
    assert (user["email"], user["role"], user["password_hash"], user["password_set_by"]) == (
        EMAIL, "manager", "[withheld]", "test")
    assert tables["app.sessions"][0]["token_sha256"] == "[withheld]"
    assert [(a["actor"], a["action"], a["subject"]) for a in tables["app.audit_log"]] == [
        ("novora", "user.created", "E003"), ("test", "password.set", "E003"), ("E003", "sign_in.refused", "E003"),
        ("E003", "sign_in", "E003")]
    assert tables["alerts.notifications"][0]["body"] == "Dear Alan Turing, run-1 failed."
    # stdout is the same document; the export is audited (once per export, after it was handed out)
    printed = novora(env, "privacy", "export", "--employee", PERSON)
    assert printed.exit_code == 0 and json.loads(printed.stdout)["row_counts"]["app.audit_log"] == 5
    with psycopg.connect(url) as conn:
        audited = conn.execute("select actor, detail from app.audit_log where action = 'privacy.export' "
                               "and subject = 'E003' order by audit_id").fetchall()
    assert len(audited) == 2 and audited[0][0].startswith("cli:")
    assert audited[0][1] == {"row_counts": document["row_counts"]}


def test_delete_without_yes_shows_the_counts_and_changes_nothing(warehouse):
    env, url, _ = warehouse
    before = dump(url, SCHEMAS)
    done = novora(env, "privacy", "delete", "--employee", PERSON)
    assert done.exit_code == 1
    assert done.stderr == ("novora: error: dry run: 16 rows would change and nothing was changed; run again "
                           "with --yes to erase\n")
    assert done.stdout.splitlines() == [
        "alerts.notification_attempts\t1", "alerts.notifications\t1", "app.audit_log\t6", "app.sessions\t1",
        "app.user_team_access\t1", "app.users\t1", "quarantine.rejected_rows\t1", "raw.employees\t1",
        "raw.invitations\t1", "raw.responses\t1", "raw.teams\t1"]
    assert dump(url, SCHEMAS) == before


def test_delete_erases_the_identity_keeps_every_mart_and_survives_reingestion(warehouse):
    env, url, landing = warehouse
    marts_before = dump(url, ("marts",))
    assert all(marts_before[t] for t in ("marts.participation", "marts.engagement", "marts.teams"))
    assert scan(url, [PERSON, EMAIL, NAME])  # the scan does see him before

    done = novora(env, "privacy", "delete", "--employee", PERSON, "--yes")
    assert done.exit_code == 0, done.output
    with psycopg.connect(url) as conn:
        secret = bytes(conn.execute("select secret from app.privacy_key").fetchone()[0])
        pseudonym = pseudonym_of(keyed_hash(secret, PERSON))
        assert done.stdout.splitlines()[-1] == f"erased E003: 16 rows changed; the person is now {pseudonym}"
        assert scan(url, [PERSON, EMAIL, NAME]) == []
        # pseudonymised, not deleted, where rows feed aggregates; the account is gone
        assert conn.execute("select employee_id, email, full_name, team_id, dashboard_role, location, is_active "
                            "from raw.employees where employee_id like 'erased-%'").fetchall() == [
            (pseudonym, f"{pseudonym}@erased.invalid", "[erased]", "ops", None, None, False)]
        assert conn.execute("select manager_employee_id from raw.teams where team_id = 'ops'").fetchone() == (
            pseudonym,)
        assert conn.execute("select count(*) from raw.invitations where employee_id = %s",
                            (pseudonym,)).fetchone() == (1,)
        assert conn.execute("select count(*) from app.users where email like 'erased%%' or user_id like 'erased%%'"
                            ).fetchone() == (0,)
        assert conn.execute("select comment from raw.responses where response_id = 'r3' and question_id = 'open_1'"
                            ).fetchone() == ("Nothing to add but ask [NAME]",)
        audit = conn.execute("select actor, action, subject, detail from app.audit_log "
                             "where action like 'privacy.%' order by audit_id").fetchall()
        assert [a[1:3] for a in audit] == [("privacy.export", pseudonym)] * 2 + [("privacy.delete", pseudonym)]
        assert audit[-1][0].startswith("cli:") and sum(audit[-1][3]["changed_rows"].values()) == 16
        # the app's database role reads neither the ledger nor its key
        assert conn.execute("select has_table_privilege('novora_app', 'app.privacy_erasures', 'select'), "
                            "has_table_privilege('novora_app', 'app.privacy_key', 'select')").fetchone() == (
            False, False)

    again = novora(env, "privacy", "delete", "--employee", PERSON, "--yes")
    assert (again.exit_code, again.stdout) == (0, f"employee E003 was already erased (now {pseudonym}); "
                                                  "nothing to do\n")
    gone = novora(env, "privacy", "export", "--employee", PERSON)
    assert gone.exit_code == 1 and "was erased on " in gone.stderr and pseudonym in gone.stderr

    # Ingestion again: the same landing files, then an old delivery dropped again (same rows, another order)
    with psycopg.connect(url, autocommit=True) as conn:
        ingest_org(conn, landing)
        ingest_invitations(conn, landing, "2026-01")
        for name in ("org/employees.csv", "org/teams.csv", "surveys/2026-01/invitations.csv"):
            path = landing / name
            header, *rows = path.read_text(encoding="utf-8").splitlines()
            path.write_text("\n".join([header, *reversed(rows)]) + "\n", encoding="utf-8")
        teams, employees = ingest_org(conn, landing)
        invitations = ingest_invitations(conn, landing, "2026-01")
        assert (teams.status, employees.status, invitations.status) == ("loaded", "loaded", "loaded")
        assert (employees.rows_loaded, invitations.rows_loaded, invitations.rows_rejected) == (8, 7, 3)
        sync_users(conn)
        assert conn.execute("select count(*) from raw.employees where employee_id = %s", (pseudonym,)
                            ).fetchone() == (1,)
    assert scan(url, [PERSON, EMAIL, NAME]) == []

    # Rebuild every dbt model from raw (dbt's data tests included): every mart row is what it was
    result = subprocess.run(dbt_args("build", "--full-refresh", "--exclude-resource-type", "unit_test"),
                            env={**os.environ, **dbt_environment(url)}, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert dump(url, ("marts",)) == marts_before
    assert scan(url, [PERSON, EMAIL, NAME]) == []


@pytest.mark.parametrize(("kind", "value", "column_kind", "text", "found"), [
    ("email", "alan.turing@acme.example", "text", "mail ALAN.TURING@acme.example, please", True),
    ("email", "alan.turing@acme.example", "text", "alan.turing@acme.example.org", True),
    ("email", "a.b@x.example", "text", "axb@x.example", False),
    ("name", "Alan Turing", "text", "ask Alan Turing.", True),
    ("name", "Alan Turing", "text", "Alan Turingson", False),
    ("id", "E003", "text", "E003", True),
    ("id", "E003", "text", "by E003,", True),
    ("id", "E003", "text", "E0031", False),
    ("id", "E003", "text", "e003", False),
    ("id", "E003", "text", "d41e003b", False),
    ("id", "42", "text", "42", True),
    ("id", "42", "text", "42 respondents", False),
    ("id", "42", "jsonb", '{"who": "42", "n": 42}', True),
    ("id", "42", "jsonb", '{"n": 42}', False),
    ("id", "42", "array", "{42,x}", True),
    ("id", "42", "array", '{"42",x}', True),
    ("id", "42", "array", "{420,x}", False),
])
def test_needle_patterns_in_postgresql(warehouse, kind, value, column_kind, text, found):
    with psycopg.connect(warehouse[1]) as conn:
        assert conn.execute("select %s ~* %s", (text, needle_pattern(kind, value, column_kind))).fetchone() == (
            found,)
