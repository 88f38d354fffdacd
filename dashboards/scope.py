"""Who is looking, and which groups they may see: the one object every scoped query takes.

Roles (SPEC section 1): an admin sees everything; a manager sees the teams they manage or were granted and every
team below them; a viewer sees org-level results only. Everyone signed in sees the organisation row
(``team_id = '__org__'``): it is published to every employee anyway and managers compare against it.

The data layer enforces this in SQL: every scoped query filters ``team_id = any(%(teams)s)`` with
``Viewer.team_filter()`` (None only for admins), so hiding a widget is never what keeps data away.
"""

from __future__ import annotations

from dataclasses import dataclass

ORG_TEAM_ID = "__org__"
ROLES = ("admin", "manager", "viewer")


@dataclass(frozen=True)
class Viewer:
    """A signed-in person: ``teams`` are the teams they may see (None: every team, admins only)."""

    user_id: str
    email: str
    role: str
    teams: tuple[str, ...] | None
    session_token: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}: expected one of {', '.join(ROLES)}")
        if (self.teams is None) != (self.role == "admin"):
            raise ValueError("only an admin sees every team; every other role has an explicit team list")
        if self.role == "viewer" and self.teams:
            raise ValueError("a viewer sees org-level results only")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def team_filter(self) -> list[str] | None:
        """The ``team_id`` values a query may return (org row included); None means no filter (admins)."""
        if self.teams is None:
            return None
        return [ORG_TEAM_ID, *self.teams]

    def may_see(self, team_id: str) -> bool:
        """May this person see ``team_id``'s results (a page URL or query parameter is checked with this)."""
        return self.teams is None or team_id == ORG_TEAM_ID or team_id in self.teams
