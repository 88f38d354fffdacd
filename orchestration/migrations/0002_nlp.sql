-- Novora warehouse, version 2: comment intelligence (SPEC section 7). Every text here is masked: the unmasked
-- comment never leaves raw.responses. Tables are rewritten one survey at a time by the NLP assets.

create extension if not exists vector;

-- One row per comment answer, its personal data replaced by placeholders ([EMAIL], [NAME], ...).
create table nlp.comments (
    comment_id     text        primary key,
    survey_id      text        not null,
    response_id    text        not null,
    question_id    text        not null,
    team_id        text        not null,
    text_masked    text        not null,
    text_sha256    text        not null,
    pii_counts     jsonb       not null default '{}',
    masked_at      timestamptz not null default now()
);
create index comments_survey_idx on nlp.comments (survey_id, team_id);
create index comments_text_sha256_idx on nlp.comments (text_sha256);

-- The embedding cache: each distinct masked text is embedded once per model (SPEC section 7).
create table nlp.embeddings (
    text_sha256  text        not null,
    model_name   text        not null,
    embedding    vector      not null,
    embedded_at  timestamptz not null default now(),
    primary key (text_sha256, model_name)
);

-- Trained sentiment classifiers, one per embedding model and training set (retrained when either changes).
create table nlp.sentiment_models (
    model_name       text        not null,
    training_sha256  text        not null,
    classifier       jsonb       not null,
    report           jsonb       not null,
    trained_at       timestamptz not null default now(),
    primary key (model_name, training_sha256)
);

-- Sentiment and theme of each comment.
create table nlp.comment_enrichment (
    comment_id        text             primary key,
    survey_id         text             not null,
    sentiment_label   text             not null check (sentiment_label in ('negative', 'neutral', 'positive')),
    sentiment_score   double precision not null check (sentiment_score between -1 and 1),
    theme             text             not null,
    theme_confidence  double precision not null check (theme_confidence between 0 and 1),
    theme_source      text             not null check (theme_source in ('catalogue', 'emerging', 'other')),
    model_name        text             not null,
    enriched_at       timestamptz      not null default now()
);
create index comment_enrichment_survey_idx on nlp.comment_enrichment (survey_id);

-- Clusters of comments no catalogue theme fits, per survey, labelled by their top keywords.
create table nlp.emerging_themes (
    survey_id   text    not null,
    theme       text    not null,
    keywords    text[]  not null,
    n_comments  integer not null,
    primary key (survey_id, theme)
);

-- The admin review queue: comments with profanity, abuse, threats or self-harm signals. A flagged comment is
-- held back from managers while pending or escalated. A row outlives a re-delivery that drops its comment,
-- or a comment no longer flagged (is_current = false), so decisions are never lost.
create table nlp.review_queue (
    comment_id    text        primary key,
    survey_id     text        not null,
    team_id       text        not null,
    text_sha256   text        not null,
    categories    text[]      not null check (cardinality(categories) > 0),
    severity      text        not null check (severity in ('low', 'medium', 'high')),
    status        text        not null default 'pending'
                              check (status in ('pending', 'reviewed', 'escalated', 'dismissed')),
    flagged_at    timestamptz not null default now(),
    reviewed_by   text,
    reviewed_at   timestamptz,
    review_note   text,
    is_current    boolean     not null default true,
    check ((status = 'pending') = (reviewed_by is null))
);
create index review_queue_status_idx on nlp.review_queue (status) where is_current;

-- Every decision on the queue: who moved which comment from what to what, when, and why.
create table nlp.review_events (
    event_id     bigint generated always as identity primary key,
    comment_id   text        not null references nlp.review_queue (comment_id),
    from_status  text        not null,
    to_status    text        not null,
    actor        text        not null,
    note         text,
    occurred_at  timestamptz not null default now()
);
