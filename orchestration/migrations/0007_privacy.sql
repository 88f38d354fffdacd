-- Novora warehouse, version 7: privacy requests (`novora privacy export` / `novora privacy delete`).
-- An erased person's identity is replaced everywhere by a stable pseudonym ("erased-<12 hex>"); the rows that
-- feed aggregates (roster, invitations, team managers) stay, so every mart value is unchanged. The ledger below
-- lets ingestion recognise the person in a re-delivered roster or invitation file and pseudonymise them on load.

-- The per-installation secret of the keyed hash (HMAC-SHA256) of erased employee ids: without it, a hash of a
-- short employee id could be reversed by trying every id. Created on the first privacy request.
create table app.privacy_key (
    is_singleton boolean     primary key default true check (is_singleton),
    secret       bytea       not null check (octet_length(secret) >= 32),
    created_at   timestamptz not null default now()
);

-- One row per erased person: only the keyed hash of their employee id and the pseudonym that replaced it.
create table app.privacy_erasures (
    employee_id_hmac text        primary key,
    pseudonym        text        not null unique,
    erased_at        timestamptz not null default now(),
    erased_by        text        not null,
    changed_rows     jsonb       not null default '{}'::jsonb   -- rows changed per table
);

-- Privacy requests are run by operators (CLI); the app role reads neither the key nor the ledger.
revoke all on app.privacy_key, app.privacy_erasures from novora_app;
