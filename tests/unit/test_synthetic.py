"""The synthetic data generator (``novora generate``, SPEC sections 3 and 8).

Everything is checked from the written files, recomputed independently with pandas and the csv module, the
way ingestion and the marts will see them: the landing-zone contract, referential integrity, the planted
scenarios (each alert type must fire, by a wide margin), a healthy rest of the org (no accidental alerts),
personal data and abuse in comments, and planted defects at the exact lines they are reported on.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from orchestration.synthetic import DEFECT_KINDS, GenerateOptions, GenerationReport, generate
from orchestration.synthetic import comments as bank
from orchestration.synthetic import vocabulary as vocab

HEADERS = {
    "org/teams.csv": "team_id,team_name,parent_team_id,manager_employee_id",
    "org/employees.csv": "employee_id,email,full_name,team_id,dashboard_role,location,active",
    "invitations.csv": "survey_id,employee_id,team_id,invited_at",
    "responses.csv": "response_id,survey_id,team_id,submitted_at,question_id,score,comment",
}
DRIVERS = {"recognition", "growth", "manager_relationship", "peer_relationships", "wellbeing", "autonomy",
           "alignment", "communication"}
ALERT_TYPES = {"LOW_SCORE", "BIG_DROP_ABS", "BIG_DROP_REL", "ENPS_NEG", "LOW_PARTICIPATION", "PARTICIPATION_DROP",
               "NEG_SENT_SPIKE", "RECURRING"}


# ------------------------------------------------------------------------------------------- reading helpers


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


class Landing:
    """The generated files, loaded once, with the numbers the marts will compute."""

    def __init__(self, root: Path, report: GenerationReport) -> None:
        self.root, self.report = root, report
        self.teams = read(root / "org" / "teams.csv")
        self.employees = read(root / "org" / "employees.csv")
        self.documents = {s: json.loads((root / "surveys" / s / "survey.json").read_text("utf-8"))
                          for s in report.surveys}
        self.invitations = pd.concat([read(root / "surveys" / s / "invitations.csv") for s in report.surveys])
        answers = pd.concat([read(root / "surveys" / s / "responses.csv") for s in report.surveys])
        questions = self.documents[report.surveys[0]]["questions"]
        types = {q["question_id"]: (q["type"], q.get("driver_id", "")) for q in questions}
        answers["type"] = answers["question_id"].map(lambda q: types[q][0])
        answers["driver_id"] = answers["question_id"].map(lambda q: types[q][1])
        self.answers = answers
        rated = answers[answers["type"] != "comment"].copy()
        rated["value"] = rated["score"].astype(int)
        self.likert = rated[rated["type"] == "likert"]
        self.enps_answers = rated[rated["type"] == "enps"]
        self.comments = answers[answers["type"] == "comment"]

    @property
    def latest(self) -> str:
        return self.report.surveys[-1]

    def driver_means(self) -> pd.DataFrame:
        """(team, driver) x survey."""
        return self.likert.groupby(["team_id", "driver_id", "survey_id"])["value"].mean().unstack("survey_id")

    def enps(self) -> pd.DataFrame:
        def score(values: pd.Series) -> float:
            return 100 * ((values >= 9).mean() - (values <= 6).mean())

        return self.enps_answers.groupby(["team_id", "survey_id"])["value"].apply(score).unstack("survey_id")

    def respondents(self) -> pd.DataFrame:
        return self.answers.groupby(["team_id", "survey_id"])["response_id"].nunique().unstack("survey_id")

    def participation(self) -> pd.DataFrame:
        invited = self.invitations.groupby(["team_id", "survey_id"])["employee_id"].nunique().unstack("survey_id")
        return (self.respondents() / invited).fillna(0)

    def subtree_of(self) -> dict[str, list[str]]:
        parent = dict(zip(self.teams["team_id"], self.teams["parent_team_id"]))
        members: dict[str, list[str]] = {t: [] for t in parent}
        for team in parent:
            node = team
            while node:
                members[node].append(team)
                node = parent[node]
        return members


NEGATIVE_CORES = sorted({
    max(re.split(r"\{\w+\}", fragment), key=len).strip(" .").lower()
    for theme in bank.FRAGMENTS.values() for fragment in theme["negative"]
} | {max(re.split(r"\{\w+\}", line), key=len).strip(" .").lower() for line in bank.ABUSIVE}, key=len)


def complains(text: str) -> bool:
    """Contains a negative sentence of the bank (negative and mixed comments do; typos may hide a few)."""
    lower = text.lower()
    return any(core in lower for core in NEGATIVE_CORES if len(core) >= 8)


def negative_share(comments: pd.DataFrame) -> pd.DataFrame:
    flagged = comments.assign(neg=comments["comment"].map(complains))
    return flagged.groupby(["team_id", "survey_id"])["neg"].agg(["mean", "size"])


# ------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    root = tmp_path_factory.mktemp("demo")
    return Landing(root, generate(root, GenerateOptions()))


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> GenerationReport:
    root = tmp_path_factory.mktemp("defects")
    return generate(root, GenerateOptions(teams=12, employees_per_team=20, surveys=3, bad_rows=23, seed=7))


def planted_teams(landing: Landing) -> set[str]:
    return {s.team_id for s in landing.report.scenarios}


def scenario(landing: Landing, alert_type: str, name: str | None = None):
    found = [s for s in landing.report.scenarios if s.alert_type == alert_type and (name is None or s.name == name)]
    assert found, f"no {alert_type} scenario planted"
    return found[0]


# ------------------------------------------------------------------------------------------- the contract


def test_files_have_exactly_the_spec_headers(demo: Landing) -> None:
    for name in ("org/teams.csv", "org/employees.csv"):
        assert (demo.root / name).read_text("utf-8").split("\n", 1)[0] == HEADERS[name]
    for survey in demo.report.surveys:
        for name in ("invitations.csv", "responses.csv"):
            first = (demo.root / "surveys" / survey / name).read_text("utf-8").split("\n", 1)[0]
            assert first == HEADERS[name]
    assert not list(demo.root.rglob("*.tmp")), "temporary files must not be left behind"


def test_survey_json_is_a_monthly_pulse_with_the_eight_drivers(demo: Landing) -> None:
    assert demo.report.surveys == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    for survey, doc in demo.documents.items():
        assert set(doc) == {"survey_id", "title", "opened_at", "closed_at", "questions"}
        assert doc["survey_id"] == survey and doc["title"].endswith("2026 pulse")
        opened = datetime.strptime(doc["opened_at"], "%Y-%m-%dT%H:%M:%SZ")
        closed = datetime.strptime(doc["closed_at"], "%Y-%m-%dT%H:%M:%SZ")
        assert opened.weekday() < 5 and opened.day <= 3 and opened.hour == 9
        assert (closed - opened).days in (10, 11) and closed.hour == 17
        types = [q["type"] for q in doc["questions"]]
        assert types.count("likert") == 24 and types.count("enps") == 1 and types.count("comment") == 1
        likert = [q for q in doc["questions"] if q["type"] == "likert"]
        assert {q["driver_id"] for q in likert} == DRIVERS
        assert all(q["text"].strip() for q in doc["questions"])
        assert len({q["question_id"] for q in doc["questions"]}) == 26
    assert demo.documents["2026-03"]["opened_at"] == "2026-03-02T09:00:00Z"
    assert demo.documents["2026-03"]["closed_at"] == "2026-03-13T17:00:00Z"


def test_same_options_give_byte_identical_files(tmp_path: Path) -> None:
    options = GenerateOptions(teams=10, employees_per_team=12, surveys=3, bad_rows=10, seed=3)

    def digests(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    first = generate(tmp_path / "a", options)
    second = generate(tmp_path / "b", options)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert first.bad_rows == second.bad_rows and first.scenarios == second.scenarios
    generate(tmp_path / "c", GenerateOptions(teams=10, employees_per_team=12, surveys=3, bad_rows=10, seed=4))
    assert digests(tmp_path / "c") != digests(tmp_path / "a")


def test_rerun_replaces_files_in_place(tmp_path: Path) -> None:
    options = GenerateOptions(teams=6, employees_per_team=8, surveys=2)
    generate(tmp_path, options)
    before = (tmp_path / "surveys" / "2026-02" / "responses.csv").read_bytes()
    generate(tmp_path, GenerateOptions(teams=6, employees_per_team=8, surveys=2, seed=99))
    generate(tmp_path, options)
    assert (tmp_path / "surveys" / "2026-02" / "responses.csv").read_bytes() == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_options_are_validated() -> None:
    for bad in ({"teams": 0}, {"surveys": -1}, {"participation": 0.0}, {"participation": 1.5},
                {"start_month": "2026-13"}, {"bad_rows": -1}, {"bad_rows": 2, "surveys": 0}):
        with pytest.raises(ValueError):
            GenerateOptions(**bad)


# ------------------------------------------------------------------------------------------- the org


def test_org_is_a_hierarchy_with_managers_who_are_employees(demo: Landing) -> None:
    teams, employees = demo.teams, demo.employees
    assert len(teams) == 20 and teams["team_id"].is_unique
    assert teams["team_id"].str.fullmatch(r"[a-z0-9-]+").all()
    roots = teams[teams["parent_team_id"] == ""]
    assert len(roots) == 1
    assert set(teams["parent_team_id"]) - {""} <= set(teams["team_id"])
    depth = {r: 0 for r in roots["team_id"]}
    parent = dict(zip(teams["team_id"], teams["parent_team_id"]))
    for team in teams["team_id"]:
        node, hops = team, 0
        while parent[node]:
            node, hops = parent[node], hops + 1
        depth[team] = hops
    assert max(depth.values()) >= 2, "departments with teams under them"

    by_id = employees.set_index("employee_id")
    for _, team in teams.iterrows():
        manager = by_id.loc[team["manager_employee_id"]]
        assert manager["team_id"] == team["team_id"] and manager["dashboard_role"] == "manager"
        assert manager["active"] == "true"
    assert set(employees["dashboard_role"]) == {"", "manager", "admin", "viewer"}
    assert 2 <= (employees["dashboard_role"] == "admin").sum() <= 6
    assert 2 <= (employees["dashboard_role"] == "viewer").sum() <= 6
    assert set(employees["team_id"]) <= set(teams["team_id"])


def test_roster_is_unique_realistic_and_exactly_sized(demo: Landing) -> None:
    employees = demo.employees
    assert len(employees) == 20 * 30 == demo.report.employees
    assert employees["employee_id"].is_unique and employees["email"].is_unique and employees["full_name"].is_unique
    assert employees["email"].str.fullmatch(r"[a-z0-9.]+@[a-z0-9.-]+\.[a-z]+").all()
    assert employees["active"].isin(["true", "false"]).all()
    assert 0.005 <= (employees["active"] == "false").mean() <= 0.05
    assert employees["location"].nunique() >= 10
    assert len(vocab.FIRST_NAMES) >= 150 and len(vocab.LAST_NAMES) >= 150
    assert len(set(vocab.FIRST_NAMES)) == len(vocab.FIRST_NAMES)


def test_team_sizes_vary_and_total_is_exact_without_scenarios(tmp_path: Path) -> None:
    report = generate(tmp_path, GenerateOptions(teams=15, employees_per_team=40, surveys=1, plant_scenarios=False))
    sizes = read(tmp_path / "org" / "employees.csv").groupby("team_id").size()
    assert sizes.sum() == 600 and len(sizes) == 15 and report.scenarios == []
    assert sizes.min() >= 30 and sizes.max() <= 50 and sizes.nunique() > 3


def test_invitations_snapshot_the_team_at_launch(demo: Landing) -> None:
    inv = demo.invitations
    assert set(inv["employee_id"]) <= set(demo.employees["employee_id"])
    assert set(inv["team_id"]) <= set(demo.teams["team_id"])
    assert not inv.duplicated(["survey_id", "employee_id"]).any()
    latest = inv[inv["survey_id"] == demo.latest]
    active = demo.employees[demo.employees["active"] == "true"]
    assert set(active["employee_id"]) <= set(latest["employee_id"]), "every active employee is invited"
    left_since = set(latest["employee_id"]) - set(active["employee_id"])
    assert len(left_since) < 0.02 * len(latest), "only people who left after the latest survey are inactive now"
    for survey, doc in demo.documents.items():
        assert (inv.loc[inv["survey_id"] == survey, "invited_at"] == doc["opened_at"]).all()
    current = demo.employees.set_index("employee_id")["team_id"]
    first = inv[inv["survey_id"] == demo.report.surveys[0]]
    moved = (first["team_id"] != first["employee_id"].map(current)).sum()
    assert moved >= 3, "some people changed team since the first survey"
    left = demo.employees.loc[demo.employees["active"] == "false", "employee_id"]
    assert first["employee_id"].isin(left).any(), "leavers were invited while they were here"


# ------------------------------------------------------------------------------------------- responses


def test_responses_are_complete_anonymous_and_in_range(demo: Landing) -> None:
    answers, likert, enps = demo.answers, demo.likert, demo.enps_answers
    assert set(answers["team_id"]) <= set(demo.teams["team_id"])
    assert likert["value"].between(1, 10).all() and enps["value"].between(0, 10).all()
    assert set(likert["value"]) == set(range(1, 11))
    assert (demo.comments["score"] == "").all() and (demo.comments["comment"].str.strip() != "").all()
    assert (answers.loc[answers["type"] != "comment", "comment"] == "").all()
    assert not answers.duplicated(["response_id", "question_id"]).any()
    ids = answers.groupby("response_id")["survey_id"].nunique()
    assert (ids == 1).all(), "response ids are unique across surveys"
    assert answers["response_id"].str.fullmatch(r"[0-9a-f]{12}").all()
    per_response = answers.groupby("response_id").agg(rated=("score", lambda s: (s != "").sum()),
                                                      teams=("team_id", "nunique"))
    assert (per_response["rated"] == 25).all() and (per_response["teams"] == 1).all()
    assert len(per_response) == demo.report.responses and len(answers) == demo.report.answer_rows
    for survey, doc in demo.documents.items():
        submitted = answers.loc[answers["survey_id"] == survey, "submitted_at"]
        assert submitted.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
        assert submitted.min() > doc["opened_at"] and submitted.max() < doc["closed_at"]
    respondents = demo.respondents()
    invited = demo.invitations.groupby(["team_id", "survey_id"]).size().unstack("survey_id")
    assert (respondents <= invited.loc[respondents.index]).all().all()


def test_about_forty_percent_comment_and_comments_vary(demo: Landing) -> None:
    share = len(demo.comments) / demo.report.responses
    assert 0.35 <= share <= 0.48
    assert len(demo.comments) == demo.report.comments
    texts = demo.comments["comment"]
    assert texts.nunique() >= 0.75 * len(texts)
    assert texts.str.contains(",").any() and texts.str.contains("\n").any() and texts.str.contains('"').any()
    lengths = texts.str.len()
    assert lengths.min() < 30 and lengths.max() > 200
    assert bank.fragment_count() >= 300


def test_scores_are_driver_correlated_and_enps_follows_them(demo: Landing) -> None:
    per_response = demo.likert.groupby("response_id")["value"].mean()
    enps = demo.enps_answers.set_index("response_id")["value"]
    assert per_response.corr(enps.loc[per_response.index]) > 0.3
    wide = demo.likert.pivot_table(index="response_id", columns="driver_id", values="value")
    assert wide.corr().min().min() > 0.15, "drivers of one respondent move together"


# ------------------------------------------------------------------------------------------- scenarios


def test_every_alert_type_is_planted_on_distinct_non_tiny_teams(demo: Landing) -> None:
    kinds = {s.alert_type for s in demo.report.scenarios}
    assert kinds - {None} == ALERT_TYPES
    tiny = scenario(demo, None).team_id
    stories = {s.name: s.team_id for s in demo.report.scenarios if s.alert_type}
    assert tiny not in stories.values()
    assert len(set(stories.values())) == len(stories) == 7
    parents = dict(zip(demo.teams["team_id"], demo.teams["parent_team_id"]))
    assert len({parents[t] for t in stories.values()}) >= 5, "spread over the hierarchy"


def test_low_score_and_recurring(demo: Landing) -> None:
    means = demo.driver_means()
    low = scenario(demo, "LOW_SCORE", "low_wellbeing")
    assert (means.loc[(low.team_id, "wellbeing")] < 5.5).all()
    recurring = scenario(demo, "RECURRING", "low_wellbeing")
    assert recurring.team_id == low.team_id and len(recurring.survey_ids) >= 3


def test_big_drops(demo: Landing) -> None:
    means = demo.driver_means()
    previous = demo.report.surveys[-2]
    both = scenario(demo, "BIG_DROP_ABS")
    row = means.loc[(both.team_id, "recognition")]
    assert row[previous] - row[demo.latest] > 1.4
    assert (row[previous] - row[demo.latest]) / row[previous] > 0.18
    assert row[demo.latest] > 6.3, "a drop, not a low score"
    rel = scenario(demo, "BIG_DROP_REL", "growth_slide")
    row = means.loc[(rel.team_id, "growth")]
    drop = row[previous] - row[demo.latest]
    assert 0.7 < drop < 0.9 and drop / row[previous] > 0.165
    others = means.loc[rel.team_id].drop(index="growth")
    assert (others[demo.latest] >= others[previous] - 0.05).all(), "only growth moves"


def test_negative_enps_participation_and_comment_spike(demo: Landing) -> None:
    enps = demo.enps()
    assert enps.loc[scenario(demo, "ENPS_NEG").team_id, demo.latest] < -20
    rate = demo.participation()
    previous = demo.report.surveys[-2]
    low = scenario(demo, "LOW_PARTICIPATION").team_id
    assert rate.loc[low, demo.latest] < 0.5
    dip = scenario(demo, "PARTICIPATION_DROP", "participation_dip").team_id
    assert rate.loc[dip, previous] > 0.9 and 0.62 < rate.loc[dip, demo.latest] < 0.72
    assert 1 - rate.loc[dip, demo.latest] / rate.loc[dip, previous] > 0.25
    spike = scenario(demo, "NEG_SENT_SPIKE")
    share = negative_share(demo.comments)
    assert share.loc[(spike.team_id, demo.latest), "size"] >= 12
    assert share.loc[(spike.team_id, demo.latest), "mean"] > 0.45  # about 0.55 negative + 0.1 mixed, less typos


def test_tiny_team_has_three_people_who_respond(demo: Landing) -> None:
    tiny = scenario(demo, None).team_id
    assert (demo.employees["team_id"] == tiny).sum() == 3
    assert (demo.respondents().loc[tiny] == 3).all()


def test_the_rest_of_the_org_is_healthy(demo: Landing) -> None:
    planted = planted_teams(demo)
    means = demo.driver_means()
    healthy = means[~means.index.get_level_values("team_id").isin(planted)]
    assert healthy.min().min() >= 6.5
    assert (healthy.diff(axis=1).min().min()) > -0.6
    planted_cells = means[means.index.get_level_values("team_id").isin(planted)]
    assert (planted_cells < 6.0).any(axis=1).sum() == 2, "only the wellbeing and growth stories are low"
    enps = demo.enps()
    respondents = demo.respondents()
    visible = enps.where(respondents.loc[enps.index] >= 4)
    assert (visible.drop(index=list(planted)).min().min()) > 0
    rate = demo.participation().drop(index=list(planted))
    assert rate.min().min() >= 0.65
    assert (rate.pct_change(axis=1).min().min()) > -0.15
    share = negative_share(demo.comments)
    calm = share[~share.index.get_level_values("team_id").isin([scenario(demo, "NEG_SENT_SPIKE").team_id])]
    assert calm.loc[calm["size"] >= 4, "mean"].max() <= 0.3


def test_department_roll_ups_stay_clear_of_thresholds(demo: Landing) -> None:
    """Rolled up over a subtree, a planted problem is diluted by healthy teams: no second alert there."""
    subtree = demo.subtree_of()
    for parent, members in subtree.items():
        if len(members) < 2:
            continue
        likert = demo.likert[demo.likert["team_id"].isin(members)]
        means = likert.groupby(["driver_id", "survey_id"])["value"].mean().unstack("survey_id")
        assert means.min().min() > 6.3, parent
        assert means.diff(axis=1).min().min() > -0.8, parent
        enps = demo.enps_answers[demo.enps_answers["team_id"].isin(members)]
        promoters = enps.groupby("survey_id")["value"].apply(lambda v: (v >= 9).mean() - (v <= 6).mean())
        assert promoters.min() > 0, parent
        comments = demo.comments[demo.comments["team_id"].isin(members)]
        assert comments.groupby("survey_id")["comment"].apply(lambda c: c.map(complains).mean()).max() < 0.3, parent


def test_comments_carry_personal_data_and_abuse(demo: Landing) -> None:
    texts = demo.comments["comment"]
    roster = set(demo.employees["full_name"])
    emails = texts.str.contains(r"[\w.]+@[\w-]+\.[a-z]{2,}")
    phones = texts.str.contains(r"\+\d{1,3}[ (]|\(\d{3}\) \d{3}-\d{4}|\b0\d{4} \d{6}\b|\b555\.\d{3}\.\d{4}\b")
    ssns = texts.str.contains(r"\b\d{3}-\d{2}-\d{4}\b")
    cards = texts.map(lambda t: any(bank.luhn_valid(m) for m in re.findall(r"\b\d[\d -]{12,20}\d\b", t)))
    names = texts.map(lambda t: any(name in t for name in roster))
    pii = emails | phones | ssns | cards | names
    assert emails.any() and phones.any() and ssns.any() and cards.any() and names.any()
    assert 0.015 <= pii.mean() <= 0.06
    rants = [max(re.split(r"\{\w+\}", line), key=len).strip(" .").lower() for line in bank.ABUSIVE]
    abusive = texts.map(lambda t: any(rant in t.lower() for rant in rants))
    assert abusive.sum() >= 5 and 0.004 <= abusive.mean() <= 0.02
    assert texts.str.contains(r"fuck|shit|asshole", case=False).any(), "profanity"
    threats = r"get hurt|smash|regret it|pays for|where \w+(?: \w+)? parks"
    assert texts.str.contains(threats, case=False).any(), "threats"


def test_fewer_surveys_plant_what_is_possible(tmp_path: Path) -> None:
    one = generate(tmp_path / "one", GenerateOptions(surveys=1))
    kinds = {s.alert_type for s in one.scenarios}
    assert kinds == {"LOW_SCORE", "ENPS_NEG", "LOW_PARTICIPATION", "NEG_SENT_SPIKE", None}
    full = generate(tmp_path / "full", GenerateOptions(teams=8, employees_per_team=10, surveys=2, participation=1.0))
    assert "LOW_PARTICIPATION" not in {s.alert_type for s in full.scenarios}
    assert full.responses == sum(
        len(read(tmp_path / "full" / "surveys" / s / "invitations.csv")) for s in full.surveys)


# ------------------------------------------------------------------------------------------- planted defects


def records_by_line(path: Path) -> dict[int, dict[str, str]]:
    """Each record keyed by the physical line it starts on (header = line 1)."""
    records: dict[int, dict[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        end = reader.line_num
        for row in reader:
            records[end + 1] = dict(zip(header, row))
            end = reader.line_num
    return records


def test_defects_cycle_through_every_kind(defective: GenerationReport) -> None:
    kinds = [d.kind for d in defective.bad_rows]
    assert len(kinds) == 23 and set(kinds) == set(DEFECT_KINDS)
    assert {d.file.split("/")[1] for d in defective.bad_rows} == set(defective.surveys)
    assert len({(d.file, d.line) for d in defective.bad_rows}) == 23


def test_defect_line_numbers_point_at_the_bad_record(defective: GenerationReport) -> None:
    root = defective.landing
    teams = set(read(root / "org" / "teams.csv")["team_id"])
    employees = set(read(root / "org" / "employees.csv")["employee_id"])
    questions = {q["question_id"]: q["type"] for q in json.loads(
        (root / "surveys" / defective.surveys[0] / "survey.json").read_text("utf-8"))["questions"]}
    checks = {
        "score_out_of_range": lambda r: (questions[r["question_id"]] == "likert" and r["score"] == "11")
        or (questions[r["question_id"]] == "enps" and r["score"] == "-1"),
        "unknown_question_id": lambda r: r["question_id"] not in questions,
        "unknown_team_id": lambda r: r["team_id"] not in teams,
        "unparseable_score": lambda r: r["score"] == "seven",
        "missing_response_id": lambda r: r["response_id"] == "",
        "comment_too_long": lambda r: len(r["comment"]) > 5000,
        "unparseable_submitted_at": lambda r: not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["submitted_at"]),
        "unknown_employee": lambda r: r["employee_id"] not in employees,
    }
    files: dict[str, dict[int, dict[str, str]]] = {}
    for defect in defective.bad_rows:
        records = files.setdefault(defect.file, records_by_line(root / defect.file))
        assert defect.line in records, defect
        record = records[defect.line]
        survey = defect.file.split("/")[1]
        if defect.kind == "survey_id_mismatch":
            assert record["survey_id"] != survey
        elif defect.kind == "duplicate_answer":
            earlier = [r for line, r in records.items() if line < defect.line
                       and (r["response_id"], r["question_id"]) == (record["response_id"], record["question_id"])]
            assert earlier, defect
        else:
            assert checks[defect.kind](record), (defect, record)
    # and nothing else is broken: every other record is clean
    for name, records in files.items():
        bad_lines = {d.line for d in defective.bad_rows if d.file == name}
        for line, record in records.items():
            if line in bad_lines or "invitations" in name:
                continue
            assert record["question_id"] in questions and record["team_id"] in teams
            assert record["survey_id"] == name.split("/")[1] and record["response_id"]


def test_defect_rows_are_counted_in_the_report(defective: GenerationReport) -> None:
    root = defective.landing
    answers = sum(len(read(root / "surveys" / s / "responses.csv")) for s in defective.surveys)
    invitations = sum(len(read(root / "surveys" / s / "invitations.csv")) for s in defective.surveys)
    assert defective.answer_rows == answers and defective.invitations == invitations
