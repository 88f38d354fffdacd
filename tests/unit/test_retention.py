"""Retention's pure rules: the period's cutoff at its edges, which surveys are due, and the archive's manifest
(every file's sha256, rows and columns) catching a damaged or altered archive before anything is restored."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assets.ingestion.retention import (
    LANDING_ARCHIVE,
    MANIFEST,
    RetentionError,
    SurveyAge,
    arrow_schema,
    decoded_rows,
    due_for_archive,
    is_older,
    manifest_document,
    months_before,
    pack_landing,
    read_manifest,
    retention_months,
    sha256_file,
    table_entry,
    unpack_landing,
    verify_archive,
    write_json,
)

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


# ---------------------------------------------------------------- the period


@pytest.mark.parametrize(("moment", "months", "expected"), [
    (datetime(2026, 12, 3, 15, 0, tzinfo=UTC), 24, datetime(2024, 12, 3, 15, 0, tzinfo=UTC)),
    (datetime(2026, 3, 31, 8, 30, tzinfo=UTC), 1, datetime(2026, 2, 28, 8, 30, tzinfo=UTC)),  # day clamped
    (datetime(2028, 3, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),  # leap year
    (datetime(2026, 1, 15, tzinfo=UTC), 1, datetime(2025, 12, 15, tzinfo=UTC)),  # across the year
    (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
    (datetime(2026, 5, 15, tzinfo=UTC), 0, datetime(2026, 5, 15, tzinfo=UTC)),
])
def test_months_before_counts_calendar_months(moment, months, expected):
    assert months_before(moment, months) == expected


def test_a_survey_exactly_at_the_edge_is_kept_and_one_a_microsecond_older_is_archived():
    cutoff = months_before(NOW, 24)
    assert not is_older(cutoff, cutoff)
    assert is_older(cutoff - timedelta(microseconds=1), cutoff)
    assert not is_older(cutoff + timedelta(microseconds=1), cutoff)
    assert not is_older(None, cutoff)  # still open: never archived by age


def test_due_for_archive_by_age_and_by_name_oldest_first():
    cutoff = months_before(NOW, 24)
    at_edge = SurveyAge("2024-12", cutoff - timedelta(days=10), cutoff)
    older = SurveyAge("2024-11", cutoff - timedelta(days=40), cutoff - timedelta(seconds=1))
    oldest = SurveyAge("2024-10", cutoff - timedelta(days=70), cutoff - timedelta(days=30))
    still_open = SurveyAge("2024-01", cutoff - timedelta(days=400), None)
    recent = SurveyAge("2026-11", NOW - timedelta(days=20), NOW - timedelta(days=10))
    surveys = [recent, at_edge, older, still_open, oldest]
    assert due_for_archive(surveys, cutoff) == ["2024-10", "2024-11"]
    assert due_for_archive(surveys, cutoff, ["2024-11", "2026-11"]) == ["2024-11"]  # names and age together
    assert due_for_archive(surveys, None, ["2026-11", "2024-01"]) == ["2024-01", "2026-11"]  # names alone
    assert due_for_archive([], cutoff) == []


@pytest.mark.parametrize("value", [24, "24", " 6 "])
def test_retention_months_accepts_whole_months(value):
    assert retention_months(value) == int(str(value).strip())


@pytest.mark.parametrize("value", [0, -3, "two", "1.5", 2.0, True, None, ""])
def test_retention_months_refuses_anything_else(value):
    with pytest.raises(RetentionError, match="retention.raw_months"):
        retention_months(value)


def test_months_before_refuses_a_negative_period():
    with pytest.raises(ValueError):
        months_before(NOW, -1)


# ---------------------------------------------------------------- the archive and its manifest

COLUMNS = [
    {"name": "delivery_id", "type": "bigint"},
    {"name": "survey_id", "type": "text"},
    {"name": "score", "type": "smallint"},
    {"name": "submitted_at", "type": "timestamp with time zone"},
    {"name": "reasons", "type": "text[]"},
    {"name": "raw_record", "type": "jsonb"},
    {"name": "is_current", "type": "boolean"},
]
ROWS = {
    "delivery_id": [7, 8],
    "survey_id": ["2024-10", "2024-10"],
    "score": [9, None],
    "submitted_at": [datetime(2024, 10, 1, 10, 0, 0, 123456, tzinfo=UTC), None],
    "reasons": [["score out of range", "duplicate"], None],
    "raw_record": ['{"score": "11"}', None],
    "is_current": [True, False],
}


def write_archive(folder: Path, landing: Path) -> Path:
    """An archive as archive_survey writes it, without a database: one table, the landing files, the manifest."""
    folder.mkdir(parents=True)
    schema = arrow_schema(COLUMNS)
    path = folder / "raw.responses.parquet"
    pq.write_table(pa.table(ROWS, schema=schema), path, compression="zstd")
    survey = landing / "surveys" / "2024-10"
    survey.mkdir(parents=True)
    (survey / "survey.json").write_text('{"survey_id": "2024-10"}', encoding="utf-8")
    (survey / "responses.csv").write_text("response_id,survey_id\nr1,2024-10\n", encoding="utf-8")
    os.utime(survey / "responses.csv", (1_700_000_000, 1_700_000_000))
    manifest = manifest_document(
        "2024-10", opened_at=NOW - timedelta(days=800), closed_at=NOW - timedelta(days=790), archived_at=NOW,
        archived_by="cli:test", migration_version=8, landing_folder=survey,
        tables={"raw.responses": table_entry(path, 2, COLUMNS, kept=False)},
        landing=pack_landing(survey, folder / LANDING_ARCHIVE))
    write_json(folder / MANIFEST, manifest)
    return folder


def test_a_sound_archive_verifies_and_keeps_every_type(tmp_path):
    folder = write_archive(tmp_path / "archive", tmp_path / "landing")
    manifest = verify_archive(folder, expected_manifest_sha256=sha256_file(folder / MANIFEST))
    assert manifest["tables"]["raw.responses"]["rows"] == 2
    assert manifest["migration_version"] == 8
    assert set(manifest["landing"]["files"]) == {"survey.json", "responses.csv"}
    assert decoded_rows(folder / "raw.responses.parquet") == 2
    back = pq.read_table(folder / "raw.responses.parquet").to_pydict()
    assert back == ROWS  # timestamps (microseconds, UTC), smallint, text[], jsonb text and NULLs round-trip


def test_a_tampered_parquet_file_is_caught_by_its_sha256(tmp_path):
    folder = write_archive(tmp_path / "archive", tmp_path / "landing")
    path = folder / "raw.responses.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RetentionError, match=r"raw\.responses\.parquet is damaged or was altered"):
        verify_archive(folder)


def test_an_altered_manifest_is_caught_against_the_warehouse_record(tmp_path):
    folder = write_archive(tmp_path / "archive", tmp_path / "landing")
    recorded = sha256_file(folder / MANIFEST)
    manifest = read_manifest(folder)
    manifest["tables"]["raw.responses"]["rows"] = 3
    write_json(folder / MANIFEST, manifest)
    with pytest.raises(RetentionError, match="altered after archiving"):
        verify_archive(folder, expected_manifest_sha256=recorded)
    with pytest.raises(RetentionError, match="2 rows in raw.responses.parquet, the manifest says 3"):
        verify_archive(folder)  # without the record, the row count still disagrees with the file


def test_a_missing_file_or_manifest_is_named(tmp_path):
    folder = write_archive(tmp_path / "archive", tmp_path / "landing")
    (folder / LANDING_ARCHIVE).unlink()
    with pytest.raises(RetentionError, match="landing.tar.gz is missing from the archive"):
        verify_archive(folder)
    (folder / MANIFEST).unlink()
    with pytest.raises(RetentionError, match="manifest.json is missing"):
        verify_archive(folder)
    (folder / MANIFEST).write_text(json.dumps({"format": 99}), encoding="utf-8")
    with pytest.raises(RetentionError, match="not a version 1"):
        verify_archive(folder)


def test_changed_column_types_are_caught(tmp_path):
    folder = write_archive(tmp_path / "archive", tmp_path / "landing")
    manifest = read_manifest(folder)
    manifest["tables"]["raw.responses"]["columns"][2]["type"] = "integer"
    write_json(folder / MANIFEST, manifest)
    with pytest.raises(RetentionError, match="columns of raw.responses.parquet differ"):
        verify_archive(folder)


def test_landing_files_come_back_identical_with_their_times(tmp_path):
    folder = write_archive(tmp_path / "archive", tmp_path / "landing")
    entry = read_manifest(folder)["landing"]
    files = unpack_landing(folder / LANDING_ARCHIVE, entry, tmp_path / "scratch")
    original = tmp_path / "landing" / "surveys" / "2024-10"
    for name, path in files.items():
        assert path.read_bytes() == (original / name).read_bytes()
    assert files["responses.csv"].stat().st_mtime == 1_700_000_000


def test_landing_files_that_do_not_match_the_manifest_are_refused(tmp_path):
    folder = write_archive(tmp_path / "archive", tmp_path / "landing")
    entry = read_manifest(folder)["landing"]
    entry["files"]["responses.csv"]["sha256"] = "0" * 64
    with pytest.raises(RetentionError, match="landing file responses.csv"):
        unpack_landing(folder / LANDING_ARCHIVE, entry, tmp_path / "scratch")


def test_an_unsupported_column_type_stops_the_archive_before_anything_is_written():
    with pytest.raises(RetentionError, match="column type numeric cannot be archived"):
        arrow_schema([{"name": "x", "type": "numeric"}])


@pytest.mark.parametrize("months", ["0", "-2"])
def test_cli_refuses_a_bad_period_in_one_line_before_touching_the_warehouse(months, capsys):
    from orchestration.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["retention", "archive", "--older-than", months])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == (
        f"novora: error: --older-than must be a whole number of months of at least 1, not {int(months)}\n")
