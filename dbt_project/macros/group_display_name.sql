{#- The name a group is shown under: 'Whole organisation' for the org row, else its team's name (or id). -#}
{% macro group_display_name(scope, team_name, team_id) -%}
    case
        when {{ scope }} = 'org' then 'Whole organisation'
        else coalesce({{ team_name }}, {{ team_id }})
    end
{%- endmacro %}
