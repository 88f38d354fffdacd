-- Per survey and group (team, subtree, org): comments, commenting respondents and sentiment counts, before
-- suppression, with each group's place in the group tree.

with

{{ rollup_to_groups(
    ref('int_team_comment_cells'),
    keys=['metric_id'],
    sums=['n_respondents', 'n_comments', 'n_negative', 'n_neutral', 'n_positive']
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
        n_comments::integer as n_comments,
        n_negative::integer as n_negative,
        n_neutral::integer as n_neutral,
        n_positive::integer as n_positive

    from rollup_final
    where n_comments > 0

)

select * from final
