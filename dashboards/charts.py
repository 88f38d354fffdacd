"""Chart objects for the Novora app. Colours come from the active Streamlit theme (light or dark), never from here."""

from __future__ import annotations

import altair as alt
import pandas as pd

BAR_STEP_PX = 24  # height of one bar row: long reason labels stay readable


def quarantine_reasons_chart(reasons: pd.DataFrame) -> alt.Chart:
    """Horizontal bars, one per quarantine reason, longest first (expects reason, rows_rejected, datasets)."""
    return (
        alt.Chart(reasons, title=alt.TitleParams("Rows rejected per reason", anchor="start"))
        .mark_bar()
        .encode(
            x=alt.X("rows_rejected:Q", title="Rows rejected", axis=alt.Axis(format=",d", tickMinStep=1)),
            y=alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelLimit=420)),
            tooltip=[
                alt.Tooltip("reason:N", title="Reason"),
                alt.Tooltip("rows_rejected:Q", title="Rows rejected", format=","),
                alt.Tooltip("datasets:N", title="Datasets"),
            ],
        )
        .properties(height=alt.Step(BAR_STEP_PX))
    )
