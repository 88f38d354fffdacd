-- Per survey, group and theme: how many comments carry the theme (for a group's top themes).

with

comments as (

    select * from {{ ref('stg_nlp__comments') }}

),

team_themes as (

    select
        survey_id,
        team_id,
        theme,
        count(*)::integer as n_comments

    from comments
    where theme is not null
    group by survey_id, team_id, theme

),

{{ rollup_to_groups('team_themes', keys=['theme'], sums=['n_comments']) }},

final as (

    select
        survey_id,
        team_id,
        scope,
        theme,
        n_comments::integer as n_comments,
        row_number() over (
            partition by survey_id, team_id, scope
            order by n_comments desc, theme asc
        )::integer as theme_rank

    from rollup_final

)

select * from final
