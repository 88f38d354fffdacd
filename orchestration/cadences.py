"""Automation cadences and stale-data alerts: the clock-driven side of Novora's automation, in one module.

Rebuilds are event driven (orchestration/automation.py): the landing run builds a delivered survey through its
alerts, and the ``warehouse_automation`` sensor rebuilds what sits under a change. The cadences below are the
clock customers know from the hosted product. Each is a schedule (on by default, cron in UTC) that runs a job
over a fixed set of assets, and each tick is cheap: it asks Dagster's records which of those assets are *behind
what they read* (an asset it reads was materialised after it, the rule of orchestration/health.py without the
grace) and requests a run of exactly those and what they feed within the cadence, or skips with the reason.

- ``participation_counters_every_5_min`` (``*/5 * * * *``, job ``refresh_participation_counters``): while a
  survey is open (``raw.surveys``: ``opened_at <= now < closed_at``; no ``closed_at``: open), its participation
  models (staging of surveys, invitations and responses, team participation) and the participation rollups
  and marts (``marts/participation``, ``marts/surveys``). No survey open: the tick skips.
- ``driver_summaries_and_sentiment_every_10_min`` (``*/10 * * * *``, job
  ``refresh_driver_summaries_and_sentiment``): the scored answers and team cells of the open surveys, the comments'
  masking, embeddings and sentiment (NLP) of the open surveys, and the rollups and marts over every survey:
  ``marts/driver_scores``, ``driver_impact``, ``engagement``, ``enps``, ``comment_insights``, ``comments``.
- ``trends_alerts_and_report_caches_every_15_min`` (``*/15 * * * *``, job
  ``refresh_trends_alerts_and_report_caches``): ``marts/trends`` and the alert evaluation (``alerts/alerts``).
  The app's report caches are keyed by the warehouse's *data version* (dashboards/data.py: a digest of the
  table statistics of the schemas the app reads, checked every few seconds), so they are refreshed by the
  rebuild itself: a rebuilt mart or a changed alert changes the version and every cached report built on the
  old one is dropped. There is no second cache to bump, and nothing is rebuilt to refresh a cache whose data
  did not change.

Every tick skips while a landing run (``land_survey``, ``ingest_org``) is queued or in flight (it builds the same
assets itself) or while the cadence's previous run is still going; an asset that another run is building now is
left to that run. Partitioned assets are looked at for open surveys only: a closed survey changes only by a
re-delivery, which the landing sensor turns into a land_survey run. When several open surveys need a rebuild,
each gets a run for its partition and the last of them also rebuilds the rollups over every survey.

Stale-data alerts: every mart has the asset check ``fresh_against_upstream`` (built by
``mart_freshness_checks``; it runs after the mart in every job that builds it). A mart is stale when an asset it
reads was materialised after it more than ``CATCH_UP_GRACE`` ago (health.freshness_state; a pure "last updated
within X" policy would fire every night, since Novora's data only changes when a delivery lands). The
``stale_data_alerts`` sensor evaluates the rule every minute, reports each mart's check result when it changes,
and when marts turn stale it tells the admins once per stale *episode*: one message listing the newly stale
marts, planned in alerts.notifications (email to every active admin and the webhook, as a failed run is; its
``stale_episode`` is ``stale-data:<digest of the episodes>``, so a replayed tick cannot send it twice) and sent through
the same delivery path (retries included); each start and end of an episode is recorded in app.audit_log. The
episode ends when the mart is fresh again; the next staleness notifies again.
"""

import hashlib
import json
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

# the notification path of failed runs (admins' ids, the exactly-once row insert), reused as it is
from assets.alerts.delivery import (
    admin_recipients,
    deliver_due,
    insert_notification,
    load_notify_settings,
    usable_channels,
)
from assets.alerts.notify import WEBHOOK, Planned
from orchestration.automation import ACTIVE_RUN_STATUSES, job_run_active, landing_run_active
from orchestration.health import CATCH_UP_GRACE, STALE, CatalogAsset, format_age, freshness_state, named
from orchestration.partitions import survey_partitions
from orchestration.resources import NotifierResource, WarehouseResource

TRIGGER_TAG = "novora/trigger"
MARTS_GROUP = "marts"
FRESHNESS_CHECK = "fresh_against_upstream"
STALE_EPISODE_PREFIX = "stale-data:"

# ---------------------------------------------------------------- open surveys (pure)


@dataclass(frozen=True)
class SurveyWindow:
    """When a survey takes responses (raw.surveys, from its survey.json)."""

    survey_id: str
    opened_at: datetime
    closed_at: datetime | None


def survey_is_open(window: SurveyWindow, now: datetime) -> bool:
    """Open from ``opened_at`` (inclusive) until ``closed_at`` (exclusive: a survey closing exactly now is closed);
    a survey without ``closed_at`` stays open."""
    return window.opened_at <= now and (window.closed_at is None or now < window.closed_at)


def open_surveys(windows: Iterable[SurveyWindow], now: datetime) -> list[str]:
    """The ids of the surveys open at ``now``, sorted."""
    return sorted(w.survey_id for w in windows if survey_is_open(w, now))


def read_survey_windows(conn) -> list[SurveyWindow]:
    rows = conn.execute("select survey_id, opened_at, closed_at from raw.surveys order by survey_id").fetchall()
    return [SurveyWindow(*row) for row in rows]


# ---------------------------------------------------------------- what a cadence rebuilds (pure)


def needs_rebuild(built_at: datetime | None, upstream_at: datetime | None) -> bool:
    """Behind what it reads: something it reads was materialised after it (or it was never built while what it
    reads exists). Equal times are not behind."""
    return upstream_at is not None and (built_at is None or upstream_at > built_at)


def downstream_within(keys: Iterable[str], parents: Mapping[str, Sequence[str]]) -> set[str]:
    """``keys`` and every key of ``parents`` that reads them, directly or not."""
    children: dict[str, set[str]] = {}
    for child, reads in parents.items():
        for parent in reads:
            children.setdefault(parent, set()).add(child)
    found, todo = set(keys), list(keys)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def waits_after_failure(last_failed_run_at: datetime | None, newest_change: datetime | None) -> bool:
    """After a failed cadence run, wait for a new change rather than fail (and tell the admins) every tick:
    true when the cadence's latest run failed and nothing it reads changed since that run was created."""
    return last_failed_run_at is not None and (newest_change is None or newest_change <= last_failed_run_at)


@dataclass(frozen=True)
class Rebuild:
    """One run a cadence asks for: these assets, for this survey (None: the rollups over every survey)."""

    survey_id: str | None
    keys: tuple[str, ...]


def plan_rebuilds(
    parents: Mapping[str, Sequence[str]],
    partitioned: frozenset[str],
    asset_times: Mapping[str, datetime | None],
    partition_times: Mapping[str, Mapping[str, datetime | None]],
    surveys: Sequence[str],
    in_progress: frozenset[str] = frozenset(),
) -> list[Rebuild]:
    """The runs that bring a cadence's assets level with what they read.

    ``parents``: every target asset and the assets it reads (key strings, ``marts/participation``);
    ``partitioned``: the survey-partitioned keys; ``asset_times``: each key's newest materialisation in any
    partition; ``partition_times[survey][key]``: a partitioned key's newest materialisation of that survey;
    ``surveys``: the open surveys whose partitions are looked at; ``in_progress``: targets another run builds now.
    """
    def newest_read(key: str, survey: str | None) -> datetime | None:
        times = [partition_times.get(survey, {}).get(p) if survey is not None and p in partitioned
                 else asset_times.get(p) for p in parents[key]]
        return max((t for t in times if t is not None), default=None)

    targets = [k for k in sorted(parents) if k not in in_progress]
    rollups = {k for k in targets if k not in partitioned and needs_rebuild(asset_times.get(k), newest_read(k, None))}
    per_survey = {}
    for survey in surveys:
        behind = {k for k in targets if k in partitioned
                  and needs_rebuild(partition_times.get(survey, {}).get(k), newest_read(k, survey))}
        if behind:
            per_survey[survey] = downstream_within(behind, parents) - in_progress
    rollups |= {k for keys in per_survey.values() for k in keys if k not in partitioned}
    rollups = downstream_within(rollups, parents) - in_progress - partitioned
    plan = [Rebuild(survey, tuple(sorted(k for k in keys if k in partitioned))) for survey, keys in per_survey.items()]
    if plan:
        # the rollups over every survey go with the last survey's run, so they are not built twice at once
        plan[-1] = Rebuild(plan[-1].survey_id, tuple(sorted({*plan[-1].keys, *rollups})))
    elif rollups:
        plan.append(Rebuild(None, tuple(sorted(rollups))))
    return plan


# ---------------------------------------------------------------- the cadences


def _keys(*paths: str) -> list[dg.AssetKey]:
    return [dg.AssetKey.from_user_string(path) for path in paths]


@dataclass(frozen=True)
class Cadence:
    """A schedule: its name (what it does), its cron (UTC), the job over its assets, and whether it only runs
    while a survey is open."""

    name: str
    cron: str
    job_name: str
    keys: tuple[dg.AssetKey, ...]
    partitioned: bool
    only_while_a_survey_is_open: bool
    description: str

    @property
    def selection(self) -> dg.AssetSelection:
        return dg.AssetSelection.assets(*self.keys)


PARTICIPATION_COUNTERS = Cadence(
    name="participation_counters_every_5_min", cron="*/5 * * * *", job_name="refresh_participation_counters",
    keys=tuple(_keys("staging/stg_raw__surveys", "staging/stg_raw__invitations", "staging/stg_raw__responses",
                     "intermediate/int_team_participation", "intermediate/int_group_participation",
                     "intermediate/int_group_survey_sequence", "marts/participation", "marts/surveys")),
    partitioned=True, only_while_a_survey_is_open=True,
    description=("Every 5 minutes while a survey is open: rebuilds its participation counters (invitations, "
                 "responses, team and group participation, the participation and surveys marts) when what they "
                 "read changed; skips otherwise."),
)
DRIVER_SUMMARIES_AND_SENTIMENT = Cadence(
    name="driver_summaries_and_sentiment_every_10_min", cron="*/10 * * * *",
    job_name="refresh_driver_summaries_and_sentiment",
    keys=tuple(_keys("staging/stg_raw__questions", "intermediate/int_answers_scored",
                     "intermediate/int_respondent_scores", "intermediate/int_team_metric_cells",
                     "intermediate/int_team_driver_moments", "intermediate/int_group_metric_cells",
                     "intermediate/int_group_suppression", "intermediate/int_group_scores",
                     "intermediate/int_group_driver_moments", "marts/driver_scores", "marts/driver_impact",
                     "marts/engagement", "marts/enps",
                     "nlp/comments", "nlp/review_queue", "nlp/embeddings", "nlp/comment_enrichment",
                     "staging/stg_nlp__comments", "staging/stg_nlp__review_queue",
                     "intermediate/int_team_comment_cells", "intermediate/int_group_comment_cells",
                     "intermediate/int_group_comment_suppression", "intermediate/int_group_comment_themes",
                     "marts/comment_insights", "marts/comments")),
    partitioned=True, only_while_a_survey_is_open=False,
    description=("Every 10 minutes: rebuilds the driver summaries (scores, impact, engagement, eNPS) and the "
                 "comments' sentiment and insights when what they read changed; skips otherwise."),
)
TRENDS_ALERTS_AND_REPORT_CACHES = Cadence(
    name="trends_alerts_and_report_caches_every_15_min", cron="*/15 * * * *",
    job_name="refresh_trends_alerts_and_report_caches",
    keys=tuple(_keys("marts/trends", "alerts/alerts")),
    partitioned=False, only_while_a_survey_is_open=False,
    description=("Every 15 minutes: rebuilds the trends mart and re-evaluates the alerts when what they read "
                 "changed (the app's report caches follow the data version); skips otherwise."),
)
CADENCES = (PARTICIPATION_COUNTERS, DRIVER_SUMMARIES_AND_SENTIMENT, TRENDS_ALERTS_AND_REPORT_CACHES)


def _job(cadence: Cadence):
    # like land_survey: dbt's single-run backfill policy beside the NLP assets' none; one partition per run here
    warnings.filterwarnings("ignore", message=f"Asset job {cadence.job_name} materializes assets with varying")
    return dg.define_asset_job(
        cadence.job_name, selection=cadence.selection, executor_def=dg.in_process_executor,
        partitions_def=survey_partitions if cadence.partitioned else None,
        description=f"What the {cadence.name} schedule runs: the assets of its selection that are behind.")


cadence_jobs = {cadence.name: _job(cadence) for cadence in CADENCES}

# ---------------------------------------------------------------- reading Dagster's records (I/O)


def _newest(instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey]) -> tuple[dict[str, datetime | None], set[str]]:
    """Each key's newest materialisation (any partition), and the keys a queued or running run is building."""
    records = instance.get_asset_records(list(keys))
    active = set(instance.get_run_ids(filters=dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES)))
    times, building = {}, set()
    for record in records:
        entry = record.asset_entry
        key = entry.asset_key.to_user_string()
        event = entry.last_materialization
        times[key] = datetime.fromtimestamp(event.timestamp, tz=UTC) if event else None
        if entry.last_planned_materialization_run_id in active:
            building.add(key)
    return times, building


def _newest_of_partition(instance: dg.DagsterInstance, key: dg.AssetKey, survey: str) -> datetime | None:
    found = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[survey]),
                                            limit=1).records
    return datetime.fromtimestamp(found[0].timestamp, tz=UTC) if found else None


def _last_failed_run_at(instance: dg.DagsterInstance, job_name: str) -> datetime | None:
    """When the job's latest run was created, if that run failed."""
    records = instance.get_run_records(filters=dg.RunsFilter(job_name=job_name), limit=1)
    if records and records[0].dagster_run.status == dg.DagsterRunStatus.FAILURE:
        return records[0].create_timestamp.astimezone(UTC)
    return None


def evaluate_cadence(cadence: Cadence, instance: dg.DagsterInstance, graph, windows: Sequence[SurveyWindow],
                     now: datetime) -> list[dg.RunRequest] | dg.SkipReason:
    """One tick of a cadence: the runs it requests, or why it requests none."""
    if landing_run_active(instance):
        return dg.SkipReason("a landing run (land_survey / ingest_org) is queued or in flight; it rebuilds these "
                             "assets itself")
    if job_run_active(instance, cadence.job_name):
        return dg.SkipReason(f"the previous {cadence.job_name} run is still queued or running")
    known = set(instance.get_dynamic_partitions(survey_partitions.name))
    surveys = [s for s in open_surveys(windows, now) if s in known]
    if cadence.only_while_a_survey_is_open and not surveys:
        return dg.SkipReason(f"no survey is open at {now:%Y-%m-%d %H:%M} UTC")
    targets = [k for k in cadence.keys if graph.has(k)]
    parents = {k.to_user_string(): tuple(p.to_user_string() for p in graph.get(k).parent_keys
                                         if graph.has(p) and graph.get(p).is_materializable) for k in targets}
    partitioned = frozenset(k for k in {*parents, *(p for ps in parents.values() for p in ps)}
                            if graph.get(dg.AssetKey.from_user_string(k)).partitions_def is not None)
    involved = {*parents, *(p for ps in parents.values() for p in ps)}
    asset_times, building = _newest(instance, [dg.AssetKey.from_user_string(k) for k in sorted(involved)])
    looked_at = sorted(involved & partitioned) if cadence.partitioned else []
    partition_times = {s: {k: _newest_of_partition(instance, dg.AssetKey.from_user_string(k), s) for k in looked_at}
                       for s in surveys}
    plan = plan_rebuilds(parents, partitioned, asset_times, partition_times, surveys if cadence.partitioned else [],
                         frozenset(building) & frozenset(parents))
    if not plan:
        scope = f"open surveys: {', '.join(surveys)}" if surveys else "no survey open"
        return dg.SkipReason(f"nothing behind what it reads among {len(parents)} assets ({scope})")
    newest_change = max((t for t in asset_times.values() if t is not None), default=None)
    if waits_after_failure(_last_failed_run_at(instance, cadence.job_name), newest_change):
        return dg.SkipReason(f"the latest {cadence.job_name} run failed and nothing changed since; waiting for a "
                             "new change (the failure went to the admins)")
    stamp = f"{now:%Y%m%dT%H%M}"
    return [dg.RunRequest(run_key=f"{cadence.name}:{rebuild.survey_id or 'all'}:{stamp}",
                          partition_key=rebuild.survey_id,
                          asset_selection=[dg.AssetKey.from_user_string(k) for k in rebuild.keys],
                          tags={TRIGGER_TAG: cadence.name})
            for rebuild in plan]


def _schedule(cadence: Cadence) -> dg.ScheduleDefinition:
    @dg.schedule(name=cadence.name, cron_schedule=cadence.cron, job=cadence_jobs[cadence.name],
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING,
                 description=cadence.description)
    def _tick(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
        now = context.scheduled_execution_time or datetime.now(UTC)
        with warehouse.connect() as conn:
            windows = read_survey_windows(conn)
        return evaluate_cadence(cadence, context.instance, context.repository_def.asset_graph, windows, now)

    return _tick


participation_counters_every_5_min = _schedule(PARTICIPATION_COUNTERS)
driver_summaries_and_sentiment_every_10_min = _schedule(DRIVER_SUMMARIES_AND_SENTIMENT)
trends_alerts_and_report_caches_every_15_min = _schedule(TRENDS_ALERTS_AND_REPORT_CACHES)
cadence_schedules = [participation_counters_every_5_min, driver_summaries_and_sentiment_every_10_min,
                     trends_alerts_and_report_caches_every_15_min]

# ---------------------------------------------------------------- staleness of the marts (pure)


@dataclass(frozen=True)
class StaleMart:
    """A mart behind what it reads: since when its newest input waits, and which input that is."""

    mart: str
    built_at: datetime | None
    upstream: str
    upstream_at: datetime

    def reason(self, now: datetime) -> str:
        built = f"built {format_age(now - self.built_at)} ago" if self.built_at else "never built"
        return (f"{self.mart} is behind {self.upstream}, materialised {format_age(now - self.upstream_at)} ago; "
                f"the mart was {built}")


def stale_marts(marts: Iterable[CatalogAsset], times: Mapping[str, datetime | None], now: datetime,
                grace: timedelta = CATCH_UP_GRACE) -> dict[str, StaleMart]:
    """The marts stale at ``now`` by health.freshness_state: an input newer than the mart by more than ``grace``
    ago (exactly ``grace`` is still catching up). ``times``: newest materialisation of every key."""
    found = {}
    for mart in marts:
        reads = [(times[p], p) for p in ("/".join(u) for u in mart.upstream) if times.get(p) is not None]
        if not reads:
            continue
        upstream_at, upstream = max(reads)
        if freshness_state(mart.group, times.get(mart.key), upstream_at, now, grace) == STALE:
            found[mart.key] = StaleMart(mart.key, times.get(mart.key), upstream, upstream_at)
    return found


@dataclass(frozen=True)
class EpisodeStep:
    """Open episodes after a tick (mart -> when its input changed), and the episodes this tick started/ended."""

    open: dict[str, str]
    started: tuple[str, ...]
    ended: tuple[str, ...]


def advance_episodes(previous: Mapping[str, str], stale: Mapping[str, StaleMart]) -> EpisodeStep:
    """A mart's episode starts the first tick it is stale and lasts while it stays stale (a newer input does not
    start another); it ends the first tick it is fresh (or catching up) again."""
    started = tuple(sorted(set(stale) - set(previous)))
    ended = tuple(sorted(set(previous) - set(stale)))
    still = {m: since for m, since in previous.items() if m in stale}
    return EpisodeStep({**still, **{m: stale[m].upstream_at.isoformat() for m in started}}, started, ended)


def episode_key(started: Sequence[str], open_episodes: Mapping[str, str]) -> str:
    """The notification key of the episodes that started in one tick (same episodes, same key)."""
    text = ",".join(f"{m}@{open_episodes[m]}" for m in sorted(started))
    return STALE_EPISODE_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:16]


def render_stale(stale: Sequence[StaleMart], now: datetime, grace: timedelta, dagster_url: str) -> tuple[str, str]:
    """The one message of the marts that turned stale in a tick."""
    count = f"{len(stale)} mart{'s' * (len(stale) != 1)}"
    reads = "they read" if len(stale) != 1 else "it reads"
    subject = f"[Novora] stale data: {count} behind what {reads}"
    lines = [f"{count} did not catch up within {format_age(grace)} of a change in what {reads}:", ""]
    lines += [f"- {mart.reason(now)}" for mart in stale]
    lines += ["", "The dashboards show the older numbers until these are rebuilt. `novora health` and the Data "
                  "health page say why (a failed run, a stopped daemon); the Dagster UI lists the runs: "
                  f"{dagster_url.rstrip('/')}/runs",
              "", "This is the one message about it; another comes only if a mart turns stale again after it "
                  "caught up."]
    return subject, "\n".join(lines)


def mart_catalog(graph) -> list[CatalogAsset]:
    """The marts of an asset graph (a code location's or a job's) with every asset they read; an input that is
    never materialised (a dbt source such as app.settings) has no time and counts for nothing."""
    marts = [key for key in graph.materializable_asset_keys if graph.get(key).group_name == MARTS_GROUP]
    return sorted((CatalogAsset(key_path=tuple(key.path), group=MARTS_GROUP,
                                upstream=tuple(sorted(tuple(p.path) for p in graph.get(key).parent_keys)))
                   for key in marts), key=lambda mart: mart.key)


def read_stale_marts(instance: dg.DagsterInstance, graph, now: datetime,
                     grace: timedelta = CATCH_UP_GRACE) -> tuple[list[CatalogAsset], dict[str, StaleMart]]:
    """The marts of ``graph`` and those of them stale at ``now``, from Dagster's records."""
    marts = mart_catalog(graph)
    involved = {dg.AssetKey(list(path)) for mart in marts for path in (mart.key_path, *mart.upstream)}
    times, _ = _newest(instance, sorted(involved, key=lambda k: k.to_user_string()))
    return marts, stale_marts(marts, times, now, grace)


def _check_evaluation(mart: str, stale: StaleMart | None, now: datetime, grace: timedelta) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey.from_user_string(mart), check_name=FRESHNESS_CHECK, passed=stale is None,
        severity=dg.AssetCheckSeverity.WARN,
        description=(stale.reason(now) if stale else f"not behind what it reads for more than {format_age(grace)}"),
        metadata={"upstream": stale.upstream, "upstream_materialised_at": stale.upstream_at.isoformat()}
        if stale else {})


def mart_freshness_checks(assets: Sequence[dg.AssetsDefinition]) -> dg.AssetChecksDefinition:
    """``fresh_against_upstream`` on every mart of ``assets`` (the dbt assets): stale when an asset it reads was
    materialised after it more than CATCH_UP_GRACE ago. Runs after the marts in every job that builds them."""
    marts = sorted((key for a in assets for key, group in a.group_names_by_key.items() if group == MARTS_GROUP),
                   key=lambda k: k.to_user_string())

    @dg.multi_asset_check(
        name="mart_freshness", can_subset=True,
        specs=[dg.AssetCheckSpec(FRESHNESS_CHECK, asset=key, description=(
            f"not behind what it reads for more than {format_age(CATCH_UP_GRACE)}")) for key in marts])
    def _mart_freshness(context: dg.AssetCheckExecutionContext):
        now = datetime.now(UTC)
        # the job's asset graph: a run in process (`novora materialize`) has no repository
        graph = context.op_execution_context.job_def.asset_layer.asset_graph
        _, stale = read_stale_marts(context.instance, graph, now)
        for check_key in sorted(context.selected_asset_check_keys, key=lambda c: c.asset_key.to_user_string()):
            mart = check_key.asset_key.to_user_string()
            evaluation = _check_evaluation(mart, stale.get(mart), now, CATCH_UP_GRACE)
            yield dg.AssetCheckResult(asset_key=check_key.asset_key, check_name=FRESHNESS_CHECK,
                                      passed=evaluation.passed, severity=evaluation.severity,
                                      description=evaluation.description, metadata=evaluation.metadata)

    return _mart_freshness


# ---------------------------------------------------------------- the stale-data sensor


def _notify_stale(conn, notifier: NotifierResource, key: str, subject: str, body: str, now: datetime) -> str:
    """Plan the message to the admins (email) and the webhook, once per key, then send what is due."""
    transports = notifier.transports()
    settings = load_notify_settings(conn)
    channels, unconfigured = usable_channels(settings, transports)
    pairs = [("email", admin) for admin in admin_recipients(conn)] if "email" in channels else []
    pairs += [(WEBHOOK, WEBHOOK)] if WEBHOOK in channels else []
    with conn.transaction():
        planned = sum(insert_notification(conn, "stale_episode", key,
                                          Planned(channel, recipient, False, subject, body), now)
                      for channel, recipient in pairs)
    report = deliver_due(conn, transports, settings, now)
    note = f"; not configured: {', '.join(unconfigured)}" if unconfigured else ""
    return f"{planned} notifications planned; {report.summary()}{note}"


def _audit(conn, action: str, episodes: Mapping[str, str], detail: Callable[[str], dict]) -> None:
    """One app.audit_log row per mart and episode (``episodes``: mart -> when its input changed); a replayed tick
    finds the row there and adds none."""
    with conn.transaction():
        for mart, since in episodes.items():
            episode = f"{mart}@{since}"
            conn.execute(
                "insert into app.audit_log (actor, action, subject, detail) select 'novora', %s, %s, %s "
                "where not exists (select 1 from app.audit_log where action = %s and subject = %s "
                "and detail ->> 'episode' = %s)",
                (action, mart, json.dumps({"episode": episode, **detail(mart)}), action, mart, episode))


def build_stale_data_alerts(clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                            grace: timedelta = CATCH_UP_GRACE) -> dg.SensorDefinition:
    """The ``stale_data_alerts`` sensor; ``clock`` and ``grace`` are what a tick calls "now" and "late"."""

    @dg.sensor(name="stale_data_alerts", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
               description=("Checks every mart against what it reads; tells the admins (email, webhook) once when "
                            f"marts fall behind for more than {format_age(grace)}, and again only after they "
                            "caught up and fell behind anew."))
    def stale_data_alerts(context: dg.SensorEvaluationContext, warehouse: WarehouseResource,
                          notifier: NotifierResource) -> dg.SensorResult:
        now = clock()
        state = json.loads(context.cursor) if context.cursor else {}
        previous, checked = state.get("open", {}), state.get("checked", {})
        marts, stale = read_stale_marts(context.instance, context.repository_def.asset_graph, now, grace)
        step = advance_episodes(previous, stale)
        summary = []
        if step.started or step.ended:
            with warehouse.connect() as conn:
                if step.started:
                    started = [stale[m] for m in step.started]
                    subject, body = render_stale(started, now, grace, notifier.dagster_url)
                    summary.append(f"stale: {named(list(step.started))}; "
                                   + _notify_stale(conn, notifier, episode_key(step.started, step.open), subject,
                                                   body, now))
                    _audit(conn, "stale_data_detected", {m: step.open[m] for m in step.started}, lambda m: {
                        "upstream": stale[m].upstream, "grace_seconds": int(grace.total_seconds())})
                if step.ended:
                    summary.append(f"caught up: {named(list(step.ended))}")
                    _audit(conn, "stale_data_recovered", {m: previous[m] for m in step.ended}, lambda m: {})
        # a mart's check result is reported when it changes (and the first time), not every minute
        now_checked = {m.key: ("stale" if m.key in stale else "fresh") for m in marts}
        events = [_check_evaluation(m, stale.get(m), now, grace)
                  for m, result in now_checked.items() if checked.get(m) != result]
        if summary:
            context.log.info("; ".join(summary))
        return dg.SensorResult(
            asset_events=events, cursor=json.dumps({"open": step.open, "checked": now_checked}),
            skip_reason="; ".join(summary) or (f"{len(stale)} marts stale, admins already told" if stale
                                              else f"{len(marts)} marts fresh or catching up"))

    return stale_data_alerts


stale_data_alerts = build_stale_data_alerts()
