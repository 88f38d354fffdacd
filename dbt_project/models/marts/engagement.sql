with

scores as (

    select * from {{ ref('int_group_scores') }}

),

final as (

    select
        survey_id,
        team_id,
        scope,
        team_name,
        n_respondents,
        mean_score as engagement_score,
        favorable_pct,
        is_suppressed as suppressed,
        suppression_reason

    from scores
    where metric_id = 'engagement'

)

select * from final
