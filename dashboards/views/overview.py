"""Overview: what the warehouse holds now (org, surveys, answers) and what the current deliveries rejected."""

import streamlit as st

from dashboards import data

EMPTY_STATE = (
    "No survey loaded yet — run `novora generate` and `novora materialize`, "
    "or drop files into the landing zone"
)


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 row`` / ``1,234 rows``: counts always carry thousands separators."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def dagster_link() -> None:
    url = data.dagster_ui_url()
    left, right = st.columns([1, 4], vertical_alignment="center")
    left.link_button("Open Dagster UI", url, icon=":material/open_in_new:")
    right.caption(f"Asset lineage, run history and backfills of a survey live in Dagster UI at {url}.")


st.title("Overview")
st.caption("What is loaded now: the current delivery of every landing-zone file, after validation.")

if data.missing_relations():
    # Nothing has been materialised into this warehouse yet (or dbt has not built the staging views).
    st.info(EMPTY_STATE, icon=":material/inbox:")
    st.caption(f"Landing zone: `{data.landing_zone()}`")
    dagster_link()
    st.stop()

numbers = data.headline()

teams, employees, surveys, answers, respondents, quarantined = st.columns(6)
teams.metric(
    "Teams", f"{numbers.teams:,}", delta=plural(numbers.teams_rejected, "row") + " rejected",
    delta_color="off", delta_arrow="off", border=True,
    help="Teams loaded from org/teams.csv; rejected rows are in the quarantine (Data health).",
)
employees.metric(
    "Active employees", f"{numbers.active_employees:,}",
    delta=f"of {numbers.employees:,} · {numbers.employees_rejected:,} rejected",
    delta_color="off", delta_arrow="off", border=True,
    help="Employees marked active in org/employees.csv, of everyone on the roster; rejected rows are quarantined.",
)
surveys.metric(
    "Surveys loaded", f"{numbers.surveys:,}", delta=plural(numbers.questions, "question") + " in all",
    delta_color="off", delta_arrow="off", border=True,
)
answers.metric(
    "Answers loaded", f"{numbers.answers:,}", delta=f"{numbers.answers_rejected:,} rejected",
    delta_color="off", delta_arrow="off", border=True,
    help="One answer is one response row (a respondent's answer to one question).",
)
respondents.metric(
    "Respondents", f"{numbers.respondents:,}", delta=f"of {numbers.invited:,} invited",
    delta_color="off", delta_arrow="off", border=True,
    help="Distinct response ids per survey (responses are anonymous).",
)
quarantined.metric(
    "Rows quarantined", f"{numbers.rows_quarantined:,}", delta="in " + plural(numbers.files_with_rejections, "file"),
    delta_color="off", delta_arrow="off", border=True,
    help="Rows of the current deliveries that broke their contract, with every reason (Data health).",
)

rejected_files = data.rejected_files()
if not rejected_files.empty:
    st.warning(
        f"{plural(len(rejected_files), 'file')} could not be read at all and "
        f"{'was' if len(rejected_files) == 1 else 'were'} rejected whole; the previous good delivery "
        "(if any) is still in use.",
        icon=":material/report:",
    )
    st.page_link("views/data_health.py", label="See why on Data health", icon=":material/arrow_forward:")

st.subheader("Surveys")
survey_table = data.surveys()
if survey_table.empty:
    st.info(EMPTY_STATE, icon=":material/inbox:")
    st.caption(f"Landing zone: `{data.landing_zone()}`")
else:
    st.dataframe(
        survey_table,
        hide_index=True,
        column_config={
            "survey_id": st.column_config.TextColumn("Survey", pinned=True),
            "title": st.column_config.TextColumn("Title"),
            "opened_at": st.column_config.DatetimeColumn("Opened (UTC)", format="YYYY-MM-DD HH:mm"),
            "closed_at": st.column_config.DatetimeColumn("Closed (UTC)", format="YYYY-MM-DD HH:mm"),
            "questions": st.column_config.NumberColumn("Questions", format="localized"),
            "invited": st.column_config.NumberColumn("Invited", format="localized"),
            "respondents": st.column_config.NumberColumn("Respondents", format="localized"),
            "participation_rate": st.column_config.NumberColumn(
                "Participation", format="percent", help="Respondents ÷ invited (not suppressed: counts only)."
            ),
            "answers_loaded": st.column_config.NumberColumn("Answers loaded", format="localized"),
            "answers_rejected": st.column_config.NumberColumn(
                "Answers rejected", format="localized", help="Rows of responses.csv sent to the quarantine."
            ),
            "last_loaded_at": st.column_config.DatetimeColumn(
                "Last loaded (UTC)", format="YYYY-MM-DD HH:mm:ss", help="When its newest file in use was loaded."
            ),
        },
    )
    st.page_link(
        "views/data_health.py", label="Deliveries and quarantined rows: Data health", icon=":material/arrow_forward:"
    )

st.subheader("Pipeline")
dagster_link()
