"""Data health (admins): what is loaded, every current delivery with its row accounting, files rejected whole,
the quarantine, how fresh each Dagster asset is and the latest runs."""

import streamlit as st

from dashboards import charts, data, health, layout, session
from dashboards.export import download_name

ALL = None  # filter value meaning "no filter"
ORG_LABEL = "Org files (teams, employees)"


def survey_label(value: str | None) -> str:
    if value is ALL:
        return "All surveys and org files"
    return ORG_LABEL if value == data.ORG_FILES else f"Survey {value}"


def dataset_label(value: str | None) -> str:
    return "All datasets" if value is ALL else value


def download(frame, label: str, *name_parts: str) -> None:
    layout.csv_download(label, frame, download_name("data-health", *name_parts), f"download_{'_'.join(name_parts)}")


DATE_FORMAT = "YYYY-MM-DD HH:mm:ss"
TAB_KEY = "health_tab"
DELIVERIES_TAB, QUARANTINE_TAB, FRESHNESS_TAB, RUNS_TAB = "Deliveries", "Quarantine", "Asset freshness", "Latest runs"

viewer = session.require_admin()

st.title("Data health")
st.caption(
    "Every delivered row is either loaded or quarantined with every reason; "
    "a file that cannot be read at all is rejected whole and the previous good delivery stays in use."
)


def ingested_counts() -> None:
    numbers = health.ingested_counts()
    teams, employees, surveys, answers, respondents, quarantined = st.columns(6)
    teams.metric(
        "Teams", f"{numbers.teams:,}", delta=health.plural(numbers.teams_rejected, "row") + " rejected",
        delta_color="off", delta_arrow="off", border=True,
        help="Teams loaded from the current org/teams.csv; rejected rows are in the quarantine below.",
    )
    employees.metric(
        "Employees", f"{numbers.employees:,}", delta=f"{numbers.employees_rejected:,} rejected",
        delta_color="off", delta_arrow="off", border=True,
        help="Roster rows loaded from the current org/employees.csv; rejected rows are in the quarantine below.",
    )
    surveys.metric(
        "Surveys loaded", f"{numbers.surveys:,}", delta=health.plural(numbers.questions, "question") + " in all",
        delta_color="off", delta_arrow="off", border=True,
    )
    answers.metric(
        "Answers loaded", f"{numbers.answers:,}", delta=f"{numbers.answers_rejected:,} rejected",
        delta_color="off", delta_arrow="off", border=True,
        help="One answer is one response row (a respondent's answer to one question).",
    )
    respondents.metric(
        "Respondents", "—" if numbers.respondents is None else f"{numbers.respondents:,}",
        delta=f"of {numbers.invited:,} invited", delta_color="off", delta_arrow="off", border=True,
        help="People who answered, summed over surveys (org participation; — until the marts are built).",
    )
    quarantined.metric(
        "Rows quarantined", f"{numbers.rows_quarantined:,}",
        delta="in " + health.plural(numbers.files_with_rejections, "file"),
        delta_color="off", delta_arrow="off", border=True,
        help="Rows of the current deliveries that broke their contract, with every reason (below).",
    )


def current_deliveries() -> None:
    st.subheader("Current deliveries")
    deliveries = data.current_deliveries()
    if deliveries.empty:
        st.info(f"No file has been loaded from the landing zone `{data.landing_zone()}` yet.",
                icon=":material/inbox:")
        return
    delivered, loaded, rejected = (int(deliveries[c].sum()) for c in ("rows_delivered", "rows_loaded", "rows_rejected"))
    st.caption(
        f"{len(deliveries):,} files in use: {delivered:,} rows delivered, {loaded:,} loaded, {rejected:,} quarantined."
    )
    shown = deliveries.fillna({"survey_id": "org"})
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "dataset": st.column_config.TextColumn("Dataset", pinned=True),
            "survey_id": st.column_config.TextColumn("Survey"),
            "file_path": st.column_config.TextColumn("File", width="large"),
            "rows_delivered": st.column_config.NumberColumn("Delivered", format="localized"),
            "rows_loaded": st.column_config.NumberColumn("Loaded", format="localized"),
            "rows_rejected": st.column_config.NumberColumn("Rejected", format="localized"),
            "rejected_share": st.column_config.NumberColumn("Rejected share", format="percent"),
            "loaded_at": st.column_config.DatetimeColumn("Loaded (UTC)", format=DATE_FORMAT),
            "file_modified_at": st.column_config.DatetimeColumn("File modified (UTC)", format=DATE_FORMAT),
        },
    )
    download(shown, "Download deliveries (CSV)", "deliveries")


def files_rejected_whole() -> None:
    st.subheader("Files rejected whole")
    rejected_files = data.rejected_files()
    if rejected_files.empty:
        st.success("No file was rejected whole: the newest delivery of every file could be read.",
                   icon=":material/check:")
        return
    st.error(
        f"{len(rejected_files):,} file(s) could not be read. Fix and re-deliver them; until then the last good "
        "delivery (loaded at the time shown, if any) is what the warehouse holds.",
        icon=":material/report:",
    )
    st.dataframe(
        rejected_files.fillna({"survey_id": "org"}),
        hide_index=True,
        column_config={
            "dataset": st.column_config.TextColumn("Dataset", pinned=True),
            "survey_id": st.column_config.TextColumn("Survey"),
            "file_path": st.column_config.TextColumn("File", width="large"),
            "file_error": st.column_config.TextColumn("Reason", width="large"),
            "rejected_at": st.column_config.DatetimeColumn("Rejected (UTC)", format=DATE_FORMAT),
            "serving_delivery_loaded_at": st.column_config.DatetimeColumn(
                "Still serving delivery of (UTC)", format=DATE_FORMAT,
                help="Load time of the earlier good delivery still in use; empty when there is none.",
            ),
        },
    )


def quarantine() -> None:
    scopes = data.quarantine_scopes()
    if scopes.empty:
        st.success("Nothing is quarantined: every delivered row met its contract.", icon=":material/check:")
        return

    survey_options = [ALL, *dict.fromkeys(scopes["survey_id"])]
    dataset_options = [ALL, *dict.fromkeys(scopes["dataset"])]
    left, right = st.columns(2)
    survey_id = left.selectbox("Survey", survey_options, format_func=survey_label, key="quarantine_survey")
    dataset = right.selectbox("Dataset", dataset_options, format_func=dataset_label, key="quarantine_dataset")

    total = data.quarantine_count(dataset, survey_id)
    if total == 0:
        st.info("No quarantined rows match this selection.", icon=":material/filter_alt_off:")
        return

    reasons = data.quarantine_reasons(dataset, survey_id)
    st.markdown(f"**Reasons, ranked** — {total:,} rows quarantined; a row with several reasons counts once for each.")
    chart_column, table_column = st.columns(2)
    charts.draw("quarantine_reasons", reasons, chart_column)
    table_column.dataframe(
        reasons,
        hide_index=True,
        column_config={
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "rows_rejected": st.column_config.NumberColumn("Rows", format="localized"),
            "datasets": st.column_config.TextColumn("Datasets"),
        },
    )

    sample = data.quarantine_sample(dataset, survey_id)
    st.markdown(f"**Quarantined rows** — showing {len(sample):,} of {total:,}, in file order.")
    st.caption(
        "Raw records of survey responses (unmasked comments) and of employees (names, emails) are never shown "
        "here (—). Open the file at the line number to see such a row."
    )
    shown = sample.fillna({"survey_id": "org"})
    st.dataframe(
        shown,
        hide_index=True,
        placeholder="—",
        column_config={
            "dataset": st.column_config.TextColumn("Dataset", pinned=True),
            "survey_id": st.column_config.TextColumn("Survey"),
            "file_path": st.column_config.TextColumn("File"),
            "line_number": st.column_config.NumberColumn(
                "Line", format="plain",
                help="Line where the record starts in the file; — when the whole file was rejected.",
            ),
            "reasons": st.column_config.TextColumn("Reasons", width="large"),
            "raw_record": st.column_config.TextColumn(
                "Raw record", width="large",
                help="The record as delivered; never shown for responses (comments) or employees (names, emails).",
            ),
            "rejected_at": st.column_config.DatetimeColumn("Rejected (UTC)", format=DATE_FORMAT),
        },
    )
    download(shown, "Download these quarantined rows (CSV)", "quarantine", survey_id or "", dataset or "")


RUN_LINK = st.column_config.LinkColumn("Run", display_text=r".*/runs/([0-9a-f]{8}).*",
                                       help="Opens the run in Dagster UI (its logs and steps).")


def asset_freshness(pipeline: health.Pipeline) -> None:
    grace_minutes = int(health.CATCH_UP_GRACE.total_seconds() // 60)
    st.caption(
        "Nothing runs on a clock: raw tables load when a file lands (event driven: age only), every other asset "
        "is rebuilt after what it reads changed. An asset is **stale** when something it reads was materialised "
        f"after it more than {grace_minutes} minutes ago; within that time it is catching up."
    )
    freshness = pipeline.freshness
    stale = health.stale_assets(freshness)
    if stale:
        st.warning(
            f"{health.plural(len(stale), 'asset')} stale: {', '.join(stale)}. Open the last run in Dagster UI "
            "to see why it was not rebuilt.",
            icon=":material/schedule:",
        )
    st.dataframe(
        freshness.drop(columns=["last_run_id"]),
        hide_index=True,
        column_config={
            "group": st.column_config.TextColumn("Group", pinned=True),
            "asset": st.column_config.TextColumn("Asset", pinned=True),
            "last_materialised_at": st.column_config.DatetimeColumn("Last materialised (UTC)", format=DATE_FORMAT),
            "age": st.column_config.TextColumn("Age"),
            "state": st.column_config.TextColumn("State"),
            "last_run_status": st.column_config.TextColumn(
                "Last run", help="Status of the newest run that planned this asset."
            ),
            "last_run_url": RUN_LINK,
            "asset_url": st.column_config.LinkColumn("In Dagster UI", display_text="Open asset"),
        },
    )
    download(freshness, "Download asset freshness (CSV)", "asset-freshness")


def latest_runs(pipeline: health.Pipeline) -> None:
    runs = pipeline.runs
    if runs.empty:
        st.caption(f"No run recorded yet. Runs appear here once the pipeline ran (`novora materialize`, or a "
                   f"file landing while `novora up` runs); Dagster UI: {pipeline.dagster_url}")
        return
    st.caption(f"The {len(runs):,} newest runs, newest first; each links to its logs in Dagster UI.")
    st.dataframe(
        runs.drop(columns=["run_id"]),
        hide_index=True,
        column_config={
            "job": st.column_config.TextColumn("Job", pinned=True),
            "status": st.column_config.TextColumn("Status"),
            "partition": st.column_config.TextColumn("Survey", help="The survey partition the run built, if any."),
            "started_at": st.column_config.DatetimeColumn("Started (UTC)", format=DATE_FORMAT),
            "duration": st.column_config.TextColumn("Duration"),
            "run_url": RUN_LINK,
        },
    )
    download(runs, "Download latest runs (CSV)", "runs")


def pipeline_section(draw) -> None:
    """Run ``draw`` with what Dagster's instance says, or say why it cannot be read."""
    try:
        pipeline = health.pipeline()
    except health.DagsterUnavailable as exc:
        st.warning(f"Asset freshness and runs are not available: {exc}", icon=":material/cloud_off:")
    else:
        if pipeline.daemon.ok:
            st.caption(f"Dagster daemon (sensors, automation, run queue): {pipeline.daemon.detail}.")
        else:
            st.error(f"**Dagster daemon:** {pipeline.daemon.detail}\n\nNothing lands or rebuilds until it runs "
                     "again (`novora health` checks the same).", icon=":material/heart_broken:")
        draw(pipeline)


def deliveries() -> None:
    current_deliveries()
    files_rejected_whole()


# Each tab runs only when opened (layout.lazy_tabs): this page reads the warehouse and Dagster's instance only
# for the section someone looks at.
if data.missing_relations(data.HEALTH_RELATIONS):
    st.info(
        "Nothing has been ingested yet — run `novora generate` and `novora materialize`, "
        "or drop files into the landing zone",
        icon=":material/inbox:",
    )
    st.caption(f"Landing zone: `{data.landing_zone()}`")
    layout.lazy_tabs(TAB_KEY, {
        FRESHNESS_TAB: lambda: pipeline_section(asset_freshness),
        RUNS_TAB: lambda: pipeline_section(latest_runs),
    })
else:
    ingested_counts()
    layout.lazy_tabs(TAB_KEY, {
        DELIVERIES_TAB: deliveries,
        QUARANTINE_TAB: quarantine,
        FRESHNESS_TAB: lambda: pipeline_section(asset_freshness),
        RUNS_TAB: lambda: pipeline_section(latest_runs),
    })
