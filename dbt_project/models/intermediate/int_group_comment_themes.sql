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
        count(*)::integer as n_comments,
        (count(*) filter (where sentiment_label = 'negative'))::integer as n_negative

    from comments
    where theme is not null
    group by survey_id, team_id, theme

),

{{ rollup_to_groups('team_themes', keys=['theme'], sums=['n_comments', 'n_negative']) }},

final as (

    select
        survey_id,
        team_id,
        scope,
        theme,
        n_comments::integer as n_comments,
        n_negative::integer as n_negative,
        row_number() over (
            partition by survey_id, team_id, scope
            order by n_comments desc, theme asc
        )::integer as theme_rank,
        row_number() over (
            partition by survey_id, team_id, scope
            order by n_negative desc, theme asc
        )::integer as negative_theme_rank

    from rollup_final

)

select * from final
