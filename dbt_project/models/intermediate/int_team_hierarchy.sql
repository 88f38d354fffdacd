-- The current team hierarchy, walked from the top: each team's depth (top level = 1), its path from the top,
-- and whether it has sub-teams (then it also gets a subtree row in the marts). A team caught in a reporting
-- cycle is never reached from the top and is missing here; a test on stg_raw__teams reports it.

with recursive

teams as (

    select * from {{ ref('stg_raw__teams') }}

),

walk as (

    select
        team_id,
        parent_team_id,
        1 as team_depth,
        array[team_id] as team_path

    from teams
    where parent_team_id is null

    union all

    select
        teams.team_id,
        teams.parent_team_id,
        walk.team_depth + 1 as team_depth,
        walk.team_path || teams.team_id as team_path

    from teams
    inner join walk
        on teams.parent_team_id = walk.team_id

    where not teams.team_id = any(walk.team_path)

),

parents as (

    select distinct parent_team_id as team_id
    from teams
    where parent_team_id is not null

),

final as (

    select
        walk.team_id,
        walk.parent_team_id,
        walk.team_depth,
        walk.team_path,
        parents.team_id is not null as has_subteams

    from walk
    left join parents
        on walk.team_id = parents.team_id

)

select * from final
