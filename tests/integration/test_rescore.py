"""`novora rescore` end to end: real Dagster runs of dbt, the comment pipeline and the alert evaluation on the
materialised warehouse of tests/alerts_fixture.py (its hand-checked EXPECTED alerts), driven through the CLI.

With the low_score threshold lowered from 6.0 to 5.5 the fixture's alerts become, by hand:
- LOW_SCORE rel/growth 2026-02 (a mean of exactly 5.5) no longer fires: resolved, at the boundary;
- LOW_SCORE low/recognition (5.0) in 2026-01, -02 and -03 still fire, now against 5.5: three changed;
- the RECURRING alert over them (3 surveys) and the 7 other alerts say the same: 8 unchanged.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from assets.nlp import pipeline
from orchestration.cli import main
from orchestration.rescore import plan
from tests.alerts_fixture import EXPECTED, write_alerts_landing
from tests.conftest import materialized_warehouse

pytestmark = pytest.mark.integration

REASON = "low_score 5.5 review"
TRIGGER = f"novora rescore: {REASON}"
MODEL = re.compile(r"all-MiniLM-L6-v2@[0-9a-f]{12}\.[0-9a-f]{12}")


@pytest.fixture(scope="module")
def warehouse(pg_home: Path, tmp_path_factory) -> tuple:
    landing = write_alerts_landing(tmp_path_factory.mktemp("rescore") / "landing")
    return materialized_warehouse(pg_home, landing)


@pytest.fixture
def env(warehouse, monkeypatch: pytest.MonkeyPatch):
    config, url = warehouse
    monkeypatch.setenv("NOVORA_HOME", str(config.home))
    monkeypatch.setenv("NOVORA_LANDING", str(config.landing))
    for name in ("NOVORA_DATABASE_URL", "NOVORA_APP_DATABASE_URL", "NOVORA_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return config, url


def novora(capsys, *args: str) -> tuple[int, list[str], str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def one(url: str, query: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params or None).fetchone()


def history(url: str) -> tuple:
    """Revisions, events and every alert's status and values: what a re-score may change."""
    with psycopg.connect(url) as conn:
        return (conn.execute("select count(*) from alerts.alert_revisions").fetchone()[0],
                conn.execute("select count(*) from alerts.alert_events").fetchone()[0],
                conn.execute("select alert_id, status, still_holds, metric_value, threshold, message "
                             "from alerts.alerts order by alert_id").fetchall())


def test_bad_requests_are_one_line_and_run_nothing(env, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    config, url = env
    runs_before = one(url, "select count(*) from alerts.evaluations")
    code, out, err = novora(capsys, "rescore", "--survey", "2099-01", "--reason", "x")
    assert (code, err) == (1, "novora: error: survey 2099-01 is not loaded (loaded: 2026-01, 2026-02, 2026-03)\n")
    code, _, err = novora(capsys, "rescore", "--reason", "   ")
    assert (code, err.splitlines()) == (1, ["novora: error: --reason must say why the history is re-scored (it is "
                                            "recorded with the evaluation)"])
    code, _, err = novora(capsys, "rescore")
    assert code == 2 and err.startswith("novora: error: Missing option '--reason'")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("insert into raw.archived_surveys (survey_id, archived_by, archive_path, manifest_sha256, "
                     "row_counts) values ('2026-02', 'test', '/nowhere', 'x', '{}')")
        try:
            code, _, err = novora(capsys, "rescore", "--survey", "2026-02", "--reason", "x")
        finally:
            conn.execute("delete from raw.archived_surveys where survey_id = '2026-02'")
    assert (code, err) == (1, "novora: error: survey 2026-02 is archived: restore it first "
                              "(`novora retention restore --survey 2026-02`)\n")
    assert one(url, "select count(*) from alerts.evaluations") == runs_before

    monkeypatch.setenv("NOVORA_DATABASE_URL", "postgresql://novora:s3cret@127.0.0.1:1/novora")
    code, out, err = novora(capsys, "rescore", "--reason", "x")
    assert code == 1 and out == [] and len(err.splitlines()) == 1
    assert err.startswith("novora: error: cannot connect to NOVORA_DATABASE_URL (postgresql://novora:***@127.0.0.1:1")


def test_a_threshold_change_re_scored_then_again_with_nothing_changed(env, capsys) -> None:
    config, url = env
    with psycopg.connect(url) as conn:
        in_use = pipeline.classifier_in_use(conn, config.embedding_model_name).identity
    assert MODEL.fullmatch(in_use)
    before = one(url, "select evaluation_id, settings_sha256 from alerts.evaluations order by 1 desc limit 1")
    revisions_before = history(url)[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update app.settings set value = '5.5' where setting_key = 'alert.low_score.threshold'")

    code, out, err = novora(capsys, "rescore", "--reason", f"  {REASON} ")
    assert code == 0, err
    evaluation_id, run_id, settings, model, trigger, changed = one(
        url, "select evaluation_id, run_id, settings_sha256, sentiment_model, trigger, changed_alerts "
             "from alerts.evaluations order by 1 desc limit 1")
    assert (trigger, model, changed) == (TRIGGER, in_use, 3) and run_id
    assert out[:-1] == [
        f"rescore ({TRIGGER}): surveys 2026-01, 2026-02, 2026-03",
        f"comments: not re-scored: every comment was scored with {in_use}, the classifier in use",
        "marts: ok",
        f"alerts: ok (evaluation {evaluation_id})",
        f"alerts: 0 raised, 3 changed, 1 resolved, 8 unchanged ({len(EXPECTED) - 1} hold now; evaluation "
        f"{evaluation_id})",
        "rule version: 1 → 1",
        f"thresholds: {before[1][:12]} → {settings[:12]} (low_score 6.0 → 5.5)",
        f"sentiment model: {in_use} → {in_use}",
    ]
    assert out[-1].startswith("(Dagster and dbt output: ") and out[-1].endswith("rescore.log)")

    # the boundary: a mean of exactly 5.5 is not below 5.5
    rel = one(url, "select alert_id, status, still_holds from alerts.alerts where dedup_key like "
                   "'LOW_SCORE|2026-02|rel|team|growth|%'")
    assert rel[1:] == ("resolved", False)
    assert one(url, "select from_status, to_status, actor, note, evaluation_id from alerts.alert_events "
                    "where alert_id = %s order by event_id desc limit 1", rel[0]) == (
        "open", "resolved", "novora", "no longer holds on re-score: rule version 1, low_score 5.5 (was 6.0)",
        evaluation_id)
    revised = one(url, "select array_agg(a.survey_id order by a.survey_id), array_agg(distinct r.threshold) "
                       "from alerts.alert_revisions as r join alerts.alerts as a using (alert_id) "
                       "where r.evaluation_id = %s", evaluation_id)
    assert revised == (["2026-01", "2026-02", "2026-03"], [Decimal("5.5")])
    assert history(url)[0] == revisions_before + 3
    actor, detail = one(url, "select actor, detail from app.audit_log where action = 'alerts.rescore' "
                             "order by audit_id desc limit 1")
    assert actor.startswith("cli:") and detail["trigger"] == TRIGGER and detail["evaluation_id"] == evaluation_id
    assert (detail["surveys"], detail["comment_surveys"], detail["failure"]) == (
        ["2026-01", "2026-02", "2026-03"], [], None)

    # again, re-scoring 2026-01's comments as well: the same model gives the same scores, nothing is written
    settled = history(url)
    code, out, err = novora(capsys, "rescore", "--survey", "2026-01", "--comments", "--reason", "again")
    assert code == 0, err
    assert out[1:3] == ["comments: re-scored as asked (--comments): 2026-01", "comments 2026-01: ok"]
    assert re.fullmatch(rf"alerts: 0 raised, 0 changed, 0 resolved, {len(EXPECTED) - 1} unchanged .*", out[5])
    assert out[7] == f"thresholds: {settings[:12]} → {settings[:12]}"
    assert history(url) == settled
    assert one(url, "select count(*) from nlp.comment_enrichment where sentiment_model is distinct from %s",
               in_use) == (0,)


def test_comments_scored_by_another_model_are_re_scored_by_default(env) -> None:
    """What the default decides when a survey's comments were scored by an older classifier (planned only)."""
    config, url = env
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update nlp.comment_enrichment set sentiment_model = %s where comment_id in (select comment_id "
                     "from nlp.comment_enrichment where survey_id = '2026-01' limit 1)",
                     ("all-MiniLM-L6-v2@000000000000.000000000000",))
        try:
            chosen = plan(conn, config, "model check", (), None)
            unchanged = plan(conn, config, "model check", ("2026-02",), None)
        finally:
            conn.execute("update nlp.comment_enrichment set sentiment_model = %s",
                         (pipeline.classifier_in_use(conn, config.embedding_model_name).identity,))
    assert chosen.comment_surveys == ["2026-01"]  # the only survey with comments in the fixture
    assert chosen.comments_why.startswith("re-scored where not all scored with all-MiniLM-L6-v2@")
    assert unchanged.comment_surveys == []
