"""CSV downloads of what a page shows: safe to open in a spreadsheet, with suppressed groups spelled out.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by Excel,
LibreOffice and Google Sheets; a comment such as ``=HYPERLINK(...)`` would run when a manager opens the export.
Such text cells get a leading apostrophe (OWASP "CSV injection"); numbers are left alone, so -2 stays a number.
Files are UTF-8 with a byte-order mark, which Excel needs to read accents and non-Latin names correctly.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SAFE_NAME_PART = re.compile(r"[^a-z0-9]+")


def neutralise(value: object) -> object:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV (header row, no index), UTF-8 with BOM, every formula-like text cell neutralised."""
    safe = frame.copy()
    safe.columns = [neutralise(str(column)) for column in safe.columns]
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    # CRLF row ends (RFC 4180): a cell holding a bare CR or LF is then quoted, so it cannot split a row
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def csv_on_click(frame: pd.DataFrame | Callable[[], pd.DataFrame]) -> Callable[[], bytes]:
    """``frame``'s CSV made only when someone clicks the download button (``st.download_button`` calls it):
    a page run does not pay for a file nobody downloads. ``frame`` may be a function that reads the frame then."""
    if callable(frame):
        return lambda: to_csv_bytes(frame())
    return functools.partial(to_csv_bytes, frame)


def suppressed_text(min_n: int, unit: str = "responses") -> str:
    """What an export says instead of a withheld value."""
    return f"suppressed (fewer than {int(min_n)} {unit})"


def mark_suppressed(
    frame: pd.DataFrame,
    columns: Iterable[str],
    min_n: int,
    *,
    flag: str = "suppressed",
    unit: str = "responses",
) -> pd.DataFrame:
    """A copy of ``frame`` where ``columns`` of the rows flagged in ``flag`` read "suppressed (fewer than N ...)".

    The marts leave suppressed values null; an empty cell in a spreadsheet reads as "no data" or zero, so the
    export says why it is empty. The marked columns become text columns (object dtype).
    """
    marked = frame.copy()
    if flag not in marked.columns or marked.empty:
        return marked
    hidden = marked[flag].fillna(False).astype(bool)
    text = suppressed_text(min_n, unit)
    for column in columns:
        if column in marked.columns:
            marked[column] = marked[column].astype(object).where(~hidden, text)
    return marked


def download_name(page: str, *parts: object) -> str:
    """A file name safe on every system: ``download_name("comments", "2026-03")`` -> novora-comments-2026-03.csv."""
    words = [page, *parts]
    cleaned = [SAFE_NAME_PART.sub("-", str(word).lower()).strip("-") for word in words if word not in (None, "")]
    return "-".join(["novora", *[word for word in cleaned if word]]) + ".csv"
