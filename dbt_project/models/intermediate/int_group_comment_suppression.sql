-- Which groups' comments may be published (SPEC section 6): a group needs comments from at least
-- comment_min_n respondents, and no published comment counts may reveal a smaller group by subtraction
-- (complementary suppression, as for scores, with comment_min_n from app.settings).

{{ complementary_suppression(ref('int_group_comment_cells'), anonymity_threshold('comment_min_n')) }}
