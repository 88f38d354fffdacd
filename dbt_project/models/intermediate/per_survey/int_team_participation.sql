-- Per survey and team (the team on the invitation and on the response, i.e. at survey launch): how many were
-- invited and how many responses came back. Incremental by survey.

with

invitations as (

    select * from {{ ref('stg_raw__invitations') }}
    where {{ in_survey_scope() }}

),

responses as (

    select * from {{ ref('stg_raw__responses') }}
    where {{ in_survey_scope() }}

),

invited as (

    select
        survey_id,
        team_id,
        count(*)::integer as n_invited
    from invitations
    group by survey_id, team_id

),

responded as (

    select
        survey_id,
        team_id,
        count(distinct response_id)::integer as n_responded
    from responses
    group by survey_id, team_id

),

final as (

    select
        coalesce(invited.survey_id, responded.survey_id) as survey_id,
        coalesce(invited.team_id, responded.team_id) as team_id,
        coalesce(invited.n_invited, 0) as n_invited,
        coalesce(responded.n_responded, 0) as n_responded

    from invited
    full outer join responded
        on
            invited.survey_id = responded.survey_id
            and invited.team_id = responded.team_id

)

select * from final
