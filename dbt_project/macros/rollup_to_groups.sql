{#
    Roll additive per-team rows up to every group of the marts: the team itself (scope 'team', its direct
    members), every ancestor team with sub-teams (scope 'subtree', the whole subtree) and the organisation
    ('__org__', scope 'org'). `team_rows` has columns survey_id, team_id, the `keys` and the `sums`; each group
    row carries its place in the group tree (parent_team_id, parent_scope, node_depth) from int_group_nodes.
    A team that is no longer in the hierarchy (removed after its survey) still counts, as a top-level team.
#}
{% macro rollup_to_groups(team_rows, keys, sums) %}

    {%- set key_list = keys | join(', ') -%}
    {%- set key_prefix = (key_list ~ ', ') if keys else '' -%}

    rollup_team_rows as (

        select * from {{ team_rows }}

    ),

    rollup_closure as (

        select * from {{ ref('int_team_closure') }}

    ),

    rollup_nodes as (

        select * from {{ ref('int_group_nodes') }}

    ),

    rollup_groups as (

        select
            survey_id,
            team_id,
            'team' as scope,
            {{ key_prefix }}
            {%- for column in sums %}
            {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from rollup_team_rows

        union all

        select
            rollup_team_rows.survey_id,
            rollup_closure.ancestor_team_id as team_id,
            'subtree' as scope,
            {% for key in keys %}rollup_team_rows.{{ key }}, {% endfor %}
            {%- for column in sums %}
            sum(rollup_team_rows.{{ column }}) as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from rollup_team_rows
        inner join rollup_closure
            on rollup_team_rows.team_id = rollup_closure.team_id
        inner join rollup_nodes
            on
                rollup_closure.ancestor_team_id = rollup_nodes.team_id
                and rollup_nodes.scope = 'subtree'
        group by
            rollup_team_rows.survey_id,
            {% for key in keys %}rollup_team_rows.{{ key }}, {% endfor %}
            rollup_closure.ancestor_team_id

        union all

        select
            survey_id,
            '__org__' as team_id,
            'org' as scope,
            {{ key_prefix }}
            {%- for column in sums %}
            sum({{ column }}) as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from rollup_team_rows
        group by survey_id{{ (', ' ~ key_list) if keys }}

    ),

    rollup_final as (

        select
            rollup_groups.*,
            case
                when rollup_groups.scope = 'org' then null
                else coalesce(rollup_nodes.parent_team_id, '__org__')
            end as parent_team_id,
            case
                when rollup_groups.scope = 'org' then null
                else coalesce(rollup_nodes.parent_scope, 'org')
            end as parent_scope,
            case
                when rollup_groups.scope = 'org' then 0
                else coalesce(rollup_nodes.node_depth, 1)
            end as node_depth

        from rollup_groups
        left join rollup_nodes
            on
                rollup_groups.team_id = rollup_nodes.team_id
                and rollup_groups.scope = rollup_nodes.scope

    )

{% endmacro %}
