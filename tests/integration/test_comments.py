"""Comment intelligence end to end (issue 4's acceptance): real Dagster runs, the real model, real dbt.

The landing zone is tests/comments_fixture.py; its docstring works out by hand which teams' comments are
published. Sentiment shares are recomputed here from nlp.comment_enrichment with plain Python.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from assets.nlp import review
from assets.nlp.assets import EMBEDDINGS
from assets.nlp.embeddings import encode
from assets.nlp.search import SearchError, search_comments, teams_in_scope
from orchestration.config import NovoraConfig
from orchestration.definitions import build_definitions
from orchestration.jobs import build_marts_job, enrich_comments_job
from orchestration.runner import open_instance, quiet_run_config
from tests.comments_fixture import ABUSIVE, COMMENTS, PLANTED, SURVEY_ID, THREAT, comment_of, write_comments_landing
from tests.conftest import materialized_warehouse

pytestmark = pytest.mark.integration

MODEL = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def warehouse(pg_home: Path, tmp_path_factory) -> tuple[NovoraConfig, str]:
    return materialized_warehouse(pg_home, write_comments_landing(tmp_path_factory.mktemp("comments") / "landing"))


def query(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def run_job(config: NovoraConfig, job_name: str, partition_key: str | None = None,
            assets: list[dg.AssetKey] | None = None) -> None:
    result = build_definitions(config).resolve_job_def(job_name).execute_in_process(
        run_config=quiet_run_config("WARNING"), instance=open_instance(config), partition_key=partition_key,
        asset_selection=assets, raise_on_error=False)
    assert result.success


def test_masked_text_shows_placeholders(warehouse):
    _, url = warehouse
    masked = dict(query(url, "select comment_id, text_masked from nlp.comments where survey_id = %s", SURVEY_ID))
    assert len(masked) == sum(len(c) for c in COMMENTS.values()) == 21
    assert masked[comment_of("sales", 1)] == "Big thanks to [NAME] for covering my accounts while I was off sick."
    assert masked[comment_of("sales", 3)] == (
        "Commission payouts are always late. Email me at [EMAIL] if you want details.")
    assert masked[comment_of("sales", 5)] == (
        "Please refund my card [CARD], the expense tool has lost my claim twice.")
    assert masked[comment_of("ops", 2)] == "Call me on [PHONE] if you want to hear how bad the rota planning is."
    assert masked[comment_of("ops", 3)] == (
        "Payroll still has my SSN as [NATIONAL_ID] on the wrong form, nobody fixes it.")
    assert masked[comment_of("eng", 1)] == "[NAME] keeps cancelling our one to ones at the last minute."
    assert masked[comment_of("web", 3)] == "Send my expenses to [IBAN] instead of the old account."
    assert masked[comment_of("data", 1)] == "[NAME] never answers on [PHONE], we are blocked for days."
    # text without personal data is kept as written
    assert masked[comment_of("web", 5)] == COMMENTS["web"][4]


def text_columns(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    return conn.execute(
        """select table_schema, table_name, column_name from information_schema.columns
           where data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'character')
             and table_schema not in ('pg_catalog', 'information_schema', 'raw', 'quarantine')
             and (table_schema, table_name) in (select table_schema, table_name from information_schema.tables
                                                where table_type = 'BASE TABLE')""").fetchall()


def test_no_planted_pii_anywhere_outside_raw_and_quarantine(warehouse):
    """Every text column of every table in every database on the server: warehouse and Dagster's storage."""
    _, url = warehouse
    databases = [row[0] for row in query(url, "select datname from pg_database where not datistemplate")]
    assert {"novora", "dagster"} <= set(databases)
    scanned, found = 0, []
    for dbname in databases:
        with psycopg.connect(make_conninfo(url, dbname=dbname)) as conn:
            for schema, table, column in text_columns(conn):
                scanned += 1
                for planted in PLANTED:
                    hit = conn.execute(
                        f'select count(*) from "{schema}"."{table}" '
                        f'where strpos(lower("{column}"::text), lower(%s)) > 0', (planted,)).fetchone()[0]
                    if hit:
                        found.append((dbname, schema, table, column, planted))
    assert scanned > 50  # Dagster's event log and runs, nlp, staging, intermediate, marts, app
    assert found == []
    # ... while raw does hold them: the scan looks in the right way
    raw_hits = query(url, "select count(*) from raw.responses where strpos(comment, %s) > 0", "Priya Raman")
    assert raw_hits == [(1,)]


def test_comments_mart_publishes_exactly_the_hand_checked_teams(warehouse):
    _, url = warehouse
    published = {row[0] for row in query(url, "select comment_id from marts.comments")}
    expected = ({comment_of("sales", n) for n in (1, 2, 3, 5, 6)} | {comment_of("ops", n) for n in range(1, 5)}
                | {comment_of("web", n) for n in range(1, 6)})
    assert published == expected
    texts = [row[0] for row in query(url, "select text_masked from marts.comments")]
    assert all("@" not in t for t in texts)


def test_comment_insights_suppression_counts_and_shares(warehouse):
    _, url = warehouse
    rows = {(r[0], r[1]): r[2:] for r in query(
        url, """select team_id, scope, n_comments, n_respondents, suppressed, suppression_reason,
                       negative_share, positive_share, top_themes
                from marts.comment_insights where survey_id = %s""", SURVEY_ID)}
    expected = {  # (team, scope): (comments, respondents, suppressed, reason)
        ("sales", "team"): (6, 6, False, None), ("ops", "team"): (4, 4, False, None),
        ("eng", "team"): (4, 4, True, "complementary"), ("web", "team"): (5, 5, False, None),
        ("data", "team"): (2, 2, True, "below_min_n"), ("eng", "subtree"): (11, 11, False, None),
        ("__org__", "org"): (21, 21, False, None),
    }
    assert {key: value[:4] for key, value in rows.items()} == expected
    labels = dict(query(url, "select comment_id, sentiment_label from nlp.comment_enrichment"))
    members = {"sales": ["sales"], "ops": ["ops"], "web": ["web"], "eng": ["eng", "web", "data"],
               "__org__": list(COMMENTS)}
    for (team, scope), (n, _, suppressed, _, negative, positive, top) in rows.items():
        if suppressed:
            assert (negative, positive, top) == (None, None, None)
            continue
        teams = members[team] if scope != "team" else [team]
        counts = Counter(labels[comment_of(t, i)] for t in teams for i in range(1, len(COMMENTS[t]) + 1))
        assert float(negative) == pytest.approx(counts["negative"] / n, abs=1e-12)
        assert float(positive) == pytest.approx(counts["positive"] / n, abs=1e-12)
        assert 1 <= len(top) <= 3


def test_sentiment_and_themes_of_clear_comments(warehouse):
    _, url = warehouse
    enriched = {r[0]: r[1:] for r in query(
        url, "select comment_id, sentiment_label, sentiment_score, theme from nlp.comment_enrichment")}
    assert enriched[comment_of("sales", 2)][0] == "positive" and enriched[comment_of("sales", 2)][1] > 0.3
    assert enriched[comment_of("sales", 6)][0] == "negative" and enriched[comment_of("sales", 6)][1] < 0
    assert enriched[comment_of("eng", 4)][2] == "meetings"
    assert enriched[comment_of("sales", 6)][2] == "tools"


def test_flagged_comments_are_held_until_reviewed(warehouse):
    config, url = warehouse
    queue = {r[0]: r[1:] for r in query(
        url, "select comment_id, categories, severity, status from nlp.review_queue where is_current")}
    abusive, threat = comment_of("sales", COMMENTS["sales"].index(ABUSIVE) + 1), comment_of("eng", 2)
    assert COMMENTS["eng"][1] == THREAT
    assert set(queue) == {abusive, threat}
    assert "abuse" in queue[abusive][0] and "profanity" in queue[abusive][0] and queue[abusive][2] == "pending"
    assert "threat" in queue[threat][0] and queue[threat][1] == "high"
    assert not query(url, "select 1 from marts.comments where comment_id = %s", abusive)

    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(review.ReviewError, match="cannot become pending"):
            review.decide(conn, abusive, "pending", "hr.admin")
        with pytest.raises(review.ReviewError, match="not in the review queue"):
            review.decide(conn, "2026-05:nope:open_1", "reviewed", "hr.admin")
        review.decide(conn, abusive, "reviewed", "hr.admin", "angry but about work; released")
    run_job(config, build_marts_job.name, assets=[dg.AssetKey(["marts", "comments"])])
    released = query(url, "select text_masked from marts.comments where comment_id = %s", abusive)
    assert released == [(ABUSIVE,)]
    events = query(url, "select from_status, to_status, actor from nlp.review_events where comment_id = %s", abusive)
    assert events == [("pending", "reviewed", "hr.admin")]


def test_rematerialising_unchanged_comments_embeds_nothing(warehouse):
    config, url = warehouse
    instance = open_instance(config)
    first = instance.get_latest_materialization_event(EMBEDDINGS).asset_materialization.metadata
    distinct = query(url, "select count(distinct text_sha256) from nlp.comments")[0][0]
    assert first["new_embeddings"].value == distinct == 21
    assert first["model_passes"].value == first["sentiment_encoder_passes"].value == distinct
    before = query(url, "select count(*) from nlp.embeddings")[0][0]
    assert before == 3 * distinct  # sentence, layer and sentiment-encoder views of each text
    run_job(config, enrich_comments_job.name, SURVEY_ID)
    again = instance.get_latest_materialization_event(EMBEDDINGS).asset_materialization.metadata
    assert again["new_embeddings"].value == 0
    assert again["model_passes"].value == again["sentiment_encoder_passes"].value == 0
    assert again["cached"].value == distinct
    assert query(url, "select count(*) from nlp.embeddings")[0][0] == before


def test_semantic_search_returns_nearest_published_comments_in_scope(warehouse):
    _, url = warehouse
    with psycopg.connect(url) as conn:
        hits = search_comments(conn, "slow software and tooling", encode, MODEL, team_ids=None, limit=3)
        assert [h.comment_id for h in hits][:1] in ([comment_of("web", 5)], [comment_of("sales", 6)])
        assert hits == sorted(hits, key=lambda h: -h.similarity)
        web_only = search_comments(conn, "slow software and tooling", encode, MODEL, team_ids=["web"], limit=10)
        assert {h.team_id for h in web_only} == {"web"} and web_only[0].comment_id == comment_of("web", 5)
        # data's comments are suppressed (2 respondents): a manager of data finds nothing, not even by search
        assert search_comments(conn, "phone", encode, MODEL, team_ids=["data"]) == []
        assert search_comments(conn, "anything", encode, MODEL, team_ids=[]) == []
        assert set(teams_in_scope(conn, ["eng"])) == {"eng", "web", "data"}
        with pytest.raises(SearchError, match="empty"):
            search_comments(conn, "   ", encode, MODEL, team_ids=None)
