{#
    Anonymity, primary rule (SPEC section 6): no published row describes fewer than `setting` (min_n)
    respondents. Fails with every published row whose `column_name` is below the threshold in app.settings.
#}
{% test published_groups_meet_min_n(model, column_name, suppressed_column='suppressed', setting='min_n') %}

with

validation as (

    select *
    from {{ model }}
    where
        not {{ suppressed_column }}
        and {{ column_name }} < {{ anonymity_threshold(setting) }}

)

select * from validation

{% endtest %}
