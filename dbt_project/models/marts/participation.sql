with

participation as (

    select * from {{ ref('int_group_participation') }}

),

sequence as (

    select * from {{ ref('int_group_survey_sequence') }}

),

teams as (

    select * from {{ ref('stg_raw__teams') }}

),

rates as (

    select
        participation.survey_id,
        participation.team_id,
        participation.scope,
        participation.n_invited,
        participation.n_responded,
        sequence.prev_survey_id,
        participation.n_responded::numeric / nullif(participation.n_invited, 0) as participation_rate

    from participation
    left join sequence
        on
            participation.survey_id = sequence.survey_id
            and participation.team_id = sequence.team_id
            and participation.scope = sequence.scope

),

final as (

    select
        rates.survey_id,
        rates.team_id,
        rates.scope,
        rates.n_invited as invited,
        rates.n_responded as responded,
        rates.participation_rate,
        rates.prev_survey_id,
        previous.participation_rate as prev_participation_rate,
        {{ group_display_name('rates.scope', 'teams.team_name', 'rates.team_id') }} as team_name,
        (rates.participation_rate - previous.participation_rate)
        / nullif(previous.participation_rate, 0) as participation_change_rel

    from rates
    left join rates as previous
        on
            rates.prev_survey_id = previous.survey_id
            and rates.team_id = previous.team_id
            and rates.scope = previous.scope
    left join teams
        on rates.team_id = teams.team_id

)

select * from final
