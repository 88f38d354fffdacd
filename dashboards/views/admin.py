"""Admin: thresholds and anonymity settings, notification channels, dashboard accounts, the safety review queue
and the audit log. Admins only; every change is attributed and audited."""

import streamlit as st

from assets.nlp import review
from dashboards import admin, layout, session
from dashboards.export import download_name

viewer = session.require_admin()

st.title("Admin")


def settings() -> None:
    st.caption("Alert thresholds, anonymity thresholds (min_n for scores, comment_min_n for comments), PII "
               "masking, notification channels and session rules. A change is picked up by the next evaluation: "
               "alert thresholds within a minute, anonymity thresholds at the next rebuild of the marts.")
    frame = admin.settings()
    editable = frame[frame["editable"]]
    st.dataframe(frame.drop(columns=["editable"]), hide_index=True, column_config={
        "setting_key": st.column_config.TextColumn("Setting", pinned=True),
        "value": st.column_config.TextColumn("Value"),
        "description": st.column_config.TextColumn("What it does", width="large"),
        "updated_at": st.column_config.DatetimeColumn("Changed (UTC)", format="YYYY-MM-DD HH:mm"),
        "updated_by": st.column_config.TextColumn("By"),
    })
    with st.form("change_setting", border=True):
        # a form sends its widgets together: nothing in it may depend on another of its widgets' value
        key = st.selectbox("Setting to change", editable["setting_key"].tolist(), key="setting_key")
        text = st.text_input("New value", key="setting_value", help="Current values are in the table above.")
        if st.form_submit_button("Save setting", type="primary"):
            try:
                value = admin.change_setting(viewer, key, text)
            except admin.AdminError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.success(f"{key} is now {admin.display_value(value)}", icon=":material/check:")


def users() -> None:
    st.caption("Accounts come from the roster's dashboard_role (the app/users asset). A manager sees the teams "
               "they manage and every team below them; a viewer sees org-level results only.")
    accounts = admin.accounts()
    if accounts.empty:
        st.info("No dashboard accounts yet: the roster has no active employee with a dashboard_role.",
                icon=":material/person_off:")
    else:
        st.dataframe(accounts, hide_index=True, column_config={
            "email": st.column_config.TextColumn("Email", pinned=True),
            "role": st.column_config.TextColumn("Role"),
            "team_id": st.column_config.TextColumn("Own team"),
            "sees": st.column_config.TextColumn("Sees", width="medium"),
            "has_password": st.column_config.CheckboxColumn("Password set"),
            "locked": st.column_config.CheckboxColumn("Locked"),
            "last_sign_in_at": st.column_config.DatetimeColumn("Last sign-in (UTC)", format="YYYY-MM-DD HH:mm"),
            "password_set_at": st.column_config.DatetimeColumn("Password set (UTC)", format="YYYY-MM-DD HH:mm"),
        })
        left, right = st.columns(2)
        with left.form("set_password", border=True):
            email = st.selectbox("Account", accounts["email"].tolist(), key="password_account")
            password = st.text_input("New password (at least 12 characters)", type="password")
            if st.form_submit_button("Set password"):
                try:
                    admin.set_password(viewer, email, password)
                except admin.AdminError as exc:
                    st.error(str(exc), icon=":material/error:")
                else:
                    st.success(f"Password set for {email}; their open sessions ended.", icon=":material/check:")
        locked = accounts.loc[accounts["locked"], "email"].tolist()
        with right.form("unlock", border=True):
            email = st.selectbox("Locked account", locked, key="unlock_account",
                                 placeholder="no account is locked")
            if st.form_submit_button("Unlock", disabled=not locked):
                admin.unlock(viewer, email)
                st.success(f"{email} can sign in again.", icon=":material/check:")


def review_queue() -> None:
    counts = admin.review_counts()
    st.caption("Comments flagged for profanity, abuse or threats are held from managers until reviewed "
               f"(reviewed releases, dismissed means a false alarm, escalated stays held). "
               f"Pending {counts['pending']:,} · escalated {counts['escalated']:,} · reviewed "
               f"{counts['reviewed']:,} · dismissed {counts['dismissed']:,}.")
    shown = st.multiselect("Status", review.STATUSES, default=list(review.HELD_STATUSES))
    items = admin.review_items(tuple(shown))
    if items.empty:
        st.info("Nothing to review in these statuses.", icon=":material/task_alt:")
    else:
        st.dataframe(items, hide_index=True, column_config={
            "comment_id": st.column_config.TextColumn("Comment", pinned=True),
            "text_masked": st.column_config.TextColumn("Text (masked)", width="large"),
            "flagged_at": st.column_config.DatetimeColumn("Flagged (UTC)", format="YYYY-MM-DD HH:mm"),
        })
        with st.form("decide_review", border=True):
            comment_id = st.selectbox("Comment", items["comment_id"].tolist())
            status = st.radio("Decision", ("reviewed", "escalated", "dismissed"), horizontal=True)
            note = st.text_input("Note")
            if st.form_submit_button("Record decision", type="primary"):
                try:
                    admin.decide_review(viewer, comment_id, status, note)
                except admin.AdminError as exc:
                    st.error(str(exc), icon=":material/error:")
                else:
                    st.success(f"{comment_id} is {status}.", icon=":material/check:")


def audit_log() -> None:
    log = admin.audit_log()
    st.dataframe(log, hide_index=True, column_config={
        "occurred_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "detail": st.column_config.TextColumn("Detail", width="large"),
    })
    layout.csv_download("Download the audit log (CSV)", log, download_name("audit-log"))


# Only the open tab runs and is drawn (layout.lazy_tabs).
layout.lazy_tabs("admin_tab", {"Settings": settings, "Users": users, "Review queue": review_queue,
                               "Audit log": audit_log})
