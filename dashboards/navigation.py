"""Which pages each role may open. A page missing from a role's list is not registered for that person at all,
so its URL leads nowhere; each page also checks the role itself (``session.require_admin``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    roles: tuple[str, ...]

    @property
    def url_path(self) -> str:
        """The page's address (Streamlit's own default for a page file: its name without ``.py``)."""
        return self.path.rsplit("/", 1)[-1].removesuffix(".py")


ALL_ROLES = ("admin", "manager", "viewer")
PAGES = (
    PageSpec("views/overview.py", "Overview", ":material/dashboard:", ALL_ROLES),
    PageSpec("views/team.py", "Team", ":material/groups:", ("admin", "manager")),
    PageSpec("views/comments.py", "Comments", ":material/forum:", ALL_ROLES),
    PageSpec("views/alerts.py", "Alerts", ":material/notifications:", ALL_ROLES),
    PageSpec("views/admin.py", "Admin", ":material/admin_panel_settings:", ("admin",)),
    PageSpec("views/data_health.py", "Data health", ":material/health_and_safety:", ("admin",)),
)


def page_specs(role: str) -> list[PageSpec]:
    """The pages ``role`` may open, in navigation order (Overview first: where everyone lands)."""
    return [spec for spec in PAGES if role in spec.roles]
