"""The benchmark's pure pieces: per-survey dbt cost figures, their targets, the slowest dbt nodes."""

from orchestration.bench import DbtRun, SurveyCost, dbt_cost_figures, dbt_targets, slowest_nodes


def run(seconds: float) -> DbtRun:
    return DbtRun(seconds=seconds, dbt_elapsed=seconds / 2, slowest={})


def test_cost_figures_compare_the_last_survey_with_the_first():
    first = SurveyCost(partition=run(8.0), marts=run(4.0))
    last = SurveyCost(partition=run(9.0), marts=run(6.0))
    figures = dbt_cost_figures(first, last, middle_partition=run(50.0), middle_surveys=10)
    assert figures["first_survey_total"] == 12.0 and figures["last_survey_total"] == 15.0
    assert figures["last_survey_partition"] == 9.0 and figures["last_survey_marts"] == 6.0
    assert figures["middle_surveys_partition_per_survey"] == 5.0
    assert figures["last_vs_first_ratio"] == 1.25
    assert dbt_targets(figures) == {"per_survey_dbt_under_seconds": 30, "per_survey_dbt_met": True,
                                    "last_vs_first_ratio_under": 1.3, "last_vs_first_ratio_met": True}


def test_targets_fail_on_a_slow_survey_or_a_growing_cost():
    first = SurveyCost(partition=run(10.0), marts=run(10.0))
    last = SurveyCost(partition=run(20.0), marts=run(11.0))
    figures = dbt_cost_figures(first, last, middle_partition=None, middle_surveys=0)
    assert figures["middle_surveys_partition_per_survey"] is None
    targets = dbt_targets(figures)
    assert not targets["per_survey_dbt_met"] and not targets["last_vs_first_ratio_met"]


def test_slowest_nodes_from_run_results():
    results = {"results": [{"unique_id": "model.novora.a", "execution_time": 1.0},
                           {"unique_id": "model.novora.b", "execution_time": 3.25},
                           {"unique_id": "test.novora.c", "execution_time": None},
                           {"unique_id": "model.novora.d", "execution_time": 2.0}]}
    assert slowest_nodes(results, n=2) == {"model.novora.b": 3.25, "model.novora.d": 2.0}
    assert slowest_nodes({}) == {}
