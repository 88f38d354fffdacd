"""The signed-in person of this browser session, for pages.

``app.py`` signs people in and stores their ``Viewer`` under ``VIEWER_KEY`` in ``st.session_state``; every
page starts with ``viewer = session.require_viewer()`` (or ``require_admin()``), which stops the page for anyone
not signed in (or not allowed), so no page can show data without sign-in even when run on its own.
"""

from __future__ import annotations

import streamlit as st

from dashboards.scope import Viewer

VIEWER_KEY = "novora_viewer"


def current_viewer() -> Viewer | None:
    value = st.session_state.get(VIEWER_KEY)
    return value if isinstance(value, Viewer) else None


def require_viewer() -> Viewer:
    """The signed-in person, or stop the page with a sign-in notice."""
    viewer = current_viewer()
    if viewer is None:
        st.warning("Sign in to see survey results.", icon=":material/lock:")
        st.stop()
    return viewer


def require_admin() -> Viewer:
    """The signed-in admin, or stop the page: settings, users and the review queue are for admins only."""
    viewer = require_viewer()
    if not viewer.is_admin:
        st.error("This page is for admins only.", icon=":material/block:")
        st.stop()
    return viewer
