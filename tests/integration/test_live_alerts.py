"""With the daemon running, a survey folder dropped into the landing zone leads to alerts and emails without
anyone clicking (issue 5's acceptance). Everything is real: dagster-daemon with its sensors and the runs it
launches, dbt, the embedded PostgreSQL (a server of this test's own, so that no other test's Dagster history
or sensor cursors are in its storage), an SMTP server and a webhook receiver on 127.0.0.1.

The landing zone is tests/alerts_fixture.py's. January and February are loaded first as an operator would
(`novora materialize`); the daemon then sends their alerts, and March is dropped in while it runs. March
raises exactly two new alerts for team ``low``: LOW_SCORE (recognition 5.0, a third time) and RECURRING.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from orchestration import database
from orchestration.config import load_config
from orchestration.definitions import build_definitions
from orchestration.live import follow, land, running_daemon, runs_in_flight, survey_mails, wait_until_sensors_ticked
from orchestration.receivers import Receivers
from orchestration.runner import materialize_all
from tests.alerts_fixture import EXPECTED, expected_mail, mail_keys, write_alerts_landing

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def live_home():
    home = Path(tempfile.mkdtemp(prefix="novora-live-"))  # not under pytest's basetemp: see tests/conftest.py
    yield home
    database.stop_server(load_config({"NOVORA_HOME": str(home)}))
    shutil.rmtree(home, ignore_errors=True)


def tail(log: Path, n: int = 4000) -> str:
    return log.read_text(errors="replace")[-n:] if log.exists() else "(no daemon log)"


@pytest.mark.timeout(1800)  # a first materialisation, then real sensor intervals: about 8-10 minutes here
def test_a_dropped_survey_reaches_its_managers_without_a_click(live_home):
    landing = write_alerts_landing(live_home / "landing")
    staged = live_home / "incoming" / "2026-03"
    staged.parent.mkdir()
    os.replace(landing / "surveys" / "2026-03", staged)
    config = load_config({"NOVORA_HOME": str(live_home), "NOVORA_LANDING": str(landing)})
    summary = materialize_all(config, build_definitions(config), echo=lambda m: None)
    assert summary.ok, [(s.name, s.error, s.failed_checks) for s in summary.steps if not s.ok]
    url = database.ensure_server(config)
    backlog = expected_mail({"2026-01", "2026-02"})

    with Receivers() as receivers, running_daemon(config, receivers) as log:
        # the alerts already raised go out on the notification sensor's first tick, nobody asks for them
        assert receivers.smtp.wait_for(len(backlog), timeout=300), tail(log)
        wait_until_sensors_ticked(config, ("landing_sensor", "warehouse_automation"), timeout=120)
        landed_at = land(staged, landing)
        latency = follow(config, url, "2026-03", landed_at, receivers, timeout=900)
        # follow() returns once no run has been in flight for two automation ticks: the pipeline is at rest
        assert latency.all_notified is not None, (latency, tail(log))
        assert runs_in_flight(config) == 0, tail(log)
        time.sleep(35)  # one more notification tick: nothing more is sent
        mails, posts = list(receivers.smtp.mails), list(receivers.webhook.posts)

    march = expected_mail({"2026-03"})
    assert len(march) == 4  # LOW_SCORE and RECURRING, each to low's manager and the admin
    assert mail_keys(survey_mails(mails, "2026-03")) == march
    assert mail_keys(mails) == sorted(backlog + march)  # each exactly once
    assert len([p for p in posts if p.status == 200]) == len(EXPECTED)  # one webhook message per alert
    # the milestones came in pipeline order; March has no comments, so its first mail follows its marts
    stages = [latency.ingested, latency.survey_models, latency.marts, latency.alerts, latency.notified,
              latency.all_notified]
    assert all(s is not None for s in stages) and stages == sorted(stages), latency
    assert latency.first_email is not None and latency.marts < latency.first_email <= latency.all_notified + 1
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from alerts.alerts").fetchone()[0] == len(EXPECTED)
        assert conn.execute("select count(*), count(distinct (alert_id, channel, recipient)) "
                            "from alerts.notifications where status = 'sent'").fetchone() == \
            (len(backlog) + len(march) + len(EXPECTED),) * 2
