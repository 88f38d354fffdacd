"""Data health: every current delivery with its row accounting, files rejected whole, and the quarantine."""

import streamlit as st

from dashboards import charts, data

ALL = None  # filter value meaning "no filter"
ORG_LABEL = "Org files (teams, employees)"


def survey_label(value: str | None) -> str:
    if value is ALL:
        return "All surveys and org files"
    return ORG_LABEL if value == data.ORG_FILES else f"Survey {value}"


def dataset_label(value: str | None) -> str:
    return "All datasets" if value is ALL else value


DATE_FORMAT = "YYYY-MM-DD HH:mm:ss"

st.title("Data health")
st.caption(
    "Every delivered row is either loaded or quarantined with every reason; "
    "a file that cannot be read at all is rejected whole and the previous good delivery stays in use."
)

if data.missing_relations(data.HEALTH_RELATIONS):
    st.info(
        "Nothing has been ingested yet — run `novora generate` and `novora materialize`, "
        "or drop files into the landing zone",
        icon=":material/inbox:",
    )
    st.caption(f"Landing zone: `{data.landing_zone()}`")
    st.stop()

# ---------------------------------------------------------------- deliveries

st.subheader("Current deliveries")
deliveries = data.current_deliveries()
if deliveries.empty:
    st.info(f"No file has been loaded from the landing zone `{data.landing_zone()}` yet.", icon=":material/inbox:")
else:
    delivered, loaded, rejected = (int(deliveries[c].sum()) for c in ("rows_delivered", "rows_loaded", "rows_rejected"))
    st.caption(
        f"{len(deliveries):,} files in use: {delivered:,} rows delivered, {loaded:,} loaded, {rejected:,} quarantined."
    )
    st.dataframe(
        deliveries.fillna({"survey_id": "org"}),
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

st.subheader("Files rejected whole")
rejected_files = data.rejected_files()
if rejected_files.empty:
    st.success("No file was rejected whole: the newest delivery of every file could be read.", icon=":material/check:")
else:
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

# ---------------------------------------------------------------- quarantine

st.subheader("Quarantine")
scopes = data.quarantine_scopes()
if scopes.empty:
    st.success("Nothing is quarantined: every delivered row met its contract.", icon=":material/check:")
    st.stop()

survey_options = [ALL, *dict.fromkeys(scopes["survey_id"])]
dataset_options = [ALL, *dict.fromkeys(scopes["dataset"])]
left, right = st.columns(2)
survey_id = left.selectbox("Survey", survey_options, format_func=survey_label, key="quarantine_survey")
dataset = right.selectbox("Dataset", dataset_options, format_func=dataset_label, key="quarantine_dataset")

total = data.quarantine_count(dataset, survey_id)
if total == 0:
    st.info("No quarantined rows match this selection.", icon=":material/filter_alt_off:")
    st.stop()

reasons = data.quarantine_reasons(dataset, survey_id)
st.markdown(f"**Reasons, ranked** — {total:,} rows quarantined; a row with several reasons counts once for each.")
chart_column, table_column = st.columns(2)
chart_column.altair_chart(charts.quarantine_reasons_chart(reasons), width="stretch")
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
st.dataframe(
    sample.fillna({"survey_id": "org"}),
    hide_index=True,
    placeholder="—",
    column_config={
        "dataset": st.column_config.TextColumn("Dataset", pinned=True),
        "survey_id": st.column_config.TextColumn("Survey"),
        "file_path": st.column_config.TextColumn("File"),
        "line_number": st.column_config.NumberColumn(
            "Line", format="plain", help="Line where the record starts in the file; — when the whole file was rejected."
        ),
        "reasons": st.column_config.TextColumn("Reasons", width="large"),
        "raw_record": st.column_config.TextColumn(
            "Raw record", width="large",
            help="The record as delivered; never shown for responses (comments) or employees (names, emails).",
        ),
        "rejected_at": st.column_config.DatetimeColumn("Rejected (UTC)", format=DATE_FORMAT),
    },
)
