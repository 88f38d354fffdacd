-- Novora warehouse, version 1: the schemas of SPEC section 5, the raw landing tables, the quarantine and the
-- delivery ledger that makes re-delivery idempotent. Identities and unmasked text live only in raw and quarantine.

create schema if not exists raw;
create schema if not exists quarantine;
create schema if not exists nlp;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists alerts;
create schema if not exists app;

-- One row per file Novora has looked at. The current delivery of a dataset (and survey) is the one whose
-- rows are in raw; its fingerprint (file content + the reference data it was validated against + contract
-- version) lets an identical re-delivery be recognised and skipped.
create table raw.deliveries (
    delivery_id     bigint generated always as identity primary key,
    dataset         text        not null check (dataset in ('teams', 'employees', 'surveys', 'questions', 'invitations', 'responses')),
    survey_id       text,
    file_path       text        not null,
    content_sha256  text,
    fingerprint     text        not null,
    rows_delivered  integer     not null default 0,
    rows_loaded     integer     not null default 0,
    rows_rejected   integer     not null default 0,
    is_file_rejected boolean    not null default false,
    file_error      text,
    file_modified_at timestamptz,
    loaded_at       timestamptz not null default now(),
    is_current      boolean     not null default true,
    check (rows_loaded + rows_rejected = rows_delivered)
);
create unique index deliveries_current_uq on raw.deliveries (dataset, coalesce(survey_id, '')) where is_current;

create table raw.teams (
    team_id             text primary key,
    team_name           text not null,
    parent_team_id      text,
    manager_employee_id text,
    source_line         integer not null,
    delivery_id         bigint  not null references raw.deliveries (delivery_id)
);

create table raw.employees (
    employee_id     text primary key,
    email           text not null,
    full_name       text not null,
    team_id         text not null,
    dashboard_role  text check (dashboard_role in ('admin', 'manager', 'viewer')),
    location        text,
    is_active       boolean not null,
    source_line     integer not null,
    delivery_id     bigint  not null references raw.deliveries (delivery_id)
);

create table raw.surveys (
    survey_id   text primary key,
    title       text not null,
    opened_at   timestamptz not null,
    closed_at   timestamptz,
    delivery_id bigint not null references raw.deliveries (delivery_id)
);

create table raw.questions (
    survey_id      text    not null,
    question_id    text    not null,
    question_type  text    not null check (question_type in ('likert', 'enps', 'comment')),
    driver_id      text,
    question_text  text    not null,
    position       integer not null,
    delivery_id    bigint  not null references raw.deliveries (delivery_id),
    primary key (survey_id, question_id)
);

create table raw.invitations (
    survey_id   text        not null,
    employee_id text        not null,
    team_id     text        not null,
    invited_at  timestamptz not null,
    source_line integer     not null,
    delivery_id bigint      not null references raw.deliveries (delivery_id),
    primary key (survey_id, employee_id)
);

-- One row per answer (1.25 M per survey at the largest scale), one list partition per survey. A delivery is
-- COPY'd into a fresh table, indexed in bulk and swapped in for the survey's old partition in one transaction:
-- re-delivery costs O(that survey) and never leaves dead rows behind.
create table raw.responses (
    survey_id    text        not null,
    response_id  text        not null,
    question_id  text        not null,
    team_id      text        not null,
    submitted_at timestamptz not null,
    score        smallint,
    comment      text,
    source_line  integer     not null,
    delivery_id  bigint      not null,
    primary key (survey_id, response_id, question_id)
) partition by list (survey_id);

-- Every row that did not meet its contract, with every reason. A file that could not be read at all has one
-- row with line_number null and the reason in reasons.
create table quarantine.rejected_rows (
    rejected_row_id bigint generated always as identity primary key,
    delivery_id     bigint  not null references raw.deliveries (delivery_id),
    dataset         text    not null,
    survey_id       text,
    file_path       text    not null,
    line_number     integer,
    raw_record      jsonb,
    reasons         text[]  not null check (cardinality(reasons) > 0),
    rejected_at     timestamptz not null default now()
);
create index rejected_rows_dataset_survey_idx on quarantine.rejected_rows (dataset, survey_id);

-- Settings editable by admins (SPEC section 4), with seeded defaults.
create table app.settings (
    setting_key text primary key,
    value       jsonb not null,
    description text  not null,
    updated_at  timestamptz not null default now(),
    updated_by  text  not null default 'system'
);

insert into app.settings (setting_key, value, description) values
    ('min_n', '4', 'Anonymity threshold: groups with fewer respondents are suppressed.'),
    ('comment_min_n', '4', 'Comments of a team are published only from this many comments in a survey.'),
    ('pii_masking', 'true', 'Mask personal data in comments before anything derives from them.'),
    ('notification_channels', '["email"]', 'Channels alerts are sent on.'),
    ('alert.low_score.threshold', '6.0', 'LOW_SCORE fires when a mean is below this.'),
    ('alert.big_drop_abs.threshold', '1.0', 'BIG_DROP_ABS fires when a mean fell by more than this many points.'),
    ('alert.big_drop_rel.threshold', '0.15', 'BIG_DROP_REL fires when a mean fell by more than this share.'),
    ('alert.enps_neg.threshold', '0', 'ENPS_NEG fires when eNPS is below this.'),
    ('alert.low_participation.threshold', '0.6', 'LOW_PARTICIPATION fires when participation is below this.'),
    ('alert.participation_drop.threshold', '0.2', 'PARTICIPATION_DROP fires when participation fell by more than this share.'),
    ('alert.neg_sent_spike.threshold', '0.3', 'NEG_SENT_SPIKE fires when more than this share of comments is negative.'),
    ('alert.recurring.min_surveys', '3', 'RECURRING fires when the same issue was raised in this many surveys.');
