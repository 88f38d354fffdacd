"""A hand-built landing zone for the alert rules: every alert type fires somewhere, the boundaries do not.

All teams are top-level, so the groups are each team and the organisation. Questions: rec_1 (recognition),
gro_1 (growth), enps, open_1 (comment); one likert question per driver, so a driver's mean is the mean of one
question. Per survey, a team's respondents are listed as (rec_1, gro_1, enps, comment or None).

    team   invited  2026-01                         2026-02                          2026-03
    ok     10       10 x 9 9 9, praise             10 x 9 9 9                       10 x 9 9 9
    low     5       rec 5  -> LOW_SCORE             rec 5 -> LOW_SCORE               rec 5 -> LOW_SCORE, RECURRING
    edge    5       rec 6.0 exactly, gro 9,         4 of 5 (-20 % exactly), rec 6.0, rec 6.0, gro 8, eNPS 0
                    eNPS 0 exactly                  gro 8 (-1.0 exactly), eNPS 0
    drop    6       gro 8.5                         gro 7.0: -1.5, -17.6 % -> BIG_DROP_ABS, BIG_DROP_REL
    rel     4       gro 6.5 (8 5 8 5)               gro 5.5 (7 4 7 4): -1.0, -15.4 % -> BIG_DROP_REL only
                                                    (within chance: interval -3.4 .. 1.4), LOW_SCORE growth
    neg     6       eNPS 3 4 5 9 7 8 = -33.3 -> ENPS_NEG
    part   10       8 responded (80 %)              5 responded (50 %) -> LOW_PARTICIPATION, PARTICIPATION_DROP
    tiny    3       3 respond, all 2s, eNPS 0, negative comments: below min_n 4, suppressed -> nothing
    duo     3       1 responds, 1 of 3 (33 %): below min_n, under min_n invited -> nothing
    sad     5       3 negative comments of 5 (60 %) about workload -> NEG_SENT_SPIKE (theme workload)
    calm   10       3 negative comments of 10: exactly 30 % -> nothing

The organisation stays clear of every threshold (worked out in tests/integration/test_alerts.py). tiny and
duo together hold 4 respondents, so the org row needs no complementary suppression of a published team.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.landing_fixture import write_survey_folder

Respondent = tuple[int, int, int, str | None]

SURVEYS = {"2026-01": "2026-01-05T09:00:00Z", "2026-02": "2026-02-02T09:00:00Z", "2026-03": "2026-03-02T09:00:00Z"}
INVITED = {"ok": 10, "low": 5, "edge": 5, "drop": 6, "rel": 4, "neg": 6, "part": 10, "tiny": 3, "duo": 3, "sad": 5,
           "calm": 10}
ADMIN = "OK-01"  # dashboard_role admin

NEGATIVE = ["Far too much work for too few people, I am exhausted every single day.",
            "Our workload doubled this year and nobody has hired anyone to help.",
            "I am burnt out, the amount of work we are given is impossible.",
            "The deadlines are unrealistic and the workload never lets up."]
POSITIVE = ["I love working with my team, everyone is supportive and kind.",
            "My manager is brilliant and always makes time for me.",
            "Great place to work, I feel valued and respected here.",
            "Fantastic colleagues, I am proud to be part of this team.",
            "The team is wonderful and I am happy here.",
            "I am grateful for the flexibility and the trust I get.",
            "Best team I have ever worked in, genuinely.",
            "I feel appreciated and my work is recognised.",
            "Really happy with the support from my lead this year."]


def _same(n: int, rec: int, gro: int, enps: int, comments: list[str | None] | None = None) -> list[Respondent]:
    comments = comments or [None] * n
    return [(rec, gro, enps, comments[i % len(comments)] if i < len(comments) else None) for i in range(n)]


RESPONSES: dict[str, dict[str, list[Respondent]]] = {
    "2026-01": {
        "ok": _same(10, 9, 9, 9, POSITIVE + POSITIVE[:1]),
        "low": _same(5, 5, 8, 8),
        "edge": [(6, 9, e, None) for e in (9, 10, 5, 6, 7)],
        "drop": [(8, g, 8, None) for g in (9, 9, 8, 8, 9, 8)],
        "rel": [(8, g, 8, None) for g in (8, 5, 8, 5)],
        "neg": [(7, 7, e, None) for e in (3, 4, 5, 9, 7, 8)],
        "part": _same(8, 8, 8, 8, POSITIVE[1:9]),
        "tiny": _same(3, 2, 2, 0, NEGATIVE[:3]),
        "duo": _same(1, 2, 2, 0, NEGATIVE[3:]),
        "sad": _same(5, 8, 8, 8, NEGATIVE[:3] + POSITIVE[:2]),
        "calm": _same(10, 8, 8, 8, NEGATIVE[1:4] + POSITIVE[2:9]),
    },
    "2026-02": {
        "ok": _same(10, 9, 9, 9),
        "low": _same(5, 5, 8, 8),
        "edge": [(6, 8, e, None) for e in (9, 10, 5, 6)],
        "drop": _same(6, 8, 7, 8),
        "rel": [(8, g, 8, None) for g in (7, 4, 7, 4)],
        "part": _same(5, 8, 8, 8),
    },
    "2026-03": {
        "ok": _same(10, 9, 9, 9),
        "low": _same(5, 5, 8, 8),
        "edge": [(6, 8, e, None) for e in (9, 10, 5, 6, 7)],
    },
}

# (type, survey, team, driver or theme) -> (value, significant?) of every alert the fixture must raise, worked
# out by hand from RESPONSES
EXPECTED = {
    ("LOW_SCORE", "2026-01", "low", "recognition"): (Decimal(5), None),
    ("LOW_SCORE", "2026-02", "low", "recognition"): (Decimal(5), None),
    ("LOW_SCORE", "2026-03", "low", "recognition"): (Decimal(5), None),
    ("RECURRING", "2026-03", "low", "recognition"): (Decimal(3), None),
    ("LOW_SCORE", "2026-02", "rel", "growth"): (Decimal("5.5"), None),
    ("BIG_DROP_ABS", "2026-02", "drop", "growth"): (Decimal("-1.5"), True),       # 8.5 -> 7.0
    ("BIG_DROP_REL", "2026-02", "drop", "growth"): (Decimal(-3) / 17, True),      # -1.5 / 8.5
    ("BIG_DROP_REL", "2026-02", "rel", "growth"): (Decimal(-2) / 13, False),      # -1.0 / 6.5
    ("ENPS_NEG", "2026-01", "neg", None): (Decimal(-100) / 3, None),             # 1 promoter, 3 detractors of 6
    ("LOW_PARTICIPATION", "2026-02", "part", None): (Decimal("0.5"), None),       # 5 of 10
    ("PARTICIPATION_DROP", "2026-02", "part", None): (Decimal("-0.375"), None),   # 0.8 -> 0.5
    ("NEG_SENT_SPIKE", "2026-01", "sad", "workload"): (Decimal("0.6"), None),     # 3 of 5 comments
}
HIGH = {"LOW_SCORE", "ENPS_NEG", "NEG_SENT_SPIKE", "RECURRING"}  # SPEC's default severities; the rest are medium

QUESTIONS = [
    {"question_id": "rec_1", "type": "likert", "driver_id": "recognition", "text": "I get recognition for good work."},
    {"question_id": "gro_1", "type": "likert", "driver_id": "growth", "text": "I have chances to grow here."},
    {"question_id": "enps", "type": "enps", "text": "How likely are you to recommend working here?"},
    {"question_id": "open_1", "type": "comment", "text": "What one thing would you change?"},
]


def employee_ids(team_id: str) -> list[str]:
    return [f"{team_id.upper()}-{i:02d}" for i in range(1, INVITED[team_id] + 1)]


def manager_of(team_id: str) -> str:
    return employee_ids(team_id)[0]


def address(employee_id: str) -> str:
    return f"{employee_id.lower()}@acme.example"


def expected_mail(survey_ids: set[str] | None = None) -> list[tuple[str, str]]:
    """(recipient, subject) of every alert email, sorted: each alert to its team's manager, a high-severity one
    to the admin too. ``survey_ids`` limits it to the alerts of those surveys."""
    mail = []
    for alert_type, survey_id, team, _ in EXPECTED:
        if survey_ids is not None and survey_id not in survey_ids:
            continue
        subject = f"[Novora] {'HIGH' if alert_type in HIGH else 'MEDIUM'} {alert_type}: Team {team}, {survey_id}"
        mail.append((address(manager_of(team)), subject))
        if alert_type in HIGH:
            mail.append((address(ADMIN), subject))
    return sorted(mail)


def mail_keys(mails) -> list[tuple[str, str]]:
    """(recipient, subject) of each received mail, sorted: a duplicate shows as a repeated pair."""
    return sorted((recipient, m.subject) for m in mails for recipient in m.recipients)


def invited(survey_id: str, team_id: str) -> int:
    """Everyone is invited to every survey the team takes part in."""
    return INVITED[team_id] if team_id in RESPONSES[survey_id] else 0


def write_alerts_landing(root: Path, responses: dict | None = None) -> Path:
    """Write the landing zone under ``root`` (``responses`` replaces RESPONSES, for re-deliveries)."""
    responses = responses or RESPONSES
    (root / "org").mkdir(parents=True, exist_ok=True)
    teams = ["team_id,team_name,parent_team_id,manager_employee_id"]
    teams += [f"{team},Team {team},,{manager_of(team)}" for team in INVITED]
    (root / "org" / "teams.csv").write_text("\n".join(teams) + "\n", encoding="utf-8")
    people = ["employee_id,email,full_name,team_id,dashboard_role,location,active"]
    for team in INVITED:
        for employee in employee_ids(team):
            role = "admin" if employee == ADMIN else ("manager" if employee == manager_of(team) else "")
            people.append(f"{employee},{employee.lower()}@acme.example,Person {employee},{team},{role},Remote,true")
    (root / "org" / "employees.csv").write_text("\n".join(people) + "\n", encoding="utf-8")
    for survey_id, opened_at in SURVEYS.items():
        folder = write_survey_folder(root, survey_id, opened_at, QUESTIONS)
        invitations = ["survey_id,employee_id,team_id,invited_at"]
        answers = ["response_id,survey_id,team_id,submitted_at,question_id,score,comment"]
        submitted = opened_at.replace("09:00", "10:00")
        for team, respondents in responses[survey_id].items():
            invitations += [f"{survey_id},{e},{team},{opened_at}" for e in employee_ids(team)]
            for number, (rec, gro, enps, comment) in enumerate(respondents, start=1):
                rid = f"{survey_id}-{team}-{number}"
                answers += [f"{rid},{survey_id},{team},{submitted},{q},{s}," for q, s in
                            (("rec_1", rec), ("gro_1", gro), ("enps", enps))]
                if comment:
                    answers.append(f'{rid},{survey_id},{team},{submitted},open_1,,"{comment}"')
        (folder / "invitations.csv").write_text("\n".join(invitations) + "\n", encoding="utf-8")
        (folder / "responses.csv").write_text("\n".join(answers) + "\n", encoding="utf-8")
    return root
