{#
    Anonymity, complementary rule (SPEC section 6), checked from the published rows alone. Within each
    survey (and each value of `partition_by`, e.g. the driver), the rows form a tree: org -> subtree ->
    team. Subtracting the published groups below a published group from it reveals the scores of its
    remaining respondents (its residual). The residual must be 0 or at least the threshold `setting` of
    app.settings (min_n; comment_min_n for comments); fails with every published group whose residual is
    between 1 and that threshold - 1.
    The maximal published groups below a group are found by walking down from it and stopping at the first
    published group on each path; this does not reuse the logic that chose the suppressions.
#}
{% test no_differencing_gap(
    model, partition_by=[], n_column='n_respondents', suppressed_column='suppressed', setting='min_n'
) %}

{%- set keys = ['survey_id'] + partition_by %}

with recursive

model_rows as (

    select * from {{ model }}

),

nodes as (

    select * from {{ ref('int_group_nodes') }}

),

groups as (

    select
        {% for key in keys %}model_rows.{{ key }}, {% endfor %}
        model_rows.team_id,
        model_rows.scope,
        model_rows.{{ n_column }} as n_respondents,
        not model_rows.{{ suppressed_column }} as is_published,
        -- a team no longer in the hierarchy is counted as a top-level team (macro rollup_to_groups)
        case when model_rows.scope <> 'org' then coalesce(nodes.parent_team_id, '__org__') end as parent_team_id,
        case when model_rows.scope <> 'org' then coalesce(nodes.parent_scope, 'org') end as parent_scope

    from model_rows
    left join nodes
        on
            model_rows.team_id = nodes.team_id
            and model_rows.scope = nodes.scope

),

walk as (

    select
        {% for key in keys %}parent.{{ key }}, {% endfor %}
        parent.team_id as root_team_id,
        parent.scope as root_scope,
        child.team_id,
        child.scope,
        child.is_published,
        child.n_respondents

    from groups as parent
    inner join groups as child
        on
            {% for key in keys %}parent.{{ key }} = child.{{ key }} and {% endfor %}
            parent.team_id = child.parent_team_id
            and parent.scope = child.parent_scope

    where parent.is_published

    union all

    select
        {% for key in keys %}walk.{{ key }}, {% endfor %}
        walk.root_team_id,
        walk.root_scope,
        child.team_id,
        child.scope,
        child.is_published,
        child.n_respondents

    from walk
    inner join groups as child
        on
            {% for key in keys %}walk.{{ key }} = child.{{ key }} and {% endfor %}
            walk.team_id = child.parent_team_id
            and walk.scope = child.parent_scope

    where not walk.is_published

),

covered as (

    select
        {% for key in keys %}{{ key }}, {% endfor %}
        root_team_id,
        root_scope,
        sum(n_respondents) as covered_respondents

    from walk
    where is_published
    group by {% for key in keys %}{{ key }}, {% endfor %}root_team_id, root_scope

),

validation as (

    select
        {% for key in keys %}groups.{{ key }}, {% endfor %}
        groups.team_id,
        groups.scope,
        groups.n_respondents,
        groups.n_respondents - coalesce(covered.covered_respondents, 0) as residual_respondents

    from groups
    left join covered
        on
            {% for key in keys %}groups.{{ key }} = covered.{{ key }} and {% endfor %}
            groups.team_id = covered.root_team_id
            and groups.scope = covered.root_scope

    where
        groups.is_published
        and groups.n_respondents - coalesce(covered.covered_respondents, 0)
        between 1 and {{ anonymity_threshold(setting) }} - 1

)

select * from validation

{% endtest %}
