"""The cadences and the stale-data alerts against a real materialised warehouse and a real Dagster instance.

One module warehouse of its own (own NOVORA_HOME, so its Dagster history holds only these runs): the landing zone
of tests/landing_fixture.py after one `materialize_all` (survey 2026-01 is open 2026-01-05 09:00 to 2026-01-16
17:00 UTC). The schedules and sensors are the code location's own, evaluated with Dagster's contexts; e-mail goes
to a real SMTP server on 127.0.0.1.
"""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from orchestration import cadences, database
from orchestration import health as oh
from orchestration.config import load_config
from orchestration.receivers import MailCatcher
from orchestration.resources import resources_for
from tests.landing_fixture import write_landing

pytestmark = pytest.mark.integration

SURVEY = "2026-01"
INSIDE = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
CLOSING = datetime(2026, 1, 16, 17, 0, tzinfo=UTC)  # closed_at: closed from this instant
SCORES = dg.AssetKey(["intermediate", "int_group_scores"])
READ_SCORES = ["marts/driver_scores", "marts/engagement", "marts/enps", "marts/trends"]


@pytest.fixture(scope="module")
def env() -> Iterator[dict]:
    """A warehouse holding the materialised fixture, with its own Dagster instance; a real SMTP server."""
    from orchestration.definitions import build_definitions
    from orchestration.runner import materialize_all

    saved = dict(os.environ)
    root = Path(tempfile.mkdtemp(prefix="novora-cadences-"))
    try:
        with MailCatcher() as smtp:
            os.environ.update({"NOVORA_HOME": str(root / "home"), "NOVORA_LANDING": str(write_landing(root / "l")),
                               "NOVORA_SMTP_HOST": "127.0.0.1", "NOVORA_SMTP_PORT": str(smtp.port),
                               "NOVORA_SMTP_FROM": "novora@test.local", "NOVORA_DAGSTER_URL": "http://dagster.test"})
            for name in ("NOVORA_DATABASE_URL", "NOVORA_APP_DATABASE_URL", "NOVORA_DAGSTER_DATABASE_URL",
                         "NOVORA_WEBHOOK_URL"):
                os.environ.pop(name, None)
            config = load_config()
            definitions = build_definitions(config)
            summary = materialize_all(config, definitions, echo=lambda message: None)
            assert summary.ok, [(s.name, s.error, s.failed_checks) for s in summary.steps if not s.ok]
            yield {"config": config, "instance": oh.open_instance(config), "smtp": smtp,
                   "repo": definitions.get_repository_def(), "resources": resources_for(config)}
    finally:
        database.stop_server(load_config())
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


def tick(env: dict, name: str, at: datetime):
    schedule = env["repo"].get_schedule_def(name)
    context = dg.build_schedule_context(instance=env["instance"], scheduled_execution_time=at,
                                        repository_def=env["repo"],
                                        resources={"warehouse": env["resources"]["warehouse"]})
    return schedule(context)


def test_participation_counters_run_for_the_open_survey_only_when_behind(env):
    name = "participation_counters_every_5_min"
    outside = tick(env, name, CLOSING)
    assert isinstance(outside, dg.SkipReason)
    assert outside.skip_message == "no survey is open at 2026-01-16 17:00 UTC"

    level = tick(env, name, INSIDE)  # the materialised warehouse: nothing behind what it reads
    assert isinstance(level, dg.SkipReason) and "nothing behind what it reads" in level.skip_message
    assert "open surveys: 2026-01" in level.skip_message

    # a late re-delivery of the survey's responses
    env["instance"].report_runless_asset_event(dg.AssetMaterialization(asset_key=["raw", "responses"],
                                                                       partition=SURVEY))
    requests = tick(env, name, INSIDE)
    assert [r.partition_key for r in requests] == [SURVEY]
    assert {k.to_user_string() for k in requests[0].asset_selection} == {
        "staging/stg_raw__responses", "intermediate/int_team_participation", "intermediate/int_group_participation",
        "intermediate/int_group_survey_sequence", "marts/participation", "marts/surveys"}
    assert requests[0].tags["novora/trigger"] == name
    assert isinstance(tick(env, name, CLOSING), dg.SkipReason)  # closed: not looked at however far behind

    # while a landing run is waiting to start, the cadence waits for it
    run = env["instance"].add_run(dg.DagsterRun(job_name="land_survey", status=dg.DagsterRunStatus.NOT_STARTED))
    try:
        busy = tick(env, name, INSIDE)
        assert isinstance(busy, dg.SkipReason) and "landing run" in busy.skip_message
    finally:
        env["instance"].delete_run(run.run_id)


def test_trends_and_alerts_rebuild_what_is_behind_without_an_open_survey(env):
    name = "trends_alerts_and_report_caches_every_15_min"
    level = tick(env, name, CLOSING)
    assert isinstance(level, dg.SkipReason) and "no survey open" in level.skip_message
    env["instance"].report_runless_asset_event(dg.AssetMaterialization(asset_key=["marts", "engagement"]))
    requests = tick(env, name, CLOSING)
    assert [(r.partition_key, [k.to_user_string() for k in r.asset_selection]) for r in requests] == [
        (None, ["alerts/alerts"])]
    # its previous run failed after that change: it waits for a new one instead of failing every tick
    failed = env["instance"].add_run(dg.DagsterRun(job_name="refresh_trends_alerts_and_report_caches",
                                                   status=dg.DagsterRunStatus.FAILURE))
    try:
        waiting = tick(env, name, CLOSING)
        assert isinstance(waiting, dg.SkipReason) and "run failed and nothing changed since" in waiting.skip_message
        env["instance"].report_runless_asset_event(dg.AssetMaterialization(asset_key=["marts", "engagement"]))
        assert [r.asset_selection for r in tick(env, name, CLOSING)] == [[dg.AssetKey(["alerts", "alerts"])]]
    finally:
        env["instance"].delete_run(failed.run_id)
    env["instance"].report_runless_asset_event(dg.AssetMaterialization(asset_key=["alerts", "alerts"]))


def evaluate(sensor: dg.SensorDefinition, env: dict, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=env["instance"], cursor=cursor, repository_def=env["repo"],
                                      resources={"warehouse": env["resources"]["warehouse"],
                                                 "notifier": env["resources"]["notifier"]})
    return sensor(context)


def changed_now(env: dict, key: dg.AssetKey) -> datetime:
    env["instance"].report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
    return oh.utc(env["instance"].get_latest_materialization_event(key).timestamp)


def audit(env: dict) -> list[tuple[str, str]]:
    with psycopg.connect(env["resources"]["warehouse"].url()) as conn:
        return conn.execute("select action, subject from app.audit_log where action like 'stale_data_%' "
                            "order by audit_id").fetchall()


def test_stale_marts_reach_the_admins_once_per_episode(env):
    smtp, clock = env["smtp"], {}
    with psycopg.connect(env["resources"]["warehouse"].url()) as conn:
        admins = {r[0] for r in conn.execute("select email from raw.employees where dashboard_role = 'admin' "
                                             "and is_active and coalesce(email, '') <> ''")}
    assert admins
    # the code location's own sensor at the real time: every mart fresh (the earlier tests levelled them)
    real = env["repo"].get_sensor_def("stale_data_alerts")
    first = evaluate(real, env, None)
    assert first.skip_reason.skip_message == "10 marts fresh or catching up"
    assert {e.asset_key.to_user_string() for e in first.asset_events} >= set(READ_SCORES)
    assert all(e.passed for e in first.asset_events)

    changed = changed_now(env, SCORES)
    sensor = cadences.build_stale_data_alerts(clock=lambda: clock["now"])
    clock["now"] = changed + oh.CATCH_UP_GRACE  # exactly at the grace: catching up, nobody told
    at_grace = evaluate(sensor, env, first.cursor)
    assert at_grace.asset_events == [] and smtp.mails == []

    clock["now"] = changed + oh.CATCH_UP_GRACE + timedelta(seconds=1)
    stale = evaluate(sensor, env, at_grace.cursor)
    assert smtp.wait_for(len(admins), timeout=10)
    assert {m.recipients[0] for m in smtp.mails} == admins
    mail = smtp.mails[0]
    assert mail.subject == "[Novora] stale data: 4 marts behind what they read"
    assert all(f"- {mart} is behind intermediate/int_group_scores, materialised 30 min ago" in mail.body
               for mart in READ_SCORES)
    assert sorted((e.asset_key.to_user_string(), e.passed) for e in stale.asset_events) == [
        (m, False) for m in READ_SCORES]
    assert sorted(json.loads(stale.cursor)["open"]) == READ_SCORES
    with psycopg.connect(env["resources"]["warehouse"].url()) as conn:
        planned = conn.execute("select run_id, stale_episode, recipient from alerts.notifications "
                               "where stale_episode is not null").fetchall()
    assert len(planned) == len(admins) and all(r[0] is None for r in planned)  # one per admin, by employee id
    assert len({r[1] for r in planned}) == 1 and planned[0][1].startswith("stale-data:")

    later = evaluate(sensor, env, stale.cursor)  # still stale: same episode, no message, no check event
    replay = evaluate(sensor, env, at_grace.cursor)  # the same tick again (cursor lost): the row key holds
    assert later.asset_events == [] and "admins already told" in later.skip_reason.skip_message
    assert "0 notifications planned" in replay.skip_reason.skip_message
    assert not smtp.wait_for(len(admins) + 1, timeout=1) and len(smtp.mails) == len(admins)
    assert audit(env) == [("stale_data_detected", m) for m in READ_SCORES]

    for mart in READ_SCORES:  # rebuilt: the episode ends
        changed_now(env, dg.AssetKey.from_user_string(mart))
    fresh = evaluate(sensor, env, later.cursor)
    assert json.loads(fresh.cursor)["open"] == {} and all(e.passed for e in fresh.asset_events)
    assert audit(env)[-4:] == [("stale_data_recovered", m) for m in READ_SCORES]

    again = changed_now(env, SCORES)  # stale anew: a new episode, a new message
    clock["now"] = again + oh.CATCH_UP_GRACE + timedelta(seconds=1)
    evaluate(sensor, env, fresh.cursor)
    assert smtp.wait_for(2 * len(admins), timeout=10) and len(smtp.mails) == 2 * len(admins)
