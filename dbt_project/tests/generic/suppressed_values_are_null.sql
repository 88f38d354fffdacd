{#
    A suppressed row publishes no number derived from answers: every column in `columns` is null where
    `suppressed_column` is true. Fails with each suppressed row that still carries a value.
#}
{% test suppressed_values_are_null(model, columns, suppressed_column='suppressed') %}

with

validation as (

    select *
    from {{ model }}
    where
        {{ suppressed_column }}
        and ({{ columns | map('string') | join(' is not null or ') }} is not null)

)

select * from validation

{% endtest %}
