-- Identities (email, full name) stay in raw (SPEC section 5): this model carries pseudonymous ids only.

with

source as (

    select * from {{ source('raw', 'employees') }}

),

final as (

    select
        employee_id,
        team_id,
        dashboard_role,
        is_active,
        source_line,
        delivery_id,
        nullif(btrim(location), '') as work_location,
        dashboard_role is not null as has_dashboard_access,
        coalesce(dashboard_role = 'admin', false) as is_admin_role,
        coalesce(dashboard_role = 'manager', false) as is_manager_role,
        coalesce(dashboard_role = 'viewer', false) as is_viewer_role

    from source

)

select * from final
