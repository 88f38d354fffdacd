-- Per survey, group (team, subtree, org) and metric (each driver, 'engagement', 'enps'): the counts and sums
-- of its respondents, before any suppression. Groups without respondents on a metric have no row.

with

{{ rollup_to_groups(
    ref('int_team_metric_cells'),
    keys=['metric_id'],
    sums=['n_respondents', 'n_answers', 'score_sum', 'n_favorable_answers', 'n_promoters', 'n_passives', 'n_detractors',
          'score_sum_sq', 'score_sum_x_answers', 'n_answers_sq']
) }},

final as (

    select
        survey_id,
        team_id,
        scope,
        metric_id,
        parent_team_id,
        parent_scope,
        node_depth,
        n_respondents::integer as n_respondents,
        n_answers::integer as n_answers,
        score_sum::bigint as score_sum,
        n_favorable_answers::integer as n_favorable_answers,
        n_promoters::integer as n_promoters,
        n_passives::integer as n_passives,
        n_detractors::integer as n_detractors,
        score_sum_sq::bigint as score_sum_sq,
        score_sum_x_answers::bigint as score_sum_x_answers,
        n_answers_sq::bigint as n_answers_sq

    from rollup_final
    where n_respondents > 0

)

select * from final
