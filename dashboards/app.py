"""The Novora Streamlit app: ``streamlit run dashboards/app.py`` (``novora demo`` serves it).

This entry point only configures the page, registers the pages and handles an unreachable warehouse; each
page lays out what ``dashboards.data`` returns.
"""

import streamlit as st

from dashboards import data

st.set_page_config(page_title="Novora", page_icon=":material/insights:", layout="wide")

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/data_health.py", title="Data health", icon=":material/health_and_safety:"),
]

page = st.navigation(PAGES)

with st.sidebar:
    st.button(
        "Refresh data",
        icon=":material/refresh:",
        on_click=data.refresh,
        help=f"Figures are cached for {data.CACHE_TTL_SECONDS} seconds; this reads the warehouse again now.",
    )
    st.caption(f"[Dagster UI]({data.dagster_ui_url()}): lineage, runs, backfills")

try:
    page.run()
except data.WarehouseUnavailable as exc:
    st.error(f"The warehouse cannot be reached: {exc}", icon=":material/cloud_off:")
    st.caption("Start it with `novora db start`, or check `NOVORA_DATABASE_URL`, then use **Refresh data**.")
