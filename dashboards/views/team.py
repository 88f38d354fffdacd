"""Team: one group's results in a survey (drivers with the change since its previous survey, trend lines, eNPS
distribution, participation, what matters most, top comment themes). Opened with ``?team=<team_id>&scope=``;
a team outside the person's scope shows nothing but a refusal (and its queries would return nothing anyway)."""

import streamlit as st

from dashboards import charts, export, layout, results, session
from dashboards.scope import ORG_TEAM_ID

NO_ACCESS = "You do not have access to this team"
TAB_KEY = "team_tab"

viewer = session.require_viewer()

st.title("Team")

team_id, scope, allowed = results.parse_group(st.query_params.get("team"), st.query_params.get("scope"), viewer)
if not allowed:
    st.error(NO_ACCESS, icon=":material/block:")
    st.stop()

survey_table = results.surveys() if results.results_ready() else None
if survey_table is None or survey_table.empty:
    st.info("No survey yet", icon=":material/inbox:")
    st.stop()

groups = [results.Group(ORG_TEAM_ID, "org", "Whole organisation"), *results.team_groups(results.visible_teams(viewer))]
keys = [(g.team_id, g.scope) for g in groups]
labels = {(g.team_id, g.scope): g.label for g in groups}
if (team_id, scope) not in labels:
    # the first team of the person's scope (the organisation for viewers)
    team_id, scope = keys[1] if len(keys) > 1 and team_id is None else keys[0]
chosen = st.selectbox("Team", keys, index=keys.index((team_id, scope)), format_func=labels.get, key="team_group")
team_id, scope = chosen
st.query_params.update({"team": team_id, "scope": scope})
name = labels[chosen].strip()

surveyed = results.group_surveys(viewer, team_id, scope)
if not surveyed:
    st.info(f"No survey yet for {name}.", icon=":material/inbox:")
    st.stop()
ordered = survey_table[survey_table["survey_id"].isin(surveyed)].sort_values("survey_seq", ascending=False)
survey_labels = {row["survey_id"]: results.survey_label(row) for row in ordered.to_dict("records")}
survey_id = st.selectbox("Survey", list(survey_labels), format_func=survey_labels.get, key="team_survey")

min_n = results.min_n()
hidden = results.suppressed_reason_text(min_n)
drivers = results.team_drivers(viewer, survey_id, team_id, scope)
table = results.drivers_frame(drivers, min_n)
if not table.empty and table["suppressed"].all():
    st.warning(f"{name} in {survey_id}: scores {hidden}.", icon=":material/visibility_off:")

participation = results.team_participation(viewer, survey_id, team_id, scope)
distribution = results.team_enps(viewer, survey_id, team_id, scope)
rate, responded, enps_box = st.columns(3)
if participation is not None:
    rate.metric(
        "Participation", "—" if participation.rate is None else f"{participation.rate:.0%}",
        delta=None if participation.change_rel is None else f"{100 * participation.change_rel:+.0f} % vs previous",
        border=True, help="Responses ÷ people invited; the change is relative to the group's previous survey.",
    )
    responded.metric("Responded", f"{participation.responded:,}", delta=f"of {participation.invited:,} invited",
                     delta_color="off", delta_arrow="off", border=True)
if distribution is not None:
    if distribution.suppressed:
        enps_box.metric("eNPS", results.SUPPRESSED_LABEL, help=hidden, border=True)
    else:
        enps_box.metric("eNPS", f"{distribution.enps:+.0f}", border=True,
                        help="% promoters (9-10) − % detractors (0-6), from −100 to +100.")


def driver_scores() -> None:
    if table.empty:
        st.info("No driver scores for this group in this survey.", icon=":material/inbox:")
        return
    st.caption(f"Change: since the group's previous survey. Suppressed: {hidden}.")
    shown = results.as_text(table.drop(columns=["driver_id", "suppressed"]), ["Mean (1-10)", "Change (points)"])
    st.dataframe(results.as_text(shown, ["Favorable %", "Change %"], digits=1), hide_index=True)
    charts.draw("driver_bars", results.driver_bar_frame(drivers, min_n))
    layout.csv_download("Download drivers (CSV)", table.drop(columns=["driver_id"]),
                        export.download_name("team", team_id, scope, survey_id), "team_download")


def trends() -> None:
    points = results.trend_points(results.team_trends(viewer, team_id, scope), min_n)
    if points["survey_id"].nunique() < 2:
        st.caption("Trend lines appear once the group has been in two surveys.")
    else:
        charts.draw("trend_lines", points)


def enps_distribution() -> None:
    segments = results.enps_frame(distribution, min_n)
    if segments.empty:
        st.caption("Nobody in this group answered the eNPS question.")
    else:
        charts.draw("enps_bar", segments)


def what_matters_most() -> None:
    impact = results.team_driver_impact(viewer, survey_id, team_id, scope)
    if impact.empty:
        st.caption(
            "Shown for groups of 30 or more respondents (the organisation, large departments): fewer people give "
            "no reliable correlation."
        )
        return
    outcome = st.radio("Related to", ["engagement", "enps"], horizontal=True, key="team_outcome",
                       format_func={"engagement": "Engagement", "enps": "eNPS"}.get)
    st.caption("Drivers ranked by their correlation with the outcome across respondents (correlation, not cause): "
               "a strong relation with a low mean is where action pays most.")
    st.dataframe(results.as_text(results.what_matters_most(impact, drivers, outcome, min_n), ["Mean (1-10)"]),
                 hide_index=True)


def comment_themes() -> None:
    themes = results.team_themes(viewer, survey_id, team_id, scope)
    if themes is None or themes.n_comments == 0:
        st.caption("No comments from this group in this survey.")
    elif themes.suppressed:
        st.caption(f"Themes hidden to protect anonymity: fewer than {results.min_n('comment_min_n')} comments.")
    else:
        st.markdown(" · ".join(f"**{theme}**" for theme in themes.top_themes) or "No theme yet.")
        st.caption(f"{themes.n_comments:,} comments; {themes.negative_share:.0%} negative, "
                   f"{themes.positive_share:.0%} positive.")


# Only the open tab runs its queries and is drawn (layout.lazy_tabs).
layout.lazy_tabs(TAB_KEY, {
    "Drivers": driver_scores, "Trends": trends, "eNPS distribution": enps_distribution,
    "What matters most": what_matters_most, "Comment themes": comment_themes,
})
