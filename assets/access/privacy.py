"""Privacy requests about one person: export everything Novora holds about them, or erase their identity.

Identity is an employee id, an email address and a full name. An erasure replaces them everywhere with a
stable pseudonym (``erased-<12 hex>``, from a keyed hash of the employee id) instead of deleting rows: the roster
row, the invitations and the team-manager links feed participation counts and the hierarchy, so the marts
rebuild to exactly the same values. The dashboard account (and its sessions and team access) is deleted. Every
text column of Novora's own tables is then swept for the identity, and a scan of every schema must come back
empty before the transaction commits.

Survey answers are anonymous by design (a response carries a team, never an employee id): they are never
exported and never changed, except that a comment naming the person has the name replaced by ``[NAME]``, the
placeholder the comment masker would have put there anyway.

``app.privacy_erasures`` keeps the keyed hash of each erased id, so ingestion (:func:`erase_delivered`)
pseudonymises the person again in any re-delivered roster, team or invitation file, even an old one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from assets.ingestion.files import CsvFile

PSEUDONYM_PREFIX = "erased-"
ERASED_NAME = "[erased]"
ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: can never receive mail
# Tables holding the identity of people on the roster (written by Novora): swept on erasure, read on export.
SWEPT_SCHEMAS = ("raw", "quarantine", "nlp", "alerts", "app")
# Every Novora schema: after an erasure none may hold the identity (dbt's schemas hold ids only, by design).
SCANNED_SCHEMAS = ("raw", "quarantine", "nlp", "staging", "intermediate", "marts", "alerts", "app")
# The privacy machinery itself, and the migration ledger: never swept, scanned or exported.
SKIPPED_TABLES = frozenset({"app.privacy_key", "app.privacy_erasures", "app.schema_migrations"})
# Survey answers (anonymous, not linkable to a person) and their masked copies: never exported.
ANSWER_TABLES = frozenset({"raw.responses", "nlp.comments"})
# ... nor are quarantined answers (their raw records are others' comments).
NOT_ANSWERS = {"quarantine.rejected_rows": sql.SQL("dataset <> 'responses'")}
# In comments the name and email become the placeholders the comment masker uses (its output stays the same).
COMMENT_COLUMNS = frozenset({("raw.responses", "comment")})
# Credentials are not personal data to hand out: an export says whether one is set, never what it is.
WITHHELD_COLUMNS = frozenset({"password_hash", "token_sha256"})
ANONYMITY_STATEMENT = (
    "Survey answers are anonymous: a response records the team it was sent to, never who gave it, so no answer "
    "can be linked to this person and none is included. Comments written by others are not included either."
)

# Fields of a delivered or quarantined record, by what they hold.
_PERSON_ID = "employee_id"
_MANAGER_ID = "manager_employee_id"

SECRET_SQL = "select secret from app.privacy_key"
CREATE_SECRET_SQL = "insert into app.privacy_key (secret) values (%s) on conflict do nothing"
LEDGER_SQL = "select employee_id_hmac, pseudonym from app.privacy_erasures"
ERASURE_SQL = "select pseudonym, erased_at from app.privacy_erasures where employee_id_hmac = %s"
RECORD_ERASURE_SQL = """insert into app.privacy_erasures (employee_id_hmac, pseudonym, erased_by, changed_rows)
                        values (%s, %s, %s, %s) on conflict (employee_id_hmac) do nothing"""
AUDIT_SQL = "insert into app.audit_log (actor, action, subject, detail) values (%s, %s, %s, %s)"
# Where a person is known by their id: the roster, invitations, team managers, dashboard accounts, quarantine.
LOCATE_SQL = """
select (select count(*) from raw.employees where employee_id = %(id)s)
     + (select count(*) from raw.invitations where employee_id = %(id)s)
     + (select count(*) from raw.teams where manager_employee_id = %(id)s)
     + (select count(*) from app.users where user_id = %(id)s)
     + (select count(*) from quarantine.rejected_rows
        where btrim(raw_record ->> 'employee_id') = %(id)s or btrim(raw_record ->> 'manager_employee_id') = %(id)s)
"""
# The email and name to look for: the roster's, else the account's or a quarantined roster row's.
IDENTITY_SQL = """
select
    coalesce((select email from raw.employees where employee_id = %(id)s),
             (select email from app.users where user_id = %(id)s),
             (select raw_record ->> 'email' from quarantine.rejected_rows
              where dataset = 'employees' and btrim(raw_record ->> 'employee_id') = %(id)s
              order by rejected_row_id limit 1)),
    coalesce((select full_name from raw.employees where employee_id = %(id)s),
             (select raw_record ->> 'full_name' from quarantine.rejected_rows
              where dataset = 'employees' and btrim(raw_record ->> 'employee_id') = %(id)s
              order by rejected_row_id limit 1))
"""
TEXT_COLUMNS_SQL = """
select n.nspname, c.relname, a.attname,
       case when a.atttypid in ('json'::regtype, 'jsonb'::regtype) then format_type(a.atttypid, null)
            when a.atttypid in ('text[]'::regtype, 'varchar[]'::regtype) then 'array'
            else 'text' end
from pg_catalog.pg_attribute as a
join pg_catalog.pg_class as c on c.oid = a.attrelid
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where n.nspname = any(%s) and c.relkind in ('r', 'p') and not c.relispartition
  and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
  and a.atttypid in ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'json'::regtype, 'jsonb'::regtype,
                     'text[]'::regtype, 'varchar[]'::regtype)
order by n.nspname, c.relname, a.attnum
"""
QUARANTINED_SQL = """select rejected_row_id, raw_record from quarantine.rejected_rows
                     where btrim(raw_record ->> 'employee_id') = %(id)s
                        or btrim(raw_record ->> 'manager_employee_id') = %(id)s
                     for update"""
UPDATE_QUARANTINED_SQL = "update quarantine.rejected_rows set raw_record = %s where rejected_row_id = %s"
# The account goes with its sessions and team access (on delete cascade); counted first for the report.
ACCOUNT_ROWS_SQL = """select (select count(*) from app.users where user_id = %(id)s),
                             (select count(*) from app.user_team_access where user_id = %(id)s),
                             (select count(*) from app.sessions where user_id = %(id)s)"""
DELETE_ACCOUNT_SQL = "delete from app.users where user_id = %(id)s"
ERASE_EMPLOYEE_SQL = """update raw.employees
                        set employee_id = %(pseudonym)s, email = %(email)s, full_name = %(name)s,
                            dashboard_role = null, location = null, is_active = false
                        where employee_id = %(id)s"""
ERASE_MANAGER_SQL = "update raw.teams set manager_employee_id = %(pseudonym)s where manager_employee_id = %(id)s"
ERASE_INVITATIONS_SQL = "update raw.invitations set employee_id = %(pseudonym)s where employee_id = %(id)s"
# Ingestion replaces these slices wholesale: hold its locks so no load runs half-way through an erasure.
SLICE_LOCK_SQL = "select pg_advisory_xact_lock(hashtext(%s))"
INVITATION_SURVEYS_SQL = "select distinct survey_id from raw.invitations"


class PrivacyError(RuntimeError):
    """A privacy request that cannot be carried out; the message is one line for the person who ran it."""


# ------------------------------------------------------------------------------------------- pure helpers


def keyed_hash(secret: bytes, employee_id: str) -> str:
    """HMAC-SHA256 of a (trimmed) employee id under the installation's secret, hex."""
    return hmac.new(secret, employee_id.strip().encode(), hashlib.sha256).hexdigest()


def pseudonym_of(digest: str) -> str:
    """The stable pseudonym that replaces an erased employee id."""
    return PSEUDONYM_PREFIX + digest[:12]


def erased_email(pseudonym: str) -> str:
    return f"{pseudonym}@{ERASED_EMAIL_DOMAIN}"


def erased_person_fields(pseudonym: str) -> dict[str, str]:
    """A roster record's fields after erasure, as delivered text (still a valid roster row: the pseudonym stays
    a known employee for invitations and team managers, without an account, a location or a mailbox)."""
    return {"employee_id": pseudonym, "email": erased_email(pseudonym), "full_name": ERASED_NAME,
            "dashboard_role": "", "location": "", "active": "false"}


@dataclass(frozen=True)
class Ledger:
    """The erased people, as ingestion needs them: the keyed hash of each erased id and its pseudonym."""

    secret: bytes
    pseudonyms: Mapping[str, str]  # keyed hash -> pseudonym

    def pseudonym_for(self, employee_id: str) -> str | None:
        if not employee_id or not employee_id.strip():
            return None
        return self.pseudonyms.get(keyed_hash(self.secret, employee_id))


def erase_record(record: Mapping[str, str], pseudonym_for: Callable[[str], str | None]) -> dict[str, str]:
    """A delivered record with an erased person's identity replaced: their own roster/invitation row (matched
    on ``employee_id``) and a team they manage (``manager_employee_id``). Other fields are left as delivered."""
    out = dict(record)
    person = pseudonym_for(str(out.get(_PERSON_ID) or ""))
    if person is not None:
        out.update({k: v for k, v in erased_person_fields(person).items() if k in out})
    manager = pseudonym_for(str(out.get(_MANAGER_ID) or ""))
    if manager is not None:
        out[_MANAGER_ID] = manager
    return out


def erase_delivered(csv_file: CsvFile | None, ledger: Ledger | None) -> CsvFile | None:
    """A delivered roster, team or invitation file with every erased person pseudonymised, before validation:
    a re-delivered row of an erased person then loads (or is quarantined) exactly as the erasure left it."""
    if csv_file is None or ledger is None or not ledger.pseudonyms:
        return csv_file
    frame = csv_file.frame.copy()
    if _PERSON_ID in frame.columns:
        for index, pseudonym in frame[_PERSON_ID].map(ledger.pseudonym_for).dropna().items():
            for field, value in erased_person_fields(pseudonym).items():
                if field in frame.columns:
                    frame.at[index, field] = value
    if _MANAGER_ID in frame.columns:
        managers = frame[_MANAGER_ID].map(ledger.pseudonym_for)
        frame.loc[managers.notna(), _MANAGER_ID] = managers[managers.notna()]
    malformed = [(line, erase_record(record, ledger.pseudonym_for), reason)
                 for line, record, reason in csv_file.malformed]
    return dataclasses.replace(csv_file, frame=frame, malformed=malformed)


RESTORED_INVITEES_SQL = "select distinct employee_id from raw.invitations where survey_id = %s"
RESTORED_QUARANTINE_SQL = """select rejected_row_id, raw_record from quarantine.rejected_rows
                             where survey_id = %s and raw_record ?| array['employee_id', 'manager_employee_id']"""
PSEUDONYMISE_INVITEE_SQL = ("update raw.invitations set employee_id = %(pseudonym)s "
                            "where survey_id = %(survey)s and employee_id = %(id)s")


def erase_restored(conn: psycopg.Connection, survey_id: str) -> int:
    """Pseudonymise every erased person in a survey's rows put back by ``novora retention restore`` (archives
    are written before an erasure may happen and restore bypasses ingestion); returns the rows changed. Runs in
    the restore's transaction."""
    ledger = load_ledger(conn)
    if ledger is None:
        return 0
    changed = 0
    for (employee_id,) in conn.execute(RESTORED_INVITEES_SQL, (survey_id,)).fetchall():
        pseudonym = ledger.pseudonym_for(employee_id)
        if pseudonym is not None:
            changed += conn.execute(PSEUDONYMISE_INVITEE_SQL,
                                    {"pseudonym": pseudonym, "survey": survey_id, "id": employee_id}).rowcount
    for row_id, record in conn.execute(RESTORED_QUARANTINE_SQL, (survey_id,)).fetchall():
        erased = erase_record(record, ledger.pseudonym_for)
        if erased != record:
            changed += conn.execute(UPDATE_QUARANTINED_SQL, (Jsonb(erased), row_id)).rowcount
    return changed


@dataclass(frozen=True)
class Identity:
    """What identifies a person in Novora's data: employee id, email address, full name."""

    employee_id: str
    email: str | None
    full_name: str | None

    def needles(self) -> list[tuple[str, str]]:
        """(kind, value) to look for; the email first, so that it is replaced before a name or id inside it."""
        found = [("email", self.email), ("name", self.full_name), ("id", self.employee_id)]
        return [(kind, value.strip()) for kind, value in found if value and value.strip()]


@dataclass(frozen=True)
class Column:
    table: str  # schema.table
    name: str
    kind: str  # text | json | jsonb | array


def regex_escape(value: str) -> str:
    """``value`` as a literal in a PostgreSQL regular expression (ASCII punctuation escaped)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", value)


def json_escaped(value: str) -> str:
    """How ``value`` is written inside a JSON string or an array literal (quotes and backslashes escaped)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def is_distinctive(employee_id: str) -> bool:
    """An id like "E00123" (letters and digits, 4+ characters) cannot be mistaken for anything else in prose;
    "42" can."""
    return len(employee_id) >= 4 and any(c.isalpha() for c in employee_id) and any(c.isdigit() for c in employee_id)


def needle_pattern(kind: str, value: str, column_kind: str = "text") -> str:
    """A PostgreSQL regular expression (for ``~*``) finding one needle in a column's text.

    An email or a name is found as a whole token anywhere, case-insensitively ("alan turing," matches, "Alan
    Turingson" does not); so is a distinctive id, case-sensitively. Any other id (such as "42", which would hit
    unrelated numbers in prose) is found only as a whole value: the whole text, a JSON string, an array element.
    """
    escaped = regex_escape(value if column_kind == "text" else json_escaped(value))
    token = rf"(?<![[:alnum:]_]){escaped}(?![[:alnum:]_])"
    if kind != "id":
        return token
    if is_distinctive(value):
        return "(?c)" + token
    if column_kind == "text":
        return rf"(?c)^{escaped}$"
    if column_kind == "array":
        return rf'(?c)(?<=[{{,])("?){escaped}\1(?=[,}}])'
    return rf'(?c)"{escaped}"'


def replacement_for(kind: str, value: str, pseudonym: str, column_kind: str, in_comment: bool) -> str:
    """What replaces a needle: the pseudonym (its mailbox for an email); in comments the masker's placeholders."""
    if in_comment and kind in ("email", "name"):
        return {"email": "[EMAIL]", "name": "[NAME]"}[kind]
    if kind == "email":
        return erased_email(pseudonym)
    if kind == "id" and not is_distinctive(value) and column_kind in ("json", "jsonb"):
        return f'"{pseudonym}"'  # the pattern took the quotes of the JSON string
    return pseudonym


def column_text(column: Column) -> sql.Composable:
    """The column as text to search (json and arrays in their text form)."""
    ident = sql.Identifier(column.name)
    return ident if column.kind == "text" else sql.SQL("{}::text").format(ident)


def match_condition(columns: Sequence[Column], identity: Identity) -> tuple[sql.Composed, list[str]]:
    """``where`` condition (and its parameters): some column holds some needle."""
    terms, params = [], []
    for column in columns:
        for kind, value in identity.needles():
            terms.append(sql.SQL("{} ~* %s").format(column_text(column)))
            params.append(needle_pattern(kind, value, column.kind))
    return sql.SQL(" or ").join(terms), params


def sweep_statement(table: str, columns: Sequence[Column], identity: Identity, pseudonym: str
                    ) -> tuple[sql.Composed, list[str]]:
    """One ``update`` of ``table`` replacing the identity in every text column of the rows that hold it."""
    assignments, params = [], []
    for column in columns:
        in_comment = (table, column.name) in COMMENT_COLUMNS
        expression: sql.Composable = column_text(column)
        for kind, value in identity.needles():
            expression = sql.SQL("regexp_replace({}, %s, %s, 'gi')").format(expression)
            params += [needle_pattern(kind, value, column.kind),
                       replacement_for(kind, value, pseudonym, column.kind, in_comment)]
        if column.kind != "text":
            expression = sql.SQL("({})::{}").format(
                expression, sql.SQL("text[]" if column.kind == "array" else column.kind))
        assignments.append(sql.SQL("{} = {}").format(sql.Identifier(column.name), expression))
    condition, condition_params = match_condition(columns, identity)
    statement = sql.SQL("update {} set {} where {}").format(
        sql.Identifier(*table.split(".")), sql.SQL(", ").join(assignments), condition)
    return statement, params + condition_params


def jsonable(value: object) -> object:
    """A database value as JSON holds it (timestamps as ISO-8601, numbers as numbers, bytes as hex)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def export_row(row: Mapping[str, object]) -> dict[str, object]:
    """A row as exported: JSON values, credentials withheld (only whether one is set)."""
    return {k: (None if v is None else "[withheld]") if k in WITHHELD_COLUMNS else jsonable(v)
            for k, v in row.items()}


def group_columns(rows: Iterable[tuple[str, str, str, str]], skip: Iterable[str] = ()) -> dict[str, list[Column]]:
    """Catalogue rows (schema, table, column, kind) -> text columns per ``schema.table``, minus ``skip``."""
    skipped = set(skip) | SKIPPED_TABLES
    out: dict[str, list[Column]] = {}
    for schema, table, name, kind in rows:
        qualified = f"{schema}.{table}"
        if qualified not in skipped:
            out.setdefault(qualified, []).append(Column(qualified, name, kind))
    return out


# ------------------------------------------------------------------------------------------- database


def read_secret(conn: psycopg.Connection) -> bytes | None:
    row = conn.execute(SECRET_SQL).fetchone()
    return bytes(row[0]) if row else None


def ensure_secret(conn: psycopg.Connection) -> bytes:
    """The installation's secret, created (32 random bytes) on the first erasure."""
    conn.execute(CREATE_SECRET_SQL, (secrets.token_bytes(32),))
    secret = read_secret(conn)
    assert secret is not None
    return secret


def load_ledger(conn: psycopg.Connection) -> Ledger | None:
    """The erased people, for ingestion; ``None`` while nobody was erased (then ingestion changes nothing)."""
    secret = read_secret(conn)
    if secret is None:
        return None
    pseudonyms = dict(conn.execute(LEDGER_SQL).fetchall())
    return Ledger(secret, pseudonyms) if pseudonyms else None


def text_columns(conn: psycopg.Connection, schemas: Sequence[str], skip: Iterable[str] = ()
                 ) -> dict[str, list[Column]]:
    return group_columns(conn.execute(TEXT_COLUMNS_SQL, (list(schemas),)).fetchall(), skip)


def identity_of(conn: psycopg.Connection, employee_id: str) -> Identity | None:
    """The person's id, email and name, or ``None`` when Novora holds nothing under that id."""
    employee_id = employee_id.strip()
    found = conn.execute(LOCATE_SQL, {"id": employee_id}).fetchone()
    if not found or not found[0]:
        return None
    email, name = conn.execute(IDENTITY_SQL, {"id": employee_id}).fetchone() or (None, None)
    return Identity(employee_id, email, name)


def _erased(conn: psycopg.Connection, employee_id: str) -> tuple[str, datetime] | None:
    secret = read_secret(conn)
    if secret is None:
        return None
    return conn.execute(ERASURE_SQL, (keyed_hash(secret, employee_id),)).fetchone()


def _require_identity(conn: psycopg.Connection, employee_id: str) -> Identity:
    if not employee_id.strip():
        raise PrivacyError("an employee id is required")
    identity = identity_of(conn, employee_id)
    if identity is None:
        erased = _erased(conn, employee_id)
        if erased:
            raise PrivacyError(f"employee {employee_id.strip()} was erased on {erased[1]:%Y-%m-%d} (now "
                               f"{erased[0]}); Novora holds nothing else about them")
        raise PrivacyError(f"no employee {employee_id.strip()!r} in Novora's data (roster, invitations, teams, "
                           "dashboard accounts, quarantine)")
    return identity


def find_rows(conn: psycopg.Connection, identity: Identity, schemas: Sequence[str] = SWEPT_SCHEMAS,
              with_answers: bool = True) -> dict[str, list[dict]]:
    """Every row of ``schemas`` with the identity in a text column, per table (tables without rows left out);
    without survey answers unless ``with_answers``."""
    found: dict[str, list[dict]] = {}
    for table, columns in text_columns(conn, schemas, () if with_answers else ANSWER_TABLES).items():
        condition, params = match_condition(columns, identity)
        if not with_answers and table in NOT_ANSWERS:
            condition = sql.SQL("({}) and {}").format(condition, NOT_ANSWERS[table])
        query = sql.SQL("select * from {} where {}").format(sql.Identifier(*table.split(".")), condition)
        with conn.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(query, params).fetchall()
        if rows:
            found[table] = rows
    return found


def scan_counts(conn: psycopg.Connection, identity: Identity, schemas: Sequence[str] = SCANNED_SCHEMAS
                ) -> dict[str, int]:
    """Rows per table still holding the identity (empty after a complete erasure)."""
    return {table: len(rows) for table, rows in find_rows(conn, identity, schemas).items()}


def audit(conn: psycopg.Connection, actor: str, action: str, subject: str, detail: dict) -> None:
    conn.execute(AUDIT_SQL, (actor, action, subject, Jsonb(detail)))


# ------------------------------------------------------------------------------------------- export


def collect_export(conn: psycopg.Connection, employee_id: str) -> dict:
    """Everything Novora holds about a person, grouped by table (answers excepted, see the statement)."""
    identity = _require_identity(conn, employee_id)
    tables = find_rows(conn, identity, with_answers=False)
    return {
        "employee_id": identity.employee_id,
        "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "survey_answers": ANONYMITY_STATEMENT,
        "row_counts": {table: len(rows) for table, rows in tables.items()},
        "tables": {table: [export_row(r) for r in rows] for table, rows in tables.items()},
    }


def record_export(conn: psycopg.Connection, document: Mapping, actor: str) -> None:
    """The audit entry of an export (written once the document was handed out)."""
    audit(conn, actor, "privacy.export", document["employee_id"], {"row_counts": document["row_counts"]})


# ------------------------------------------------------------------------------------------- erasure


@dataclass(frozen=True)
class Erasure:
    """What an erasure changed (or, in a dry run, would change)."""

    pseudonym: str
    changed_rows: Mapping[str, int]
    already_erased: bool = False
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.changed_rows.values())


def _lock_ingestion(conn: psycopg.Connection) -> None:
    keys = ["novora:employees:", "novora:teams:"]
    keys += [f"novora:invitations:{s}" for (s,) in conn.execute(INVITATION_SURVEYS_SQL).fetchall()]
    for key in sorted(keys):
        conn.execute(SLICE_LOCK_SQL, (key,))


def _add(counts: dict[str, int], table: str, n: int) -> None:
    if n:
        counts[table] = counts.get(table, 0) + n


def _erase(conn: psycopg.Connection, identity: Identity, pseudonym: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    params = {"id": identity.employee_id, "pseudonym": pseudonym, "email": erased_email(pseudonym),
              "name": ERASED_NAME}
    account = conn.execute(ACCOUNT_ROWS_SQL, params).fetchone() or (0, 0, 0)
    conn.execute(DELETE_ACCOUNT_SQL, params)
    for table, n in zip(("app.users", "app.user_team_access", "app.sessions"), account):
        _add(counts, table, n)
    _add(counts, "raw.employees", conn.execute(ERASE_EMPLOYEE_SQL, params).rowcount)
    _add(counts, "raw.teams", conn.execute(ERASE_MANAGER_SQL, params).rowcount)
    _add(counts, "raw.invitations", conn.execute(ERASE_INVITATIONS_SQL, params).rowcount)
    def lookup(value: str) -> str | None:
        return pseudonym if value.strip() == identity.employee_id else None

    for row_id, record in conn.execute(QUARANTINED_SQL, params).fetchall():
        conn.execute(UPDATE_QUARANTINED_SQL, (Jsonb(erase_record(record, lookup)), row_id))
        _add(counts, "quarantine.rejected_rows", 1)
    # Everything else that mentions the person: audit entries, notifications, review and alert decisions...
    for table, columns in text_columns(conn, SWEPT_SCHEMAS).items():
        statement, statement_params = sweep_statement(table, columns, identity, pseudonym)
        _add(counts, table, conn.execute(statement, statement_params).rowcount)
    return counts


def erase_person(conn: psycopg.Connection, employee_id: str, actor: str, dry_run: bool = False) -> Erasure:
    """Erase a person's identity everywhere in one transaction (or, with ``dry_run``, count what would change
    and roll back). Refuses to commit while any Novora table still holds the id, email or name."""
    employee_id = employee_id.strip()
    if not employee_id:
        raise PrivacyError("an employee id is required")
    with conn.transaction() as tx:
        _lock_ingestion(conn)
        identity = identity_of(conn, employee_id)
        if identity is None:
            erased = _erased(conn, employee_id)
            if erased:
                return Erasure(erased[0], {}, already_erased=True, dry_run=dry_run)
            raise PrivacyError(f"no employee {employee_id!r} in Novora's data (roster, invitations, teams, "
                               "dashboard accounts, quarantine)")
        secret = ensure_secret(conn)
        digest = keyed_hash(secret, employee_id)
        pseudonym = pseudonym_of(digest)
        counts = _erase(conn, identity, pseudonym)
        left = scan_counts(conn, identity)
        if left:
            raise PrivacyError("erasure incomplete, nothing changed: the identity is still in "
                               + ", ".join(f"{t} ({n})" for t, n in sorted(left.items())))
        conn.execute(RECORD_ERASURE_SQL, (digest, pseudonym, actor, Jsonb(counts)))
        audit(conn, actor, "privacy.delete", pseudonym, {"changed_rows": counts})
        if dry_run:
            raise psycopg.Rollback(tx)
    return Erasure(pseudonym, counts, dry_run=dry_run)
