"""Sign-in, role-based navigation and the Admin page, through Streamlit's AppTest against the real embedded
PostgreSQL (accounts from the roster of tests/landing_fixture.py; the app connects as novora_app)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from assets.access.auth import set_password
from assets.access.users import sync_users
from assets.ingestion.ingest import ingest_org
from orchestration import database, migrate
from orchestration.config import load_config
from tests.landing_fixture import write_landing

pytestmark = pytest.mark.integration

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
PASSWORD = "correct horse battery"
ADMIN, MANAGER, VIEWER = "ada.lovelace@acme.example", "grace.hopper@acme.example", "barbara.liskov@acme.example"


@pytest.fixture(scope="module")
def accounts(pg_home, tmp_path_factory):
    landing = write_landing(tmp_path_factory.mktemp("access") / "landing")
    config = load_config({"NOVORA_HOME": str(pg_home), "NOVORA_LANDING": str(landing)})
    url = database.ensure_server(config)
    migrate.reset(url)
    with psycopg.connect(url, autocommit=True) as conn:
        ingest_org(conn, landing)
        sync_users(conn)
        for email in (ADMIN, MANAGER, VIEWER):
            set_password(conn, email, PASSWORD, actor="test")
    return url, {"NOVORA_HOME": str(pg_home), "NOVORA_LANDING": str(landing)}


@pytest.fixture
def app_env(accounts, monkeypatch):
    url, env = accounts
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NOVORA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NOVORA_APP_DATABASE_URL", raising=False)
    return url


def signed_in(email: str, password: str = PASSWORD) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input(email)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def click(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "title")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_nothing_but_the_sign_in_form_without_signing_in(app_env):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Email", "Password"]
    assert at.title[0].value == "Novora"
    assert "Overview" not in [t.value for t in at.title]


def test_a_wrong_password_is_refused_with_one_line(app_env):
    at = signed_in(MANAGER, "not the password at all")
    assert not at.exception
    assert [e.value for e in at.error] == ["Email or password is not right."]
    assert [t.label for t in at.text_input] == ["Email", "Password"]


def test_each_role_gets_its_own_pages(app_env):
    for email, role in ((ADMIN, "admin"), (MANAGER, "manager"), (VIEWER, "viewer")):
        at = signed_in(email)
        assert not at.exception, (email, at.exception)
        assert f"Signed in as **{email}** ({role})" in texts(at)
        assert at.session_state["novora_viewer"].role == role
        assert "Overview" in [t.value for t in at.title]  # everyone lands on the Overview


def test_a_manager_cannot_open_the_admin_page(app_env):
    at = signed_in(MANAGER)
    with pytest.raises(ValueError, match="Known pages") as refused:  # not registered for a manager at all
        at.switch_page("views/admin.py")
    assert "admin.py" not in str(refused.value).split("Known pages")[1]
    # and the page refuses on its own, should it ever be reached
    page = AppTest.from_file(str(Path(APP).parent / "views" / "admin.py"), default_timeout=60)
    page.session_state["novora_viewer"] = at.session_state["novora_viewer"]
    page.run()
    assert [e.value for e in page.error] == ["This page is for admins only."]
    assert not page.tabs


def test_an_admin_changes_a_setting_and_it_is_audited(app_env):
    at = signed_in(ADMIN)
    at.switch_page("views/admin.py").run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Settings", "Users", "Review queue", "Audit log"]
    at.selectbox[0].select("alert.low_score.threshold")
    at.text_input[0].input("6.5")
    click(at, "Save setting")
    assert [s.value for s in at.success] == ["alert.low_score.threshold is now 6.5"]
    at.selectbox[0].select("min_n")
    at.text_input[0].input("2")
    click(at, "Save setting")
    assert [e.value for e in at.error] == ["min_n must be at least 3 to keep answers anonymous"]
    with psycopg.connect(app_env) as conn:
        assert conn.execute("select value, updated_by from app.settings "
                            "where setting_key = 'alert.low_score.threshold'").fetchone() == (6.5, ADMIN)
        assert conn.execute("select value from app.settings where setting_key = 'min_n'").fetchone() == (4,)
        assert conn.execute("select actor, detail from app.audit_log where action = 'setting.changed'"
                            ).fetchall() == [(ADMIN, {"from": 6.0, "to": 6.5})]
        conn.execute("update app.settings set value = '6.0' where setting_key = 'alert.low_score.threshold'")


def test_signing_out_ends_the_session(app_env):
    at = signed_in(VIEWER)
    token = at.session_state["novora_token"]
    sign_out = next(b for b in at.sidebar.button if b.label == "Sign out")
    sign_out.click().run()
    assert [t.label for t in at.text_input] == ["Email", "Password"]
    assert "You are signed out." in [i.value for i in at.info]
    with psycopg.connect(app_env) as conn:
        assert conn.execute("select end_reason from app.sessions where ended_at is not null "
                            "and token_sha256 = encode(sha256(%s::bytea), 'hex')", (token.encode(),)
                            ).fetchone() == ("signed_out",)


def test_an_admin_sets_a_password_and_the_person_signs_in_with_it(app_env):
    at = signed_in(ADMIN)
    at.session_state["admin_tab"] = "Users"  # the tab someone clicked (only the open tab runs)
    at.switch_page("views/admin.py").run()
    assert ["email" in f.value.columns for f in at.dataframe] == [True]  # the accounts; the settings table not run
    at.selectbox(key="password_account").select(VIEWER)
    at.text_input[0].input("short")
    click(at, "Set password")
    assert [e.value for e in at.error] == ["a password needs at least 12 characters"]
    at.text_input[0].input("a brand new passphrase")
    click(at, "Set password")
    assert [s.value for s in at.success] == [f"Password set for {VIEWER}; their open sessions ended."]
    assert signed_in(VIEWER, "a brand new passphrase").session_state["novora_viewer"].role == "viewer"
    with psycopg.connect(app_env, autocommit=True) as conn:
        assert conn.execute("select actor from app.audit_log where action = 'password.set' and subject = 'E006' "
                            "order by audit_id desc limit 1").fetchone() == (ADMIN,)
        set_password(conn, VIEWER, PASSWORD, actor="test")  # as the other tests expect
