"""Dagster assets for comments, partitioned by survey: thin wrappers around :mod:`assets.nlp.pipeline`.

nlp/comments + nlp/review_queue (mask and flag) -> nlp/embeddings (cached) -> nlp/comment_enrichment
(sentiment, themes). A backfill runs all its surveys in one run (the model loads once). Metadata and logs carry
counts and timings only, never a comment, masked or not: Dagster's event log lives outside ``raw``.
"""

import os
import warnings
from collections import Counter

import dagster as dg

from assets.ingestion.assets import EMPLOYEES, RESPONSES
from assets.ingestion.retention import archived_among
from assets.nlp import checks, pipeline
from orchestration import automation
from orchestration.partitions import survey_partitions
from orchestration.resources import EmbeddingModel, WarehouseResource
from orchestration.scaling import embedding_step_tags

GROUP = "nlp"

# A backfill of comments is one run over its surveys (the model loads once). The parameter is marked beta;
# its warning would be printed by every CLI command that loads the code location.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)

COMMENTS = dg.AssetKey(["nlp", "comments"])
REVIEW_QUEUE = dg.AssetKey(["nlp", "review_queue"])
EMBEDDINGS = dg.AssetKey(["nlp", "embeddings"])
ENRICHMENT = dg.AssetKey(["nlp", "comment_enrichment"])

_PARTITIONED = {
    "group_name": GROUP,
    "partitions_def": survey_partitions,
    "backfill_policy": dg.BackfillPolicy.single_run(),
}


def _counter_md(title: str, counts: Counter) -> dg.MetadataValue:
    rows = "\n".join(f"| {key} | {n} |" for key, n in counts.most_common())
    return dg.MetadataValue.md(f"| {title} | comments |\n| --- | --- |\n{rows}")


def surveys_in_warehouse(context: dg.AssetExecutionContext, conn) -> list[str]:
    """The run's surveys whose raw rows are in the warehouse: an archived survey's comments stay as they are
    (masking it again from its empty raw would delete them)."""
    archived = archived_among(conn, context.partition_keys)
    if archived:
        context.log.info(f"archived, left as they are: {', '.join(sorted(archived))}")
    return [s for s in context.partition_keys if s not in archived]


def _check(key: dg.AssetKey, name: str, failures: dict[str, str], description: str) -> dg.AssetCheckResult:
    """One result over the run's surveys: passed when none failed; the failures are listed per survey."""
    return dg.AssetCheckResult(
        asset_key=key, check_name=name, passed=not failures, severity=dg.AssetCheckSeverity.ERROR,
        description=description if not failures else "; ".join(f"{s}: {why}" for s, why in failures.items()),
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(COMMENTS, deps=[RESPONSES, EMPLOYEES], description=(
            "Every comment of a survey with personal data masked ([EMAIL], [PHONE], [NAME], ...): the only copy "
            "of comment text outside raw."), automation_condition=automation.survey_models()),
        dg.AssetSpec(REVIEW_QUEUE, deps=[RESPONSES], description=(
            "Comments with profanity, abuse, threats or self-harm signals, for admins to review; held back from "
            "managers until reviewed."), automation_condition=automation.survey_models()),
    ],
    check_specs=[
        dg.AssetCheckSpec("every_comment_masked", asset=COMMENTS, blocking=True,
                          description="each comment answer in raw has exactly one masked row"),
        dg.AssetCheckSpec("no_pii_left", asset=COMMENTS, blocking=True,
                          description="no e-mail, phone, SSN, card number or roster name survives masking"),
    ],
    **_PARTITIONED,
)
def comments(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Mask each survey's comments (roster names included) and flag unsafe ones for review."""
    total = pipeline.MaskReport()
    unmatched, leftovers = {}, {}
    with warehouse.connect() as conn:
        roster, roster_ngrams = pipeline.load_roster(conn), checks.roster_ngrams(conn)
        for survey_id in surveys_in_warehouse(context, conn):
            report = pipeline.mask_survey(conn, survey_id, roster)
            context.log.info(f"survey {survey_id}: {report.n_comments} comments, {report.n_with_pii} with personal "
                             f"data masked, {report.n_flagged} flagged ({report.seconds:.1f} s)")
            total.n_comments += report.n_comments
            total.n_with_pii += report.n_with_pii
            total.pii_counts.update(report.pii_counts)
            total.n_flagged += report.n_flagged
            total.flag_counts.update(report.flag_counts)
            total.seconds += report.seconds
            for k, v in report.queue.items():
                total.queue[k] = total.queue.get(k, 0) + v
            total.roster_size = report.roster_size
            in_raw, masked = checks.unmasked_count(conn, survey_id)
            if in_raw != masked:
                unmatched[survey_id] = f"{in_raw} comments in raw, {masked} masked"
            left = checks.survey_leftover_pii(conn, survey_id, roster_ngrams)
            if left:
                leftovers[survey_id] = ", ".join(f"{n} texts with {kind}" for kind, n in left.items())
    yield dg.MaterializeResult(asset_key=COMMENTS, metadata={
        "surveys": len(context.partition_keys),
        "comments": total.n_comments,
        "comments_with_pii": total.n_with_pii,
        "pii_masked": _counter_md("kind", total.pii_counts),
        "roster_names": total.roster_size,
        "comments_per_second": round(total.n_comments / total.seconds, 1) if total.seconds else 0.0,
        "seconds": round(total.seconds, 3),
    })
    yield dg.MaterializeResult(asset_key=REVIEW_QUEUE, metadata={
        "flagged": total.n_flagged,
        "categories": _counter_md("category", total.flag_counts),
        **{f"queue_{k}": v for k, v in total.queue.items()},
    })
    yield _check(COMMENTS, "every_comment_masked", unmatched, "every comment answer has its masked row")
    yield _check(COMMENTS, "no_pii_left", leftovers, "no personal data found in the masked text")


@dg.asset(
    key=EMBEDDINGS,
    deps=[COMMENTS],
    description=("Vectors (pgvector) of each distinct masked comment text, per model and view (sentence, layer, "
                 "sentiment encoder): computed once, then cached."),
    automation_condition=automation.survey_models(),
    check_specs=[dg.AssetCheckSpec("every_text_embedded", asset=EMBEDDINGS, blocking=True,
                                   description="every masked comment text has every view of the model")],
    op_tags=embedding_step_tags(os.environ),  # GPU nodes on Kubernetes when NOVORA_EMBEDDING_DEVICE=cuda
    **_PARTITIONED,
)
def embeddings(context: dg.AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbeddingModel):
    """Compute the views the cache does not hold yet; unchanged comments cost no forward pass at all."""
    total = pipeline.EmbedReport()
    missing = {}
    encoder = embedder.encoder()
    with warehouse.connect() as conn:
        chosen = pipeline.classifier(conn, encoder, embedder.model_name)
        for survey_id in surveys_in_warehouse(context, conn):
            report = pipeline.embed_survey(conn, survey_id, encoder, chosen.views, chosen.adapter)
            context.log.info(f"survey {survey_id}: {report.n_distinct} distinct texts, {report.n_cached} cached, "
                             f"{report.n_embedded} embedded ({report.n_base_encoded} by the model, "
                             f"{report.n_tuned_encoded} by the sentiment encoder, {report.embed_seconds:.1f} s)")
            total.add(report)
            left = checks.unembedded_count(conn, survey_id, chosen.views.names())
            if left:
                missing[survey_id] = f"{left} texts without every view"
    return dg.MaterializeResult(
        metadata={
            "model_name": embedder.model_name,
            "views": ", ".join(chosen.views.names()),
            "comments": total.n_comments,
            "distinct_texts": total.n_distinct,
            "cached": total.n_cached,
            "new_embeddings": total.n_embedded,
            "model_passes": total.n_base_encoded,
            "sentiment_encoder_passes": total.n_tuned_encoded,
            "embedded_per_second": round(total.embedded_per_second, 1),
            "seconds": round(total.seconds, 3),
        },
        check_results=[_check(EMBEDDINGS, "every_text_embedded", missing, "every text has every view")],
    )


@dg.asset(
    key=ENRICHMENT,
    deps=[EMBEDDINGS, COMMENTS],
    description=("Sentiment (negative / neutral / positive, score -1..1) and theme of each comment, from its "
                 "cached views; comments no theme fits are clustered into emerging themes."),
    automation_condition=automation.survey_models(),
    check_specs=[dg.AssetCheckSpec("every_comment_classified", asset=ENRICHMENT, blocking=True,
                                   description="every masked comment has a sentiment and a theme")],
    op_tags=embedding_step_tags(os.environ),
    **_PARTITIONED,
)
def comment_enrichment(context: dg.AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbeddingModel):
    """Classify each survey's comments with the shipped, evaluated sentiment classifier and the theme catalogue."""
    sentiments, themes_seen, emerging = Counter(), Counter(), []
    unclassified = {}
    seconds = 0.0
    encoder = embedder.encoder()
    with warehouse.connect() as conn:
        chosen = pipeline.classifier(conn, encoder, embedder.model_name)
        catalogue = pipeline.theme_centroids(conn, encoder.sentence, embedder.model_name)
        for survey_id in surveys_in_warehouse(context, conn):
            report = pipeline.enrich_survey(conn, survey_id, encoder, embedder.model_name, chosen, catalogue)
            sentiments.update(report.sentiment_counts)
            themes_seen.update(report.theme_counts)
            emerging.extend((survey_id, theme, n) for theme, _, n in report.emerging)
            seconds += report.seconds
            left = checks.unenriched_count(conn, survey_id)
            if left:
                unclassified[survey_id] = f"{left} comments without sentiment and theme"
    heldout = chosen.report.get("heldout", {})
    return dg.MaterializeResult(
        metadata={
            "comments": sum(sentiments.values()),
            "sentiment": _counter_md("sentiment", sentiments),
            "themes": _counter_md("theme", themes_seen),
            "emerging_themes": len(emerging),
            "classifier_adapter": chosen.adapter.sha256[:16],
            "classifier_heldout_accuracy": float(heldout.get("accuracy", 0.0)),
            "classifier_heldout_macro_f1": float(heldout.get("macro_f1", 0.0)),
            "seconds": round(seconds, 3),
        },
        check_results=[_check(ENRICHMENT, "every_comment_classified", unclassified,
                              "every comment has a sentiment and a theme")],
    )


nlp_assets = [comments, embeddings, comment_enrichment]
