"""What a person sees: the landing page served by `streamlit run dashboards/app.py`, in a real Chromium.

Expected numbers are hand-counted from tests/landing_fixture.py. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; the browser fixture uses the same path

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install -y chromium)"),
]

WAIT_MS = 60_000
VIEWPORT = {"width": 1600, "height": 1000}
# Streamlit scrolls inside its main block, so a screenshot shows the viewport: make it tall enough for a page.
SCREENSHOT_VIEWPORT = {"width": 1600, "height": 2400}
SCORE_REASON = "score out of range (likert 1-10, enps 0-10)"


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(has=page.get_by_text(label, exact=True))


def _background_luminance(page) -> float:
    """Relative luminance (0 black .. 1 white) of the app background, to tell the light theme from the dark."""
    colour = page.get_by_test_id("stApp").evaluate("e => getComputedStyle(e).backgroundColor")
    red, green, blue = (int(v) / 255 for v in re.findall(r"\d+", colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _cells(page, frame: int | None = None):
    """Cells of the data grids (glide-data-grid paints on a canvas and mirrors visible cells in a table)."""
    grids = page.get_by_test_id("stDataFrame")
    return (grids if frame is None else grids.nth(frame)).locator("td[role=gridcell]")


def _open_overview(page, url: str) -> None:
    page.goto(url)
    page.get_by_test_id("stMetric").first.wait_for(timeout=WAIT_MS)
    _cells(page).filter(has_text="January pulse").wait_for(state="attached", timeout=WAIT_MS)


def _open_data_health(page) -> None:
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Data health").click()
    page.get_by_text("Quarantined rows", exact=False).first.wait_for(timeout=WAIT_MS)
    page.get_by_text(SCORE_REASON).first.wait_for(timeout=WAIT_MS)


def _screenshot(page, path: Path) -> None:
    page.set_viewport_size(SCREENSHOT_VIEWPORT)
    page.wait_for_timeout(800)  # let charts and grids re-layout to the new size
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)


def test_landing_page_shows_what_is_loaded(browser, streamlit_url: str, artifacts: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light", locale="en-US")
    page = context.new_page()
    try:
        _open_overview(page, streamlit_url)
        assert page.title() == "Novora"
        for label, value, note in [
            ("Teams", "3", "1 row rejected"),
            ("Active employees", "7", "of 8 · 3 rejected"),
            ("Surveys loaded", "1", "4 questions in all"),
            ("Answers loaded", "11", "13 rejected"),
            ("Respondents", "3", "of 7 invited"),
            ("Rows quarantined", "21", "in 5 files"),
        ]:
            metric = _metric(page, label)
            assert metric.get_by_test_id("stMetricValue").inner_text().strip() == value, label
            assert metric.get_by_test_id("stMetricDelta").inner_text().strip() == note, label
        # survey, title, opened, closed, questions, invited, respondents, participation, answers loaded / rejected
        survey = _cells(page, 0).all_inner_texts()
        assert survey[:2] == ["2026-01", "January pulse"]
        assert survey[4:7] == ["4", "7", "3"] and survey[8:10] == ["11", "13"]
        assert float(survey[7]) == pytest.approx(3 / 7)
        dagster = page.get_by_role("link", name=re.compile("Open Dagster UI"))
        assert dagster.get_attribute("href").rstrip("/") == "http://127.0.0.1:3000"
        body = page.inner_text("body").lower()
        assert "coming soon" not in body and "placeholder" not in body
        assert _background_luminance(page) > 0.8
        _screenshot(page, artifacts / "overview-light.png")

        _open_data_health(page)
        assert page.get_by_text("No file was rejected whole").is_visible()
        assert page.get_by_text("5 files in use: 54 rows delivered, 33 loaded, 21 quarantined.").is_visible()
        assert page.get_by_text("showing 21 of 21", exact=False).is_visible()
        deliveries = _cells(page, 0).all_inner_texts()
        assert deliveries[:6] == ["teams", "org", deliveries[2], "4", "3", "1"]
        assert deliveries[2].endswith("org/teams.csv")
        assert SCORE_REASON in _cells(page, 1).all_inner_texts()
        # quarantined responses may carry unmasked comments: none of their text reaches the browser
        assert "Great team" not in page.content()
        _screenshot(page, artifacts / "data-health-light.png")

        page.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
        page.get_by_role("option", name="responses", exact=True).click()
        page.get_by_text("showing 13 of 13", exact=False).wait_for(timeout=WAIT_MS)
        assert page.get_by_text("13 rows quarantined", exact=False).is_visible()
    finally:
        context.close()


def test_landing_page_in_dark_theme(browser, streamlit_url: str, artifacts: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark", locale="en-US")
    page = context.new_page()
    try:
        _open_overview(page, streamlit_url)
        assert _background_luminance(page) < 0.2  # follows the system setting: nothing hard-codes light colours
        assert _metric(page, "Answers loaded").get_by_test_id("stMetricValue").inner_text().strip() == "11"
        _screenshot(page, artifacts / "overview-dark.png")

        _open_data_health(page)
        assert _background_luminance(page) < 0.2
        _screenshot(page, artifacts / "data-health-dark.png")
    finally:
        context.close()
