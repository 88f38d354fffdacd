"""The pure rules of privacy requests (assets/access/privacy.py): pseudonyms, what a re-delivered record of an
erased person becomes, how the identity is searched for and what an export shows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from assets.access.privacy import (
    ERASED_NAME,
    Column,
    Identity,
    Ledger,
    erase_delivered,
    erase_record,
    erased_email,
    export_row,
    group_columns,
    is_distinctive,
    keyed_hash,
    needle_pattern,
    pseudonym_of,
    regex_escape,
    replacement_for,
    sweep_statement,
)
from assets.ingestion.files import LINE, CsvFile

SECRET = b"k" * 32


def ledger_of(*employee_ids: str) -> Ledger:
    pseudonyms = {keyed_hash(SECRET, e): pseudonym_of(keyed_hash(SECRET, e)) for e in employee_ids}
    return Ledger(SECRET, pseudonyms)


def test_the_pseudonym_is_stable_keyed_and_short():
    digest = keyed_hash(SECRET, "E003")
    assert digest == keyed_hash(SECRET, " E003 ")  # ingestion trims ids: so does the hash
    assert digest != keyed_hash(b"x" * 32, "E003")  # without the installation's secret it cannot be recomputed
    assert len(digest) == 64
    assert pseudonym_of(digest) == "erased-" + digest[:12]
    assert erased_email("erased-abc") == "erased-abc@erased.invalid"


def test_the_ledger_finds_erased_ids_only():
    ledger = ledger_of("E003")
    assert ledger.pseudonym_for("E003") == pseudonym_of(keyed_hash(SECRET, "E003"))
    assert ledger.pseudonym_for(" E003") == ledger.pseudonym_for("E003")
    assert ledger.pseudonym_for("E004") is None
    assert ledger.pseudonym_for("") is None


def test_an_erased_roster_record_keeps_its_team_and_loses_everything_else():
    lookup = {"E003": "erased-1"}.get
    record = {"employee_id": "E003", "email": "alan@x.example", "full_name": "Alan Turing", "team_id": "ops",
              "dashboard_role": "manager", "location": "Manchester", "active": "true"}
    assert erase_record(record, lookup) == {
        "employee_id": "erased-1", "email": "erased-1@erased.invalid", "full_name": ERASED_NAME, "team_id": "ops",
        "dashboard_role": "", "location": "", "active": "false"}
    # an invitation: only its id; a team: only its manager; someone else's record: unchanged
    assert erase_record({"survey_id": "s", "employee_id": "E003", "team_id": "ops"}, lookup) == {
        "survey_id": "s", "employee_id": "erased-1", "team_id": "ops"}
    assert erase_record({"team_id": "ops", "team_name": "Ops", "manager_employee_id": "E003"}, lookup) == {
        "team_id": "ops", "team_name": "Ops", "manager_employee_id": "erased-1"}
    other = {"employee_id": "E004", "email": "k@x.example", "manager_employee_id": None}
    assert erase_record(other, lookup) == other


def _csv(frame: pd.DataFrame, malformed=None) -> CsvFile:
    return CsvFile(Path("employees.csv"), "sha", frame, malformed or [])


def test_a_redelivered_roster_is_pseudonymised_before_it_is_checked():
    ledger = ledger_of("E003")
    pseudonym = ledger.pseudonym_for("E003")
    frame = pd.DataFrame({
        "employee_id": ["E002", "E003 "], "email": ["g@x.example", "alan@x.example"],
        "full_name": ["Grace Hopper", "Alan Turing"], "team_id": ["eng", "ops"], "dashboard_role": ["", "manager"],
        "location": ["NY", "Manchester"], "active": ["true", "true"], LINE: [2, 3]})
    malformed = [(7, {"employee_id": "E003", "email": "alan@x.example"}, "record has 2 fields, the header has 7")]
    erased = erase_delivered(_csv(frame, malformed), ledger)
    assert erased.frame.to_dict("records") == [
        {"employee_id": "E002", "email": "g@x.example", "full_name": "Grace Hopper", "team_id": "eng",
         "dashboard_role": "", "location": "NY", "active": "true", LINE: 2},
        {"employee_id": pseudonym, "email": erased_email(pseudonym), "full_name": ERASED_NAME, "team_id": "ops",
         "dashboard_role": "", "location": "", "active": "false", LINE: 3}]
    assert erased.malformed == [(7, {"employee_id": pseudonym, "email": erased_email(pseudonym)},
                                 "record has 2 fields, the header has 7")]
    assert erased.rows_delivered == 3 and erased.sha256 == "sha"
    assert frame.loc[1, "employee_id"] == "E003 "  # the delivered frame itself is left alone


def test_a_redelivered_team_file_gets_the_pseudonymous_manager():
    ledger = ledger_of("E003")
    frame = pd.DataFrame({"team_id": ["ops", "eng"], "manager_employee_id": ["E003", "E002"], LINE: [2, 3]})
    erased = erase_delivered(_csv(frame), ledger)
    assert list(erased.frame["manager_employee_id"]) == [ledger.pseudonym_for("E003"), "E002"]


def test_without_erasures_ingestion_is_untouched():
    csv_file = _csv(pd.DataFrame({"employee_id": ["E003"], LINE: [2]}))
    assert erase_delivered(csv_file, None) is csv_file
    assert erase_delivered(csv_file, Ledger(SECRET, {})) is csv_file
    assert erase_delivered(None, ledger_of("E003")) is None


def test_needles_come_email_first_and_blank_ones_are_dropped():
    assert Identity("E003", "a@x.example", " Alan Turing ").needles() == [
        ("email", "a@x.example"), ("name", "Alan Turing"), ("id", "E003")]
    assert Identity("E003", None, "  ").needles() == [("id", "E003")]


def test_patterns_are_tokens_and_short_ids_only_whole_values():
    assert regex_escape("a.b@c-d.example") == r"a\.b\@c\-d\.example"
    assert regex_escape("José") == "José"
    assert needle_pattern("email", "a.b@x.example") == r"(?<![[:alnum:]_])a\.b\@x\.example(?![[:alnum:]_])"
    assert needle_pattern("id", "E003") == r"(?c)(?<![[:alnum:]_])E003(?![[:alnum:]_])"
    assert (is_distinctive("E003"), is_distinctive("42"), is_distinctive("abcd"), is_distinctive("E1")) == (
        True, False, False, False)
    assert needle_pattern("id", "42") == "(?c)^42$"
    assert needle_pattern("id", "42", "jsonb") == '(?c)"42"'
    assert needle_pattern("id", "42", "array") == r'(?c)(?<=[{,])("?)42\1(?=[,}])'
    # inside JSON a quote or backslash is escaped, so the pattern looks for the escaped form
    assert needle_pattern("name", 'Ann "Nan" Lee', "jsonb") == (
        r'(?<![[:alnum:]_])Ann \\\"Nan\\\" Lee(?![[:alnum:]_])')


def test_comments_get_the_maskers_placeholders_everything_else_the_pseudonym():
    assert replacement_for("name", "Alan Turing", "erased-1", "text", in_comment=True) == "[NAME]"
    assert replacement_for("email", "a@x.example", "erased-1", "text", in_comment=True) == "[EMAIL]"
    assert replacement_for("email", "a@x.example", "erased-1", "jsonb", in_comment=False) == (
        "erased-1@erased.invalid")
    assert replacement_for("name", "Alan Turing", "erased-1", "text", in_comment=False) == "erased-1"
    assert replacement_for("id", "E003", "erased-1", "jsonb", in_comment=False) == "erased-1"
    assert replacement_for("id", "42", "erased-1", "jsonb", in_comment=False) == '"erased-1"'


def test_the_sweep_updates_every_text_column_of_matching_rows():
    columns = [Column("app.audit_log", "actor", "text"), Column("app.audit_log", "detail", "jsonb")]
    statement, params = sweep_statement("app.audit_log", columns, Identity("E003", "a@x.example", None), "erased-1")
    text = statement.as_string(None)
    assert text.startswith('update "app"."audit_log" set "actor" = regexp_replace(regexp_replace("actor", ')
    assert '"detail" = (regexp_replace(regexp_replace("detail"::text, %s, %s, \'gi\'), %s, %s, \'gi\'))::jsonb' in text
    assert text.endswith('where "actor" ~* %s or "actor" ~* %s or "detail"::text ~* %s or "detail"::text ~* %s')
    assert len(params) == text.count("%s") == 12
    assert params[1] == "erased-1@erased.invalid" and params[3] == "erased-1"


def test_exports_are_json_and_withhold_credentials():
    row = {"user_id": "E003", "password_hash": "$argon2id$...", "token_sha256": None,
           "at": datetime(2026, 1, 5, 9, tzinfo=UTC), "n": Decimal("2"), "share": Decimal("0.5"),
           "secret": b"\x01\x02", "reasons": ["a"], "detail": {"at": datetime(2026, 1, 5, tzinfo=UTC)}}
    assert export_row(row) == {
        "user_id": "E003", "password_hash": "[withheld]", "token_sha256": None, "at": "2026-01-05T09:00:00+00:00",
        "n": 2, "share": 0.5, "secret": "0102", "reasons": ["a"], "detail": {"at": "2026-01-05T00:00:00+00:00"}}


def test_the_privacy_ledger_itself_is_never_swept_or_exported():
    catalogue = [("app", "audit_log", "actor", "text"), ("app", "privacy_erasures", "pseudonym", "text"),
                 ("app", "privacy_key", "x", "text"), ("raw", "responses", "comment", "text"),
                 ("app", "audit_log", "detail", "jsonb")]
    assert group_columns(catalogue) == {
        "app.audit_log": [Column("app.audit_log", "actor", "text"), Column("app.audit_log", "detail", "jsonb")],
        "raw.responses": [Column("raw.responses", "comment", "text")]}
    assert list(group_columns(catalogue, skip={"raw.responses"})) == ["app.audit_log"]
