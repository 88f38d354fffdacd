{#-
    complementary_suppression(cells, min_n): which groups may be published (SPEC section 6), per survey, group
    and metric. `cells` has survey_id, metric_id, team_id, scope, parent_team_id, parent_scope, node_depth
    and n_respondents (int_group_nodes' tree); `min_n` is the threshold (an expression).

    1. Primary suppression: a group with fewer than min_n respondents is suppressed.
    2. Complementary suppression, bottom-up over the group tree (int_group_nodes), one level per step: a
       published parent's "residual" is the number of its respondents that no published group below it
       covers; subtracting the published children from the parent reveals exactly these respondents. When
       the residual is between 1 and min_n - 1, the published child with the smallest residual (> 0) is
       suppressed as well, which lifts the parent's residual to at least min_n (that child's residual is
       0 or >= min_n, settled one step earlier). Without such a child the parent itself is suppressed and
       its residual moves up to its own parent.
    Afterwards every published group's residual is 0 or >= min_n, which is what the test
    no_differencing_gap checks on each mart, independently of this model.

    The steps are unrolled for var('max_group_depth') levels; a deeper hierarchy fails the test on
    int_group_nodes instead of being suppressed wrongly.
-#}
{% macro complementary_suppression(cells, min_n) %}
{%- set max_depth = var('max_group_depth', 12) | int %}

with

cells as (

    select * from {{ cells }}

),

state_{{ max_depth + 1 }} as (

    select
        survey_id,
        metric_id,
        team_id,
        scope,
        parent_team_id,
        parent_scope,
        node_depth,
        n_respondents,
        n_respondents < {{ min_n }} as is_below_min_n,
        n_respondents >= {{ min_n }} as is_published,
        -- team rows are the leaves: their residual is their size; groups above are settled level by level
        case when scope = 'team' then n_respondents end as residual,
        case
            when scope <> 'team' then null
            when n_respondents < {{ min_n }} then n_respondents
            else 0
        end as uncovered

    from cells

),

{% for depth in range(max_depth, -1, -1) %}
{% set prev = 'state_' ~ (depth + 1) %}

-- level {{ depth }}: settle the groups at depth {{ depth }} from their children at depth {{ depth + 1 }}
parents_{{ depth }} as (

    select
        parent.survey_id,
        parent.metric_id,
        parent.team_id,
        parent.scope,
        parent.is_published,
        coalesce(sum(child.uncovered), 0) as children_uncovered

    from {{ prev }} as parent
    left join {{ prev }} as child
        on
            parent.survey_id = child.survey_id
            and parent.metric_id = child.metric_id
            and parent.team_id = child.parent_team_id
            and parent.scope = child.parent_scope

    where parent.node_depth = {{ depth }} and parent.scope <> 'team'
    group by parent.survey_id, parent.metric_id, parent.team_id, parent.scope, parent.is_published

),

picks_{{ depth }} as (

    select distinct on (child.survey_id, child.metric_id, child.parent_team_id, child.parent_scope)
        child.survey_id,
        child.metric_id,
        child.team_id,
        child.scope,
        child.parent_team_id,
        child.parent_scope,
        child.residual

    from parents_{{ depth }} as parent
    inner join {{ prev }} as child
        on
            parent.survey_id = child.survey_id
            and parent.metric_id = child.metric_id
            and parent.team_id = child.parent_team_id
            and parent.scope = child.parent_scope

    where
        parent.is_published
        and parent.children_uncovered between 1 and {{ min_n }} - 1
        and child.is_published
        and child.residual > 0

    order by
        child.survey_id, child.metric_id, child.parent_team_id, child.parent_scope,
        child.residual, child.n_respondents, child.team_id, child.scope

),

settled_{{ depth }} as (

    select
        parent.survey_id,
        parent.metric_id,
        parent.team_id,
        parent.scope,
        parent.children_uncovered + coalesce(pick.residual, 0) as residual,
        parent.is_published
        and (
            parent.children_uncovered not between 1 and {{ min_n }} - 1
            or pick.team_id is not null
        ) as is_published

    from parents_{{ depth }} as parent
    left join picks_{{ depth }} as pick
        on
            parent.survey_id = pick.survey_id
            and parent.metric_id = pick.metric_id
            and parent.team_id = pick.parent_team_id
            and parent.scope = pick.parent_scope

),

state_{{ depth }} as (

    select
        state.survey_id,
        state.metric_id,
        state.team_id,
        state.scope,
        state.parent_team_id,
        state.parent_scope,
        state.node_depth,
        state.n_respondents,
        state.is_below_min_n,
        case
            when pick.team_id is not null then false
            when settled.team_id is not null then settled.is_published
            else state.is_published
        end as is_published,
        coalesce(settled.residual, state.residual) as residual,
        case
            -- a child suppressed at this step: its residual is no longer covered
            when pick.team_id is not null then state.residual
            when settled.team_id is null then state.uncovered
            when settled.is_published then 0
            else settled.residual
        end as uncovered

    from {{ prev }} as state
    left join settled_{{ depth }} as settled
        on
            state.survey_id = settled.survey_id
            and state.metric_id = settled.metric_id
            and state.team_id = settled.team_id
            and state.scope = settled.scope
    left join picks_{{ depth }} as pick
        on
            state.survey_id = pick.survey_id
            and state.metric_id = pick.metric_id
            and state.team_id = pick.team_id
            and state.scope = pick.scope

),
{% endfor %}

final as (

    select
        survey_id,
        team_id,
        scope,
        metric_id,
        n_respondents,
        residual as residual_respondents,
        not is_published as is_suppressed,
        case
            when is_below_min_n then 'below_min_n'
            when not is_published then 'complementary'
        end as suppression_reason,
        {{ min_n }} as min_n

    from state_0

)

select * from final

{% endmacro %}
