"""A small, hand-checked landing zone in SPEC format, with one bad row of every kind the contract rejects.

Every expected number in the tests that use it was counted by hand from the literals below.
"""

from __future__ import annotations

import json
from pathlib import Path

TEAMS = """team_id,team_name,parent_team_id,manager_employee_id
org,Acme Inc,,E001
eng,Engineering,org,E002
ops,Operations,org,E003
ghost,Ghost team,org,E999
"""
# ghost (line 5): unknown manager E999 -> rejected. Loaded: org, eng, ops.

EMPLOYEES = """employee_id,email,full_name,team_id,dashboard_role,location,active
E001,ada.lovelace@acme.example,Ada Lovelace,org,admin,London,true
E002,grace.hopper@acme.example,Grace Hopper,eng,manager,New York,true
E003,alan.turing@acme.example,Alan Turing,ops,manager,Manchester,true
E004,katherine.johnson@acme.example,Katherine Johnson,eng,,Hampton,true
E005,edsger.dijkstra@acme.example,Edsger Dijkstra,eng,,Eindhoven,true
E006,barbara.liskov@acme.example,Barbara Liskov,eng,viewer,Boston,TRUE
E007,donald.knuth@acme.example,Donald Knuth,ops,,Stanford,true
E008,frances.allen@acme.example,Frances Allen,ops,,Peru NY,false
E005,dup@acme.example,Duplicate Person,eng,,Nowhere,true
E009,john.backus@acme.example,John Backus,xyz,,Ithaca,true
E010,not-an-email,Radia Perlman,ops,boss,Seattle,maybe
"""
# Loaded: E001-E008 (8). Rejected: line 10 duplicate E005; line 11 unknown team xyz;
# line 12 unparseable email + unknown role + unparseable active (three reasons).

SURVEY_1 = {
    "survey_id": "2026-01",
    "title": "January pulse",
    "opened_at": "2026-01-05T09:00:00Z",
    "closed_at": "2026-01-16T17:00:00Z",
    "questions": [
        {"question_id": "rec_1", "type": "likert", "driver_id": "recognition",
         "text": "I get recognition for good work."},
        {"question_id": "gro_1", "type": "likert", "driver_id": "growth", "text": "I have chances to grow here."},
        {"question_id": "enps", "type": "enps", "text": "How likely are you to recommend working here?"},
        {"question_id": "open_1", "type": "comment", "text": "What one thing would you change?"},
        {"question_id": "hap_1", "type": "likert", "driver_id": "happiness", "text": "I am happy."},
    ],
}
# Loaded: 4 questions. Rejected: position 5, unknown driver_id happiness.

INVITATIONS_1 = """survey_id,employee_id,team_id,invited_at
2026-01,E001,org,2026-01-05T09:00:00Z
2026-01,E002,eng,2026-01-05T09:00:00Z
2026-01,E003,ops,2026-01-05T09:00:00Z
2026-01,E004,eng,2026-01-05T09:00:00Z
2026-01,E005,eng,2026-01-05T09:00:00Z
2026-01,E006,eng,2026-01-05T09:00:00Z
2026-01,E007,ops,2026-01-05T09:00:00Z
2026-01,E999,ops,2026-01-05T09:00:00Z
2026-01,E003,ops,2026-01-05T09:00:00Z
2026-02,E008,ops,2026-01-05T09:00:00Z
"""
# Loaded: 7 (lines 2-8). Rejected: line 9 unknown employee; line 10 duplicate E003; line 11 wrong survey.

LONG_COMMENT = "x" * 5001

RESPONSES_1 = f"""response_id,survey_id,team_id,submitted_at,question_id,score,comment
r1,2026-01,eng,2026-01-06T10:00:00Z,rec_1,8,
r1,2026-01,eng,2026-01-06T10:00:00Z,gro_1,6,
r1,2026-01,eng,2026-01-06T10:00:00Z,enps,9,
r1,2026-01,eng,2026-01-06T10:00:00Z,open_1,,"More pairing, please.
And fewer meetings."
r2,2026-01,eng,2026-01-06T11:00:00+01:00,rec_1,10,
r2,2026-01,eng,2026-01-06T11:00:00+01:00,gro_1,7,
r2,2026-01,eng,2026-01-06T11:00:00+01:00,enps,6,
r3,2026-01,ops,2026-01-07T08:30:00Z,rec_1,1,
r3,2026-01,ops,2026-01-07T08:30:00Z,gro_1,10,
r3,2026-01,ops,2026-01-07T08:30:00Z,enps,0,
r3,2026-01,ops,2026-01-07T08:30:00Z,open_1,,Nothing to add
r4,2026-01,ops,2026-01-07T09:00:00Z,rec_1,11,
r4,2026-01,ops,2026-01-07T09:00:00Z,zzz_9,5,
r4,2026-01,nowhere,2026-01-07T09:00:00Z,gro_1,5,
r1,2026-01,eng,2026-01-06T10:00:00Z,rec_1,7,
r5,2026-01,ops,2026-01-07T09:00:00Z,rec_1,seven,
,2026-01,ops,2026-01-07T09:00:00Z,gro_1,4,
r5,2026-01,ops,2026-01-07T09:00:00Z,open_1,,{LONG_COMMENT}
r5,2026-02,ops,2026-01-07T09:00:00Z,enps,7,
r6,2026-01,ops,yesterday,rec_1,7,
r6,2026-01,ops,2026-01-07T09:00:00Z,enps,-1,
r6,2026-01,ops,2026-01-07T09:00:00Z,gro_1,,
r6,2026-01,ops,2026-01-07T09:00:00Z,gro_1
r7,2026-01,eng,2026-01-07T09:00:00Z,open_1,5,Great team
"""
# Physical lines: header 1; r1 rec 2, gro 3, enps 4, open_1 5-6 (two lines); r2 7-9; r3 10-13.
# Loaded: 11 rows (r1 x4, r2 x3, r3 x4).
# Rejected (13), by start line:
#   14 score 11 out of range          15 unknown question zzz_9        16 unknown team nowhere
#   17 duplicate (r1, rec_1)          18 unparseable score "seven"     19 missing response_id
#   20 comment longer than 5,000      21 wrong survey_id 2026-02       22 unparseable submitted_at
#   23 enps -1 out of range           24 missing score (gro_1 blank)   25 record has 5 fields
#   26 score given for a comment question
EXPECTED_RESPONSE_REJECTIONS = {
    14: "score out of range (likert 1-10, enps 0-10)",
    15: "unknown question_id (not in survey.json)",
    16: "unknown team_id (not in teams.csv)",
    17: "duplicate response_id, question_id (an earlier row has the same)",
    18: "unparseable score (expected a whole number)",
    19: "missing response_id",
    20: "comment longer than 5,000 characters",
    21: "survey_id does not match the survey folder (2026-01)",
    22: "unparseable submitted_at (expected an ISO-8601 timestamp)",
    23: "score out of range (likert 1-10, enps 0-10)",
    24: "missing score for a rating question",
    25: "record has 5 fields, the header has 7",
    26: "score given for a comment question",
}


def write_survey_folder(root: Path, survey_id: str, opened_at: str, questions: list[dict]) -> Path:
    """``surveys/<survey_id>/survey.json`` of a one-day pulse opened at ``opened_at`` (09:00, closing 17:00);
    returns the survey's folder."""
    folder = root / "surveys" / survey_id
    folder.mkdir(parents=True, exist_ok=True)
    definition = {"survey_id": survey_id, "title": f"Pulse {survey_id}", "opened_at": opened_at,
                  "closed_at": opened_at.replace("T09", "T17"), "questions": questions}
    (folder / "survey.json").write_text(json.dumps(definition, indent=2), encoding="utf-8")
    return folder


def write_landing(root: Path) -> Path:
    """Write the fixture landing zone under ``root`` and return it."""
    (root / "org").mkdir(parents=True, exist_ok=True)
    (root / "org" / "teams.csv").write_text(TEAMS, encoding="utf-8")
    (root / "org" / "employees.csv").write_text(EMPLOYEES, encoding="utf-8")
    survey = root / "surveys" / "2026-01"
    survey.mkdir(parents=True, exist_ok=True)
    (survey / "survey.json").write_text(json.dumps(SURVEY_1, indent=2), encoding="utf-8")
    (survey / "invitations.csv").write_text(INVITATIONS_1, encoding="utf-8")
    (survey / "responses.csv").write_text(RESPONSES_1, encoding="utf-8")
    return root
