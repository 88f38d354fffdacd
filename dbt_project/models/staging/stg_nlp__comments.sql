-- One row per comment answer, masked, with its sentiment and theme (left join: a comment whose enrichment has
-- not run yet still counts towards its team's comment total).

with

comments as (

    select * from {{ source('nlp', 'comments') }}

),

enrichment as (

    select * from {{ source('nlp', 'comment_enrichment') }}

),

final as (

    select
        comments.comment_id,
        comments.survey_id,
        comments.response_id,
        comments.question_id,
        comments.team_id,
        comments.text_masked,
        comments.text_sha256,
        enrichment.sentiment_label,
        enrichment.sentiment_score,
        enrichment.theme,
        enrichment.theme_confidence,
        enrichment.theme_source,
        enrichment.model_name,
        enrichment.sentiment_model

    from comments
    left join enrichment
        on comments.comment_id = enrichment.comment_id

)

select * from final
