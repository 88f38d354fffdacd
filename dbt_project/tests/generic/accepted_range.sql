{#
    Every non-null value of the column lies between `min_value` and `max_value` (either bound may be left
    out; bounds are inclusive unless `inclusive: false`). Fails with one row per offending value.
    A missing bound compares with null, which is never true, so it excludes nothing.
#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{% if min_value is none and max_value is none %}
    {{ exceptions.raise_compiler_error("accepted_range needs min_value, max_value or both") }}
{% endif %}

with

validation as (

    select {{ column_name }} as tested_value
    from {{ model }}
    where
        {{ column_name }} {{ '<' if inclusive else '<=' }} {{ 'null' if min_value is none else min_value }}
        or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ 'null' if max_value is none else max_value }}

)

select * from validation

{% endtest %}
