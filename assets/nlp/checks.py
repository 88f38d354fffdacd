"""Independent checks on what the NLP assets wrote (Dagster asset checks call these).

``leftover_pii`` re-reads the masked texts with deliberately simple rules, written apart from
:mod:`assets.nlp.pii`: an address shape, an international phone number, the US SSN shape, Luhn-valid card
numbers, and the roster's full names as word n-grams. If masking ever regresses, this is what notices, before
any mart or embedding is built from the text. (Order ids and dates must pass, so no bare "long number" rule.)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import psycopg

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+\d{1,3}[ .\-]?(?:\(?\d+\)?[ .\-]?){2,}\d")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


def name_ngrams(full_names: Iterable[str]) -> set[tuple[str, ...]]:
    return {tuple(w.casefold() for w in _WORD.findall(name)) for name in full_names if len(_WORD.findall(name)) > 1}


def leftover_pii(texts: Iterable[str], names: set[tuple[str, ...]]) -> Counter:
    """How many texts still show an e-mail address, a long digit run or a roster full name."""
    found: Counter = Counter()
    lengths = sorted({len(n) for n in names})
    for text in texts:
        if _EMAIL.search(text):
            found["email"] += 1
        if _PHONE.search(text):
            found["phone"] += 1
        if _SSN.search(text):
            found["ssn"] += 1
        if any(_luhn(m.group()) for m in _CARD.finditer(text)):
            found["card"] += 1
        words = [w.casefold() for w in _WORD.findall(text)]
        if any(tuple(words[i:i + k]) in names for k in lengths for i in range(len(words) - k + 1)):
            found["name"] += 1
    return found


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def roster_ngrams(conn: psycopg.Connection) -> set[tuple[str, ...]]:
    return name_ngrams(row[0] for row in conn.execute("select full_name from raw.employees"))


def survey_leftover_pii(conn: psycopg.Connection, survey_id: str, names: set[tuple[str, ...]]) -> Counter:
    texts = (row[0] for row in conn.execute("select text_masked from nlp.comments where survey_id = %s",
                                            (survey_id,)))
    return leftover_pii(texts, names)


def unmasked_count(conn: psycopg.Connection, survey_id: str) -> tuple[int, int]:
    """(comment answers in raw, masked comments in nlp) for a survey: they must be equal."""
    row = conn.execute(
        """select
               (select count(*) from raw.responses
                where survey_id = %(s)s and comment is not null and btrim(comment) <> ''),
               (select count(*) from nlp.comments where survey_id = %(s)s)""",
        {"s": survey_id},
    ).fetchone()
    return int(row[0]), int(row[1])


def unembedded_count(conn: psycopg.Connection, survey_id: str, view_names: Sequence[str]) -> int:
    """Distinct masked texts of the survey that lack a vector of at least one of ``view_names``."""
    row = conn.execute(
        """select count(*) from (select distinct text_sha256 from nlp.comments where survey_id = %s) as c
           where (select count(*) from nlp.embeddings as e
                  where e.text_sha256 = c.text_sha256 and e.model_name = any(%s)) < %s""",
        (survey_id, list(view_names), len(set(view_names))),
    ).fetchone()
    return int(row[0])


def unenriched_count(conn: psycopg.Connection, survey_id: str) -> int:
    row = conn.execute(
        """select count(*) from nlp.comments as c
           left join nlp.comment_enrichment as e on e.comment_id = c.comment_id
           where c.survey_id = %s and e.comment_id is null""",
        (survey_id,),
    ).fetchone()
    return int(row[0])
