-- Sufficient statistics for driver impact: per survey, team, driver and outcome, the count and sums (x, y,
-- x², y², xy) over respondents, where x is the respondent's mean on the driver and y is either their eNPS
-- answer ('enps') or their mean over all other likert answers ('engagement': the rest-score, so that the
-- driver is not correlated with itself). Sums add up over teams, so subtree and org correlations need no
-- respondent-level pass over history. Incremental by survey.

with

respondent_scores as (

    select * from {{ ref('int_respondent_scores') }}
    where {{ in_survey_scope() }}

),

drivers as (

    select * from respondent_scores
    where metric_id not in ('engagement', 'enps')

),

engagement as (

    select * from respondent_scores
    where metric_id = 'engagement'

),

enps as (

    select * from respondent_scores
    where metric_id = 'enps'

),

pairs as (

    select
        drivers.survey_id,
        drivers.team_id,
        drivers.metric_id as driver_id,
        'engagement' as outcome,
        drivers.mean_score as x,
        (engagement.score_sum - drivers.score_sum)::numeric
        / nullif(engagement.n_answers - drivers.n_answers, 0) as y

    from drivers
    inner join engagement
        on
            drivers.survey_id = engagement.survey_id
            and drivers.response_id = engagement.response_id
            and drivers.team_id = engagement.team_id

    union all

    select
        drivers.survey_id,
        drivers.team_id,
        drivers.metric_id as driver_id,
        'enps' as outcome,
        drivers.mean_score as x,
        enps.mean_score as y

    from drivers
    inner join enps
        on
            drivers.survey_id = enps.survey_id
            and drivers.response_id = enps.response_id
            and drivers.team_id = enps.team_id

),

final as (

    select
        survey_id,
        team_id,
        driver_id,
        outcome,
        count(*)::integer as n_respondents,
        sum(x) as sum_x,
        sum(y) as sum_y,
        sum(x * x) as sum_xx,
        sum(y * y) as sum_yy,
        sum(x * y) as sum_xy

    from pairs
    where y is not null
    group by survey_id, team_id, driver_id, outcome

)

select * from final
