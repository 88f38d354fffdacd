-- One row per team of the current hierarchy: its name, parent, depth (0 = top level), whether it has sub-teams
-- (then the marts also hold its subtree rows) and its path of names from the top, for pickers and labels.
-- A team caught in a reporting cycle is not reached from the top and is missing (int_team_hierarchy).

with

hierarchy as (

    select * from {{ ref('int_team_hierarchy') }}

),

teams as (

    select * from {{ ref('stg_raw__teams') }}

),

paths as (

    select
        hierarchy.team_id,
        string_agg(
            coalesce(ancestors.team_name, path_steps.ancestor_team_id), ' / ' order by path_steps.step
        ) as path_names

    from hierarchy
    cross join lateral unnest(hierarchy.team_path) with ordinality as path_steps (ancestor_team_id, step)
    left join teams as ancestors
        on path_steps.ancestor_team_id = ancestors.team_id
    group by hierarchy.team_id

),

final as (

    select
        hierarchy.team_id,
        hierarchy.parent_team_id,
        hierarchy.has_subteams as has_children,
        paths.path_names,
        coalesce(teams.team_name, hierarchy.team_id) as team_name,
        (hierarchy.team_depth - 1)::integer as depth  -- noqa: RF04

    from hierarchy
    inner join paths
        on hierarchy.team_id = paths.team_id
    left join teams
        on hierarchy.team_id = teams.team_id

)

select * from final
