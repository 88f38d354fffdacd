"""Dashboard accounts and sign-in rules, as pure functions (hand-made rosters and clocks)."""

from datetime import UTC, datetime, timedelta

import pytest

from assets.access.auth import SessionPolicy, password_problem, session_end_reason
from assets.access.users import Person, Team, children_of, plan_users, subtree, visible_teams
from dashboards.scope import ORG_TEAM_ID, Viewer

TEAMS = [
    Team("top", None, "E1"),
    Team("sales", "top", "E2"),
    Team("emea", "sales", "E3"),
    Team("apac", "sales", None),
    Team("uk", "emea", None),
    Team("it", "top", "E4"),
]


def person(employee_id, role, email=None, active=True, team="top"):
    return Person(employee_id, email or f"{employee_id.lower()}@x.example", team, role, active)


def test_subtree_walks_every_level_below_and_survives_a_cycle():
    children = children_of(TEAMS)
    assert subtree(children, "sales") == ["sales", "apac", "emea", "uk"]
    assert subtree(children, "uk") == ["uk"]
    assert subtree({"a": ["b"], "b": ["a"]}, "a") == ["a", "b"]


def test_a_manager_sees_the_teams_they_manage_and_everything_below():
    access = visible_teams(["sales", "it"], children_of(TEAMS))
    assert access == {"it": "it", "sales": "sales", "apac": "sales", "emea": "sales", "uk": "sales"}


def test_plan_gives_accounts_only_to_active_role_holders():
    plan = plan_users([person("E1", "admin"), person("E2", "manager"), person("E3", "manager"),
                       person("E5", "viewer"), person("E6", None), person("E7", "viewer", active=False)], TEAMS)
    assert [(u.user_id, u.role) for u in plan.users] == [
        ("E1", "admin"), ("E2", "manager"), ("E3", "manager"), ("E5", "viewer")]
    by_id = {u.user_id: u for u in plan.users}
    assert set(by_id["E2"].access) == {"sales", "apac", "emea", "uk"}
    assert set(by_id["E3"].access) == {"emea", "uk"}
    assert by_id["E1"].access == {} and by_id["E5"].access == {}  # admins see all, viewers org level only
    assert plan.problems == []


def test_plan_reports_shared_emails_and_managers_without_a_team():
    plan = plan_users([person("E2", "manager", "Same@x.example"), person("E9", "viewer", "same@x.example "),
                       person("E8", "manager")], TEAMS)
    assert [u.user_id for u in plan.users] == ["E8"]
    assert plan.problems == [
        "E8 has the manager role but manages no team: org level only",
        "same@x.example is the email of several people with a dashboard role (E2, E9): no account",
    ]


@pytest.mark.parametrize(("password", "problem"), [
    ("short-pass1", "a password needs at least 12 characters"),
    ("x" * 257, "a password may have at most 256 characters"),
    ("ada@acme.example", "a password may not be the email address"),
    ("aaaabbbbcccc", "a password needs at least 4 different characters"),
    ("correct horse battery", None),
    ("abcdabcdabcd", None),  # exactly 12 characters, exactly 4 different ones
])
def test_password_rules(password, problem):
    assert password_problem(password, "ada@acme.example") == problem


def test_a_session_ends_when_idle_too_long_or_too_old_or_deactivated():
    policy = SessionPolicy(idle_minutes=30, max_hours=12)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert session_end_reason(start, start, start + timedelta(minutes=29, seconds=59), policy, True) is None
    assert session_end_reason(start, start, start + timedelta(minutes=30), policy, True) == "idle"
    seen = start + timedelta(hours=11, minutes=50)
    assert session_end_reason(start, seen, start + timedelta(hours=11, minutes=59), policy, True) is None
    assert session_end_reason(start, seen, start + timedelta(hours=12), policy, True) == "expired"
    assert session_end_reason(start, start, start, policy, False) == "deactivated"


def test_viewer_scope_rules():
    manager = Viewer("E2", "e2@x", "manager", ("sales", "emea"))
    assert manager.team_filter() == [ORG_TEAM_ID, "sales", "emea"]
    assert manager.may_see("emea") and manager.may_see(ORG_TEAM_ID) and not manager.may_see("it")
    admin = Viewer("E1", "e1@x", "admin", None)
    assert admin.team_filter() is None and admin.may_see("anything")
    viewer = Viewer("E5", "e5@x", "viewer", ())
    assert viewer.team_filter() == [ORG_TEAM_ID] and not viewer.may_see("sales")
    with pytest.raises(ValueError):
        Viewer("E5", "e5@x", "viewer", ("sales",))
    with pytest.raises(ValueError):
        Viewer("E2", "e2@x", "manager", None)
    with pytest.raises(ValueError):
        Viewer("E2", "e2@x", "owner", ())
