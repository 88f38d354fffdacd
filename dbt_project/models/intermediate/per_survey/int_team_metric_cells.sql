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
        (count(*) filter (where enps_category = 'detractor'))::integer as n_detractors,
        -- for the standard error of a mean over answers (a ratio of two sums over respondents; see
        -- int_group_scores): each respondent's answer sum s and answer count m, squared and crossed
        sum(score_sum::bigint * score_sum)::bigint as score_sum_sq,
        sum(score_sum::bigint * n_answers)::bigint as score_sum_x_answers,
        sum(n_answers::bigint * n_answers)::bigint as n_answers_sq

    from respondent_scores
    group by survey_id, team_id, metric_id

)

select * from final
