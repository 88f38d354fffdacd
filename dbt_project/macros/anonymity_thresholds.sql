{#-
    The anonymity threshold `setting_key` ('min_n' or 'comment_min_n') as a scalar subquery over the settings
    table (SPEC section 6), so every model and test reads the value admins set, not a copy. The seeded default
    (4) applies only when the setting is missing; the test assert_anonymity_settings_are_valid fails then.
-#}
{% macro anonymity_threshold(setting_key) -%}
    (
        select coalesce(max(settings.setting_value_numeric)::integer, 4)
        from {{ ref('stg_app__settings') }} as settings
        where settings.setting_key = '{{ setting_key }}'
    )
{%- endmacro %}
