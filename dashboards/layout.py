"""Page layout shared by the views: sections that cost nothing until someone opens them.

A page's browser time grows with every element it draws (each table, chart, widget and caption is React work on
the reader's machine), and its server time with every query. ``lazy_tabs`` draws only the open tab: its section
runs, the others send nothing, and choosing another tab reruns the page with that one. The open tab is kept in
``st.session_state[key]`` (its label) while the page is open, and tests choose a tab by setting that key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import streamlit as st

from dashboards.export import csv_on_click


def lazy_tabs(key: str, sections: Mapping[str, Callable[[], object]]) -> str:
    """One tab per section, in order; only the open one (the first, until someone picks another) runs its
    function. Returns the open tab's label."""
    labels = list(sections)
    tabs = st.tabs(labels, key=key, on_change="rerun")
    for label, tab in zip(labels, tabs, strict=True):
        if tab.open:
            with tab:
                sections[label]()
            return label
    raise RuntimeError(f"no tab of {key} is open")  # Streamlit marks exactly one open with on_change="rerun"


def csv_download(label: str, frame: pd.DataFrame | Callable[[], pd.DataFrame], file_name: str,
                 key: str | None = None) -> None:
    """A button that downloads ``frame`` as a safe CSV (``export.to_csv_bytes``), made only when clicked and
    without rerunning the page; ``frame`` may be a function that reads it then (more rows than the page shows)."""
    st.download_button(label, csv_on_click(frame), file_name=file_name, mime="text/csv", icon=":material/download:",
                       key=key, on_click="ignore")
