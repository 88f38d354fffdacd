"""The Novora Streamlit app: ``streamlit run dashboards/app.py`` (``novora demo`` serves it).

This entry point configures the page, signs people in and registers the pages their role may open; each page
lays out what the data layer returns for the signed-in ``Viewer``. Someone not signed in gets the sign-in page
and nothing else, whatever URL they open. The session is checked against the database on every run, so an
expired session, a deactivated account or a changed role takes effect on the next click.
"""

import streamlit as st

from assets.access import auth
from dashboards import data, session
from dashboards.navigation import PAGES, page_specs

st.set_page_config(page_title="Novora", page_icon=":material/insights:", layout="wide")

TOKEN_KEY = "novora_token"
NOTICE_KEY = "novora_notice"


def sign_in_page() -> None:
    st.title("Novora")
    st.caption("Employee-engagement results. Sign in with the email on the company roster.")
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(notice, icon=":material/info:")
    with st.form("sign_in", clear_on_submit=False, border=True):
        email = st.text_input("Email", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            with data.connection() as conn:
                st.session_state[TOKEN_KEY] = auth.sign_in(conn, email, password)
        except auth.AuthError as exc:
            st.error(str(exc), icon=":material/lock:")
        else:
            st.rerun()
    st.caption("No password yet? An admin sets it in the app, or an operator runs `novora users set-password EMAIL`.")


def sign_out() -> None:
    token = st.session_state.pop(TOKEN_KEY, "")
    st.session_state.pop(session.VIEWER_KEY, None)
    if token:
        with data.connection() as conn:
            auth.sign_out(conn, token)
    st.session_state[NOTICE_KEY] = "You are signed out."


def signed_in_viewer():
    """The person behind this browser session's token, checked against the database now (None: sign in)."""
    token = st.session_state.get(TOKEN_KEY, "")
    if not token:
        return None
    with data.connection() as conn:
        viewer = auth.resume(conn, token)
    if viewer is None:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state[NOTICE_KEY] = "Your session ended (inactive too long, or signed out elsewhere); sign in again."
    return viewer


def pages_for(role: str) -> list:
    return [st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec.path == PAGES[0].path)
            for spec in page_specs(role)]


try:
    viewer = signed_in_viewer()
    st.session_state[session.VIEWER_KEY] = viewer
    if viewer is None:
        # Every page's address leads to the sign-in form (a bookmarked /team?team=... included), and once signed
        # in the same address opens that page, if the person's role has it.
        page = st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:", url_path=spec.url_path,
                                      default=spec == PAGES[0]) for spec in PAGES], position="hidden")
    else:
        page = st.navigation(pages_for(viewer.role))
        with st.sidebar:
            st.caption(f"Signed in as **{viewer.email}** ({viewer.role})")
            st.button("Sign out", icon=":material/logout:", on_click=sign_out)
            st.button(
                "Refresh data",
                icon=":material/refresh:",
                on_click=data.refresh,
                help="Figures are read again within seconds of new data landing; this reads the warehouse again now.",
            )
            if viewer.is_admin:
                st.caption(f"[Dagster UI]({data.dagster_ui_url()}): lineage, runs, backfills")
    page.run()
except data.WarehouseUnavailable as exc:
    st.error(f"The warehouse cannot be reached: {exc}", icon=":material/cloud_off:")
    st.caption("Start it with `novora db start`, or check `NOVORA_DATABASE_URL`, then reload this page.")
