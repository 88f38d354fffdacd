-- Novora warehouse, version 4: alerts (SPEC sections 4 and 5). One row per real issue, its lifecycle, and the
-- notifications sent about it. Recipients are employee ids (the address is looked up in raw.employees when a
-- message is sent), so no identity leaves raw.

create table alerts.alerts (
    alert_id        bigint generated always as identity primary key,
    dedup_key       text        not null unique,
    alert_type      text        not null check (alert_type in ('LOW_SCORE', 'BIG_DROP_ABS', 'BIG_DROP_REL',
                                    'ENPS_NEG', 'LOW_PARTICIPATION', 'PARTICIPATION_DROP', 'NEG_SENT_SPIKE',
                                    'RECURRING')),
    severity        text        not null check (severity in ('low', 'medium', 'high')),
    survey_id       text        not null,
    team_id         text        not null,
    scope           text        not null check (scope in ('team', 'subtree', 'org')),
    team_name       text,
    driver_id       text,
    theme           text,
    metric_value    numeric,
    threshold       numeric     not null,
    message         text        not null,
    -- drop rules: is the change beyond chance for the group's size (95 % interval below 0); null elsewhere
    is_significant  boolean,
    ci_low          numeric,
    ci_high         numeric,
    rule_version    text        not null,
    -- the thresholds the rule used and the mart rows (keys and values) that fired it
    provenance      jsonb       not null,
    status          text        not null default 'open'
                                check (status in ('open', 'acknowledged', 'resolved', 'dismissed')),
    -- false once an evaluation no longer finds the issue (corrected data, changed thresholds)
    still_holds     boolean     not null default true,
    first_seen_at   timestamptz not null default now(),
    last_seen_at    timestamptz not null default now(),
    status_changed_at timestamptz not null default now(),
    status_changed_by text      not null default 'novora'
);
create index alerts_status_idx on alerts.alerts (status, severity);
create index alerts_team_idx on alerts.alerts (team_id, survey_id);

-- The lifecycle: every status change, by whom (a person or 'novora'), when and why.
create table alerts.alert_events (
    event_id     bigint generated always as identity primary key,
    alert_id     bigint      not null references alerts.alerts (alert_id),
    from_status  text,
    to_status    text        not null,
    actor        text        not null,
    note         text,
    occurred_at  timestamptz not null default now()
);
create index alert_events_alert_idx on alerts.alert_events (alert_id);

-- One row per message to send: about an alert, or about a failed Dagster run (admins). Unique per (subject,
-- channel, recipient): a notification is sent once. Retries back off exponentially; a permanent failure stays
-- visible as status 'failed' with its error.
create table alerts.notifications (
    notification_id bigint generated always as identity primary key,
    alert_id        bigint      references alerts.alerts (alert_id),
    run_id          text,
    channel         text        not null check (channel in ('email', 'webhook')),
    recipient       text        not null,
    is_digest       boolean     not null default false,
    -- what the recipient gets (rendered when the notification is planned; a digest joins its rows' texts)
    subject         text        not null,
    body            text        not null,
    status          text        not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed')),
    attempts        integer     not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_attempt_at timestamptz,
    sent_at         timestamptz,
    error           text,
    created_at      timestamptz not null default now(),
    check ((alert_id is null) <> (run_id is null)),
    unique (alert_id, channel, recipient),
    unique (run_id, channel, recipient)
);
create index notifications_due_idx on alerts.notifications (next_attempt_at) where status = 'pending';

-- Every delivery attempt, failed or not, with what the receiving server said.
create table alerts.notification_attempts (
    attempt_id      bigint generated always as identity primary key,
    notification_id bigint      not null references alerts.notifications (notification_id),
    attempt         integer     not null,
    outcome         text        not null check (outcome in ('sent', 'transient', 'permanent')),
    error           text,
    attempted_at    timestamptz not null default now()
);

-- One row per evaluation of the rules: what it read and found, and a hash of the settings it used (a sensor
-- re-evaluates when the settings no longer match the latest evaluation's).
create table alerts.evaluations (
    evaluation_id   bigint generated always as identity primary key,
    evaluated_at    timestamptz not null default now(),
    settings_sha256 text        not null,
    thresholds      jsonb       not null,
    mart_rows       integer     not null,
    current_alerts  integer     not null,
    new_alerts      integer     not null,
    resolved_alerts integer     not null,
    reopened_alerts integer     not null,
    seconds         numeric     not null
);

insert into app.settings (setting_key, value, description) values
    ('alert.low_score.severity', '"high"', 'Severity of LOW_SCORE alerts (low, medium or high).'),
    ('alert.big_drop_abs.severity', '"medium"', 'Severity of BIG_DROP_ABS alerts.'),
    ('alert.big_drop_rel.severity', '"medium"', 'Severity of BIG_DROP_REL alerts.'),
    ('alert.enps_neg.severity', '"high"', 'Severity of ENPS_NEG alerts.'),
    ('alert.low_participation.severity', '"medium"', 'Severity of LOW_PARTICIPATION alerts.'),
    ('alert.participation_drop.severity', '"medium"', 'Severity of PARTICIPATION_DROP alerts.'),
    ('alert.neg_sent_spike.severity', '"high"', 'Severity of NEG_SENT_SPIKE alerts.'),
    ('alert.recurring.severity', '"high"', 'Severity of RECURRING alerts.'),
    ('alert.drops.require_significance', 'false',
     'Drop alerts (BIG_DROP_ABS, BIG_DROP_REL) fire only when the 95 % interval of the change lies below 0.'),
    ('notify.medium_digest', 'false',
     'Medium-severity alerts are sent once a day as a digest per recipient instead of one message each.'),
    ('notify.digest_hour_utc', '8', 'Hour of the day (UTC, 0-23) the daily digest goes out.'),
    ('notify.max_attempts', '6', 'Delivery attempts before a notification is marked failed.'),
    ('notify.retry_base_seconds', '30', 'First retry after this many seconds, doubling with every attempt.');

-- Both channels listed by default; each is used only where it is configured (NOVORA_SMTP_HOST,
-- NOVORA_WEBHOOK_URL). An installation that changed the list keeps its own.
update app.settings set value = '["email", "webhook"]',
    description = 'Channels alerts are sent on (email, webhook), where configured.'
where setting_key = 'notification_channels' and value = '["email"]'::jsonb;
