"""Alerts against the hand-built landing zone of tests/alerts_fixture.py (issue 5's acceptance).

Real Dagster runs of real dbt fill the marts; the rules, the lifecycle and the notifications run on them, and
notifications go to a real SMTP server (aiosmtpd) and a real HTTP webhook receiver on 127.0.0.1. The expected
alerts and values below were worked out by hand from the fixture's answers (see its docstring).
"""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg.rows import dict_row

from assets.alerts import store
from assets.alerts.delivery import Transports, notify_pending
from assets.alerts.evaluate import alerts_from_suppressed_numbers, evaluate_alerts, settings_changed
from orchestration.config import SmtpConfig, load_config
from orchestration.definitions import build_definitions
from orchestration.receivers import MailCatcher, Receivers, WebhookReceiver
from orchestration.resources import notifier_for, resources_for
from orchestration.runner import materialize_all
from tests.alerts_fixture import (
    ADMIN,
    EXPECTED,
    HIGH,
    INVITED,
    RESPONSES,
    address,
    expected_mail,
    mail_keys,
    manager_of,
    write_alerts_landing,
)
from tests.conftest import materialized_warehouse

pytestmark = pytest.mark.integration



@pytest.fixture(scope="module")
def alerted(pg_home: Path, tmp_path_factory) -> tuple:
    landing = write_alerts_landing(tmp_path_factory.mktemp("alerts") / "landing")
    config, url = materialized_warehouse(pg_home, landing)
    return config, url, landing


@pytest.fixture
def db(alerted):
    with psycopg.connect(alerted[1], autocommit=True) as conn:
        yield conn


@pytest.fixture
def outbox(db):
    """An empty outbox and the default notification settings for a notification test."""
    db.execute("truncate alerts.notification_attempts, alerts.notifications")
    defaults = {"notification_channels": '["email", "webhook"]', "notify.medium_digest": "false",
                "notify.digest_hour_utc": "8", "notify.max_attempts": "6", "notify.retry_base_seconds": "30"}
    for key, value in defaults.items():
        db.execute("update app.settings set value = %s::jsonb where setting_key = %s", (value, key))
    return db


def current(conn) -> dict[tuple, dict]:
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute("select * from alerts.alerts where still_holds order by alert_id").fetchall()
    return {(r["alert_type"], r["survey_id"], r["team_id"], r["driver_id"] or r["theme"]): r for r in rows}


def transports(receivers: Receivers) -> Transports:
    return Transports(SmtpConfig(host="127.0.0.1", port=receivers.smtp.port, sender="novora@test.local"),
                      receivers.webhook.url)


# ------------------------------------------------------------------------------------------- the rules


def test_exactly_the_expected_alerts_fire(db):
    alerts = current(db)
    assert set(alerts) == set(EXPECTED)
    for key, (value, significant) in EXPECTED.items():
        row = alerts[key]
        assert round(row["metric_value"], 6) == round(value, 6), key
        assert row["is_significant"] is significant, key
        assert row["scope"] == "team" and row["status"] == "open", key
        assert row["severity"] == ("high" if key[0] in HIGH else "medium"), key
    assert {key[0] for key in alerts} == {"LOW_SCORE", "BIG_DROP_ABS", "BIG_DROP_REL", "ENPS_NEG",
                                          "LOW_PARTICIPATION", "PARTICIPATION_DROP", "NEG_SENT_SPIKE", "RECURRING"}
    # the boundaries (edge: 6.0, -1.0, eNPS 0, -20 %; calm: 30 %), the small teams and the org raise nothing
    assert not {key[2] for key in alerts} & {"edge", "calm", "tiny", "duo", "ok", "org"}


def test_the_boundaries_are_really_in_the_marts(db):
    """The no-alert cases above are only boundaries if the marts hold exactly these numbers."""
    def one(query, *params):
        return db.execute(query, params).fetchone()

    assert one("select mean_score from marts.driver_scores where (survey_id, team_id, scope, driver_id) = "
               "('2026-02', 'edge', 'team', 'recognition')")[0] == Decimal("6.0")
    assert one("select delta_abs from marts.trends where (survey_id, team_id, scope, driver_id) = "
               "('2026-02', 'edge', 'team', 'growth')")[0] == Decimal("-1.0")
    assert one("select enps from marts.enps where (survey_id, team_id, scope) = ('2026-01', 'edge', 'team')"
               )[0] == 0
    assert one("select participation_change_rel from marts.participation where (survey_id, team_id, scope) = "
               "('2026-02', 'edge', 'team')")[0] == Decimal("-0.2")
    assert one("select negative_share from marts.comment_insights where (survey_id, team_id, scope) = "
               "('2026-01', 'calm', 'team')")[0] == Decimal("0.3")
    # tiny is below min_n: its scores are not published, though they are all 2s
    assert one("select suppressed, mean_score from marts.driver_scores where (survey_id, team_id, scope, "
               "driver_id) = ('2026-01', 'tiny', 'team', 'recognition')") == (True, None)


def test_no_alert_stands_on_a_suppressed_number(db):
    assert alerts_from_suppressed_numbers(db) == []


def test_drop_intervals_match_a_hand_computation(db):
    """95 % interval of the change: delta +- z * sqrt(se_now^2 + se_before^2), se = sample sd / sqrt(n)."""
    z = statistics.NormalDist().inv_cdf(0.975)  # 1.959964
    def se(values):
        return statistics.stdev(values) / math.sqrt(len(values))

    for team, significant in (("drop", True), ("rel", False)):
        before = [r[1] for r in RESPONSES["2026-01"][team]]
        now = [r[1] for r in RESPONSES["2026-02"][team]]
        delta = statistics.mean(now) - statistics.mean(before)
        half = z * math.sqrt(se(now) ** 2 + se(before) ** 2)
        row = current(db)[("BIG_DROP_REL", "2026-02", team, "growth")]
        assert float(row["ci_low"]) == pytest.approx(delta - half, abs=1e-6)
        assert float(row["ci_high"]) == pytest.approx(delta + half, abs=1e-6)
        assert (delta + half < 0) is significant
        assert ("beyond" if significant else "within") in row["message"]
    assert float(current(db)[("BIG_DROP_ABS", "2026-02", "drop", "growth")]["ci_high"]) == pytest.approx(-1.0617387,
                                                                                         abs=1e-6)


def test_provenance_names_rule_version_thresholds_and_mart_rows(db):
    alerts = current(db)
    drop = alerts[("BIG_DROP_ABS", "2026-02", "drop", "growth")]["provenance"]
    assert drop["rule_version"] == "1" and drop["thresholds"]["big_drop_abs"] == "1.0"
    [row] = drop["rows"]
    assert row["mart"] == "marts.trends"
    assert row["key"] == {"survey_id": "2026-02", "team_id": "drop", "scope": "team", "driver_id": "growth"}
    assert Decimal(row["values"]["mean_score"]) == 7 and Decimal(row["values"]["prev_mean_score"]) == Decimal("8.5")
    assert row["values"]["n_respondents"] == 6
    recurring = alerts[("RECURRING", "2026-03", "low", "recognition")]["provenance"]
    assert recurring["surveys"] == ["2026-01", "2026-02", "2026-03"]
    assert recurring["alerts"] == [f"LOW_SCORE|{s}|low|team|recognition|" for s in ("2026-01", "2026-02", "2026-03")]
    spike = alerts[("NEG_SENT_SPIKE", "2026-01", "sad", "workload")]["provenance"]
    assert spike["rows"][0]["values"]["n_comments"] == 5


def test_each_evaluation_is_recorded(db):
    evaluation = db.execute("select current_alerts, mart_rows, thresholds from alerts.evaluations "
                            "order by evaluation_id desc limit 1").fetchone()
    assert evaluation[0] == len(EXPECTED) and evaluation[1] > 0
    assert evaluation[2]["low_score"] == "6.0" and evaluation[2]["min_n"] == 4


# ------------------------------------------------------------------------------------------- notifications


def test_every_alert_reaches_the_right_people_once_despite_a_flaky_webhook(outbox):
    t0 = datetime.now(UTC)
    with Receivers(webhook=WebhookReceiver(fail_first=2, fail_status=500)) as receivers:
        first = notify_pending(outbox, transports(receivers), now=t0)
        assert first.planned == len(expected_mail()) + len(EXPECTED)
        assert (first.delivery.sent, first.delivery.retrying) == (len(expected_mail()), len(EXPECTED))
        # nothing is due before the backoff (30 s, then 60 s) has passed
        for offset, sent, retrying in ((29, 0, 0), (30, 0, 12), (89, 0, 0), (90, 12, 0), (3600, 0, 0)):
            result = notify_pending(outbox, transports(receivers), now=t0 + timedelta(seconds=offset))
            assert (result.planned, result.delivery.sent, result.delivery.retrying) == (0, sent, retrying), offset
        assert receivers.smtp.wait_for(len(expected_mail()), timeout=5)
        mails = receivers.smtp.mails
        posts = receivers.webhook.posts

    assert len(expected_mail()) == 19  # 12 alerts to their managers, the 7 high-severity ones to the admin too
    assert mail_keys(mails) == expected_mail()
    # the webhook saw each message three times (500, 500, 200) and delivered it exactly once
    assert len(posts) == 3 * len(EXPECTED) and len([p for p in posts if p.status == 200]) == len(EXPECTED)
    assert len({p.payload["text"] for p in posts if p.status == 200}) == len(EXPECTED)
    attempts = outbox.execute(
        "select n.notification_id, array_agg(a.outcome order by a.attempt), array_agg(a.attempted_at order by "
        "a.attempt) from alerts.notifications as n join alerts.notification_attempts as a using (notification_id) "
        "where n.channel = 'webhook' group by 1").fetchall()
    assert len(attempts) == len(EXPECTED)
    for _, outcomes, times in attempts:
        assert outcomes == ["transient", "transient", "sent"]
        assert [(b - a).total_seconds() for a, b in zip(times, times[1:])] == [30, 60]
    assert outbox.execute("select count(*) from alerts.notifications where status <> 'sent'").fetchone()[0] == 0


def test_a_mail_names_the_alert_and_its_numbers(outbox):
    with Receivers() as receivers:
        notify_pending(outbox, transports(receivers))
        assert receivers.smtp.wait_for(len(expected_mail()), timeout=5)
        mails = receivers.smtp.mails
        slack = receivers.webhook.posts
    drop = next(m for m in mails if "BIG_DROP_ABS" in m.subject)
    assert drop.subject == "[Novora] MEDIUM BIG_DROP_ABS: Team drop, 2026-02"
    assert drop.recipients == (address(manager_of("drop")),) and drop.sender == "novora@test.local"
    assert "Value: -1.500 (threshold 1.0)" in drop.body and "beyond what chance explains" in drop.body
    assert all(p.payload["text"].startswith("*[Novora] ") for p in slack)


def test_medium_alerts_can_wait_for_the_daily_digest(outbox):
    outbox.execute("update app.settings set value = 'true' where setting_key = 'notify.medium_digest'")
    morning = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    with Receivers() as receivers:
        early = notify_pending(outbox, transports(receivers), now=morning)
        high = [m for m in expected_mail() if " HIGH " in m[1]]
        assert early.delivery.sent == len(high) + len([k for k in EXPECTED if k[0] in HIGH])
        assert notify_pending(outbox, transports(receivers), now=morning + timedelta(minutes=59)).delivery.sent == 0
        digest = notify_pending(outbox, transports(receivers), now=morning + timedelta(hours=1))
        assert receivers.smtp.wait_for(len(high) + 3, timeout=5)
        mails, posts = receivers.smtp.mails, receivers.webhook.posts
    # drop (2 medium alerts), rel (1) and part (2): one digest each; the webhook gets one digest of all 5
    assert digest.delivery.sent == 5 + 5
    digests = {m.recipients[0]: m for m in mails if "daily digest" in m.subject}
    assert set(digests) == {address(manager_of(t)) for t in ("drop", "rel", "part")}
    assert digests[address(manager_of("drop"))].subject == \
        "[Novora] daily digest 2026-12-02: 2 medium-severity alerts"
    assert "BIG_DROP_ABS" in digests[address(manager_of("drop"))].body
    assert "BIG_DROP_REL" in digests[address(manager_of("drop"))].body
    assert digests[address(manager_of("rel"))].subject.endswith(": 1 medium-severity alert")
    assert [p.payload["text"] for p in posts if "daily digest" in p.payload["text"]][0].count("MEDIUM ") == 5


def test_permanent_failures_stay_visible(outbox):
    t0 = datetime.now(UTC)
    with MailCatcher(reject_with="550 5.1.1 mailbox unavailable") as smtp, \
            WebhookReceiver(fail_first=99, fail_status=404) as hook:
        result = notify_pending(outbox, Transports(SmtpConfig(host="127.0.0.1", port=smtp.port), hook.url), now=t0)
        assert result.delivery.failed == result.planned == len(expected_mail()) + len(EXPECTED)
        assert notify_pending(outbox, Transports(SmtpConfig(host="127.0.0.1", port=smtp.port), hook.url),
                              now=t0 + timedelta(days=1)).delivery.sent == 0
        assert len(hook.posts) == len(EXPECTED)  # refused once each, never retried
    errors = dict(outbox.execute("select channel, min(error) from alerts.notifications where status = 'failed' "
                                 "group by channel").fetchall())
    assert errors["email"].endswith("550 5.1.1 mailbox unavailable")
    assert errors["webhook"] == "webhook answered HTTP 404 Not Found"
    assert outbox.execute("select distinct outcome from alerts.notification_attempts").fetchall() == [("permanent",)]


def test_transient_failures_give_up_after_the_attempts_allowed(outbox):
    outbox.execute("update app.settings set value = '2' where setting_key = 'notify.max_attempts'")
    outbox.execute("update app.settings set value = '[\"webhook\"]' where setting_key = 'notification_channels'")
    t0 = datetime.now(UTC)
    with WebhookReceiver(fail_first=99, fail_status=503) as hook:
        notify_pending(outbox, Transports(webhook_url=hook.url), now=t0)
        last = notify_pending(outbox, Transports(webhook_url=hook.url), now=t0 + timedelta(seconds=30))
        assert last.delivery.failed == len(EXPECTED) and len(hook.posts) == 2 * len(EXPECTED)
    [(status, error)] = outbox.execute("select distinct status, error from alerts.notifications").fetchall()
    assert status == "failed" and error == "webhook answered HTTP 503 Service Unavailable (gave up after 2 attempts)"


def test_an_unreachable_server_is_retried_not_lost(outbox):
    outbox.execute("update app.settings set value = '[\"email\"]' where setting_key = 'notification_channels'")
    with MailCatcher() as smtp:
        port = smtp.port
    t0 = datetime.now(UTC)
    down = notify_pending(outbox, Transports(SmtpConfig(host="127.0.0.1", port=port)), now=t0)
    assert down.delivery.retrying == len(expected_mail()) and "unreachable" in down.delivery.errors[-1]
    assert outbox.execute("select count(*) from alerts.notifications where status = 'pending'"
                          ).fetchone()[0] == len(expected_mail())


def test_a_failed_run_tells_the_admins(alerted, outbox):
    """A real failing Dagster run (unusable settings) through the real run-failure sensor."""
    config, url, landing = alerted
    outbox.execute("update app.settings set value = '\"six\"' where setting_key = 'alert.low_score.threshold'")
    try:
        with Receivers() as receivers:
            env = {"NOVORA_HOME": str(config.home), "NOVORA_LANDING": str(landing), **receivers.env()}
            run_config = load_config(env)
            defs = build_definitions(run_config)
            instance = dg.DagsterInstance.ephemeral()
            result = defs.get_job_def("evaluate_alerts").execute_in_process(instance=instance, raise_on_error=False)
            assert not result.success
            sensor = defs.get_sensor_def("run_failure_notifications")
            context = dg.build_run_status_sensor_context(
                sensor_name=sensor.name, dagster_event=result.get_run_failure_event(), dagster_instance=instance,
                dagster_run=result.dagster_run, resources={"warehouse": resources_for(run_config)["warehouse"],
                                                           "notifier": notifier_for(run_config)},
            ).for_run_failure()
            sensor(context)
            sensor(context)  # the same failure seen twice is told once
            assert receivers.smtp.wait_for(1, timeout=5)
            mails, posts = receivers.smtp.mails, receivers.webhook.posts
    finally:
        outbox.execute("update app.settings set value = '6.0' where setting_key = 'alert.low_score.threshold'")
    assert [m.recipients for m in mails] == [(address(ADMIN),)]
    assert mails[0].subject == "[Novora] run failed: evaluate_alerts"
    assert result.dagster_run.run_id in mails[0].body and "alert.low_score" in mails[0].body
    assert len(posts) == 1 and "run failed: evaluate_alerts" in posts[0].payload["text"]


# ------------------------------------------------------------------------------------------- re-evaluation


def test_a_second_pipeline_run_duplicates_nothing_and_mails_nobody_twice(alerted, outbox):
    config, url, landing = alerted
    with Receivers() as receivers:
        notify_pending(outbox, transports(receivers))
        assert receivers.smtp.wait_for(len(expected_mail()), timeout=5)
        before = {key: (row["alert_id"], row["last_seen_at"]) for key, row in current(outbox).items()}
        summary = materialize_all(config, build_definitions(config), echo=lambda m: None)
        assert summary.ok, [(s.name, s.error) for s in summary.steps if not s.ok]
        after = current(outbox)
        again = notify_pending(outbox, transports(receivers))
        assert (again.planned, again.delivery.sent) == (0, 0)
        assert len(receivers.smtp.mails) == len(expected_mail())
    assert {key: row["alert_id"] for key, row in after.items()} == {key: v[0] for key, v in before.items()}
    assert all(after[key]["last_seen_at"] > seen for key, (_, seen) in before.items())
    assert outbox.execute("select count(*) from alerts.alerts").fetchone()[0] == len(EXPECTED)


def test_lifecycle_with_who_when_and_a_note(db):
    alert_id = current(db)[("ENPS_NEG", "2026-01", "neg", None)]["alert_id"]
    store.decide(db, alert_id, "acknowledged", "OK-01", "talking to the team lead")
    store.decide(db, alert_id, "resolved", "OK-01", "action plan agreed")
    with pytest.raises(store.AlertError, match=f"alert {alert_id} is resolved: it cannot become acknowledged"):
        store.decide(db, alert_id, "acknowledged", "OK-01")
    with pytest.raises(store.AlertError, match="needs the name of the person"):
        store.decide(db, alert_id, "open", "  ")
    with pytest.raises(store.AlertError, match="alert 999999 does not exist"):
        store.decide(db, 999999, "acknowledged", "OK-01")
    evaluate_alerts(db)  # still holds, but a person's decision stands
    events = db.execute("select from_status, to_status, actor, note from alerts.alert_events where alert_id = %s "
                        "order by event_id", (alert_id,)).fetchall()
    assert events == [(None, "open", "novora", "raised by rule version 1"),
                      ("open", "acknowledged", "OK-01", "talking to the team lead"),
                      ("acknowledged", "resolved", "OK-01", "action plan agreed")]
    row = current(db)[("ENPS_NEG", "2026-01", "neg", None)]
    assert (row["status"], row["status_changed_by"]) == ("resolved", "OK-01")


def test_a_threshold_change_re_evaluates(db):
    assert settings_changed(db) is None
    rel = ("BIG_DROP_REL", "2026-02", "rel", "growth")
    db.execute("update app.settings set value = 'true' where setting_key = 'alert.drops.require_significance'")
    try:
        assert settings_changed(db) is not None  # the alert_settings sensor requests an evaluation
        report = evaluate_alerts(db).report
        assert report.resolved == 1 and rel not in current(db)
        assert settings_changed(db) is None
        status, = db.execute("select status from alerts.alerts where dedup_key like 'BIG_DROP_REL|2026-02|rel|%'"
                             ).fetchone()
        assert status == "resolved"
    finally:
        db.execute("update app.settings set value = 'false' where setting_key = 'alert.drops.require_significance'")
    assert evaluate_alerts(db).report.reopened == 1 and current(db)[rel]["status"] == "open"


def test_a_corrected_redelivery_resolves_what_no_longer_holds(alerted, db):
    config, url, landing = alerted
    corrected = {survey: dict(teams) for survey, teams in RESPONSES.items()}
    corrected["2026-03"]["low"] = [(7, 8, 8, None)] * INVITED["low"]  # recognition 5 -> 7 in March
    write_alerts_landing(landing, corrected)
    summary = materialize_all(config, build_definitions(config), echo=lambda m: None)
    assert summary.ok, [(s.name, s.error) for s in summary.steps if not s.ok]
    alerts = current(db)
    gone = {("LOW_SCORE", "2026-03", "low", "recognition"), ("RECURRING", "2026-03", "low", "recognition")}
    assert set(alerts) == set(EXPECTED) - gone
    history = db.execute(
        "select a.alert_type, a.status, e.from_status, e.to_status, e.actor, e.note from alerts.alerts as a "
        "join alerts.alert_events as e using (alert_id) where a.survey_id = '2026-03' and a.team_id = 'low' "
        "order by a.alert_type, e.event_id").fetchall()
    for alert_type in ("LOW_SCORE", "RECURRING"):
        events = [h for h in history if h[0] == alert_type]
        assert [(e[2], e[3], e[4]) for e in events] == [(None, "open", "novora"), ("open", "resolved", "novora")]
        assert events[-1][1] == "resolved" and "no longer holds" in events[-1][5]
    assert db.execute("select count(*) from alerts.alerts where survey_id = '2026-03' and team_id = 'low'"
                      ).fetchone()[0] == 2  # kept, not deleted
