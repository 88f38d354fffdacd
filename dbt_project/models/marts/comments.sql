-- The comments managers may read: masked text with sentiment and theme, from teams whose comments are
-- published (enough commenting respondents, no differencing gap), leaving out comments held for safety review.
-- The app lists a survey's comments in team order (the first 500) and its themes: both read one index range
-- instead of every survey's comments (a year at benchmark size holds 205,000).
{{ config(indexes=[
    {'columns': ['survey_id', 'team_name', 'team_id', 'comment_id']},
    {'columns': ['survey_id', 'theme']},
]) }}

with

comments as (

    select * from {{ ref('stg_nlp__comments') }}

),

suppression as (

    select * from {{ ref('int_group_comment_suppression') }}
    where scope = 'team'

),

review_queue as (

    select * from {{ ref('stg_nlp__review_queue') }}

),

teams as (

    select * from {{ ref('stg_raw__teams') }}

),

final as (

    select
        comments.comment_id,
        comments.survey_id,
        comments.team_id,
        {{ group_display_name("'team'", 'teams.team_name', 'comments.team_id') }} as team_name,
        comments.question_id,
        comments.text_masked,
        comments.text_sha256,
        comments.sentiment_label,
        comments.sentiment_score,
        comments.theme,
        comments.theme_confidence,
        comments.theme_source,
        comments.sentiment_model

    from comments
    inner join suppression
        on
            comments.survey_id = suppression.survey_id
            and comments.team_id = suppression.team_id
    left join review_queue
        on comments.comment_id = review_queue.comment_id
    left join teams
        on comments.team_id = teams.team_id

    where
        not suppression.is_suppressed
        and comments.sentiment_label is not null
        and not coalesce(review_queue.is_held, false)

)

select * from final
