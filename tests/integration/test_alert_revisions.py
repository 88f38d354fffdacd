"""Alert provenance across re-evaluations (issue 7): evaluations, revisions and event notes, on real PostgreSQL.

The marts here are small hand-written tables (no dbt run): the rules only read their columns, and every value
below is chosen by hand. One survey, 2026-01, team groups:

    team   mart                 value                 at low_score 6.0   5.5                      6.5
    low    driver recognition   5.0                   LOW_SCORE          LOW_SCORE (revised)      LOW_SCORE (revised)
    mid    driver growth        5.8                   LOW_SCORE          resolved                 reopened
    edge   driver recognition   5.5                   LOW_SCORE          resolved (5.5 is not < 5.5)  reopened
    rise   driver recognition   6.2                   -                  -                        LOW_SCORE (new)
    ok     driver recognition   8.0                   -                  -                        -
    neg    eNPS                 -20                   ENPS_NEG throughout, never revised by a low_score change
    sad    comments             60 % of 5 negative    NEG_SENT_SPIKE (workload), revised when the model changes
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from assets.alerts import rules
from assets.alerts.evaluate import evaluate_alerts
from orchestration import migrate

pytestmark = pytest.mark.integration

RESCORE = "novora rescore: low_score review"
OLD_MODEL = "all-MiniLM-L6-v2@000000000000.111111111111"
NEW_MODEL = "all-MiniLM-L6-v2@222222222222.333333333333"

MARTS = """
create table marts.driver_scores (survey_id text, team_id text, scope text, team_name text, driver_id text,
    driver_name text, n_respondents integer, mean_score numeric, suppressed boolean);
create table marts.engagement (survey_id text, team_id text, scope text, team_name text, n_respondents integer,
    engagement_score numeric, suppressed boolean);
create table marts.enps (survey_id text, team_id text, scope text, team_name text, n_respondents integer,
    promoters integer, passives integer, detractors integer, enps numeric, suppressed boolean);
create table marts.participation (survey_id text, team_id text, scope text, team_name text, invited integer,
    responded integer, participation_rate numeric, prev_survey_id text, prev_participation_rate numeric,
    participation_change_rel numeric);
create table marts.trends (survey_id text, team_id text, scope text, team_name text, driver_id text,
    n_respondents integer, mean_score numeric, prev_survey_id text, prev_mean_score numeric, delta_abs numeric,
    delta_rel numeric, suppressed boolean, prev_suppressed boolean, std_error numeric, prev_std_error numeric,
    delta_ci_low numeric, delta_ci_high numeric);
create table marts.comment_insights (survey_id text, team_id text, scope text, team_name text, n_comments integer,
    negative_share numeric, top_negative_theme text, suppressed boolean);
create table marts.comments (comment_id text, survey_id text, team_id text, sentiment_model text);
"""
DRIVERS = [("low", "recognition", "5.0"), ("mid", "growth", "5.8"), ("edge", "recognition", "5.5"),
           ("rise", "recognition", "6.2"), ("ok", "recognition", "8.0")]


@pytest.fixture
def db(conn: psycopg.Connection) -> psycopg.Connection:
    delivery = conn.execute("insert into raw.deliveries (dataset, survey_id, file_path, fingerprint) values "
                            "('surveys', '2026-01', 'surveys/2026-01/survey.json', 'x') returning delivery_id"
                            ).fetchone()[0]
    conn.execute("insert into raw.surveys (survey_id, title, opened_at, delivery_id) values "
                 "('2026-01', 'January pulse', '2026-01-05T09:00:00Z', %s)", (delivery,))
    conn.execute(MARTS)
    for team, driver, mean in DRIVERS:
        conn.execute("insert into marts.driver_scores values ('2026-01', %s, 'team', %s, %s, %s, 6, %s, false)",
                     (team, f"Team {team}", driver, driver.title(), Decimal(mean)))
    conn.execute("insert into marts.enps values ('2026-01', 'neg', 'team', 'Team neg', 5, 1, 2, 2, -20, false)")
    conn.execute("insert into marts.comment_insights values ('2026-01', 'sad', 'team', 'Team sad', 5, 0.6, "
                 "'workload', false)")
    conn.execute("insert into marts.comments select 'c' || n, '2026-01', 'sad', %s from generate_series(1, 5) as n",
                 (OLD_MODEL,))
    return conn


def set_low_score(conn: psycopg.Connection, value: str) -> None:
    conn.execute("update app.settings set value = %s::jsonb where setting_key = 'alert.low_score.threshold'",
                 (value,))


def alerts(conn: psycopg.Connection) -> dict[tuple[str, str], dict]:
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute("select * from alerts.alerts order by alert_id").fetchall()
    return {(r["alert_type"], r["team_id"]): r for r in rows}


def revisions(conn: psycopg.Connection, alert_id: int) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute("select * from alerts.alert_revisions where alert_id = %s order by revision_id",
                              (alert_id,)).fetchall()


def events(conn: psycopg.Connection, alert_id: int) -> list[tuple]:
    return conn.execute("select from_status, to_status, actor, note, evaluation_id from alerts.alert_events "
                        "where alert_id = %s order by event_id", (alert_id,)).fetchall()


def evaluation(conn: psycopg.Connection, evaluation_id: int) -> dict:
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute("select * from alerts.evaluations where evaluation_id = %s", (evaluation_id,)
                              ).fetchone()


def counts(conn: psycopg.Connection) -> tuple[int, int]:
    return conn.execute("select (select count(*) from alerts.alert_revisions), "
                        "(select count(*) from alerts.alert_events)").fetchone()


def test_a_threshold_change_re_scored_keeps_who_said_what(db: psycopg.Connection) -> None:
    first = evaluate_alerts(db)
    e1 = first.evaluation_id
    found = alerts(db)
    assert set(found) == {("LOW_SCORE", "low"), ("LOW_SCORE", "mid"), ("LOW_SCORE", "edge"), ("ENPS_NEG", "neg"),
                          ("NEG_SENT_SPIKE", "sad")}
    for row in found.values():
        assert (row["first_evaluation_id"], row["last_evaluation_id"]) == (e1, e1)
        [revision] = revisions(db, row["alert_id"])
        assert (revision["evaluation_id"], revision["rule_version"]) == (e1, "1")
        assert events(db, row["alert_id"]) == [(None, "open", "novora", "raised by rule version 1", e1)]
    low = revisions(db, found[("LOW_SCORE", "low")]["alert_id"])[0]
    assert (low["metric_value"], low["threshold"], low["thresholds"]) == (Decimal("5.0"), Decimal("6.0"),
                                                                           {"low_score": "6.0"})
    assert low["sentiment_model"] is None  # a score alert does not read comments
    assert revisions(db, found[("NEG_SENT_SPIKE", "sad")]["alert_id"])[0]["sentiment_model"] == OLD_MODEL
    row = evaluation(db, e1)
    assert (row["trigger"], row["rule_version"], row["sentiment_model"]) == ("automation", "1", OLD_MODEL)
    assert (row["current_alerts"], row["new_alerts"], row["changed_alerts"], row["resolved_alerts"]) == (5, 5, 0, 0)

    # the threshold goes down to 5.5 and history is re-scored
    set_low_score(db, "5.5")
    second = evaluate_alerts(db, trigger=RESCORE)
    e2 = second.evaluation_id
    assert (second.report.new, second.report.changed, second.report.resolved, second.report.holding) == (0, 1, 2, 3)
    after = alerts(db)
    resolved_note = "no longer holds on re-score: rule version 1, low_score 5.5 (was 6.0)"
    for team in ("mid", "edge"):  # 5.8, and 5.5 exactly at the new threshold: neither is below it
        row = after[("LOW_SCORE", team)]
        assert (row["status"], row["still_holds"], row["last_evaluation_id"]) == ("resolved", False, e2)
        assert events(db, row["alert_id"])[-1] == ("open", "resolved", "novora", resolved_note, e2)
        assert len(revisions(db, row["alert_id"])) == 1  # resolving says nothing new about the alert
    low_now = revisions(db, after[("LOW_SCORE", "low")]["alert_id"])
    assert [(r["evaluation_id"], r["threshold"], r["thresholds"]) for r in low_now] == [
        (e1, Decimal("6.0"), {"low_score": "6.0"}), (e2, Decimal("5.5"), {"low_score": "5.5"})]
    assert low_now[-1]["message"] == "Team low: Recognition averages 5.00 in 2026-01, below 5.5"
    assert len(events(db, after[("LOW_SCORE", "low")]["alert_id"])) == 1  # still open: no status change
    for key in (("ENPS_NEG", "neg"), ("NEG_SENT_SPIKE", "sad")):  # untouched by low_score: no revision
        assert [r["evaluation_id"] for r in revisions(db, after[key]["alert_id"])] == [e1]
        assert (after[key]["first_evaluation_id"], after[key]["last_evaluation_id"]) == (e1, e2)
    row = evaluation(db, e2)
    assert (row["trigger"], row["rule_version"], row["sentiment_model"]) == (RESCORE, "1", OLD_MODEL)
    assert (row["current_alerts"], row["new_alerts"], row["changed_alerts"], row["resolved_alerts"]) == (3, 0, 1, 2)
    assert row["settings_sha256"] != evaluation(db, e1)["settings_sha256"]

    # the same re-score again: nothing to write
    before = counts(db)
    third = evaluate_alerts(db, trigger=RESCORE)
    assert (third.report.new, third.report.changed, third.report.resolved, third.report.reopened) == (0, 0, 0, 0)
    assert counts(db) == before
    assert {k: (r["status"], r["metric_value"], r["threshold"]) for k, r in alerts(db).items()} == \
        {k: (r["status"], r["metric_value"], r["threshold"]) for k, r in after.items()}

    # up to 6.5: rise is newly raised with one revision at the new threshold; mid and edge hold again
    set_low_score(db, "6.5")
    fourth = evaluate_alerts(db, trigger="novora rescore: stricter")
    e4 = fourth.evaluation_id
    assert (fourth.report.new, fourth.report.reopened, fourth.report.changed) == (1, 2, 1)
    now = alerts(db)
    rise = now[("LOW_SCORE", "rise")]
    [revision] = revisions(db, rise["alert_id"])
    assert (revision["evaluation_id"], revision["metric_value"], revision["threshold"], revision["thresholds"]) == \
        (e4, Decimal("6.2"), Decimal("6.5"), {"low_score": "6.5"})
    assert (rise["first_evaluation_id"], rise["last_evaluation_id"]) == (e4, e4)
    assert events(db, rise["alert_id"]) == [
        (None, "open", "novora", "raised on re-score: rule version 1, low_score 6.5", e4)]
    for team in ("mid", "edge"):
        row = now[("LOW_SCORE", team)]
        assert events(db, row["alert_id"])[-1] == (
            "resolved", "open", "novora", "holds again on re-score: rule version 1, low_score 6.5 (was 6.0)", e4)
        assert [r["threshold"] for r in revisions(db, row["alert_id"])] == [Decimal("6.0"), Decimal("6.5")]
    assert ("LOW_SCORE", "ok") not in now


def test_a_model_change_revises_comment_alerts_only(db: psycopg.Connection) -> None:
    first = evaluate_alerts(db).evaluation_id
    db.execute("update marts.comments set sentiment_model = %s", (NEW_MODEL,))
    second = evaluate_alerts(db, trigger="novora rescore: new sentiment model")
    assert (second.report.changed, second.sentiment_model) == (1, NEW_MODEL)
    found = alerts(db)
    spike = revisions(db, found[("NEG_SENT_SPIKE", "sad")]["alert_id"])
    assert [(r["evaluation_id"], r["sentiment_model"]) for r in spike] == [(first, OLD_MODEL),
                                                                           (second.evaluation_id, NEW_MODEL)]
    assert all(len(revisions(db, r["alert_id"])) == 1 for k, r in found.items() if k[0] != "NEG_SENT_SPIKE")


def test_a_rule_version_bump_revises_every_alert_and_names_it(db: psycopg.Connection,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    evaluate_alerts(db)
    set_low_score(db, "5.9")  # mid (5.8) still holds; edge 5.5 and low 5.0 too
    monkeypatch.setattr(rules, "RULE_VERSION", "2")
    bumped = evaluate_alerts(db, trigger="novora rescore: rule version 2")
    assert (bumped.report.changed, bumped.report.new, bumped.report.resolved) == (5, 0, 0)
    assert evaluation(db, bumped.evaluation_id)["rule_version"] == "2"
    for row in alerts(db).values():
        latest = revisions(db, row["alert_id"])[-1]
        assert (latest["rule_version"], latest["provenance"]["rule_version"], row["rule_version"]) == ("2", "2", "2")
    set_low_score(db, "5.0")  # mid and edge no longer hold: the note names the new rule version and threshold
    resolved = evaluate_alerts(db, trigger="novora rescore: lower")
    mid = alerts(db)[("LOW_SCORE", "mid")]
    assert events(db, mid["alert_id"])[-1][3] == "no longer holds on re-score: rule version 2, low_score 5.0 (was 5.9)"
    assert resolved.report.resolved == 3  # low (exactly 5.0) as well


def test_upgrading_keeps_the_history_of_alerts_raised_before(warehouse_url: str) -> None:
    """Migration 0009 on a warehouse at version 8 with an alert: the alert points at its evaluations and has one
    revision from its current values."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop schema " + ", ".join(migrate.NOVORA_SCHEMAS) + " cascade")
    migrate.migrate(warehouse_url, migrate.discover()[:8])
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        alert_id = conn.execute(
            """insert into alerts.alerts (dedup_key, alert_type, severity, survey_id, team_id, scope, metric_value,
                   threshold, message, rule_version, provenance, first_seen_at, last_seen_at)
               values ('ENPS_NEG|2026-01|neg|team||', 'ENPS_NEG', 'high', '2026-01', 'neg', 'team', -20, 0,
                   'Team neg: eNPS is -20.0 in 2026-01, below 0', '1',
                   '{"rule_version": "1", "thresholds": {"enps_neg": "0"}}', '2026-01-10', '2026-02-10')
               returning alert_id""").fetchone()[0]
        ids = [conn.execute("insert into alerts.evaluations (evaluated_at, settings_sha256, thresholds, mart_rows, "
                            "current_alerts, new_alerts, resolved_alerts, reopened_alerts, seconds) values "
                            "(%s, 'x', '{}', 1, 1, 0, 0, 0, 0) returning evaluation_id", (at,)).fetchone()[0]
               for at in ("2026-01-10 00:00:01", "2026-02-01", "2026-02-10 00:00:01")]
    assert migrate.migrate(warehouse_url, migrate.discover()[:9]) == [9]
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        assert conn.execute("select first_evaluation_id, last_evaluation_id from alerts.alerts").fetchone() == \
            (ids[0], ids[2])
        [revision] = revisions(conn, alert_id)
        assert (revision["evaluation_id"], revision["rule_version"], revision["thresholds"], revision["threshold"],
                revision["sentiment_model"]) == (ids[2], "1", {"enps_neg": "0"}, Decimal(0), None)
        # the app's role reads revisions (the History tab)
        assert conn.execute("select has_table_privilege('novora_app', 'alerts.alert_revisions', 'select')"
                            ).fetchone()[0]
