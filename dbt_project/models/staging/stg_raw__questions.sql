{{ config(tags=['survey_partition']) }}

with

source as (

    select * from {{ source('raw', 'questions') }}

),

final as (

    select
        survey_id,
        question_id,
        question_type,
        question_text,
        position as question_position,
        delivery_id,
        nullif(btrim(driver_id), '') as driver_id,
        question_type = 'likert' as is_likert,
        question_type = 'enps' as is_enps,
        question_type = 'comment' as is_comment

    from source

)

select * from final
