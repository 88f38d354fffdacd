"""The planted scenarios: stories in the synthetic data that make every alert rule of SPEC section 4 fire.

The generator first builds a healthy baseline :class:`Plan` (what each team's numbers should be in each survey);
each story here then rewrites the plan for one team, far enough from the alert thresholds that sampling noise
cannot flip the outcome (the generator also calibrates every team's driver means to the plan). Stories also
steady their neighbours (the other teams of the same department) so that department-level roll-ups of the
planted problem stay clear of the thresholds too: the problem is local to the planted team.

Each story returns the alerts it is built to raise, as :class:`Scenario` records, so tests and the demo can check
that exactly these fire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from orchestration.synthetic.vocabulary import DRIVERS

DRIVER_INDEX = {driver: i for i, driver in enumerate(DRIVERS)}
SENTIMENT_ORDER = ("negative", "mixed", "neutral", "positive")  # the columns of Plan.sentiment

# Targets, chosen at least ~0.5 points (or 5 percentage points) away from the SPEC section 4 thresholds,
# except the relative-only drop, which by construction lives in a narrow window (see growth_slide).
LOW_WELLBEING = 4.8            # LOW_SCORE: driver mean < 6.0
RECOGNITION_BEFORE, RECOGNITION_AFTER = 8.2, 6.6    # drop 1.6 (> 1.0) and 19.5 % (> 15 %); 6.6 stays >= 6.0
GROWTH_BEFORE, GROWTH_AFTER = 4.5, 3.7              # drop 0.8 (< 1.0) but 17.8 % (> 15 %)
ENPS_BEFORE, ENPS_AFTER = 15.0, -30.0               # ENPS_NEG: eNPS < 0
COLLAPSE_BEFORE, COLLAPSE_AFTER = 0.72, 0.45        # LOW_PARTICIPATION: < 60 %
DIP_BEFORE, DIP_AFTER = 0.95, 0.68                  # PARTICIPATION_DROP: -28 % relative, still >= 60 %
SPIKE_SHARES = (0.60, 0.10, 0.15, 0.15)             # NEG_SENT_SPIKE: > 30 % of comments negative
SPIKE_COMMENT_RATE = 0.75                           # most of that team comments, so the share rests on many
TINY_TEAM_SIZE = 3                                  # below min_n = 4: suppressed everywhere

NEIGHBOUR_FLOOR = 7.8          # planted driver of the department's other teams
NEIGHBOUR_ENPS_FLOOR = 35.0
NEIGHBOUR_PARTICIPATION_FLOOR = 0.86
NEIGHBOUR_SHARES = (0.03, 0.05, 0.30, 0.62)
NEIGHBOUR_COMMENT_RATE = 0.6


@dataclass(frozen=True)
class Scenario:
    """One alert the planted data is built to raise (or, for the tiny team, a suppression it is built to show).

    ``name`` is the story (several alerts can come from one story); ``alert_type`` is the SPEC section 4 type,
    or None for the tiny team; ``survey_ids`` are the surveys in which the alert should fire.
    """

    name: str
    alert_type: str | None
    team_id: str
    driver_id: str | None
    theme: str | None
    survey_ids: tuple[str, ...]
    description: str


@dataclass
class Plan:
    """What the data should show, per survey (axis 0) and team (axis 1); the generator samples around it.

    ``levels`` holds each driver's target mean (1-10), ``enps`` the target eNPS (-100..100), ``passive`` the
    share of passives, ``participation`` the response rate, ``comment_rate`` the share of respondents who
    comment, ``sentiment`` the shares of negative, mixed, neutral and positive comments.
    """

    survey_ids: tuple[str, ...]
    team_ids: tuple[str, ...]
    levels: np.ndarray          # (surveys, teams, drivers)
    enps: np.ndarray            # (surveys, teams)
    passive: np.ndarray         # (surveys, teams)
    participation: np.ndarray   # (surveys, teams)
    comment_rate: np.ndarray    # (surveys, teams)
    sentiment: np.ndarray       # (surveys, teams, 4)
    negative_themes: dict[int, tuple[str, ...]] = field(default_factory=dict)  # what a team complains about
    frozen: set[int] = field(default_factory=set)  # teams whose roster must not change (no moves, no leavers)
    sizes: dict[int, int] = field(default_factory=dict)  # teams whose head-count is fixed by a story

    @property
    def latest(self) -> str:
        return self.survey_ids[-1]


Planter = Callable[[Plan, int, list[int]], list[Scenario]]


@dataclass(frozen=True)
class Story:
    """A scenario to plant: how many surveys it needs, whether it needs realistic participation, and how."""

    name: str
    min_surveys: int
    needs_realistic_participation: bool
    plant: Planter


# ------------------------------------------------------------------------------------------- helpers


def hold_steady(plan: Plan, team: int, except_driver: int | None = None) -> None:
    """Make the team's latest driver levels equal the previous survey's, so only the planted driver moves."""
    if len(plan.survey_ids) < 2:
        return
    keep = [d for d in range(len(DRIVERS)) if d != except_driver]
    plan.levels[-1, team, keep] = plan.levels[-2, team, keep]


def lift(values: np.ndarray, floor: float) -> np.ndarray:
    return np.maximum(values, floor)


def alert(plan: Plan, name: str, alert_type: str | None, team: int, description: str, *,
          driver: str | None = None, theme: str | None = None, surveys: tuple[str, ...] | None = None) -> Scenario:
    return Scenario(name, alert_type, plan.team_ids[team], driver, theme,
                    surveys if surveys is not None else (plan.latest,), description)


def recurring(plan: Plan, name: str, team: int, driver: str) -> list[Scenario]:
    """The RECURRING alert for a LOW_SCORE raised in every survey, when there are at least three surveys."""
    if len(plan.survey_ids) < 3:
        return []
    return [alert(plan, name, "RECURRING", team, f"{driver} below 6.0 in all {len(plan.survey_ids)} surveys",
                  driver=driver, surveys=plan.survey_ids)]


# ------------------------------------------------------------------------------------------- the stories


def low_wellbeing(plan: Plan, team: int, neighbours: list[int]) -> list[Scenario]:
    """A team that has been overloaded for months: wellbeing about 4.8 in every survey."""
    w = DRIVER_INDEX["wellbeing"]
    plan.levels[:, neighbours, w] = lift(plan.levels[:, neighbours, w], NEIGHBOUR_FLOOR)
    plan.levels[:, team, w] = LOW_WELLBEING + np.linspace(-0.1, 0.1, len(plan.survey_ids))
    plan.negative_themes[team] = ("wellbeing", "workload", "wellbeing", "meetings")
    found = [alert(plan, "low_wellbeing", "LOW_SCORE", team, f"wellbeing mean about {LOW_WELLBEING} in every survey",
                   driver="wellbeing", surveys=plan.survey_ids)]
    return found + recurring(plan, "low_wellbeing", team, "wellbeing")


def recognition_drop(plan: Plan, team: int, neighbours: list[int]) -> list[Scenario]:
    """A team whose recognition falls sharply in the latest survey (after a big launch went unacknowledged)."""
    r = DRIVER_INDEX["recognition"]
    plan.levels[:, neighbours, r] = lift(plan.levels[:, neighbours, r], NEIGHBOUR_FLOOR)
    plan.levels[:-1, team, r] = RECOGNITION_BEFORE
    plan.levels[-1, team, r] = RECOGNITION_AFTER
    hold_steady(plan, team, except_driver=r)
    plan.negative_themes[team] = ("recognition", "recognition", "leadership")
    what = f"recognition {RECOGNITION_BEFORE} -> {RECOGNITION_AFTER} in the latest survey"
    return [alert(plan, "recognition_drop", "BIG_DROP_ABS", team, what + " (drop 1.6 > 1.0)", driver="recognition"),
            alert(plan, "recognition_drop", "BIG_DROP_REL", team, what + " (drop 19.5 % > 15 %)",
                  driver="recognition")]


def growth_slide(plan: Plan, team: int, neighbours: list[int]) -> list[Scenario]:
    """A team with chronically weak growth that slips further: a relative drop without an absolute one.

    Only a low starting mean leaves room for a drop above 15 % but below 1.0 point, so this team's growth is
    also below 6.0 in every survey (LOW_SCORE each time, and RECURRING).
    """
    g = DRIVER_INDEX["growth"]
    plan.levels[:, neighbours, g] = lift(plan.levels[:, neighbours, g], NEIGHBOUR_FLOOR)
    plan.levels[:-1, team, g] = GROWTH_BEFORE
    plan.levels[-1, team, g] = GROWTH_AFTER
    hold_steady(plan, team, except_driver=g)
    plan.negative_themes[team] = ("growth", "career", "growth")
    drop = f"growth {GROWTH_BEFORE} -> {GROWTH_AFTER} in the latest survey (drop 0.8 < 1.0, 17.8 % > 15 %)"
    chronic = f"growth about {GROWTH_BEFORE} (latest {GROWTH_AFTER}), below 6.0 in every survey"
    return [alert(plan, "growth_slide", "BIG_DROP_REL", team, drop, driver="growth"),
            alert(plan, "growth_slide", "LOW_SCORE", team, chronic, driver="growth", surveys=plan.survey_ids),
            *recurring(plan, "growth_slide", team, "growth")]


def enps_negative(plan: Plan, team: int, neighbours: list[int]) -> list[Scenario]:
    """A team that would no longer recommend the company: eNPS about -30 in the latest survey."""
    plan.enps[:, neighbours] = lift(plan.enps[:, neighbours], NEIGHBOUR_ENPS_FLOOR)
    plan.enps[:-1, team] = ENPS_BEFORE
    plan.enps[-1, team] = ENPS_AFTER
    hold_steady(plan, team)
    plan.levels[-1, team] = lift(plan.levels[-1, team] - 0.4, 6.8)  # a little lower, nowhere near a drop alert
    plan.negative_themes[team] = ("leadership", "pay", "career")
    return [alert(plan, "enps_negative", "ENPS_NEG", team, f"eNPS about {ENPS_AFTER:+.0f} in the latest survey")]


def participation_collapse(plan: Plan, team: int, neighbours: list[int]) -> list[Scenario]:
    """A team that stopped answering: about 45 % participation in the latest survey (from about 72 %)."""
    plan.participation[:, neighbours] = lift(plan.participation[:, neighbours], NEIGHBOUR_PARTICIPATION_FLOOR)
    plan.participation[:-1, team] = COLLAPSE_BEFORE
    plan.participation[-1, team] = COLLAPSE_AFTER
    plan.frozen.add(team)
    found = [alert(plan, "participation_collapse", "LOW_PARTICIPATION", team,
                   f"participation about {COLLAPSE_AFTER:.0%} in the latest survey")]
    if len(plan.survey_ids) >= 2:
        found.append(alert(plan, "participation_collapse", "PARTICIPATION_DROP", team,
                           f"participation {COLLAPSE_BEFORE:.0%} -> {COLLAPSE_AFTER:.0%} (-37.5 % relative)"))
    return found


def participation_dip(plan: Plan, team: int, neighbours: list[int]) -> list[Scenario]:
    """A team whose participation drops by more than a fifth but stays above 60 %: 95 % -> 68 %."""
    plan.participation[:, neighbours] = lift(plan.participation[:, neighbours], NEIGHBOUR_PARTICIPATION_FLOOR)
    plan.participation[:-1, team] = DIP_BEFORE
    plan.participation[-1, team] = DIP_AFTER
    plan.frozen.add(team)
    return [alert(plan, "participation_dip", "PARTICIPATION_DROP", team,
                  f"participation {DIP_BEFORE:.0%} -> {DIP_AFTER:.0%} (-28 % relative, still above 60 %)")]


def workload_complaints(plan: Plan, team: int, neighbours: list[int]) -> list[Scenario]:
    """A team that vents in the comments: about 60 % of the latest survey's comments are negative (workload)."""
    plan.sentiment[:, neighbours] = NEIGHBOUR_SHARES
    plan.comment_rate[:, neighbours] = lift(plan.comment_rate[:, neighbours], NEIGHBOUR_COMMENT_RATE)
    plan.sentiment[-1, team] = SPIKE_SHARES
    plan.comment_rate[-1, team] = SPIKE_COMMENT_RATE
    plan.negative_themes[team] = ("workload", "workload", "workload", "meetings", "wellbeing")
    return [alert(plan, "workload_complaints", "NEG_SENT_SPIKE", team,
                  f"about {SPIKE_SHARES[0]:.0%} of the latest survey's comments are negative, mostly about workload",
                  theme="workload")]


def tiny_team(plan: Plan, team: int, neighbours: list[int]) -> list[Scenario]:
    """A team of three that all respond: every score of it must be suppressed (min_n = 4), no alert raised."""
    plan.sizes[team] = TINY_TEAM_SIZE
    plan.participation[:, team] = 1.0
    plan.frozen.add(team)
    return [alert(plan, "tiny_team", None, team,
                  f"{TINY_TEAM_SIZE} members, all respond: below min_n, scores suppressed, no alerts",
                  surveys=plan.survey_ids)]


# The order decides which team gets which story: teams are dealt round-robin over departments, biggest first,
# so with five departments (the 20-team demo) stories 1-5 open one department each and 6-8 join the first three.
# Those pairs are compatible: the comment spike shares its department with the tiny team (no comments to speak
# of), and the two participation stories never share a department.
STORIES: tuple[Story, ...] = (
    Story("workload_complaints", 1, False, workload_complaints),
    Story("low_wellbeing", 1, False, low_wellbeing),
    Story("participation_collapse", 1, True, participation_collapse),
    Story("growth_slide", 2, False, growth_slide),
    Story("enps_negative", 1, False, enps_negative),
    Story("tiny_team", 1, False, tiny_team),
    Story("participation_dip", 2, True, participation_dip),
    Story("recognition_drop", 2, False, recognition_drop),
)


def applicable(story: Story, n_surveys: int, realistic_participation: bool) -> bool:
    """Whether a story can be told with this many surveys and this participation setting."""
    return n_surveys >= story.min_surveys and (realistic_participation or not story.needs_realistic_participation)


def plant(plan: Plan, assignments: list[tuple[Story, int, list[int]]]) -> list[Scenario]:
    """Apply each (story, team, neighbours) to the plan and collect the alerts they should raise.

    Neighbours never include a planted team, so one story's steadying of its neighbours cannot undo another
    story's planted numbers.
    """
    found: list[Scenario] = []
    for story, team, neighbours in assignments:
        found.extend(story.plant(plan, team, neighbours))
    return found
