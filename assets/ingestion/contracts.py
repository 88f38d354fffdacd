"""The data contracts of the landing zone (SPEC section 3), as pandera schemas over the delivered text.

Schemas validate the strings exactly as delivered, lazily (every failure, not the first), so each rejected row
is quarantined with every reason. Checks that need context (known teams, this survey's questions) are built
by functions that take that context. Each check's ``error`` is the reason an operator reads in quarantine.
Blank values fail only their "missing" check, never a second "unknown" one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Mapping
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from orchestration.config import DBT_PROJECT_DIR

# Bump when a rule changes, so that every file is validated again under the new contract.
CONTRACT_VERSION = "2026.11.1"

# A survey id names a folder, a Dagster partition and a dbt --vars value that ends up in SQL literals.
SURVEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SURVEY_ID_RULE = "letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 characters"


def is_survey_id(value: str) -> bool:
    return bool(SURVEY_ID_PATTERN.match(value))

MAX_COMMENT_CHARS = 5000

TEAMS_COLUMNS = ("team_id", "team_name", "parent_team_id", "manager_employee_id")
EMPLOYEES_COLUMNS = ("employee_id", "email", "full_name", "team_id", "dashboard_role", "location", "active")
INVITATIONS_COLUMNS = ("survey_id", "employee_id", "team_id", "invited_at")
RESPONSES_COLUMNS = ("response_id", "survey_id", "team_id", "submitted_at", "question_id", "score", "comment")
QUESTION_FIELDS = ("question_id", "type", "driver_id", "text")

QUESTION_TYPES = ("likert", "enps", "comment")
SCORE_RANGES = {"likert": (1, 10), "enps": (0, 10)}
DASHBOARD_ROLES = ("admin", "manager", "viewer")
ACTIVE_VALUES = {"true": True, "false": False}

_INTEGER = r"[+-]?\d+"
_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def known_drivers(seed_file: Path = DBT_PROJECT_DIR / "seeds" / "drivers.csv") -> frozenset[str]:
    """Driver ids from the dbt seed, the single source of the driver list."""
    with seed_file.open(encoding="utf-8", newline="") as handle:
        return frozenset(row["driver_id"] for row in csv.DictReader(handle))


# ---------------------------------------------------------------- small vectorised predicates


def is_blank(values: pd.Series) -> pd.Series:
    return values.str.strip() == ""


def parses_as_timestamp(values: pd.Series) -> pd.Series:
    return to_timestamp(values).notna()


def to_timestamp(values: pd.Series) -> pd.Series:
    """ISO-8601 text to UTC timestamps; NaT where unparseable. Naive times are taken as UTC."""
    return pd.to_datetime(values.str.strip(), utc=True, errors="coerce", format="ISO8601")


def _present(column: str) -> pa.Check:
    return pa.Check(lambda s: ~is_blank(s), error=f"missing {column}", name=f"{column}_present")


def _known(column: str, allowed: Collection[str], what: str) -> pa.Check:
    allowed = frozenset(allowed)
    return pa.Check(
        lambda s: is_blank(s) | s.str.strip().isin(allowed), error=f"unknown {column} ({what})", name=f"{column}_known"
    )


def _timestamp(column: str) -> pa.Check:
    return pa.Check(
        lambda s: is_blank(s) | parses_as_timestamp(s),
        error=f"unparseable {column} (expected an ISO-8601 timestamp)",
        name=f"{column}_timestamp",
    )


def _text(*checks: pa.Check) -> pa.Column:
    return pa.Column(checks=list(checks), nullable=False, coerce=False)


# ---------------------------------------------------------------- org


def teams_schema() -> pa.DataFrameSchema:
    """teams.csv: unique ids, names, parents that exist in the same file. Managers are checked with employees."""

    def parent_known(frame: pd.DataFrame) -> pd.Series:
        parent = frame["parent_team_id"].str.strip()
        return (parent == "") | parent.isin(set(frame["team_id"].str.strip()))

    def not_own_parent(frame: pd.DataFrame) -> pd.Series:
        return frame["parent_team_id"].str.strip() != frame["team_id"].str.strip()

    return pa.DataFrameSchema(
        {
            "team_id": _text(_present("team_id")),
            "team_name": _text(_present("team_name")),
            "parent_team_id": _text(),
            "manager_employee_id": _text(),
        },
        checks=[
            pa.Check(parent_known, error="unknown parent_team_id (not a team in teams.csv)", name="parent_known"),
            pa.Check(not_own_parent, error="team is its own parent", name="not_own_parent"),
        ],
        unique=["team_id"],
        report_duplicates="exclude_first",
        name="teams",
    )


def employees_schema(team_ids: Collection[str]) -> pa.DataFrameSchema:
    """employees.csv: one row per person, on a known team, with a valid role and active flag."""
    return pa.DataFrameSchema(
        {
            "employee_id": _text(_present("employee_id")),
            "email": _text(
                _present("email"),
                pa.Check(
                    lambda s: is_blank(s) | s.str.strip().str.fullmatch(_EMAIL),
                    error="unparseable email",
                    name="email_format",
                ),
            ),
            "full_name": _text(_present("full_name")),
            "team_id": _text(_present("team_id"), _known("team_id", team_ids, "not in teams.csv")),
            "dashboard_role": _text(
                pa.Check(
                    lambda s: s.str.strip().str.lower().isin(("", *DASHBOARD_ROLES)),
                    error="unknown dashboard_role (expected admin, manager, viewer or blank)",
                    name="role_known",
                )
            ),
            "location": _text(),
            "active": _text(
                _present("active"),
                pa.Check(
                    lambda s: is_blank(s) | s.str.strip().str.lower().isin(tuple(ACTIVE_VALUES)),
                    error="unparseable active (expected true or false)",
                    name="active_bool",
                ),
            ),
        },
        unique=["employee_id"],
        report_duplicates="exclude_first",
        name="employees",
    )


def manager_problems(teams: pd.DataFrame, employee_ids: Collection[str]) -> pd.Series:
    """Per team row: a reason when its manager is not an employee on the roster, else empty string."""
    manager = teams["manager_employee_id"].str.strip()
    unknown = (manager != "") & ~manager.isin(frozenset(employee_ids))
    return unknown.map({True: "unknown manager_employee_id (not in employees.csv)", False: ""})


def cyclic_teams(teams: pd.DataFrame) -> set[str]:
    """Team ids whose parent chain loops back on itself (their hierarchy cannot be rolled up)."""
    parent = dict(zip(teams["team_id"].str.strip(), teams["parent_team_id"].str.strip()))
    cyclic: set[str] = set()
    for start in parent:
        seen: list[str] = []
        node = start
        while node and node in parent and node not in seen:
            seen.append(node)
            node = parent[node]
        if node and node in seen:
            cyclic.update(seen[seen.index(node):])
    return cyclic


# ---------------------------------------------------------------- survey definition


def questions_schema(drivers: Collection[str]) -> pa.DataFrameSchema:
    """The questions list of survey.json: unique ids, a known type, a known driver for every likert question."""
    drivers = frozenset(drivers)

    def driver_for_likert(frame: pd.DataFrame) -> pd.Series:
        likert = frame["type"].str.strip() == "likert"
        return ~likert | ~is_blank(frame["driver_id"])

    def driver_known(frame: pd.DataFrame) -> pd.Series:
        driver = frame["driver_id"].str.strip()
        return (driver == "") | driver.isin(drivers)

    return pa.DataFrameSchema(
        {
            "question_id": _text(_present("question_id")),
            "type": _text(
                _present("type"),
                pa.Check(
                    lambda s: is_blank(s) | s.str.strip().isin(QUESTION_TYPES),
                    error="unknown question type (expected likert, enps or comment)",
                    name="type_known",
                ),
            ),
            "driver_id": _text(),
            "text": _text(_present("text")),
        },
        checks=[
            pa.Check(driver_for_likert, error="missing driver_id for a likert question", name="likert_driver"),
            pa.Check(driver_known, error=f"unknown driver_id (expected one of {', '.join(sorted(drivers))})",
                     name="driver_known"),
        ],
        unique=["question_id"],
        report_duplicates="exclude_first",
        name="questions",
    )


# ---------------------------------------------------------------- per-survey files


def _survey_matches(survey_id: str) -> pa.Check:
    return pa.Check(
        lambda s: is_blank(s) | (s.str.strip() == survey_id),
        error=f"survey_id does not match the survey folder ({survey_id})",
        name="survey_matches",
    )


def invitations_schema(survey_id: str, team_ids: Collection[str], employee_ids: Collection[str]) -> pa.DataFrameSchema:
    """invitations.csv: who was invited to this survey, and the team they were on at launch."""
    return pa.DataFrameSchema(
        {
            "survey_id": _text(_present("survey_id"), _survey_matches(survey_id)),
            "employee_id": _text(_present("employee_id"), _known("employee_id", employee_ids, "not in employees.csv")),
            "team_id": _text(_present("team_id"), _known("team_id", team_ids, "not in teams.csv")),
            "invited_at": _text(_present("invited_at"), _timestamp("invited_at")),
        },
        unique=["employee_id"],
        report_duplicates="exclude_first",
        name="invitations",
    )


def responses_schema(
    survey_id: str, question_types: Mapping[str, str], team_ids: Collection[str]
) -> pa.DataFrameSchema:
    """responses.csv: one row per answer; the score's rule depends on the question's type."""
    question_types = dict(question_types)

    def kind(frame: pd.DataFrame) -> pd.Series:
        return frame["question_id"].str.strip().map(question_types)

    def score_value(frame: pd.DataFrame) -> pd.Series:
        return pd.to_numeric(frame["score"].str.strip().where(frame["score"].str.strip().str.fullmatch(_INTEGER)),
                             errors="coerce")

    def score_in_range(frame: pd.DataFrame) -> pd.Series:
        value, qtype = score_value(frame), kind(frame)
        ok = pd.Series(True, index=frame.index)
        for name, (low, high) in SCORE_RANGES.items():
            rows = (qtype == name) & value.notna()
            ok &= ~rows | value.between(low, high)
        return ok

    def score_present_for_ratings(frame: pd.DataFrame) -> pd.Series:
        return ~kind(frame).isin(tuple(SCORE_RANGES)) | ~is_blank(frame["score"])

    def no_score_for_comments(frame: pd.DataFrame) -> pd.Series:
        return (kind(frame) != "comment") | is_blank(frame["score"])

    def text_for_comments(frame: pd.DataFrame) -> pd.Series:
        return (kind(frame) != "comment") | ~is_blank(frame["comment"])

    return pa.DataFrameSchema(
        {
            "response_id": _text(_present("response_id")),
            "survey_id": _text(_present("survey_id"), _survey_matches(survey_id)),
            "team_id": _text(_present("team_id"), _known("team_id", team_ids, "not in teams.csv")),
            "submitted_at": _text(_present("submitted_at"), _timestamp("submitted_at")),
            "question_id": _text(_present("question_id"), _known("question_id", question_types, "not in survey.json")),
            "score": _text(
                pa.Check(
                    lambda s: is_blank(s) | s.str.strip().str.fullmatch(_INTEGER),
                    error="unparseable score (expected a whole number)",
                    name="score_integer",
                )
            ),
            "comment": _text(
                pa.Check(
                    lambda s: s.str.len() <= MAX_COMMENT_CHARS,
                    error=f"comment longer than {MAX_COMMENT_CHARS:,} characters",
                    name="comment_length",
                )
            ),
        },
        checks=[
            pa.Check(score_in_range, error="score out of range (likert 1-10, enps 0-10)", name="score_range"),
            pa.Check(score_present_for_ratings, error="missing score for a rating question", name="score_present"),
            pa.Check(no_score_for_comments, error="score given for a comment question", name="no_comment_score"),
            pa.Check(text_for_comments, error="missing comment text for a comment question", name="comment_present"),
        ],
        unique=["response_id", "question_id"],
        report_duplicates="exclude_first",
        name="responses",
    )
