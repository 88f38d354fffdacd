"""Reading landing-zone files into string frames without losing a byte of evidence.

Everything is read as text (no type inference): the data contract decides what a value means, and a
rejected row keeps exactly what was delivered. Each record carries the physical line it starts on, so that
quarantine rows point at the line an operator opens in an editor (quoted comments may span lines).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

LINE = "_line"  # column holding the physical line number a record starts on (header = line 1)


class UnreadableFile(ValueError):
    """The file cannot be read at all; it is rejected whole with this one-line reason."""


@dataclass
class CsvFile:
    """A delivered CSV file: its records as strings, plus records that do not even have the right shape."""

    path: Path
    sha256: str
    frame: pd.DataFrame  # one column per expected field (str) plus LINE
    malformed: list[tuple[int, dict[str, str], str]] = field(default_factory=list)  # (line, record, reason)

    @property
    def rows_delivered(self) -> int:
        return len(self.frame) + len(self.malformed)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """The file's sha256, read in 1 MiB blocks (a survey's responses.csv runs to hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def decode_utf8(data: bytes, path: Path) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path.name} is not UTF-8 (invalid byte at offset {exc.start})") from exc
    if "\x00" in text:
        raise UnreadableFile(f"{path.name} contains NUL bytes; it is not a CSV text file")
    return text


def check_header(header: list[str], expected: tuple[str, ...], path: Path) -> None:
    """The header must name exactly the expected columns (any order)."""
    names = [h.strip() for h in header]
    missing = [c for c in expected if c not in names]
    unexpected = [c for c in names if c not in expected]
    duplicated = sorted({c for c in names if names.count(c) > 1})
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected " + ", ".join(repr(c) for c in unexpected))
    if duplicated:
        problems.append("repeated " + ", ".join(duplicated))
    if problems:
        raise UnreadableFile(
            f"{path.name} has the wrong header ({'; '.join(problems)}); expected: {', '.join(expected)}"
        )


def read_csv(path: Path, expected: tuple[str, ...]) -> CsvFile:
    """Read a landing CSV. Raises :class:`UnreadableFile` for files that cannot be taken at all."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"{path.name} cannot be read: {exc.strerror or exc}") from exc
    digest = sha256_bytes(data)
    text = decode_utf8(data, path)
    if not text.strip():
        raise UnreadableFile(f"{path.name} is empty (not even a header)")
    first_line = text.split("\n", 1)[0].rstrip("\r")
    try:
        header = next(csv.reader([first_line]))
    except csv.Error as exc:
        raise UnreadableFile(f"{path.name} is not CSV: {exc}") from exc
    check_header(header, expected, path)
    header = [h.strip() for h in header]

    frame = _fast_parse(data, header)
    if frame is not None:
        return CsvFile(path=path, sha256=digest, frame=frame[[*expected, LINE]])
    frame, malformed = _careful_parse(text, header, path)
    return CsvFile(path=path, sha256=digest, frame=frame[[*expected, LINE]], malformed=malformed)


def _fast_parse(data: bytes, header: list[str]) -> pd.DataFrame | None:
    """Arrow's multithreaded parser (about 10x the csv module on 1.25 M rows).

    Start lines are derived from the newlines inside each record's values. That is exact only when every
    record has the header's width and no blank line was skipped, so anything else returns None and the
    careful parser takes over.
    """
    if b"\n\n" in data or b"\n\r\n" in data:
        return None  # blank lines (or blank lines inside quoted values): let the careful parser count
    invalid: list[object] = []

    def on_invalid(row: object) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=True, encoding="utf8"),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if invalid or table.column_names != header:
        return None
    spans = np.ones(table.num_rows, dtype=np.int64)
    for name in header:
        spans += pc.count_substring(table[name], "\n").to_numpy(zero_copy_only=False)
    frame = table.to_pandas()
    frame[LINE] = 2 + np.concatenate(([0], np.cumsum(spans)[:-1])) if len(spans) else np.array([], dtype=np.int64)
    return frame


def _careful_parse(text: str, header: list[str], path: Path) -> tuple[pd.DataFrame, list]:
    """The csv module, record by record: exact start lines, and records of the wrong width kept aside."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    width = len(header)
    records: list[list[str]] = []
    lines: list[int] = []
    malformed: list[tuple[int, dict[str, str], str]] = []
    previous_end = 0
    try:
        for index, row in enumerate(reader):
            start = previous_end + 1
            previous_end = reader.line_num
            if index == 0:
                continue  # the header, already checked
            if not row or (len(row) == 1 and row[0] == ""):
                continue  # a blank line is not a record
            if len(row) != width:
                record = {f"field_{i + 1}": v for i, v in enumerate(row)}
                malformed.append((start, record, f"record has {len(row)} fields, the header has {width}"))
                continue
            records.append(row)
            lines.append(start)
    except csv.Error as exc:
        raise UnreadableFile(f"{path.name} is not valid CSV near line {reader.line_num}: {exc}") from exc
    frame = pd.DataFrame(records, columns=header, dtype=str) if records else pd.DataFrame(
        {h: pd.Series([], dtype=str) for h in header}
    )
    frame[LINE] = pd.Series(lines, dtype="int64")
    return frame, malformed
