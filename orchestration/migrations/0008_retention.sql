-- Novora warehouse, version 8: retention of raw survey data (`novora retention`, assets/ingestion/retention.py).
-- A survey older than the retention period has its raw rows (answers, invitations, quarantined rows, delivery
-- ledger) and landing files archived to compressed Parquet under $NOVORA_HOME/archive and removed from the
-- warehouse; its marts stay. The survey's definition (raw.surveys, raw.questions and the delivery they came
-- from: a title, dates and question texts, no identities) stays as well: the marts order surveys by it and
-- "the previous survey" of every later survey depends on it.

insert into app.settings (setting_key, value, description) values
    ('retention.raw_months', '24',
     'Surveys closed more than this many months ago have their raw rows and landing files archived by '
     '`novora retention archive` (the marts stay; `novora retention restore` brings a survey back).');

-- One row per archived survey: while it is here, the survey's raw rows live only in the archive, and the
-- survey-partitioned assets (dbt's per-survey models, the comment stages) leave the survey's results as they are
-- instead of rebuilding them from an empty raw.
create table raw.archived_surveys (
    survey_id        text        primary key,
    archived_at      timestamptz not null default now(),
    archived_by      text        not null,
    archive_path     text        not null,
    manifest_sha256  text        not null,   -- the manifest as written: restore refuses an altered one
    row_counts       jsonb       not null    -- table -> rows archived
);

grant select on raw.archived_surveys to novora_app;
