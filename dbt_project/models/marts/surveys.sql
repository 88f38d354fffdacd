-- One row per loaded survey, oldest first by survey_seq: its title and dates, how many questions it asked, and
-- the organisation's participation. The app's survey pickers and trend axes read this (never staging).

with

surveys as (

    select * from {{ ref('stg_raw__surveys') }}

),

questions as (

    select * from {{ ref('stg_raw__questions') }}

),

participation as (

    select * from {{ ref('int_group_participation') }}
    where scope = 'org'

),

question_counts as (

    select
        survey_id,
        count(*)::integer as n_questions

    from questions
    group by survey_id

),

final as (

    select
        surveys.survey_id,
        surveys.survey_title as title,
        surveys.opened_at,
        surveys.closed_at,
        coalesce(question_counts.n_questions, 0) as n_questions,
        coalesce(participation.n_invited, 0) as invited,
        coalesce(participation.n_responded, 0) as responded,
        participation.n_responded::numeric / nullif(participation.n_invited, 0) as participation_rate,
        row_number() over (order by surveys.opened_at, surveys.survey_id)::integer as survey_seq,
        row_number() over (order by surveys.opened_at desc, surveys.survey_id desc) = 1 as is_latest

    from surveys
    left join question_counts
        on surveys.survey_id = question_counts.survey_id
    left join participation
        on surveys.survey_id = participation.survey_id

)

select * from final
