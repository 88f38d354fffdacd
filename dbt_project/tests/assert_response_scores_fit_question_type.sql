-- Every score fits its question's type (SPEC section 3): likert answers are integers 1-10, eNPS answers
-- integers 0-10, and comment answers carry no score. Returns the offending answers.

{{ config(meta={'dagster': {'ref': {'name': 'stg_raw__responses'}}}, tags=['survey_partition']) }}

with

responses as (

    select * from {{ ref('stg_raw__responses') }}
    where {{ in_survey_scope() }}

),

questions as (

    select * from {{ ref('stg_raw__questions') }}
    where {{ in_survey_scope() }}

),

validation as (

    select
        responses.survey_id,
        responses.response_id,
        responses.question_id,
        questions.question_type,
        responses.score

    from responses
    inner join questions
        on
            responses.survey_id = questions.survey_id
            and responses.question_id = questions.question_id

    where
        (questions.is_likert and (responses.score is null or responses.score not between 1 and 10))
        or (questions.is_enps and (responses.score is null or responses.score not between 0 and 10))
        or (questions.is_comment and responses.score is not null)

)

select * from validation
