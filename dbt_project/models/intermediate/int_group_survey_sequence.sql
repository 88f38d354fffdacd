-- For each group and each survey it was surveyed in (someone invited or someone responded): the previous
-- survey of that group, i.e. the latest earlier survey by opened_at in which it was surveyed (SPEC section 5).

with

participation as (

    select * from {{ ref('int_group_participation') }}

),

surveys as (

    select * from {{ ref('stg_raw__surveys') }}

),

final as (

    select
        participation.survey_id,
        participation.team_id,
        participation.scope,
        surveys.opened_at,
        lag(participation.survey_id) over (
            partition by participation.team_id, participation.scope
            order by surveys.opened_at, participation.survey_id
        ) as prev_survey_id

    from participation
    inner join surveys
        on participation.survey_id = surveys.survey_id

    where participation.n_invited > 0 or participation.n_responded > 0

)

select * from final
