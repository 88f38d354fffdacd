"""What people see: `streamlit run dashboards/app.py` in Debian's Chromium, signed in as each role.

The site (tests/e2e/conftest.py) is a generated org of 8 teams with 3 surveys, materialised for real; the
manager's teams are worked out in the test from org/teams.csv, not asked from the app. Screenshots of every
page land in test-artifacts/ (git-ignored; CI keeps them as artifacts).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import CHROMIUM, SITE_MIN_N, Site, read_csv

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install -y chromium)"),
]

WAIT_MS = 90_000
VIEWPORT = {"width": 1440, "height": 900}  # a laptop screen
SCREENSHOT_VIEWPORT = {"width": 1440, "height": 2600}  # Streamlit scrolls inside its main block
ORG = "__org__"


# ---------------------------------------------------------------- helpers


def new_page(browser, **options):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, **options)
    return context, context.new_page()


def submit_sign_in(page, email: str, password: str) -> None:
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in(page, site: Site, role: str, path: str = "") -> None:
    """Open ``path`` (the sign-in form shows first) and sign in as the site's account for ``role``."""
    email, password = site.accounts[role]
    page.goto(site.url + path)
    submit_sign_in(page, email, password)
    page.get_by_text(f"Signed in as {email}").wait_for(timeout=WAIT_MS)


def settled(page) -> None:
    """Wait until Streamlit has finished running the script (its status widget goes away)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)


def open_page(page, title: str) -> None:
    page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=WAIT_MS)
    settled(page)


def open_tab(page, label: str) -> None:
    """Click a page's tab; only the open tab runs, so this reruns the page with it."""
    page.get_by_role("tab", name=label, exact=True).click()
    page.get_by_role("tab", name=label, exact=True, selected=True).wait_for(timeout=WAIT_MS)
    settled(page)


def nav_titles(page) -> list[str]:
    # a link's text is its icon's ligature name, then its title
    return [link.inner_text().strip().split("\n")[-1] for link in page.get_by_test_id("stSidebarNavLink").all()]


def screenshot(page, path: Path) -> None:
    page.set_viewport_size(SCREENSHOT_VIEWPORT)
    page.wait_for_timeout(800)  # charts and grids re-layout to the new size
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)


def button_named(page, label: str):
    """The button whose text ends with ``label`` (a button with an icon starts with the icon's ligature name)."""
    return page.get_by_role("button", name=re.compile(rf"(^|\W){re.escape(label)}$"))


def download(page, label: str) -> list[dict[str, str]]:
    """Click a download button; the CSV it gives, as rows."""
    with page.expect_download(timeout=WAIT_MS) as event:
        button_named(page, label).click()
    body = Path(event.value.path()).read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def no_errors(page) -> None:
    assert page.get_by_test_id("stException").count() == 0


def small_teams(site: Site) -> tuple[str, set[str]]:
    """The latest survey and the teams with fewer than min_n respondents (a likert answer loaded) in it,
    counted straight from the raw tables, not from the marts."""
    with psycopg.connect(site.database_url) as conn:
        latest = conn.execute("select survey_id from raw.surveys order by opened_at desc limit 1").fetchone()[0]
        small = conn.execute(
            """select r.team_id from raw.responses as r
               join raw.questions as q on q.survey_id = r.survey_id and q.question_id = r.question_id
               where r.survey_id = %s and q.question_type = 'likert' and r.score is not null
               group by r.team_id having count(distinct r.response_id) < %s""", (latest, SITE_MIN_N)).fetchall()
    return latest, {row[0] for row in small}


def team_names(site: Site) -> dict[str, str]:
    return {t["team_id"]: t["team_name"] for t in read_csv(site.landing / "org" / "teams.csv")}


# ---------------------------------------------------------------- tests


def test_nothing_shows_without_signing_in(browser, site: Site, artifacts: Path) -> None:
    context, page = new_page(browser)
    try:
        forbidden = sorted(set(team_names(site)) - site.manager_teams)[0]
        page.goto(f"{site.url}/team?team={forbidden}")
        page.get_by_label("Email", exact=True).wait_for(timeout=WAIT_MS)
        settled(page)
        assert nav_titles(page) == []
        body = page.inner_text("body")
        assert team_names(site)[forbidden] not in body and "Engagement" not in body
        screenshot(page, artifacts / "app-sign-in.png")
        submit_sign_in(page, site.accounts["manager"][0], "not the password")
        page.get_by_text("Email or password is not right.").wait_for(timeout=WAIT_MS)
    finally:
        context.close()


def test_an_admin_opens_every_page(browser, site: Site, artifacts: Path) -> None:
    context, page = new_page(browser)
    try:
        sign_in(page, site, "admin")
        pages = ["Overview", "Team", "Comments", "Alerts", "Admin", "Data health"]
        assert nav_titles(page) == pages
        for title in pages:
            open_page(page, title)
            no_errors(page)
            screenshot(page, artifacts / f"app-admin-{title.lower().replace(' ', '-')}.png")
        open_page(page, "Overview")
        heatmap = download(page, "Download heatmap (CSV)")
        assert {row["team_id"] for row in heatmap} == set(team_names(site)) | {ORG}
    finally:
        context.close()


def test_a_manager_sees_exactly_their_teams(browser, site: Site, artifacts: Path) -> None:
    context, page = new_page(browser)
    names = team_names(site)
    forbidden = sorted(set(names) - site.manager_teams)
    try:
        sign_in(page, site, "manager")
        assert nav_titles(page) == ["Overview", "Team", "Comments", "Alerts"]
        settled(page)
        heatmap = download(page, "Download heatmap (CSV)")
        assert {row["team_id"] for row in heatmap} == set(site.manager_teams) | {ORG}
        # suppressed cells are spelled out in the export, never blank
        assert all(value != "" for row in heatmap for key, value in row.items() if key not in ("team_id", "scope"))
        screenshot(page, artifacts / "app-manager-overview.png")

        open_page(page, "Team")
        page.get_by_role("combobox", name="Team", exact=True).click()  # the picker lists the manager's groups only
        listed = {o.inner_text().strip() for o in page.get_by_role("option").all()}
        page.keyboard.press("Escape")
        # each group once or twice (a team with sub-teams: its direct members and its whole subtree), plus the org
        assert {label.split(" (")[0] for label in listed} == {names[t] for t in site.manager_teams} | {
            "Whole organisation"}
        screenshot(page, artifacts / "app-manager-team.png")

        # another team by URL: a fresh page load asks to sign in, then opens that address and refuses the team
        sign_in(page, site, "manager", f"/team?team={forbidden[0]}&scope=team")
        settled(page)
        page.get_by_text("You do not have access to this team").wait_for(timeout=WAIT_MS)
        assert names[forbidden[0]] not in page.inner_text("[data-testid='stMain']")
    finally:
        context.close()


def test_a_manager_cannot_open_another_teams_page_by_query_parameter(browser, site: Site, artifacts: Path) -> None:
    context, page = new_page(browser)
    names = team_names(site)
    forbidden = sorted(set(names) - site.manager_teams)[0]
    try:
        sign_in(page, site, "manager")
        open_page(page, "Team")
        # change the query parameter in this signed-in session, the way a person edits the address bar
        page.evaluate(
            "team => { const u = new URL(window.location); u.searchParams.set('team', team);"
            " u.searchParams.set('scope', 'team'); window.history.pushState({}, '', u); }", forbidden)
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Team").click()
        settled(page)
        body = page.inner_text("[data-testid='stMain']")
        assert names[forbidden] not in body
        screenshot(page, artifacts / "app-manager-forbidden-team.png")
    finally:
        context.close()


def test_a_manager_acknowledges_an_alert_with_a_note(browser, site: Site, artifacts: Path) -> None:
    email = site.accounts["manager"][0]
    with psycopg.connect(site.database_url) as conn:
        in_scope = conn.execute("select count(*) from alerts.alerts where team_id = any(%s) and status = 'open'",
                                (sorted(site.manager_teams),)).fetchone()[0]
    assert in_scope > 0, "the generated org should plant an alert on the manager's teams"
    context, page = new_page(browser)
    try:
        sign_in(page, site, "manager")
        open_page(page, "Alerts")
        inbox = download(page, "Download alerts (CSV)")
        assert inbox and {row["team_id"] for row in inbox} <= set(site.manager_teams) | {ORG}
        page.get_by_label("Note (kept in the alert's history)", exact=True).fill("Talked to the team on Monday")
        page.get_by_role("button", name="Acknowledge", exact=True).click()
        settled(page)
        screenshot(page, artifacts / "app-manager-alerts.png")
        with psycopg.connect(site.database_url) as conn:
            events = conn.execute(
                """select a.team_id, a.status, e.actor, e.note from alerts.alert_events as e
                   join alerts.alerts as a using (alert_id) where e.actor = %s""", (email,)).fetchall()
        assert len(events) == 1
        team_id, status, actor, note = events[0]
        assert team_id in site.manager_teams and status == "acknowledged"
        assert (actor, note) == (email, "Talked to the team on Monday")
    finally:
        context.close()


def test_semantic_search_finds_comments_in_scope_only(browser, site: Site, artifacts: Path) -> None:
    names = team_names(site)
    context, page = new_page(browser)
    try:
        sign_in(page, site, "manager")
        open_page(page, "Comments")
        settled(page)
        comments = download(page, "Download comments (CSV)")  # the page opens on its Comments tab
        assert comments and {row["team_name"] for row in comments} <= {names[t] for t in site.manager_teams}
        open_tab(page, "Search by meaning")
        page.get_by_label("Search comments", exact=True).fill("too many meetings, no time to focus")
        page.get_by_test_id("stBaseButton-secondaryFormSubmit").filter(has_text="Search").click()
        settled(page)
        hits = download(page, "Download search results (CSV)")
        assert hits, "the search found nothing"
        assert {row["team_id"] for row in hits} <= set(site.manager_teams)
        assert all("@" not in row["text_masked"] for row in hits)  # masked text only
        screenshot(page, artifacts / "app-manager-comments-search.png")
    finally:
        context.close()


def test_a_viewer_sees_organisation_results_only(browser, site: Site, artifacts: Path) -> None:
    context, page = new_page(browser)
    try:
        sign_in(page, site, "viewer")
        assert nav_titles(page) == ["Overview", "Comments", "Alerts"]
        settled(page)
        assert {row["team_id"] for row in download(page, "Download heatmap (CSV)")} == {ORG}
        screenshot(page, artifacts / "app-viewer-overview.png")
        open_page(page, "Comments")
        no_errors(page)
        assert page.get_by_label("Search comments", exact=True).count() == 0
        screenshot(page, artifacts / "app-viewer-comments.png")
    finally:
        context.close()


def test_dark_theme_follows_the_system_setting(browser, site: Site, artifacts: Path) -> None:
    context, page = new_page(browser, color_scheme="dark")
    try:
        sign_in(page, site, "admin")
        settled(page)
        colour = page.get_by_test_id("stApp").evaluate("e => getComputedStyle(e).backgroundColor")
        red, green, blue = (int(v) / 255 for v in re.findall(r"\d+", colour)[:3])
        assert 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.2
        screenshot(page, artifacts / "app-admin-overview-dark.png")
    finally:
        context.close()


def test_a_small_team_is_suppressed_everywhere(browser, site: Site, artifacts: Path) -> None:
    latest, small = small_teams(site)
    assert small, f"the generated org should have a team under min_n {SITE_MIN_N} in {latest}"
    hidden_cell = f"suppressed (fewer than {SITE_MIN_N} responses)"
    context, page = new_page(browser)
    try:
        sign_in(page, site, "admin")
        settled(page)
        page.get_by_text(f"fewer than {SITE_MIN_N} responses").first.wait_for(timeout=WAIT_MS)
        heatmap = download(page, "Download heatmap (CSV)")
        rows = [row for row in heatmap if row["team_id"] in small and row["scope"] == "team"]
        assert {row["team_id"] for row in rows} == small
        for row in rows:  # every score of the team, never a number or a blank
            assert {v for k, v in row.items() if k not in ("Group", "team_id", "scope")} == {hidden_cell}
        team = sorted(small)[0]
        sign_in(page, site, "admin", f"/team?team={team}&scope=team")
        page.get_by_role("heading", name="Team", level=1).wait_for(timeout=WAIT_MS)
        settled(page)
        page.get_by_text(f"hidden to protect anonymity: fewer than {SITE_MIN_N} responses").first.wait_for(
            timeout=WAIT_MS)
        drivers = download(page, "Download drivers (CSV)")
        assert drivers and all(hidden_cell in row.values() for row in drivers)
        screenshot(page, artifacts / "app-admin-team-suppressed.png")
    finally:
        context.close()
