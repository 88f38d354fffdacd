"""The Comments page and the Alerts inbox against a real warehouse, read through the app's restricted role.

The landing zone is tests/alerts_fixture.py: real Dagster runs of ingestion, dbt and the comment pipeline (the
real embedding model) fill the marts, nlp.embeddings and alerts.alerts. Every team is top-level, so a manager of
a team sees that team and the organisation. Comments exist in 2026-01 only: ok (10), part (8), sad (5) and
calm (10) are published; tiny (3) and duo (1) are below comment_min_n 4 and withheld.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from assets.alerts.store import AlertError
from assets.nlp.search import SearchError
from dashboards import alerts, comments, data, session
from dashboards.scope import Viewer
from tests.alerts_fixture import ADMIN, EXPECTED, address, manager_of, write_alerts_landing
from tests.conftest import materialized_warehouse

pytestmark = pytest.mark.integration

VIEWS = Path(__file__).resolve().parents[2] / "dashboards" / "views"
TIMEOUT = 120  # seconds; the first search loads the embedding model
SURVEY = "2026-01"
PUBLISHED = {"ok", "part", "sad", "calm"}  # teams whose 2026-01 comments are published
WITHHELD = {"tiny", "duo"}
HIDDEN = "hidden to protect anonymity: fewer than 4 comments"

ADMIN_VIEWER = Viewer("admin", address(ADMIN), "admin", None)
VIEWER = Viewer("exec", "exec@acme.example", "viewer", ())


def manager(*teams: str) -> Viewer:
    return Viewer(f"m-{teams[0]}", address(manager_of(teams[0])), "manager", teams)


@pytest.fixture(scope="module")
def warehouse(pg_home: Path, tmp_path_factory) -> tuple[str, Path]:
    landing = write_alerts_landing(tmp_path_factory.mktemp("app-alerts") / "landing")
    _, url = materialized_warehouse(pg_home, landing)
    return url, landing


@pytest.fixture
def app_env(warehouse, pg_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The app reads this module's warehouse (as novora_app); returns the owner's URL for checks."""
    url, landing = warehouse
    monkeypatch.setenv("NOVORA_HOME", str(pg_home))
    monkeypatch.setenv("NOVORA_LANDING", str(landing))
    for name in ("NOVORA_DATABASE_URL", "NOVORA_APP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    data.refresh()
    return url


def alert_id(url: str, alert_type: str, survey_id: str, team_id: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select alert_id from alerts.alerts where (alert_type, survey_id, team_id) = (%s, %s, %s)",
            (alert_type, survey_id, team_id),
        ).fetchone()[0]


def state(url: str, alert: int) -> tuple[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        status = conn.execute("select status from alerts.alerts where alert_id = %s", (alert,)).fetchone()[0]
        events = conn.execute(
            "select from_status, to_status, actor, note from alerts.alert_events where alert_id = %s "
            "order by event_id", (alert,)).fetchall()
    return status, events


def page(name: str, viewer: Viewer | None, tab: str | None = None, **query: str) -> AppTest:
    """Page ``name`` as ``viewer``, with its tab ``tab`` open (only the open tab runs) and ``query`` parameters."""
    app = AppTest.from_file(str(VIEWS / name), default_timeout=TIMEOUT)
    if viewer is not None:
        app.session_state[session.VIEWER_KEY] = viewer
    if tab is not None:
        app.session_state[TAB_KEYS[name]] = tab
    app.query_params.update(query)
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    return app


TAB_KEYS = {"comments.py": "comments_tab", "alerts.py": "alerts_detail_tab"}


def page_text(app: AppTest) -> str:
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "success", "warning", "error"):
        parts.extend(str(element.value) for element in app.get(kind))
    parts.extend(frame.value.astype(str).to_csv() for frame in app.dataframe)
    return "\n".join(parts)


# ---------------------------------------------------------------- alerts: data access and decisions


def test_a_managers_alert_list_holds_only_their_teams(app_env) -> None:
    every = alerts.alerts(ADMIN_VIEWER.team_filter(), statuses=None)
    assert len(every) == len(EXPECTED)

    low = alerts.alerts(manager("low").team_filter(), statuses=None)
    assert set(low["team_id"]) == {"low"}
    assert sorted(low["alert_type"]) == ["LOW_SCORE", "LOW_SCORE", "LOW_SCORE", "RECURRING"]

    two = alerts.alerts(manager("low", "part").team_filter(), statuses=None)
    assert set(two["team_id"]) == {"low", "part"} and len(two) == 6

    assert alerts.alerts(VIEWER.team_filter(), statuses=None).empty  # the organisation raised nothing
    assert alerts.filter_options(manager("part").team_filter())["types"] == ["LOW_PARTICIPATION",
                                                                              "PARTICIPATION_DROP"]
    high = alerts.alerts(None, statuses=None, severities=["high"], types=["LOW_SCORE"], survey_id="2026-02")
    assert sorted(high["team_id"]) == ["low", "rel"]


def test_acknowledging_writes_an_event_with_note_and_actor(app_env) -> None:
    url = app_env
    alert = alert_id(url, "LOW_SCORE", "2026-01", "low")
    person = manager("low")

    with data.transaction() as conn:
        alerts.decide_in_scope(conn, person, alert, "acknowledged", "  Talking to the team on Monday ")

    status, events = state(url, alert)
    assert status == "acknowledged"
    assert events[-1] == ("open", "acknowledged", address(manager_of("low")), "Talking to the team on Monday")
    history = alerts.history(alert, person.team_filter())
    assert history["to_status"].tolist() == ["open", "acknowledged"]
    assert history["note"].iloc[-1] == "Talking to the team on Monday"


def test_a_forged_out_of_scope_id_is_refused_and_changes_nothing(app_env) -> None:
    url = app_env
    alert = alert_id(url, "ENPS_NEG", "2026-01", "neg")
    before = state(url, alert)
    person = manager("low")

    refused = f"alert {alert} does not exist or is not one of your teams"
    with pytest.raises(AlertError, match=refused), data.transaction() as conn:
        alerts.decide_in_scope(conn, person, alert, "dismissed", "not mine")

    assert state(url, alert) == before == ("open", [(None, "open", "novora", before[1][0][3])])
    assert alerts.alert(alert, person.team_filter()) is None
    assert alerts.history(alert, person.team_filter()).empty
    # an admin may; a move the lifecycle forbids is refused with the store's message
    with pytest.raises(AlertError, match="cannot become open"), data.transaction() as conn:
        alerts.decide_in_scope(conn, ADMIN_VIEWER, alert, "open")


def test_alert_detail_has_readable_provenance(app_env) -> None:
    alert = alerts.alert(alert_id(app_env, "NEG_SENT_SPIKE", SURVEY, "sad"), None)

    rows = dict(alerts.provenance_rows(alert["provenance"]).itertuples(index=False, name=None))
    assert rows["rows › mart"] == "marts.comment_insights"
    assert rows["rows › key › team_id"] == "sad"
    assert rows["rows › values › negative_share"] == "0.6"
    assert alert["metric_value"] == pytest.approx(0.6) and alert["threshold"] == pytest.approx(0.3)

    # its revisions (read through the app's role): raised once, by the materialisation, from scored comments
    [revision] = alerts.revisions(alert["alert_id"], manager("sad").team_filter()).to_dict("records")
    assert (revision["trigger"], revision["rule_version"], revision["thresholds"]) == (
        "novora materialize", "1", "neg_sent_spike 0.3")
    assert re.fullmatch(r"all-MiniLM-L6-v2@[0-9a-f]{12}\.[0-9a-f]{12}", revision["sentiment_model"])
    assert revision["metric_value"] == pytest.approx(0.6) and revision["threshold"] == pytest.approx(0.3)
    assert alerts.revisions(alert["alert_id"], manager("low").team_filter()).empty  # out of scope: nothing


# ---------------------------------------------------------------- comments: data access and search


def test_comments_are_scoped_and_withheld_teams_are_named(app_env) -> None:
    assert comments.comment_min_n() == 4
    assert comments.surveys()["survey_id"].tolist() == [SURVEY]
    everything = comments.comments(SURVEY, None)
    assert set(everything["team_id"]) == PUBLISHED
    assert set(comments.withheld(SURVEY, None)["team_id"]) == WITHHELD

    sad = comments.comments(SURVEY, manager("sad").team_filter())
    assert set(sad["team_id"]) == {"sad"} and len(sad) <= 5
    negative = comments.comments(SURVEY, manager("sad").team_filter(), sentiment="negative")
    assert set(negative["sentiment_label"]) == {"negative"}

    tiny = manager("tiny").team_filter()
    assert comments.comments(SURVEY, tiny).empty
    assert comments.withheld(SURVEY, tiny)["team_id"].tolist() == ["tiny"]
    assert comments.withheld(SURVEY, manager("sad").team_filter()).empty

    org = comments.insights(SURVEY, VIEWER.team_filter(), org_only=True)
    assert org["team_id"].tolist() == ["__org__"]
    assert int(org["n_comments"].iloc[0]) == 10 + 8 + 3 + 1 + 5 + 10


def test_semantic_search_returns_only_in_scope_teams(app_env) -> None:
    query = "far too much work, everyone is exhausted"
    sad = comments.search(query, manager("sad").team_filter(), SURVEY)
    assert not sad.empty and set(sad["team_id"]) == {"sad"}
    assert "work" in sad["text_masked"].iloc[0].lower()
    assert sad["similarity"].is_monotonic_decreasing

    everyone = comments.search(query, None, SURVEY, limit=50)
    assert set(everyone["team_id"]) == PUBLISHED  # withheld teams' comments are never searched
    assert comments.search(query, manager("low").team_filter(), SURVEY).empty  # low wrote no comment
    assert comments.search(query, VIEWER.team_filter()).empty

    with pytest.raises(SearchError, match="empty"):
        comments.search("   ", None)
    with pytest.raises(SearchError, match="longer than 500"):
        comments.search("x" * 501, None)


# ---------------------------------------------------------------- AppTest: Comments


@pytest.mark.parametrize("name", ["comments.py", "alerts.py"])
def test_pages_need_sign_in(app_env, name: str) -> None:
    app = page(name, None)
    assert [w.value for w in app.warning] == ["Sign in to see survey results."]
    assert not app.dataframe and not app.title


def test_comments_page_as_admin(app_env) -> None:
    app = page("comments.py", ADMIN_VIEWER)

    assert [t.label for t in app.tabs] == ["Comments", "Insights", "Search by meaning"]
    assert len(app.dataframe) == 1 and not app.metric  # the comments only: the other tabs do not run
    shown = app.dataframe[0].value
    assert set(shown["team_name"]) == {f"Team {t}" for t in PUBLISHED}
    assert list(shown.columns) == ["team_name", "sentiment_label", "theme", "text_masked"]
    warnings = sorted(w.value for w in app.warning)
    assert warnings == [f"Team duo: {HIDDEN}", f"Team tiny: {HIDDEN}"]

    app.selectbox(key="comments_team").set_value("sad").run()
    assert set(app.dataframe[0].value["team_name"]) == {"Team sad"}
    assert not app.warning

    app = page("comments.py", ADMIN_VIEWER, tab="Insights")
    insights = app.dataframe[0].value.set_index("group")
    assert insights.loc["Team tiny", "negative_share"] == HIDDEN
    assert insights.loc["Team sad", "negative_share"] == "60 %"

    app = page("comments.py", ADMIN_VIEWER, tab="Search by meaning")
    assert not app.dataframe
    app.text_input(key="comments_search").set_value("   ")
    app.button[0].click().run()  # the form's submit button
    assert [e.value for e in app.error] == ["Cannot search: the search query is empty."]


def test_a_long_list_shows_its_first_comments_and_exports_all(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    every = comments.comments(SURVEY, None)
    assert comments.comment_count(SURVEY, None) == len(every) > 3
    first = comments.comments(SURVEY, None, limit=3)
    assert first["comment_id"].tolist() == every["comment_id"].tolist()[:3]  # the same order, cut
    assert comments.comment_count(SURVEY, None, team_id="sad") == len(comments.comments(SURVEY, None, team_id="sad"))

    monkeypatch.setattr(comments, "COMMENTS_SHOWN", 3)
    app = page("comments.py", ADMIN_VIEWER)
    assert len(app.dataframe[0].value) == 3
    assert any(c.value.startswith(f"{len(every):,} comments; the first 3 by team are listed") for c in app.caption)


def test_comments_page_as_manager(app_env) -> None:
    app = page("comments.py", manager("sad", "tiny"))

    assert set(app.dataframe[0].value["team_name"]) == {"Team sad"}
    assert [w.value for w in app.warning] == [f"Team tiny: {HIDDEN}"]
    text = page_text(app)
    assert "Team calm" not in text and "Team ok" not in text

    app = page("comments.py", manager("sad", "tiny"), tab="Insights")
    insights = app.dataframe[0].value
    assert insights["group"].tolist()[1:] == ["Team sad", "Team tiny"]  # the organisation first, then the teams
    text = page_text(app)
    assert "Team calm" not in text and "Team ok" not in text

    app = page("comments.py", manager("sad", "tiny"), tab="Search by meaning")
    app.text_input(key="comments_search").set_value("workload is impossible")
    app.button[0].click().run()
    hits = app.dataframe[0].value
    assert not hits.empty and set(hits["team_name"]) == {"Team sad"}


def test_comments_page_refuses_a_team_out_of_scope(app_env) -> None:
    app = page("comments.py", manager("sad"), team="calm")
    assert [e.value for e in app.error] == ["You do not have access to this team"]
    assert not app.dataframe

    app = page("comments.py", manager("sad"), team="sad")
    assert app.selectbox(key="comments_team").value == "sad"


def test_comments_page_as_viewer_shows_org_insights_only(app_env) -> None:
    app = page("comments.py", VIEWER)

    assert len(app.dataframe) == 1 and len(app.dataframe[0].value) == 1  # the organisation's row only
    assert {m.label: m.value for m in app.metric}["Comments (organisation)"] == "37"
    assert any("available to managers" in i.value for i in app.info)
    assert not app.text_input and not app.tabs  # no comment, no search


# ---------------------------------------------------------------- AppTest: Alerts


def test_alerts_page_as_admin(app_env) -> None:
    app = page("alerts.py", ADMIN_VIEWER)

    inbox = app.dataframe[0].value
    assert len(inbox) == len(EXPECTED)  # nothing resolved or dismissed: all are open or acknowledged
    assert inbox["severity"].tolist() == sorted(inbox["severity"], key=["high", "medium", "low"].index)

    app.multiselect(key="alerts_type").set_value(["ENPS_NEG"]).run()
    inbox = app.dataframe[0].value
    assert inbox["team_name"].tolist() == ["Team neg"]
    assert [t.label for t in app.tabs] == ["Provenance", "History"]
    assert len(app.dataframe) == 2  # the inbox and the open tab's table (the history does not run)
    provenance = dict(zip(app.dataframe[1].value["item"], app.dataframe[1].value["value"], strict=True))
    assert provenance["rows › mart"] == "marts.enps"
    assert [b.label for b in app.button] == ["Acknowledge", "Resolve", "Dismiss"]
    app.session_state["alerts_detail_tab"] = "History"  # what clicking the tab does
    app.run()
    assert len(app.dataframe) == 3 and app.dataframe[1].value["to_status"].tolist()[0] == "open"
    [revision] = app.dataframe[2].value.to_dict("records")  # raised once, never changed
    assert (revision["trigger"], revision["rule_version"], revision["thresholds"], revision["sentiment_model"]) == (
        "novora materialize", "1", "enps_neg 0", "—")
    assert revision["metric_value"] == pytest.approx(-100 / 3) and revision["threshold"] == 0
    assert [b.label for b in app.button] == ["Acknowledge", "Resolve", "Dismiss"]


def test_alerts_page_manager_acknowledges_with_a_note(app_env) -> None:
    url = app_env
    person = manager("low")
    alert = alert_id(url, "LOW_SCORE", "2026-02", "low")
    app = page("alerts.py", person, tab="History")

    assert set(app.dataframe[0].value["team_name"]) == {"Team low"}
    app.selectbox(key="alerts_selected").set_value(alert).run()
    app.text_area(key=f"alert_note_{alert}").set_value("Raised at the team meeting")
    app.button(key=f"alert_{alert}_acknowledged").click().run()

    assert [s.value for s in app.success] == [f"Alert {alert} is now acknowledged."]
    status, events = state(url, alert)
    assert status == "acknowledged"
    assert events[-1] == ("open", "acknowledged", person.email, "Raised at the team meeting")
    assert app.dataframe[1].value["note"].tolist()[-1] == "Raised at the team meeting"
    assert [b.label for b in app.button] == ["Resolve", "Dismiss", "Reopen"]


def test_alerts_page_scope_for_viewers_and_forged_teams(app_env) -> None:
    app = page("alerts.py", VIEWER)
    assert [i.value for i in app.info] == ["No alerts yet: nothing in the teams you may see crossed a threshold."]
    assert not app.dataframe

    app = page("alerts.py", manager("low"), team="neg")
    assert [e.value for e in app.error] == ["You do not have access to this team"]
    assert not app.dataframe
