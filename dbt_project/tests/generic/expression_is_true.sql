{#
    A row-level invariant: fails with every row (matching the optional `where` config) for which
    `expression` is false. Nulls pass: an invariant over a suppressed (null) value is not broken.
#}
{% test expression_is_true(model, expression) %}

with

validation as (

    select *
    from {{ model }}
    where not coalesce({{ expression }}, true)

)

select * from validation

{% endtest %}
