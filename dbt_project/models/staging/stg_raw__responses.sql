-- One row per answer. The comment's unmasked text stays in raw (SPEC sections 5 and 6): the NLP assets mask
-- it into the nlp schema, and everything downstream reads the masked text from there.

{{ config(tags=['survey_partition']) }}

with

source as (

    select * from {{ source('raw', 'responses') }}

),

final as (

    select
        survey_id,
        response_id,
        question_id,
        team_id,
        submitted_at,
        source_line,
        delivery_id,
        score::integer as score,
        coalesce(btrim(comment) <> '', false) as has_comment,
        coalesce(char_length(btrim(comment)), 0) as comment_length

    from source

)

select * from final
