"""Signing in to the app: argon2id password hashes, lockout after repeated failures, expiring sessions.

Only a SHA-256 of a session token is stored, so a copy of ``app.sessions`` lets nobody in. Every page run
resumes the session from the database (``resume``), so a role change, a deactivation or an expiry takes effect
on the next click, not at the next sign-in. Each sign-in, refusal, sign-out and password change is written to
``app.audit_log``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.types.json import Jsonb

from dashboards.scope import Viewer

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
REFUSED = "Email or password is not right."
_HASHER = PasswordHasher()  # argon2id with argon2-cffi's RFC 9106 low-memory profile
# Verified when the email is unknown, so a refusal takes as long whether or not the account exists.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class AuthError(ValueError):
    """A refused sign-in or password change; the message is one line for the person at the keyboard."""


# A session's last use is recorded at most this often (see needs_touch).
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    idle_minutes: int = 30
    max_hours: int = 12
    max_failed: int = 5
    lockout_minutes: int = 15


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` may not be used (None: it may)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password may have at most {MAX_PASSWORD_LENGTH} characters"
    if email and password.strip().lower() in {email.strip().lower(), email.split("@")[0].strip().lower()}:
        return "a password may not be the email address"
    if len(set(password)) < 4:
        return "a password needs at least 4 different characters"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_end_reason(created_at: datetime, last_seen_at: datetime, now: datetime, policy: SessionPolicy,
                       user_active: bool) -> str | None:
    """Why a session is over at ``now`` ('deactivated', 'expired', 'idle'), or None while it is valid."""
    if not user_active:
        return "deactivated"
    if now >= created_at + timedelta(hours=policy.max_hours):
        return "expired"
    if now >= last_seen_at + timedelta(minutes=policy.idle_minutes):
        return "idle"
    return None


def _now() -> datetime:
    return datetime.now(UTC)


def load_policy(conn: psycopg.Connection) -> SessionPolicy:
    values = dict(conn.execute("select setting_key, value from app.settings where setting_key like 'app.%'"))

    def number(key: str, default: int) -> int:
        try:
            value = int(values.get(key, default))
        except (TypeError, ValueError):
            return default
        return value if value > 0 else default

    return SessionPolicy(number("app.session_idle_minutes", 30), number("app.session_max_hours", 12),
                         number("app.max_failed_sign_ins", 5), number("app.lockout_minutes", 15))


def audit(conn: psycopg.Connection, actor: str, action: str, subject: str | None = None,
          detail: dict | None = None) -> None:
    conn.execute("insert into app.audit_log (actor, action, subject, detail) values (%s, %s, %s, %s)",
                 (actor, action, subject, Jsonb(detail or {})))


def _active_user(conn: psycopg.Connection, email: str, lock: bool = False):
    return conn.execute(
        "select user_id, email, role, password_hash, failed_sign_ins, locked_until from app.users "
        "where is_active and lower(email) = lower(%s)" + (" for update" if lock else ""),
        (email.strip(),)).fetchone()


def set_password(conn: psycopg.Connection, email: str, password: str, actor: str) -> str:
    """Set the password of the active account with ``email`` (its other sessions end); returns its user id."""
    with conn.transaction():
        row = _active_user(conn, email, lock=True)
        if row is None:
            raise AuthError(f"no active dashboard account has the email {email.strip()!r}")
        problem = password_problem(password, row[1])
        if problem:
            raise AuthError(problem)
        conn.execute("""update app.users set password_hash = %s, password_set_at = now(), password_set_by = %s,
                               failed_sign_ins = 0, locked_until = null where user_id = %s""",
                     (hash_password(password), actor, row[0]))
        conn.execute("""update app.sessions set ended_at = now(), end_reason = 'password_changed'
                        where user_id = %s and ended_at is null""", (row[0],))
        audit(conn, actor, "password.set", row[0])
    return row[0]


def sign_in(conn: psycopg.Connection, email: str, password: str, now: datetime | None = None) -> str:
    """A new session token for the right email and password; ``AuthError`` otherwise (the same message whether
    the email is unknown or the password wrong; a locked account says for how long). A refusal is recorded
    (failed count, lockout, audit entry) before it is raised."""
    now = now or _now()
    with conn.transaction():
        refusal = _check_sign_in(conn, email, password, now)
        if refusal is None:
            user_id = _active_user(conn, email)[0]
            token = secrets.token_urlsafe(32)
            policy = load_policy(conn)
            conn.execute("""update app.users set failed_sign_ins = 0, locked_until = null, last_sign_in_at = %s
                            where user_id = %s""", (now, user_id))
            conn.execute("""insert into app.sessions (user_id, token_sha256, created_at, last_seen_at, expires_at)
                            values (%s, %s, %s, %s, %s)""",
                         (user_id, token_digest(token), now, now, now + timedelta(minutes=policy.idle_minutes)))
            audit(conn, user_id, "sign_in", user_id)
    if refusal is not None:
        raise AuthError(refusal)
    return token


def _check_sign_in(conn: psycopg.Connection, email: str, password: str, now: datetime) -> str | None:
    """None when ``email`` and ``password`` may sign in; otherwise the refusal, already recorded."""
    row = _active_user(conn, email, lock=True)
    if row is None:
        verify_password(None, password)
        audit(conn, email.strip()[:200] or "-", "sign_in.refused", None, {"reason": "unknown email"})
        return REFUSED
    user_id, _, _, password_hash, failed, locked_until = row
    if locked_until is not None and locked_until > now:
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        audit(conn, user_id, "sign_in.refused", user_id, {"reason": "locked"})
        return f"This account is locked after too many failed sign-ins; try again in {minutes} min."
    if verify_password(password_hash, password):
        return None
    policy = load_policy(conn)
    failed += 1
    locked = now + timedelta(minutes=policy.lockout_minutes) if failed >= policy.max_failed else None
    conn.execute("update app.users set failed_sign_ins = %s, locked_until = %s where user_id = %s",
                 (0 if locked else failed, locked, user_id))
    reason = "no password set" if password_hash is None else "wrong password"
    audit(conn, user_id, "sign_in.refused", user_id, {"reason": reason, "locked": locked is not None})
    return REFUSED


def needs_touch(last_seen_at: datetime, now: datetime, interval: timedelta = TOUCH_INTERVAL) -> bool:
    """Whether a page run at ``now`` records the session as used: at most once per ``interval``, so clicking
    through pages does not write (and wait for a commit) on every run; idle time is then counted from up to
    ``interval`` before the last click."""
    return now - last_seen_at >= interval


def resume(conn: psycopg.Connection, token: str, now: datetime | None = None) -> Viewer | None:
    """The person behind a session token, with the teams they may see now; None once the session is over."""
    if not token:
        return None
    now = now or _now()
    with conn.transaction():
        row = conn.execute(
            """select s.session_id, s.created_at, s.last_seen_at, u.user_id, u.email, u.role, u.is_active
               from app.sessions as s inner join app.users as u on u.user_id = s.user_id
               where s.token_sha256 = %s and s.ended_at is null""",
            (token_digest(token),)).fetchone()
        if row is None:
            return None
        session_id, created_at, last_seen_at, user_id, email, role, is_active = row
        policy = load_policy(conn)
        reason = session_end_reason(created_at, last_seen_at, now, policy, is_active)
        if reason:
            conn.execute("update app.sessions set ended_at = %s, end_reason = %s where session_id = %s "
                         "and ended_at is null", (now, reason, session_id))
            return None
        if needs_touch(last_seen_at, now):
            conn.execute("update app.sessions set last_seen_at = %s, expires_at = %s where session_id = %s "
                         "and ended_at is null and last_seen_at < %s",
                         (now, now + timedelta(minutes=policy.idle_minutes), session_id, now))
        teams: tuple[str, ...] | None = None
        if role != "admin":
            teams = tuple(r[0] for r in conn.execute(
                "select team_id from app.user_team_access where user_id = %s order by team_id", (user_id,)))
            if role == "viewer":
                teams = ()
    return Viewer(user_id=user_id, email=email, role=role, teams=teams, session_token=token)


def sign_out(conn: psycopg.Connection, token: str) -> None:
    with conn.transaction():
        row = conn.execute("""update app.sessions set ended_at = now(), end_reason = 'signed_out'
                              where token_sha256 = %s and ended_at is null returning user_id""",
                           (token_digest(token),)).fetchone()
        if row:
            audit(conn, row[0], "sign_out", row[0])
