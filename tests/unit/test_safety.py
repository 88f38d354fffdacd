"""Safety flags for the admin review queue (assets/nlp/safety.py).

Exact flags on hand-written sentences (what must be caught, and the idioms that must not be), obfuscated swear
words, every abusive sentence the demo generator plants, and the precision/recall on the shipped labelled set.
"""

from __future__ import annotations

import random

import pytest

from assets.nlp import safety
from assets.nlp.safety import SafetyFlag, categories, flag
from orchestration.synthetic.comments import ABUSIVE_BY_KIND, SLOTS, fill

GENERATOR_KIND_TO_CATEGORY = {"profanity": "profanity", "threat": "threat", "insult": "abuse"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # profanity
        ("The expense tool is absolute shit.", {"profanity"}),
        ("Why the hell do we need three approvals, this is bullshit.", {"profanity"}),
        ("Screw the new travel policy.", {"profanity"}),
        ("The CI is so damn slow.", {"profanity"}),
        # abuse (a profane insult is both)
        ("My team lead is a complete moron.", {"abuse"}),
        ("Our director is a joke.", {"abuse"}),
        ("HR is useless.", {"abuse"}),
        ("Our VP is a pathetic excuse for a manager.", {"abuse"}),
        ("[NAME] is a lazy, useless slacker.", {"abuse"}),
        ("My line manager is an arrogant asshole.", {"abuse", "profanity"}),
        # threat
        ("I'll kill him.", {"threat"}),
        ("Someone should punch my manager in the face.", {"threat"}),
        ("I know where [NAME] lives.", {"threat"}),
        ("I'm going to torch the director's office.", {"threat"}),
        ("Cut our bonus again and people will get hurt.", {"threat"}),
        ("Whoever signed off the layoffs deserves to be shot.", {"threat"}),
        # self-harm
        ("I don't see the point of going on.", {"self_harm"}),
        ("I want to end it all.", {"self_harm"}),
        ("I've been thinking about hurting myself.", {"self_harm"}),
        ("Everyone would be better off without me.", {"self_harm"}),
        ("I've had suicidal thoughts since the reorg.", {"self_harm"}),
    ],
)
def test_positives_get_exactly_their_categories(text: str, expected: set[str]) -> None:
    assert categories(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # words that contain a swear word, and mild expressions we decided not to flag
        "Please assess the class of issues.", "The Scunthorpe office is lovely.", "Shitake risotto in the canteen.",
        "The cocktail evening was fun.", "Our analytics team is great.", "The EAP therapist helped a lot.",
        "It was a hell of a good year.", "We screwed up the launch.", "Dick Smith in facilities was very helpful.",
        # work idioms that sound violent
        "We need to kill the legacy system.", "This deadline is killing me.", "The new search is a killer feature.",
        "Shoot me an email with the details.", "We hit the deadline for once.", "Don't blow up the budget again.",
        "Sales are killing it this quarter.", "We're crushing it on NPS.", "I'm dead tired after the launch.",
        "We need to execute faster.", "The fire drill ran over.", "I'm dying to see the results.",
        "The demo bombed.", "Heads will roll if the audit fails.", "My manager should be fired for this.",
        "I could kill for a decent coffee.", "Someone is going to get hurt on those broken stairs.",
        "This idea should be shot down.", "The company will pay for the course.",
        # civil criticism is not abuse
        "Management is incompetent at planning.", "Leadership is clueless about what we do.",
        "This plan is stupid.", "The training was useless.", "My manager's stupid idea of fun was paintball.",
        "I felt like an idiot when the demo crashed.", "We need to idiot-proof the form.",
        # overwork idioms are not self-harm
        "I'm killing myself to hit these deadlines.", "Moving there would be career suicide.",
        "Not sure how much longer I can keep this up.", "There's no point in these status meetings.",
        "The suicide prevention workshop was well run.",
    ],
)
def test_tricky_negatives_are_clean(text: str) -> None:
    assert flag(text) == []


@pytest.mark.parametrize(
    "text",
    ["This is f*ck", "f**king tools", "what a load of sh1t", "he is an a$$hole", "fck this", "fuuuuck",
     "SHIT", "s***", "dogshit", "sh!t pay", "absofuckinglutely not"],
)
def test_obfuscated_profanity_is_caught(text: str) -> None:
    assert "profanity" in categories(text)


def test_masks_only_resolve_to_swear_words() -> None:
    assert safety.profane_words("*sigh* another re-org, c**l") == []


def test_flags_are_ordered_by_severity() -> None:
    flags = flag("I'll kill that fucking idiot")
    assert flags == [SafetyFlag("threat", "high"), SafetyFlag("abuse", "medium"), SafetyFlag("profanity", "low")]
    assert {f.severity for f in flag("I want to kill myself")} == {"high"}


def test_every_generator_sentence_gets_its_category() -> None:
    rng = random.Random(0)
    for kind, sentences in ABUSIVE_BY_KIND.items():
        category = GENERATOR_KIND_TO_CATEGORY[kind]
        for template in sentences:
            fillings = [template.replace("{boss}", boss) for boss in SLOTS["boss"]] if "{boss}" in template else []
            for text in [fill(rng, template), *fillings]:
                text = text[0].upper() + text[1:]
                assert category in categories(text), text


def test_shipped_set_is_large_and_varied() -> None:
    rows = safety.load_labelled()
    counts = {c: sum(c in labels for _, labels in rows) for c in safety.CATEGORIES}
    assert len(rows) >= 200
    assert sum(bool(labels) for _, labels in rows) >= 90 and sum(not labels for _, labels in rows) >= 110
    assert counts["self_harm"] >= 15 and counts["threat"] >= 25 and min(counts.values()) >= 15


def test_shipped_set_precision_and_recall() -> None:
    report = safety.evaluate_shipped()
    for category in safety.CATEGORIES:
        assert report[category]["precision"] >= 0.9, (category, report["errors"])
        assert report[category]["recall"] >= 0.9, (category, report["errors"])
