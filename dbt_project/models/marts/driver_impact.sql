-- How strongly each driver goes together with engagement and with eNPS, per survey, for the organisation and
-- every group with at least 30 respondents: Pearson's r over respondents, with a 95 % confidence interval
-- (Fisher z) and the driver's rank within its group and outcome (1 = strongest). Correlation, not cause.

{%- set min_respondents = var('driver_impact_min_respondents', 30) %}

with

moments as (

    select * from {{ ref('int_group_driver_moments') }}
    where n_respondents >= {{ min_respondents }}

),

teams as (

    select * from {{ ref('stg_raw__teams') }}

),

drivers as (

    select * from {{ ref('drivers') }}

),

correlations as (

    select
        survey_id,
        team_id,
        scope,
        driver_id,
        outcome,
        n_respondents,
        -- greatest(0, ...): a variance of zero computed from rounded means may come out a hair below zero
        (n_respondents * sum_xy - sum_x * sum_y)
        / nullif(
            sqrt(greatest(n_respondents * sum_xx - sum_x * sum_x, 0))
            * sqrt(greatest(n_respondents * sum_yy - sum_y * sum_y, 0)),
            0
        ) as raw_correlation

    from moments

),

bounded as (

    select
        *,
        -- exact sums, but sqrt is not exact: keep r inside [-1, 1] and away from atanh's poles
        greatest(-0.999999, least(0.999999, raw_correlation))::double precision as bounded_r,
        1.96 / sqrt(n_respondents - 3) as z_margin

    from correlations
    where raw_correlation is not null

),

final as (

    select
        bounded.survey_id,
        bounded.team_id,
        bounded.scope,
        bounded.driver_id,
        drivers.driver_name,
        bounded.outcome,
        bounded.n_respondents,
        {{ group_display_name('bounded.scope', 'teams.team_name', 'bounded.team_id') }} as team_name,
        greatest(-1, least(1, bounded.raw_correlation))::double precision as correlation,  -- noqa: RF04
        tanh(atanh(bounded.bounded_r) - bounded.z_margin) as ci_low,
        tanh(atanh(bounded.bounded_r) + bounded.z_margin) as ci_high,
        rank() over (
            partition by bounded.survey_id, bounded.team_id, bounded.scope, bounded.outcome
            order by bounded.raw_correlation desc
        ) as impact_rank

    from bounded
    inner join drivers
        on bounded.driver_id = drivers.driver_id
    left join teams
        on bounded.team_id = teams.team_id

)

select * from final
