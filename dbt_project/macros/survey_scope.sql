{#
    Survey scope of a dbt invocation. Dagster passes the survey partitions of a run as
    `--vars '{survey_ids: "2026-03,2026-04"}'` (a comma-separated string or a list); empty means every survey.
    Incremental models rebuild exactly these surveys and per-survey data tests check exactly these, so a new
    survey costs O(that survey), not O(all history).
#}
{% macro survey_scope_ids() -%}
    {%- set value = var('survey_ids', '') -%}
    {%- set ids = (value if value is not string else value.split(',')) | map('trim') | reject('equalto', '') -%}
    {%- set ids = ids | list -%}
    {%- set allowed = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-' -%}
    {%- for survey_id in ids -%}
        {%- if survey_id | length > 64 or survey_id[0] in '_.-' or survey_id | reject('in', allowed) | list -%}
            {{ exceptions.raise_compiler_error(
                "survey_ids: '" ~ survey_id ~ "' is not a survey id (letters, digits, '_', '.', '-')") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ids) }}
{%- endmacro %}


{#- A boolean SQL expression: true when `column` is one of the surveys in scope (always true without a scope
    and in a full refresh). -#}
{% macro in_survey_scope(column='survey_id') -%}
    {%- set ids = survey_scope_ids() -%}
    {#- a full refresh rebuilds every survey: scoped, it would leave an incremental table with only these.
        (`flags` always exists in dbt; the guard is for sqlfluff, which renders the macros without it.) -#}
    {%- if ids | length == 0 or (flags is defined and flags.FULL_REFRESH) -%}
        true
    {%- else -%}
        {{ column }} in ({% for survey_id in ids %}'{{ survey_id }}'{{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}
