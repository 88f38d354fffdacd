"""Upgrades of a warehouse that already holds data: each migration applied over the previous versions' rows."""

import psycopg
import pytest

from orchestration import migrate

pytestmark = pytest.mark.integration


def at_version(url: str, version: int) -> None:
    """The warehouse emptied and migrated up to ``version`` only, as an older Novora left it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists " + ", ".join(migrate.NOVORA_SCHEMAS) + " cascade")
    migrate.migrate(url, [m for m in migrate.discover() if m.version <= version])


def test_stale_data_messages_move_to_their_own_column_and_stay_sent_once(warehouse_url):
    at_version(warehouse_url, 9)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for run_id, recipient in (("stale-data:0123456789abcdef", "ada@acme.example"),
                                  ("stale-data:0123456789abcdef", "webhook"),
                                  ("8d3f0c1e-run", "ada@acme.example")):
            conn.execute("insert into alerts.notifications (run_id, channel, recipient, subject, body) "
                         "values (%s, %s, %s, 's', 'b')",
                         (run_id, "webhook" if recipient == "webhook" else "email", recipient))
    assert migrate.migrate(warehouse_url) == [m.version for m in migrate.discover() if m.version > 9]

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        rows = conn.execute("select run_id, stale_episode, recipient from alerts.notifications "
                            "order by notification_id").fetchall()
        assert rows == [(None, "stale-data:0123456789abcdef", "ada@acme.example"),
                        (None, "stale-data:0123456789abcdef", "webhook"),
                        ("8d3f0c1e-run", None, "ada@acme.example")]
        # once per episode, channel and recipient; and a row is about exactly one thing
        duplicate = conn.execute("insert into alerts.notifications (stale_episode, channel, recipient, subject, body) "
                                 "values ('stale-data:0123456789abcdef', 'email', 'ada@acme.example', 's', 'b') "
                                 "on conflict do nothing")
        assert duplicate.rowcount == 0
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("insert into alerts.notifications (run_id, stale_episode, channel, recipient, subject, "
                         "body) values ('r', 'stale-data:x', 'email', 'a@b.example', 's', 'b')")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("insert into alerts.notifications (channel, recipient, subject, body) "
                         "values ('email', 'a@b.example', 's', 'b')")
