"""AppTest tests of the Streamlit app against real embedded PostgreSQL warehouses.

``loaded`` holds the hand-made fixture landing zone (tests/landing_fixture.py) after one `materialize_all`;
``bare`` is migrated but never materialised, with one unreadable teams.csv ingested, for the empty states.
Every expected number below was counted by hand from the fixture's literals.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.scope import Viewer
from orchestration import database, migrate
from orchestration.config import load_config
from tests.landing_fixture import write_landing

pytestmark = pytest.mark.integration  # the pages read a real warehouse loaded by a real materialisation

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
DATA_HEALTH = "views/data_health.py"
TAB_KEYS = {DATA_HEALTH: "health_tab"}  # the page's layout.lazy_tabs key: only the open tab runs
TIMEOUT = 60  # seconds; the first run of a session starts the embedded server
PLACEHOLDER_WORDS = ("coming soon", "placeholder", "lorem ipsum", "todo", "not implemented")

# Hand-counted from tests/landing_fixture.py.
SURVEY_ID = "2026-01"
TEAMS_LOADED, TEAMS_REJECTED = 3, 1
EMPLOYEES_LOADED, EMPLOYEES_REJECTED, EMPLOYEES_ACTIVE = 8, 3, 7  # E008 is inactive
QUESTIONS_LOADED, QUESTIONS_REJECTED = 4, 1
INVITED, INVITATIONS_REJECTED = 7, 3
ANSWERS_LOADED, ANSWERS_REJECTED = 11, 13
RESPONDENTS = 3  # r1, r2, r3
QUARANTINED = TEAMS_REJECTED + EMPLOYEES_REJECTED + QUESTIONS_REJECTED + INVITATIONS_REJECTED + ANSWERS_REJECTED


def _environment(home: Path, landing: Path) -> dict[str, str]:
    return {"NOVORA_HOME": str(home), "NOVORA_LANDING": str(landing), "NOVORA_DATABASE_URL": ""}


def _apply(env: dict[str, str]) -> None:
    for name, value in env.items():
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)


@pytest.fixture(scope="session")
def warehouses() -> Iterator[dict[str, dict[str, str]]]:
    """Environments of two warehouses: ``loaded`` (fixture materialised) and ``bare`` (nothing materialised)."""
    from assets.access.auth import set_password
    from orchestration.definitions import build_definitions
    from orchestration.runner import materialize_all

    saved = dict(os.environ)
    # Not under pytest's basetemp: the embedded server runs as another user when tests run as root, and every
    # pytest start (this session's or a neighbour's) takes the others' permission off /tmp/pytest-of-<user>.
    root = Path(tempfile.mkdtemp(prefix="novora-apptest-"))
    envs = {
        "loaded": _environment(root / "loaded-home", write_landing(root / "loaded-landing")),
        "bare": _environment(root / "bare-home", root / "bare-landing"),
    }
    try:
        _apply(envs["loaded"])
        config = load_config()
        summary = materialize_all(config, build_definitions(config), echo=lambda message: None)
        assert all(step.success for step in summary.steps), [s for s in summary.steps if not s.success]

        _apply(envs["bare"])
        (root / "bare-landing" / "org").mkdir(parents=True)
        (root / "bare-landing" / "org" / "teams.csv").write_text("id;name\n1;Acme\n", encoding="utf-8")
        url = database.ensure_server(load_config())
        migrate.migrate(url)
        from assets.ingestion.ingest import ingest_org

        with psycopg.connect(url, autocommit=True) as conn:
            ingest_org(conn, root / "bare-landing")
            # no roster was loaded: the admin account an operator would make by hand
            conn.execute("insert into app.users (user_id, email, role) values ('E001', %s, 'admin')", (ADMIN,))
            set_password(conn, ADMIN, PASSWORD, actor="test")
        yield envs
    finally:
        for env in envs.values():
            _apply(env)
            database.stop_server(load_config())
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


def _use(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def loaded(warehouses, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads the warehouse holding the materialised fixture."""
    _use(warehouses["loaded"], monkeypatch)


@pytest.fixture
def bare(warehouses, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads a warehouse where nothing was materialised (one unreadable teams.csv was ingested)."""
    _use(warehouses["bare"], monkeypatch)


def metrics(app: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in app.metric}


def page_text(app: AppTest) -> str:
    """Every piece of text the page shows, tables included (lower-case)."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "success", "warning", "error"):
        parts.extend(str(element.value) for element in app.get(kind))
    for frame in app.dataframe:
        parts.append(frame.value.astype(str).to_csv())
    return "\n".join(parts).lower()


# ---------------------------------------------------------------- Overview
# The fixture's one survey has 3 respondents (r1, r2, r3): below min_n 4, so every group is suppressed, the
# organisation included; participation counts are published (3 of 7 invited).

PASSWORD = "correct horse battery"
ADMIN, MANAGER, VIEWER = "ada.lovelace@acme.example", "grace.hopper@acme.example", "barbara.liskov@acme.example"
OVERVIEW = str(APP.parent / "views" / "overview.py")
HIDDEN = "hidden to protect anonymity: fewer than 4 responses"
HIDDEN_CELL = "suppressed (fewer than 4 responses)"


@pytest.fixture(scope="session")
def accounts(warehouses) -> None:
    """The roster's admin, manager (Engineering) and viewer can sign in to the loaded warehouse."""
    from assets.access.auth import set_password
    from assets.access.users import sync_users

    url = database.ensure_server(load_config(warehouses["loaded"]))
    with psycopg.connect(url, autocommit=True) as conn:
        sync_users(conn)
        for email in (ADMIN, MANAGER, VIEWER):
            set_password(conn, email, PASSWORD, actor="test")


def signed_in(email: str, page: str | None = None, tab: str | None = None) -> AppTest:
    """``email`` signed in through the form, on ``page`` (Overview by default, its heatmap table opened) with its
    tab ``tab`` open."""
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    app.session_state["overview_table"] = True
    app.text_input[0].input(email)
    app.text_input[1].input(PASSWORD)
    app.button[0].click().run()
    if tab:
        app.session_state[TAB_KEYS[page]] = tab
    if page:
        app.switch_page(page).run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def test_overview_headline_of_a_suppressed_survey(loaded, accounts) -> None:
    app = signed_in(ADMIN)

    assert app.title[0].value == "Overview"
    assert app.selectbox(key="overview_survey").value == SURVEY_ID
    shown = metrics(app)
    assert shown["Engagement"] == ("suppressed", "")
    assert shown["eNPS"] == ("suppressed", "")
    assert shown["Participation"] == ("43%", f"{RESPONDENTS} of {INVITED} invited responded")
    assert shown["Open alerts"][1].endswith("about this survey")
    # the ingestion counts moved to Data health
    assert not {"Teams", "Answers loaded", "Rows quarantined"} & set(shown)


def test_overview_heatmap_shows_every_group_as_suppressed(loaded, accounts) -> None:
    app = signed_in(ADMIN)

    table = app.dataframe[0].value
    # Acme Inc's own members did not answer (r1, r2 are in eng, r3 in ops): no direct-members row
    assert table["Group"].tolist() == ["Whole organisation", "Acme Inc (whole subtree)", "Engineering", "Operations"]
    metric_columns = [c for c in table.columns if c != "Group"]
    assert metric_columns == ["Recognition", "Growth", "Engagement"]
    assert (table[metric_columns] == HIDDEN_CELL).all().all()  # never a blank cell
    assert HIDDEN in page_text(app)
    assert len(app.get("vega_lite_chart")) == 1
    assert [b.label for b in app.get("download_button")] == ["Download heatmap (CSV)"]


def test_overview_is_scoped_for_a_manager_and_a_viewer(loaded, accounts) -> None:
    # Grace Hopper manages Engineering (no sub-teams): her team and the organisation
    assert signed_in(MANAGER).dataframe[0].value["Group"].tolist() == ["Whole organisation", "Engineering"]
    app = signed_in(VIEWER)
    assert app.dataframe[0].value["Group"].tolist() == ["Whole organisation"]
    assert "organisation-level results" in page_text(app)


def test_navigation_has_real_pages(loaded, accounts) -> None:
    for page in (None, DATA_HEALTH):
        text = page_text(signed_in(ADMIN, page))
        assert not [word for word in PLACEHOLDER_WORDS if word in text]
    assert signed_in(ADMIN).title[0].value == "Overview"
    assert signed_in(ADMIN, DATA_HEALTH).title[0].value == "Data health"


def test_overview_empty_state(bare) -> None:
    app = AppTest.from_file(OVERVIEW, default_timeout=TIMEOUT)
    app.session_state["novora_viewer"] = Viewer("u1", ADMIN, "admin", None)
    app.run()

    assert not app.exception
    assert [i.value for i in app.info] == [
        "No survey yet — run `novora generate` and `novora materialize`, or drop files into the landing zone"
    ]
    assert not app.metric and not app.dataframe


# ---------------------------------------------------------------- Data health


def test_data_health_current_deliveries(loaded, accounts) -> None:
    deliveries = signed_in(ADMIN, DATA_HEALTH).dataframe[0].value

    accounting = {
        (row.dataset, row.survey_id): (row.rows_delivered, row.rows_loaded, row.rows_rejected)
        for row in deliveries.itertuples()
    }
    assert accounting == {
        ("teams", "org"): (4, TEAMS_LOADED, TEAMS_REJECTED),
        ("employees", "org"): (11, EMPLOYEES_LOADED, EMPLOYEES_REJECTED),
        ("surveys", SURVEY_ID): (5, QUESTIONS_LOADED, QUESTIONS_REJECTED),
        ("invitations", SURVEY_ID): (10, INVITED, INVITATIONS_REJECTED),
        ("responses", SURVEY_ID): (24, ANSWERS_LOADED, ANSWERS_REJECTED),
    }
    assert deliveries["file_path"].str.endswith("surveys/2026-01/responses.csv").sum() == 1
    assert deliveries["loaded_at"].notna().all()


def test_data_health_no_file_rejected_whole(loaded, accounts) -> None:
    app = signed_in(ADMIN, DATA_HEALTH)
    assert "No file was rejected whole" in app.success[0].value
    assert not app.error


def test_data_health_opens_on_deliveries_and_runs_only_the_open_tab(loaded, accounts) -> None:
    app = signed_in(ADMIN, DATA_HEALTH)
    assert [tab.label for tab in app.tabs] == ["Deliveries", "Quarantine", "Asset freshness", "Latest runs"]
    assert [s.value for s in app.subheader] == ["Current deliveries", "Files rejected whole"]
    assert len(app.dataframe) == 1 and not app.get("vega_lite_chart")  # the quarantine's table and chart: not run

    quarantine = signed_in(ADMIN, DATA_HEALTH, tab="Quarantine")
    assert len(quarantine.dataframe) == 2 and len(quarantine.get("vega_lite_chart")) == 1
    assert not quarantine.subheader  # the deliveries: not run
    assert len(quarantine.metric) == 6  # the ingested counts stay above the tabs


def test_data_health_reasons_ranked(loaded, accounts) -> None:
    app = signed_in(ADMIN, DATA_HEALTH, tab="Quarantine")

    reasons = app.dataframe[0].value
    counts = dict(zip(reasons["reason"], reasons["rows_rejected"], strict=True))
    assert counts["score out of range (likert 1-10, enps 0-10)"] == 2  # lines 14 and 23 of responses.csv
    assert counts["unknown team_id (not in teams.csv)"] == 2  # one employee, one response
    assert counts["unknown manager_employee_id (not in employees.csv)"] == 1
    assert reasons["rows_rejected"].is_monotonic_decreasing
    assert reasons["rows_rejected"].sum() == QUARANTINED + 2  # employee line 12 has three reasons
    assert len(app.get("vega_lite_chart")) == 1  # the ranked-reasons bar chart
    assert f"{QUARANTINED} rows quarantined" in app.markdown[0].value


def test_data_health_quarantine_sample_hides_response_records(loaded, accounts) -> None:
    app = signed_in(ADMIN, DATA_HEALTH, tab="Quarantine")

    sample = app.dataframe[1].value
    assert len(sample) == QUARANTINED
    responses = sample[sample["dataset"] == "responses"]
    assert sorted(responses["line_number"].astype(int)) == list(range(14, 27))
    assert responses["raw_record"].isna().all()
    # employee records carry names and emails: identities stay in the quarantine table, not on a page
    employees = sample[sample["dataset"] == "employees"]
    assert len(employees) == 3 and employees["raw_record"].isna().all()
    assert "Radia Perlman" not in page_text(app) and "not-an-email" not in page_text(app)
    others = sample[~sample["dataset"].isin(["responses", "employees"])]
    assert others["raw_record"].notna().all()
    assert "E999" in others.loc[others["dataset"] == "teams", "raw_record"].iloc[0]
    # the quarantined comments of responses.csv never reach the page
    text = page_text(app)
    assert "great team" not in text and "x" * 100 not in text


def test_data_health_filters(loaded, accounts) -> None:
    app = signed_in(ADMIN, DATA_HEALTH, tab="Quarantine")
    survey, dataset = app.selectbox(key="quarantine_survey"), app.selectbox(key="quarantine_dataset")
    assert dataset.options == ["All datasets", "teams", "employees", "surveys", "invitations", "responses"]
    assert survey.options == ["All surveys and org files", "Org files (teams, employees)", f"Survey {SURVEY_ID}"]

    dataset.set_value("responses").run()
    reasons, sample = app.dataframe[0].value, app.dataframe[1].value
    assert set(sample["dataset"]) == {"responses"} and len(sample) == ANSWERS_REJECTED
    assert reasons.iloc[0]["reason"] == "score out of range (likert 1-10, enps 0-10)"

    dataset.set_value(None).run()
    app.selectbox(key="quarantine_survey").set_value("").run()  # the org files
    sample = app.dataframe[1].value
    assert set(sample["dataset"]) == {"teams", "employees"}
    assert len(sample) == TEAMS_REJECTED + EMPLOYEES_REJECTED
    assert sample["survey_id"].eq("org").all()

    app.selectbox(key="quarantine_dataset").set_value("responses").run()
    assert [i.value for i in app.info] == ["No quarantined rows match this selection."]


def test_data_health_file_rejected_whole(bare) -> None:
    app = signed_in(ADMIN, DATA_HEALTH)

    rejected = app.dataframe[0].value
    assert rejected["dataset"].tolist() == ["teams"]
    assert rejected["file_path"].iloc[0].endswith("org/teams.csv")
    assert rejected["file_error"].iloc[0]
    assert rejected["serving_delivery_loaded_at"].isna().all()  # no earlier good delivery
    assert "1 file(s) could not be read" in app.error[0].value
    assert any("No file has been loaded" in i.value for i in app.info)
    sample = signed_in(ADMIN, DATA_HEALTH, tab="Quarantine").dataframe[1].value
    assert sample["line_number"].isna().all() and sample["raw_record"].isna().all()
    assert sample["reasons"].tolist() == [rejected["file_error"].iloc[0]]


def test_unreachable_warehouse_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOVORA_HOME", str(tmp_path))
    monkeypatch.setenv("NOVORA_DATABASE_URL", "postgresql://novora@127.0.0.1:1/novora")
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not app.error  # the sign-in form needs no database until someone signs in
    app.text_input[0].input(ADMIN)
    app.text_input[1].input(PASSWORD)
    app.button[0].click().run()

    assert not app.exception
    assert len(app.error) == 1
    assert app.error[0].value.startswith(
        "The warehouse cannot be reached: cannot connect to NOVORA_DATABASE_URL (postgresql://novora@127.0.0.1:1/novora)"
    )
    assert any("novora db start" in caption.value for caption in app.caption)
