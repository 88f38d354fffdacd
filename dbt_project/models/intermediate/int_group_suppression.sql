-- Which group scores may be published (SPEC section 6), per survey, group and metric: primary and
-- complementary suppression with min_n from app.settings (the macro complementary_suppression says how).

{{ complementary_suppression(ref('int_group_metric_cells'), anonymity_threshold('min_n')) }}
