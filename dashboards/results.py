"""Survey results for the Overview and Team pages: the queries (scoped in SQL) and the pure shaping of what they
return into what a page shows.

Every query that returns group rows filters ``team_id`` with the viewer's ``team_filter()`` in SQL
(``TEAM_SCOPE``), so a page asked for a team outside the viewer's scope gets no rows, whatever its URL says.
Queries read only ``marts``, ``alerts`` and ``app.settings`` (the app's database role reads nothing else).

Suppressed groups (SPEC section 6) arrive with NULL scores and ``suppressed = true``; the shaping functions turn
them into an explicit "suppressed" value with the reason (``suppressed_reason_text``), never a blank cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboards import data, export
from dashboards.scope import ORG_TEAM_ID, Viewer

DEFAULT_MIN_N = 4
SUPPRESSED_LABEL = "suppressed"
ENGAGEMENT = "engagement"
ENGAGEMENT_NAME = "Engagement"
# The eight default drivers in the seed's order (SPEC section 4); drivers outside it follow alphabetically.
DRIVER_ORDER = (
    "recognition", "growth", "manager_relationship", "peer_relationships", "wellbeing", "autonomy", "alignment",
    "communication",
)
OPEN_ALERT_STATUSES = ("open", "acknowledged")
# Relations the two pages read; before the first `novora materialize` (or an older warehouse) some are missing.
RESULT_RELATIONS = (
    "marts.surveys", "marts.teams", "marts.engagement", "marts.enps", "marts.participation", "marts.driver_scores",
    "marts.trends",
)

# The scope filter every group query carries: None (admins) means every team.
TEAM_SCOPE = "(%(teams)s::text[] is null or team_id = any(%(teams)s::text[]))"


def suppressed_reason_text(min_n: int) -> str:
    """What a suppressed number says instead of itself, everywhere (tables, tooltips, exports)."""
    return f"hidden to protect anonymity: fewer than {min_n} responses"


def suppressed_export_text(min_n: int) -> str:
    """The text a suppressed cell holds in a table and a CSV export (the exports' own wording)."""
    return export.suppressed_text(min_n)


def _params(viewer: Viewer, **values: Any) -> dict[str, Any]:
    return {"teams": viewer.team_filter(), **values}


def _float(value: Any) -> float | None:
    """Decimal / numpy / None from the warehouse as a float or None (NaN counts as None)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _numeric(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


# ---------------------------------------------------------------- settings and reference data


SETTING_SQL = "select value::text as value from app.settings where setting_key = %(key)s"


def min_n(setting_key: str = "min_n") -> int:
    """The anonymity threshold for scores (``min_n``) or comments (``comment_min_n``) from app.settings; the
    seeded default when unset."""
    frame = data.query(SETTING_SQL, {"key": setting_key})
    if frame.empty:
        return DEFAULT_MIN_N
    return int(float(str(frame.iloc[0]["value"]).strip('"')))


def results_ready() -> bool:
    """True once the marts the results pages read exist (``novora materialize`` has built them)."""
    return not data.missing_relations(RESULT_RELATIONS)


SURVEYS_SQL = """
select survey_id, title, opened_at, closed_at, n_questions, invited, responded, participation_rate, survey_seq,
    is_latest
from marts.surveys
order by survey_seq
"""


def surveys() -> pd.DataFrame:
    """Every loaded survey, oldest first (``survey_seq`` 1 is the oldest); empty before the first survey."""
    return _numeric(data.query(SURVEYS_SQL), "participation_rate")


def survey_label(row: pd.Series | dict) -> str:
    """``2026-03 · March pulse``: how a survey is named in pickers and charts."""
    title = row.get("title") if isinstance(row, dict) else row["title"]
    return f"{row['survey_id']} · {title}" if title else str(row["survey_id"])


def default_survey(survey_table: pd.DataFrame) -> str | None:
    """The survey a page opens on: the latest one."""
    if survey_table.empty:
        return None
    latest = survey_table[survey_table["is_latest"]]
    row = latest.iloc[0] if not latest.empty else survey_table.sort_values("survey_seq").iloc[-1]
    return str(row["survey_id"])


TEAMS_SQL = f"""
with

teams as (select * from marts.teams where {TEAM_SCOPE})

select team_id, team_name, parent_team_id, depth, has_children, path_names
from teams
order by path_names, team_id
"""


def visible_teams(viewer: Viewer) -> pd.DataFrame:
    """The teams this person may open, in hierarchy order (``path_names``)."""
    return data.query(TEAMS_SQL, _params(viewer))


@dataclass(frozen=True)
class Group:
    """A group the marts report on: a team's direct members, a team with its subtree, or the organisation."""

    team_id: str
    scope: str
    label: str


def group_label(team_name: str, scope: str, has_children: bool) -> str:
    """How a group is named: 'Whole organisation', 'Sales', 'Department (whole subtree)' or
    'Department (direct members)' (a team with sub-teams has both rows)."""
    if scope == "org":
        return "Whole organisation"
    if scope == "subtree":
        return f"{team_name} (whole subtree)"
    return f"{team_name} (direct members)" if has_children else team_name


def team_groups(teams: pd.DataFrame) -> list[Group]:
    """The groups a team picker offers for these teams: each team, and the subtree of a team with sub-teams
    (listed first: it is what a manager of a department usually means)."""
    groups: list[Group] = []
    for row in teams.itertuples():
        name = str(row.team_name)
        indent = "\u2003" * int(row.depth)  # em spaces: the hierarchy reads in a selectbox
        if row.has_children:
            groups.append(Group(row.team_id, "subtree", indent + group_label(name, "subtree", True)))
        groups.append(Group(row.team_id, "team", indent + group_label(name, "team", bool(row.has_children))))
    return groups


# ---------------------------------------------------------------- Overview


@dataclass(frozen=True)
class OrgHeadline:
    """The organisation's numbers for one survey, with the previous survey's for the change."""

    survey_id: str
    engagement: float | None
    engagement_suppressed: bool
    enps: float | None
    enps_suppressed: bool
    invited: int
    responded: int
    participation_rate: float | None
    prev_engagement: float | None
    prev_enps: float | None
    prev_participation_rate: float | None


ORG_SERIES_SQL = f"""
with

surveys as (select * from marts.surveys),

engagement as (select * from marts.engagement where scope = 'org' and {TEAM_SCOPE}),

enps as (select * from marts.enps where scope = 'org' and {TEAM_SCOPE}),

participation as (select * from marts.participation where scope = 'org' and {TEAM_SCOPE})

select
    surveys.survey_id,
    surveys.title,
    surveys.survey_seq,
    engagement.engagement_score,
    coalesce(engagement.suppressed, false) as engagement_suppressed,
    enps.enps,
    coalesce(enps.suppressed, false) as enps_suppressed,
    coalesce(participation.invited, surveys.invited) as invited,
    coalesce(participation.responded, surveys.responded) as responded,
    coalesce(participation.participation_rate, surveys.participation_rate) as participation_rate
from surveys
left join engagement on engagement.survey_id = surveys.survey_id
left join enps on enps.survey_id = surveys.survey_id
left join participation on participation.survey_id = surveys.survey_id
order by surveys.survey_seq
"""


def org_series(viewer: Viewer) -> pd.DataFrame:
    """Per survey, oldest first: the organisation's engagement, eNPS and participation (suppression flags kept)."""
    frame = data.query(ORG_SERIES_SQL, _params(viewer))
    return _numeric(frame, "engagement_score", "enps", "participation_rate")


def org_headline(series: pd.DataFrame, survey_id: str) -> OrgHeadline | None:
    """The headline of ``survey_id`` from ``org_series``, with the survey before it for the changes."""
    ordered = series.sort_values("survey_seq").reset_index(drop=True)
    matches = ordered.index[ordered["survey_id"] == survey_id].tolist()
    if not matches:
        return None
    row = ordered.iloc[matches[0]]
    prev = ordered.iloc[matches[0] - 1] if matches[0] > 0 else None

    def published(frame_row: pd.Series | None, column: str, flag: str | None) -> float | None:
        if frame_row is None or (flag and bool(frame_row[flag])):
            return None
        return _float(frame_row[column])

    return OrgHeadline(
        survey_id=survey_id,
        engagement=published(row, "engagement_score", "engagement_suppressed"),
        engagement_suppressed=bool(row["engagement_suppressed"]),
        enps=published(row, "enps", "enps_suppressed"),
        enps_suppressed=bool(row["enps_suppressed"]),
        invited=int(row["invited"]),
        responded=int(row["responded"]),
        participation_rate=_float(row["participation_rate"]),
        prev_engagement=published(prev, "engagement_score", "engagement_suppressed"),
        prev_enps=published(prev, "enps", "enps_suppressed"),
        prev_participation_rate=published(prev, "participation_rate", None),
    )


def change(current: float | None, previous: float | None) -> float | None:
    """current - previous, or None when either is unpublished."""
    if current is None or previous is None:
        return None
    return current - previous


OPEN_ALERTS_SQL = f"""
select count(*) as n_open, count(*) filter (where survey_id = %(survey_id)s) as n_open_survey
from alerts.alerts
where status = any(%(statuses)s::text[]) and {TEAM_SCOPE}
"""


def open_alerts(viewer: Viewer, survey_id: str | None = None) -> tuple[int, int]:
    """Open or acknowledged alerts about groups this person may see: (all surveys, ``survey_id`` only).
    (0, 0) where the alerts schema has not been created."""
    if data.missing_relations(("alerts.alerts",)):
        return 0, 0
    row = data.query(
        OPEN_ALERTS_SQL, _params(viewer, survey_id=survey_id, statuses=list(OPEN_ALERT_STATUSES))
    ).iloc[0]
    return int(row["n_open"]), int(row["n_open_survey"])


HEATMAP_SQL = f"""
with

drivers as (
    select survey_id, team_id, scope, team_name, driver_id as metric_id, driver_name as metric_name,
        n_respondents, mean_score, favorable_pct, suppressed
    from marts.driver_scores
    where survey_id = %(survey_id)s and {TEAM_SCOPE}
),

engagement as (
    select survey_id, team_id, scope, team_name, 'engagement' as metric_id, 'Engagement' as metric_name,
        n_respondents, engagement_score as mean_score, favorable_pct, suppressed
    from marts.engagement
    where survey_id = %(survey_id)s and {TEAM_SCOPE}
),

cells as (select * from drivers union all select * from engagement),

teams as (select team_id, path_names, has_children, depth from marts.teams)

select
    cells.team_id,
    cells.scope,
    cells.team_name,
    coalesce(teams.path_names, cells.team_name) as path_names,
    coalesce(teams.has_children, false) as has_children,
    coalesce(teams.depth, -1) as depth,
    cells.metric_id,
    cells.metric_name,
    cells.n_respondents,
    cells.mean_score,
    cells.favorable_pct,
    cells.suppressed
from cells
left join teams on teams.team_id = cells.team_id
"""


def heatmap_cells(viewer: Viewer, survey_id: str) -> pd.DataFrame:
    """Every (group, driver or engagement) score of ``survey_id`` this person may see, one row per cell."""
    frame = data.query(HEATMAP_SQL, _params(viewer, survey_id=survey_id))
    return _numeric(frame, "mean_score", "favorable_pct")


def metric_order(metric_ids: list[str]) -> list[str]:
    """Drivers in the seed's order (others alphabetically after them), engagement last."""
    known = [m for m in DRIVER_ORDER if m in metric_ids]
    others = sorted(m for m in set(metric_ids) if m not in DRIVER_ORDER and m != ENGAGEMENT)
    return known + others + ([ENGAGEMENT] if ENGAGEMENT in metric_ids else [])


def _group_sort_key(scope: str, path_names: str) -> tuple[int, str, int]:
    # the organisation first, then the hierarchy; a team's subtree row before its direct-members row
    return (0 if scope == "org" else 1, str(path_names or ""), 0 if scope == "subtree" else 1)


def heatmap_frame(cells: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """One row per heatmap cell, ready to draw: ``row_label`` (the group), ``column_label`` (the metric),
    ``score`` (null when suppressed), ``label`` (the number, or 'suppressed'), ``tooltip`` (the reason when
    suppressed) and ``row_order`` / ``column_order`` for the axes."""
    columns = ["team_id", "scope", "row_label", "depth", "metric_id", "column_label", "n_respondents", "score",
               "favorable_pct", "suppressed", "label", "tooltip", "row_order", "column_order"]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    frame = cells.copy()
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["depth"] = frame["depth"].astype(int)  # -1: the organisation (above every team)
    # labels and order per group (a hundred groups), then spread over the cells (a thousand): iterating a
    # column of Arrow strings cell by cell is what made this slow
    groups = frame[["team_id", "scope", "team_name", "path_names", "has_children"]].drop_duplicates(
        ["team_id", "scope"])
    group_rows = sorted(zip(*(groups[c].tolist() for c in groups.columns), strict=True),
                        key=lambda g: (*_group_sort_key(g[1], g[3]), g[0]))
    rank = {(team_id, scope): i for i, (team_id, scope, *_) in enumerate(group_rows)}
    label = {(team_id, scope): group_label(name, scope, bool(children))
             for team_id, scope, name, _, children in group_rows}
    keys = list(zip(frame["team_id"].tolist(), frame["scope"].tolist(), strict=True))
    frame["row_label"] = [label[key] for key in keys]
    frame["row_order"] = [rank[key] for key in keys]
    order = metric_order(frame["metric_id"].unique().tolist())
    frame["column_order"] = frame["metric_id"].map({metric: rank for rank, metric in enumerate(order)})
    frame["column_label"] = frame["metric_name"].fillna(frame["metric_id"])
    frame["score"] = frame["mean_score"].where(~frame["suppressed"])
    frame["favorable_pct"] = frame["favorable_pct"].where(~frame["suppressed"])
    hidden, scores = frame["suppressed"].tolist(), frame["score"].tolist()
    frame["label"] = [SUPPRESSED_LABEL if h else f"{score:.1f}" for h, score in zip(hidden, scores, strict=True)]
    reason = suppressed_reason_text(min_n)
    frame["tooltip"] = [
        reason if h else f"mean {score:.2f} · {favorable:.0f} % favorable · {n} respondents"
        for h, score, favorable, n in zip(
            hidden, scores, frame["favorable_pct"].tolist(), frame["n_respondents"].tolist(), strict=True)
    ]
    frame = frame.sort_values(["row_order", "column_order"]).reset_index(drop=True)
    return frame[columns]


# More groups than this and the Overview opens on the top levels of the hierarchy only (a hundred teams make a
# heatmap nobody reads at a glance, and every cell is drawn in the reader's browser); the rest is one choice away.
HEATMAP_DEFAULT_ROWS = 30


@dataclass(frozen=True)
class HeatmapLevel:
    """Groups down to a depth of the hierarchy: ``levels`` levels below the organisation, ``groups`` rows."""

    depth: int
    levels: int
    groups: int
    every_group: bool

    @property
    def label(self) -> str:
        if self.every_group:
            return f"Every group ({self.groups:,})"
        return f"Top level ({self.groups:,} groups)" if self.levels == 1 else (
            f"Top {self.levels} levels ({self.groups:,} groups)")


def heatmap_levels(frame: pd.DataFrame) -> list[HeatmapLevel]:
    """How deep the heatmap may go (expects ``heatmap_frame``): one choice per depth of the hierarchy among the
    groups shown, counted from the shallowest team this person sees, each with the number of rows it draws (the
    organisation row always included)."""
    groups = frame.drop_duplicates(["team_id", "scope"])
    depths = sorted(set(groups.loc[groups["depth"] >= 0, "depth"]))
    return [
        HeatmapLevel(depth, rank, int((groups["depth"] <= depth).sum()), depth == depths[-1])
        for rank, depth in enumerate(depths, start=1)
    ]


def default_heatmap_level(levels: list[HeatmapLevel], max_rows: int | None = None) -> HeatmapLevel | None:
    """The deepest level that draws at most ``max_rows`` groups (``HEATMAP_DEFAULT_ROWS``; at least the top level;
    None without teams)."""
    if not levels:
        return None
    max_rows = HEATMAP_DEFAULT_ROWS if max_rows is None else max_rows
    fitting = [level for level in levels if level.groups <= max_rows]
    return fitting[-1] if fitting else levels[0]


def heatmap_down_to(frame: pd.DataFrame, depth: int) -> pd.DataFrame:
    """The heatmap's rows down to ``depth`` (the organisation's row always)."""
    return frame[frame["depth"] <= depth].reset_index(drop=True)


def heatmap_table(frame: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """The heatmap as a table (and its CSV): one row per group, one column per metric; a suppressed cell holds
    ``suppressed (fewer than N responses)``, never a blank or a number."""
    if frame.empty:
        return pd.DataFrame(columns=["Group", "team_id", "scope"])
    hidden = suppressed_export_text(min_n)
    cells = frame.assign(value=[hidden if s else round(float(v), 2)
                                for s, v in zip(frame["suppressed"], frame["score"], strict=True)])
    table = cells.pivot_table(index=["row_order", "row_label", "team_id", "scope"], columns="column_order",
                              values="value", aggfunc="first")
    names = frame.drop_duplicates("column_order").set_index("column_order")["column_label"]
    table.columns = [names[c] for c in table.columns]
    table = table.reset_index().drop(columns="row_order").rename(columns={"row_label": "Group"})
    return table.astype({name: object for name in names})


def as_text(frame: pd.DataFrame, columns: list[str], digits: int = 2) -> pd.DataFrame:
    """``frame`` for display with ``columns`` as text: numbers to ``digits`` decimals, the suppressed wording
    kept, '—' where there is no value at all (a driver not asked, no previous survey). A column mixing numbers
    and the suppressed wording cannot be shown as is (Arrow needs one type per column)."""
    shown = frame.copy()
    for column in columns:
        if column in shown:
            shown[column] = [
                value if isinstance(value, str) else ("—" if value is None or pd.isna(value) else f"{value:.{digits}f}")
                for value in shown[column]
            ]
    return shown


# ---------------------------------------------------------------- Team


def group_params(viewer: Viewer, team_id: str, scope: str, **values: Any) -> dict[str, Any]:
    return _params(viewer, team_id=team_id, scope=scope, **values)


GROUP_SQL = f"""
select team_id, scope, team_name, survey_id
from marts.participation
where team_id = %(team_id)s and scope = %(scope)s and {TEAM_SCOPE}
order by survey_id
"""


def group_surveys(viewer: Viewer, team_id: str, scope: str) -> list[str]:
    """The surveys in which the group was surveyed (empty when it is outside this person's scope)."""
    return data.query(GROUP_SQL, group_params(viewer, team_id, scope))["survey_id"].tolist()


TEAM_DRIVERS_SQL = f"""
with

drivers as (
    select survey_id, team_id, scope, driver_id, driver_name, n_respondents, mean_score, favorable_pct, suppressed
    from marts.driver_scores
    where survey_id = %(survey_id)s and team_id = %(team_id)s and scope = %(scope)s and {TEAM_SCOPE}
),

engagement as (
    select survey_id, team_id, scope, 'engagement' as driver_id, 'Engagement' as driver_name, n_respondents,
        engagement_score as mean_score, favorable_pct, suppressed
    from marts.engagement
    where survey_id = %(survey_id)s and team_id = %(team_id)s and scope = %(scope)s and {TEAM_SCOPE}
),

scores as (select * from drivers union all select * from engagement),

trends as (
    select * from marts.trends
    where survey_id = %(survey_id)s and team_id = %(team_id)s and scope = %(scope)s and {TEAM_SCOPE}
)

select
    scores.driver_id,
    scores.driver_name,
    scores.n_respondents,
    scores.mean_score,
    scores.favorable_pct,
    scores.suppressed,
    trends.prev_survey_id,
    trends.prev_mean_score,
    trends.delta_abs,
    trends.delta_rel,
    coalesce(trends.prev_suppressed, false) as prev_suppressed
from scores
left join trends on trends.driver_id = scores.driver_id
"""


def team_drivers(viewer: Viewer, survey_id: str, team_id: str, scope: str) -> pd.DataFrame:
    """The group's drivers (and engagement) in ``survey_id``: mean, favorable %, change since its previous survey."""
    frame = data.query(TEAM_DRIVERS_SQL, group_params(viewer, team_id, scope, survey_id=survey_id))
    return _numeric(frame, "mean_score", "favorable_pct", "prev_mean_score", "delta_abs", "delta_rel")


def drivers_frame(drivers: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """The drivers table as shown and exported: engagement first, then the drivers in the seed's order; a
    suppressed score, favorable share or change holds ``suppressed (fewer than N responses)``; a change with
    nothing to compare with is empty only when there is no previous survey, and says why otherwise."""
    columns = ["Driver", "Respondents", "Mean (1-10)", "Favorable %", "Change (points)", "Change %",
               "Previous survey", "driver_id", "suppressed"]
    if drivers.empty:
        return pd.DataFrame(columns=columns)
    hidden = suppressed_export_text(min_n)
    order = metric_order(drivers["driver_id"].tolist())
    rank = {metric: i for i, metric in enumerate([ENGAGEMENT, *[m for m in order if m != ENGAGEMENT]])}
    rows = []
    for row in sorted(drivers.itertuples(), key=lambda r: rank[r.driver_id]):
        suppressed = bool(row.suppressed)
        if suppressed:
            mean, favorable, delta, delta_pct = hidden, hidden, hidden, hidden
        else:
            mean, favorable = round(float(row.mean_score), 2), round(float(row.favorable_pct), 1)
            if row.prev_suppressed:
                delta = delta_pct = f"previous survey {hidden}"
            elif pd.isna(row.delta_abs):
                delta = delta_pct = None
            else:
                delta, delta_pct = round(float(row.delta_abs), 2), round(100 * float(row.delta_rel), 1)
        rows.append({
            "Driver": row.driver_name or row.driver_id, "Respondents": int(row.n_respondents), "Mean (1-10)": mean,
            "Favorable %": favorable, "Change (points)": delta, "Change %": delta_pct,
            "Previous survey": row.prev_survey_id if isinstance(row.prev_survey_id, str) else None,
            "driver_id": row.driver_id, "suppressed": suppressed,
        })
    return pd.DataFrame(rows, columns=columns).astype(
        {"Mean (1-10)": object, "Favorable %": object, "Change (points)": object, "Change %": object})


def driver_bar_frame(drivers: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """The drivers bar chart's rows: engagement first, then the drivers; ``label`` is the mean or 'suppressed'
    and ``tooltip`` the mean or the reason it is withheld."""
    columns = ["driver_id", "driver_name", "mean_score", "suppressed", "label", "tooltip", "order"]
    if drivers.empty:
        return pd.DataFrame(columns=columns)
    order = [ENGAGEMENT, *[m for m in metric_order(drivers["driver_id"].tolist()) if m != ENGAGEMENT]]
    frame = drivers.copy()
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["driver_name"] = frame["driver_name"].fillna(frame["driver_id"])
    frame["mean_score"] = frame["mean_score"].where(~frame["suppressed"])
    frame["order"] = frame["driver_id"].map({metric: i for i, metric in enumerate(order)})
    reason = suppressed_reason_text(min_n)
    frame["label"] = [SUPPRESSED_LABEL if s else f"{m:.1f}" for s, m in zip(frame["suppressed"],
                                                                             frame["mean_score"], strict=True)]
    frame["tooltip"] = [reason if s else f"{m:.2f}" for s, m in zip(frame["suppressed"], frame["mean_score"],
                                                                     strict=True)]
    return frame.sort_values("order").reset_index(drop=True)[columns]


TEAM_TRENDS_SQL = f"""
with

trends as (
    select * from marts.trends
    where team_id = %(team_id)s and scope = %(scope)s and {TEAM_SCOPE}
),

names as (select distinct driver_id, driver_name from marts.driver_scores),

surveys as (select survey_id, title, survey_seq from marts.surveys)

select
    trends.survey_id,
    surveys.title,
    surveys.survey_seq,
    trends.driver_id,
    coalesce(names.driver_name, case when trends.driver_id = 'engagement' then 'Engagement' end, trends.driver_id)
        as driver_name,
    trends.n_respondents,
    trends.mean_score,
    trends.suppressed
from trends
inner join surveys on surveys.survey_id = trends.survey_id
left join names on names.driver_id = trends.driver_id
order by surveys.survey_seq, trends.driver_id
"""


def team_trends(viewer: Viewer, team_id: str, scope: str) -> pd.DataFrame:
    """The group's mean per driver (and engagement) in every survey it was in, oldest first."""
    frame = data.query(TEAM_TRENDS_SQL, group_params(viewer, team_id, scope))
    frame = _numeric(frame, "mean_score")
    if not frame.empty:
        frame["survey"] = [survey_label(r) for r in frame.to_dict("records")]
    return frame


def trend_points(trends: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """Trend rows for a chart: ``tooltip`` says the mean, or why a point is missing (suppressed)."""
    frame = trends.copy()
    if frame.empty:
        return frame.assign(tooltip=pd.Series(dtype=object))
    reason = suppressed_reason_text(min_n)
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["mean_score"] = frame["mean_score"].where(~frame["suppressed"])
    frame["tooltip"] = [reason if s else f"{m:.2f}" for s, m in zip(frame["suppressed"], frame["mean_score"],
                                                                      strict=True)]
    return frame


GROUP_ROW_SQL = """
select * from marts.{table}
where survey_id = %(survey_id)s and team_id = %(team_id)s and scope = %(scope)s and {scope_filter}
"""


def _group_row(table: str, viewer: Viewer, survey_id: str, team_id: str, scope: str) -> dict[str, Any] | None:
    # ``table`` is one of this module's constants, never user input
    sql = GROUP_ROW_SQL.format(table=table, scope_filter=TEAM_SCOPE)
    frame = data.query(sql, group_params(viewer, team_id, scope, survey_id=survey_id))
    return None if frame.empty else frame.iloc[0].to_dict()


@dataclass(frozen=True)
class EnpsDistribution:
    n_respondents: int
    suppressed: bool
    promoters: int | None
    passives: int | None
    detractors: int | None
    enps: float | None


def team_enps(viewer: Viewer, survey_id: str, team_id: str, scope: str) -> EnpsDistribution | None:
    row = _group_row("enps", viewer, survey_id, team_id, scope)
    if row is None:
        return None
    suppressed = bool(row["suppressed"])

    def count(name: str) -> int | None:
        return None if suppressed or row[name] is None or pd.isna(row[name]) else int(row[name])

    return EnpsDistribution(int(row["n_respondents"]), suppressed, count("promoters"), count("passives"),
                            count("detractors"), None if suppressed else _float(row["enps"]))


def enps_frame(distribution: EnpsDistribution | None, min_n: int) -> pd.DataFrame:
    """The eNPS distribution as bar segments (category, respondents, share, label); one 'suppressed' segment
    carrying the reason when the group's eNPS is withheld."""
    columns = ["category", "respondents", "share", "order", "tooltip"]
    if distribution is None:
        return pd.DataFrame(columns=columns)
    if distribution.suppressed:
        return pd.DataFrame([{"category": SUPPRESSED_LABEL, "respondents": None, "share": 1.0, "order": 0,
                              "tooltip": suppressed_reason_text(min_n)}], columns=columns)
    counts = {"Detractors (0-6)": distribution.detractors or 0, "Passives (7-8)": distribution.passives or 0,
              "Promoters (9-10)": distribution.promoters or 0}
    total = sum(counts.values())
    rows = [{"category": name, "respondents": n, "share": n / total if total else 0.0, "order": i,
             "tooltip": f"{n} respondents ({100 * n / total:.0f} %)" if total else "0 respondents"}
            for i, (name, n) in enumerate(counts.items())]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class Participation:
    invited: int
    responded: int
    rate: float | None
    prev_survey_id: str | None
    prev_rate: float | None
    change_rel: float | None


def team_participation(viewer: Viewer, survey_id: str, team_id: str, scope: str) -> Participation | None:
    """Invited, responded and the rate (never suppressed: counts reveal no answer), with the change."""
    row = _group_row("participation", viewer, survey_id, team_id, scope)
    if row is None:
        return None
    prev = row.get("prev_survey_id")
    return Participation(int(row["invited"]), int(row["responded"]), _float(row["participation_rate"]),
                         prev if isinstance(prev, str) else None, _float(row["prev_participation_rate"]),
                         _float(row["participation_change_rel"]))


DRIVER_IMPACT_SQL = f"""
select driver_id, driver_name, outcome, n_respondents, correlation, ci_low, ci_high, impact_rank
from marts.driver_impact
where survey_id = %(survey_id)s and team_id = %(team_id)s and scope = %(scope)s and {TEAM_SCOPE}
order by outcome, impact_rank, driver_id
"""


def team_driver_impact(viewer: Viewer, survey_id: str, team_id: str, scope: str) -> pd.DataFrame:
    """Per driver and outcome: Pearson r with its 95 % interval and rank; only groups of 30+ respondents."""
    if data.missing_relations(("marts.driver_impact",)):
        return pd.DataFrame(columns=["driver_id", "driver_name", "outcome", "n_respondents", "correlation",
                                     "ci_low", "ci_high", "impact_rank"])
    frame = data.query(DRIVER_IMPACT_SQL, group_params(viewer, team_id, scope, survey_id=survey_id))
    return _numeric(frame, "correlation", "ci_low", "ci_high")


def what_matters_most(impact: pd.DataFrame, drivers: pd.DataFrame, outcome: str = ENGAGEMENT,
                      min_n: int = DEFAULT_MIN_N) -> pd.DataFrame:
    """Drivers ranked by how strongly they go with ``outcome``, next to their mean here: the strongest relation
    with a low mean is where action pays most. Columns: Rank, Driver, Correlation, 95 % interval, Mean (a
    suppressed mean says so)."""
    columns = ["Rank", "Driver", "Correlation", "95 % interval", "Mean (1-10)"]
    chosen = impact[impact["outcome"] == outcome] if not impact.empty else impact
    if chosen.empty:
        return pd.DataFrame(columns=columns)
    means: dict[str, Any] = {}
    for row in drivers.itertuples():
        means[row.driver_id] = suppressed_export_text(min_n) if row.suppressed else round(float(row.mean_score), 2)
    rows = [{"Rank": int(r.impact_rank), "Driver": r.driver_name or r.driver_id,
             "Correlation": round(float(r.correlation), 2),
             "95 % interval": f"{float(r.ci_low):.2f} to {float(r.ci_high):.2f}",
             "Mean (1-10)": means.get(r.driver_id)}
            for r in chosen.sort_values(["impact_rank", "driver_id"]).itertuples()]
    return pd.DataFrame(rows, columns=columns).astype({"Mean (1-10)": object})


@dataclass(frozen=True)
class Themes:
    n_comments: int
    suppressed: bool
    top_themes: tuple[str, ...]
    negative_share: float | None
    positive_share: float | None


def team_themes(viewer: Viewer, survey_id: str, team_id: str, scope: str) -> Themes | None:
    """The group's comment statistics (themes withheld when suppressed); None without comments or the mart."""
    if data.missing_relations(("marts.comment_insights",)):
        return None
    row = _group_row("comment_insights", viewer, survey_id, team_id, scope)
    if row is None:
        return None
    suppressed = bool(row["suppressed"])
    themes = row.get("top_themes")
    return Themes(int(row["n_comments"]), suppressed,
                  () if suppressed or themes is None else tuple(str(t) for t in themes),
                  None if suppressed else _float(row["negative_share"]),
                  None if suppressed else _float(row["positive_share"]))


def parse_group(team: str | None, scope: str | None, viewer: Viewer) -> tuple[str | None, str | None, bool]:
    """The group a page was asked for through its query parameters: (team_id, scope, allowed). A team this
    person may not see is not allowed; an unknown scope falls back to 'team' ('org' for the org row)."""
    if not team:
        return None, None, True
    if team == ORG_TEAM_ID:
        return team, "org", True
    scope = scope if scope in ("team", "subtree") else "team"
    return team, scope, viewer.may_see(team)
