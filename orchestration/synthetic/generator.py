"""``novora generate``: a synthetic organisation and its pulse surveys, written into the landing zone.

The org is a hierarchy (an executive team, departments, teams and nested teams) with managers, HR admins,
executive viewers, leavers and a few people who change team between surveys. Each survey invites every active
employee with their team at launch; respondents answer 24 likert questions (three per driver), the eNPS
question and, for about 40 % of them, a free-text comment.

Scores are driver-correlated: each team has a target mean per driver and survey (the :class:`~.scenarios.Plan`),
each employee a persistent engagement level and per-driver bias. After sampling, every team's driver mean is
calibrated to its target (a few answers nudged by one point), eNPS categories are dealt by quota, and comment
sentiment by quota too, so the planted scenarios fire for any seed while the healthy rest stays clear of every
threshold. Everything is drawn from seeded generators: the same options give byte-identical files.

Files are written to a temporary name in the same folder and moved into place with ``os.replace``, so a
watcher never sees half a file; within a survey folder ``survey.json`` is written last.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from orchestration.synthetic import comments as bank
from orchestration.synthetic import scenarios as sc
from orchestration.synthetic.scenarios import Plan, Scenario, Story
from orchestration.synthetic.vocabulary import (
    DEPARTMENTS,
    DRIVERS,
    EMAIL_DOMAIN,
    FIRST_NAMES,
    LAST_NAMES,
    LOCATIONS,
    MIDDLE_INITIALS,
    PEOPLE_DEPARTMENT,
    PERSONAL_EMAIL_DOMAINS,
    ROOT_TEAM,
    Question,
    TeamName,
    ascii_slug,
    survey_questions,
)

TEAMS_COLUMNS = ("team_id", "team_name", "parent_team_id", "manager_employee_id")
EMPLOYEES_COLUMNS = ("employee_id", "email", "full_name", "team_id", "dashboard_role", "location", "active")
INVITATIONS_COLUMNS = ("survey_id", "employee_id", "team_id", "invited_at")
RESPONSES_COLUMNS = ("response_id", "survey_id", "team_id", "submitted_at", "question_id", "score", "comment")

DEFECT_KINDS: tuple[str, ...] = (
    "score_out_of_range", "unknown_question_id", "unknown_team_id", "duplicate_answer", "unparseable_score",
    "missing_response_id", "comment_too_long", "survey_id_mismatch", "unparseable_submitted_at", "unknown_employee",
)

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")

# Realism knobs (shares are of eligible people, per survey where it applies).
LEAVER_SHARE = 0.02          # employees who left at some point (inactive now)
MOVER_SHARE = 0.012          # employees who change team between two surveys
LOCAL_SHARE = 0.75           # members who sit in their team's main location
PII_SHARE = 0.03             # comments carrying personal data
ABUSE_SHARE = 0.01           # comments with profanity, insults or threats
PII_CYCLE = ("name", "email", "phone", "ssn", "card", "name", "phone", "email")  # every kind in every survey
DRIVER_OFFSETS = np.array([0.1, -0.35, 0.2, 0.35, -0.15, 0.15, 0.0, -0.25])  # company-wide driver profile
HEALTHY_MIN, HEALTHY_MAX = 6.8, 8.5   # band of every healthy team-driver target (LOW_SCORE fires below 6.0)
CLOSE_AFTER_DAYS = 11


# ------------------------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class GenerateOptions:
    """What to generate. ``participation`` None gives realistic per-team rates (about 72-95 %, with planted
    exceptions); a number makes every team respond at that rate (1.0 for the benchmark)."""

    teams: int = 20
    employees_per_team: int = 30
    surveys: int = 6
    seed: int = 42
    start_month: str = "2026-01"
    participation: float | None = None
    bad_rows: int = 0
    plant_scenarios: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.teams < 1:
            problems.append("teams must be at least 1")
        if self.employees_per_team < 1:
            problems.append("employees_per_team must be at least 1")
        if self.surveys < 0:
            problems.append("surveys must not be negative")
        if self.seed < 0:
            problems.append("seed must not be negative")
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", self.start_month):
            problems.append(f"start_month must look like 2026-01, not {self.start_month!r}")
        if self.participation is not None and not 0 < self.participation <= 1:
            problems.append("participation must be in (0, 1]")
        if self.bad_rows < 0:
            problems.append("bad_rows must not be negative")
        if self.bad_rows and self.surveys < 1:
            problems.append("bad_rows needs at least one survey to plant them in")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class PlantedDefect:
    """A deliberately invalid record: ``file`` relative to the landing zone (POSIX separators), the physical
    line its record starts on (header = line 1), and the kind of defect (one of :data:`DEFECT_KINDS`)."""

    file: str
    line: int
    kind: str


@dataclass(frozen=True)
class GenerationReport:
    """What was written. ``invitations`` and ``answer_rows`` count the data rows in the files (planted defects
    included); ``responses`` counts distinct responses and ``comments`` comment answers (defects excluded)."""

    landing: Path
    teams: int
    employees: int
    surveys: list[str]
    invitations: int
    responses: int
    answer_rows: int
    comments: int
    scenarios: list[Scenario]
    bad_rows: list[PlantedDefect]
    seconds: float


# ------------------------------------------------------------------------------------------- small helpers


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent, reproducible random stream for one purpose (so adding draws elsewhere changes nothing)."""
    return np.random.default_rng([seed, *key])


def py_random(seed: int, *key: int) -> random.Random:
    return random.Random(int(stream(seed, *key).integers(0, 2**63)))


def group_rank(groups: np.ndarray, priority: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by (group, priority) and return (order, rank of each sorted element within its group)."""
    order = np.lexsort((priority, groups))
    sorted_groups = groups[order]
    if len(order) == 0:
        return order, order
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    lengths = np.diff(np.r_[starts, len(order)])
    return order, np.arange(len(order)) - np.repeat(starts, lengths)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------- survey calendar


@dataclass(frozen=True)
class SurveyWindow:
    """A monthly pulse: opens on the month's first weekday at 09:00 UTC, closes 11 days later at 17:00 UTC."""

    survey_id: str
    title: str
    opened_at: datetime
    closed_at: datetime


def first_weekday(year: int, month: int) -> date:
    day = date(year, month, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def survey_calendar(start_month: str, count: int) -> list[SurveyWindow]:
    """One survey per month from ``start_month`` (``YYYY-MM``)."""
    year, month = (int(part) for part in start_month.split("-"))
    windows = []
    for i in range(count):
        y, m = year + (month - 1 + i) // 12, (month - 1 + i) % 12 + 1
        opened = datetime.combine(first_weekday(y, m), clock(9), tzinfo=UTC)
        closed = datetime.combine(opened.date() + timedelta(days=CLOSE_AFTER_DAYS), clock(17), tzinfo=UTC)
        windows.append(SurveyWindow(f"{y:04d}-{m:02d}", f"{MONTHS[m - 1]} {y} pulse", opened, closed))
    return windows


def survey_document(window: SurveyWindow, questions: tuple[Question, ...]) -> dict:
    """The survey.json of SPEC section 3."""
    return {
        "survey_id": window.survey_id,
        "title": window.title,
        "opened_at": iso_z(window.opened_at),
        "closed_at": iso_z(window.closed_at),
        "questions": [
            {"question_id": q.question_id, "type": q.type, **({"driver_id": q.driver_id} if q.driver_id else {}),
             "text": q.text}
            for q in questions
        ],
    }


# ------------------------------------------------------------------------------------------- the team tree


@dataclass(frozen=True)
class Team:
    """A team of the org; ``parent`` and ``department`` are indexes (root: parent None, department -1)."""

    team_id: str
    name: str
    parent: int | None
    department: int
    depth: int


def department_count(n_teams: int) -> int:
    """Departments for an org of ``n_teams`` teams: one per four teams or so (5 for the 20-team demo), at most
    ten. Departments of four teams or more leave room for two planted stories and two healthy teams each."""
    if n_teams < 2:
        return 0
    return int(min(len(DEPARTMENTS), n_teams - 1, max(1, round((n_teams - 1) / 4))))


def build_teams(n_teams: int) -> list[Team]:
    """The hierarchy: the executive team, departments under it, teams (and nested teams) in departments.

    Teams are dealt to departments round-robin, each department using its own list of team names in order;
    beyond the list, numbered squads are added. Ids are readable slugs such as ``eng-platform``.
    """
    n_departments = department_count(n_teams)
    picked: list[list[TeamName]] = [[] for _ in range(n_departments)]
    for j in range(n_teams - 1 - n_departments):
        d = j % n_departments
        names = DEPARTMENTS[d].teams
        k = len(picked[d])
        extra = k - len(names) + 1
        picked[d].append(names[k] if k < len(names) else TeamName(f"squad-{extra}", f"Squad {extra}"))
    teams = [Team(ROOT_TEAM.slug, ROOT_TEAM.name, None, -1, 0)]
    for d in range(n_departments):
        department = DEPARTMENTS[d]
        dept_index = len(teams)
        teams.append(Team(department.slug, department.name, 0, d, 1))
        index_of = {}
        for name in picked[d]:
            parent = index_of.get(name.parent, dept_index)
            index_of[name.slug] = len(teams)
            teams.append(Team(f"{department.slug}-{name.slug}", name.name, parent, d, teams[parent].depth + 1))
    return teams


def children_of(teams: list[Team]) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {i: [] for i in range(len(teams))}
    for i, team in enumerate(teams):
        if team.parent is not None:
            children[team.parent].append(i)
    return children


MIN_NEIGHBOURS = 2  # healthy teams that must stay in a story team's department to balance its roll-up


def story_teams(teams: list[Team], count: int) -> list[int]:
    """Teams for the planted stories: leaves, dealt round-robin over departments (biggest first), preferring
    teams directly under a department, and never leaving a department fewer than two healthy teams, so that
    department roll-ups of a planted problem stay clear of the alert thresholds. Small orgs get fewer."""
    children = children_of(teams)
    leaves: dict[int, list[int]] = {}
    size: dict[int, int] = {}
    for i, team in enumerate(teams):
        if team.department >= 0:
            size[team.department] = size.get(team.department, 0) + 1
            if not children[i]:
                leaves.setdefault(team.department, []).append(i)
    departments = sorted(leaves, key=lambda d: (-size[d], d))
    for d in departments:
        leaves[d].sort(key=lambda i: (teams[i].depth != 2, i))
    taken = {d: 0 for d in departments}
    picks: list[int] = []
    for round_ in range(max((len(v) for v in leaves.values()), default=0)):
        for d in departments:
            room = size[d] - taken[d] - 1 >= MIN_NEIGHBOURS
            if round_ < len(leaves[d]) and room and len(picks) < count:
                picks.append(leaves[d][round_])
                taken[d] += 1
    return picks


def assign_stories(teams: list[Team], stories: tuple[Story, ...]) -> list[tuple[Story, int, list[int]]]:
    """(story, team, neighbours) for every story that has a team; neighbours are the department's other teams
    that carry no story."""
    picks = story_teams(teams, len(stories))
    planted = set(picks)
    return [
        (story, team, [i for i, t in enumerate(teams) if t.department == teams[team].department and i not in planted])
        for story, team in zip(stories, picks)
    ]


# ------------------------------------------------------------------------------------------- the plan


def baseline_plan(rng: np.random.Generator, survey_ids: tuple[str, ...], team_ids: tuple[str, ...],
                  participation: float | None) -> Plan:
    """A healthy company: driver means 6.8-8.5 with small month-to-month drift, eNPS +8..+49, participation
    71-95 % (or the given rate), about 40 % of respondents commenting, mostly positive or neutral."""
    s, t, d = len(survey_ids), len(team_ids), len(DRIVERS)
    team_level = rng.uniform(7.0, 8.0, size=t)
    levels = np.clip(team_level[:, None] + DRIVER_OFFSETS[None, :] + rng.normal(0, 0.25, size=(t, d)), 6.9, 8.4)
    levels = np.clip(levels[None] + rng.uniform(-0.15, 0.15, size=(s, t, d)), HEALTHY_MIN, HEALTHY_MAX)
    enps = rng.uniform(12, 45, size=t)[None] + rng.uniform(-4, 4, size=(s, t))
    passive = np.broadcast_to(rng.uniform(0.25, 0.38, size=t), (s, t)).copy()
    if participation is None:
        rate = np.clip(rng.uniform(0.74, 0.92, size=t)[None] + rng.uniform(-0.03, 0.03, size=(s, t)), 0, 1)
    else:
        rate = np.full((s, t), float(participation))
    comment_rate = rng.uniform(0.32, 0.48, size=(s, t))
    negative = rng.uniform(0.06, 0.13, size=(s, t))
    mixed = rng.uniform(0.07, 0.13, size=(s, t))
    neutral = rng.uniform(0.20, 0.30, size=(s, t))
    sentiment = np.stack([negative, mixed, neutral, 1 - negative - mixed - neutral], axis=-1)
    return Plan(survey_ids, team_ids, levels, enps, passive, rate, comment_rate, sentiment)


# ------------------------------------------------------------------------------------------- the roster


def team_sizes(rng: np.random.Generator, n_teams: int, per_team: int, fixed: dict[int, int]) -> np.ndarray:
    """Head-count per team: exactly ``n_teams * per_team`` in total, fixed teams as given, the others within
    about +/-20 % of ``per_team`` (absorbing what the fixed teams leave over)."""
    total = n_teams * per_team
    sizes = np.zeros(n_teams, dtype=np.int64)
    for team, size in fixed.items():
        sizes[team] = size
    free = np.array([i for i in range(n_teams) if i not in fixed], dtype=np.int64)
    if free.size == 0:  # every team carries a story: the spare people join the non-tiny ones
        free = np.array([i for i in range(n_teams) if fixed[i] == per_team] or [0], dtype=np.int64)
        sizes[free] = 0
    remaining = total - int(sizes.sum())
    if remaining < free.size:
        raise ValueError(f"{total} employees are too few for {n_teams} teams")
    weights = rng.uniform(0.8, 1.2, size=free.size)
    share = 1 + weights / weights.sum() * (remaining - free.size)  # everyone gets at least one person
    base = np.floor(share).astype(np.int64)
    leftover = remaining - int(base.sum())
    base[np.argsort(-(share - base), kind="stable")[:leftover]] += 1
    sizes[free] = base
    return sizes


@dataclass
class Roster:
    """The people, indexed 0..n-1 (employee ids E00001.. in that order), with their team at the first survey."""

    employee_ids: np.ndarray
    people: list[tuple[str, str, str]]   # (first, middle initial or '', last)
    full_names: list[str]
    emails: list[str]
    locations: list[str]
    roles: np.ndarray           # '', 'manager', 'admin', 'viewer'
    home_team: np.ndarray
    managers: np.ndarray        # per team: the employee index of its manager
    engagement: np.ndarray      # persistent personal level around the team's
    driver_bias: np.ndarray     # (employees, drivers) persistent per-driver bias

    def __len__(self) -> int:
        return len(self.employee_ids)


def unique_names(rng: np.random.Generator, count: int) -> list[tuple[str, str, str]]:
    """(first, middle initial or '', last) per person; a repeated first+last name gets a middle initial."""
    firsts = rng.integers(0, len(FIRST_NAMES), size=count)
    lasts = rng.integers(0, len(LAST_NAMES), size=count)
    initials = rng.integers(0, len(MIDDLE_INITIALS), size=count)
    taken: set[str] = set()
    people = []
    for f, la, m in zip(firsts.tolist(), lasts.tolist(), initials.tolist()):
        first, last, middle = FIRST_NAMES[f], LAST_NAMES[la], ""
        for k in range(len(MIDDLE_INITIALS) + 1):
            full = f"{first} {middle}. {last}" if middle else f"{first} {last}"
            if full not in taken:
                break
            middle = MIDDLE_INITIALS[(m + k) % len(MIDDLE_INITIALS)]
        else:  # all initials used for this pair: two initials, deterministically
            middle = next(f"{a}. {b}" for a in MIDDLE_INITIALS for b in MIDDLE_INITIALS
                          if f"{first} {a}. {b}. {last}" not in taken)
            full = f"{first} {middle}. {last}"
        taken.add(full)
        people.append((first, middle, last))
    return people


def email_addresses(people: list[tuple[str, str, str]]) -> list[str]:
    """first.m.last@northwind.example, ASCII-folded; a clash (e.g. Chloé/Chloe) gets a number."""
    seen: dict[str, int] = {}
    emails = []
    for first, middle, last in people:
        local = ".".join(p for p in (ascii_slug(first), ascii_slug(middle), ascii_slug(last)) if p)
        seen[local] = seen.get(local, 0) + 1
        emails.append(f"{local}{seen[local] if seen[local] > 1 else ''}@{EMAIL_DOMAIN}")
    return emails


def pick_members(rng: np.random.Generator, home_team: np.ndarray, eligible: np.ndarray, teams: list[int],
                 count: int) -> list[int]:
    pool = np.flatnonzero(eligible & np.isin(home_team, teams))
    return sorted(rng.choice(pool, size=min(count, pool.size), replace=False).tolist()) if pool.size else []


def build_roster(rng: np.random.Generator, teams: list[Team], sizes: np.ndarray) -> Roster:
    """People on teams (ids in random team order, as in an HR system), names, e-mails, locations and roles."""
    count = int(sizes.sum())
    home_team = np.repeat(np.arange(len(teams)), sizes)[rng.permutation(count)]
    order, rank = group_rank(home_team, rng.random(count))
    managers = np.empty(len(teams), dtype=np.int64)
    managers[home_team[order[rank == 0]]] = order[rank == 0]
    roles = np.full(count, "", dtype=object)
    roles[managers] = "manager"
    people_teams = [i for i, t in enumerate(teams)
                    if t.department >= 0 and DEPARTMENTS[t.department].slug == PEOPLE_DEPARTMENT] or [0]
    admins = pick_members(rng, home_team, roles == "", people_teams, int(np.clip(count // 150, 2, 6)))
    roles[admins] = "admin"
    viewers = pick_members(rng, home_team, roles == "", [0], int(np.clip(count // 120, 2, 5)))
    roles[viewers] = "viewer"

    people = unique_names(rng, count)
    main_location = rng.integers(0, len(LOCATIONS), size=len(teams))
    elsewhere = rng.integers(0, len(LOCATIONS), size=count)
    location_index = np.where(rng.random(count) < LOCAL_SHARE, main_location[home_team], elsewhere)
    width = max(5, len(str(count)))
    return Roster(
        employee_ids=np.array([f"E{i + 1:0{width}d}" for i in range(count)], dtype=object),
        people=people,
        full_names=[f"{f} {m}. {la}" if m else f"{f} {la}" for f, m, la in people],
        emails=email_addresses(people),
        locations=[LOCATIONS[i] for i in location_index.tolist()],
        roles=roles,
        home_team=home_team,
        managers=managers,
        engagement=rng.normal(0, 0.8, size=count),
        driver_bias=rng.normal(0, 0.5, size=(count, len(DRIVERS))),
    )


@dataclass
class History:
    """Where everyone was at each survey's launch and whether they were still employed, plus today's state."""

    team_at: np.ndarray       # (surveys, employees)
    active_at: np.ndarray     # (surveys, employees) bool
    team_now: np.ndarray
    active_now: np.ndarray


def roster_history(rng: np.random.Generator, roster: Roster, n_surveys: int, frozen: set[int]) -> History:
    """Leavers (about 2 %, leaving after some survey) and movers (about 1 % between two surveys).

    Managers, admins and viewers stay put, and so does everyone on a frozen (story) team or the executive team,
    so that planted head-counts are exact.
    """
    n = len(roster)
    team_ok = np.ones(roster.managers.size, dtype=bool)
    team_ok[list(frozen | {0})] = False
    eligible = (roster.roles == "") & team_ok[roster.home_team]
    pool = np.flatnonzero(eligible)
    leaves = rng.choice(pool, size=min(pool.size, round(LEAVER_SHARE * n)), replace=False)
    leave_at = np.full(n, n_surveys + 1)  # invited to surveys before this index; n_surveys + 1: still here
    leave_at[leaves] = rng.integers(1, n_surveys + 1, size=leaves.size) if n_surveys else 0
    targets = np.flatnonzero(team_ok)
    team = roster.home_team.copy()
    team_at = np.empty((n_surveys, n), dtype=np.int64)
    for s in range(n_surveys + 1):
        if s > 0 and targets.size > 1:
            pool = np.flatnonzero(eligible & (leave_at > s))
            movers = np.sort(rng.choice(pool, size=min(pool.size, round(MOVER_SHARE * n)), replace=False))
            pick = rng.integers(0, targets.size - 1, size=movers.size)
            pick += pick >= np.searchsorted(targets, team[movers])  # never the team they are on
            team[movers] = targets[pick]
        if s < n_surveys:
            team_at[s] = team
    active_at = leave_at[None, :] > np.arange(n_surveys)[:, None]
    return History(team_at, active_at, team, leave_at > n_surveys)


# ------------------------------------------------------------------------------------------- sampling scores


def calibrate(values: np.ndarray, raw: np.ndarray, cell: np.ndarray, target_sum: np.ndarray,
              low: int, high: int) -> np.ndarray:
    """Nudge integer answers by one point until every cell's sum equals its target (where reachable).

    The answers closest to rounding the other way move first, so the distribution keeps its shape.
    """
    values = values.copy()
    for _ in range(high - low + 1):
        gap = target_sum - np.bincount(cell, weights=values, minlength=target_sum.size).round().astype(np.int64)
        if not gap.any():
            break
        g = gap[cell]
        up, down = (g > 0) & (values < high), (g < 0) & (values > low)
        idx = np.flatnonzero(up | down)
        if idx.size == 0:
            break
        residual = raw[idx] - values[idx]
        order, rank = group_rank(cell[idx], np.where(up[idx], -residual, residual))
        chosen = idx[order][rank < np.abs(gap[cell[idx[order]]])]
        values[chosen] += np.sign(gap[cell[chosen]])
    return values


def likert_answers(rng: np.random.Generator, plan: Plan, s: int, respondents: np.ndarray, team: np.ndarray,
                   roster: Roster, question_driver: np.ndarray) -> np.ndarray:
    """(respondents, 24) likert scores 1-10: team target + personal level + personal driver bias + noise,
    then calibrated so each team's driver mean equals the plan."""
    n_q = question_driver.size
    item_offset = np.tile([-0.2, 0.0, 0.2], n_q // 3)
    raw = (plan.levels[s][team][:, question_driver] + item_offset + roster.engagement[respondents][:, None]
           + roster.driver_bias[respondents][:, question_driver] + rng.normal(0, 1.0, size=(team.size, n_q)))
    values = np.clip(np.rint(raw), 1, 10).astype(np.int64)
    n_drivers = len(DRIVERS)
    cell = (team[:, None] * n_drivers + question_driver[None, :]).ravel()
    answers = np.bincount(cell, minlength=plan.levels.shape[1] * n_drivers)
    target = np.rint(plan.levels[s].ravel() * answers).astype(np.int64)
    return calibrate(values.ravel(), raw.ravel(), cell, target, 1, 10).reshape(values.shape)


def enps_quota(n: np.ndarray, target: np.ndarray, passive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(promoters, detractors) per team so that eNPS lands on the target, rounded away from zero's wrong side
    (a positive target never rounds to a negative eNPS, nor a negative one to a positive)."""
    promoters = np.clip((1 - passive + target / 100) / 2, 0, 1) * n
    detractors = np.clip((1 - passive - target / 100) / 2, 0, 1) * n
    positive = target >= 0
    p = np.where(positive, np.ceil(promoters - 1e-9), np.floor(promoters + 1e-9)).astype(np.int64)
    d = np.where(positive, np.floor(detractors + 1e-9), np.ceil(detractors - 1e-9)).astype(np.int64)
    d = np.minimum(d, n)
    return np.minimum(p, n - d), d


def enps_answers(rng: np.random.Generator, plan: Plan, s: int, team: np.ndarray, mood: np.ndarray) -> np.ndarray:
    """eNPS 0-10: within each team the happiest respondents are the promoters, the unhappiest the detractors,
    in the numbers the plan asks for."""
    n_teams = plan.levels.shape[1]
    counts = np.bincount(team, minlength=n_teams)
    promoters, detractors = enps_quota(counts, plan.enps[s], plan.passive[s])
    propensity = mood + rng.normal(0, 0.7, size=team.size)
    order, rank = group_rank(team, propensity)
    t = team[order]
    is_detractor = rank < detractors[t]
    is_promoter = rank >= counts[t] - promoters[t]
    p = propensity[order]
    score = np.where(is_detractor, np.clip(np.rint(p - 1.5 + rng.normal(0, 1.0, size=t.size)), 0, 6),
                     np.where(is_promoter, np.where(p + rng.normal(0, 0.8, size=t.size) > 8.8, 10, 9),
                              np.where(p > 7.6, 8, 7)))
    out = np.empty(team.size, dtype=np.int64)
    out[order] = score
    return out


def respondents_for(rng: np.random.Generator, plan: Plan, s: int, invited: np.ndarray, invited_team: np.ndarray,
                    roster: Roster) -> np.ndarray:
    """Boolean mask over the invited: exactly round(rate x invited) per team, the more engaged a bit likelier."""
    counts = np.bincount(invited_team, minlength=plan.participation.shape[1])
    wanted = np.minimum(np.rint(plan.participation[s] * counts), counts).astype(np.int64)
    order, rank = group_rank(invited_team, rng.random(invited.size) - 0.1 * roster.engagement[invited])
    chosen = np.zeros(invited.size, dtype=bool)
    chosen[order] = rank < wanted[invited_team[order]]
    return chosen


def submission_times(rng: np.random.Generator, window: SurveyWindow, count: int) -> np.ndarray:
    """Seconds after opening: most people answer in the first days, the rest spread over the window."""
    span = int((window.closed_at - window.opened_at).total_seconds())
    early = rng.exponential(1.5 * 86400, size=count)
    late = rng.uniform(0, span, size=count)
    offset = np.where(rng.random(count) < 0.6, early, late)
    return np.clip(offset, 60, span - 60).astype(np.int64)


def format_times(window: SurveyWindow, offsets: np.ndarray) -> np.ndarray:
    opened = np.datetime64(window.opened_at.replace(tzinfo=None), "s")
    text = np.datetime_as_string(opened + offsets.astype("timedelta64[s]"), unit="s")
    return np.char.add(text.astype(str), "Z").astype(object)


def response_ids(rng: np.random.Generator, count: int, used: set[int]) -> np.ndarray:
    """Random-looking 12-hex-digit ids, unique across every survey of this generation."""
    ids: list[int] = []
    while len(ids) < count:
        for value in rng.integers(0, 2**48, size=count - len(ids)).tolist():
            if value not in used:
                used.add(value)
                ids.append(value)
    return np.array([f"{v:012x}" for v in ids], dtype=object)


# ------------------------------------------------------------------------------------------- comments


def sentiment_quota(n: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """(teams, 4) comment counts per sentiment. Negative and mixed round down unless clearly over a half
    (so a healthy team with a handful of comments is never pushed towards the 30 % alert line)."""
    negative = np.floor(shares[:, 0] * n + 0.15)
    mixed = np.minimum(np.floor(shares[:, 1] * n + 0.15), n - negative)
    neutral = np.minimum(np.rint(shares[:, 2] * n), n - negative - mixed)
    return np.stack([negative, mixed, neutral, n - negative - mixed - neutral], axis=1).astype(np.int64)


@dataclass
class CommentContext:
    """What comment writing needs to know about the org (for themes and for the personal data it leaks)."""

    team_names: list[str]
    negative_themes: dict[int, tuple[str, ...]]
    roster: Roster
    team_now: np.ndarray
    active_now: np.ndarray


def comment_plan(rng: np.random.Generator, plan: Plan, s: int, team: np.ndarray, mood: np.ndarray) -> np.ndarray:
    """Per respondent: -1 (no comment) or the index of the comment's sentiment in SENTIMENT_ORDER.

    A team's commenters are ranked by mood; the unhappiest write the negative comments, the happiest the
    positive ones, in the numbers the plan asks for."""
    n_teams = plan.levels.shape[1]
    counts = np.bincount(team, minlength=n_teams)
    writers = np.rint(plan.comment_rate[s] * counts).astype(np.int64)
    order, rank = group_rank(team, rng.random(team.size))
    writes = np.zeros(team.size, dtype=bool)
    writes[order] = rank < writers[team[order]]
    quota = sentiment_quota(writers, plan.sentiment[s])
    bounds = np.cumsum(quota, axis=1)
    idx = np.flatnonzero(writes)
    w_order, w_rank = group_rank(team[idx], mood[idx] + rng.normal(0, 0.5, size=idx.size))
    w_team = team[idx][w_order]
    label = (w_rank[:, None] >= bounds[w_team]).sum(axis=1)
    sentiment = np.full(team.size, -1, dtype=np.int64)
    sentiment[idx[w_order]] = label
    return sentiment


def comment_texts(pyrng: random.Random, rng: np.random.Generator, s: int, team: np.ndarray,
                  sentiment: np.ndarray, driver_means: np.ndarray, ctx: CommentContext) -> np.ndarray:
    """Write the comments (object array, None for respondents who did not comment)."""
    writers = np.flatnonzero(sentiment >= 0)
    texts = np.full(team.size, None, dtype=object)
    if writers.size == 0:
        return texts
    labels = [sc.SENTIMENT_ORDER[i] for i in sentiment[writers].tolist()]
    negative = [w for w, lab in zip(writers.tolist(), labels) if lab == "negative"]
    n_abuse = min(len(negative), int(round(ABUSE_SHARE * writers.size)))
    ranters = rng.choice(negative, size=n_abuse, replace=False).tolist() if n_abuse else []
    abusive = {w: bank.ABUSE_KINDS[(i + s) % len(bank.ABUSE_KINDS)] for i, w in enumerate(ranters)}
    clean = np.array([w for w in writers.tolist() if w not in abusive], dtype=np.int64)
    n_pii = min(clean.size, int(round(PII_SHARE * writers.size)))
    pii = set(rng.choice(clean, size=n_pii, replace=False).tolist()) if n_pii else set()
    noisy = driver_means + rng.normal(0, 0.3, size=driver_means.shape)
    lowest, highest = noisy.argmin(axis=1), noisy.argmax(axis=1)
    leakers = sorted(pii)
    pyrng.shuffle(leakers)
    pii_kind = {w: PII_CYCLE[i % len(PII_CYCLE)] for i, w in enumerate(leakers)}
    for w, label in zip(writers.tolist(), labels):
        theme = complaint_theme(pyrng, ctx.negative_themes.get(int(team[w])), DRIVERS[lowest[w]])
        praise = DRIVERS[highest[w]] if pyrng.random() < 0.5 else pyrng.choice(bank.THEMES)
        if label == "positive":
            theme, second = praise, pyrng.choice(bank.THEMES)
        elif label == "neutral":
            theme, second = pyrng.choice(bank.THEMES), pyrng.choice(bank.THEMES)
        else:
            second = praise if label == "mixed" else pyrng.choice(bank.THEMES)
        leak = personal_data(pyrng, pii_kind[w], label, ctx) if w in pii_kind else None
        texts[w] = bank.compose_comment(pyrng, label, theme, second, pii_sentence=leak, abuse=abusive.get(w))
    return texts


def complaint_theme(pyrng: random.Random, team_themes: tuple[str, ...] | None, weakest_driver: str) -> str:
    """What a complaint is about: the team's planted issue if it has one, else its weakest driver or a common
    workplace theme."""
    if team_themes and pyrng.random() < 0.75:
        return pyrng.choice(team_themes)
    return weakest_driver if pyrng.random() < 0.45 else pyrng.choice(bank.OTHER_THEMES)


def personal_data(pyrng: random.Random, kind: str, sentiment: str, ctx: CommentContext) -> str:
    """A sentence leaking personal data of ``kind`` about a real, active person on the roster."""
    person = int(ctx.active_now[pyrng.randrange(ctx.active_now.size)])
    first, _, last = ctx.roster.people[person]
    if pyrng.random() < 0.5:
        email = ctx.roster.emails[person]
    else:
        email = f"{ascii_slug(first)}.{ascii_slug(last)}{pyrng.randint(1, 99)}@{pyrng.choice(PERSONAL_EMAIL_DOMAINS)}"
    return bank.pii_sentence(pyrng, kind, sentiment, person=ctx.roster.full_names[person],
                             team=ctx.team_names[int(ctx.team_now[person])], email=email)


# ------------------------------------------------------------------------------------------- one survey


@dataclass
class SurveyData:
    invitations: pd.DataFrame
    responses: pd.DataFrame
    n_responses: int
    n_comments: int


SCORE_TEXT = np.array([str(i) for i in range(11)], dtype=object)


def simulate_survey(seed: int, s: int, window: SurveyWindow, plan: Plan, roster: Roster, history: History,
                    teams: list[Team], ctx: CommentContext, used_ids: set[int]) -> SurveyData:
    """Invitations and responses of one survey, as the string frames that are written to the landing zone."""
    rng = stream(seed, 100, s)
    questions = survey_questions()
    likert = [q for q in questions if q.type == "likert"]
    question_driver = np.array([DRIVERS.index(q.driver_id) for q in likert], dtype=np.int64)
    team_ids = np.array([t.team_id for t in teams], dtype=object)

    invited = np.flatnonzero(history.active_at[s])
    invited_team = history.team_at[s, invited]
    invitations = pd.DataFrame(dtype=object, data={
        "survey_id": window.survey_id,
        "employee_id": roster.employee_ids[invited],
        "team_id": team_ids[invited_team],
        "invited_at": iso_z(window.opened_at),
    })

    chosen = respondents_for(rng, plan, s, invited, invited_team, roster)
    people, team = invited[chosen], invited_team[chosen]
    scores = likert_answers(rng, plan, s, people, team, roster, question_driver)
    driver_means = scores.reshape(team.size, len(DRIVERS), 3).mean(axis=2)
    mood = scores.mean(axis=1)
    enps = enps_answers(rng, plan, s, team, mood)
    sentiment = comment_plan(rng, plan, s, team, mood)
    texts = comment_texts(py_random(seed, 200, s), rng, s, team, sentiment, driver_means, ctx)

    offsets = submission_times(rng, window, team.size)
    ids = response_ids(rng, team.size, used_ids)
    order = np.lexsort((ids.astype(str), offsets))
    frame = responses_frame(window.survey_id, ids[order], team_ids[team[order]], format_times(window, offsets[order]),
                            np.column_stack([scores, enps])[order], texts[order],
                            [q.question_id for q in questions])
    return SurveyData(invitations, frame, int(team.size), int((sentiment >= 0).sum()))


def responses_frame(survey_id: str, ids: np.ndarray, team_ids: np.ndarray, submitted: np.ndarray,
                    scores: np.ndarray, texts: np.ndarray, question_ids: list[str]) -> pd.DataFrame:
    """The long answer table: per response its rated answers in question order, then its comment if any."""
    n_rated = scores.shape[1]
    has_comment = np.array([t is not None for t in texts.tolist()], dtype=bool)
    per_response = n_rated + has_comment
    row_response = np.repeat(np.arange(ids.size), per_response)
    starts = np.cumsum(per_response) - per_response
    position = np.arange(row_response.size) - np.repeat(starts, per_response)
    rated = position < n_rated
    score_text = np.full(row_response.size, "", dtype=object)
    score_text[rated] = SCORE_TEXT[scores[row_response[rated], position[rated]]]
    comment = np.full(row_response.size, "", dtype=object)
    comment[~rated] = texts[row_response[~rated]]
    return pd.DataFrame(dtype=object, data={  # object columns: no costly conversion to Arrow strings
        "response_id": ids[row_response],
        "survey_id": survey_id,
        "team_id": team_ids[row_response],
        "submitted_at": submitted[row_response],
        "question_id": np.array(question_ids, dtype=object)[position],
        "score": score_text,
        "comment": comment,
    })


# ------------------------------------------------------------------------------------------- planted defects


@dataclass
class DefectTarget:
    """Everything a defect planter may need to know to break a row convincingly."""

    frame: pd.DataFrame           # the file's rows plus _key (order) and _defect (kind or '')
    wrong_survey_id: str
    unknown_team_id: str
    unknown_employee_id: str
    occurrence: int               # how many defects of this kind came before (to vary them)


def with_bookkeeping(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["_key"] = np.arange(len(frame), dtype=np.float64)
    frame["_defect"] = ""
    frame["_taken"] = False
    return frame


def free_row(rng: np.random.Generator, frame: pd.DataFrame, mask: np.ndarray | None = None) -> int:
    """A random row position not used by another defect (restricted to ``mask`` when possible)."""
    ok = ~frame["_taken"].to_numpy()
    if mask is not None and (ok & mask).any():
        ok &= mask
    return int(rng.choice(np.flatnonzero(ok)))


def mark(frame: pd.DataFrame, row: int, kind: str, **values: str) -> None:
    for column, value in values.items():
        frame.iloc[row, frame.columns.get_loc(column)] = value
    frame.iloc[row, frame.columns.get_loc("_defect")] = kind
    frame.iloc[row, frame.columns.get_loc("_taken")] = True


def insert_after(frame: pd.DataFrame, row: int, record: dict, kind: str) -> pd.DataFrame:
    new = pd.DataFrame([{**record, "_key": frame["_key"].iat[row] + 0.5, "_defect": kind, "_taken": True}])
    frame.iloc[row, frame.columns.get_loc("_taken")] = True
    return pd.concat([frame, new[frame.columns]], ignore_index=True).sort_values("_key", kind="stable",
                                                                                ignore_index=True)


def long_comment(rng: np.random.Generator) -> str:
    pyrng = random.Random(int(rng.integers(0, 2**32)))
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) <= 5200:
        parts.append(bank.compose_comment(pyrng, "negative", pyrng.choice(bank.THEMES), "workload").replace("\n", " "))
    return " ".join(parts)


def plant_response_defect(rng: np.random.Generator, kind: str, t: DefectTarget) -> pd.DataFrame:
    """Break one row (or add one) of a responses file in the way ``kind`` says."""
    frame = t.frame
    question = frame["question_id"].to_numpy()
    rated = question != "open_1"
    if kind == "score_out_of_range":
        on_enps = t.occurrence % 2 == 1
        row = free_row(rng, frame, question == "enps" if on_enps else rated & (question != "enps"))
        mark(frame, row, kind, score="-1" if on_enps else "11")
    elif kind == "unknown_question_id":
        mark(frame, free_row(rng, frame, rated), kind, question_id="rec_4")
    elif kind == "unknown_team_id":
        mark(frame, free_row(rng, frame), kind, team_id=t.unknown_team_id)
    elif kind == "duplicate_answer":
        row = free_row(rng, frame, rated & (question != "enps"))
        record = frame.iloc[row][list(RESPONSES_COLUMNS)].to_dict()
        record["score"] = str(int(record["score"]) % 10 + 1)  # submitted twice, the second time differently
        return insert_after(frame, row, record, kind)
    elif kind == "unparseable_score":
        mark(frame, free_row(rng, frame, rated), kind, score="seven")
    elif kind == "missing_response_id":
        mark(frame, free_row(rng, frame), kind, response_id="")
    elif kind == "comment_too_long":
        mark(frame, free_row(rng, frame, ~rated), kind, comment=long_comment(rng))
    elif kind == "survey_id_mismatch":
        mark(frame, free_row(rng, frame), kind, survey_id=t.wrong_survey_id)
    elif kind == "unparseable_submitted_at":
        mark(frame, free_row(rng, frame), kind, submitted_at="31/02/2026 9am")
    else:
        raise ValueError(f"not a responses defect: {kind}")
    return frame


def plant_invitation_defect(rng: np.random.Generator, t: DefectTarget) -> pd.DataFrame:
    """An invitation for someone who is not on the roster, slipped in among the real ones."""
    frame = t.frame
    row = free_row(rng, frame)
    record = frame.iloc[row][list(INVITATIONS_COLUMNS)].to_dict()
    record["employee_id"] = t.unknown_employee_id
    return insert_after(frame, row, record, "unknown_employee")


def defect_schedule(count: int, n_surveys: int) -> dict[int, list[tuple[int, str]]]:
    """Which survey gets which defects: kinds cycle through DEFECT_KINDS, surveys round-robin."""
    schedule: dict[int, list[tuple[int, str]]] = {}
    for i in range(count):
        schedule.setdefault(i % n_surveys, []).append((i // len(DEFECT_KINDS), DEFECT_KINDS[i % len(DEFECT_KINDS)]))
    return schedule


def start_lines(frame: pd.DataFrame) -> np.ndarray:
    """Physical line each record starts on (header is line 1; quoted newlines push later records down)."""
    spans = 1 + frame["comment"].str.count("\n").to_numpy() if "comment" in frame else np.ones(len(frame))
    return (2 + np.cumsum(spans) - spans).astype(np.int64)


def planted(frame: pd.DataFrame, relative: str) -> list[PlantedDefect]:
    rows = np.flatnonzero(frame["_defect"].to_numpy() != "")
    lines = start_lines(frame)
    return [PlantedDefect(relative, int(lines[r]), str(frame["_defect"].iat[r])) for r in rows]


# ------------------------------------------------------------------------------------------- writing files


def write_atomic(path: Path, write: Callable[[IO[str]], None]) -> None:
    """Write through a temporary file in the same folder, then rename over the target in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            write(handle)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_rows(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    def write(handle: IO[str]) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)

    write_atomic(path, write)


def write_frame(path: Path, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    write_atomic(path, lambda handle: frame.to_csv(handle, columns=list(columns), index=False, lineterminator="\n"))


def write_json(path: Path, document: dict) -> None:
    write_atomic(path, lambda handle: handle.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n"))


def team_rows(teams: list[Team], roster: Roster) -> list[list[str]]:
    return [[t.team_id, t.name, "" if t.parent is None else teams[t.parent].team_id,
             roster.employee_ids[roster.managers[i]]] for i, t in enumerate(teams)]


def employee_rows(teams: list[Team], roster: Roster, history: History) -> list[list[str]]:
    return [
        [roster.employee_ids[i], roster.emails[i], roster.full_names[i], teams[history.team_now[i]].team_id,
         roster.roles[i], roster.locations[i], "true" if history.active_now[i] else "false"]
        for i in range(len(roster))
    ]


# ------------------------------------------------------------------------------------------- generate


def generate(landing: Path, options: GenerateOptions | None = None) -> GenerationReport:
    """Write the synthetic org and its surveys into ``landing`` (SPEC sections 3 and 8) and say what was planted.

    Existing files of the same names are replaced; other files in the landing zone are left alone.
    """
    options = options or GenerateOptions()
    started = time.perf_counter()
    landing = Path(landing)
    seed = options.seed
    windows = survey_calendar(options.start_month, options.surveys)
    survey_ids = tuple(w.survey_id for w in windows)
    teams = build_teams(options.teams)
    team_ids = tuple(t.team_id for t in teams)
    plan = baseline_plan(stream(seed, 1), survey_ids, team_ids, options.participation)

    scenarios: list[Scenario] = []
    if options.plant_scenarios and survey_ids:
        stories = [(story, team, neighbours) for story, team, neighbours in assign_stories(teams, sc.STORIES)
                   if sc.applicable(story, len(survey_ids), options.participation is None)]
        if options.teams * options.employees_per_team - sc.TINY_TEAM_SIZE < options.teams - 1:
            stories = [a for a in stories if a[0].name != "tiny_team"]
        scenarios = sc.plant(plan, stories)
        for _, team, _ in stories:
            plan.frozen.add(team)
            plan.sizes.setdefault(team, options.employees_per_team)

    sizes = team_sizes(stream(seed, 2), len(teams), options.employees_per_team, plan.sizes)
    roster = build_roster(stream(seed, 3), teams, sizes)
    history = roster_history(stream(seed, 4), roster, len(windows), plan.frozen)
    ctx = CommentContext([t.name for t in teams], plan.negative_themes, roster, history.team_now,
                         np.flatnonzero(history.active_now))

    write_rows(landing / "org" / "teams.csv", TEAMS_COLUMNS, team_rows(teams, roster))
    write_rows(landing / "org" / "employees.csv", EMPLOYEES_COLUMNS, employee_rows(teams, roster, history))

    schedule = defect_schedule(options.bad_rows, len(windows)) if options.bad_rows else {}
    wrong_survey = f"{int(options.start_month[:4]) - 1}{options.start_month[4:]}"
    unknown_employee = "E" + "9" * (len(roster.employee_ids[0]))
    defects: list[PlantedDefect] = []
    used_ids: set[int] = set()
    totals = {"invitations": 0, "responses": 0, "answers": 0, "comments": 0}
    questions = survey_questions()
    for s, window in enumerate(windows):
        data = simulate_survey(seed, s, window, plan, roster, history, teams, ctx, used_ids)
        folder = landing / "surveys" / window.survey_id
        invitations, responses = data.invitations, data.responses
        if s in schedule:
            invitations, responses, found = plant_defects(
                stream(seed, 300, s), schedule[s], invitations, responses, wrong_survey, unknown_employee,
                f"surveys/{window.survey_id}")
            defects.extend(found)
        write_frame(folder / "invitations.csv", invitations, INVITATIONS_COLUMNS)
        write_frame(folder / "responses.csv", responses, RESPONSES_COLUMNS)
        write_json(folder / "survey.json", survey_document(window, questions))
        totals["invitations"] += len(invitations)
        totals["responses"] += data.n_responses
        totals["answers"] += len(responses)
        totals["comments"] += data.n_comments

    return GenerationReport(
        landing=landing, teams=len(teams), employees=len(roster), surveys=list(survey_ids),
        invitations=totals["invitations"], responses=totals["responses"], answer_rows=totals["answers"],
        comments=totals["comments"], scenarios=scenarios, bad_rows=sorted(defects, key=lambda d: (d.file, d.line)),
        seconds=round(time.perf_counter() - started, 3),
    )


def plant_defects(rng: np.random.Generator, planned: list[tuple[int, str]], invitations: pd.DataFrame,
                  responses: pd.DataFrame, wrong_survey: str, unknown_employee: str,
                  folder: str) -> tuple[pd.DataFrame, pd.DataFrame, list[PlantedDefect]]:
    """Apply one survey's share of planted defects; return the new frames and where each defect ended up."""
    invitations, responses = with_bookkeeping(invitations), with_bookkeeping(responses)
    for occurrence, kind in planned:
        target = DefectTarget(invitations if kind == "unknown_employee" else responses, wrong_survey,
                              "retired-team", unknown_employee, occurrence)
        if kind == "unknown_employee":
            invitations = plant_invitation_defect(rng, target)
        else:
            responses = plant_response_defect(rng, kind, target)
    found = planted(invitations, f"{folder}/invitations.csv") + planted(responses, f"{folder}/responses.csv")
    return invitations, responses, found
