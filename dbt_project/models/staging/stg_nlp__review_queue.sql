-- The safety review queue: flagged comments and the admins' decisions on them (current comments only).

with

source as (

    select * from {{ source('nlp', 'review_queue') }}

),

final as (

    select
        comment_id,
        survey_id,
        team_id,
        categories as flag_categories,
        severity as flag_severity,
        status as review_status,
        flagged_at,
        reviewed_by,
        reviewed_at,
        status in ('pending', 'escalated') as is_held

    from source
    where is_current

)

select * from final
