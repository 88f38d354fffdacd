"""Personal data in free-text survey comments becomes placeholders before anything else reads the comment.

Comments are the most sensitive data Novora holds: people name colleagues, paste their phone number, complain
that payroll printed their SSN. Every downstream step (embeddings, sentiment, themes, search, the dashboard)
works on the masked text only, so a miss here leaks everywhere and a false alarm only costs a few words.

Detection is rule based and pure: regular expressions find candidates and small validators (Luhn, ISO 7064
mod-97, phone number shapes, URL parameters) decide. Names of people come from the roster, looked up token
by token in sets and dictionaries built once per run, so a 50,000-person roster costs the same per comment as
a 50-person one. Spans of different kinds never overlap: the more specific kind wins (a URL that carries an
e-mail address is one ``[URL]``, an IBAN's digits are not also a card).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

KINDS: tuple[str, ...] = ("email", "phone", "national_id", "card", "iban", "url", "name")
PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]", "phone": "[PHONE]", "national_id": "[NATIONAL_ID]", "card": "[CARD]",
    "iban": "[IBAN]", "url": "[URL]", "name": "[NAME]",
}
# When candidates overlap, the earlier kind wins: a URL swallows the e-mail in its query string, an IBAN its
# digit groups, a card or an ID number the shorter phone-like runs inside it.
PRIORITY: tuple[str, ...] = ("url", "email", "iban", "card", "national_id", "phone", "name")

DATA_DIR = Path(__file__).parent / "data"
LABELLED_PATH = DATA_DIR / "pii_labelled.jsonl"
ROSTER_PATH = DATA_DIR / "pii_roster.csv"


@dataclass(frozen=True)
class Span:
    """Characters ``text[start:end]`` hold personal data of ``kind`` (one of :data:`KINDS`)."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Masked:
    """A comment with its personal data replaced, and how many pieces of each kind were replaced."""

    text: str
    counts: dict[str, int]


@dataclass(frozen=True)
class LabelledExample:
    """One hand-labelled sentence of the shipped evaluation set."""

    id: str
    text: str
    spans: tuple[Span, ...]
    note: str = ""


# ------------------------------------------------------------------------------------------- checksums


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn test that every payment card (and a Canadian SIN) carries."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# The registered lengths of the countries people here are likely to bank in; other countries are checked by
# mod-97 alone.
IBAN_LENGTHS: Mapping[str, int] = MappingProxyType({
    "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
    "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LT": 20,
    "LU": 20, "LV": 21, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "TR": 26, "AE": 23, "SA": 24, "IL": 23, "BR": 29,
})


def iban_valid(compact: str) -> bool:
    """ISO 7064 mod-97: the country and check digits move to the end, letters become 10..35, remainder is 1."""
    compact = compact.upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    if compact[:2] in IBAN_LENGTHS and len(compact) != IBAN_LENGTHS[compact[:2]]:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# ------------------------------------------------------------------------------------------- e-mail addresses

# The local part may hold an apostrophe (o'brien.sean@...), but an address quoted as 'ann@acme.com' starts after it.
_EMAIL_RE = re.compile(
    r"(?<![\w.%+-])(?<!\w')\w[\w%+'-]*(?:\.[\w%+'-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_OBF_DOT = r"(?:\s*[\[({]\s*dot\s*[\])}]\s*|\s+dot\s+)"
_OBF_AT = r"(?:\s*[\[({]\s*(?:at|@)\s*[\])}]\s*|\s+at\s+)"
_OBF_WORD = r"[A-Za-z0-9_%+-]+"
_OBF_TLD = (r"(?:com|org|net|io|co|uk|de|fr|nl|es|it|eu|me|edu|gov|example|info|biz|us|ca|au|in|ch|se|no|dk|"
            r"pl|br|jp|ie|be|at|pt)")
_OBFUSCATED_EMAIL_RE = re.compile(
    rf"(?<![\w.@])(?P<local>{_OBF_WORD}(?:(?:{_OBF_DOT}|\.){_OBF_WORD})*)(?P<at>{_OBF_AT})"
    rf"(?P<domain>(?:{_OBF_WORD}(?:{_OBF_DOT}|\.))+{_OBF_TLD})\b",
    re.IGNORECASE,
)
# "Meet me at acme dot com" is a sentence, not an address: a plain " at " needs a local part that is no pronoun.
_NOT_LOCAL_PARTS = frozenset({"me", "us", "him", "her", "them", "you", "it", "this", "that", "here", "there",
                              "work", "home", "look", "be", "is", "are", "was", "were", "arrive", "arrived"})


_OBFUSCATION_HINT_RE = re.compile(r"dot|[\[({]\s*(?:at|@)\s*[\])}]", re.IGNORECASE)


def email_spans(text: str) -> list[Span]:
    """Addresses, including plus-addressing and subdomains, and the obfuscated 'john dot smith at acme dot com'."""
    spans = [Span(m.start(), m.end(), "email") for m in _EMAIL_RE.finditer(text)] if "@" in text else []
    if not _OBFUSCATION_HINT_RE.search(text):
        return spans
    for m in _OBFUSCATED_EMAIL_RE.finditer(text):
        plain_at = m.group("at").strip().lower() == "at"
        domain_obfuscated = re.search(_OBF_DOT, m.group("domain"), re.IGNORECASE) is not None
        if plain_at and (not domain_obfuscated or m.group("local").lower() in _NOT_LOCAL_PARTS):
            continue
        spans.append(Span(m.start(), m.end(), "email"))
    return spans


# ------------------------------------------------------------------------------------------- URLs

_URL_RE = re.compile(
    r"(?:\bhttps?://|\bwww\.)[^\s<>\"'`]+"
    r"|(?<![\w@./-])(?:[A-Za-z0-9-]+\.)+(?:com|org|net|io|us|co|app|dev|example)/[^\s<>\"'`]*",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?'\"]}>"
_SENSITIVE_KEYS = frozenset({
    "token", "key", "apikey", "sig", "signature", "session", "sessionid", "sid", "email", "mail", "user",
    "username", "userid", "uid", "id", "employee", "employeeid", "empid", "login", "password", "pwd", "pass",
    "auth", "code", "otp", "secret", "phone", "name", "ssn", "accesstoken", "refreshtoken", "jwt", "hash",
})
_SENSITIVE_KEY_SUFFIXES = ("token", "key", "secret", "password", "session", "sessionid", "sig", "signature",
                           "email", "userid")
# A path segment like these followed by a value names a person or their session: /users/jsmith, /reset/abc.
_PERSONAL_PATH_SEGMENTS = frozenset({
    "session", "sessions", "token", "tokens", "user", "users", "u", "profile", "profiles", "people", "person",
    "employee", "employees", "reset", "reset-password", "invite", "invites", "invitation", "unsubscribe",
    "magic", "verify", "confirm", "auth",
})
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def _trim_url(candidate: str) -> str:
    """Drop the sentence punctuation a URL is followed by, keeping a closing bracket that the URL opened."""
    url = candidate
    while url and (url[-1] in _URL_TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _letter_digit_switches(piece: str) -> int:
    return sum(1 for a, b in zip(piece, piece[1:]) if a.isdigit() != b.isdigit())


def looks_random(run: str) -> bool:
    """A token, session id or document key rather than words: 16+ characters that switch between letters and
    digits again and again (``1aBcD3fGh5JkLmN0``), or a UUID. ``release-notes-2026-03`` or ``q3-okrs-v2``
    are words and numbers, not random."""
    if len(run) < 16:
        return False
    if _UUID_RE.search(run):
        return True
    pieces = [p for p in re.split(r"[_-]", run) if len(p) >= 6]
    return sum(_letter_digit_switches(p) for p in pieces) >= 3


def url_is_personal(url: str) -> bool:
    """True when the URL carries something about a person: a credential or identifier parameter with a value,
    an e-mail address, a user or session path, or a random-looking token. Plain page links stay readable."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    if "@" in parts.netloc:
        return True
    rest = unquote(url[url.find(parts.netloc) + len(parts.netloc):] if parts.netloc else url)
    if _EMAIL_RE.search(rest):
        return True
    for key, value in re.findall(r"([A-Za-z][A-Za-z0-9_.\-]*)=([^&;#/\s]*)", rest):
        normal = re.sub(r"[_.\-]", "", key.lower())
        if value and (normal in _SENSITIVE_KEYS or normal.endswith(_SENSITIVE_KEY_SUFFIXES)):
            return True
    segments = parts.path.split("/")
    for segment, following in zip(segments, segments[1:]):
        if segment.lower() in _PERSONAL_PATH_SEGMENTS and following:
            return True
    return any(looks_random(run) for run in re.findall(r"[A-Za-z0-9_-]{16,}", rest))


def url_spans(text: str) -> list[Span]:
    """Links that carry personal tokens; ``https://confluence.acme.com/display/TEAM/Roadmap`` is left alone."""
    if "/" not in text and "www." not in text.lower():
        return []
    spans = []
    for m in _URL_RE.finditer(text):
        url = _trim_url(m.group())
        if url and url_is_personal(url):
            spans.append(Span(m.start(), m.start() + len(url), "url"))
    return spans


# ------------------------------------------------------------------------------------------- IBANs

_IBAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}")


def iban_spans(text: str) -> list[Span]:
    """Account numbers in the compact or the printed (groups of four) form that pass the mod-97 check.

    The candidate may run on into a following capitalised word ("... 32 IBAN"), so the longest prefix that
    validates and ends on a word boundary is taken.
    """
    spans = []
    for m in _IBAN_RE.finditer(text):
        positions = [m.start() + i for i, ch in enumerate(m.group()) if ch != " "]
        compact = m.group().replace(" ", "")
        for n in range(len(compact), 14, -1):
            end = positions[n - 1] + 1
            if end < len(text) and text[end].isalnum():
                continue
            if iban_valid(compact[:n]):
                spans.append(Span(m.start(), end, "iban"))
                break
    return spans


# ------------------------------------------------------------------------------------------- payment cards


def _longest_valid_prefix(candidate: str, offset: int, valid: Callable[[str], bool], kind: str) -> Span | None:
    """The longest prefix of ``candidate`` that ends at a group boundary and passes ``valid``."""
    cuts = [m.start() for m in re.finditer(r"[ .\-](?=[\d(])", candidate)] + [len(candidate)]
    for cut in reversed(cuts):
        if valid(candidate[:cut]):
            return Span(offset, offset + cut, kind)
    return None


_CARD_RE = re.compile(r"(?<![\w+\-./])\d(?:[ \-]?\d){12,22}(?!\w|[.\-/,]\d)")


def _card_groups_ok(groups: list[str]) -> bool:
    """Printed card numbers are grouped 4-4-4-4, 4-6-5 (Amex) or 4-4-4-4-3; one long run is fine too."""
    if len(groups) == 1:
        return True
    return len(groups[0]) == 4 and all(3 <= len(g) <= 6 for g in groups[1:-1]) and 1 <= len(groups[-1]) <= 6


def is_card_number(candidate: str) -> bool:
    """13-19 digits with a card network's first digit (2-6), a printed grouping and a valid Luhn check digit."""
    separators = set(re.findall(r"[ \-]", candidate))
    if len(separators) > 1:
        return False
    digits = re.sub(r"\D", "", candidate)
    groups = re.split(r"[ \-]", candidate)
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and _card_groups_ok(groups) and luhn_valid(digits)


_ACCOUNT_HEAD_RE = re.compile(r"\b[A-Z]{2}\d{2} ?(?:[A-Z0-9]{4} ?)*$")


def _continues_account_number(text: str, start: int) -> bool:
    """The digits at ``start`` are the tail of an IBAN-shaped string ("DE89 3704 ..."). When that IBAN fails
    its checksum, its digit groups are not a card or a phone number either."""
    return _ACCOUNT_HEAD_RE.search(text, max(0, start - 40), start) is not None


def card_spans(text: str) -> list[Span]:
    """Luhn-valid card numbers; a run that is too long is retried without its trailing groups (a year after)."""
    spans = []
    for m in _CARD_RE.finditer(text):
        if _continues_account_number(text, m.start()) or _continues_phone_number(text, m.start()):
            continue
        span = _longest_valid_prefix(m.group(), m.start(), is_card_number, "card")
        if span:
            spans.append(span)
    return spans


# ------------------------------------------------------------------------------------------- national IDs

_SSN_RE = re.compile(r"(?<![\w\-./+])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w\-]|[./,]\d)")
_SSN_CUE_RE = re.compile(
    r"\b(?:SSN|social security(?: number| no\.?)?|SIN|social insurance number)\D{1,20}?"
    r"(?P<id>(?!000|666|9\d\d)\d{9})(?!\w)",
    re.IGNORECASE,
)
# The shape alone (two letters, three pairs of digits, A-D) is distinctive enough; HMRC's prefix rules would
# reject the "QQ 12 34 56 C" specimen people copy from forms.
_NINO_RE = re.compile(r"(?<![\w\-])[A-Z]{2}( ?)\d{2}\1\d{2}\1\d{2}\1[A-D](?!\w)")
_SIN_RE = re.compile(r"(?<![\w\-./+])((?!000)[0-79]\d{2})([ \-])(\d{3})\2(\d{3})(?![\w\-]|[./,]\d)")


_PHONE_HEAD_RE = re.compile(r"(?:\+\d{1,3}|\(\d{1,5}\))[ .\-]?$")


def _continues_phone_number(text: str, start: int) -> bool:
    """The digits at ``start`` follow a country or area code ("+61 412 345 678"): the tail of a phone number."""
    return _PHONE_HEAD_RE.search(text, max(0, start - 10), start) is not None


def national_id_spans(text: str) -> list[Span]:
    """US SSNs (123-45-6789, 123 45 6789, or nine digits right after "SSN"), UK National Insurance numbers
    (QQ 12 34 56 C) and Canadian SINs (3-3-3 that pass Luhn). Shapes that collide with ordinary numbers, such
    as the Dutch BSN, are left out on purpose."""
    spans = [Span(m.start(), m.end(), "national_id") for m in _SSN_RE.finditer(text)
             if not _continues_phone_number(text, m.start())]
    spans += [Span(m.start("id"), m.end("id"), "national_id") for m in _SSN_CUE_RE.finditer(text)]
    spans += [Span(m.start(), m.end(), "national_id") for m in _NINO_RE.finditer(text)]
    spans += [Span(m.start(), m.end(), "national_id") for m in _SIN_RE.finditer(text)
              if luhn_valid(m.group(1) + m.group(3) + m.group(4)) and not _continues_phone_number(text, m.start())]
    return spans


# ------------------------------------------------------------------------------------------- phone numbers

_PHONE_RE = re.compile(
    r"(?<![\w+\-./@])"
    r"(?:\+\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?|\(\d{2,5}\)[ .\-]?)?"
    r"\d{1,8}(?:[ .\-]\d{1,8}){0,6}"
    r"(?![\w@]|[.\-/,]\d)"
)


def is_phone_number(candidate: str) -> bool:
    """International numbers (+ or 00, 8-15 digits), North American 3-3-4 and national numbers with a trunk 0.

    Anything else with digits in groups (dates, versions, order ids, IP addresses, amounts, SSNs) is not a
    phone number; a bare seven-digit local number is too ambiguous to mask.
    """
    digits = re.sub(r"\D", "", candidate)
    groups = [g for g in re.split(r"[ .\-()]+", candidate) if g]
    if candidate.startswith("+"):
        return 8 <= len(digits) <= 15 and digits[0] != "0"
    if digits.startswith("00"):
        return 10 <= len(digits) <= 17 and len(groups) >= 2 and digits[2] != "0"
    sizes = [len(g) for g in groups]
    if sizes == [3, 3, 4]:
        return digits[0] in "23456789"  # North American area codes never start with 0 or 1
    if sizes == [1, 3, 3, 4]:
        return digits[0] == "1"
    if digits.startswith("0") and 10 <= len(digits) <= 11 and len(groups) >= 2:
        return all(len(g) >= 2 for g in groups) and "." not in candidate
    return False


def phone_spans(text: str) -> list[Span]:
    """Phone numbers in the international and national formats people actually type."""
    spans = []
    for m in _PHONE_RE.finditer(text):
        if _continues_account_number(text, m.start()):
            continue
        span = _longest_valid_prefix(m.group(), m.start(), is_phone_number, "phone")
        if span:
            spans.append(span)
    return spans


# ------------------------------------------------------------------------------------------- names on the roster

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+|-[^\W\d_]+)*")
# Particles belong to the surname: "Anna de Vries" is (anna, de vries), not a middle name "de".
_PARTICLES = frozenset({"de", "da", "das", "do", "dos", "du", "van", "von", "der", "den", "del", "della", "di",
                        "la", "ter", "ten", "bin", "ibn", "al", "ni", "nic", "st"})
# The quick test for "could this comment name anyone" splits words at apostrophes ("smith's" -> "smith").
_TRIGGER_WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# A capital standing alone that could be an initial: "B", or "A." and "I." with their dot.
_INITIAL_HINT_RE = re.compile(r"(?<!\w)(?:[^\W\d_a-z](?=\.)|[^\W\d_a-zAI](?!\w))")
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))


# Letters that Unicode does not decompose but people type without the stroke: "Lukasz" for "Łukasz".
_FOLD_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"})


def fold_text(text: str) -> str:
    """Case-, accent- and apostrophe-insensitive form of a text: "José" and "jose", "O’Neil" and "O'Neil"."""
    text = text.replace("’", "'")
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().translate(_FOLD_LETTERS)


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """:func:`fold_text` of one word, cached: a comment corpus uses a few thousand distinct words."""
    return fold_text(word)


def split_name(full_name: str) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """(first, middles, surname tokens) of a roster name, folded; ``None`` for a one-word name.

    The surname is the last word plus any particles before it ("van der Berg"); everything between the first
    word and the surname is a middle name or initial.
    """
    words = [fold(w) for w in _WORD_RE.findall(full_name)]
    if len(words) < 2:
        return None
    start = len(words) - 1
    while start > 1 and words[start - 1] in _PARTICLES:
        start -= 1
    return words[0], tuple(words[1:start]), tuple(words[start:])


@dataclass(frozen=True, eq=False)
class Roster:
    """The people whose names must never reach an analyst, as lookup tables built once per run.

    Every table is keyed on folded words, so matching a comment is a handful of set and dict lookups per word,
    independent of how many people are on the roster.
    """

    full: frozenset[tuple[str, ...]] = frozenset()
    pairs: frozenset[tuple[str, tuple[str, ...]]] = frozenset()
    firsts: frozenset[str] = frozenset()
    given: frozenset[str] = frozenset()
    surnames: frozenset[tuple[str, ...]] = frozenset()
    surname_starts: frozenset[str] = frozenset()
    initial_surname: Mapping[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)
    first_initial: Mapping[tuple[str, str], int] = field(default_factory=dict)
    triggers: frozenset[str] = frozenset()
    full_lengths: tuple[int, ...] = ()
    size: int = 0

    @classmethod
    def from_full_names(cls, names: Iterable[str]) -> Roster:
        """Build the tables. The same name written twice is one name; one-word names are skipped (a first
        name alone is never masked)."""
        people = {}
        for name in names:
            parts = split_name(name)
            if parts:
                people[(parts[0], *parts[1], *parts[2])] = parts
        pairs: set[tuple[str, tuple[str, ...]]] = set()
        given: set[str] = set()
        initial_surname: Counter[tuple[str, tuple[str, ...]]] = Counter()
        first_initial: Counter[tuple[str, str]] = Counter()
        for first, middles, surname in people.values():
            pairs.add((first, surname))
            given.add(first)
            given.update(m for m in middles if len(m) > 1)
            if "-" in surname[-1]:  # "José García" for José García-López
                pairs.update((first, (*surname[:-1], part)) for part in surname[-1].split("-") if len(part) >= 3)
            initial_surname[(first[0], surname)] += 1
            first_initial[(first, surname[0][0])] += 1
        surnames = frozenset(s for _, s in pairs)
        firsts = frozenset(first for first, _ in pairs)
        starts = frozenset(s[0] for s in surnames)
        return cls(
            full=frozenset(people),
            pairs=frozenset(pairs),
            firsts=firsts,
            given=frozenset(given),
            surnames=surnames,
            surname_starts=starts,
            triggers=frozenset(word.split("'", 1)[0] for word in firsts | starts),
            initial_surname=MappingProxyType(dict(initial_surname)),
            first_initial=MappingProxyType(dict(first_initial)),
            full_lengths=tuple(sorted({len(k) for k in people}, reverse=True)),
            size=len(people),
        )

    @classmethod
    def from_csv(cls, path: Path) -> Roster:
        """A roster from a CSV file with a ``full_name`` column (like ``org/employees.csv``)."""
        with path.open(newline="", encoding="utf-8") as f:
            return cls.from_full_names(row["full_name"] for row in csv.DictReader(f))

    def __len__(self) -> int:
        return self.size


class _Word(NamedTuple):
    """A word of a comment as name matching sees it (a tuple: comments have many words, most irrelevant)."""

    start: int
    end: int  # end of the name part: before a possessive 's
    stop: int  # end of the whole word
    key: str
    possessive: bool
    letter: bool  # a single letter, which may carry a dot ("j." in a lower-cased comment)
    initial: bool  # a capital letter that can stand for a name on its own ("A. Smith", "Ann S.")
    capital: bool


def _words(text: str) -> list[_Word]:
    """The words of a comment with their folded keys; the words of placeholders are left out."""
    blocked = [m.span() for m in _PLACEHOLDER_RE.finditer(text)] if "[" in text else []
    words = []
    for m in _WORD_RE.finditer(text):
        word, start, stop = m.group(), m.start(), m.end()
        if blocked and any(a <= start < b for a, b in blocked):
            continue
        possessive = len(word) > 2 and word[-2:] in ("'s", "’s")
        core = word[:-2] if possessive else word
        dotted = text[stop:stop + 1] == "."
        letter = len(core) == 1
        initial = letter and core.isupper() and (dotted or core not in "AI")
        words.append(_Word(start, stop - 2 if possessive else stop, stop, fold(core), possessive, letter, initial,
                           core[:1].isupper()))
    return words


def _joined(text: str, a: _Word, b: _Word) -> bool:
    """Two words are parts of one name: only spaces between them (or the dot of an initial)."""
    if a.possessive:
        return False
    gap = text[a.stop:b.start]
    if a.letter and gap[:1] == ".":
        gap = gap[1:]
        return gap == "" or (gap.isspace() and "\n\n" not in gap)
    return gap != "" and gap.isspace() and "\n\n" not in gap


def _run(text: str, words: list[_Word], i: int, n: int) -> tuple[str, ...] | None:
    """The keys of words i..i+n-1 when they join into one name (only the last may be possessive)."""
    if i + n > len(words):
        return None
    for k in range(i, i + n - 1):
        if not _joined(text, words[k], words[k + 1]):
            return None
    return tuple(w.key for w in words[i:i + n])


def _surnames_at(text: str, words: list[_Word], i: int, roster: Roster) -> list[tuple[tuple[str, ...], int]]:
    """(surname, index after it) for every roster surname that starts at word i."""
    if i >= len(words) or words[i].key not in roster.surname_starts:
        return []
    found = []
    for n in (1, 2, 3):
        keys = _run(text, words, i, n)
        if keys is not None and keys in roster.surnames:
            found.append((keys, i + n))
    return found


def _middle_ok(text: str, word: _Word, roster: Roster) -> bool:
    """A middle initial ("B.", or "b." in a lower-cased comment) or a capitalised given name on the roster."""
    if word.letter:
        return word.initial or text[word.stop:word.stop + 1] == "."
    return word.capital and word.key in roster.given


def _name_end(text: str, words: list[_Word], i: int, roster: Roster) -> int:
    """Index after the longest roster name starting at word i (i itself when there is none)."""
    best = i
    w = words[i]
    for n in roster.full_lengths:  # the name exactly as on the roster, longest first
        if _run(text, words, i, n) in roster.full:
            best = i + n
            break
    if w.key in roster.firsts:  # first [middle names or initials] last
        for m in (0, 1, 2):
            middles = words[i + 1:i + 1 + m]
            if len(middles) < m or not all(_middle_ok(text, x, roster) for x in middles):
                break
            if _run(text, words, i, 1 + m) is None:
                break
            after = i + 1 + m
            if after < len(words) and _joined(text, words[after - 1], words[after]):
                for surname, end in _surnames_at(text, words, after, roster):
                    if (w.key, surname) in roster.pairs:
                        best = max(best, end)
        nxt = words[i + 1] if i + 1 < len(words) else None  # first + last initial, when only one person fits
        if (nxt and nxt.initial and _joined(text, w, nxt) and best == i
                and roster.first_initial.get((w.key, nxt.key)) == 1):
            best = i + 2
    if w.initial and i + 1 < len(words) and _joined(text, w, words[i + 1]):  # initial + last, when unambiguous
        for surname, end in _surnames_at(text, words, i + 1, roster):
            if roster.initial_surname.get((w.key, surname)) == 1:
                best = max(best, end)
    for surname, end in _surnames_at(text, words, i, roster):  # "Smith, Ann" as in a directory
        if end < len(words) and not words[end - 1].possessive:
            gap = text[words[end - 1].stop:words[end].start]
            if gap.strip() == "," and (words[end].key, surname) in roster.pairs:
                stop = end + 1  # then middle names or initials: "O'Neil, Mary Ann", "Smith, Ann B."
                while (stop < end + 3 and stop < len(words) and _middle_ok(text, words[stop], roster)
                       and _joined(text, words[stop - 1], words[stop])):
                    stop += 1
                best = max(best, stop)
    return best


# Names that are also everyday words. "please mark page 3" is not Mark Page, but "mark page" in a comment typed
# all in lower case may well be.
_EVERYDAY_WORDS = frozenset({
    "will", "mark", "grace", "rose", "young", "page", "hill", "park", "bill", "may", "june", "king", "green",
    "white", "brown", "black", "cook", "reed", "long", "little", "rich", "hope", "joy", "faith", "grant", "hunter",
    "baker", "turner", "bell", "wood", "stone", "day", "north", "west", "south", "summer", "dawn", "sky", "river",
    "field", "lane", "ford", "hall", "moore", "story", "price", "love", "sunny", "frank", "art", "drew", "don",
    "pat", "sue", "ray", "guy", "rob", "chase", "dean", "miles", "major", "marshall", "sharp", "strong", "best",
    "said", "am", "an", "do", "so", "to", "le", "li", "lee",
})


def _reads_as_words(text: str, words: list[_Word]) -> bool:
    """A match made only of everyday words and not capitalised like a name ("mark page", "Mark page numbers")
    is read as words, as long as the comment does use capitals elsewhere; a comment typed all in lower case
    gets no such benefit of the doubt."""
    if any(w.key not in _EVERYDAY_WORDS for w in words) or all(w.capital for w in words):
        return False
    return any(ch.isupper() for ch in text)


def _may_name_someone(text: str, roster: Roster) -> bool:
    """Cheap pre-check: a word that starts a roster first name or surname, or a capital initial. Most comments
    name nobody, and this keeps them from paying for the word-by-word matching."""
    return (not roster.triggers.isdisjoint(_TRIGGER_WORD_RE.findall(fold_text(text)))
            or _INITIAL_HINT_RE.search(text) is not None)


def name_spans(text: str, roster: Roster | None) -> list[Span]:
    """Roster people named in full or in an unambiguous short form; a first or last name alone stays."""
    if not roster or not _may_name_someone(text, roster):
        return []
    words = _words(text)
    spans = []
    i = 0
    while i < len(words):
        w = words[i]
        if not (w.key in roster.firsts or w.key in roster.surname_starts or w.initial):
            i += 1
            continue
        end = _name_end(text, words, i, roster)
        if end == i or _reads_as_words(text, words[i:end]):
            i += 1
            continue
        last = words[end - 1]
        stop = last.end
        if last.initial and not last.possessive and text[last.stop:last.stop + 1] == ".":
            stop = last.stop + 1  # "Ann S." keeps its dot inside the placeholder
        spans.append(Span(w.start, stop, "name"))
        i = end
    return spans


# ------------------------------------------------------------------------------------------- putting it together


_RANK = {kind: i for i, kind in enumerate(PRIORITY)}


def _resolve(candidates: list[Span]) -> list[Span]:
    """Non-overlapping spans, sorted; on overlap the kind earlier in :data:`PRIORITY` wins, then the longer."""
    if len(candidates) < 2:
        return candidates
    chosen: list[Span] = []
    for span in sorted(candidates, key=lambda s: (_RANK[s.kind], s.start - s.end, s.start)):
        if span.end > span.start and all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


# Every number worth masking has six or more digits, spaces, dots, dashes or brackets in a row somewhere; most
# comments have none and skip the number detectors.
_NUMBER_CLUSTER_RE = re.compile(r"\d[\d .\-()]{4,}\d")


def find_pii(text: str, roster: Roster | None = None) -> list[Span]:
    """Every piece of personal data in ``text``: non-overlapping spans sorted by position."""
    if not text:
        return []
    candidates = url_spans(text) + email_spans(text)
    if _NUMBER_CLUSTER_RE.search(text):
        candidates += iban_spans(text) + card_spans(text) + national_id_spans(text) + phone_spans(text)
    candidates += name_spans(text, roster)
    return _resolve(candidates)


def mask(text: str, roster: Roster | None = None) -> Masked:
    """``text`` with each piece of personal data replaced by its placeholder, and the count per kind (only
    kinds that occurred). Masking a masked text changes nothing."""
    spans = find_pii(text, roster)
    pieces, pos = [], 0
    for span in spans:
        pieces += [text[pos:span.start], PLACEHOLDERS[span.kind]]
        pos = span.end
    pieces.append(text[pos:])
    return Masked("".join(pieces), dict(Counter(span.kind for span in spans)))


# ------------------------------------------------------------------------------------------- evaluation


def _overlaps(a: Span, b: Span) -> bool:
    return a.kind == b.kind and a.start < b.end and b.start < a.end


def evaluate(examples: list[LabelledExample], roster: Roster) -> dict:
    """Span-level precision and recall against hand labels.

    A predicted span is a true positive when it overlaps a gold span of the same kind (``tp``, ``fp`` count
    predictions); a gold span is found when a prediction of its kind overlaps it (``fn`` counts the rest).
    ``false_positive_sentences`` counts sentences with at least one false alarm: the cost an analyst sees.
    """
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    found: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    fp_sentences = 0
    for example in examples:
        predicted = find_pii(example.text, roster)
        wrong = [p for p in predicted if not any(_overlaps(p, g) for g in example.spans)]
        fp_sentences += bool(wrong)
        for p in predicted:
            (fp if p in wrong else tp)[p.kind] += 1
        for g in example.spans:
            (found if any(_overlaps(g, p) for p in predicted) else fn)[g.kind] += 1

    def ratio(num: int, den: int) -> float:
        return num / den if den else 1.0

    by_kind = {
        kind: {"tp": tp[kind], "fp": fp[kind], "fn": fn[kind],
               "precision": ratio(tp[kind], tp[kind] + fp[kind]),
               "recall": ratio(found[kind], found[kind] + fn[kind])}
        for kind in KINDS
    }
    precision = ratio(sum(tp.values()), sum(tp.values()) + sum(fp.values()))
    recall = ratio(sum(found.values()), sum(found.values()) + sum(fn.values()))
    return {
        "n_sentences": len(examples),
        "n_with_pii": sum(1 for e in examples if e.spans),
        "n_pii_spans": sum(len(e.spans) for e in examples),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "by_kind": by_kind,
        "false_positive_sentences": fp_sentences,
    }


def load_labelled(path: Path | None = None) -> tuple[list[LabelledExample], Roster]:
    """The shipped hand-labelled sentences and the roster they were written against (``pii_roster.csv`` next
    to the labelled file)."""
    path = path or LABELLED_PATH
    examples = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                spans = tuple(Span(s["start"], s["end"], s["kind"]) for s in row["spans"])
                examples.append(LabelledExample(row["id"], row["text"], spans, row.get("note", "")))
    return examples, Roster.from_csv(path.parent / ROSTER_PATH.name)


def evaluate_shipped() -> dict:
    """Precision and recall of the masker on the shipped labelled set."""
    examples, roster = load_labelled()
    return evaluate(examples, roster)
