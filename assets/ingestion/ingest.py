"""Ingestion of each landing-zone dataset: read, check the contract, load valid rows, quarantine the rest.

These functions hold the logic; the Dagster assets only call them and report what they return. Each one is
idempotent: a delivery whose fingerprint (file content, contract version and the reference data it was
checked against) equals the current one changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import psycopg

from assets.access.privacy import erase_delivered, load_ledger
from assets.ingestion import contracts as c
from assets.ingestion.files import LINE, CsvFile, UnreadableFile, read_csv, sha256_bytes
from assets.ingestion.load import (
    Delivery,
    copy_frame,
    current_fingerprint,
    delete_rows,
    lock_slice,
    record_delivery,
    replace_quarantine,
    replace_rows,
    swap_survey_partition,
)
from assets.ingestion.validate import Rejection, Split, split


class MissingReferenceData(RuntimeError):
    """A survey file cannot be checked because what it refers to has not been loaded yet."""


@dataclass
class LoadReport:
    """What one ingestion did; becomes the asset's materialisation metadata."""

    dataset: str
    survey_id: str | None
    file_path: str
    status: str  # loaded | unchanged | file_rejected | missing
    rows_delivered: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    file_error: str | None = None
    reasons: Counter = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("loaded", "unchanged", "missing")


# ---------------------------------------------------------------- landing-zone layout


def org_file(landing: Path, name: str) -> Path:
    return landing / "org" / name


def survey_dir(landing: Path, survey_id: str) -> Path:
    return landing / "surveys" / survey_id


def survey_ids(landing: Path) -> list[str]:
    """Survey folders present in the landing zone (those with a survey.json), sorted."""
    root = landing / "surveys"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "survey.json").is_file())


# ---------------------------------------------------------------- helpers


def id_set_hash(ids: Iterable[str]) -> str:
    return sha256_bytes("\n".join(sorted(set(ids))).encode())


def fingerprint(*parts: str | None) -> str:
    return hashlib.sha256("|".join(p or "" for p in (c.CONTRACT_VERSION, *parts)).encode()).hexdigest()


def modified_at(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return None


def strip_all(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = out[column].str.strip()
    return out


def canonical_timestamps(values: pd.Series) -> pd.Series:
    """ISO-8601 text in any accepted form → one PostgreSQL-readable UTC form (parsed once per distinct value)."""
    distinct = pd.Series(values.unique())
    parsed = c.to_timestamp(distinct.astype(str))
    canonical = parsed.dt.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return values.map(dict(zip(distinct, canonical)))


def canonical_integers(values: pd.Series) -> pd.Series:
    """Integer text ("07", "+7", " 7") → "7"; blank → None."""
    distinct = pd.Series(values.unique())
    mapping = {v: (None if str(v).strip() == "" else str(int(str(v).strip()))) for v in distinct}
    return values.map(mapping).astype(object)


def blank_to_none(values: pd.Series) -> pd.Series:
    return values.where(values.str.strip() != "", None).astype(object)


def reasons_of(rejections: Iterable[Rejection]) -> Counter:
    counts: Counter = Counter()
    for rejection in rejections:
        counts.update(rejection.reasons)
    return counts


def malformed_rejections(csv_file: CsvFile) -> list[Rejection]:
    return [Rejection(line, record, (reason,)) for line, record, reason in csv_file.malformed]


def _file_rejected(
    conn: psycopg.Connection, dataset: str, survey_id: str | None, path: Path, error: str, started: float
) -> LoadReport:
    """Record an unreadable file: its delivery and one quarantine row with the reason; loaded data stays."""
    try:
        digest = sha256_bytes(path.read_bytes())
    except OSError:
        digest = None
    with conn.transaction():
        lock_slice(conn, dataset, survey_id)
        delivery_id = _record_rejected_file(conn, dataset, survey_id, path, digest, error)
        replace_quarantine(conn, delivery_id, dataset, survey_id, str(path), [Rejection(None, None, (error,))])
    return LoadReport(dataset, survey_id, str(path), "file_rejected", file_error=error, reasons=Counter([error]),
                      seconds=time.perf_counter() - started)


def _record_rejected_file(conn, dataset, survey_id, path, digest, error) -> int:
    # The rejected file does not become current: the last good delivery's rows stay in raw and stay current.
    row = conn.execute(
        """insert into raw.deliveries (dataset, survey_id, file_path, content_sha256, fingerprint, rows_delivered,
               rows_loaded, rows_rejected, is_file_rejected, file_error, file_modified_at, is_current)
           values (%s, %s, %s, %s, %s, 0, 0, 0, true, %s, %s, false) returning delivery_id""",
        (dataset, survey_id, str(path), digest, fingerprint(digest, "rejected"), error, modified_at(path)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _loaded_ids(conn: psycopg.Connection, query: str, params: tuple = ()) -> list[str]:
    return [row[0] for row in conn.execute(query, params)]


# ---------------------------------------------------------------- org: teams + employees


def ingest_org(conn: psycopg.Connection, landing: Path) -> tuple[LoadReport, LoadReport]:
    """Load teams.csv and employees.csv together (each refers to the other)."""
    started = time.perf_counter()
    teams_path, employees_path = org_file(landing, "teams.csv"), org_file(landing, "employees.csv")
    if not teams_path.exists() and not employees_path.exists():
        return (LoadReport("teams", None, str(teams_path), "missing"),
                LoadReport("employees", None, str(employees_path), "missing"))

    teams = employees = None
    team_error = employee_error = None
    try:
        teams = read_csv(teams_path, c.TEAMS_COLUMNS) if teams_path.exists() else None
    except UnreadableFile as exc:
        team_error = str(exc)
    try:
        employees = read_csv(employees_path, c.EMPLOYEES_COLUMNS) if employees_path.exists() else None
    except UnreadableFile as exc:
        employee_error = str(exc)
    # People erased by a privacy request come back pseudonymised, as the erasure left them.
    ledger = load_ledger(conn)
    teams, employees = erase_delivered(teams, ledger), erase_delivered(employees, ledger)

    # Reference ids: from the file when it is readable, else from what is loaded.
    team_ids = (list(teams.frame["team_id"].str.strip()) if teams is not None
                else _loaded_ids(conn, "select team_id from raw.teams"))
    employee_ids = (list(employees.frame["employee_id"].str.strip()) if employees is not None
                    else _loaded_ids(conn, "select employee_id from raw.employees"))

    reports: dict[str, LoadReport] = {}
    valid_team_ids = team_ids  # what employees are checked against: the loaded teams once teams are handled
    if team_error is not None:
        reports["teams"] = _file_rejected(conn, "teams", None, teams_path, team_error, started)
    elif teams is None:
        reports["teams"] = LoadReport("teams", None, str(teams_path), "missing")
    else:
        teams_fp = fingerprint(teams.sha256, id_set_hash(employee_ids))
        if current_fingerprint(conn, "teams", None) == teams_fp:
            reports["teams"] = _unchanged(conn, "teams", None, teams_path, teams.rows_delivered, started)
        else:
            team_split = _split_teams(teams, employee_ids)
            reports["teams"] = _load(
                conn, "teams", None, teams, team_split, teams_fp, "raw.teams", _cast_teams(team_split.valid), started
            )
        valid_team_ids = _loaded_ids(conn, "select team_id from raw.teams")

    if employee_error is not None:
        reports["employees"] = _file_rejected(conn, "employees", None, employees_path, employee_error, started)
    elif employees is None:
        reports["employees"] = LoadReport("employees", None, str(employees_path), "missing")
    else:
        employees_fp = fingerprint(employees.sha256, id_set_hash(valid_team_ids))
        if current_fingerprint(conn, "employees", None) == employees_fp:
            reports["employees"] = _unchanged(conn, "employees", None, employees_path, employees.rows_delivered,
                                              started)
        else:
            employee_split = split(employees.frame, c.employees_schema(valid_team_ids))
            reports["employees"] = _load(conn, "employees", None, employees, employee_split, employees_fp,
                                         "raw.employees", _cast_employees(employee_split.valid), started)
    return reports["teams"], reports["employees"]


def _split_teams(teams: CsvFile, employee_ids: Collection[str]) -> Split:
    frame = teams.frame
    extra: dict[int, list[str]] = {}
    for index, problem in c.manager_problems(frame, employee_ids).items():
        if problem:
            extra.setdefault(index, []).append(problem)
    cyclic = c.cyclic_teams(frame)
    for index, team_id in frame["team_id"].str.strip().items():
        if team_id in cyclic:
            extra.setdefault(index, []).append("parent_team_id chain forms a cycle")
    return split(frame, c.teams_schema(), extra)


def _cast_teams(valid: pd.DataFrame) -> pd.DataFrame:
    out = strip_all(valid, c.TEAMS_COLUMNS)
    out["parent_team_id"] = blank_to_none(out["parent_team_id"])
    out["manager_employee_id"] = blank_to_none(out["manager_employee_id"])
    return out.rename(columns={LINE: "source_line"})


def _cast_employees(valid: pd.DataFrame) -> pd.DataFrame:
    out = strip_all(valid, c.EMPLOYEES_COLUMNS)
    out["dashboard_role"] = blank_to_none(out["dashboard_role"].str.lower())
    out["location"] = blank_to_none(out["location"])
    out["is_active"] = out["active"].str.lower().map(c.ACTIVE_VALUES).map({True: "true", False: "false"})
    return out.rename(columns={LINE: "source_line"})


def _unchanged(
    conn: psycopg.Connection, dataset: str, survey_id: str | None, path: Path, delivered: int, started: float
) -> LoadReport:
    """The report for a delivery identical to the loaded one: its counts are the ledger's."""
    rejected = _rejected_count(conn, dataset, survey_id)
    return LoadReport(dataset, survey_id, str(path), "unchanged", delivered, delivered - rejected, rejected,
                      seconds=time.perf_counter() - started)


def _rejected_count(conn: psycopg.Connection, dataset: str, survey_id: str | None) -> int:
    row = conn.execute(
        "select rows_rejected from raw.deliveries where is_current and dataset = %s "
        "and coalesce(survey_id, '') = coalesce(%s, '')",
        (dataset, survey_id),
    ).fetchone()
    return int(row[0]) if row else 0


_TABLE_COLUMNS = {
    "raw.teams": ("team_id", "team_name", "parent_team_id", "manager_employee_id", "source_line", "delivery_id"),
    "raw.employees": ("employee_id", "email", "full_name", "team_id", "dashboard_role", "location", "is_active",
                      "source_line", "delivery_id"),
    "raw.surveys": ("survey_id", "title", "opened_at", "closed_at", "delivery_id"),
    "raw.questions": ("survey_id", "question_id", "question_type", "driver_id", "question_text", "position",
                      "delivery_id"),
    "raw.invitations": ("survey_id", "employee_id", "team_id", "invited_at", "source_line", "delivery_id"),
    "raw.responses": ("survey_id", "response_id", "question_id", "team_id", "submitted_at", "score", "comment",
                      "source_line", "delivery_id"),
}


_PARTITIONED_BY_SURVEY = {"raw.responses"}


def _load(
    conn: psycopg.Connection,
    dataset: str,
    survey_id: str | None,
    csv_file: CsvFile,
    result: Split,
    fp: str,
    table: str,
    rows: pd.DataFrame,
    started: float,
    timings: dict[str, float] | None = None,
) -> LoadReport:
    """Replace ``table`` (or the survey's slice) with ``rows`` and the quarantine with the rejections, atomically."""
    rejections = malformed_rejections(csv_file) + result.rejected
    delivered = csv_file.rows_delivered
    loaded = len(rows)
    assert loaded + len(rejections) == delivered, "every delivered row is either loaded or quarantined"
    timings = dict(timings or {})
    load_started = time.perf_counter()
    with conn.transaction():
        lock_slice(conn, dataset, survey_id)
        if current_fingerprint(conn, dataset, survey_id) == fp:  # a concurrent run loaded this very delivery
            return _unchanged(conn, dataset, survey_id, csv_file.path, delivered, started)
        delivery_id = record_delivery(
            conn,
            Delivery(dataset, survey_id, str(csv_file.path), csv_file.sha256, fp, delivered, loaded, len(rejections),
                     file_modified_at=modified_at(csv_file.path)),
        )
        rows = rows.assign(delivery_id=str(delivery_id), source_line=rows["source_line"].astype(str))
        if table in _PARTITIONED_BY_SURVEY:
            assert survey_id is not None
            swap_survey_partition(conn, table, survey_id, rows, _TABLE_COLUMNS[table])
        else:
            replace_rows(conn, table, survey_id, rows, _TABLE_COLUMNS[table])
        replace_quarantine(conn, delivery_id, dataset, survey_id, str(csv_file.path), rejections)
    timings["load_seconds"] = time.perf_counter() - load_started
    return LoadReport(dataset, survey_id, str(csv_file.path), "loaded", delivered, loaded, len(rejections),
                      seconds=time.perf_counter() - started, reasons=reasons_of(rejections), timings=timings)


# ---------------------------------------------------------------- survey definition: survey.json


def parse_survey_json(path: Path, survey_id: str) -> tuple[dict, pd.DataFrame, str]:
    """Read survey.json; return the survey fields, the questions as a text frame (LINE = position) and the
    file's sha256.

    Raises :class:`UnreadableFile` when the file as a whole cannot be used.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"{path.name} cannot be read: {exc.strerror or exc}") from exc
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path.name} is not UTF-8 (invalid byte at offset {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(document, dict):
        raise UnreadableFile(f"{path.name} must hold a JSON object")
    problems = []
    if not c.is_survey_id(survey_id):
        problems.append(f"the folder name {survey_id!r} is not a survey id ({c.SURVEY_ID_RULE})")
    if str(document.get("survey_id", "")).strip() != survey_id:
        problems.append(f"survey_id {document.get('survey_id')!r} does not match the folder {survey_id!r}")
    if not str(document.get("title", "")).strip():
        problems.append("missing title")
    opened = c.to_timestamp(pd.Series([str(document.get("opened_at", ""))]))[0]
    if pd.isna(opened):
        problems.append("missing or unparseable opened_at")
    closed_raw = document.get("closed_at")
    closed = c.to_timestamp(pd.Series([str(closed_raw)]))[0] if closed_raw not in (None, "") else None
    if closed_raw not in (None, "") and pd.isna(closed):
        problems.append("unparseable closed_at")
    elif closed is not None and not pd.isna(opened) and closed < opened:
        problems.append("closed_at is before opened_at")
    questions = document.get("questions")
    if not isinstance(questions, list) or not questions:
        problems.append("questions must be a non-empty list")
    if problems:
        raise UnreadableFile(f"{path.name}: " + "; ".join(problems))
    assert isinstance(questions, list)
    records = [
        {f: ("" if not isinstance(q, dict) or q.get(f) is None else str(q.get(f))) for f in c.QUESTION_FIELDS}
        for q in questions
    ]
    frame = pd.DataFrame(records, columns=list(c.QUESTION_FIELDS), dtype=str)
    frame[LINE] = range(1, len(frame) + 1)
    survey = {"survey_id": survey_id, "title": str(document["title"]).strip(), "opened_at": opened,
              "closed_at": closed}
    return survey, frame, sha256_bytes(data)


def ingest_survey_definition(conn: psycopg.Connection, landing: Path, survey_id: str) -> LoadReport:
    """Load survey.json: one raw.surveys row and its raw.questions (bad questions are quarantined)."""
    started = time.perf_counter()
    path = survey_dir(landing, survey_id) / "survey.json"
    if not path.exists():
        return LoadReport("surveys", survey_id, str(path), "missing")
    try:
        survey, questions, digest = parse_survey_json(path, survey_id)
    except UnreadableFile as exc:
        return _file_rejected(conn, "surveys", survey_id, path, str(exc), started)
    drivers = c.known_drivers()
    fp = fingerprint(digest, id_set_hash(drivers))
    delivered = len(questions)
    if current_fingerprint(conn, "surveys", survey_id) == fp:
        return _unchanged(conn, "surveys", survey_id, path, delivered, started)

    result = split(questions, c.questions_schema(drivers))
    valid = strip_all(result.valid, c.QUESTION_FIELDS)
    question_rows = pd.DataFrame({
        "survey_id": survey_id,
        "question_id": valid["question_id"],
        "question_type": valid["type"],
        "driver_id": blank_to_none(valid["driver_id"]),
        "question_text": valid["text"],
        "position": valid[LINE].astype(str),
    })
    survey_row = pd.DataFrame([{
        "survey_id": survey_id, "title": survey["title"], "opened_at": survey["opened_at"].isoformat(),
        "closed_at": None if survey["closed_at"] is None else survey["closed_at"].isoformat(),
    }])
    with conn.transaction():
        lock_slice(conn, "surveys", survey_id)
        if current_fingerprint(conn, "surveys", survey_id) == fp:  # a concurrent run loaded this very file
            return _unchanged(conn, "surveys", survey_id, path, delivered, started)
        delivery_id = record_delivery(
            conn, Delivery("surveys", survey_id, str(path), digest, fp, delivered, len(question_rows),
                           len(result.rejected), file_modified_at=modified_at(path)))
        delete_rows(conn, "raw.questions", survey_id)
        delete_rows(conn, "raw.surveys", survey_id)
        copy_frame(conn, "raw.surveys", survey_row.assign(delivery_id=str(delivery_id)), _TABLE_COLUMNS["raw.surveys"])
        copy_frame(conn, "raw.questions", question_rows.assign(delivery_id=str(delivery_id)),
                   _TABLE_COLUMNS["raw.questions"])
        replace_quarantine(conn, delivery_id, "surveys", survey_id, str(path), result.rejected)
    return LoadReport("surveys", survey_id, str(path), "loaded", delivered, len(question_rows), len(result.rejected),
                      seconds=time.perf_counter() - started, reasons=reasons_of(result.rejected))


# ---------------------------------------------------------------- invitations and responses


def _require(conn: psycopg.Connection, query: str, params: tuple, message: str) -> list[str]:
    ids = _loaded_ids(conn, query, params)
    if not ids:
        raise MissingReferenceData(message)
    return ids


def ingest_invitations(conn: psycopg.Connection, landing: Path, survey_id: str) -> LoadReport:
    """Load invitations.csv of one survey (who was invited, on which team at launch)."""
    started = time.perf_counter()
    path = survey_dir(landing, survey_id) / "invitations.csv"
    if not path.exists():
        return LoadReport("invitations", survey_id, str(path), "missing")
    team_ids = _require(conn, "select team_id from raw.teams", (),
                        "no teams are loaded yet: load org/teams.csv before the survey files")
    employee_ids = _require(conn, "select employee_id from raw.employees", (),
                            "no employees are loaded yet: load org/employees.csv before the survey files")
    _require(conn, "select survey_id from raw.surveys where survey_id = %s", (survey_id,),
             f"survey {survey_id} is not loaded: its survey.json must load first")
    try:
        csv_file = read_csv(path, c.INVITATIONS_COLUMNS)
    except UnreadableFile as exc:
        return _file_rejected(conn, "invitations", survey_id, path, str(exc), started)
    csv_file = erase_delivered(csv_file, load_ledger(conn))  # erased people stay pseudonymised
    fp = fingerprint(csv_file.sha256, id_set_hash(team_ids), id_set_hash(employee_ids))
    if current_fingerprint(conn, "invitations", survey_id) == fp:
        return _unchanged(conn, "invitations", survey_id, path, csv_file.rows_delivered, started)
    result = split(csv_file.frame, c.invitations_schema(survey_id, team_ids, employee_ids))
    rows = strip_all(result.valid, c.INVITATIONS_COLUMNS)
    rows["invited_at"] = canonical_timestamps(rows["invited_at"])
    rows = rows.rename(columns={LINE: "source_line"})
    return _load(conn, "invitations", survey_id, csv_file, result, fp, "raw.invitations", rows, started)


def ingest_responses(conn: psycopg.Connection, landing: Path, survey_id: str) -> LoadReport:
    """Load responses.csv of one survey: the answers, checked against this survey's questions."""
    started = time.perf_counter()
    path = survey_dir(landing, survey_id) / "responses.csv"
    if not path.exists():
        return LoadReport("responses", survey_id, str(path), "missing")
    team_ids = _require(conn, "select team_id from raw.teams", (),
                        "no teams are loaded yet: load org/teams.csv before the survey files")
    question_types = dict(conn.execute(
        "select question_id, question_type from raw.questions where survey_id = %s", (survey_id,)).fetchall())
    if not question_types:
        raise MissingReferenceData(f"survey {survey_id} has no loaded questions: its survey.json must load first")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        csv_file = read_csv(path, c.RESPONSES_COLUMNS)
    except UnreadableFile as exc:
        return _file_rejected(conn, "responses", survey_id, path, str(exc), started)
    timings["read_seconds"] = time.perf_counter() - t0
    questions_hash = id_set_hash(f"{q}:{t}" for q, t in question_types.items())
    fp = fingerprint(csv_file.sha256, id_set_hash(team_ids), questions_hash)
    if current_fingerprint(conn, "responses", survey_id) == fp:
        return _unchanged(conn, "responses", survey_id, path, csv_file.rows_delivered, started)
    t0 = time.perf_counter()
    result = split(csv_file.frame, c.responses_schema(survey_id, question_types, team_ids))
    timings["validate_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = cast_responses(result.valid)
    timings["cast_seconds"] = time.perf_counter() - t0
    return _load(conn, "responses", survey_id, csv_file, result, fp, "raw.responses", rows, started, timings)


def cast_responses(valid: pd.DataFrame) -> pd.DataFrame:
    """Valid response text → the canonical text COPY sends (ids trimmed, one timestamp form, NULLs)."""
    rows = strip_all(valid, ("response_id", "survey_id", "team_id", "submitted_at", "question_id", "score"))
    rows["submitted_at"] = canonical_timestamps(rows["submitted_at"])
    rows["score"] = canonical_integers(rows["score"])
    rows["comment"] = blank_to_none(rows["comment"])
    return rows.rename(columns={LINE: "source_line"})
