"""Chart objects for the Novora app. Colours come from the active Streamlit theme (light or dark), never from here."""

from __future__ import annotations

import threading
from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st

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


# Suppressed groups are drawn, never left blank (SPEC section 6): a neutral grey that reads in both themes, with
# the word "suppressed" on it and the reason in its tooltip. The only colour set here.
SUPPRESSED_GREY = "#9e9e9e"
SCORE_DOMAIN = (1, 10)
HEATMAP_ROW_PX = 34
ENPS_BAR_PX = 48


def driver_heatmap(cells: pd.DataFrame) -> alt.LayerChart:
    """Groups x drivers (expects results.heatmap_frame): published cells coloured by mean score with the theme's
    sequential scheme, suppressed cells grey with the word 'suppressed' and the reason as their tooltip."""
    y = alt.Y("row_label:N", title=None, sort=alt.SortField("row_order"), axis=alt.Axis(labelLimit=320))
    x = alt.X("column_label:N", title=None, sort=alt.SortField("column_order"),
              axis=alt.Axis(orient="top", labelAngle=0, labelLimit=140))
    tooltip = [alt.Tooltip("row_label:N", title="Group"), alt.Tooltip("column_label:N", title="Driver"),
               alt.Tooltip("tooltip:N", title="Score")]
    base = alt.Chart(cells).encode(x=x, y=y, tooltip=tooltip)
    published = base.transform_filter("!datum.suppressed").mark_rect().encode(
        color=alt.Color("score:Q", title="Mean (1-10)", scale=alt.Scale(domain=list(SCORE_DOMAIN)),
                        legend=alt.Legend(orient="bottom", direction="horizontal", gradientLength=240))
    )
    hidden = base.transform_filter("datum.suppressed").mark_rect(color=SUPPRESSED_GREY, opacity=0.35)
    labels = base.mark_text(fontSize=12).encode(text="label:N")
    return (published + hidden + labels).properties(height=alt.Step(HEATMAP_ROW_PX))


def driver_bars(drivers: pd.DataFrame) -> alt.LayerChart:
    """Mean per driver (expects results.team_drivers plus 'label' and 'tooltip'): suppressed drivers are a grey
    full-length bar saying 'suppressed'."""
    y = alt.Y("driver_name:N", title=None, sort=alt.SortField("order"), axis=alt.Axis(labelLimit=240))
    tooltip = [alt.Tooltip("driver_name:N", title="Driver"), alt.Tooltip("tooltip:N", title="Mean")]
    base = alt.Chart(drivers).encode(y=y, tooltip=tooltip)
    published = base.transform_filter("!datum.suppressed").mark_bar().encode(
        x=alt.X("mean_score:Q", title="Mean (1-10)", scale=alt.Scale(domain=[0, SCORE_DOMAIN[1]]))
    )
    hidden = base.transform_filter("datum.suppressed").transform_calculate(full=str(SCORE_DOMAIN[1])).mark_bar(
        color=SUPPRESSED_GREY, opacity=0.35).encode(x="full:Q")
    labels = base.transform_calculate(at="datum.suppressed ? 5 : datum.mean_score").mark_text(
        align="left", dx=4).encode(x="at:Q", text="label:N")
    return (published + hidden + labels).properties(height=alt.Step(BAR_STEP_PX + 4))


def trend_lines(points: pd.DataFrame) -> alt.LayerChart:
    """Mean per driver across surveys (expects results.trend_points); a survey where a driver was suppressed is
    marked by a grey 'suppressed' point at the foot of the axis, its tooltip giving the reason."""
    x = alt.X("survey:N", title=None, sort=alt.SortField("survey_seq"), axis=alt.Axis(labelAngle=0, labelLimit=160))
    colour = alt.Color("driver_name:N", title="Driver")
    tooltip = [alt.Tooltip("survey:N", title="Survey"), alt.Tooltip("driver_name:N", title="Driver"),
               alt.Tooltip("tooltip:N", title="Mean")]
    base = alt.Chart(points).encode(x=x, tooltip=tooltip)
    scale = alt.Scale(domain=list(SCORE_DOMAIN))
    published = base.transform_filter("!datum.suppressed")
    lines = published.mark_line(point=True).encode(y=alt.Y("mean_score:Q", title="Mean (1-10)", scale=scale),
                                                   color=colour)
    hidden = base.transform_filter("datum.suppressed").transform_calculate(floor=str(SCORE_DOMAIN[0]))
    marks = hidden.mark_point(shape="square", filled=True, color=SUPPRESSED_GREY, size=90).encode(
        y=alt.Y("floor:Q", scale=scale))
    words = hidden.mark_text(dy=-10, color=SUPPRESSED_GREY).encode(y=alt.Y("floor:Q", scale=scale),
                                                                   text=alt.value("suppressed"))
    return (lines + marks + words).properties(height=280)


ENPS_COLOURS = {"detractors": "#d1495b", "passives": "#9aa5b1", "promoters": "#2a9d62"}


def enps_bar(segments: pd.DataFrame) -> alt.Chart | alt.LayerChart:
    """One stacked bar of detractors, passives and promoters (expects results.enps_frame); a suppressed group is
    one grey bar saying 'suppressed', its tooltip giving the reason."""
    tooltip = [alt.Tooltip("category:N", title="Group"), alt.Tooltip("tooltip:N", title="Respondents")]
    # one band: a discrete y gives the bar its height whatever the container does with the chart's height
    band = alt.Y("band:N", title=None, axis=None)
    base = alt.Chart(segments).transform_calculate(band="'eNPS'").encode(y=band, tooltip=tooltip)
    if (segments["category"] == "suppressed").any():
        grey = base.mark_bar(color=SUPPRESSED_GREY, opacity=0.35).encode(
            x=alt.X("share:Q", title=None, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])))
        word = base.transform_calculate(mid="0.5").mark_text().encode(x="mid:Q", text=alt.value("suppressed"))
        return (grey + word).properties(height=alt.Step(ENPS_BAR_PX))
    # the one place with fixed colours: detractors read as red and promoters as green in every theme
    categories = segments.sort_values("order")["category"].tolist()
    colours = [ENPS_COLOURS[c.split(" ")[0].lower()] for c in categories]
    return base.mark_bar().encode(
        x=alt.X("share:Q", stack="normalize", title=None, axis=alt.Axis(format="%")),
        order=alt.Order("order:Q"),
        color=alt.Color("category:N", title=None, sort=categories, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=categories, range=colours)),
    ).properties(height=alt.Step(ENPS_BAR_PX))


# ---------------------------------------------------------------- drawing


_THEME_LOCK = threading.Lock()  # Altair's theme is global to every thread (Streamlit's own lock guards its uses)


def vega_lite_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart as a Vega-Lite spec with its data inline, as ``st.altair_chart`` sends it: Altair's default theme
    (a fixed 300 px view) switched off so the chart fills its container and takes Streamlit's theme."""
    with _THEME_LOCK:
        theme = alt.theme.enable("none") if alt.theme.active == "default" else None
        try:
            return chart.to_dict()
        finally:
            if theme is not None:
                alt.theme.enable("default")


BUILDERS: dict[str, Callable[[pd.DataFrame], alt.TopLevelMixin]] = {
    "quarantine_reasons": quarantine_reasons_chart,
    "driver_heatmap": driver_heatmap,
    "driver_bars": driver_bars,
    "trend_lines": trend_lines,
    "enps_bar": enps_bar,
}


@st.cache_data(show_spinner=False, max_entries=256)
def cached_spec(kind: str, frame: pd.DataFrame) -> dict:
    """``vega_lite_spec(BUILDERS[kind](frame))``, built and validated once per distinct frame: building a layered
    Altair chart and validating it against the Vega-Lite schema costs tens of milliseconds on every page run."""
    return vega_lite_spec(BUILDERS[kind](frame))


def draw(kind: str, frame: pd.DataFrame, container=None) -> None:
    """Draw chart ``kind`` of ``frame`` full width in ``container`` (the page by default)."""
    (container or st).vega_lite_chart(spec=cached_spec(kind, frame), width="stretch")
