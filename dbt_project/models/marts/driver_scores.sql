with

scores as (

    select * from {{ ref('int_group_scores') }}

),

drivers as (

    select * from {{ ref('drivers') }}

),

final as (

    select
        scores.survey_id,
        scores.team_id,
        scores.scope,
        scores.team_name,
        scores.metric_id as driver_id,
        drivers.driver_name,
        scores.n_respondents,
        scores.mean_score,
        scores.favorable_pct,
        scores.is_suppressed as suppressed,
        scores.suppression_reason

    from scores
    inner join drivers
        on scores.metric_id = drivers.driver_id

)

select * from final
