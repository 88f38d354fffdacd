"""Overview: the organisation's engagement, eNPS and participation in a survey, their trend, the open alerts
and a heatmap of every group this person may see across the drivers (suppressed cells shown as suppressed)."""

import streamlit as st

from dashboards import charts, data, export, layout, results, session

EMPTY_STATE = "No survey yet — run `novora generate` and `novora materialize`, or drop files into the landing zone"
TEAM_PAGE = "views/team.py"

viewer = session.require_viewer()

st.title("Overview")

survey_table = results.surveys() if results.results_ready() else None
if survey_table is None or survey_table.empty:
    st.info(EMPTY_STATE, icon=":material/inbox:")
    st.caption(f"Landing zone: `{data.landing_zone()}`")
    st.stop()

min_n = results.min_n()
hidden = results.suppressed_reason_text(min_n)
labels = {row["survey_id"]: results.survey_label(row) for row in survey_table.to_dict("records")}
newest_first = survey_table.sort_values("survey_seq", ascending=False)["survey_id"].tolist()
survey_id = st.selectbox(
    "Survey", newest_first, index=newest_first.index(results.default_survey(survey_table)),
    format_func=labels.get, key="overview_survey",
)

series = results.org_series(viewer)
headline = results.org_headline(series, survey_id)
n_open, n_open_survey = results.open_alerts(viewer, survey_id)


def trend(column: str, flag: str | None) -> list[float]:
    """The organisation's published values, oldest survey first (a suppressed survey leaves no point)."""
    shown = series if flag is None else series[~series[flag].astype(bool)]
    return shown[column].dropna().round(2).tolist()


def signed(value: float | None, digits: int, unit: str = "") -> str | None:
    return None if value is None else f"{value:+.{digits}f}{unit}"


engagement, enps, participation, alerts = st.columns(4)
if headline.engagement_suppressed:
    engagement.metric("Engagement", results.SUPPRESSED_LABEL, help=hidden, border=True)
else:
    engagement.metric(
        "Engagement", "—" if headline.engagement is None else f"{headline.engagement:.2f}",
        delta=signed(results.change(headline.engagement, headline.prev_engagement), 2),
        chart_data=trend("engagement_score", "engagement_suppressed"), border=True,
        help="Mean of every likert answer (1-10) across the organisation; change since the previous survey.",
    )
if headline.enps_suppressed:
    enps.metric("eNPS", results.SUPPRESSED_LABEL, help=hidden, border=True)
else:
    enps.metric(
        "eNPS", "—" if headline.enps is None else f"{headline.enps:+.0f}",
        delta=signed(results.change(headline.enps, headline.prev_enps), 0),
        chart_data=trend("enps", "enps_suppressed"), border=True,
        help="% promoters (9-10) − % detractors (0-6), from −100 to +100; change since the previous survey.",
    )
rate_change = results.change(headline.participation_rate, headline.prev_participation_rate)
participation.metric(
    "Participation", "—" if headline.participation_rate is None else f"{headline.participation_rate:.0%}",
    delta=f"{headline.responded:,} of {headline.invited:,} invited responded", delta_color="off", delta_arrow="off",
    chart_data=[round(100 * r, 1) for r in trend("participation_rate", None)], border=True,
    help="Responses ÷ people invited (counts are never suppressed)"
    + ("" if rate_change is None else f"; {100 * rate_change:+.1f} points since the previous survey") + ".",
)
alerts.metric(
    "Open alerts", f"{n_open:,}", delta=f"{n_open_survey:,} about this survey", delta_color="off",
    delta_arrow="off", border=True, help="Open or acknowledged alerts about the groups you may see.",
)
suppressed_surveys = series[series["engagement_suppressed"].astype(bool)]["survey_id"].tolist()
if suppressed_surveys:
    st.caption(f"Not in the trend lines ({hidden}): {', '.join(suppressed_surveys)}.")

st.subheader("Drivers by group")
frame = results.heatmap_frame(results.heatmap_cells(viewer, survey_id), min_n)
if frame.empty:
    st.info("No scores for this survey yet.", icon=":material/inbox:")
    st.stop()

levels = results.heatmap_levels(frame)
default_level = results.default_heatmap_level(levels)
if default_level is not None and not default_level.every_group:
    # a large organisation opens on its top levels; deeper levels (every team at the last) are one choice away
    level = st.selectbox("Groups shown", levels, index=levels.index(default_level), format_func=lambda lv: lv.label,
                         key="overview_depth")
    frame = results.heatmap_down_to(frame, level.depth)
st.caption(
    "Mean score (1-10) per driver. Grey cells are suppressed: " + hidden
    + (". You see organisation-level results." if viewer.role == "viewer" else ".")
)
charts.draw("driver_heatmap", frame)
table = results.heatmap_table(frame, min_n)

groups = table[table["scope"] != "org"][["team_id", "scope", "Group"]]
if not groups.empty:
    options = list(groups.itertuples(index=False, name=None))
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    chosen = left.selectbox("Open a group's page", options, format_func=lambda g: g[2], key="overview_group")
    right.page_link(TEAM_PAGE, label=f"Open {chosen[2]}", icon=":material/arrow_forward:",
                    query_params={"team": chosen[0], "scope": chosen[1]})

# the table is drawn only once opened (it repeats the heatmap's numbers, for screen readers and copying)
as_table = st.expander("Heatmap as a table", icon=":material/table:", key="overview_table", on_change="rerun")
if as_table.open:
    metric_columns = [c for c in table.columns if c not in ("Group", "team_id", "scope")]
    as_table.dataframe(results.as_text(table.drop(columns=["team_id", "scope"]), metric_columns), hide_index=True)
layout.csv_download("Download heatmap (CSV)", table, export.download_name("heatmap", survey_id), "overview_download")
