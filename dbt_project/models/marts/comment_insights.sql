-- Per survey and group: how many comments, the shares of negative and positive ones, and the top themes.
-- Suppressed groups (too few commenting respondents, or complementary) publish no shares and no themes.

with

cells as (

    select * from {{ ref('int_group_comment_cells') }}

),

suppression as (

    select * from {{ ref('int_group_comment_suppression') }}

),

themes as (

    select * from {{ ref('int_group_comment_themes') }}

),

teams as (

    select * from {{ ref('stg_raw__teams') }}

),

top_themes as (

    select
        survey_id,
        team_id,
        scope,
        array_agg(theme order by theme_rank) filter (where theme_rank <= 3) as top_themes,
        min(theme) filter (where negative_theme_rank = 1 and n_negative > 0) as top_negative_theme

    from themes
    group by survey_id, team_id, scope

),

final as (

    select
        cells.survey_id,
        cells.team_id,
        cells.scope,
        {{ group_display_name('cells.scope', 'teams.team_name', 'cells.team_id') }} as team_name,
        cells.n_comments,
        cells.n_respondents,
        case
            when not suppression.is_suppressed
                then cells.n_negative::numeric / cells.n_comments
        end as negative_share,
        case
            when not suppression.is_suppressed
                then cells.n_neutral::numeric / cells.n_comments
        end as neutral_share,
        case
            when not suppression.is_suppressed
                then cells.n_positive::numeric / cells.n_comments
        end as positive_share,
        case when not suppression.is_suppressed then top_themes.top_themes end as top_themes,
        case when not suppression.is_suppressed then top_themes.top_negative_theme end as top_negative_theme,
        suppression.is_suppressed as suppressed,
        suppression.suppression_reason

    from cells
    inner join suppression
        on
            cells.survey_id = suppression.survey_id
            and cells.team_id = suppression.team_id
            and cells.scope = suppression.scope
    left join top_themes
        on
            cells.survey_id = top_themes.survey_id
            and cells.team_id = top_themes.team_id
            and cells.scope = top_themes.scope
    left join teams
        on cells.team_id = teams.team_id

)

select * from final
