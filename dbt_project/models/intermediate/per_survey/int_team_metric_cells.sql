-- Additive building blocks of every score mart: per survey, team (its direct members) and metric, the counts
-- and sums that subtree and org rows add up. Means and shares are derived later, after suppression.
-- Incremental by survey.

with

respondent_scores as (

    select * from {{ ref('int_respondent_scores') }}
    where {{ in_survey_scope() }}

),

final as (

    select
        survey_id,
        team_id,
        metric_id,
        count(*)::integer as n_respondents,
        sum(n_answers)::integer as n_answers,
        sum(score_sum)::bigint as score_sum,
        sum(n_favorable_answers)::integer as n_favorable_answers,
        (count(*) filter (where enps_category = 'promoter'))::integer as n_promoters,
        (count(*) filter (where enps_category = 'passive'))::integer as n_passives,
        (count(*) filter (where enps_category = 'detractor'))::integer as n_detractors

    from respondent_scores
    group by survey_id, team_id, metric_id

)

select * from final
