"""What the Admin page accepts as a setting, checked before anything reaches the database."""

import pytest

from dashboards.admin import AdminError, display_value, parse_setting


@pytest.mark.parametrize(("key", "text", "stored"), [
    ("alert.low_score.threshold", "6.5", 6.5),
    ("alert.low_score.threshold", " 6 ", 6.0),
    ("alert.recurring.min_surveys", "4", 4),
    ("min_n", "3", 3),  # the lowest anonymity threshold the app allows
    ("comment_min_n", "10", 10),
    ("pii_masking", "FALSE", False),
    ("alert.drops.require_significance", "true", True),
    ("alert.enps_neg.severity", "medium", "medium"),
    ("notification_channels", "email, webhook, email", ["email", "webhook"]),
    ("notification_channels", "", []),
    ("app.session_idle_minutes", "45", 45),
])
def test_accepted_values(key, text, stored):
    assert parse_setting(key, text) == stored


@pytest.mark.parametrize(("key", "text", "reason"), [
    ("min_n", "2", "min_n must be at least 3 to keep answers anonymous"),
    ("comment_min_n", "1", "comment_min_n must be at least 3 to keep answers anonymous"),
    ("min_n", "4.5", "must be a whole number of at least 1"),
    ("alert.low_score.threshold", "six", "must be a number"),
    ("alert.low_score.threshold", "nan", "must be a finite number"),
    ("pii_masking", "yes", "must be true or false"),
    ("alert.enps_neg.severity", "urgent", "must be one of low, medium, high"),
    ("notification_channels", "email, pager", "unknown channel 'pager'"),
    ("app.session_max_hours", "0", "must be a whole number of at least 1"),
    ("schema_version", "7", "cannot be changed from the app"),
])
def test_refused_values_say_why(key, text, reason):
    with pytest.raises(AdminError, match=reason):
        parse_setting(key, text)


def test_display_value_reads_back():
    for key, value in (("notification_channels", ["email", "webhook"]), ("pii_masking", True), ("min_n", 4)):
        assert parse_setting(key, display_value(value)) == value


def test_each_role_opens_only_its_pages():
    from dashboards.navigation import page_specs

    titles = {role: [spec.title for spec in page_specs(role)] for role in ("admin", "manager", "viewer")}
    assert titles == {
        "admin": ["Overview", "Team", "Comments", "Alerts", "Admin", "Data health"],
        "manager": ["Overview", "Team", "Comments", "Alerts"],
        "viewer": ["Overview", "Comments", "Alerts"],
    }
    assert page_specs("owner") == []
