"""CSV exports: spreadsheet formulas neutralised, suppressed values spelled out, safe file names."""

from __future__ import annotations

import csv
import io

import pandas as pd

from dashboards.export import csv_on_click, download_name, mark_suppressed, neutralise, to_csv_bytes


def rows(payload: bytes) -> list[list[str]]:
    assert payload.startswith(b"\xef\xbb\xbf")  # the UTF-8 byte-order mark Excel needs
    return list(csv.reader(io.StringIO(payload.decode("utf-8-sig"), newline="")))


def test_formula_cells_get_a_leading_apostrophe() -> None:
    frame = pd.DataFrame({"text": ["=1+1", "+cmd", "-2", "@SUM(A1:A2)", "\t=x", "\r=y", "plain text", None]})

    assert rows(to_csv_bytes(frame)) == [
        ["text"], ["'=1+1"], ["'+cmd"], ["'-2"], ["'@SUM(A1:A2)"], ["'\t=x"], ["'\r=y"], ["plain text"], [""],
    ]


def test_numbers_stay_numbers() -> None:
    frame = pd.DataFrame({"score": [-2, 7], "share": [-0.25, 0.5], "label": ["a", "b"]})

    assert rows(to_csv_bytes(frame)) == [["score", "share", "label"], ["-2", "-0.25", "a"], ["7", "0.5", "b"]]


def test_text_inside_a_cell_is_left_alone() -> None:
    assert neutralise("costs went up -2 %") == "costs went up -2 %"
    assert neutralise("a=b") == "a=b"
    assert neutralise(-2) == -2 and neutralise(None) is None


def test_header_is_neutralised_and_unicode_survives() -> None:
    frame = pd.DataFrame({"=cmd": ["Wójcik café"]})

    assert rows(to_csv_bytes(frame)) == [["'=cmd"], ["Wójcik café"]]


def test_mark_suppressed_spells_out_withheld_values() -> None:
    frame = pd.DataFrame({
        "team": ["a3", "b5"], "mean_score": [None, 7.25], "n": [3, 5], "suppressed": [True, False],
    })

    marked = mark_suppressed(frame, ["mean_score"], 4)

    assert marked["mean_score"].tolist() == ["suppressed (fewer than 4 responses)", 7.25]
    assert marked["n"].tolist() == [3, 5]  # columns not named stay as they are
    assert frame["mean_score"].isna().tolist() == [True, False]  # the page's own frame is untouched
    assert rows(to_csv_bytes(marked))[1] == ["a3", "suppressed (fewer than 4 responses)", "3", "True"]
    assert mark_suppressed(frame, ["mean_score"], 5, unit="comments")["mean_score"][0] == (
        "suppressed (fewer than 5 comments)"
    )


def test_mark_suppressed_without_flag_or_rows() -> None:
    frame = pd.DataFrame({"mean_score": [1.0]})
    assert mark_suppressed(frame, ["mean_score"], 4).equals(frame)
    empty = pd.DataFrame({"mean_score": [], "suppressed": []})
    assert mark_suppressed(empty, ["mean_score"], 4).empty


def test_download_names_are_safe() -> None:
    assert download_name("comments", "2026-03") == "novora-comments-2026-03.csv"
    assert download_name("alerts", None, "") == "novora-alerts.csv"
    assert download_name("Team", "../../etc/passwd", "Sales & Ops") == "novora-team-etc-passwd-sales-ops.csv"


def test_the_file_is_made_on_click_and_is_the_safe_csv() -> None:
    frame = pd.DataFrame({"comment": ["=HYPERLINK(\"http://x\")", "fine"], "score": [-2, 7]})
    later = csv_on_click(frame)
    assert callable(later)
    made = later()
    assert made == to_csv_bytes(frame)
    assert made.decode("utf-8-sig").splitlines()[1].startswith("\"'=HYPERLINK")


def test_a_frame_read_on_click_is_read_only_then() -> None:
    reads: list[int] = []

    def read() -> pd.DataFrame:
        reads.append(1)
        return pd.DataFrame({"comment": ["@everyone", "fine"]})

    later = csv_on_click(read)
    assert reads == []  # nothing read while the page runs
    assert later().decode("utf-8-sig").splitlines() == ["comment", "'@everyone", "fine"]
    assert reads == [1]
