"""Comments: what people wrote (masked), by team, theme and sentiment, with semantic search and the insights.

Managers and admins read the published comments of the teams they may see; a viewer gets the organisation's
comment insights only. Teams whose comments are withheld for anonymity say so instead of showing nothing.
"""

import streamlit as st

from assets.nlp.search import SearchError
from dashboards import comments, data, export, layout, session

ALL = None
TAB_KEY = "comments_tab"

viewer = session.require_viewer()
team_filter = viewer.team_filter()

st.title("Comments")
st.caption(
    "Free-text answers with personal data masked, each with its sentiment and theme. Comments of a team are "
    "shown only when enough people commented, and never the ones held for safety review."
)

requested_team = st.query_params.get("team")
if requested_team and not viewer.may_see(requested_team):
    st.error("You do not have access to this team", icon=":material/block:")
    st.stop()

if data.missing_relations(("marts.comments", "marts.comment_insights")):
    st.info("No survey yet", icon=":material/inbox:")
    st.stop()
surveys = comments.surveys()
if surveys.empty:
    st.info("No survey yet", icon=":material/inbox:")
    st.stop()

min_n = comments.comment_min_n()
titles = dict(zip(surveys["survey_id"], surveys["title"], strict=True))
survey_id = st.selectbox(
    "Survey", list(titles), format_func=lambda s: f"{titles[s]} ({s})" if titles[s] != s else s,
    key="comments_survey",
)


def insights_section() -> None:
    insights = comments.insights(survey_id, team_filter, org_only=viewer.role == "viewer")
    org = comments.org_insight(insights)

    if org is not None:
        total, negative, neutral, positive = st.columns(4)
        total.metric("Comments (organisation)", f"{int(org['n_comments']):,}", border=True)
        negative.metric("Negative", comments.share_label(org["negative_share"]), border=True)
        neutral.metric("Neutral", comments.share_label(org["neutral_share"]), border=True)
        positive.metric("Positive", comments.share_label(org["positive_share"]), border=True)
        if org["suppressed"]:
            st.warning(f"Organisation: hidden to protect anonymity: fewer than {min_n} comments",
                       icon=":material/lock:")
    if insights.empty:
        st.info("No comments in this survey yet.", icon=":material/inbox:")
    else:
        st.dataframe(
            comments.insights_display(insights, min_n),
            hide_index=True,
            column_config={
                "group": st.column_config.TextColumn("Group", pinned=True),
                "n_comments": st.column_config.NumberColumn("Comments", format="localized"),
                "negative_share": st.column_config.TextColumn("Negative"),
                "neutral_share": st.column_config.TextColumn("Neutral"),
                "positive_share": st.column_config.TextColumn("Positive"),
                "top_themes": st.column_config.TextColumn("Top themes", width="large"),
            },
        )
        marked = export.mark_suppressed(insights, comments.INSIGHT_VALUES, min_n, unit="comments")
        layout.csv_download("Download insights (CSV)", marked, export.download_name("comment-insights", survey_id),
                            "comments_insights_csv")


def comments_section() -> None:
    team_rows = comments.teams(survey_id, team_filter)
    team_names = dict(zip(team_rows["team_id"], team_rows["team_name"], strict=True))
    team_options = [ALL, *team_names]
    if requested_team and requested_team not in team_names:
        team_options.append(requested_team)
    left, middle, right = st.columns(3)
    team_id = left.selectbox(
        "Team", team_options, index=team_options.index(requested_team) if requested_team else 0,
        format_func=lambda t: "All my teams" if t is ALL else team_names.get(t, t), key="comments_team",
    )
    theme = middle.selectbox(
        "Theme", [ALL, *comments.themes(survey_id, team_filter)],
        format_func=lambda t: "All themes" if t is ALL else t, key="comments_theme",
    )
    sentiment = right.selectbox(
        "Sentiment", [ALL, *comments.SENTIMENTS],
        format_func=lambda s: "All sentiments" if s is ALL else s, key="comments_sentiment",
    )

    for row in comments.withheld(survey_id, team_filter, team_id).itertuples():
        st.warning(f"{row.team_name}: {comments.withheld_message(row.suppression_reason, min_n)}",
                   icon=":material/lock:")

    selection = (survey_id, team_filter, team_id, theme, sentiment)
    shown = comments.comments(*selection, limit=comments.COMMENTS_SHOWN)
    if shown.empty:
        st.info("No published comment matches this selection.", icon=":material/filter_alt_off:")
    else:
        total = comments.comment_count(*selection) if len(shown) == comments.COMMENTS_SHOWN else len(shown)
        st.caption(f"{total:,} comments" if total == len(shown) else (
            f"{total:,} comments; the first {len(shown):,} by team are listed. Narrow them with the filters above; "
            "the CSV holds all of them."))
        st.dataframe(
            shown[["team_name", "sentiment_label", "theme", "text_masked"]],
            hide_index=True,
            column_config={
                "team_name": st.column_config.TextColumn("Team"),
                "sentiment_label": st.column_config.TextColumn("Sentiment"),
                "theme": st.column_config.TextColumn("Theme"),
                "text_masked": st.column_config.TextColumn("Comment (masked)", width="large"),
            },
        )
        every = shown if total == len(shown) else (lambda: comments.comments(*selection))  # fetched on click
        layout.csv_download("Download comments (CSV)", every, export.download_name("comments", survey_id, team_id),
                            "comments_csv")


def search_section() -> None:
    with st.form("comments_search_form", border=False):
        text = st.text_input(
            "Search comments", key="comments_search", placeholder="e.g. too many meetings",
            help="Finds comments that mean something close to your words, in the teams you may see.",
        )
        searched = st.form_submit_button("Search", icon=":material/search:")
    if searched:
        try:
            hits = comments.search(text, team_filter, survey_id)
        except SearchError as exc:
            st.error(f"Cannot search: {exc}.", icon=":material/error:")
        else:
            if hits.empty:
                st.info("No published comment found.", icon=":material/search_off:")
            else:
                st.dataframe(
                    hits[["similarity", "team_name", "sentiment_label", "theme", "text_masked"]],
                    hide_index=True,
                    column_config={
                        "similarity": st.column_config.ProgressColumn("Match", min_value=0.0, max_value=1.0,
                                                                      format="percent"),
                        "team_name": st.column_config.TextColumn("Team"),
                        "sentiment_label": st.column_config.TextColumn("Sentiment"),
                        "theme": st.column_config.TextColumn("Theme"),
                        "text_masked": st.column_config.TextColumn("Comment (masked)", width="large"),
                    },
                    key="comments_search_hits",
                )
                layout.csv_download("Download search results (CSV)", hits,
                                    export.download_name("comments-search", survey_id), "comments_search_csv")


if viewer.role == "viewer":
    insights_section()
    st.info(
        "Individual comments are available to managers (for their teams) and admins; you see the organisation's "
        "comment insights.",
        icon=":material/info:",
    )
else:
    # only the open tab runs its queries and is drawn (layout.lazy_tabs)
    layout.lazy_tabs(TAB_KEY, {"Comments": comments_section, "Insights": insights_section,
                               "Search by meaning": search_section})
