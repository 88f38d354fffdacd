"""Dashboard accounts from the roster: one per active employee with a ``dashboard_role``.

``plan_users`` is pure: from the roster and the team hierarchy it works out each account and the teams it may
see (a manager: the teams they manage and every team below them; an admin: all, not listed; a viewer: none, org
level only). ``sync_users`` applies a plan to ``app.users`` / ``app.user_team_access``, keeps passwords, and ends
the sessions of accounts that went away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class Person:
    employee_id: str
    email: str
    team_id: str
    role: str | None
    is_active: bool


@dataclass(frozen=True)
class Team:
    team_id: str
    parent_team_id: str | None
    manager_employee_id: str | None


@dataclass(frozen=True)
class PlannedUser:
    user_id: str
    email: str
    role: str
    team_id: str
    access: Mapping[str, str] = field(default_factory=dict)  # team_id -> the managed team it comes through


@dataclass(frozen=True)
class Plan:
    users: list[PlannedUser]
    problems: list[str]  # one line each: accounts that could not be made as the roster says


def children_of(teams: Iterable[Team]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for team in teams:
        if team.parent_team_id:
            children.setdefault(team.parent_team_id, []).append(team.team_id)
    return children


def subtree(children: Mapping[str, Sequence[str]], root: str) -> list[str]:
    """``root`` and every team below it, in breadth-first order (safe against a cycle in bad data)."""
    seen, order, queue = {root}, [root], [root]
    while queue:
        for child in sorted(children.get(queue.pop(0), ())):
            if child not in seen:
                seen.add(child)
                order.append(child)
                queue.append(child)
    return order


def visible_teams(managed: Iterable[str], children: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Each team a manager of ``managed`` may see, with the managed team it is reached through."""
    access: dict[str, str] = {}
    for root in sorted(managed):
        for team_id in subtree(children, root):
            access.setdefault(team_id, root)
    return access


def plan_users(people: Iterable[Person], teams: Iterable[Team]) -> Plan:
    """The accounts the roster asks for. Two active role holders sharing an email get no account (neither could
    be told apart at sign-in); a manager who manages no team sees org-level results only. Both are reported."""
    teams = list(teams)
    children = children_of(teams)
    managed: dict[str, list[str]] = {}
    for team in teams:
        if team.manager_employee_id:
            managed.setdefault(team.manager_employee_id, []).append(team.team_id)
    holders = [p for p in people if p.is_active and p.role and p.email.strip()]
    by_email: dict[str, list[Person]] = {}
    for person in holders:
        by_email.setdefault(person.email.strip().lower(), []).append(person)
    users, problems = [], []
    for email, same in sorted(by_email.items()):
        if len(same) > 1:
            ids = ", ".join(sorted(p.employee_id for p in same))
            problems.append(f"{email} is the email of several people with a dashboard role ({ids}): no account")
            continue
        person = same[0]
        access: dict[str, str] = {}
        if person.role == "manager":
            access = visible_teams(managed.get(person.employee_id, ()), children)
            if not access:
                problems.append(f"{person.employee_id} has the manager role but manages no team: org level only")
        users.append(PlannedUser(person.employee_id, person.email.strip(), person.role, person.team_id, access))
    return Plan(sorted(users, key=lambda u: u.user_id), problems)


@dataclass(frozen=True)
class SyncReport:
    active: int
    created: int
    changed: int
    deactivated: int
    by_role: dict[str, int]
    problems: list[str]
    without_password: int


def _audit(conn: psycopg.Connection, action: str, subject: str, detail: dict) -> None:
    conn.execute("insert into app.audit_log (actor, action, subject, detail) values ('novora', %s, %s, %s)",
                 (action, subject, Jsonb(detail)))


def sync_users(conn: psycopg.Connection) -> SyncReport:
    """Bring ``app.users`` in step with the roster in ``raw`` (one transaction); passwords are kept."""
    with conn.transaction():
        people = [Person(*row) for row in conn.execute(
            "select employee_id, email, team_id, dashboard_role, is_active from raw.employees")]
        teams = [Team(*row) for row in conn.execute(
            "select team_id, parent_team_id, manager_employee_id from raw.teams")]
        plan = plan_users(people, teams)
        before = {row[0]: row[1:] for row in conn.execute(
            "select user_id, email, role, team_id, is_active from app.users")}
        created = changed = 0
        for user in plan.users:
            old = before.get(user.user_id)
            if old is None:
                created += 1
                _audit(conn, "user.created", user.user_id, {"role": user.role})
            elif old != (user.email, user.role, user.team_id, True):
                changed += 1
                _audit(conn, "user.changed", user.user_id, {"role": user.role, "was_role": old[1],
                                                            "was_active": old[3]})
            conn.execute(
                """insert into app.users (user_id, email, role, team_id, is_active, synced_at)
                   values (%s, %s, %s, %s, true, now())
                   on conflict (user_id) do update set email = excluded.email, role = excluded.role,
                       team_id = excluded.team_id, is_active = true, synced_at = now()""",
                (user.user_id, user.email, user.role, user.team_id))
        planned = {u.user_id for u in plan.users}
        gone = sorted(uid for uid, old in before.items() if old[3] and uid not in planned)
        for user_id in gone:
            _audit(conn, "user.deactivated", user_id, {"reason": "no longer an active role holder on the roster"})
        conn.execute("update app.users set is_active = false, synced_at = now() where user_id = any(%s)", (gone,))
        conn.execute("""update app.sessions set ended_at = now(), end_reason = 'deactivated'
                        where ended_at is null and user_id = any(%s)""", (gone,))
        conn.execute("delete from app.user_team_access")
        rows = [(u.user_id, team, via) for u in plan.users for team, via in sorted(u.access.items())]
        if rows:
            with conn.cursor() as cursor:
                cursor.executemany(
                    "insert into app.user_team_access (user_id, team_id, via_team_id) values (%s, %s, %s)", rows)
        without = conn.execute(
            "select count(*) from app.users where is_active and password_hash is null").fetchone()[0]
    by_role: dict[str, int] = {}
    for user in plan.users:
        by_role[user.role] = by_role.get(user.role, 0) + 1
    return SyncReport(len(plan.users), created, changed, len(gone), by_role, plan.problems, int(without))
