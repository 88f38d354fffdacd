{{ config(tags=['survey_partition']) }}

with

source as (

    select * from {{ source('raw', 'invitations') }}

),

final as (

    select
        survey_id,
        employee_id,
        team_id,
        invited_at,
        source_line,
        delivery_id

    from source

)

select * from final
