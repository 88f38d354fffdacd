"""PII masking of survey comments (assets/nlp/pii.py).

Exact masked strings per kind, the tricky look-alikes that must stay readable, the checksums (Luhn, mod-97),
the roster rules for names, every kind the synthetic generator plants, and the shipped labelled set.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from assets.nlp import pii
from assets.nlp.pii import Roster, Span, find_pii, mask
from orchestration.synthetic import comments as bank
from orchestration.synthetic import vocabulary as vocab

ROSTER = Roster.from_full_names([
    "Ann Smith", "Alan Smith", "Peter Smith", "Ann Kowalski", "José García-López", "Mary Ann O'Neil",
    "Will Turner", "Grace Young", "Mark Page", "Priya Sharma", "Priya Shah", "Anna de Vries", "Robert J. Brown",
    "Łukasz Wiśniewski", "Seán O'Brien",
])


def masked(text: str, roster: Roster | None = ROSTER) -> str:
    return mask(text, roster).text


# ------------------------------------------------------------------------------------------- per kind


@pytest.mark.parametrize(("text", "expected"), [
    ("Email me at john.smith@acme.com.", "Email me at [EMAIL]."),
    ("Plus-addressed: priya+survey@mail.eu.acme.co.uk works", "Plus-addressed: [EMAIL] works"),
    ("CONTACT: ANN@ACME.COM", "CONTACT: [EMAIL]"),
    ("write to john dot smith at acme dot com please", "write to [EMAIL] please"),
    ("lena.k [at] posteo [dot] de", "[EMAIL]"),
    ("reach me at j.silva(at)acme.com today", "reach me at [EMAIL] today"),
    ("mail o'brien.sean@gmail.com or 'ann@acme.com'", "mail [EMAIL] or '[EMAIL]'"),
])
def test_emails(text: str, expected: str) -> None:
    assert masked(text) == expected


def test_email_counts() -> None:
    result = mask("Write to a@acme.com or b@acme.com.")
    assert result.text == "Write to [EMAIL] or [EMAIL]."
    assert result.counts == {"email": 2}


@pytest.mark.parametrize("phone", [
    "+1 (415) 555-1234", "+1 212-555-1234", "(646) 555-1234", "+44 20 7946 0123", "+44 7700 900123",
    "07700 900123", "+49 30 12345678", "+49 151 12345678", "+33 6 12 34 56 78", "+91 98123 45678",
    "+61 412 345 678", "+81 90-1234-5678", "+55 11 91234-5678", "+234 803 123 4567", "555.123.4567",
    "415-555-1234", "+44 (0)20 7946 0958", "0044 20 7946 0777", "1-800-555-0134", "020 7946 0011",
])
def test_phone_formats(phone: str) -> None:
    result = mask(f"Call me on {phone} after 5.")
    assert result.text == "Call me on [PHONE] after 5."
    assert result.counts == {"phone": 1}


def test_phone_followed_by_a_number_keeps_the_number() -> None:
    assert masked("Text 07700 900123 2 times") == "Text [PHONE] 2 times"


@pytest.mark.parametrize(("text", "expected"), [
    ("HR asked for my SSN (123-45-6789) by email.", "HR asked for my SSN ([NATIONAL_ID]) by email."),
    ("It should be 078 05 1120, not what payroll has.", "It should be [NATIONAL_ID], not what payroll has."),
    ("SSN: 287654321", "SSN: [NATIONAL_ID]"),
    ("My NI number QQ 12 34 56 C is on the sheet", "My NI number [NATIONAL_ID] is on the sheet"),
    ("NINO AB123456C.", "NINO [NATIONAL_ID]."),
    ("SIN 046 454 286 on the form", "SIN [NATIONAL_ID] on the form"),
])
def test_national_ids(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize("number", ["666-12-3456", "000-12-3456", "912-34-5678", "123-00-4567", "046 454 287"])
def test_impossible_ssns_and_bad_sin_are_left(number: str) -> None:
    assert masked(f"Number {number} here") == f"Number {number} here"


@pytest.mark.parametrize("card", [
    "4111 1111 1111 1111", "5500-0000-0000-0004", "3782 822463 10005", "4111111111111111", "6011 1111 1111 1117",
])
def test_cards(card: str) -> None:
    result = mask(f"Refund my card {card} please")
    assert result.text == "Refund my card [CARD] please"
    assert result.counts == {"card": 1}


def test_luhn_one_digit_changed_is_not_a_card() -> None:
    assert pii.luhn_valid("4111111111111111")
    assert not pii.luhn_valid("4111111111111112")
    assert masked("Refund my card 4111 1111 1111 1112 please") == "Refund my card 4111 1111 1111 1112 please"
    assert masked("PO 5500-0000-0000-0005 again") == "PO 5500-0000-0000-0005 again"


@pytest.mark.parametrize("iban", [
    "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR14 2004 1010 0505 0001 3M02 606",
    "NL91 ABNA 0417 1643 00", "BE68 5390 0754 7034", "de44 5001 0517 5407 3249 31",
])
def test_ibans(iban: str) -> None:
    result = mask(f"Pay into {iban} from now on")
    assert result.text == "Pay into [IBAN] from now on"
    assert result.counts == {"iban": 1}


def test_iban_with_a_bad_checksum_is_left_alone_entirely() -> None:
    assert pii.iban_valid("DE89370400440532013000")
    assert not pii.iban_valid("DE89370400440532013001")
    text = "Pay into DE89 3704 0044 0532 0130 01 from now on"
    assert masked(text) == text  # nor are its digit groups taken for a card or a phone number


def test_iban_followed_by_a_capitalised_word() -> None:
    assert masked("GB82 WEST 1234 5698 7654 32 IBAN is mine") == "[IBAN] IBAN is mine"


@pytest.mark.parametrize(("text", "expected"), [
    ("Reset link https://sso.acme.com/reset?token=9f8a7c6d5e4b3a21 still works.", "Reset link [URL] still works."),
    ("Payslip: https://payroll.acme.com/view?user=jsmith&month=2026-02", "Payslip: [URL]"),
    ("(https://forms.acme.com/f?email=pedro.s%40acme.com)", "([URL])"),
    ("Doc: https://docs.google.com/document/d/1aBcD3fGh5JkLmN0pQrStUvWxYz12/edit.", "Doc: [URL]."),
    ("https://intranet.acme.com/people/mary.oneil shows salaries", "[URL] shows salaries"),
    ("www.portal.com/login?session=ab12cd34ef56", "[URL]"),
    ("https://api.acme.com/export?key=AKIA4EXAMPLE7Q2Z&sig=abc", "[URL]"),
])
def test_urls_with_personal_tokens(text: str, expected: str) -> None:
    assert masked(text) == expected


def test_url_with_an_email_is_one_url() -> None:
    result = mask("Book me: https://calendly.com/x/30min?email=ann.smith@acme.com")
    assert result.text == "Book me: [URL]"
    assert result.counts == {"url": 1}


# ------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize(("text", "expected"), [
    ("Ann Smith was great.", "[NAME] was great."),
    ("ann smith was great.", "[NAME] was great."),
    ("ANN SMITH was great.", "[NAME] was great."),
    ("Ann   Smith was great.", "[NAME] was great."),
    ("Ann Smith's team is great.", "[NAME]'s team is great."),
    ("Ann Smith’s team is great.", "[NAME]’s team is great."),
    ("Escalated to Smith, Ann in writing.", "Escalated to [NAME] in writing."),
    ("Ann B. Smith deserves a raise.", "[NAME] deserves a raise."),
    ("Our lead P. Smith cancels 1:1s.", "Our lead [NAME] cancels 1:1s."),
    ("Ask Ann K. about it.", "Ask [NAME] about it."),
    ("José García-López and jose garcia-lopez", "[NAME] and [NAME]"),
    ("Mary Ann O'Neil's desk, Mary O'Neil, O'Neil, Mary Ann", "[NAME]'s desk, [NAME], [NAME]"),
    ("Anna de Vries joined", "[NAME] joined"),
    ("Robert Brown and Robert J. Brown", "[NAME] and [NAME]"),
    ("Lukasz Wisniewski and Seán O’Brien", "[NAME] and [NAME]"),
    ("Will Turner, Grace Young and Mark Page", "[NAME], [NAME] and [NAME]"),
    ("talk to mark page about it", "talk to [NAME] about it"),
])
def test_roster_names(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize("text", [
    "A. Smith signed it off.",  # Ann and Alan Smith
    "Priya S. promised an answer.",  # Priya Sharma and Priya Shah
    "Ann said so at the all-hands.",
    "Smith from the vendor was rude.",
    "Will from IT helped me.",
    "I will turn this around.",
    "The grace period is too short.",
    "Mark my words.",
    "Young people get no mentoring.",
    "Please mark page 3 as read.",
    "Mark page numbers on the slides.",
    "Will Smith memes are the highlight of my week.",
    "Grace Hopper would be appalled.",
    "John Doe is the test account.",
    "Ann and Smith joined late.",
    "Ann Smith-Jones is not on the roster.",
])
def test_names_that_stay(text: str) -> None:
    assert masked(text) == text


def test_names_need_a_roster() -> None:
    assert masked("Ann Smith was great.", None) == "Ann Smith was great."
    assert masked("Ann Smith was great.", Roster.from_full_names([])) == "Ann Smith was great."


def test_roster_basics() -> None:
    roster = Roster.from_full_names(["Ann Smith", "ann  smith", "Madonna", "Alan Smith"])
    assert len(roster) == 2  # the same name twice is one; a one-word name is never masked
    assert masked("Madonna sang", roster) == "Madonna sang"


def test_initials_are_masked_only_when_one_person_fits() -> None:
    roster = Roster.from_full_names(["Ann Smith", "Peter Smith"])
    assert masked("A. Smith and Ann S. agreed", roster) == "[NAME] and [NAME] agreed"
    roster = Roster.from_full_names(["Ann Smith", "Alan Smith", "Ann Stone"])
    assert masked("A. Smith and Ann S. agreed", roster) == "A. Smith and Ann S. agreed"


# ------------------------------------------------------------------------------------------- negatives


@pytest.mark.parametrize("text", [
    "The reorg was announced on 2026-03-14 and results came 14/03/2026.",
    "Since March 3, 2026 standup is at 10:30.",
    "We are on v2.13.0, upgrading from 1.11.4 broke things.",
    "Order ORD-2026-004512, ticket JIRA-4411 and incident INC0012345 are all open.",
    "I paid $1,250.00 and only 15% was refunded.",
    "In 2019 we were 40 people; room 4.12 and desk 7-114 have no screens.",
    "The VPN at 10.20.30.40 and 192.168.100.200 drops; build 2026.03.1 failed.",
    "The reference 1234 5678 9012 3456 and 4111 1111 1111 1112 are not cards.",
    "Cost centre 4410-220-3315, serial SN-5829-4471-2290, invoice 2026/03/0457.",
    "We processed 1 250 000 transactions, extension 4412, shipment 8675309.",
    "Working across UTC+1 and UTC-5; the +15% target; 8:30 to 17:30.",
    "The fiscal year runs 2025-10-01 to 2026-09-30.",
    "Order #2026-0345-7781 and tickets SUP-20931, SUP-20944.",
    "Sales DACH and Team Phoenix, Support Tier 1 and the Platform Guild.",
    "The roadmap is at https://confluence.acme.com/display/TEAM/Roadmap and www.example.com.",
    "See https://jira.acme.com/browse/JIRA-4411 and docs.acme.com/release-notes/2026-03.",
    "Course https://learn.acme.com/courses/leadership-101?lang=en and https://github.com/acme/novora/pull/123.",
    "@channel at 11pm, and hr@ is not an address.",
    "May was hard; Bill the client; Rose from the front desk; Will is fine.",
])
def test_tricky_negatives_are_unchanged(text: str) -> None:
    result = mask(text, ROSTER)
    assert result.text == text
    assert result.counts == {}


# ------------------------------------------------------------------------------------------- structure


def test_find_pii_returns_sorted_non_overlapping_spans() -> None:
    text = "Ann Smith (ann.smith@acme.com, +44 7700 900123) paid with 4111 1111 1111 1111."
    spans = find_pii(text, ROSTER)
    assert [s.kind for s in spans] == ["name", "email", "phone", "card"]
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
    assert text[spans[1].start:spans[1].end] == "ann.smith@acme.com"


def test_mask_counts_every_kind() -> None:
    text = ("Ann Smith: ann@acme.com, +1 212-555-1234, SSN 123-45-6789, card 4111111111111111, "
            "IBAN GB82WEST12345698765432, https://x.acme.com/reset?token=abc123def456")
    result = mask(text, ROSTER)
    assert result.text == ("[NAME]: [EMAIL], [PHONE], SSN [NATIONAL_ID], card [CARD], IBAN [IBAN], [URL]")
    assert result.counts == {kind: 1 for kind in pii.KINDS}


def test_placeholders_and_kinds_agree() -> None:
    assert set(pii.PLACEHOLDERS) == set(pii.KINDS) == set(pii.PRIORITY)
    assert pii.PLACEHOLDERS["national_id"] == "[NATIONAL_ID]"


def test_empty_text() -> None:
    assert mask("", ROSTER) == pii.Masked("", {})


def test_masking_is_idempotent_and_placeholders_are_never_masked() -> None:
    examples, roster = pii.load_labelled()
    texts = [e.text for e in examples] + ["[NAME] [EMAIL] [PHONE] [NATIONAL_ID] [CARD] [IBAN] [URL]",
                                          "[NAME]'s team, Smith, [NAME] and [NAME] Smith"]
    for text in texts:
        once = mask(text, roster).text
        assert mask(once, roster).text == once
    assert mask("[NAME] [EMAIL] [PHONE] [NATIONAL_ID] [CARD] [IBAN] [URL]", roster).counts == {}


# ------------------------------------------------------------------------------------------- synthetic generator


def synthetic_roster(rng: random.Random, size: int) -> list[str]:
    """Full names the way the generator writes them: some with a middle initial."""
    names = set()
    while len(names) < size:
        first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
        middle = rng.choice(vocab.MIDDLE_INITIALS) if rng.random() < 0.3 else ""
        names.add(f"{first} {middle}. {last}" if middle else f"{first} {last}")
    return sorted(names)


def planted_value(kind: str, sentence: str) -> str:
    """The phone number, SSN or card a generator sentence carries, read back through its template."""
    for template in bank.PII_TEMPLATES[kind]["any"]:
        pattern = re.escape(template).replace(re.escape("{" + kind + "}"), "(?P<value>.+)")
        match = re.fullmatch(pattern, sentence)
        if match:
            return match.group("value")
    raise AssertionError(f"no template fits {sentence!r}")


def test_every_planted_kind_of_the_generator_is_masked() -> None:
    rng = random.Random(20260314)
    names = synthetic_roster(rng, 3000)
    roster = Roster.from_full_names(names)
    teams = [team.name for department in vocab.DEPARTMENTS for team in department.teams]
    placeholder = {"name": "[NAME]", "email": "[EMAIL]", "phone": "[PHONE]", "ssn": "[NATIONAL_ID]",
                   "card": "[CARD]"}
    for i in range(500):
        kind = bank.PII_KINDS[i % len(bank.PII_KINDS)]
        person = rng.choice(names)
        first, *_, last = person.split()
        domain = rng.choice((vocab.EMAIL_DOMAIN, *vocab.PERSONAL_EMAIL_DOMAINS))
        email = f"{vocab.ascii_slug(first)}.{vocab.ascii_slug(last)}{rng.randint(1, 99)}@{domain}"
        sentence = bank.pii_sentence(rng, kind, rng.choice(bank.SENTIMENTS), person=person,
                                     team=rng.choice(teams), email=email)
        planted = {"name": person, "email": email}.get(kind) or planted_value(kind, sentence)
        assert planted in sentence
        if i % 7 == 3:
            sentence, planted = sentence.lower(), planted.lower()  # some people type everything in lower case
        result = mask(sentence, roster)
        assert planted not in result.text, (kind, sentence, result.text)
        assert placeholder[kind] in result.text, (kind, sentence, result.text)
        assert result.counts == {"national_id" if kind == "ssn" else kind: 1}, (sentence, result.counts)


def test_generated_comments_without_personal_data_stay_as_written() -> None:
    rng = random.Random(7)
    roster = Roster.from_full_names(synthetic_roster(rng, 3000))
    for _ in range(500):
        text = bank.compose_comment(rng, rng.choice(bank.SENTIMENTS), rng.choice(bank.THEMES),
                                    rng.choice(bank.THEMES))
        assert mask(text, roster).text == text


# ------------------------------------------------------------------------------------------- the shipped set


def test_shipped_labelled_file_is_valid() -> None:
    lines = pii.LABELLED_PATH.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    assert len(rows) >= 260
    assert len({r["id"] for r in rows}) == len(rows)
    kinds = {kind: 0 for kind in pii.KINDS}
    for row in rows:
        spans = sorted(row["spans"], key=lambda s: s["start"])
        for span in spans:
            assert span["kind"] in pii.KINDS
            piece = row["text"][span["start"]:span["end"]]
            assert piece and piece == piece.strip(), (row["id"], piece)
            kinds[span["kind"]] += 1
        assert all(a["end"] <= b["start"] for a, b in zip(spans, spans[1:])), row["id"]
    assert sum(1 for r in rows if r["spans"]) >= 130
    assert sum(1 for r in rows if not r["spans"]) >= 130
    assert min(kinds.values()) >= 10, kinds


def test_shipped_labels_carry_valid_checksums() -> None:
    examples, _ = pii.load_labelled()
    for example in examples:
        for span in example.spans:
            digits = "".join(ch for ch in example.text[span.start:span.end] if ch.isalnum())
            if span.kind == "card":
                assert pii.luhn_valid(digits), example.id
            if span.kind == "iban":
                assert pii.iban_valid(digits), example.id


def test_shipped_roster() -> None:
    _, roster = pii.load_labelled()
    assert 50 <= len(roster) <= 80


def test_shipped_set_precision_and_recall() -> None:
    result = pii.evaluate_shipped()
    assert result["n_sentences"] >= 260
    assert result["precision"] >= 0.95, result
    assert result["recall"] >= 0.95, result
    assert set(result["by_kind"]) == set(pii.KINDS)
    for kind, scores in result["by_kind"].items():
        assert scores["tp"] > 0, kind
        assert scores["recall"] >= 0.9, (kind, scores)


def test_evaluate_counts_overlaps_of_the_same_kind() -> None:
    text = "Call Ann Smith on +44 7700 900123"
    gold = (Span(5, 14, "name"), Span(18, 33, "phone"))
    example = pii.LabelledExample("t1", text, gold)
    result = pii.evaluate([example], ROSTER)
    assert (result["precision"], result["recall"], result["false_positive_sentences"]) == (1.0, 1.0, 0)
    wrong = pii.LabelledExample("t2", text, (Span(5, 14, "name"), Span(18, 33, "card")))
    result = pii.evaluate([wrong], ROSTER)
    assert result["by_kind"]["phone"]["fp"] == 1
    assert result["by_kind"]["card"]["fn"] == 1
    assert result["false_positive_sentences"] == 1
    assert result["precision"] == 0.5 and result["recall"] == 0.5
