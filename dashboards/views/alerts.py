"""Alerts inbox: the alerts about the teams this person may see, their evidence and history, and decisions.

Admins see every alert, managers their teams' (and the organisation's), viewers the organisation's only. A
decision (acknowledge, resolve, dismiss, reopen) is written with a note and the person's email, after the alert's
team is checked against their scope in the database.
"""

import streamlit as st

from assets.alerts.store import AlertError
from dashboards import alerts, data, export, layout, session

OUTCOME_KEY = "alerts_outcome"
TAB_KEY = "alerts_detail_tab"

viewer = session.require_viewer()
team_filter = viewer.team_filter()


def act(alert_id: int, to_status: str, note_key: str) -> None:
    """Button callback: runs before the page is drawn again, so the table shows the new status."""
    note = st.session_state.get(note_key, "")
    try:
        with data.transaction() as conn:
            alerts.decide_in_scope(conn, viewer, alert_id, to_status, note)
    except AlertError as exc:
        st.session_state[OUTCOME_KEY] = ("error", f"Not changed: {exc}.")
    else:
        st.session_state[OUTCOME_KEY] = ("success", f"Alert {alert_id} is now {to_status}.")
        st.session_state[note_key] = ""


st.title("Alerts")
st.caption(
    "Issues the alert rules found in the published results: open until someone acknowledges, resolves or "
    "dismisses them. Novora resolves an alert itself when the issue no longer holds."
)

requested_team = st.query_params.get("team")
if requested_team and not viewer.may_see(requested_team):
    st.error("You do not have access to this team", icon=":material/block:")
    st.stop()

outcome = st.session_state.pop(OUTCOME_KEY, None)
if outcome:
    kind, message = outcome
    (st.error if kind == "error" else st.success)(message)

options = alerts.filter_options(team_filter)
if not options["types"]:
    st.info("No alerts yet: nothing in the teams you may see crossed a threshold.", icon=":material/inbox:")
    st.stop()

team_names = dict(options["teams"])
status_col, severity_col, type_col = st.columns(3)
statuses = status_col.multiselect("Status", alerts.STATUSES, default=alerts.DEFAULT_STATUSES, key="alerts_status")
severities = severity_col.multiselect("Severity", alerts.SEVERITIES, key="alerts_severity", placeholder="Any")
types = type_col.multiselect("Type", options["types"], key="alerts_type", placeholder="Any")
survey_col, team_col = st.columns(2)
survey_id = survey_col.selectbox(
    "Survey", [None, *options["surveys"]], format_func=lambda s: "All surveys" if s is None else s,
    key="alerts_survey",
)
team_options = [None, *team_names]
if requested_team and requested_team not in team_names:
    team_options.append(requested_team)
team_id = team_col.selectbox(
    "Team", team_options, index=team_options.index(requested_team) if requested_team else 0,
    format_func=lambda t: "All teams" if t is None else team_names.get(t, t), key="alerts_team",
)

inbox = alerts.alerts(team_filter, statuses, severities, types, survey_id, team_id)
if inbox.empty:
    st.info("No alert matches these filters.", icon=":material/filter_alt_off:")
    st.stop()

st.caption(f"{len(inbox):,} alerts, most severe and newest first.")
st.dataframe(
    inbox.drop(columns=["team_id", "scope"]),
    hide_index=True,
    column_config={
        "alert_id": st.column_config.NumberColumn("Id", format="plain", pinned=True),
        "severity": st.column_config.TextColumn("Severity"),
        "alert_type": st.column_config.TextColumn("Type"),
        "status": st.column_config.TextColumn("Status"),
        "survey_id": st.column_config.TextColumn("Survey"),
        "team_name": st.column_config.TextColumn("Team"),
        "subject": st.column_config.TextColumn("Driver / theme"),
        "metric_value": st.column_config.NumberColumn("Value", format="%.3g"),
        "threshold": st.column_config.NumberColumn("Threshold", format="%.3g"),
        "message": st.column_config.TextColumn("Message", width="large"),
        "first_seen_at": st.column_config.DatetimeColumn("First seen (UTC)", format="YYYY-MM-DD HH:mm"),
        "last_seen_at": st.column_config.DatetimeColumn("Last seen (UTC)", format="YYYY-MM-DD HH:mm"),
        "still_holds": st.column_config.CheckboxColumn("Still holds"),
    },
)
layout.csv_download("Download alerts (CSV)", inbox, export.download_name("alerts", survey_id, team_id), "alerts_csv")

# ---------------------------------------------------------------- one alert

st.subheader("Alert details")
labels = {
    int(row.alert_id): f"#{row.alert_id} {row.alert_type} · {row.team_name} · {row.survey_id} ({row.status})"
    for row in inbox.itertuples()
}
alert_id = st.selectbox("Alert", list(labels), format_func=labels.get, key="alerts_selected")
detail = alerts.alert(alert_id, team_filter)
if detail is None:
    st.error("You do not have access to this alert", icon=":material/block:")
    st.stop()

st.markdown(f"**{detail['message']}**")
value, threshold, status = st.columns(3)
value.metric("Value", f"{detail['metric_value']:.4g}" if detail["metric_value"] is not None else "—", border=True)
threshold.metric("Threshold", f"{detail['threshold']:.4g}", border=True)
status.metric("Status", detail["status"], delta=f"by {detail['status_changed_by']}", delta_color="off",
              delta_arrow="off", border=True)
if detail["is_significant"] is not None:
    st.caption(
        f"95 % interval of the change: {detail['ci_low']:.3g} to {detail['ci_high']:.3g} "
        f"({'beyond' if detail['is_significant'] else 'within'} chance for the group's size)."
    )


def provenance() -> None:
    st.caption("The rule, the thresholds it used and the mart rows that fired it.")
    st.dataframe(
        alerts.provenance_rows(detail["provenance"]),
        hide_index=True,
        column_config={"item": st.column_config.TextColumn("Item"), "value": st.column_config.TextColumn("Value")},
    )


def history() -> None:
    st.dataframe(
        alerts.history(alert_id, team_filter),
        hide_index=True,
        column_config={
            "occurred_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "from_status": st.column_config.TextColumn("From"),
            "to_status": st.column_config.TextColumn("To"),
            "actor": st.column_config.TextColumn("By"),
            "note": st.column_config.TextColumn("Note", width="large"),
        },
    )
    st.caption("Revisions: what the alert said each time an evaluation raised it or changed what it says "
               "(a re-evaluation that finds the same writes none).")
    st.dataframe(
        alerts.revisions(alert_id, team_filter),
        hide_index=True,
        column_config={
            "recorded_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "evaluation_id": st.column_config.NumberColumn("Evaluation", format="plain"),
            "trigger": st.column_config.TextColumn("Asked for by"),
            "rule_version": st.column_config.TextColumn("Rule version"),
            "thresholds": st.column_config.TextColumn("Thresholds"),
            "sentiment_model": st.column_config.TextColumn("Sentiment model"),
            "metric_value": st.column_config.NumberColumn("Value", format="%.4g"),
            "threshold": st.column_config.NumberColumn("Threshold", format="%.4g"),
            "severity": st.column_config.TextColumn("Severity"),
            "message": st.column_config.TextColumn("Message", width="large"),
        },
    )


# only the open tab runs its query and is drawn (layout.lazy_tabs)
layout.lazy_tabs(TAB_KEY, {"Provenance": provenance, "History": history})

if not alerts.may_decide(viewer):
    st.caption("Managers and admins act on alerts; you can read them.")
    st.stop()

actions = alerts.allowed_actions(detail["status"])
note_key = f"alert_note_{alert_id}"
st.text_area("Note (kept in the alert's history)", key=note_key, max_chars=2000)
for column, (target, label) in zip(st.columns(len(actions)), actions, strict=True):
    column.button(label, key=f"alert_{alert_id}_{target}", on_click=act, args=(alert_id, target, note_key))
