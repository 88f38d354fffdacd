"""Reading landing CSVs: exact start lines, whole-file rejections, nothing silently dropped."""

from pathlib import Path

import pytest

from assets.ingestion.files import LINE, UnreadableFile, read_csv

COLUMNS = ("response_id", "score", "comment")


def write(tmp_path: Path, text: str | bytes, name: str = "responses.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_one_line_records_get_lines_from_two(tmp_path):
    f = read_csv(write(tmp_path, "response_id,score,comment\nr1,5,\nr2,7,fine\n"), COLUMNS)
    assert f.frame[LINE].tolist() == [2, 3]
    assert f.frame["comment"].tolist() == ["", "fine"]
    assert f.rows_delivered == 2 and not f.malformed


def test_quoted_newlines_shift_the_following_start_lines(tmp_path):
    text = 'response_id,score,comment\nr1,5,"two\nlines"\nr2,6,"three\n\nlines, really"\nr3,7,x\n'
    f = read_csv(write(tmp_path, text), COLUMNS)
    # r1 starts on 2 (spans 2-3), r2 on 4 (spans 4-6), r3 on 7
    assert f.frame[LINE].tolist() == [2, 4, 7]
    assert f.frame["comment"].tolist()[1] == "three\n\nlines, really"


def test_fast_and_careful_parsers_agree_on_lines(tmp_path):
    body = "".join(f'r{i},{i % 10},"c{i}\nmore"\n' if i % 3 == 0 else f"r{i},{i % 10},\n" for i in range(50))
    fast = read_csv(write(tmp_path, "response_id,score,comment\n" + body, "a.csv"), COLUMNS)
    # a blank line forces the careful parser; it is not a record and shifts later lines by one
    careful = read_csv(write(tmp_path, "response_id,score,comment\n\n" + body, "b.csv"), COLUMNS)
    assert (careful.frame[LINE] - 1).tolist() == fast.frame[LINE].tolist()
    assert careful.frame["comment"].tolist() == fast.frame["comment"].tolist()


def test_records_of_the_wrong_width_are_kept_aside_with_their_line(tmp_path):
    f = read_csv(write(tmp_path, "response_id,score,comment\nr1,5,\nr2,7\nr3,1,a,b\nr4,2,\n"), COLUMNS)
    assert f.frame["response_id"].tolist() == ["r1", "r4"]
    assert [(line, reason) for line, _, reason in f.malformed] == [
        (3, "record has 2 fields, the header has 3"),
        (4, "record has 4 fields, the header has 3"),
    ]
    assert f.rows_delivered == 4


def test_header_order_does_not_matter_but_names_do(tmp_path):
    f = read_csv(write(tmp_path, "comment,score,response_id\nhi,3,r1\n"), COLUMNS)
    assert f.frame[list(COLUMNS)].iloc[0].tolist() == ["r1", "3", "hi"]
    with pytest.raises(UnreadableFile, match=r"wrong header \(missing comment; unexpected 'remark'\)"):
        read_csv(write(tmp_path, "response_id,score,remark\nr1,3,hi\n", "c.csv"), COLUMNS)


def test_byte_order_mark_is_accepted(tmp_path):
    f = read_csv(write(tmp_path, "\ufeffresponse_id,score,comment\nr1,3,\n".encode()), COLUMNS)
    assert f.frame["response_id"].tolist() == ["r1"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"response_id,score,comment\nr1,3,caf\xe9\n", "is not UTF-8"),
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n", "is not UTF-8"),
        (b"response_id,score,comment\nr1,\x00,\n", "NUL bytes"),
        (b'{"not": "csv"}\n', "wrong header"),
    ],
)
def test_unreadable_files_are_rejected_whole_with_one_clear_reason(tmp_path, content, message):
    with pytest.raises(UnreadableFile, match=message) as info:
        read_csv(write(tmp_path, content), COLUMNS)
    assert "\n" not in str(info.value)


def test_header_only_file_has_no_records(tmp_path):
    f = read_csv(write(tmp_path, "response_id,score,comment\n"), COLUMNS)
    assert f.rows_delivered == 0
