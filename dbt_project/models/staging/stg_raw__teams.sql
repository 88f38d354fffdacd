with

source as (

    select * from {{ source('raw', 'teams') }}

),

final as (

    select
        team_id,
        source_line,
        delivery_id,
        btrim(team_name) as team_name,
        nullif(btrim(parent_team_id), '') as parent_team_id,
        nullif(btrim(manager_employee_id), '') as manager_employee_id,
        nullif(btrim(parent_team_id), '') is null as is_top_level

    from source

)

select * from final
