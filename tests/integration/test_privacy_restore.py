"""An archive written before a privacy erasure must not bring the person back on restore: restore bypasses
ingestion, so ``erase_restored`` pseudonymises the restored rows in the restore's transaction. Real PostgreSQL,
hand-written rows (an empty migrated warehouse)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from assets.access.privacy import erase_restored, keyed_hash

pytestmark = pytest.mark.integration

SECRET = bytes(range(32))
ERASED, KEPT, PSEUDONYM = "E900", "E901", "erased-0123456789ab"


def seed(conn: psycopg.Connection, erased: bool = True) -> None:
    [(delivery,)] = conn.execute(
        """insert into raw.deliveries (dataset, survey_id, file_path, fingerprint, rows_delivered, rows_loaded,
                                       rows_rejected)
           values ('invitations', '2024-01', 'surveys/2024-01/invitations.csv', 'fp', 3, 2, 1)
           returning delivery_id""").fetchall()
    for employee, line in ((ERASED, 2), (KEPT, 3)):
        conn.execute("""insert into raw.invitations (survey_id, employee_id, team_id, invited_at, source_line,
                                                     delivery_id)
                        values ('2024-01', %s, 'ops', '2024-01-02T09:00:00Z', %s, %s)""", (employee, line, delivery))
    conn.execute("""insert into quarantine.rejected_rows (delivery_id, dataset, survey_id, file_path, line_number,
                                                          raw_record, reasons)
                    values (%s, 'invitations', '2024-01', 'surveys/2024-01/invitations.csv', 4, %s,
                            array['duplicate (survey_id, employee_id)'])""",
                 (delivery, Jsonb({"survey_id": "2024-01", "employee_id": f" {ERASED} ", "team_id": "ops"})))
    if erased:
        conn.execute("insert into app.privacy_key (secret) values (%s)", (SECRET,))
        conn.execute("""insert into app.privacy_erasures (employee_id_hmac, pseudonym, erased_by)
                        values (%s, %s, 'test')""", (keyed_hash(SECRET, ERASED), PSEUDONYM))


def test_restored_rows_of_an_erased_person_are_pseudonymised(conn: psycopg.Connection) -> None:
    seed(conn)
    with conn.transaction():
        assert erase_restored(conn, "2024-01") == 2  # one invitation, one quarantined record
    invitees = [r[0] for r in conn.execute("select employee_id from raw.invitations order by source_line")]
    assert invitees == [PSEUDONYM, KEPT]
    [(record,)] = conn.execute("select raw_record from quarantine.rejected_rows").fetchall()
    assert record["employee_id"] == PSEUDONYM and record["team_id"] == "ops"
    assert erase_restored(conn, "2024-01") == 0  # nothing left to change


def test_nobody_erased_changes_nothing(conn: psycopg.Connection) -> None:
    seed(conn, erased=False)
    assert erase_restored(conn, "2024-01") == 0
    assert [r[0] for r in conn.execute("select employee_id from raw.invitations order by 1")] == [ERASED, KEPT]
