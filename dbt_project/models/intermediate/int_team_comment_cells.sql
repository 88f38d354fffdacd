-- Per survey and team: its comments, the respondents who wrote them, and their sentiment counts. Additive,
-- so int_group_comment_cells can roll them up to subtrees and the org.

with

comments as (

    select * from {{ ref('stg_nlp__comments') }}

),

final as (

    select
        survey_id,
        team_id,
        'comments' as metric_id,
        count(distinct response_id)::integer as n_respondents,
        count(*)::integer as n_comments,
        count(*) filter (where sentiment_label = 'negative')::integer as n_negative,
        count(*) filter (where sentiment_label = 'neutral')::integer as n_neutral,
        count(*) filter (where sentiment_label = 'positive')::integer as n_positive

    from comments
    group by survey_id, team_id

)

select * from final
