-- Driver-impact sums (int_team_driver_moments) added up to every group: team, subtree and org.

with

{{ rollup_to_groups(
    ref('int_team_driver_moments'),
    keys=['driver_id', 'outcome'],
    sums=['n_respondents', 'sum_x', 'sum_y', 'sum_xx', 'sum_yy', 'sum_xy']
) }},

final as (

    select
        survey_id,
        team_id,
        scope,
        driver_id,
        outcome,
        n_respondents::integer as n_respondents,
        sum_x,
        sum_y,
        sum_xx,
        sum_yy,
        sum_xy

    from rollup_final

)

select * from final
