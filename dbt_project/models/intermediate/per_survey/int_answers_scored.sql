-- One row per scored answer (likert and eNPS), with what its question measures. Incremental by survey: a run
-- rebuilds the surveys in scope (var survey_ids, set by the Dagster survey partition), nothing else.

{{ config(indexes=[{'columns': ['survey_id']}]) }}

with

responses as (

    select * from {{ ref('stg_raw__responses') }}
    where {{ in_survey_scope() }}

),

questions as (

    select * from {{ ref('stg_raw__questions') }}
    where {{ in_survey_scope() }}

),

final as (

    select
        responses.survey_id,
        responses.response_id,
        responses.question_id,
        responses.team_id,
        questions.question_type,
        questions.driver_id,
        responses.score,
        questions.is_likert and responses.score >= 8 as is_favorable,
        case
            when not questions.is_enps then null
            when responses.score >= 9 then 'promoter'
            when responses.score >= 7 then 'passive'
            else 'detractor'
        end as enps_category

    from responses
    inner join questions
        on
            responses.survey_id = questions.survey_id
            and responses.question_id = questions.question_id

    where
        responses.score is not null
        and (questions.is_likert or questions.is_enps)

)

select * from final
