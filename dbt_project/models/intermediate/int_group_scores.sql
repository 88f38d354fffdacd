-- Every score of every group, computed once, with suppression applied: the score marts and trends select
-- from here, so a suppressed number cannot reach them. Scores are exact numerics (no float rounding), so a
-- mean of exactly 6.0 is 6.0.

with

cells as (

    select * from {{ ref('int_group_metric_cells') }}

),

suppression as (

    select * from {{ ref('int_group_suppression') }}

),

teams as (

    select * from {{ ref('stg_raw__teams') }}

),

final as (

    select
        cells.survey_id,
        cells.team_id,
        cells.scope,
        cells.metric_id,
        cells.n_respondents,
        suppression.is_suppressed,
        suppression.suppression_reason,
        case
            when cells.scope = 'org' then 'Whole organisation'
            else coalesce(teams.team_name, cells.team_id)
        end as team_name,
        case
            when not suppression.is_suppressed then cells.score_sum::numeric / nullif(cells.n_answers, 0)
        end as mean_score,
        case
            when not suppression.is_suppressed and cells.metric_id <> 'enps'
                then 100.0 * cells.n_favorable_answers / nullif(cells.n_answers, 0)
        end as favorable_pct,
        case when not suppression.is_suppressed then cells.n_promoters end as n_promoters,
        case when not suppression.is_suppressed then cells.n_passives end as n_passives,
        case when not suppression.is_suppressed then cells.n_detractors end as n_detractors,
        case
            when not suppression.is_suppressed
                then 100.0 * (cells.n_promoters - cells.n_detractors) / cells.n_respondents
        end as enps

    from cells
    inner join suppression
        on
            cells.survey_id = suppression.survey_id
            and cells.team_id = suppression.team_id
            and cells.scope = suppression.scope
            and cells.metric_id = suppression.metric_id
    left join teams
        on cells.team_id = teams.team_id

)

select * from final
