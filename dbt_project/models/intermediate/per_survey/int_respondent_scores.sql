-- One row per respondent (response_id) and metric: each driver, 'engagement' (all likert answers) and 'enps'.
-- The respondent level is what driver impact correlates and what n_respondents counts. Incremental by survey.

{{ config(indexes=[{'columns': ['survey_id']}]) }}

with

answers as (

    select * from {{ ref('int_answers_scored') }}
    where {{ in_survey_scope() }}

),

answers_by_metric as (

    select
        survey_id,
        response_id,
        team_id,
        driver_id as metric_id,
        score,
        is_favorable
    from answers
    where question_type = 'likert' and driver_id is not null

    union all

    select
        survey_id,
        response_id,
        team_id,
        'engagement' as metric_id,
        score,
        is_favorable
    from answers
    where question_type = 'likert'

    union all

    select
        survey_id,
        response_id,
        team_id,
        'enps' as metric_id,
        score,
        false as is_favorable
    from answers
    where question_type = 'enps'

),

aggregated as (

    select
        survey_id,
        response_id,
        metric_id,
        team_id,
        count(*)::integer as n_answers,
        sum(score)::integer as score_sum,
        (count(*) filter (where is_favorable))::integer as n_favorable_answers,
        avg(score::numeric) as mean_score

    from answers_by_metric
    group by survey_id, response_id, metric_id, team_id

),

final as (

    select
        survey_id,
        response_id,
        metric_id,
        team_id,
        n_answers,
        score_sum,
        n_favorable_answers,
        mean_score,
        case
            when metric_id <> 'enps' then null
            when mean_score >= 9 then 'promoter'
            when mean_score >= 7 then 'passive'
            else 'detractor'
        end as enps_category

    from aggregated

)

select * from final
