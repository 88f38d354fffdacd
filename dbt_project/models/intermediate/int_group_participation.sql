-- Per survey and group (team, subtree, org): invited and responded, added up from the teams. Participation
-- counts are published for every group (SPEC section 6): they reveal no answer.

with

{{ rollup_to_groups(
    ref('int_team_participation'),
    keys=[],
    sums=['n_invited', 'n_responded']
) }},

final as (

    select
        survey_id,
        team_id,
        scope,
        parent_team_id,
        parent_scope,
        node_depth,
        n_invited::integer as n_invited,
        n_responded::integer as n_responded

    from rollup_final

)

select * from final
