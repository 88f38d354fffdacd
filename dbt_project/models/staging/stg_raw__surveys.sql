{{ config(tags=['survey_partition']) }}

with

source as (

    select * from {{ source('raw', 'surveys') }}

),

final as (

    select
        survey_id,
        opened_at,
        closed_at,
        delivery_id,
        btrim(title) as survey_title

    from source

)

select * from final
