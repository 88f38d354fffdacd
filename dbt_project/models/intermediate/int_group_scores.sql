-- Every score of every group, computed once, with suppression applied: the score marts and trends select
-- from here, so a suppressed number cannot reach them. Scores are exact numerics (no float rounding), so a
-- mean of exactly 6.0 is 6.0. Favorable shares belong to likert metrics, promoter counts and eNPS to 'enps'.

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

joined as (

    select
        cells.*,
        suppression.is_suppressed,
        suppression.suppression_reason,
        not suppression.is_suppressed and cells.metric_id <> 'enps' as is_published_likert,
        not suppression.is_suppressed and cells.metric_id = 'enps' as is_published_enps

    from cells
    inner join suppression
        on
            cells.survey_id = suppression.survey_id
            and cells.team_id = suppression.team_id
            and cells.scope = suppression.scope
            and cells.metric_id = suppression.metric_id

),

final as (

    select
        joined.survey_id,
        joined.team_id,
        joined.scope,
        joined.metric_id,
        joined.n_respondents,
        joined.is_suppressed,
        joined.suppression_reason,
        {{ group_display_name('joined.scope', 'teams.team_name', 'joined.team_id') }} as team_name,
        case
            when not joined.is_suppressed then joined.score_sum::numeric / nullif(joined.n_answers, 0)
        end as mean_score,
        -- Standard error of that mean. It is a ratio S / M of two sums over respondents (s_i answer sums,
        -- m_i answer counts), so its variance is the ratio estimator's: n / (n - 1) * sum((s_i - mean * m_i)^2)
        -- / M^2, the square expanded into the additive sums of the cells. With one answer per respondent it is
        -- the familiar sd / sqrt(n). Published groups of two or more respondents only.
        case
            when not joined.is_suppressed and joined.n_respondents > 1 and joined.n_answers > 0
                then sqrt(greatest(0, (
                    joined.n_respondents::numeric / (joined.n_respondents - 1) * (
                        joined.score_sum_sq
                        - 2 * (joined.score_sum::numeric / joined.n_answers) * joined.score_sum_x_answers
                        + (joined.score_sum::numeric / joined.n_answers) ^ 2 * joined.n_answers_sq
                    )
                ))) / joined.n_answers
        end as std_error,
        case
            when joined.is_published_likert then 100.0 * joined.n_favorable_answers / nullif(joined.n_answers, 0)
        end as favorable_pct,
        case when joined.is_published_enps then joined.n_promoters end as n_promoters,
        case when joined.is_published_enps then joined.n_passives end as n_passives,
        case when joined.is_published_enps then joined.n_detractors end as n_detractors,
        case
            when joined.is_published_enps
                then 100.0 * (joined.n_promoters - joined.n_detractors) / joined.n_respondents
        end as enps

    from joined
    left join teams
        on joined.team_id = teams.team_id

)

select * from final
