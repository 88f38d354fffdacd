"""A hand-checked landing zone for comments: one survey, personal data and abuse planted on purpose.

    sales  top-level team, 6 commenting respondents (one comment is abusive: held for review)
    ops    top-level team, 4 commenting respondents (exactly comment_min_n 4: published)
    eng    top-level team with sub-teams web and data; 4 direct commenting respondents
    web    5 commenting respondents
    data   2 commenting respondents (below comment_min_n: suppressed)

Comment suppression, worked out by hand with comment_min_n = 4: data (2) is below the threshold. The eng subtree
(4 + 5 + 2 = 11) would reveal data's 2 by subtracting eng's team row and web, so the smallest published child
with a residual, eng's team row (4), is suppressed as well (complementary). The org (6 + 4 + 11 = 21) is
published: each of its children is published. So marts.comments holds sales (minus the held comment), ops and
web; comment_insights publishes sales, ops, web, the eng subtree and the org.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

SURVEY_ID = "2026-05"
OPENED_AT = "2026-05-04T09:00:00Z"

TEAMS = {  # team_id: (name, parent)
    "sales": ("Sales", ""),
    "ops": ("Operations", ""),
    "eng": ("Engineering", ""),
    "web": ("Web", "eng"),
    "data": ("Data", "eng"),
}

# Roster people named in comments: masking must replace them with [NAME].
ROSTER = {
    "SAL-01": ("Priya Raman", "sales"),
    "SAL-02": ("Tomasz Wójcik", "sales"),
    "OPS-01": ("Grace Okafor", "ops"),
    "ENG-01": ("Liam O'Connor", "eng"),
    "WEB-01": ("Sofia Marchetti", "web"),
    "DAT-01": ("Kenji Watanabe", "data"),
}

# The personal data planted below; none of these strings may exist outside raw and quarantine.
PLANTED = (
    "Priya Raman", "Grace Okafor", "Liam O'Connor", "Sofia Marchetti", "Kenji Watanabe",
    "priya.raman@acme.example", "tomasz.w+hr@gmail.com", "+44 7700 900123", "(646) 555-0199", "078-05-1120",
    "4111 1111 1111 1111", "5500-0000-0000-0004", "GB82 WEST 1234 5698 7654 32",
)

ABUSIVE = "Management are a bunch of useless idiots and this place is a fucking joke."
THREAT = "If they cut our bonus again someone is going to get hurt, I swear."

COMMENTS: dict[str, list[str]] = {
    "sales": [
        "Big thanks to Priya Raman for covering my accounts while I was off sick.",
        "I love working here, my team is fantastic and I feel supported every day.",
        "Commission payouts are always late. Email me at priya.raman@acme.example if you want details.",
        ABUSIVE,
        "Please refund my card 4111 1111 1111 1111, the expense tool has lost my claim twice.",
        "The CRM is painfully slow and crashes several times a day, it costs us deals.",
    ],
    "ops": [
        "Grace Okafor is the best manager I have had, she always has our backs.",
        "Call me on +44 7700 900123 if you want to hear how bad the rota planning is.",
        "Payroll still has my SSN as 078-05-1120 on the wrong form, nobody fixes it.",
        "More training on the new warehouse scanners would help a lot.",
    ],
    "eng": [
        "Liam O'Connor keeps cancelling our one to ones at the last minute.",
        THREAT,
        "Reimburse my card 5500-0000-0000-0004 please, it has been three months.",
        "We have far too many meetings, I barely get two hours of focus time a day.",
    ],
    "web": [
        "Sofia Marchetti mentors everyone on the team and it really shows.",
        "My personal address is tomasz.w+hr@gmail.com, send the salary review there.",
        "Send my expenses to GB82 WEST 1234 5698 7654 32 instead of the old account.",
        "Great team, great product, I am proud of what we ship.",
        "The build pipeline takes forty minutes, our tools slow everyone down.",
    ],
    "data": [
        "Kenji Watanabe never answers on (646) 555-0199, we are blocked for days.",
        "Our data platform is finally stable, good work everyone.",
    ],
}

QUESTIONS = [
    {"question_id": "rec_1", "type": "likert", "driver_id": "recognition", "text": "I get recognition for good work."},
    {"question_id": "open_1", "type": "comment", "text": "What one thing would you change?"},
]


def response_id(team_id: str, number: int) -> str:
    return f"{SURVEY_ID}-{team_id}-{number}"


def comment_of(team_id: str, number: int) -> str:
    """comment_id of the ``number``-th (1-based) comment of a team in COMMENTS."""
    return f"{SURVEY_ID}:{response_id(team_id, number)}:open_1"


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def employees() -> list[tuple[str, str, str]]:
    """(employee_id, full_name, team_id): the named people plus enough others for every team's invitations."""
    people = [(eid, name, team) for eid, (name, team) in ROSTER.items()]
    for team, comments in COMMENTS.items():
        for i in range(len(comments) + 2):
            people.append((f"{team.upper()}-X{i:02d}", f"Colleague {team.title()} {chr(65 + i)}", team))
    return people


def write_comments_landing(root: Path) -> Path:
    (root / "org").mkdir(parents=True, exist_ok=True)
    managers = {team: next(eid for eid, _, t in employees() if t == team) for team in TEAMS}
    (root / "org" / "teams.csv").write_text(_csv(
        ["team_id", "team_name", "parent_team_id", "manager_employee_id"],
        [[team, name, parent, managers[team]] for team, (name, parent) in TEAMS.items()]), encoding="utf-8")
    (root / "org" / "employees.csv").write_text(_csv(
        ["employee_id", "email", "full_name", "team_id", "dashboard_role", "location", "active"],
        [[eid, f"{eid.lower()}@acme.example", name, team, "", "Remote", "true"]
         for eid, name, team in employees()]), encoding="utf-8")
    folder = root / "surveys" / SURVEY_ID
    folder.mkdir(parents=True, exist_ok=True)
    definition = {"survey_id": SURVEY_ID, "title": "May pulse", "opened_at": OPENED_AT,
                  "closed_at": OPENED_AT.replace("T09", "T17"), "questions": QUESTIONS}
    (folder / "survey.json").write_text(json.dumps(definition, indent=2), encoding="utf-8")
    (folder / "invitations.csv").write_text(_csv(
        ["survey_id", "employee_id", "team_id", "invited_at"],
        [[SURVEY_ID, eid, team, OPENED_AT] for eid, _, team in employees()]), encoding="utf-8")
    submitted = OPENED_AT.replace("09:00", "10:00")
    rows = []
    for team, comments in COMMENTS.items():
        for number, text in enumerate(comments, start=1):
            rid = response_id(team, number)
            rows.append([rid, SURVEY_ID, team, submitted, "rec_1", str(5 + number % 5), ""])
            rows.append([rid, SURVEY_ID, team, submitted, "open_1", "", text])
    (folder / "responses.csv").write_text(_csv(
        ["response_id", "survey_id", "team_id", "submitted_at", "question_id", "score", "comment"], rows),
        encoding="utf-8")
    return root
