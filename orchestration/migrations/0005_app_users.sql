-- Novora warehouse, version 5: dashboard accounts, their sessions and the audit log (SPEC sections 1 and 5).
-- Accounts come from the roster's dashboard_role (the app/users asset keeps them in step); a password is set by
-- an admin or `novora users set-password` and stored only as an argon2id hash.

create table app.users (
    user_id          text        primary key,             -- the roster's employee_id
    email            text        not null,
    role             text        not null check (role in ('admin', 'manager', 'viewer')),
    team_id          text,                                -- the person's own team on the roster
    is_active        boolean     not null default true,   -- false once off the roster, inactive or without a role
    password_hash    text,
    password_set_at  timestamptz,
    password_set_by  text,
    failed_sign_ins  integer     not null default 0,
    locked_until     timestamptz,
    last_sign_in_at  timestamptz,
    synced_at        timestamptz not null default now()
);
create unique index users_active_email_idx on app.users (lower(email)) where is_active;

-- The teams each account may see: the teams a manager manages and every team below them (expanded when the
-- roster is synced, so the app never needs the hierarchy or the roster to decide).
create table app.user_team_access (
    user_id   text not null references app.users (user_id) on delete cascade,
    team_id   text not null,
    via_team_id text not null,                            -- the managed team this access comes from
    primary key (user_id, team_id)
);

-- Signed-in browser sessions: only a SHA-256 of the token is stored. A session ends when it is idle too long,
-- reaches its maximum age, the person signs out, or the account is deactivated.
create table app.sessions (
    session_id    bigint      generated always as identity primary key,
    user_id       text        not null references app.users (user_id) on delete cascade,
    token_sha256  text        not null unique,
    created_at    timestamptz not null default now(),
    last_seen_at  timestamptz not null default now(),
    expires_at    timestamptz not null,
    ended_at      timestamptz,
    end_reason    text
);
create index sessions_user_idx on app.sessions (user_id);

-- Who did what in the app and the CLI: sign-ins (and refusals), password changes, settings, alert decisions.
create table app.audit_log (
    audit_id     bigint      generated always as identity primary key,
    occurred_at  timestamptz not null default now(),
    actor        text        not null,
    action       text        not null,
    subject      text,
    detail       jsonb       not null default '{}'::jsonb
);
create index audit_log_time_idx on app.audit_log (occurred_at desc);

insert into app.settings (setting_key, value, description) values
    ('app.session_idle_minutes', '30', 'A dashboard session ends after this many minutes without activity.'),
    ('app.session_max_hours', '12', 'A dashboard session ends this many hours after sign-in, active or not.'),
    ('app.max_failed_sign_ins', '5', 'Failed sign-ins in a row before an account is locked for a while.'),
    ('app.lockout_minutes', '15', 'How long an account stays locked after too many failed sign-ins.');
