"""Ingestion against the real embedded PostgreSQL, on the hand-checked landing zone of tests/landing_fixture.py."""

import json
import shutil

import pytest

from assets.ingestion import ingest, load
from tests.landing_fixture import EXPECTED_RESPONSE_REJECTIONS

pytestmark = pytest.mark.integration


def load_everything(conn, landing):
    teams, employees = ingest.ingest_org(conn, landing)
    survey = ingest.ingest_survey_definition(conn, landing, "2026-01")
    invitations = ingest.ingest_invitations(conn, landing, "2026-01")
    responses = ingest.ingest_responses(conn, landing, "2026-01")
    return teams, employees, survey, invitations, responses


def counts(conn) -> dict[str, int]:
    tables = ["raw.teams", "raw.employees", "raw.surveys", "raw.questions", "raw.invitations", "raw.responses",
              "quarantine.rejected_rows"]
    return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def test_every_valid_row_loads_and_every_bad_row_is_quarantined_with_its_reasons(conn, fixture_landing):
    teams, employees, survey, invitations, responses = load_everything(conn, fixture_landing)
    assert (teams.rows_loaded, teams.rows_rejected) == (3, 1)
    assert (employees.rows_loaded, employees.rows_rejected) == (8, 3)
    assert (survey.rows_loaded, survey.rows_rejected) == (4, 1)
    assert (invitations.rows_loaded, invitations.rows_rejected) == (7, 3)
    assert (responses.rows_delivered, responses.rows_loaded, responses.rows_rejected) == (24, 11, 13)

    rejected = dict(conn.execute(
        "select line_number, reasons from quarantine.rejected_rows where dataset = 'responses'"
        " and survey_id = '2026-01'").fetchall())
    assert {line: reasons[0] for line, reasons in rejected.items()} == EXPECTED_RESPONSE_REJECTIONS
    assert all(len(reasons) == 1 for reasons in rejected.values())

    employee_reasons = dict(conn.execute(
        "select line_number, reasons from quarantine.rejected_rows where dataset = 'employees'").fetchall())
    assert employee_reasons[12] == [
        "unparseable email",
        "unknown dashboard_role (expected admin, manager, viewer or blank)",
        "unparseable active (expected true or false)",
    ]
    assert employee_reasons[10] == ["duplicate employee_id (an earlier row has the same)"]
    raw_record = conn.execute(
        "select raw_record from quarantine.rejected_rows where dataset = 'employees' and line_number = 11"
    ).fetchone()[0]
    assert raw_record["employee_id"] == "E009" and raw_record["team_id"] == "xyz"
    assert conn.execute("select reasons from quarantine.rejected_rows where dataset = 'teams'").fetchone()[0] == [
        "unknown manager_employee_id (not in employees.csv)"]


def test_loaded_values_are_typed_and_traceable_to_their_line(conn, fixture_landing):
    load_everything(conn, fixture_landing)
    rows = conn.execute(
        "select response_id, question_id, score, comment, source_line, submitted_at at time zone 'UTC'"
        " from raw.responses order by source_line").fetchall()
    assert [r[4] for r in rows] == [2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13]
    assert rows[3][:4] == ("r1", "open_1", None, "More pairing, please.\nAnd fewer meetings.")
    assert rows[4][2] == 10 and str(rows[4][5]) == "2026-01-06 10:00:00"  # 11:00+01:00 is 10:00 UTC
    assert rows[0][3] is None  # a blank comment is NULL, not ''
    scores = conn.execute("select sum(score), count(score) from raw.responses").fetchone()
    assert scores == (8 + 6 + 9 + 10 + 7 + 6 + 1 + 10 + 0, 9)
    employee = conn.execute("select is_active, dashboard_role from raw.employees where employee_id = 'E006'").fetchone()
    assert employee == (True, "viewer")  # "TRUE" is accepted case-insensitively
    assert conn.execute("select driver_id from raw.questions where question_id = 'gro_1'").fetchone() == ("growth",)


def test_loaded_plus_rejected_equals_delivered_in_the_ledger(conn, fixture_landing):
    load_everything(conn, fixture_landing)
    for dataset, delivered, loaded, rejected in conn.execute(
        "select dataset, rows_delivered, rows_loaded, rows_rejected from raw.deliveries where is_current"
    ):
        quarantined = conn.execute(
            "select count(*) from quarantine.rejected_rows where dataset = %s", (dataset,)).fetchone()[0]
        assert loaded + rejected == delivered and rejected == quarantined, dataset


def test_identical_redelivery_changes_nothing(conn, fixture_landing):
    load_everything(conn, fixture_landing)
    before = counts(conn)
    ledger_before = conn.execute("select count(*) from raw.deliveries").fetchone()[0]
    reports = load_everything(conn, fixture_landing)
    assert [r.status for r in reports] == ["unchanged"] * 5
    assert counts(conn) == before
    assert conn.execute("select count(*) from raw.deliveries").fetchone()[0] == ledger_before
    assert reports[-1].rows_loaded == 11 and reports[-1].rows_rejected == 13


def add_second_survey(landing):
    src, dst = landing / "surveys" / "2026-01", landing / "surveys" / "2026-02"
    shutil.copytree(src, dst)
    survey = json.loads((dst / "survey.json").read_text())
    survey.update(survey_id="2026-02", title="February pulse", opened_at="2026-02-02T09:00:00Z",
                  closed_at="2026-02-13T17:00:00Z")
    (dst / "survey.json").write_text(json.dumps(survey))
    for name in ("invitations.csv", "responses.csv"):
        path = dst / name
        path.write_text(path.read_text().replace("2026-01,", "2026-02,").replace(",2026-02,ops,yesterday", ",x"))
    return dst


def test_a_corrected_redelivery_replaces_that_survey_only(conn, fixture_landing):
    second = add_second_survey(fixture_landing)
    load_everything(conn, fixture_landing)
    ingest.ingest_survey_definition(conn, fixture_landing, "2026-02")
    ingest.ingest_responses(conn, fixture_landing, "2026-02")
    january = conn.execute("select count(*) from raw.responses where survey_id = '2026-01'").fetchone()[0]
    january_quarantine = conn.execute(
        "select count(*) from quarantine.rejected_rows where survey_id = '2026-01'").fetchone()[0]

    (second / "responses.csv").write_text(
        "response_id,survey_id,team_id,submitted_at,question_id,score,comment\n"
        "f1,2026-02,eng,2026-02-03T10:00:00Z,rec_1,9,\n"
        "f1,2026-02,eng,2026-02-03T10:00:00Z,enps,10,\n"
    )
    report = ingest.ingest_responses(conn, fixture_landing, "2026-02")
    assert (report.status, report.rows_loaded, report.rows_rejected) == ("loaded", 2, 0)
    assert conn.execute("select count(*) from raw.responses where survey_id = '2026-02'").fetchone()[0] == 2
    assert conn.execute(
        "select count(*) from quarantine.rejected_rows where survey_id = '2026-02' and dataset = 'responses'"
    ).fetchone()[0] == 0
    assert conn.execute("select count(*) from raw.responses where survey_id = '2026-01'").fetchone()[0] == january
    assert conn.execute(
        "select count(*) from quarantine.rejected_rows where survey_id = '2026-01'").fetchone()[0] == january_quarantine


def test_an_unreadable_redelivery_is_rejected_whole_and_keeps_the_last_good_data(conn, fixture_landing):
    load_everything(conn, fixture_landing)
    path = fixture_landing / "surveys" / "2026-01" / "responses.csv"
    path.write_bytes(b"response_id;survey_id;team_id\nr1;2026-01;eng\n")
    report = ingest.ingest_responses(conn, fixture_landing, "2026-01")
    assert report.status == "file_rejected"
    assert report.file_error.startswith("responses.csv has the wrong header (missing response_id")
    assert conn.execute("select count(*) from raw.responses").fetchone()[0] == 11
    reasons = conn.execute(
        "select line_number, reasons from quarantine.rejected_rows where dataset = 'responses'").fetchall()
    assert len(reasons) == 1 and reasons[0][0] is None and reasons[0][1] == [report.file_error]
    rejected_delivery = conn.execute(
        "select is_current, is_file_rejected from raw.deliveries where dataset = 'responses'"
        " order by delivery_id desc limit 1").fetchone()
    assert rejected_delivery == (False, True)

    path.write_bytes(b"response_id,survey_id,team_id,submitted_at,question_id,score,comment\n\xff\xfe\n")
    assert "is not UTF-8" in ingest.ingest_responses(conn, fixture_landing, "2026-01").file_error


def test_a_failed_load_leaves_the_previous_delivery_in_place(conn, fixture_landing, monkeypatch):
    load_everything(conn, fixture_landing)
    path = fixture_landing / "surveys" / "2026-01" / "responses.csv"
    path.write_text(path.read_text().replace("r2,2026-01,eng,2026-01-06T11:00:00+01:00,rec_1,10,",
                                             "r2,2026-01,eng,2026-01-06T11:00:00+01:00,rec_1,9,"))

    def broken_copy(*args, **kwargs):
        raise OSError("disk full while copying")

    monkeypatch.setattr(load, "copy_frame", broken_copy)
    with pytest.raises(OSError, match="disk full"):
        ingest.ingest_responses(conn, fixture_landing, "2026-01")
    assert conn.execute("select score from raw.responses where response_id = 'r2' and question_id = 'rec_1'"
                        ).fetchone() == (10,)
    assert conn.execute("select count(*) from raw.responses").fetchone()[0] == 11
    assert conn.execute("select count(*) from raw.deliveries where dataset = 'responses'").fetchone()[0] == 1
    monkeypatch.undo()
    assert ingest.ingest_responses(conn, fixture_landing, "2026-01").status == "loaded"
    assert conn.execute("select score from raw.responses where response_id = 'r2' and question_id = 'rec_1'"
                        ).fetchone() == (9,)


def test_survey_json_that_names_another_survey_is_rejected_whole(conn, fixture_landing):
    ingest.ingest_org(conn, fixture_landing)
    path = fixture_landing / "surveys" / "2026-01" / "survey.json"
    data = json.loads(path.read_text())
    data["survey_id"] = "2025-12"
    path.write_text(json.dumps(data))
    report = ingest.ingest_survey_definition(conn, fixture_landing, "2026-01")
    assert report.status == "file_rejected"
    assert report.file_error == "survey.json: survey_id '2025-12' does not match the folder '2026-01'"
    with pytest.raises(ingest.MissingReferenceData, match="2026-01 has no loaded questions"):
        ingest.ingest_responses(conn, fixture_landing, "2026-01")


def test_a_new_org_version_revalidates_survey_rows(conn, fixture_landing):
    load_everything(conn, fixture_landing)
    teams = fixture_landing / "org" / "teams.csv"
    teams.write_text(teams.read_text() + "nowhere,Nowhere team,org,E003\n")
    ingest.ingest_org(conn, fixture_landing)
    report = ingest.ingest_responses(conn, fixture_landing, "2026-01")
    assert report.status == "loaded" and (report.rows_loaded, report.rows_rejected) == (12, 12)


def test_copy_frame_writes_nulls_and_empty_strings_apart(conn):
    import pandas as pd

    conn.execute("create temporary table t (a text, b text)")
    frame = pd.DataFrame({"a": ["x", None, "", 'q"uote,comma\nline'], "b": ["1", "2", "3", None]})
    assert load.copy_frame(conn, "t", frame, ["a", "b"]) == 4
    assert conn.execute("select a, b from t order by b nulls last").fetchall() == [
        ("x", "1"), (None, "2"), ("", "3"), ('q"uote,comma\nline', None)]


def test_each_survey_is_its_own_partition_and_redelivery_swaps_it(conn, fixture_landing):
    load_everything(conn, fixture_landing)
    add_second_survey(fixture_landing)
    ingest.ingest_survey_definition(conn, fixture_landing, "2026-02")
    ingest.ingest_responses(conn, fixture_landing, "2026-02")
    partitions = conn.execute(
        "select c.relname, pg_get_expr(c.relpartbound, c.oid) from pg_inherits i"
        " join pg_class c on c.oid = i.inhrelid where i.inhparent = 'raw.responses'::regclass order by 1").fetchall()
    assert sorted(bound for _, bound in partitions) == ["FOR VALUES IN ('2026-01')", "FOR VALUES IN ('2026-02')"]
    assert {name for name, _ in partitions} == {load.partition_name("2026-01"), load.partition_name("2026-02")}
    path = fixture_landing / "surveys" / "2026-02" / "responses.csv"
    path.write_text(path.read_text().replace(",rec_1,8,", ",rec_1,7,"))
    assert ingest.ingest_responses(conn, fixture_landing, "2026-02").status == "loaded"
    assert len(conn.execute("select 1 from pg_inherits where inhparent = 'raw.responses'::regclass").fetchall()) == 2
    assert conn.execute("select score from raw.responses where survey_id = '2026-02' and response_id = 'r1'"
                        " and question_id = 'rec_1'").fetchone() == (7,)
    assert conn.execute("select score from raw.responses where survey_id = '2026-01' and response_id = 'r1'"
                        " and question_id = 'rec_1'").fetchone() == (8,)
