-- Novora warehouse, version 10: a stale-data message (the stale_data_alerts sensor, orchestration/cadences.py)
-- names its episode in a column of its own. Until now it was kept in run_id with a 'stale-data:' prefix, a column
-- that otherwise names a failed Dagster run. Each notification is about exactly one thing: an alert, a failed
-- run or a stale-data episode, and is sent once per thing, channel and recipient.

alter table alerts.notifications add column stale_episode text;
alter table alerts.notifications drop constraint notifications_check;

update alerts.notifications set stale_episode = run_id, run_id = null where run_id like 'stale-data:%';

alter table alerts.notifications add constraint notifications_one_subject
    check (num_nonnulls(alert_id, run_id, stale_episode) = 1);
alter table alerts.notifications add constraint notifications_stale_episode_channel_recipient_key
    unique (stale_episode, channel, recipient);
