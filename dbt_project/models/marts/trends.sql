with

scores as (

    select * from {{ ref('int_group_scores') }}
    where metric_id <> 'enps'

),

sequence as (

    select * from {{ ref('int_group_survey_sequence') }}

),

final as (

    select
        scores.survey_id,
        scores.team_id,
        scores.scope,
        scores.team_name,
        scores.metric_id as driver_id,
        scores.n_respondents,
        scores.mean_score,
        scores.is_suppressed as suppressed,
        sequence.prev_survey_id,
        previous.mean_score as prev_mean_score,
        scores.std_error,
        previous.std_error as prev_std_error,
        scores.mean_score - previous.mean_score as delta_abs,
        (scores.mean_score - previous.mean_score) / nullif(previous.mean_score, 0) as delta_rel,
        coalesce(previous.is_suppressed, false) as prev_suppressed,
        -- 95 % interval of the change, the two surveys taken as independent samples (mostly the same people
        -- answer both, which makes the true interval narrower: this one errs on the cautious side)
        scores.mean_score - previous.mean_score
        - 1.959964 * sqrt(scores.std_error ^ 2 + previous.std_error ^ 2) as delta_ci_low,
        scores.mean_score - previous.mean_score
        + 1.959964 * sqrt(scores.std_error ^ 2 + previous.std_error ^ 2) as delta_ci_high

    from scores
    left join sequence
        on
            scores.survey_id = sequence.survey_id
            and scores.team_id = sequence.team_id
            and scores.scope = sequence.scope
    left join scores as previous
        on
            sequence.prev_survey_id = previous.survey_id
            and scores.team_id = previous.team_id
            and scores.scope = previous.scope
            and scores.metric_id = previous.metric_id

)

select * from final
