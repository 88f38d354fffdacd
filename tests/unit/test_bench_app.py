"""The app benchmark's pure pieces: percentiles, the per-page figures and targets, the page list, the names of
recorded queries, and the CLI wiring of ``novora bench --app-only``. Nothing here is timed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestration import bench_app
from orchestration.bench import AppStage
from orchestration.bench_app import (
    AppBenchOptions,
    AppPage,
    RecordedQuery,
    app_targets,
    caller_name,
    discover_pages,
    failing,
    lazy_tabs_read,
    page_query_figures,
    page_rounds,
    percentile,
    query_param_values,
    query_params_read,
    render_figures,
    summary_ms,
    tab_states,
    unique_names,
    visit_label,
)

# ---------------------------------------------------------------- percentiles and summaries


def test_percentile_interpolates_between_closest_ranks():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5  # between 2 and 3
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)  # rank 2.85: 3 + 0.85 x (4 - 3)
    assert percentile([float(v) for v in range(1, 21)], 95) == pytest.approx(19.05)  # rank 18.05 of 0..19
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 9.0], 0) == 1.0 and percentile([1.0, 9.0], 100) == 9.0


def test_percentile_refuses_nothing_and_out_of_range():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_is_in_milliseconds():
    assert summary_ms([0.010, 0.040, 0.020, 0.030]) == {"n": 4, "p50_ms": 25.0, "p95_ms": 38.5, "max_ms": 40.0}


def test_page_rounds_add_the_queries_of_each_round():
    assert page_rounds({"a": [1.0, 2.0], "b": [10.0, 20.0]}) == [11.0, 22.0]
    assert page_rounds({}) == []
    with pytest.raises(ValueError):
        page_rounds({"a": [1.0], "b": [1.0, 2.0]})


# ---------------------------------------------------------------- figures and targets


def test_page_query_figures_judge_each_query_at_p95():
    figures = page_query_figures({"a": [0.01, 0.02, 0.03], "b": [0.05, 0.2, 0.06]}, {"a": 3, "b": 1})
    assert figures["queries"]["a"] == {"n": 3, "p50_ms": 20.0, "p95_ms": 29.0, "max_ms": 30.0, "rows": 3}
    # b sorted 50, 60, 200 ms: p95 at rank 1.9 is 60 + 0.9 x 140
    assert figures["queries"]["b"] == {"n": 3, "p50_ms": 60.0, "p95_ms": 186.0, "max_ms": 200.0, "rows": 1}
    # rounds 60, 220, 90 ms
    assert figures["page_total"] == {"n": 3, "p50_ms": 90.0, "p95_ms": 207.0, "max_ms": 220.0}
    assert figures["slowest_query_p95_ms"] == 186.0
    assert figures["met"] is False
    assert page_query_figures({"a": [0.01, 0.02, 0.03]}, {"a": 3})["met"] is True


def test_a_page_without_queries_meets_the_query_target():
    figures = page_query_figures({}, {})
    assert figures == {"queries": {}, "page_total": None, "slowest_query_p95_ms": None, "met": True}


def test_render_figures_need_both_cases_under_the_target():
    slow_cold = render_figures(cold=[0.1, 0.2, 0.35], warm=[0.05, 0.06, 0.07])
    assert slow_cold["cold"]["p95_ms"] == 335.0 and slow_cold["warm"]["p95_ms"] == 69.0  # rank 1.9: 60 + 0.9 x 10
    assert slow_cold["met"] is False
    assert render_figures(cold=[0.1, 0.2], warm=[0.05, 0.06])["met"] is True
    assert render_figures(cold=[], warm=[0.05]) == {"cold": None, "warm": summary_ms([0.05]), "met": False}


def test_targets_name_every_failing_page_and_role():
    queries = {"Overview": {"admin": {"met": True}, "manager": {"met": False}},
               "Team": {"admin": {"error": "RuntimeError: boom", "met": False}}}
    render = {"Overview": {"admin": {"met": True}}}
    assert failing(queries) == ["Overview (manager)", "Team (admin)"]
    targets = app_targets(queries, render)
    assert targets == {"page_queries_p95_under_ms": 100.0, "page_queries_met": False,
                       "page_queries_failing": ["Overview (manager)", "Team (admin)"],
                       "page_render_p95_under_ms": 300.0, "page_render_met": True, "page_render_failing": []}


def test_targets_unmeasured_or_empty_are_not_met():
    targets = app_targets({}, None)
    assert targets["page_queries_met"] is False  # no page measured is no evidence
    assert targets["page_render_met"] is None and targets["page_render_failing"] is None


# ---------------------------------------------------------------- the page list


@dataclass(frozen=True)
class Spec:
    path: str
    title: str
    roles: tuple[str, ...]


def test_pages_come_from_the_navigation_registry(tmp_path: Path):
    views = tmp_path / "views"
    views.mkdir()
    (views / "overview.py").write_text("import streamlit as st\nst.title('Overview')\n")
    (views / "team.py").write_text(
        "team = st.query_params.get('team')\nscope = st.query_params[\"scope\"]\nagain = st.query_params['team']\n")
    specs = [Spec("views/overview.py", "Overview", ("admin", "manager", "viewer")),
             Spec("views/team.py", "Team", ("admin", "manager")),
             Spec("views/not_written_yet.py", "Later", ("admin",))]
    pages = discover_pages(specs, dashboards=tmp_path)
    assert pages == [AppPage("views/overview.py", "Overview", ("admin", "manager", "viewer"), ()),
                     AppPage("views/team.py", "Team", ("admin", "manager"), ("team", "scope"))]
    assert pages[1].shown_to("manager") and not pages[1].shown_to("viewer")


def test_the_real_registry_lists_the_app_pages():
    pages = discover_pages()
    paths = [p.path for p in pages]
    assert paths[0] == "views/overview.py"
    assert "views/data_health.py" in paths
    health = next(p for p in pages if p.path == "views/data_health.py")
    assert health.shown_to("admin") and not health.shown_to("manager")


def test_query_params_read_by_a_page():
    assert query_params_read("x = st.query_params.get( \"team\" )\ny = st.query_params['survey']") == ("team", "survey")
    assert query_params_read("st.title('no parameters')") == ()


def test_visits_with_the_parameters_the_bench_can_fill():
    team = AppPage("views/team.py", "Team", ("admin", "manager"), ("team", "scope"))
    visits = query_param_values(team, {"team": "eng"})
    assert visits == [{}, {"team": "eng"}]  # no sample value for scope: not visited with it
    assert [visit_label(team, v) for v in visits] == ["Team", "Team ?team=eng"]
    assert query_param_values(AppPage("views/overview.py", "Overview"), {"team": "eng"}) == [{}]


def test_lazy_tabs_read_by_a_page():
    source = (
        'KEY = "health_tab"\n'
        'FIRST, SECOND = "Deliveries", "Quarantine"\n'
        'if empty:\n'
        '    layout.lazy_tabs(KEY, {"Runs": runs})\n'
        'else:\n'
        '    layout.lazy_tabs(KEY, {FIRST: a, SECOND: b, "Runs": runs})\n'
        'layout.lazy_tabs("detail_tab", {"Provenance": p, "History": h})\n'
        'layout.lazy_tabs(unknown_key, {"Ignored": x})\n'
    )
    # the fuller call of a key gives its order (the tab the page opens on first); a key not known statically is
    # left out rather than guessed
    assert lazy_tabs_read(source) == (("health_tab", ("Deliveries", "Quarantine", "Runs")),
                                      ("detail_tab", ("Provenance", "History")))
    assert lazy_tabs_read("st.title('no tabs')") == ()


def test_each_tab_is_a_visit_of_its_own():
    page = AppPage("views/alerts.py", "Alerts", tabs=(("detail_tab", ("Provenance", "History")),
                                                      ("other_tab", ("One", "Two", "Three"))))
    states = tab_states(page)
    assert states == [{}, {"detail_tab": "History"}, {"other_tab": "Two"}, {"other_tab": "Three"}]
    assert [visit_label(page, {"team": "eng"}, state) for state in states[:2]] == [
        "Alerts ?team=eng", "Alerts · History ?team=eng"]
    assert tab_states(AppPage("views/overview.py", "Overview")) == [{}]


def test_the_real_pages_tabs_are_found():
    tabs = {page.title: dict(page.tabs) for page in discover_pages()}
    assert tabs["Data health"] == {"health_tab": ("Deliveries", "Quarantine", "Asset freshness", "Latest runs")}
    assert tabs["Team"]["team_tab"][0] == "Drivers" and len(tabs["Team"]["team_tab"]) == 5
    assert tabs["Overview"] == {}


# ---------------------------------------------------------------- recorded queries


def test_a_repeated_query_counts_once_and_names_stay_distinct():
    queries = [RecordedQuery("data.surveys", "u", "select 1", None),
               RecordedQuery("data.quarantine_count", "u", "select n", {"dataset": None}),
               RecordedQuery("data.surveys", "u", "select 1", None),
               RecordedQuery("data.quarantine_count", "u", "select n", {"dataset": "responses"})]
    assert [q.name for q in unique_names(queries)] == ["data.surveys", "data.quarantine_count",
                                                       "data.quarantine_count#2"]


def test_caller_name_skips_the_query_layer(tmp_path: Path):
    dashboards = tmp_path / "dashboards"
    (dashboards / "views").mkdir(parents=True)
    namespace: dict = {}
    data_py = "import sys\ndef query():\n    return sys._getframe(0)\n"
    exec(compile(data_py, str(dashboards / "data.py"), "exec"), namespace)
    results_py = "def driver_table():\n    return query()\n"
    exec(compile(results_py, str(dashboards / "results.py"), "exec"), namespace)
    assert caller_name(namespace["driver_table"](), dashboards) == "results.driver_table"
    page_py = "frame = query()\n"
    exec(compile(page_py, str(dashboards / "views" / "team.py"), "exec"), namespace)
    assert caller_name(namespace["frame"], dashboards) == "views/team.py:1"
    assert caller_name(namespace["query"](), dashboards) == "unknown"  # called from outside dashboards/


# ---------------------------------------------------------------- the command line


def test_bench_app_only_runs_the_app_bench_with_the_options(monkeypatch, tmp_path: Path):
    from orchestration.cli import cli

    calls = []

    def fake_run_app_bench(home, options, progress):
        calls.append((home, options))
        return {"app": {"targets": {"page_queries_met": True}}}

    monkeypatch.setattr(bench_app, "run_app_bench", fake_run_app_bench)
    result = CliRunner().invoke(cli, ["bench", "--app-only", "--home", str(tmp_path), "--teams", "20",
                                      "--employees-per-team", "50", "--surveys", "12", "--query-repeats", "5",
                                      "--render-repeats", "3", "--participation", "0.5"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"app": {"targets": {"page_queries_met": True}}}
    home, options = calls[0]
    assert home == tmp_path.resolve() / "app"
    assert options == AppBenchOptions(20, 50, 12, 0.5, AppStage(query_repeats=5, render_repeats=3, render=True),
                               reuse=False)


def test_bench_reuse_measures_again_what_an_earlier_run_loaded(monkeypatch, tmp_path: Path):
    from orchestration.cli import cli

    calls = []
    monkeypatch.setattr(bench_app, "run_app_bench", lambda home, options, progress: calls.append(options) or {})
    result = CliRunner().invoke(cli, ["bench", "--app-only", "--reuse", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert calls[0].reuse is True

    refused = CliRunner().invoke(cli, ["bench", "--reuse", "--home", str(tmp_path)])
    assert refused.exit_code != 0 and "--reuse goes with --app-only" in refused.output

    def nothing_loaded(home, options, progress):
        raise RuntimeError(f"--reuse: no survey is loaded under {home}; run once without --reuse first")

    monkeypatch.setattr(bench_app, "run_app_bench", nothing_loaded)
    empty = CliRunner().invoke(cli, ["bench", "--app-only", "--reuse", "--home", str(tmp_path)])
    assert empty.exit_code != 0 and "bench: --reuse: no survey is loaded under" in empty.output
    assert "Traceback" not in empty.output


def test_bench_exits_non_zero_when_the_app_stage_failed(monkeypatch, tmp_path: Path):
    from orchestration.cli import cli

    monkeypatch.setattr(bench_app, "run_app_bench",
                        lambda home, options, progress: {"app": {"render": {"error": "RuntimeError: no chromium"}}})
    result = CliRunner().invoke(cli, ["bench", "--app-only", "--home", str(tmp_path), "--no-render"])
    assert result.exit_code != 0
    assert "the app stage failed: RuntimeError: no chromium" in result.output


def test_the_whole_bench_ends_with_the_app_stage_unless_skipped(monkeypatch, tmp_path: Path):
    from orchestration import bench
    from orchestration.cli import cli

    stages = []
    monkeypatch.setattr(bench, "run_bench", lambda home, **kwargs: stages.append(kwargs["app"]) or {})
    for extra in ([], ["--no-app"], ["--comments-only"], ["--no-render", "--query-repeats", "7"]):
        result = CliRunner().invoke(cli, ["bench", "--home", str(tmp_path), *extra])
        assert result.exit_code == 0, result.output
    assert stages == [AppStage(30, 20, True), None, None, AppStage(7, 20, False)]


def test_script_figures_summarise_cold_and_warm_runs():
    from orchestration.bench_app import script_figures

    assert script_figures([0.2, 0.1], [0.05]) == {"cold": {"n": 2, "p50_ms": 150.0, "p95_ms": 195.0, "max_ms": 200.0},
                                                 "warm": {"n": 1, "p50_ms": 50.0, "p95_ms": 50.0, "max_ms": 50.0}}
    assert script_figures([], []) is None


def test_what_a_page_prints_stays_off_the_json_on_stdout(capsys):
    with bench_app.quiet_streamlit():
        print("Traceback (most recent call last): a page raised")
    captured = capsys.readouterr()
    assert captured.out == "" and "a page raised" in captured.err
