-- Every (ancestor, team) pair of the current hierarchy, each team also its own ancestor at distance 0.
-- A subtree row adds up the teams whose path passes through its team.

with

hierarchy as (

    select * from {{ ref('int_team_hierarchy') }}

),

final as (

    select
        ancestors.ancestor_team_id,
        hierarchy.team_id,
        hierarchy.team_depth - ancestors.ancestor_depth as distance

    from hierarchy
    cross join lateral unnest(hierarchy.team_path) with ordinality as ancestors (ancestor_team_id, ancestor_depth)

)

select * from final
