-- Novora warehouse, version 6: the database role the Streamlit app connects as (SPEC section 5: dashboards read
-- the marts through a restricted role). It can read what the pages show and change only what people change in
-- the app; it cannot read raw identities or unmasked text (raw.employees, raw.teams, raw.responses, staging,
-- intermediate) and cannot create anything. Roles are cluster-wide, so it is created once per server.

do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'novora_app') then
        create role novora_app login nosuperuser nocreatedb nocreaterole noinherit;
    end if;
end
$$;

grant usage on schema marts, alerts, app, nlp, raw, quarantine to novora_app;

-- Marts are rebuilt by dbt (dropped and created again): default privileges cover every future table and view.
grant select on all tables in schema marts to novora_app;
alter default privileges in schema marts grant select on tables to novora_app;

grant select on all tables in schema alerts to novora_app;
grant update (status, status_changed_at, status_changed_by) on alerts.alerts to novora_app;
grant insert on alerts.alert_events to novora_app;

grant select on app.settings, app.users, app.user_team_access, app.sessions, app.audit_log to novora_app;
grant update (value, updated_at, updated_by) on app.settings to novora_app;
grant update (password_hash, password_set_at, password_set_by, failed_sign_ins, locked_until, last_sign_in_at)
    on app.users to novora_app;
grant insert, update (last_seen_at, expires_at, ended_at, end_reason) on app.sessions to novora_app;
grant insert on app.audit_log to novora_app;

-- Comments are masked before they reach nlp (raw keeps the originals); the review queue is decided in the app.
grant select on nlp.comments, nlp.embeddings, nlp.review_queue, nlp.review_events to novora_app;
grant update on nlp.review_queue to novora_app;
grant insert on nlp.review_events to novora_app;

-- Data health: the ingestion ledger and the quarantine. Raw records of responses (unmasked comments) and
-- employees (names, emails) never reach the app: it reads the quarantine through a view that drops them.
grant select on raw.deliveries to novora_app;
create view quarantine.rejected_rows_for_app as
select
    rejected_row_id, dataset, survey_id, file_path, line_number, reasons, rejected_at,
    case when dataset in ('teams', 'surveys', 'invitations') then raw_record end as raw_record
from quarantine.rejected_rows;
grant select on quarantine.rejected_rows_for_app to novora_app;

grant usage on all sequences in schema alerts, app, nlp to novora_app;
