"""What an alert says, and whether an evaluation changed it: pure functions behind alerts.alert_revisions.

An alert is revised when an evaluation raises it or finds that what it says changed: its value, threshold,
severity or message, the rule version or thresholds that produced it, the mart values it stands on, or the
sentiment model whose scores it was computed from. An evaluation that finds all of these unchanged (a re-score
after an unrelated change, a second re-score) writes no revision. The notes on lifecycle events name the
versions that made the difference ("rule version 2 (was 1), low_score 5.5 (was 6.0)").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation

UNRECORDED = "unrecorded"  # comments scored before the sentiment model was recorded (migration 0009)
RESCORE_TRIGGER = "novora rescore"  # the trigger of a `novora rescore` evaluation starts with this


@dataclass(frozen=True)
class Statement:
    """What one alert says after one evaluation (one row of alerts.alert_revisions, less its keys)."""

    severity: str
    metric_value: Decimal | None
    threshold: Decimal
    message: str
    rule_version: str
    thresholds: Mapping[str, object]
    provenance: Mapping[str, object]
    sentiment_model: str | None = None


def comment_based(alert_type: str, provenance: Mapping[str, object]) -> bool:
    """Whether the alert is computed from comment sentiment (so the sentiment model is part of what it says)."""
    return alert_type == "NEG_SENT_SPIKE" or (alert_type == "RECURRING"
                                              and provenance.get("recurring_type") == "NEG_SENT_SPIKE")


def join_models(models: Iterable[str | None]) -> str | None:
    """One label for several surveys' sentiment models: the distinct ones, sorted, joined with ", "."""
    parts = sorted({part for model in models if model for part in model.split(", ")})
    return ", ".join(parts) or None


def alert_sentiment_model(alert_type: str, survey_id: str, provenance: Mapping[str, object],
                          models_by_survey: Mapping[str, str]) -> str | None:
    """The sentiment model behind a comment-based alert (its survey's, or for RECURRING the surveys' it counts);
    None for alerts that do not read sentiment."""
    if not comment_based(alert_type, provenance):
        return None
    surveys = provenance.get("surveys") if alert_type == "RECURRING" else [survey_id]
    return join_models(models_by_survey.get(str(s)) for s in surveys or ())


def what_changed(previous: Statement | None, current: Statement) -> list[str]:
    """The names of what differs between an alert's latest revision and what it says now (numbers compare by
    value: 5.0 and 5.00 are the same); ["raised"] when it has no revision yet, [] when nothing changed."""
    if previous is None:
        return ["raised"]
    return [f.name for f in fields(Statement) if not same(getattr(previous, f.name), getattr(current, f.name))]


def same(a: object, b: object) -> bool:
    """JSON-like values equal, decimal numbers and their text compared by value."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    left, right = _number(a), _number(b)
    if left is not None and right is not None:
        return left == right
    return a == b


def _number(value: object) -> Decimal | None:
    if isinstance(value, Decimal | int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def occasion(trigger: str) -> str:
    """How an event note names the evaluation: a re-score (``novora rescore``) or any other re-evaluation."""
    return "re-score" if trigger.startswith(RESCORE_TRIGGER) else "re-evaluation"


def versions_note(previous: Statement | None, rule_version: str, thresholds: Mapping[str, object],
                  sentiment_model: str | None) -> str:
    """The versions an evaluation used, against those the alert's latest revision was produced with: the rule
    version always, then each of the alert's thresholds and its sentiment model where they changed."""
    was = previous.rule_version if previous is not None else rule_version
    parts = [f"rule version {rule_version}" + ("" if was == rule_version else f" (was {was})")]
    for name, old in (previous.thresholds if previous is not None else {}).items():
        new = thresholds.get(name)
        if not same(old, new):
            parts.append(f"{name} {_text(new)} (was {_text(old)})")
    if previous is not None and previous.sentiment_model is not None \
            and previous.sentiment_model != sentiment_model:
        parts.append(f"sentiment model {sentiment_model or 'none'} (was {previous.sentiment_model})")
    if len(parts) == 1 and was == rule_version:
        parts.append("same thresholds")
    return ", ".join(parts)


def resolved_note(trigger: str, versions: str) -> str:
    return f"no longer holds on {occasion(trigger)}: {versions}"


def reopened_note(trigger: str, versions: str) -> str:
    return f"holds again on {occasion(trigger)}: {versions}"


def raised_note(trigger: str, current: Statement) -> str:
    """The first event's note: the rule version, and on a re-score the thresholds (and model) it was raised by."""
    if occasion(trigger) != "re-score":
        return f"raised by rule version {current.rule_version}"
    parts = [f"rule version {current.rule_version}",
             *(f"{name} {_text(value)}" for name, value in current.thresholds.items())]
    if current.sentiment_model is not None:
        parts.append(f"sentiment model {current.sentiment_model}")
    return f"raised on re-score: {', '.join(parts)}"


def _text(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
