with

source as (

    select * from {{ source('app', 'settings') }}

),

final as (

    select
        setting_key,
        value as setting_value,
        description as setting_description,
        updated_at,
        updated_by,
        value #>> '{}' as setting_value_text,
        case
            when jsonb_typeof(value) = 'number' then (value #>> '{}')::numeric
            when
                jsonb_typeof(value) = 'string'
                and btrim(value #>> '{}') ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$'
                then btrim(value #>> '{}')::numeric
        end as setting_value_numeric,
        case
            when jsonb_typeof(value) = 'boolean' then (value #>> '{}')::boolean
        end as setting_value_boolean

    from source

)

select * from final
