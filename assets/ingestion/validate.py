"""Apply a contract to a delivered frame: split it into rows to load and rows to quarantine (with every reason)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from assets.ingestion.files import LINE

_UNIQUENESS_CHECKS = {"multiple_fields_uniqueness", "field_uniqueness", "unique"}


@dataclass(frozen=True)
class Rejection:
    """One delivered record that did not meet its contract."""

    line_number: int | None
    raw_record: dict[str, str] | None
    reasons: tuple[str, ...]


@dataclass
class Split:
    valid: pd.DataFrame  # still text, ready to be cast
    rejected: list[Rejection] = field(default_factory=list)


def reasons_by_row(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> dict[int, list[str]]:
    """Validate lazily; return, for each failing row label, its distinct reasons in check order."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _collect(errors.failure_cases, schema)
    return {}


def _collect(failures: pd.DataFrame, schema: pa.DataFrameSchema) -> dict[int, list[str]]:
    unique_cols = schema.unique or []
    duplicate_reason = f"duplicate {', '.join(unique_cols)} (an earlier row has the same)" if unique_cols else ""
    reasons: dict[int, list[str]] = defaultdict(list)
    for index, check in zip(failures["index"], failures["check"]):
        if index is None or pd.isna(index):
            raise ValueError(f"contract {schema.name} failed on the whole frame: {check}")
        text = duplicate_reason if str(check) in _UNIQUENESS_CHECKS else str(check)
        row = reasons[int(index)]
        if text not in row:
            row.append(text)
    return dict(reasons)


def split(frame: pd.DataFrame, schema: pa.DataFrameSchema, extra: dict[int, list[str]] | None = None) -> Split:
    """Rows that pass ``schema`` (and have no ``extra`` reasons) stay; the rest become rejections.

    ``extra`` holds reasons found outside pandera (e.g. a hierarchy cycle), keyed by row label.
    """
    reasons = reasons_by_row(frame, schema)
    for index, more in (extra or {}).items():
        row = reasons.setdefault(index, [])
        row.extend(r for r in more if r not in row)
    if not reasons:
        return Split(valid=frame)
    bad = frame.index.isin(list(reasons))
    data_columns = [c for c in frame.columns if c != LINE]
    rejected = [
        Rejection(line_number=int(line), raw_record=dict(zip(data_columns, values)), reasons=tuple(reasons[index]))
        for index, line, values in zip(
            frame.index[bad], frame.loc[bad, LINE], frame.loc[bad, data_columns].itertuples(index=False, name=None)
        )
    ]
    return Split(valid=frame.loc[~bad], rejected=rejected)
