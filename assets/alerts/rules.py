"""The alert rules of SPEC section 4: pure functions from mart rows to findings, one per alert type.

Every comparison is strict, as the rules are written ("< 6.0", "more than 1.0 point"), and exact: the marts
give exact numerics (``Decimal``) and thresholds are read as decimals, so a mean of exactly 6.0, a drop of exactly
1.0 point or 15 %, a participation fall of exactly 20 % and an eNPS of exactly 0 do not alert. No rule reads a
suppressed number: a suppressed row (or one whose previous survey was suppressed) is skipped before any value is
looked at. Participation is never suppressed, but a group invited fewer than ``min_n`` people raises no
participation alert either.

Groups are the marts' groups: a team's direct members (``team``), a team with its sub-teams (``subtree``) and
the organisation (``org``). A finding carries its provenance: the rule version, the thresholds it used and the
mart row (keys and values) that fired it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

RULE_VERSION = "1"
ALERT_TYPES: tuple[str, ...] = ("LOW_SCORE", "BIG_DROP_ABS", "BIG_DROP_REL", "ENPS_NEG", "LOW_PARTICIPATION",
                                "PARTICIPATION_DROP", "NEG_SENT_SPIKE", "RECURRING")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high")
ENGAGEMENT = "engagement"
Row = Mapping[str, object]

# setting key -> (Thresholds field, kind); kinds: "decimal", "count", "bool", "severity"
SETTINGS: dict[str, tuple[str, str]] = {
    "alert.low_score.threshold": ("low_score", "decimal"),
    "alert.big_drop_abs.threshold": ("big_drop_abs", "decimal"),
    "alert.big_drop_rel.threshold": ("big_drop_rel", "decimal"),
    "alert.enps_neg.threshold": ("enps_neg", "decimal"),
    "alert.low_participation.threshold": ("low_participation", "decimal"),
    "alert.participation_drop.threshold": ("participation_drop", "decimal"),
    "alert.neg_sent_spike.threshold": ("neg_sent_spike", "decimal"),
    "alert.recurring.min_surveys": ("recurring_min_surveys", "count"),
    "alert.drops.require_significance": ("require_significance", "bool"),
    "min_n": ("min_n", "count"),
    **{f"alert.{t.lower()}.severity": (f"severity:{t}", "severity") for t in ALERT_TYPES},
}
DEFAULT_SEVERITY = {"LOW_SCORE": "high", "BIG_DROP_ABS": "medium", "BIG_DROP_REL": "medium", "ENPS_NEG": "high",
                    "LOW_PARTICIPATION": "medium", "PARTICIPATION_DROP": "medium", "NEG_SENT_SPIKE": "high",
                    "RECURRING": "high"}


class SettingsError(ValueError):
    """A threshold or severity in app.settings that cannot be used; the message names the setting."""


@dataclass(frozen=True)
class Thresholds:
    """The rules' settings (SPEC defaults; app.settings overrides them)."""

    low_score: Decimal = Decimal("6.0")
    big_drop_abs: Decimal = Decimal("1.0")
    big_drop_rel: Decimal = Decimal("0.15")
    enps_neg: Decimal = Decimal("0")
    low_participation: Decimal = Decimal("0.6")
    participation_drop: Decimal = Decimal("0.2")
    neg_sent_spike: Decimal = Decimal("0.3")
    recurring_min_surveys: int = 3
    require_significance: bool = False
    min_n: int = 4
    severity: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> Thresholds:
        """From app.settings values (JSON-decoded), ignoring unrelated keys; a bad value is a SettingsError."""
        values: dict[str, object] = {}
        severity = dict(DEFAULT_SEVERITY)
        for key, (name, kind) in SETTINGS.items():
            if key not in settings:
                continue
            value = _parse(key, settings[key], kind)
            if kind == "severity":
                severity[name.split(":", 1)[1]] = value
            else:
                values[name] = value
        return cls(**values, severity=severity)

    def as_json(self) -> dict:
        data = {name: str(getattr(self, name)) if isinstance(getattr(self, name), Decimal) else getattr(self, name)
                for name in ("low_score", "big_drop_abs", "big_drop_rel", "enps_neg", "low_participation",
                             "participation_drop", "neg_sent_spike", "recurring_min_surveys",
                             "require_significance", "min_n")}
        return {**data, "severity": dict(self.severity)}


def _parse(key: str, value: object, kind: str):
    if kind == "decimal":
        if isinstance(value, bool):
            raise SettingsError(f"setting {key} must be a number, not {value!r}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise SettingsError(f"setting {key} must be a number, not {value!r}") from None
        if not number.is_finite():
            raise SettingsError(f"setting {key} must be a finite number, not {value!r}")
        return number
    if kind == "count":
        if isinstance(value, bool) or not str(value).strip().isdigit() or int(str(value).strip()) < 1:
            raise SettingsError(f"setting {key} must be a whole number of at least 1, not {value!r}")
        return int(str(value).strip())
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("true", "false"):
            return str(value).strip().lower() == "true"
        raise SettingsError(f"setting {key} must be true or false, not {value!r}")
    if value not in SEVERITIES:
        raise SettingsError(f"setting {key} must be one of {', '.join(SEVERITIES)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Finding:
    """One alert as a rule sees it; ``dedup_key`` names the issue, so re-evaluation finds the same row."""

    alert_type: str
    severity: str
    survey_id: str
    team_id: str
    scope: str
    team_name: str | None
    driver_id: str | None
    theme: str | None
    metric_value: Decimal | None
    threshold: Decimal
    message: str
    provenance: dict
    is_significant: bool | None = None
    ci_low: Decimal | None = None
    ci_high: Decimal | None = None

    @property
    def dedup_key(self) -> str:
        if self.alert_type == "RECURRING":  # one issue over many surveys: no survey in the key
            parts = ["RECURRING", self.provenance["recurring_type"], self.team_id, self.scope]
        else:
            parts = [self.alert_type, self.survey_id, self.team_id, self.scope]
        return "|".join([*parts, self.driver_id or "", self.theme or ""])

    @property
    def issue(self) -> tuple:
        """What RECURRING counts: the same group, type and driver or theme."""
        return (self.team_id, self.scope, self.alert_type, self.driver_id, self.theme)


def _group(row: Row) -> str:
    return str(row.get("team_name") or row["team_id"])


def _fmt(value: Decimal, places: int = 2) -> str:
    return f"{value:.{places}f}"


def _pct(value: Decimal) -> str:
    return f"{value * 100:.1f} %"


def _provenance(th: Thresholds, mart: str, row: Row, keys: Sequence[str], values: Sequence[str],
                thresholds: Sequence[str]) -> dict:
    def plain(v):
        return str(v) if isinstance(v, Decimal) else v

    return {"rule_version": RULE_VERSION,
            "thresholds": {name: plain(getattr(th, name)) for name in thresholds},
            "rows": [{"mart": mart, "key": {k: row.get(k) for k in keys},
                      "values": {v: plain(row.get(v)) for v in values}}]}


def _finding(th: Thresholds, alert_type: str, row: Row, value: Decimal, threshold: Decimal, message: str,
             provenance: dict, driver_id: str | None = None, theme: str | None = None, **extra) -> Finding:
    return Finding(alert_type=alert_type, severity=th.severity[alert_type], survey_id=str(row["survey_id"]),
                   team_id=str(row["team_id"]), scope=str(row["scope"]), team_name=row.get("team_name"),
                   driver_id=driver_id, theme=theme, metric_value=value, threshold=threshold, message=message,
                   provenance=provenance, **extra)


def _published(row: Row, *columns: str) -> bool:
    return not row.get("suppressed") and all(row.get(c) is not None for c in columns)


_KEYS = ("survey_id", "team_id", "scope")


# ------------------------------------------------------------------------------------------- the rules


def low_score(driver_scores: Iterable[Row], engagement: Iterable[Row], th: Thresholds) -> list[Finding]:
    """LOW_SCORE: a driver mean, or the engagement score, below the threshold."""
    found = []
    for row in driver_scores:
        if _published(row, "mean_score") and row["mean_score"] < th.low_score:
            found.append(_finding(
                th, "LOW_SCORE", row, row["mean_score"], th.low_score,
                f"{_group(row)}: {row.get('driver_name') or row['driver_id']} averages "
                f"{_fmt(row['mean_score'])} in {row['survey_id']}, below {th.low_score}",
                _provenance(th, "marts.driver_scores", row, (*_KEYS, "driver_id"), ("mean_score", "n_respondents"),
                            ("low_score",)), driver_id=str(row["driver_id"])))
    for row in engagement:
        if _published(row, "engagement_score") and row["engagement_score"] < th.low_score:
            found.append(_finding(
                th, "LOW_SCORE", row, row["engagement_score"], th.low_score,
                f"{_group(row)}: engagement averages {_fmt(row['engagement_score'])} in {row['survey_id']}, "
                f"below {th.low_score}",
                _provenance(th, "marts.engagement", row, _KEYS, ("engagement_score", "n_respondents"),
                            ("low_score",)), driver_id=ENGAGEMENT))
    return found


def _comparable(row: Row) -> bool:
    return (not row.get("suppressed") and not row.get("prev_suppressed") and row.get("delta_abs") is not None
            and row.get("prev_mean_score") is not None)


def _significance(row: Row) -> dict:
    low, high = row.get("delta_ci_low"), row.get("delta_ci_high")
    significant = None if low is None or high is None else bool(high < 0)
    return {"is_significant": significant, "ci_low": low, "ci_high": high}


def _drop(th: Thresholds, alert_type: str, row: Row, value: Decimal, threshold: Decimal, what: str) -> Finding:
    extra = _significance(row)
    meaning = {True: "beyond chance for the group's size", False: "within chance for the group's size",
               None: "significance unknown"}[extra["is_significant"]]
    interval = (f" (95 % interval {_fmt(extra['ci_low'])} to {_fmt(extra['ci_high'])})"
                if extra["ci_low"] is not None else "")
    name = "engagement" if row["driver_id"] == ENGAGEMENT else row["driver_id"]
    message = (f"{_group(row)}: {name} fell {what} since {row['prev_survey_id']} "
               f"({_fmt(row['prev_mean_score'])} to {_fmt(row['mean_score'])}), {meaning}{interval}")
    provenance = _provenance(th, "marts.trends", row, (*_KEYS, "driver_id"),
                             ("mean_score", "prev_survey_id", "prev_mean_score", "delta_abs", "delta_rel",
                              "n_respondents", "std_error", "prev_std_error", "delta_ci_low", "delta_ci_high"),
                             (alert_type.lower(), "require_significance"))
    return _finding(th, alert_type, row, value, threshold, message, provenance, driver_id=str(row["driver_id"]),
                    **extra)


def _drop_allowed(th: Thresholds, row: Row) -> bool:
    return not th.require_significance or _significance(row)["is_significant"] is True


def big_drop_abs(trends: Iterable[Row], th: Thresholds) -> list[Finding]:
    """BIG_DROP_ABS: the mean fell by more than the threshold (points) since the group's previous survey."""
    return [_drop(th, "BIG_DROP_ABS", row, row["delta_abs"], th.big_drop_abs,
                  f"by {_fmt(-row['delta_abs'])} points")
            for row in trends
            if _comparable(row) and -row["delta_abs"] > th.big_drop_abs and _drop_allowed(th, row)]


def big_drop_rel(trends: Iterable[Row], th: Thresholds) -> list[Finding]:
    """BIG_DROP_REL: the mean fell by more than the threshold (a share of the previous mean)."""
    return [_drop(th, "BIG_DROP_REL", row, row["delta_rel"], th.big_drop_rel, f"by {_pct(-row['delta_rel'])}")
            for row in trends
            if _comparable(row) and row.get("delta_rel") is not None and -row["delta_rel"] > th.big_drop_rel
            and _drop_allowed(th, row)]


def enps_neg(enps: Iterable[Row], th: Thresholds) -> list[Finding]:
    """ENPS_NEG: eNPS below the threshold (0)."""
    return [_finding(th, "ENPS_NEG", row, row["enps"], th.enps_neg,
                     f"{_group(row)}: eNPS is {_fmt(row['enps'], 1)} in {row['survey_id']}, below {th.enps_neg}",
                     _provenance(th, "marts.enps", row, _KEYS,
                                 ("enps", "promoters", "passives", "detractors", "n_respondents"), ("enps_neg",)))
            for row in enps if _published(row, "enps") and row["enps"] < th.enps_neg]


def _participation_ok(row: Row, th: Thresholds) -> bool:
    return row.get("invited") is not None and row["invited"] >= th.min_n


def low_participation(participation: Iterable[Row], th: Thresholds) -> list[Finding]:
    """LOW_PARTICIPATION: the participation rate below the threshold (groups of at least min_n invited)."""
    return [_finding(th, "LOW_PARTICIPATION", row, row["participation_rate"], th.low_participation,
                     f"{_group(row)}: {row['responded']} of {row['invited']} responded in {row['survey_id']} "
                     f"({_pct(row['participation_rate'])}), below {_pct(th.low_participation)}",
                     _provenance(th, "marts.participation", row, _KEYS,
                                 ("invited", "responded", "participation_rate"), ("low_participation", "min_n")))
            for row in participation
            if _participation_ok(row, th) and row.get("participation_rate") is not None
            and row["participation_rate"] < th.low_participation]


def participation_drop(participation: Iterable[Row], th: Thresholds) -> list[Finding]:
    """PARTICIPATION_DROP: the rate fell by more than the threshold, relative to the previous survey."""
    return [_finding(th, "PARTICIPATION_DROP", row, row["participation_change_rel"], th.participation_drop,
                     f"{_group(row)}: participation fell by {_pct(-row['participation_change_rel'])} since "
                     f"{row['prev_survey_id']} ({_pct(row['prev_participation_rate'])} to "
                     f"{_pct(row['participation_rate'])})",
                     _provenance(th, "marts.participation", row, _KEYS,
                                 ("invited", "responded", "participation_rate", "prev_survey_id",
                                  "prev_participation_rate", "participation_change_rel"),
                                 ("participation_drop", "min_n")))
            for row in participation
            if _participation_ok(row, th) and row.get("participation_change_rel") is not None
            and -row["participation_change_rel"] > th.participation_drop]


def neg_sent_spike(comment_insights: Iterable[Row], th: Thresholds) -> list[Finding]:
    """NEG_SENT_SPIKE: more than the threshold's share of a group's comments negative; names the theme most of
    them are about, which RECURRING follows."""
    return [_finding(th, "NEG_SENT_SPIKE", row, row["negative_share"], th.neg_sent_spike,
                     f"{_group(row)}: {_pct(row['negative_share'])} of {row['n_comments']} comments are negative "
                     f"in {row['survey_id']}"
                     + (f", most of them about {row['top_negative_theme']}" if row.get("top_negative_theme") else ""),
                     _provenance(th, "marts.comment_insights", row, _KEYS,
                                 ("negative_share", "n_comments", "top_negative_theme"), ("neg_sent_spike",)),
                     theme=row.get("top_negative_theme"))
            for row in comment_insights
            if _published(row, "negative_share") and row["negative_share"] > th.neg_sent_spike]


def recurring(findings: Iterable[Finding], survey_order: Sequence[str], th: Thresholds) -> list[Finding]:
    """RECURRING: the same issue (group, alert type, driver or theme) raised in ``recurring_min_surveys`` or
    more surveys. One alert per issue, dated by the latest of those surveys (in ``survey_order``)."""
    position = {s: i for i, s in enumerate(survey_order)}
    surveys: dict[tuple, dict[str, Finding]] = defaultdict(dict)
    for f in findings:
        if f.alert_type != "RECURRING":
            surveys[f.issue][f.survey_id] = f
    found = []
    for (team_id, scope, alert_type, driver_id, theme), by_survey in surveys.items():
        if len(by_survey) < th.recurring_min_surveys:
            continue
        ordered = sorted(by_survey, key=lambda s: (position.get(s, len(position)), s))
        latest = by_survey[ordered[-1]]
        subject = driver_id or theme or ""
        found.append(Finding(
            alert_type="RECURRING", severity=th.severity["RECURRING"], survey_id=latest.survey_id, team_id=team_id,
            scope=scope, team_name=latest.team_name, driver_id=driver_id, theme=theme,
            metric_value=Decimal(len(ordered)), threshold=Decimal(th.recurring_min_surveys),
            message=(f"{latest.team_name or team_id}: {alert_type}{' (' + subject + ')' if subject else ''} "
                     f"raised in {len(ordered)} surveys: {', '.join(ordered)}"),
            provenance={"rule_version": RULE_VERSION, "recurring_type": alert_type,
                        "thresholds": {"recurring_min_surveys": th.recurring_min_surveys},
                        "surveys": ordered, "alerts": [by_survey[s].dedup_key for s in ordered]}))
    return found


def evaluate(marts: Mapping[str, Sequence[Row]], survey_order: Sequence[str], th: Thresholds) -> list[Finding]:
    """Every finding over the marts' rows (``marts``: driver_scores, engagement, enps, participation, trends,
    comment_insights), RECURRING last, as it counts the others."""
    findings = [
        *low_score(marts.get("driver_scores", ()), marts.get("engagement", ()), th),
        *big_drop_abs(marts.get("trends", ()), th),
        *big_drop_rel(marts.get("trends", ()), th),
        *enps_neg(marts.get("enps", ()), th),
        *low_participation(marts.get("participation", ()), th),
        *participation_drop(marts.get("participation", ()), th),
        *neg_sent_spike(marts.get("comment_insights", ()), th),
    ]
    findings += recurring(findings, survey_order, th)
    keys = [f.dedup_key for f in findings]
    if len(keys) != len(set(keys)):  # one mart row per group and driver: a repeat means the marts are broken
        raise ValueError("two findings share a dedup key; the marts hold a group twice")
    return findings
