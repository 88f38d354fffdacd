"""The one line an operator reads when a dbt build fails, from run_results.json as dbt 1.11 writes it."""

from orchestration.dbt import dbt_failure_reason

DISK_FULL = ('Database Error in model int_answers_scored (models/intermediate/per_survey/int_answers_scored.sql)\n'
             '  could not extend file "pg_tblspc/17144/PG_16/16384/17208_fsm": No space left on device\n'
             '  HINT:  Check free disk space.\n'
             '  compiled code at target/run/novora/models/intermediate/per_survey/int_answers_scored.sql')


def result(unique_id: str, status: str, message: str | None = None) -> dict:
    return {"unique_id": unique_id, "status": status, "message": message}


def test_the_failed_model_and_the_databases_words():
    reason = dbt_failure_reason({"results": [
        result("model.novora.stg_raw__responses", "success", "CREATE VIEW"),
        result("model.novora.int_answers_scored", "error", DISK_FULL),
        result("model.novora.int_respondent_scores", "skipped"),
    ]}, fallback="unused")
    assert reason == ('dbt build failed: int_answers_scored: could not extend file '
                      '"pg_tblspc/17144/PG_16/16384/17208_fsm": No space left on device. A failed model keeps what '
                      'it held before this run and the models after it were skipped; the next run builds them again.')


def test_failed_tests_are_named_and_a_long_list_is_cut_at_three():
    results = [result(f"test.novora.unique_t{i}", "fail", "Got 2 results, configured to fail if != 0")
               for i in range(5)]
    reason = dbt_failure_reason({"results": results}, fallback="unused")
    assert reason.startswith("dbt build failed: unique_t0: Got 2 results, configured to fail if != 0; unique_t1: ")
    assert "unique_t2: Got 2 results" in reason and "unique_t3" not in reason and "; and 2 more." in reason


def test_without_results_the_fallback_is_said():
    assert dbt_failure_reason(None, fallback="dbt could not connect") == "dbt could not connect"
    assert dbt_failure_reason({"results": [result("model.novora.a", "success")]}, "exit 2") == "exit 2"
    # a failed node without a message still names its status
    assert dbt_failure_reason({"results": [result("model.novora.a", "runtime error")]}, "x").startswith(
        "dbt build failed: a: runtime error.")
