"""The Overview and Team pages against the hand-checked marts fixture (tests/marts_fixture.py), through a real
`novora materialize` and the app's own database role (novora_app): the queries of dashboards/results.py and
AppTest runs of the two pages, signed in through the app's form as an admin, a manager and a viewer.

Roles (added to the fixture roster here): A3-01 is an admin, DEPT-01 manages Department (so sees dept, d1,
d2 and the organisation), B5-01 is a viewer (organisation only). Expected numbers were worked out by hand from
the fixture's literals (its comments give the sums).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from assets.access.auth import set_password
from assets.access.users import sync_users
from dashboards import data, results
from dashboards.scope import Viewer
from tests.conftest import materialized_warehouse
from tests.marts_fixture import write_marts_landing

pytestmark = pytest.mark.integration

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
APP = str(DASHBOARDS / "app.py")
TEAM_PAGE = "views/team.py"
PASSWORD = "correct horse battery"
ROLES = {"A3-01": "admin", "DEPT-01": "manager", "B5-01": "viewer"}
ADMIN, MANAGER, VIEWER = "a3-01@acme.example", "dept-01@acme.example", "b5-01@acme.example"
HIDDEN = "hidden to protect anonymity: fewer than 4 responses"
HIDDEN_CELL = "suppressed (fewer than 4 responses)"

ADMIN_SCOPE = Viewer("u-admin", ADMIN, "admin", None)
MANAGER_SCOPE = Viewer("u-manager", MANAGER, "manager", ("dept", "d1", "d2"))
VIEWER_SCOPE = Viewer("u-viewer", VIEWER, "viewer", ())
MANAGER_GROUPS = {("__org__", "org"), ("dept", "subtree"), ("dept", "team"), ("d1", "team"), ("d2", "team")}


def _give_roles(landing: Path) -> None:
    path = landing / "org" / "employees.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    for row in rows:
        row["dashboard_role"] = ROLES.get(row["employee_id"], "")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture(scope="module")
def warehouse(pg_home: Path, tmp_path_factory) -> tuple[dict[str, str], str]:
    landing = write_marts_landing(tmp_path_factory.mktemp("results") / "landing")
    _give_roles(landing)
    _, url = materialized_warehouse(pg_home, landing)
    with psycopg.connect(url, autocommit=True) as conn:
        sync_users(conn)
        for email in (ADMIN, MANAGER, VIEWER):
            set_password(conn, email, PASSWORD, actor="test")
    return {"NOVORA_HOME": str(pg_home), "NOVORA_LANDING": str(landing)}, url


@pytest.fixture
def app_env(warehouse, monkeypatch: pytest.MonkeyPatch) -> str:
    env, url = warehouse
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NOVORA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NOVORA_APP_DATABASE_URL", raising=False)
    data.refresh()  # other modules' warehouses on the same server have the same URL
    return url


def owner_scalar(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


# ------------------------------------------------------------------ the marts the pages read


def test_surveys_mart(app_env) -> None:
    surveys = results.surveys().set_index("survey_id")

    assert surveys.index.tolist() == ["2026-01", "2026-02", "2026-03"]
    assert surveys["survey_seq"].tolist() == [1, 2, 3]
    assert surveys["is_latest"].tolist() == [False, False, True]
    assert surveys["title"].tolist() == ["Pulse 2026-01", "Pulse 2026-02", "Pulse 2026-03"]
    assert surveys["n_questions"].tolist() == [5, 5, 5]
    # invited 4 + 6 + 12 + 4 + 5 + 6 in 2026-01; responded 3 + 5 + 11 + 4 + 4 + 6 (c10's comment-only counts)
    assert surveys.loc["2026-01", ["invited", "responded"]].tolist() == [37, 33]
    assert surveys.loc["2026-02", ["invited", "responded"]].tolist() == [18, 14]
    assert surveys.loc["2026-03", "participation_rate"] == pytest.approx(1.0)


def test_teams_mart(app_env) -> None:
    teams = results.visible_teams(ADMIN_SCOPE).set_index("team_id")

    assert teams.index.tolist() == ["dept", "d1", "d2", "b5", "c10", "a3"]  # by path of names
    assert teams.loc["d1", "path_names"] == "Department / Department one"
    assert teams.loc["d1", "parent_team_id"] == "dept" and teams.loc["d1", "depth"] == 1
    assert teams.loc["dept", "depth"] == 0 and teams["has_children"].tolist() == [True] + [False] * 5
    assert results.visible_teams(MANAGER_SCOPE)["team_id"].tolist() == ["dept", "d1", "d2"]
    assert results.visible_teams(VIEWER_SCOPE).empty


def test_min_n_comes_from_the_settings(app_env) -> None:
    assert results.min_n() == 4 and results.min_n("comment_min_n") == 4


# ------------------------------------------------------------------ Overview queries


def test_heatmap_of_an_admin_shows_suppressed_groups_as_suppressed(app_env) -> None:
    frame = results.heatmap_frame(results.heatmap_cells(ADMIN_SCOPE, "2026-01"), 4)

    groups = frame.drop_duplicates("row_order")[["team_id", "scope"]].apply(tuple, axis=1).tolist()
    assert groups == [("__org__", "org"), ("dept", "subtree"), ("dept", "team"), ("d1", "team"), ("d2", "team"),
                      ("b5", "team"), ("c10", "team"), ("a3", "team")]
    # a3 (3 respondents) is below min_n; b5 is suppressed as well so that the org row cannot reveal a3
    for team in ("a3", "b5"):
        cells = frame[frame["team_id"] == team]
        assert len(cells) == 3  # recognition, growth, engagement: none left blank
        assert cells["label"].eq("suppressed").all() and cells["tooltip"].eq(HIDDEN).all()
        assert cells["score"].isna().all()
    c10 = frame[frame["team_id"] == "c10"].set_index("metric_id")
    # recognition: 150 / 20 = 7.5, answers >= 8: 10 of 20 -> 50 %; growth 70 / 10; engagement 220 / 30
    assert (c10.loc["recognition", "score"], c10.loc["recognition", "favorable_pct"]) == (7.5, 50.0)
    assert c10.loc["growth", "score"] == 7.0
    assert c10.loc["engagement", "score"] == pytest.approx(220 / 30)
    table = results.heatmap_table(frame, 4).set_index("team_id")
    assert table.loc["a3", ["Recognition", "Growth", "Engagement"]].tolist() == [HIDDEN_CELL] * 3
    assert table.loc["c10", ["Recognition", "Growth", "Engagement"]].tolist() == [7.5, 7.0, 7.33]


def test_a_manager_gets_their_groups_and_the_organisation_only(app_env) -> None:
    frame = results.heatmap_frame(results.heatmap_cells(MANAGER_SCOPE, "2026-01"), 4)
    assert set(frame[["team_id", "scope"]].apply(tuple, axis=1)) == MANAGER_GROUPS
    d1 = frame[frame["team_id"] == "d1"].set_index("metric_id")
    # d1 recognition: rec_1 5+6+7+8, rec_2 6+7+8+9 = 56 / 8 = 7.0; growth 7+8+9+10 = 34 / 4 = 8.5
    assert (d1.loc["recognition", "score"], d1.loc["growth", "score"]) == (7.0, 8.5)
    # asked directly for another team, every query comes back empty
    assert results.group_surveys(MANAGER_SCOPE, "b5", "team") == []
    assert results.team_drivers(MANAGER_SCOPE, "2026-01", "b5", "team").empty
    assert results.team_trends(MANAGER_SCOPE, "b5", "team").empty
    assert results.team_enps(MANAGER_SCOPE, "2026-02", "b5", "team") is None
    assert results.team_participation(MANAGER_SCOPE, "2026-02", "b5", "team") is None
    assert results.team_driver_impact(MANAGER_SCOPE, "2026-01", "c10", "team").empty
    assert results.team_themes(MANAGER_SCOPE, "2026-01", "c10", "team") is None


def test_a_viewer_gets_the_organisation_row_only(app_env) -> None:
    for survey_id in ("2026-01", "2026-02", "2026-03"):
        cells = results.heatmap_cells(VIEWER_SCOPE, survey_id)
        assert set(cells["team_id"]) == {"__org__"}, survey_id
    assert results.team_drivers(VIEWER_SCOPE, "2026-01", "dept", "subtree").empty


def test_org_headline_and_trend(app_env) -> None:
    series = results.org_series(VIEWER_SCOPE)
    assert series["survey_id"].tolist() == ["2026-01", "2026-02", "2026-03"]
    february = results.org_headline(series, "2026-02")
    # b5: 35 + 35 + 35 over 15 answers, c10: 55 + 53 + 52 over 27 -> 265 / 42
    assert february.engagement == pytest.approx(265 / 42)
    # promoters: b5 one, c10 four; detractors: b5 two, c10 three -> (5 - 5) / 14
    assert february.enps == pytest.approx(0.0)
    assert (february.invited, february.responded) == (18, 14)
    march = results.org_headline(series, "2026-03")
    # a3 only: 22 + 22 + 22 over 12 answers = 5.5; eNPS 4, 5, 6, 7 -> 0 promoters, 3 detractors -> -75
    assert (march.engagement, march.enps) == (5.5, -75.0)
    assert results.change(march.enps, march.prev_enps) == pytest.approx(-75.0)


def test_open_alerts_are_counted_in_scope(app_env) -> None:
    def expected(teams: list[str] | None, survey_id: str | None = None) -> int:
        return owner_scalar(
            app_env,
            "select count(*) from alerts.alerts where status in ('open', 'acknowledged') "
            "and (%s::text[] is null or team_id = any(%s::text[])) and (%s::text is null or survey_id = %s)",
            teams, teams, survey_id, survey_id)

    admin_all, admin_march = results.open_alerts(ADMIN_SCOPE, "2026-03")
    assert admin_all == expected(None) > 0 and admin_march == expected(None, "2026-03")
    manager_all, _ = results.open_alerts(MANAGER_SCOPE, "2026-03")
    assert manager_all == expected(["__org__", "dept", "d1", "d2"]) < admin_all  # b5 and c10 alerts left out
    assert results.open_alerts(VIEWER_SCOPE)[0] == expected(["__org__"])


# ------------------------------------------------------------------ Team queries


def test_team_drivers_with_the_change_since_the_previous_survey(app_env) -> None:
    c10 = results.drivers_frame(results.team_drivers(ADMIN_SCOPE, "2026-02", "c10", "team"), 4).set_index("driver_id")
    # recognition 108 / 18 = 6.0 after 7.5: -1.5 points, -20 %
    assert c10.loc["recognition", ["Mean (1-10)", "Change (points)", "Change %"]].tolist() == [6.0, -1.5, -20.0]
    assert c10.loc["recognition", "Previous survey"] == "2026-01"
    # b5 in 2026-02: recognition (6+7+8+5+9) x 2 = 70 / 10 = 7.0, answers >= 8: 8, 9 twice -> 40 %; its 2026-01
    # row was suppressed, so the change says why it is missing
    b5 = results.drivers_frame(results.team_drivers(ADMIN_SCOPE, "2026-02", "b5", "team"), 4).set_index("driver_id")
    assert b5.loc["recognition", ["Mean (1-10)", "Favorable %"]].tolist() == [7.0, 40.0]
    assert b5.loc["recognition", "Change (points)"] == f"previous survey {HIDDEN_CELL}"
    a3 = results.drivers_frame(results.team_drivers(ADMIN_SCOPE, "2026-01", "a3", "team"), 4)
    assert a3["suppressed"].all() and a3["Mean (1-10)"].eq(HIDDEN_CELL).all()
    assert a3["Respondents"].tolist() == [3, 3, 3]


def test_team_enps_participation_and_trends(app_env) -> None:
    enps = results.team_enps(ADMIN_SCOPE, "2026-01", "c10", "team")
    assert (enps.promoters, enps.passives, enps.detractors, enps.enps) == (5, 2, 3, 20.0)
    assert results.team_enps(ADMIN_SCOPE, "2026-01", "a3", "team").suppressed
    participation = results.team_participation(ADMIN_SCOPE, "2026-02", "c10", "team")
    assert (participation.invited, participation.responded, participation.prev_survey_id) == (12, 9, "2026-01")
    assert participation.change_rel == pytest.approx((9 / 12 - 11 / 12) / (11 / 12))
    a3 = results.trend_points(results.team_trends(ADMIN_SCOPE, "a3", "team"), 4)
    engagement = a3[a3["driver_id"] == "engagement"].set_index("survey_id")
    assert engagement.loc["2026-01", "tooltip"] == HIDDEN and engagement.loc["2026-03", "mean_score"] == 5.5
    assert results.group_surveys(MANAGER_SCOPE, "dept", "subtree") == ["2026-01"]


def test_driver_impact_for_the_organisation_only(app_env) -> None:
    impact = results.team_driver_impact(ADMIN_SCOPE, "2026-01", "__org__", "org")
    assert set(zip(impact["driver_id"], impact["outcome"], strict=True)) == {
        ("recognition", "engagement"), ("recognition", "enps"), ("growth", "engagement"), ("growth", "enps")}
    assert results.team_driver_impact(ADMIN_SCOPE, "2026-01", "c10", "team").empty  # fewer than 30 respondents
    drivers = results.team_drivers(ADMIN_SCOPE, "2026-01", "__org__", "org")
    ranked = results.what_matters_most(impact, drivers, "enps")
    assert ranked["Driver"].tolist() and set(ranked["Driver"]) == {"Recognition", "Growth"}


def test_comment_themes_of_a_suppressed_group_are_withheld(app_env) -> None:
    # the organisation has one comment in 2026-01 (c10's comment-only response): below comment_min_n
    themes = results.team_themes(ADMIN_SCOPE, "2026-01", "__org__", "org")
    assert (themes.n_comments, themes.suppressed, themes.top_themes) == (1, True, ())


# ------------------------------------------------------------------ the pages, through the app


def signed_in(email: str, heatmap_table: bool = True) -> AppTest:
    """``email`` signed in on the Overview, its "Heatmap as a table" opened (drawn only once opened) unless not
    ``heatmap_table``."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.session_state["overview_table"] = heatmap_table
    at.text_input[0].input(email)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    parts = [str(e.value) for kind in kinds for e in at.get(kind)]
    parts += [frame.value.astype(str).to_csv() for frame in at.dataframe]
    return "\n".join(parts)


def test_overview_for_an_admin(app_env) -> None:
    at = signed_in(ADMIN)

    assert [t.value for t in at.title] == ["Overview"]
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    assert shown["Engagement"] == ("5.50", "-0.81")  # 5.5 after 265 / 42 = 6.31
    assert shown["eNPS"] == ("-75", "-75")
    assert shown["Participation"] == ("100%", "4 of 4 invited responded")
    assert at.selectbox(key="overview_survey").value == "2026-03"  # the latest survey by default
    assert len(at.get("vega_lite_chart")) == 1

    at.selectbox(key="overview_survey").set_value("2026-01").run()
    table = at.dataframe[0].value.set_index("Group")
    assert table.loc["Team of three"].tolist() == [HIDDEN_CELL] * 3
    assert table.loc["Team of five"].tolist() == [HIDDEN_CELL] * 3
    assert table.loc["Team of ten"].tolist() == ["7.50", "7.00", "7.33"]
    assert HIDDEN in texts(at)
    assert [b.label for b in at.get("download_button")] == ["Download heatmap (CSV)"]
    links = at.get("page_link")
    assert len(links) == 1 and links[0].proto.page.endswith("team")


def test_overview_draws_the_heatmap_table_only_once_opened(app_env) -> None:
    at = signed_in(ADMIN, heatmap_table=False)
    assert not at.dataframe and len(at.get("vega_lite_chart")) == 1
    assert [e.label for e in at.expander] == ["Heatmap as a table"]
    at.session_state["overview_table"] = True  # what opening the expander does
    at.run()
    assert at.dataframe[0].value["Group"].iloc[0] == "Whole organisation"


def test_a_large_organisation_opens_on_its_top_level(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    # 2026-01 has 8 groups: the organisation; a3, b5, c10 and dept (its subtree and its direct members) at the top
    # level; d1 and d2 below dept. With room for 7, the top level (6) shows; every group is one choice away.
    monkeypatch.setattr(results, "HEATMAP_DEFAULT_ROWS", 7)
    at = signed_in(ADMIN)
    at.selectbox(key="overview_survey").set_value("2026-01").run()
    depth = at.selectbox(key="overview_depth")
    assert depth.options == ["Top level (6 groups)", "Every group (8)"]
    assert depth.value.label == "Top level (6 groups)"
    assert at.dataframe[0].value["Group"].tolist() == [
        "Whole organisation", "Department (whole subtree)", "Department (direct members)", "Team of five",
        "Team of ten", "Team of three"]
    depth.set_value(results.HeatmapLevel(depth=1, levels=2, groups=8, every_group=True)).run()
    assert len(at.dataframe[0].value) == 8 and "Department two" in at.dataframe[0].value["Group"].tolist()

    monkeypatch.setattr(results, "HEATMAP_DEFAULT_ROWS", 8)  # everything fits: no choice to make
    at = signed_in(ADMIN)
    at.selectbox(key="overview_survey").set_value("2026-01").run()
    assert "overview_depth" not in [s.key for s in at.selectbox] and len(at.dataframe[0].value) == 8


def test_overview_for_a_manager_and_a_viewer(app_env) -> None:
    at = signed_in(MANAGER)
    at.selectbox(key="overview_survey").set_value("2026-01").run()
    assert at.dataframe[0].value["Group"].tolist() == [
        "Whole organisation", "Department (whole subtree)", "Department (direct members)", "Department one",
        "Department two"]
    assert "Team of five" not in texts(at)

    at = signed_in(VIEWER)
    at.selectbox(key="overview_survey").set_value("2026-01").run()
    assert at.dataframe[0].value["Group"].tolist() == ["Whole organisation"]
    assert not at.get("page_link")  # nothing to open: viewers see organisation-level results only


def test_team_page_for_a_manager(app_env) -> None:
    at = signed_in(MANAGER)
    at.query_params["team"] = "dept"
    at.query_params["scope"] = "subtree"
    at.switch_page(TEAM_PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["Team"]
    picker = at.selectbox(key="team_group")
    assert picker.value == ("dept", "subtree")
    assert len(picker.options) == 5  # the organisation, dept's subtree and direct members, d1, d2
    drivers = at.dataframe[0].value.set_index("Driver")
    # dept subtree 2026-01: recognition dept 60 + d1 56 + d2 90 = 206 / 28 = 7.357
    assert drivers.loc["Recognition", "Mean (1-10)"] == "7.36"
    assert drivers.loc["Recognition", "Change (points)"] == "—"  # the subtree's first survey
    assert drivers.loc["Recognition", "Respondents"] == 14
    shown = {m.label: m.value for m in at.metric}
    assert shown["Responded"] == "14" and shown["Participation"] == "93%"
    assert [b.label for b in at.get("download_button")] == ["Download drivers (CSV)"]


def test_a_manager_cannot_open_another_team_by_its_url(app_env) -> None:
    at = signed_in(MANAGER)
    at.query_params["team"] = "b5"
    at.switch_page(TEAM_PAGE).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["You do not have access to this team"]
    assert not at.dataframe and not at.metric and not at.get("vega_lite_chart")
    assert "Team of five" not in texts(at)


def test_team_page_shows_a_suppressed_team_as_suppressed(app_env) -> None:
    at = signed_in(ADMIN)
    at.query_params["team"] = "a3"
    at.switch_page(TEAM_PAGE).run()
    at.selectbox(key="team_survey").set_value("2026-01").run()
    assert not at.exception, [e.message for e in at.exception]
    assert [w.value for w in at.warning] == [f"Team of three in 2026-01: scores {HIDDEN}."]
    drivers = at.dataframe[0].value
    assert drivers["Mean (1-10)"].eq(HIDDEN_CELL).all()
    assert {m.label: m.value for m in at.metric}["eNPS"] == "suppressed"
    assert [t.label for t in at.tabs] == ["Drivers", "Trends", "eNPS distribution", "What matters most",
                                          "Comment themes"]
    # driver bars, trend lines, eNPS: each drawn in its tab (only the open tab runs), suppressed in grey
    for tab in ("Drivers", "Trends", "eNPS distribution"):
        at.session_state["team_tab"] = tab  # what clicking the tab does
        at.run()
        assert len(at.get("vega_lite_chart")) == 1, tab
        assert not at.exception


def test_team_page_tabs_of_the_organisation(app_env) -> None:
    at = signed_in(ADMIN)
    at.query_params["team"] = "__org__"
    at.query_params["scope"] = "org"
    at.session_state["team_tab"] = "What matters most"
    at.switch_page(TEAM_PAGE).run()
    at.selectbox(key="team_survey").set_value("2026-01").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.get("vega_lite_chart")  # the driver bars: their tab is not open
    assert at.radio(key="team_outcome").value == "engagement"
    assert set(at.dataframe[0].value["Driver"]) == {"Recognition", "Growth"}

    at.session_state["team_tab"] = "Comment themes"
    at.run()
    # one comment in 2026-01 (c10's comment-only response): below comment_min_n
    assert "Themes hidden to protect anonymity: fewer than" in texts(at)
    assert not at.dataframe and not at.get("radio")


def test_pages_without_sign_in_show_no_data(app_env) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert [t.label for t in at.text_input] == ["Email", "Password"]
    assert not at.metric and not at.dataframe
    for page in ("overview.py", "team.py"):
        direct = AppTest.from_file(str(DASHBOARDS / "views" / page), default_timeout=60)
        direct.query_params["team"] = "c10"
        direct.run()
        assert not direct.exception
        assert [w.value for w in direct.warning] == ["Sign in to see survey results."]
        assert not direct.metric and not direct.dataframe and not direct.get("vega_lite_chart")


def test_team_page_refuses_a_viewer_asking_for_a_team(app_env) -> None:
    """Viewers have no Team page in their navigation; run on its own, the page still refuses a team."""
    at = AppTest.from_file(str(DASHBOARDS / "views" / "team.py"), default_timeout=60)
    at.session_state["novora_viewer"] = VIEWER_SCOPE
    at.query_params["team"] = "c10"
    at.run()
    assert [e.value for e in at.error] == ["You do not have access to this team"]
    assert not at.dataframe and not at.metric
