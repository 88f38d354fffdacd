{#
    Every combination of `from_columns` in the model (all non-null) exists as a combination of `to_columns`
    in `to`: the relationships test for composite foreign keys, such as a response's (survey_id, question_id)
    that must be a question of that survey. Fails with one row per orphan key.
#}
{% test relationships_combination(model, from_columns, to, to_columns) %}

{% if from_columns | length != to_columns | length %}
    {{ exceptions.raise_compiler_error("relationships_combination needs as many to_columns as from_columns") }}
{% endif %}

with

child_keys as (

    select distinct
        {% for column in from_columns %}
            {{ column }} as key_{{ loop.index }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ model }}
    where
        {% for column in from_columns %}
            {{ column }} is not null{{ ' and' if not loop.last }}
        {% endfor %}

),

validation as (

    select child_keys.*
    from child_keys
    where not exists (
        select 1
        from {{ to }} as parent
        where
            {% for column in to_columns %}
                parent.{{ column }} = child_keys.key_{{ loop.index }}{{ ' and' if not loop.last }}
            {% endfor %}
    )

)

select * from validation

{% endtest %}
