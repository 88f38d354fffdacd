-- Novora warehouse, version 9: alert provenance across re-scores (`novora rescore`, assets/alerts/revisions.py).
-- Every evaluation records the rule version, what asked for it and the sentiment model whose scores the marts
-- held; every alert points at the evaluation that first raised it and the last one that evaluated it, and keeps one
-- revision per change of what it says (values, thresholds, rule version, sentiment model), so a re-score after a
-- rule, threshold or model change keeps the history of which version produced what. Written to be applied once,
-- like every migration, and harmless if its statements run again (if not exists, guarded backfills).

alter table alerts.evaluations add column if not exists rule_version text;
-- the sentiment model (orchestration/rescore.py: "<embedding model>@<training data>.<adapter>", 12 hex each)
-- whose scores marts.comments held, one per survey joined with ", " when they differ; null: no comments
alter table alerts.evaluations add column if not exists sentiment_model text;
-- what asked for the evaluation: automation, landing_sensor, alert_settings, novora materialize,
-- "novora rescore: <reason>", "schedule <name>", "backfill <id>", Dagster run; null before this version
alter table alerts.evaluations add column if not exists trigger text;
alter table alerts.evaluations add column if not exists run_id text;   -- the Dagster run, when one ran it
-- current alerts whose statement changed (a revision written) without being raised or reopened
alter table alerts.evaluations add column if not exists changed_alerts integer;

alter table alerts.alerts add column if not exists first_evaluation_id bigint
    references alerts.evaluations (evaluation_id);
alter table alerts.alerts add column if not exists last_evaluation_id bigint
    references alerts.evaluations (evaluation_id);
alter table alerts.alert_events add column if not exists evaluation_id bigint
    references alerts.evaluations (evaluation_id);

-- The sentiment classifier each comment was scored with (same form as evaluations.sentiment_model); null for
-- comments classified before this version: `novora rescore` re-scores them by default.
alter table nlp.comment_enrichment add column if not exists sentiment_model text;

-- What an alert said, each time an evaluation raised it or changed what it says. An evaluation that finds the
-- same values, thresholds, rule version and sentiment model writes nothing here.
create table if not exists alerts.alert_revisions (
    revision_id     bigint generated always as identity primary key,
    alert_id        bigint      not null references alerts.alerts (alert_id),
    -- the evaluation that found these values (for a revision this migration wrote: the last evaluation that saw
    -- the alert, null when none was recorded)
    evaluation_id   bigint      references alerts.evaluations (evaluation_id),
    rule_version    text        not null,
    thresholds      jsonb       not null,   -- the thresholds the rule used (provenance.thresholds)
    metric_value    numeric,
    threshold       numeric     not null,
    severity        text        not null,
    message         text        not null,
    provenance      jsonb       not null,
    -- set for alerts computed from comment sentiment (NEG_SENT_SPIKE, RECURRING over it), null elsewhere;
    -- 'unrecorded' where the comments were scored before the model was recorded
    sentiment_model text,
    recorded_at     timestamptz not null default now()
);
create index if not exists alert_revisions_alert_idx on alerts.alert_revisions (alert_id, revision_id);
create index if not exists alert_revisions_evaluation_idx on alerts.alert_revisions (evaluation_id);

-- Upgrades keep their history: alerts evaluated before this version point at the evaluations recorded around
-- them (the old code recorded an evaluation just after syncing, so the first one at or after a timestamp is the
-- one that wrote it) and get one revision from their current values.
update alerts.alerts as a set
    first_evaluation_id = (select min(e.evaluation_id) from alerts.evaluations as e
                           where e.evaluated_at >= a.first_seen_at),
    last_evaluation_id = (select min(e.evaluation_id) from alerts.evaluations as e
                          where e.evaluated_at >= a.last_seen_at)
where a.first_evaluation_id is null;

insert into alerts.alert_revisions (alert_id, evaluation_id, rule_version, thresholds, metric_value, threshold,
                                    severity, message, provenance, sentiment_model, recorded_at)
select
    a.alert_id, a.last_evaluation_id, a.rule_version, coalesce(a.provenance -> 'thresholds', '{}'::jsonb),
    a.metric_value, a.threshold, a.severity, a.message, a.provenance,
    case when 'NEG_SENT_SPIKE' in (a.alert_type, a.provenance ->> 'recurring_type') then 'unrecorded' end,
    a.last_seen_at
from alerts.alerts as a
where not exists (select 1 from alerts.alert_revisions as r where r.alert_id = a.alert_id);

grant select on alerts.alert_revisions to novora_app;
