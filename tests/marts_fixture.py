"""A hand-checked landing zone for the marts: three surveys over a small hierarchy, in SPEC format.

    a3    top-level team; 3 respondents in 2026-01 (below min_n 4), 4 in 2026-03, not surveyed in 2026-02
    b5    top-level team; 5 respondents
    c10   top-level team; 10 respondents (+1 comment-only response) in 2026-01, 9 in 2026-02
    dept  top-level team with sub-teams d1 and d2; 4 direct respondents, d1 4, d2 6 (one skips growth)

Answers are listed per respondent as (rec_1, rec_2, gro_1, enps); rec_* measure recognition, gro_1 growth.
The expected numbers in tests/integration/test_marts.py were worked out by hand from these literals; the
comments below give the sums they come from.
"""

from __future__ import annotations

from pathlib import Path

from tests.landing_fixture import write_survey_folder

Answers = tuple[int | None, int | None, int | None, int | None]

TEAMS = {  # team_id: (name, parent, invited per survey)
    "a3": ("Team of three", "", {"2026-01": 4, "2026-03": 4}),
    "b5": ("Team of five", "", {"2026-01": 6, "2026-02": 6}),
    "c10": ("Team of ten", "", {"2026-01": 12, "2026-02": 12}),
    "dept": ("Department", "", {"2026-01": 4}),
    "d1": ("Department one", "dept", {"2026-01": 5}),
    "d2": ("Department two", "dept", {"2026-01": 6}),
}

SURVEYS = {  # survey_id: opened_at (2026-02 opens before 2026-03, after 2026-01)
    "2026-01": "2026-01-05T09:00:00Z",
    "2026-02": "2026-02-02T09:00:00Z",
    "2026-03": "2026-03-02T09:00:00Z",
}

RESPONSES: dict[str, dict[str, list[Answers]]] = {
    "2026-01": {
        "a3": [(5, 5, 5, 5), (6, 6, 6, 6), (7, 7, 7, 7)],
        "b5": [(8, 8, 8, 9), (9, 9, 9, 10), (7, 7, 7, 7), (6, 6, 6, 6), (10, 10, 10, 9)],
        # recognition: rec_1 sums to 75, rec_2 to 75 -> 150 / 20 = 7.5; answers >= 8: 5 + 5 -> 50 %
        # growth: 70 / 10 = 7.0; eNPS 9,10,6,7,9,8,3,9,10,0 -> 5 promoters, 2 passives, 3 detractors -> +20
        # engagement: (150 + 70) / 30 = 7.333...
        "c10": [(8, 7, 6, 9), (7, 8, 7, 10), (9, 9, 8, 6), (6, 7, 5, 7), (8, 8, 9, 9),
                (7, 6, 6, 8), (8, 7, 7, 3), (7, 8, 8, 9), (6, 7, 6, 10), (9, 8, 8, 0)],
        "dept": [(7, 7, 7, 8), (8, 8, 8, 8), (6, 6, 6, 6), (9, 9, 9, 9)],
        "d1": [(5, 6, 7, 7), (6, 7, 8, 8), (7, 8, 9, 9), (8, 9, 10, 10)],
        "d2": [(9, 9, None, 9), (8, 8, 8, 8), (7, 7, 7, 7), (6, 6, 6, 6), (5, 5, 5, 5), (10, 10, 10, 10)],
    },
    "2026-02": {
        "b5": [(6, 6, 6, 6), (7, 7, 7, 7), (8, 8, 8, 8), (5, 5, 5, 5), (9, 9, 9, 9)],
        # recognition: rec_1 55 + rec_2 53 = 108 / 18 = exactly 6.0 (from 7.5: -1.5 points, -20 %)
        # growth: 52 / 9; eNPS 9,6,7,8,9,10,2,9,6 -> 4 promoters, 2 passives, 3 detractors -> +11.1
        "c10": [(6, 6, 5, 9), (7, 5, 6, 6), (6, 6, 6, 7), (5, 7, 4, 8), (6, 6, 6, 9),
                (8, 4, 7, 10), (6, 6, 5, 2), (5, 7, 6, 9), (6, 6, 7, 6)],
    },
    "2026-03": {
        "a3": [(4, 4, 4, 4), (5, 5, 5, 5), (6, 6, 6, 6), (7, 7, 7, 7)],
    },
}

QUESTIONS = [
    {"question_id": "rec_1", "type": "likert", "driver_id": "recognition", "text": "I get recognition for good work."},
    {"question_id": "rec_2", "type": "likert", "driver_id": "recognition", "text": "My contributions are noticed."},
    {"question_id": "gro_1", "type": "likert", "driver_id": "growth", "text": "I have chances to grow here."},
    {"question_id": "enps", "type": "enps", "text": "How likely are you to recommend working here?"},
    {"question_id": "open_1", "type": "comment", "text": "What one thing would you change?"},
]
SCORED = ("rec_1", "rec_2", "gro_1", "enps")
DRIVER_OF = {"rec_1": "recognition", "rec_2": "recognition", "gro_1": "growth"}


def employee_ids(team_id: str) -> list[str]:
    invited = max(TEAMS[team_id][2].values())
    return [f"{team_id.upper()}-{i:02d}" for i in range(1, invited + 1)]


def _teams_csv() -> str:
    rows = ["team_id,team_name,parent_team_id,manager_employee_id"]
    rows += [f"{team},{name},{parent},{employee_ids(team)[0]}" for team, (name, parent, _) in TEAMS.items()]
    return "\n".join(rows) + "\n"


def _employees_csv() -> str:
    rows = ["employee_id,email,full_name,team_id,dashboard_role,location,active"]
    for team in TEAMS:
        for employee in employee_ids(team):
            rows.append(f"{employee},{employee.lower()}@acme.example,Person {employee},{team},,Remote,true")
    return "\n".join(rows) + "\n"


def _invitations_csv(survey_id: str) -> str:
    rows = ["survey_id,employee_id,team_id,invited_at"]
    for team, (_, _, invited) in TEAMS.items():
        for employee in employee_ids(team)[: invited.get(survey_id, 0)]:
            rows.append(f"{survey_id},{employee},{team},{SURVEYS[survey_id]}")
    return "\n".join(rows) + "\n"


def _responses_csv(survey_id: str) -> str:
    rows = ["response_id,survey_id,team_id,submitted_at,question_id,score,comment"]
    submitted = SURVEYS[survey_id].replace("09:00", "10:00")
    for team, respondents in RESPONSES[survey_id].items():
        for number, answers in enumerate(respondents, start=1):
            response_id = f"{survey_id}-{team}-{number}"
            for question_id, score in zip(SCORED, answers):
                if score is not None:
                    rows.append(f"{response_id},{survey_id},{team},{submitted},{question_id},{score},")
    if survey_id == "2026-01":
        # a response with only a comment: it counts as responded, but has no score to count in n_respondents
        rows.append(f"2026-01-c10-comment,2026-01,c10,{submitted},open_1,,More time for training please")
        # an out-of-range score is quarantined, so this response does not exist in the marts at all
        rows.append(f"2026-01-c10-bad,2026-01,c10,{submitted},rec_1,11,")
    return "\n".join(rows) + "\n"


def write_marts_landing(root: Path) -> Path:
    """Write the landing zone under ``root`` and return it."""
    (root / "org").mkdir(parents=True, exist_ok=True)
    (root / "org" / "teams.csv").write_text(_teams_csv(), encoding="utf-8")
    (root / "org" / "employees.csv").write_text(_employees_csv(), encoding="utf-8")
    for survey_id, opened_at in SURVEYS.items():
        folder = write_survey_folder(root, survey_id, opened_at, QUESTIONS)
        (folder / "invitations.csv").write_text(_invitations_csv(survey_id), encoding="utf-8")
        (folder / "responses.csv").write_text(_responses_csv(survey_id), encoding="utf-8")
    return root
