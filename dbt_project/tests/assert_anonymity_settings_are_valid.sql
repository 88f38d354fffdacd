-- The anonymity thresholds the marts depend on (SPEC sections 4 and 6) exist and are whole numbers of at
-- least 1. Returns one row per missing or invalid setting.

with

settings as (

    select * from {{ ref('stg_app__settings') }}

),

required_settings as (

    select setting_key
    from (values ('min_n'), ('comment_min_n')) as required (setting_key)

),

validation as (

    select
        required_settings.setting_key,
        settings.setting_value_text

    from required_settings
    left join settings
        on required_settings.setting_key = settings.setting_key

    where
        settings.setting_key is null
        or settings.setting_value_numeric is null
        or settings.setting_value_numeric < 1
        or settings.setting_value_numeric <> trunc(settings.setting_value_numeric)

)

select * from validation
