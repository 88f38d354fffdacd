"""What the Comments page reads and how it shapes it: published comments, withheld teams, insights, search.

Only ``marts.comments`` (masked text of published teams, nothing held for safety review) and
``marts.comment_insights`` are read, always filtered in SQL by the viewer's teams (``Viewer.team_filter()``,
None for admins). A viewer's filter holds only the organisation, so a viewer gets org-level insights and no
individual comment. Semantic search embeds the query with the model the stored embeddings were made with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from assets.nlp import embeddings
from assets.nlp.search import search_comments
from dashboards import data
from dashboards.scope import ORG_TEAM_ID

SENTIMENTS = ("negative", "neutral", "positive")
DEFAULT_COMMENT_MIN_N = 4
SEARCH_LIMIT = 20

_TEAMS = "(%(teams)s::text[] is null or team_id = any(%(teams)s::text[]))"

# ---------------------------------------------------------------- settings

SETTING_SQL = "select value from app.settings where setting_key = %(key)s"


def setting_int(key: str, default: int) -> int:
    """An integer setting of app.settings (jsonb), or ``default`` when it is not set."""
    frame = data.query(SETTING_SQL, {"key": key})
    if frame.empty or frame.iloc[0]["value"] is None:
        return default
    return int(frame.iloc[0]["value"])


def comment_min_n() -> int:
    """The anonymity threshold for comments (comment_min_n): fewer commenting respondents, nothing is shown."""
    return setting_int("comment_min_n", DEFAULT_COMMENT_MIN_N)


# ---------------------------------------------------------------- pickers

SURVEYS_SQL = """
with

surveys as (select distinct survey_id from marts.comment_insights),

titled as (
    select surveys.survey_id, coalesce(marts_surveys.title, surveys.survey_id) as title, marts_surveys.opened_at
    from surveys
    left join marts.surveys as marts_surveys on marts_surveys.survey_id = surveys.survey_id
)

select * from titled
order by opened_at desc nulls last, survey_id desc
"""

SURVEYS_WITHOUT_TITLES_SQL = """
select distinct survey_id, survey_id as title from marts.comment_insights order by survey_id desc
"""


def surveys() -> pd.DataFrame:
    """Surveys that have comments, newest first (survey_id, title)."""
    if data.missing_relations(("marts.comment_insights",)):
        return pd.DataFrame(columns=["survey_id", "title"])
    sql = SURVEYS_WITHOUT_TITLES_SQL if data.missing_relations(("marts.surveys",)) else SURVEYS_SQL
    return data.query(sql)[["survey_id", "title"]]


TEAMS_SQL = f"""
select distinct team_id, team_name
from marts.comment_insights
where survey_id = %(survey)s and scope = 'team' and {_TEAMS}
order by team_name, team_id
"""


def teams(survey_id: str, team_filter: Sequence[str] | None) -> pd.DataFrame:
    """The teams with comments in ``survey_id`` that the viewer may see (team_id, team_name)."""
    return data.query(TEAMS_SQL, {"survey": survey_id, "teams": _list(team_filter)})


THEMES_SQL = f"""
select distinct theme from marts.comments
where survey_id = %(survey)s and theme is not null and {_TEAMS}
order by theme
"""


def themes(survey_id: str, team_filter: Sequence[str] | None) -> list[str]:
    """Themes of the published comments the viewer may see in ``survey_id``."""
    return data.query(THEMES_SQL, {"survey": survey_id, "teams": _list(team_filter)})["theme"].tolist()


# ---------------------------------------------------------------- comments

# The page lists at most this many comments (a year at benchmark size holds 20,000 a survey: fetching and drawing
# them all would take seconds); the filters narrow the list and the CSV holds every comment of the selection.
COMMENTS_SHOWN = 500

_COMMENT_FILTERS = f"""
    survey_id = %(survey)s
    and {_TEAMS}
    and (%(team)s::text is null or team_id = %(team)s)
    and (%(theme)s::text is null or theme = %(theme)s)
    and (%(sentiment)s::text is null or sentiment_label = %(sentiment)s)
"""

COMMENTS_SQL = f"""
select team_name, sentiment_label, theme, text_masked, team_id, survey_id, comment_id
from marts.comments
where {_COMMENT_FILTERS}
order by team_name, team_id, comment_id
limit %(limit)s
"""

COMMENT_COUNT_SQL = f"""
select count(*) as n_comments
from marts.comments
where {_COMMENT_FILTERS}
"""


def _comment_params(survey_id: str, team_filter: Sequence[str] | None, team_id: str | None, theme: str | None,
                    sentiment: str | None) -> dict[str, object]:
    return {"survey": survey_id, "teams": _list(team_filter), "team": team_id, "theme": theme, "sentiment": sentiment}


def comments(
    survey_id: str,
    team_filter: Sequence[str] | None,
    team_id: str | None = None,
    theme: str | None = None,
    sentiment: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Published comments (masked) of the survey in the viewer's scope, narrowed by team, theme and sentiment, in
    team order; the first ``limit`` of them (None: every one)."""
    return data.query(COMMENTS_SQL, {**_comment_params(survey_id, team_filter, team_id, theme, sentiment),
                                     "limit": limit})


def comment_count(
    survey_id: str,
    team_filter: Sequence[str] | None,
    team_id: str | None = None,
    theme: str | None = None,
    sentiment: str | None = None,
) -> int:
    """How many comments ``comments`` returns without a limit."""
    frame = data.query(COMMENT_COUNT_SQL, _comment_params(survey_id, team_filter, team_id, theme, sentiment))
    return int(frame.iloc[0]["n_comments"])


WITHHELD_SQL = f"""
select team_id, team_name, suppression_reason
from marts.comment_insights
where
    survey_id = %(survey)s
    and scope = 'team'
    and suppressed
    and {_TEAMS}
    and (%(team)s::text is null or team_id = %(team)s)
order by team_name, team_id
"""


def withheld(survey_id: str, team_filter: Sequence[str] | None, team_id: str | None = None) -> pd.DataFrame:
    """Teams in scope whose comments in ``survey_id`` are withheld for anonymity (team_id, team_name, reason)."""
    return data.query(WITHHELD_SQL, {"survey": survey_id, "teams": _list(team_filter), "team": team_id})


def withheld_message(reason: str | None, min_n: int) -> str:
    """Why a team's comments are not shown, in one line."""
    if reason == "complementary":
        return (
            f"hidden to protect anonymity: showing them would reveal a related team's comments "
            f"(fewer than {min_n} comments)"
        )
    return f"hidden to protect anonymity: fewer than {min_n} comments"


# ---------------------------------------------------------------- insights

INSIGHTS_SQL = f"""
select
    team_name,
    scope,
    n_comments,
    negative_share::float as negative_share,
    neutral_share::float as neutral_share,
    positive_share::float as positive_share,
    array_to_string(top_themes, ', ') as top_themes,
    suppressed,
    team_id
from marts.comment_insights
where survey_id = %(survey)s and {_TEAMS} and (%(org_only)s = false or scope = 'org')
order by (scope = 'org') desc, team_name, scope
"""

INSIGHT_VALUES = ("negative_share", "neutral_share", "positive_share", "top_themes")


def insights(survey_id: str, team_filter: Sequence[str] | None, org_only: bool = False) -> pd.DataFrame:
    """Comment statistics per group in scope (the org first); suppressed groups have null shares and themes."""
    return data.query(
        INSIGHTS_SQL, {"survey": survey_id, "teams": _list(team_filter), "org_only": bool(org_only)}
    )


def org_insight(frame: pd.DataFrame) -> pd.Series | None:
    """The organisation's row of an ``insights`` frame, if there is one."""
    rows = frame[frame["team_id"] == ORG_TEAM_ID]
    return None if rows.empty else rows.iloc[0]


def share_label(value: float | None) -> str:
    """``0.25`` -> ``25 %``; a withheld share reads "hidden"."""
    return "hidden" if value is None or pd.isna(value) else f"{value:.0%}".replace("%", " %")


# ---------------------------------------------------------------- search


@st.cache_resource(show_spinner="Loading the language model…")
def _model(path: str):
    return embeddings.load_model(path)


def embed(texts: list[str]) -> np.ndarray:
    """Sentence embeddings with the configured model (loaded once per app process)."""
    return embeddings.encode(texts, _model(data.config().embedding_model_path))


def model_name() -> str:
    """The name the stored embeddings were cached under (NOVORA_EMBEDDING_MODEL_NAME, as the pipeline uses)."""
    return data.config().embedding_model_name


def search(
    text: str, team_filter: Sequence[str] | None, survey_id: str | None = None, limit: int = SEARCH_LIMIT
) -> pd.DataFrame:
    """Published comments nearest in meaning to ``text`` in the viewer's scope (raises SearchError)."""
    with data.connection() as conn:
        conn.read_only = True
        hits = search_comments(
            conn, text, embed, model_name(), team_ids=_list(team_filter),
            survey_ids=[survey_id] if survey_id else None, limit=limit,
        )
    return hits_frame(hits)


SEARCH_COLUMNS = ["similarity", "team_name", "sentiment_label", "theme", "text_masked", "team_id", "survey_id",
                  "comment_id"]


def hits_frame(hits: Sequence) -> pd.DataFrame:
    """Search hits as a table, best first."""
    rows = [{column: getattr(hit, column) for column in SEARCH_COLUMNS} for hit in hits]
    return pd.DataFrame(rows, columns=SEARCH_COLUMNS)


def _list(team_filter: Sequence[str] | None) -> list[str] | None:
    return None if team_filter is None else list(team_filter)


def insights_display(frame: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """The insights table as people read it: shares as percentages, a withheld group says why on its row."""
    hidden = f"hidden to protect anonymity: fewer than {min_n} comments"
    shown = pd.DataFrame({
        "group": [_group_label(row.team_name, row.scope) for row in frame.itertuples()],
        "n_comments": frame["n_comments"].astype("int64"),
    })
    for column in ("negative_share", "neutral_share", "positive_share"):
        shown[column] = [
            hidden if s else share_label(v) for v, s in zip(frame[column], frame["suppressed"], strict=True)
        ]
    shown["top_themes"] = [hidden if s else (t or "—") for t, s in zip(frame["top_themes"], frame["suppressed"],
                                                                         strict=True)]
    return shown


def _group_label(team_name: str | None, scope: str) -> str:
    if scope == "org":
        return team_name or "Organisation"
    return f"{team_name} (with sub-teams)" if scope == "subtree" else str(team_name)
