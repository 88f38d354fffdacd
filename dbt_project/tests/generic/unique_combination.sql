{#
    The combination of `combination_of_columns` is unique in the model: the generic test for composite
    primary keys such as (survey_id, question_id). Fails with one row per duplicated key and its count.
#}
{% test unique_combination(model, combination_of_columns) %}

with

validation as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

)

select * from validation

{% endtest %}
