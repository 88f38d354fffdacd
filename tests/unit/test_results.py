"""The pure shaping of the Overview and Team pages (dashboards/results.py) and their charts, on hand-made frames.

Values are taken from tests/marts_fixture.py where a fixture group is meant (c10's recognition in 2026-01 is
7.5 with 50 % favourable; a3 has 3 respondents in 2026-01 and is suppressed).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboards import charts, results
from dashboards.scope import Viewer

HIDDEN = "hidden to protect anonymity: fewer than 4 responses"
HIDDEN_CELL = "suppressed (fewer than 4 responses)"


def cell(team_id, scope, name, metric_id, metric_name, n, mean, favorable, suppressed, path=None, children=False,
         depth=None):
    depth = depth if depth is not None else (-1 if scope == "org" else (path or name).count(" / "))
    return {"team_id": team_id, "scope": scope, "team_name": name, "path_names": path or name,
            "has_children": children, "depth": depth, "metric_id": metric_id, "metric_name": metric_name,
            "n_respondents": n,
            "mean_score": mean, "favorable_pct": favorable, "suppressed": suppressed}


@pytest.fixture
def cells() -> pd.DataFrame:
    """2026-01 of the marts fixture, in the order a query may return it (not the display order)."""
    return pd.DataFrame([
        cell("a3", "team", "Team of three", "recognition", "Recognition", 3, None, None, True),
        cell("c10", "team", "Team of ten", "engagement", "Engagement", 10, 220 / 30, 40.0, False),
        cell("c10", "team", "Team of ten", "recognition", "Recognition", 10, 7.5, 50.0, False),
        cell("c10", "team", "Team of ten", "growth", "Growth", 10, 7.0, 30.0, False),
        cell("d1", "team", "Department one", "recognition", "Recognition", 4, 7.0, 37.5, False,
             "Department / Department one"),
        cell("dept", "team", "Department", "recognition", "Recognition", 4, 7.5, 50.0, False, children=True),
        cell("dept", "subtree", "Department", "recognition", "Recognition", 14, 7.357, 46.4, False, children=True),
        cell("__org__", "org", "Whole organisation", "recognition", "Recognition", 32, 7.375, 45.3125, False),
        cell("a3", "team", "Team of three", "engagement", "Engagement", 3, None, None, True),
        cell("a3", "team", "Team of three", "growth", "Growth", 3, None, None, True),
    ])


def test_suppressed_wording() -> None:
    assert results.suppressed_reason_text(4) == HIDDEN
    assert results.suppressed_export_text(5) == "suppressed (fewer than 5 responses)"


def test_group_labels() -> None:
    assert results.group_label("Whole organisation", "org", False) == "Whole organisation"
    assert results.group_label("Department", "subtree", True) == "Department (whole subtree)"
    assert results.group_label("Department", "team", True) == "Department (direct members)"
    assert results.group_label("Team of ten", "team", False) == "Team of ten"


def test_team_groups_offer_the_subtree_of_a_team_with_sub_teams() -> None:
    teams = pd.DataFrame([
        {"team_id": "dept", "team_name": "Department", "depth": 0, "has_children": True},
        {"team_id": "d1", "team_name": "Department one", "depth": 1, "has_children": False},
    ])
    groups = results.team_groups(teams)
    assert [(g.team_id, g.scope) for g in groups] == [("dept", "subtree"), ("dept", "team"), ("d1", "team")]
    assert groups[2].label == "\u2003Department one"  # indented under its department


def test_metric_order_follows_the_seed_with_engagement_last() -> None:
    assert results.metric_order(["engagement", "communication", "zeal", "growth", "recognition"]) == [
        "recognition", "growth", "communication", "zeal", "engagement"]


def test_heatmap_frame_orders_groups_and_marks_suppressed_cells(cells: pd.DataFrame) -> None:
    frame = results.heatmap_frame(cells, 4)

    rows = frame.drop_duplicates("row_order")[["team_id", "scope", "row_label"]].values.tolist()
    assert rows == [
        ["__org__", "org", "Whole organisation"],
        ["dept", "subtree", "Department (whole subtree)"],
        ["dept", "team", "Department (direct members)"],
        ["d1", "team", "Department one"],
        ["c10", "team", "Team of ten"],
        ["a3", "team", "Team of three"],
    ]
    a3 = frame[frame["team_id"] == "a3"]
    assert len(a3) == 3 and a3["suppressed"].all()
    assert a3["label"].eq("suppressed").all() and a3["tooltip"].eq(HIDDEN).all() and a3["score"].isna().all()
    c10 = frame[(frame["team_id"] == "c10")].set_index("metric_id")
    assert c10.loc["recognition", "label"] == "7.5"
    assert c10.loc["recognition", "tooltip"] == "mean 7.50 · 50 % favorable · 10 respondents"
    assert c10["column_label"].tolist() == ["Recognition", "Growth", "Engagement"]  # engagement last
    assert frame["label"].notna().all() and frame["tooltip"].notna().all()  # never a blank cell


def test_heatmap_table_spells_out_suppressed_cells(cells: pd.DataFrame) -> None:
    table = results.heatmap_table(results.heatmap_frame(cells, 4), 4)

    assert table.columns.tolist() == ["Group", "team_id", "scope", "Recognition", "Growth", "Engagement"]
    a3 = table[table["team_id"] == "a3"].iloc[0]
    assert (a3["Recognition"], a3["Growth"], a3["Engagement"]) == (HIDDEN_CELL,) * 3
    c10 = table[table["team_id"] == "c10"].iloc[0]
    assert (c10["Recognition"], c10["Growth"], c10["Engagement"]) == (7.5, 7.0, 7.33)
    # a metric a group has no score for (not asked) stays empty; a suppressed one never does
    assert pd.isna(table[table["team_id"] == "d1"].iloc[0]["Growth"])


def test_heatmap_levels_count_groups_down_to_each_depth(cells: pd.DataFrame) -> None:
    frame = results.heatmap_frame(cells, 4)
    # org (-1); Department's two rows, Team of three, Team of ten (0); Department one (1)
    levels = results.heatmap_levels(frame)
    assert [(lv.depth, lv.levels, lv.groups, lv.every_group) for lv in levels] == [(0, 1, 5, False), (1, 2, 6, True)]
    assert [lv.label for lv in levels] == ["Top level (5 groups)", "Every group (6)"]

    # the deepest level within the limit, at the boundary included; at least the top level
    assert results.default_heatmap_level(levels, max_rows=6) == levels[1]
    assert results.default_heatmap_level(levels, max_rows=5) == levels[0]
    assert results.default_heatmap_level(levels, max_rows=1) == levels[0]
    assert results.default_heatmap_level([], max_rows=5) is None

    top = results.heatmap_down_to(frame, 0)
    assert "d1" not in set(top["team_id"]) and "__org__" in set(top["team_id"])
    assert len(top) == len(frame) - 1  # Department one has one cell
    table = results.heatmap_table(top, 4)
    assert table["Group"].tolist() == ["Whole organisation", "Department (whole subtree)",
                                       "Department (direct members)", "Team of ten", "Team of three"]


def test_heatmap_levels_of_three_levels_name_the_middle_one() -> None:
    frame = results.heatmap_frame(pd.DataFrame([
        cell("__org__", "org", "Whole organisation", "growth", "Growth", 40, 7.0, 50.0, False),
        cell("top", "subtree", "Top", "growth", "Growth", 40, 7.0, 50.0, False, "Top", True),
        cell("mid", "subtree", "Mid", "growth", "Growth", 20, 7.0, 50.0, False, "Top / Mid", True),
        cell("low", "team", "Low", "growth", "Growth", 10, 7.0, 50.0, False, "Top / Mid / Low"),
    ]), 4)
    assert [lv.label for lv in results.heatmap_levels(frame)] == [
        "Top level (2 groups)", "Top 2 levels (3 groups)", "Every group (4)"]


def test_heatmap_of_nothing_is_empty() -> None:
    assert results.heatmap_frame(pd.DataFrame(), 4).empty
    assert results.heatmap_table(results.heatmap_frame(pd.DataFrame(), 4), 4).empty


def driver_row(driver_id, name, n, mean, favorable, suppressed, prev=None, prev_mean=None, delta=None, rel=None,
               prev_suppressed=False):
    return {"driver_id": driver_id, "driver_name": name, "n_respondents": n, "mean_score": mean,
            "favorable_pct": favorable, "suppressed": suppressed, "prev_survey_id": prev,
            "prev_mean_score": prev_mean, "delta_abs": delta, "delta_rel": rel, "prev_suppressed": prev_suppressed}


def test_drivers_frame_changes_and_suppression() -> None:
    drivers = pd.DataFrame([
        # c10 2026-02: recognition 6.0 after 7.5 (-1.5 points, -20 %)
        driver_row("recognition", "Recognition", 9, 6.0, 1 / 18 * 100, False, "2026-01", 7.5, -1.5, -0.2),
        # b5 2026-02: its 2026-01 row was suppressed, so there is no change to show
        driver_row("growth", "Growth", 5, 7.0, 40.0, False, "2026-01", None, None, None, prev_suppressed=True),
        driver_row("engagement", "Engagement", 3, None, None, True),
    ])
    table = results.drivers_frame(drivers, 4).set_index("driver_id")

    assert table.index.tolist() == ["engagement", "recognition", "growth"]
    recognition = table.loc["recognition"]
    assert (recognition["Mean (1-10)"], recognition["Change (points)"], recognition["Change %"]) == (6.0, -1.5, -20.0)
    assert recognition["Favorable %"] == 5.6 and recognition["Previous survey"] == "2026-01"
    growth = table.loc["growth"]
    assert growth["Change (points)"] == f"previous survey {HIDDEN_CELL}"
    engagement = table.loc["engagement"]
    assert [engagement[c] for c in ("Mean (1-10)", "Favorable %", "Change (points)", "Change %")] == [HIDDEN_CELL] * 4
    assert engagement["Respondents"] == 3  # counts are published


def test_drivers_frame_first_survey_has_no_change() -> None:
    table = results.drivers_frame(pd.DataFrame([driver_row("growth", "Growth", 10, 7.0, 30.0, False)]), 4)
    assert table.iloc[0]["Change (points)"] is None and table.iloc[0]["Previous survey"] is None


def test_driver_bar_frame_labels() -> None:
    drivers = pd.DataFrame([driver_row("growth", "Growth", 10, 7.0, 30.0, False),
                            driver_row("engagement", "Engagement", 3, None, None, True)])
    bars = results.driver_bar_frame(drivers, 4)
    assert bars[["driver_id", "label", "tooltip"]].values.tolist() == [
        ["engagement", "suppressed", HIDDEN], ["growth", "7.0", "7.00"]]


def test_enps_frame() -> None:
    # c10 in 2026-01: 5 promoters, 2 passives, 3 detractors (eNPS +20)
    segments = results.enps_frame(results.EnpsDistribution(10, False, 5, 2, 3, 20.0), 4)
    assert segments[["category", "respondents", "share"]].values.tolist() == [
        ["Detractors (0-6)", 3, 0.3], ["Passives (7-8)", 2, 0.2], ["Promoters (9-10)", 5, 0.5]]
    hidden = results.enps_frame(results.EnpsDistribution(3, True, None, None, None, None), 4)
    assert hidden[["category", "tooltip"]].values.tolist() == [["suppressed", HIDDEN]]
    assert results.enps_frame(None, 4).empty


def test_what_matters_most_ranks_drivers_with_their_mean() -> None:
    impact = pd.DataFrame([
        {"driver_id": "growth", "driver_name": "Growth", "outcome": "engagement", "n_respondents": 31,
         "correlation": 0.61, "ci_low": 0.32, "ci_high": 0.79, "impact_rank": 1},
        {"driver_id": "recognition", "driver_name": "Recognition", "outcome": "engagement", "n_respondents": 31,
         "correlation": 0.4, "ci_low": 0.05, "ci_high": 0.66, "impact_rank": 2},
        {"driver_id": "growth", "driver_name": "Growth", "outcome": "enps", "n_respondents": 31,
         "correlation": 0.2, "ci_low": -0.16, "ci_high": 0.52, "impact_rank": 1},
    ])
    drivers = pd.DataFrame([driver_row("growth", "Growth", 31, 7.35, 45.0, False),
                            driver_row("recognition", "Recognition", 32, None, None, True)])
    ranked = results.what_matters_most(impact, drivers)
    assert ranked.values.tolist() == [[1, "Growth", 0.61, "0.32 to 0.79", 7.35],
                                      [2, "Recognition", 0.4, "0.05 to 0.66", HIDDEN_CELL]]
    assert results.what_matters_most(impact, drivers, "enps")["Driver"].tolist() == ["Growth"]
    assert results.what_matters_most(impact.iloc[0:0], drivers).empty


def test_org_headline_compares_with_the_survey_before() -> None:
    series = pd.DataFrame([
        {"survey_id": "2026-02", "survey_seq": 2, "engagement_score": 265 / 42, "engagement_suppressed": False,
         "enps": 0.0, "enps_suppressed": False, "invited": 18, "responded": 14, "participation_rate": 14 / 18},
        {"survey_id": "2026-01", "survey_seq": 1, "engagement_score": None, "engagement_suppressed": True,
         "enps": None, "enps_suppressed": True, "invited": 37, "responded": 33, "participation_rate": 33 / 37},
    ])
    headline = results.org_headline(series, "2026-02")
    assert headline.engagement == pytest.approx(265 / 42) and headline.prev_engagement is None
    assert results.change(headline.engagement, headline.prev_engagement) is None  # never against a hidden number
    assert results.change(headline.participation_rate, headline.prev_participation_rate) == pytest.approx(
        14 / 18 - 33 / 37)
    assert (headline.invited, headline.responded) == (18, 14)
    first = results.org_headline(series, "2026-01")
    assert first.engagement_suppressed and first.engagement is None and first.prev_participation_rate is None
    assert results.org_headline(series, "2099-01") is None


def test_default_survey_and_labels() -> None:
    surveys = pd.DataFrame([{"survey_id": "2026-03", "survey_seq": 3, "is_latest": True, "title": "March"},
                            {"survey_id": "2026-01", "survey_seq": 1, "is_latest": False, "title": None},
                            {"survey_id": "2026-02", "survey_seq": 2, "is_latest": False, "title": "Feb"}])
    assert results.default_survey(surveys) == "2026-03"
    assert results.default_survey(surveys.iloc[0:0]) is None
    assert results.survey_label(surveys.iloc[0]) == "2026-03 · March"
    assert results.survey_label({"survey_id": "2026-01", "title": None}) == "2026-01"


def test_parse_group_refuses_teams_outside_the_scope() -> None:
    manager = Viewer("u1", "m@acme.example", "manager", ("dept", "d1", "d2"))
    viewer = Viewer("u2", "v@acme.example", "viewer", ())
    admin = Viewer("u3", "a@acme.example", "admin", None)
    assert results.parse_group("d1", "team", manager) == ("d1", "team", True)
    assert results.parse_group("dept", "subtree", manager) == ("dept", "subtree", True)
    assert results.parse_group("b5", "team", manager) == ("b5", "team", False)
    assert results.parse_group("b5", None, viewer) == ("b5", "team", False)
    assert results.parse_group("b5", "bogus", admin) == ("b5", "team", True)
    assert results.parse_group("__org__", "team", viewer) == ("__org__", "org", True)
    assert results.parse_group(None, None, viewer) == (None, None, True)


def test_trend_points_explain_missing_points() -> None:
    trends = pd.DataFrame([
        {"survey_id": "2026-01", "survey_seq": 1, "driver_id": "engagement", "driver_name": "Engagement",
         "n_respondents": 3, "mean_score": None, "suppressed": True},
        {"survey_id": "2026-03", "survey_seq": 3, "driver_id": "engagement", "driver_name": "Engagement",
         "n_respondents": 4, "mean_score": 5.5, "suppressed": False},
    ])
    assert results.trend_points(trends, 4)["tooltip"].tolist() == [HIDDEN, "5.50"]


def _layers(chart) -> list[dict]:
    return json.loads(chart.to_json())["layer"]


def test_heatmap_chart_draws_suppressed_cells_grey_with_text(cells: pd.DataFrame) -> None:
    spec = json.loads(charts.driver_heatmap(results.heatmap_frame(cells, 4)).to_json())
    published, hidden, labels = spec["layer"]
    assert published["mark"]["type"] == "rect" and published["encoding"]["color"]["field"] == "score"
    assert hidden["mark"] == {"type": "rect", "color": charts.SUPPRESSED_GREY, "opacity": 0.35}
    assert {"filter": "datum.suppressed"} in hidden["transform"]
    assert labels["mark"]["type"] == "text" and labels["encoding"]["text"]["field"] == "label"
    for layer in spec["layer"]:  # every layer, the grey one included, carries the reason as its tooltip
        assert {"field": "tooltip", "type": "nominal", "title": "Score"} in layer["encoding"]["tooltip"]
    rows = next(iter(spec["datasets"].values()))
    assert {r["tooltip"] for r in rows if r["team_id"] == "a3"} == {HIDDEN}


def test_enps_chart_of_a_suppressed_group_is_a_grey_bar() -> None:
    hidden = results.enps_frame(results.EnpsDistribution(3, True, None, None, None, None), 4)
    grey, word = _layers(charts.enps_bar(hidden))
    assert grey["mark"]["color"] == charts.SUPPRESSED_GREY
    assert word["encoding"]["text"] == {"value": "suppressed"}
    shown = json.loads(charts.enps_bar(results.enps_frame(
        results.EnpsDistribution(10, False, 5, 2, 3, 20.0), 4)).to_json())
    assert shown["encoding"]["x"]["stack"] == "normalize"
    # detractors red, passives grey, promoters green: the meaning of the colours does not depend on the theme
    assert shown["encoding"]["color"]["scale"] == {
        "domain": ["Detractors (0-6)", "Passives (7-8)", "Promoters (9-10)"],
        "range": [charts.ENPS_COLOURS["detractors"], charts.ENPS_COLOURS["passives"], charts.ENPS_COLOURS["promoters"]]}
    assert shown["encoding"]["y"]["field"] == "band"  # one band, so the bar has a height


def test_as_text_keeps_the_suppressed_wording() -> None:
    frame = pd.DataFrame({"Group": ["a", "b", "c"], "Growth": [7.0, HIDDEN_CELL, None]}).astype({"Growth": object})
    assert results.as_text(frame, ["Growth"])["Growth"].tolist() == ["7.00", HIDDEN_CELL, "—"]
