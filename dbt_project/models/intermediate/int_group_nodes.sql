-- The groups the marts report on, as a tree: a team's direct members (scope 'team'), a team with sub-teams
-- over its whole subtree ('subtree'), and the whole organisation ('__org__', 'org'). A subtree's children
-- are its own team row and its sub-teams' rows (their subtree rows where they have sub-teams); the org's
-- children are the top-level teams' rows. Complementary suppression works on this tree.

with

hierarchy as (

    select * from {{ ref('int_team_hierarchy') }}

),

team_nodes as (

    select
        team_id,
        'team' as scope,
        case
            when has_subteams then team_id
            else coalesce(parent_team_id, '__org__')
        end as parent_team_id,
        case
            when has_subteams or parent_team_id is not null then 'subtree'
            else 'org'
        end as parent_scope,
        team_depth + case when has_subteams then 1 else 0 end as node_depth

    from hierarchy

),

subtree_nodes as (

    select
        team_id,
        'subtree' as scope,
        coalesce(parent_team_id, '__org__') as parent_team_id,
        case when parent_team_id is null then 'org' else 'subtree' end as parent_scope,
        team_depth as node_depth

    from hierarchy
    where has_subteams

),

org_node as (

    select
        '__org__' as team_id,
        'org' as scope,
        null::text as parent_team_id,
        null::text as parent_scope,
        0 as node_depth

),

final as (

    select * from team_nodes
    union all
    select * from subtree_nodes
    union all
    select * from org_node

)

select * from final
