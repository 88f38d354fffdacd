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
        n_promoters as promoters,
        n_passives as passives,
        n_detractors as detractors,
        enps,
        is_suppressed as suppressed,
        suppression_reason

    from scores
    where metric_id = 'enps'

)

select * from final
