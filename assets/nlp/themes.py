"""Themes of survey comments: one catalogue theme per comment, plus emerging themes nobody catalogued.

Admins read comments by theme ("what do people say about pay?"), so every comment gets exactly one theme from a
fixed catalogue: the eight engagement drivers, ten common workplace themes, and ``other``. A theme is described
by a one-line definition and a handful of short sentences in an employee's voice; their embeddings are averaged
into a centroid, and a comment goes to the theme whose centroid is most similar to it (cosine similarity of
all-MiniLM-L6-v2 sentence embeddings). Describing a theme by example sentences rather than keywords is what
lets "my laptop takes ages to boot" land on tools without the word "tools" in it.

``other`` is described like a theme (parking, food and drink, social and charity events: topics deliberately
outside the catalogue), because without anchors of its own a comment about the car park is pulled to the
nearest workplace theme (office) by sheer topical closeness. A comment also goes to ``other`` when no theme fits
well (best similarity below ``min_similarity``). The ``other`` comments are then clustered, and clusters big
enough to matter are surfaced as *emerging* themes labelled by their most distinctive words ("emerging:
parking, garage, spaces"), so a new topic is seen before anyone adds it to the catalogue.

Confidence is a softmax over the similarities with a temperature, where the score of ``other`` is the larger of
its own centroid's similarity and ``min_similarity``::

    score(other) = max(sim(other), min_similarity)
    p(theme) = exp(score(theme) / T) / sum over all themes, other included, of exp(score / T)

so confidence is high only when the chosen theme beats both its runner-up and the "nothing fits" bar by a clear
margin, and an ``other`` assignment is confident when every theme is far below the bar. ``T`` was fitted on
the tuning half of the shipped set by minimising the log-loss of the labelled theme (0.03; on the evaluation
half the mean confidence, 0.83, is somewhat above the accuracy, 0.75, so read it as a ranking more than as a
calibrated probability). ``min_similarity`` (0.25) is the top of the range (0.15 to 0.25) that gave the best
tuning accuracy: the highest bar that costs nothing, so genuinely new topics fall to ``other`` and can emerge.

Accuracy on the shipped set (``data/themes_labelled.csv``, 192 comments): 0.89 on the tuning half, whose
errors the catalogue sentences were revised against, and 0.75 on the evaluation half, never tuned on.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OTHER = "other"
DEFAULT_MIN_SIMILARITY = 0.25
TEMPERATURE = 0.03
SHIPPED_SET = Path(__file__).parent / "data" / "themes_labelled.csv"


@dataclass(frozen=True)
class ThemeDefinition:
    """A catalogue theme: how it is shown (``label``), what it means, and sentences that sound like it."""

    label: str
    definition: str
    examples: tuple[str, ...]

    def sentences(self) -> tuple[str, ...]:
        return (self.definition, *self.examples)


@dataclass(frozen=True)
class ThemeAssignment:
    """The theme of one comment; ``runner_up`` is the next best choice (a theme or ``other``)."""

    theme: str
    confidence: float
    runner_up: str | None


@dataclass(frozen=True)
class EmergingTheme:
    """A group of uncatalogued comments about the same thing; ``members`` index the texts that were clustered."""

    theme: str
    keywords: tuple[str, ...]
    members: tuple[int, ...]


# ------------------------------------------------------------------------------------------- the catalogue

CATALOGUE: dict[str, ThemeDefinition] = {
    "recognition": ThemeDefinition(
        "Recognition",
        "Recognition: whether people feel their work is noticed, appreciated, thanked and credited.",
        (
            "Nobody ever says thank you for the extra effort.",
            "My contribution to the launch went completely unnoticed.",
            "I love it when good work gets a shout-out in front of everyone.",
            "Someone else got the credit for my work.",
            "It feels good to be appreciated for what I do.",
            "Only the loudest people get praised.",
            "A simple thank you from leadership would go a long way.",
            "The kudos and awards programme makes people feel valued.",
            "A personal note of thanks from a senior leader really lifted me.",
            "Successes are celebrated here.",
            "Getting a thank-you card made me feel valued.",
        ),
    ),
    "growth": ThemeDefinition(
        "Growth and learning",
        "Growth: learning new skills, training, courses, mentoring and personal development on the job.",
        (
            "I'm learning a lot and building new skills every month.",
            "There is no time or budget for training courses.",
            "I'd like a mentor to help me develop.",
            "The workshops and online courses have been really useful.",
            "I have stopped learning anything new in this job.",
            "Please give us time to study and attend conferences.",
            "Challenging projects have helped me grow my skills.",
            "I want to develop expertise in a new technology.",
        ),
    ),
    "manager_relationship": ThemeDefinition(
        "Relationship with manager",
        "Manager relationship: how my direct manager supports me, gives feedback, trusts me and makes time for me.",
        (
            "My manager supports me and always makes time for a chat.",
            "My boss micromanages everything I do.",
            "I rarely get a one-to-one with my manager.",
            "My line manager gives me clear, honest feedback.",
            "I don't trust my manager.",
            "My manager is never around when I need help.",
            "My team lead treats some people better than others.",
            "I have a great relationship with my manager.",
        ),
    ),
    "peer_relationships": ThemeDefinition(
        "Relationships with colleagues",
        "Peer relationships: how colleagues and teammates get along, help each other, collaborate and treat each "
        "other.",
        (
            "My colleagues are friendly and always willing to help.",
            "There is a lot of conflict and blame between teammates.",
            "The team spirit here is fantastic.",
            "Some coworkers are rude and exclude others.",
            "Collaboration between our team and other teams is difficult.",
            "I really enjoy working with the people on my team.",
            "There are cliques in the team and new people feel left out.",
            "My teammates have my back.",
            "Colleagues step on each other's toes and don't respect each other's work.",
            "The two teams barely talk to each other and don't get along.",
            "A coworker keeps interfering with my tasks.",
        ),
    ),
    "wellbeing": ThemeDefinition(
        "Wellbeing",
        "Wellbeing: stress, burnout, mental and physical health, exhaustion and work-life balance.",
        (
            "I'm stressed and close to burnout.",
            "I'm exhausted all the time and can't switch off after work.",
            "My mental health is suffering because of this job.",
            "I have a healthy work-life balance.",
            "I keep answering messages late at night and on weekends.",
            "The flexible hours help me look after my family and my health.",
            "People are getting sick from the pressure.",
            "The wellbeing support and counselling service are really helpful.",
            "I feel anxious and overwhelmed at work.",
            "I can't sleep because I worry about work.",
            "The employee support programme helped me cope with stress.",
        ),
    ),
    "autonomy": ThemeDefinition(
        "Autonomy",
        "Autonomy: freedom to decide how to do my own work, being trusted to make decisions without permission.",
        (
            "I have the freedom to decide how I do my work.",
            "I'm not trusted to make any decisions myself.",
            "I need permission for every little thing I do.",
            "I'm told exactly what to do and how to do it.",
            "I feel real ownership of my projects.",
            "I'd like more say in how my team works.",
            "We are empowered to solve problems our own way.",
            "I can't change anything without someone checking it first.",
        ),
    ),
    "alignment": ThemeDefinition(
        "Strategy and purpose",
        "Alignment: understanding the company strategy, mission, goals and priorities, and how my work fits in.",
        (
            "I don't know what the company strategy is.",
            "I understand how my work contributes to the company goals.",
            "Priorities keep changing and nobody knows where we are heading.",
            "I believe in the mission and purpose of the company.",
            "Teams are working towards conflicting goals.",
            "Our objectives and key results are clear.",
            "Our OKRs and targets for the year make sense to me.",
            "I'm proud of what the company stands for.",
            "Projects get started and then abandoned without explanation.",
            "I can't see why the work we do matters.",
        ),
    ),
    "communication": ThemeDefinition(
        "Communication",
        "Communication: how information, announcements and decisions are shared, and whether feedback is heard.",
        (
            "We find out about important changes through rumours.",
            "Company updates are clear, regular and transparent.",
            "Nobody tells us anything until it's already decided.",
            "Information is not shared between departments.",
            "We give feedback but never hear back about what happened.",
            "Announcements are scattered across too many channels and emails.",
            "I always know what's going on in the company.",
            "Decisions are announced with no explanation.",
        ),
    ),
    "workload": ThemeDefinition(
        "Workload",
        "Workload: the amount of work, staffing, capacity, deadlines and overtime.",
        (
            "There is far too much work for the size of the team.",
            "We are understaffed and everyone is overloaded.",
            "The deadlines are unrealistic.",
            "I work overtime every week just to keep up.",
            "My workload is manageable.",
            "New tasks keep piling up and nothing gets taken off.",
            "We need more people to handle the volume of work.",
            "When someone leaves their work is dumped on the rest of us.",
            "I work long hours every week just to keep up.",
            "More and more projects land on our plate.",
            "We're expected to deliver more and more with the same small team.",
        ),
    ),
    "pay": ThemeDefinition(
        "Pay and benefits",
        "Pay: salary, raises, bonuses, compensation, pensions, insurance and other benefits.",
        (
            "My salary is below the market rate.",
            "The pay rise this year was tiny.",
            "The bonus scheme is unfair and unclear.",
            "I'm paid well and the benefits are generous.",
            "Salaries haven't kept up with the cost of living.",
            "New joiners earn more than people who have been here for years.",
            "The pension and health insurance are good.",
            "I'd like the salary bands to be published.",
        ),
    ),
    "tools": ThemeDefinition(
        "Tools and equipment",
        "Tools: laptops, software, IT systems, equipment, access and technical support.",
        (
            "My laptop is old and very slow.",
            "The software we use keeps crashing.",
            "Our IT systems are outdated and don't work together.",
            "The VPN and the network keep dropping.",
            "IT support is quick and helpful.",
            "Getting access to a system takes weeks.",
            "We have the right tools and equipment to do our jobs.",
            "The internal tools are clunky and hard to use.",
            "The new system and apps are a big improvement.",
            "I need better hardware, a second monitor and a faster computer.",
        ),
    ),
    "meetings": ThemeDefinition(
        "Meetings",
        "Meetings: how many meetings and calls there are, how long they take and whether they are useful.",
        (
            "There are way too many meetings.",
            "My calendar is packed with back-to-back calls.",
            "Meetings run over and have no agenda.",
            "Most meetings could have been an email.",
            "I spend my whole day in meetings and can't get work done.",
            "Our meetings are short and productive.",
            "No-meeting days give me time to focus.",
            "Too many people are invited to every call.",
        ),
    ),
    "leadership": ThemeDefinition(
        "Senior leadership",
        "Leadership: the CEO, executives and senior management, their decisions, visibility and trustworthiness.",
        (
            "I trust the senior leadership team.",
            "The executives are out of touch with the rest of the company.",
            "Senior leaders are never visible to us.",
            "The CEO inspires confidence.",
            "Leadership handled the layoffs badly.",
            "Senior management doesn't care about employees.",
            "The exec team keeps changing its mind.",
            "Top management says one thing and does another.",
            "Our executives are visible and engaged with the teams.",
        ),
    ),
    "career": ThemeDefinition(
        "Career and promotion",
        "Career: promotions, career paths, levels, progression, performance reviews and moving to other roles "
        "internally.",
        (
            "I don't know what I need to do to get promoted.",
            "There is no clear career path for my role.",
            "Promotions are unfair and go to favourites.",
            "I was promoted and the process was fair.",
            "Internal candidates are overlooked for new positions.",
            "I would have to leave the company to move up.",
            "I'd like to move to another team but internal transfers are blocked.",
            "The performance review process is opaque.",
            "The job levels and grades, and what it takes to reach the next one, are unclear.",
        ),
    ),
    "remote_work": ThemeDefinition(
        "Remote and hybrid work",
        "Remote work: working from home, hybrid arrangements, return to office rules and commuting.",
        (
            "Working from home makes me more productive.",
            "The return to office mandate makes no sense.",
            "Hybrid work gives me the flexibility I need.",
            "Remote employees are left out.",
            "The commute to the office takes hours every day.",
            "I feel isolated working remotely.",
            "Please let us choose how many days we work from home.",
            "Video calls with people in the room and people at home don't work well.",
            "I want to keep my hybrid schedule and work from home part of the week.",
        ),
    ),
    "office": ThemeDefinition(
        "Office space",
        "Office: the office building and workspace itself, desks, noise, temperature, rooms and facilities.",
        (
            "The office is noisy and crowded.",
            "There are not enough desks on busy days.",
            "The office is too cold in the winter and too hot in the summer.",
            "The workspace is modern and comfortable.",
            "We need more quiet areas and phone booths.",
            "The meeting rooms are always fully booked.",
            "The building is run down and needs repairs.",
            "The open-plan floor makes it hard to concentrate.",
            "It's hard to find a free room to book for a call.",
        ),
    ),
    "onboarding": ThemeDefinition(
        "Onboarding",
        "Onboarding: how new joiners are welcomed, trained and set up in their first weeks and months.",
        (
            "My onboarding as a new joiner was well organised.",
            "When I started I had no idea who to ask for help.",
            "My equipment and accounts weren't ready on my first day.",
            "The induction week for new starters was really helpful.",
            "New hires are left to figure everything out alone.",
            "Having an onboarding buddy in my first weeks helped a lot.",
            "The onboarding materials for new employees are out of date.",
            "My first month after joining the company was confusing.",
        ),
    ),
    "process": ThemeDefinition(
        "Processes and bureaucracy",
        "Process: bureaucracy, approvals, forms, procurement, expenses and how internal procedures work.",
        (
            "There is too much bureaucracy and red tape.",
            "Getting anything approved takes weeks.",
            "Filing an expense claim is a nightmare.",
            "Procurement takes months to buy anything.",
            "We have to fill in forms for everything.",
            "Our internal processes are simple and efficient.",
            "Every request needs several sign-offs.",
            "Our workflows and procedures are clear and well documented.",
            "The procedures are undocumented and inconsistent.",
        ),
    ),
    # "other" has anchors too, or a comment about parking or lunch is pulled to office (see the module docstring)
    OTHER: ThemeDefinition(
        "Other",
        "Other: things outside work itself, such as parking, food and drink, social events, charity and hobbies.",
        (
            "There is never a free parking space in the morning.",
            "The food in the canteen is overpriced.",
            "The coffee from the machine tastes awful.",
            "The charity fundraiser was a lovely event.",
            "The holiday party was great fun.",
            "Could we have fresh fruit and snacks in the kitchen?",
            "The football club and the book club are great.",
            "The weather has been miserable lately.",
            "The coffee machine keeps breaking down.",
        ),
    ),
}

THEMES: tuple[str, ...] = tuple(CATALOGUE)


def catalogue_texts(catalogue: dict[str, ThemeDefinition] = CATALOGUE) -> tuple[list[str], list[str]]:
    """Every sentence that describes a theme, with its theme id alongside (one entry per sentence to embed)."""
    ids, sentences = [], []
    for theme_id, definition in catalogue.items():
        for sentence in definition.sentences():
            ids.append(theme_id)
            sentences.append(sentence)
    return ids, sentences


def theme_centroids(sentence_embeddings: np.ndarray, theme_ids: list[str]) -> tuple[list[str], np.ndarray]:
    """One unit vector per theme: the normalised mean of its sentences' embeddings (themes in first-seen order)."""
    themes = list(dict.fromkeys(theme_ids))
    labels = np.asarray(theme_ids)
    means = np.stack([sentence_embeddings[labels == theme].mean(axis=0) for theme in themes])
    return themes, (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)


# ------------------------------------------------------------------------------------------- assignment


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    shifted = (scores - scores.max(axis=1, keepdims=True)) / temperature
    weights = np.exp(shifted)
    return weights / weights.sum(axis=1, keepdims=True)


def assign_themes(
    embeddings: np.ndarray,
    theme_ids: list[str],
    centroids: np.ndarray,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
    temperature: float = TEMPERATURE,
) -> list[ThemeAssignment]:
    """The best theme per comment embedding, or ``other`` when no theme is at least ``min_similarity`` alike.

    ``theme_ids``/``centroids`` come from :func:`theme_centroids`. Confidence is the softmax probability of the
    chosen option among all themes plus ``other`` (scored at ``min_similarity``), see the module docstring.
    """
    if len(embeddings) == 0:
        return []
    similarities = np.asarray(embeddings, dtype=np.float32) @ np.asarray(centroids, dtype=np.float32).T
    options = list(theme_ids)
    if OTHER not in options:
        options.append(OTHER)
        similarities = np.hstack([similarities, np.full((len(similarities), 1), -1.0, dtype=np.float32)])
    scores = similarities.astype(np.float64)
    column = options.index(OTHER)
    scores[:, column] = np.maximum(scores[:, column], min_similarity)
    probabilities = _softmax(scores, temperature)
    order = np.argsort(-scores, axis=1, kind="stable")
    assignments = []
    for row, ranked in enumerate(order):
        best, second = int(ranked[0]), int(ranked[1])
        assignments.append(ThemeAssignment(theme=options[best], confidence=float(probabilities[row, best]),
                                           runner_up=options[second]))
    return assignments


# ------------------------------------------------------------------------------------------- emerging themes

# sklearn's English stop words plus survey filler that says nothing about a topic
_EXTRA_STOP_WORDS = frozenset({
    "just", "really", "like", "get", "got", "getting", "would", "could", "should", "also", "still", "always",
    "never", "ever", "every", "one", "lot", "lots", "much", "many", "make", "makes", "made", "need", "needs",
    "want", "think", "feel", "please", "thanks", "thank", "good", "great", "bad", "nice", "way", "day", "days",
    "week", "weeks", "time", "thing", "things", "people", "everyone", "anyone", "someone", "us", "ok", "okay",
    "im", "ive", "dont", "doesnt", "isnt", "cant", "wont", "didnt", "theres", "its", "thats",
})
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]")


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _EXTRA_STOP_WORDS


def tokenize(text: str, stop_words: frozenset[str] | None = None) -> list[str]:
    """Lower-case content words of ``text``: placeholders ([NAME], [EMAIL]) and stop words removed."""
    stop_words = _stop_words() if stop_words is None else stop_words
    words = _WORD.findall(_PLACEHOLDER.sub(" ", text).lower().replace("\u2019", "'"))
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    return [w for w in words if w not in stop_words and len(w) > 2]


def ctfidf_keywords(cluster_texts: list[list[str]], top_k: int = 3) -> list[list[str]]:
    """The ``top_k`` most distinctive words of each cluster by class-based TF-IDF (as in BERTopic).

    All texts of a cluster are one document. For word ``t`` in cluster ``c``::

        weight(t, c) = tf(t, c) * log(1 + A / f(t))

    where ``tf(t, c)`` is the count of ``t`` in ``c`` divided by the number of words in ``c``, ``A`` is the
    average number of words per cluster and ``f(t)`` is the count of ``t`` over all clusters. A word frequent in
    one cluster and rare elsewhere scores high. Ties go to the alphabetically first word, so labels are stable.
    """
    stop_words = _stop_words()
    tokens = [[w for text in texts for w in tokenize(text, stop_words)] for texts in cluster_texts]
    vocabulary = sorted({w for words in tokens for w in words})
    if not vocabulary:
        return [[] for _ in cluster_texts]
    index = {w: i for i, w in enumerate(vocabulary)}
    counts = np.zeros((len(tokens), len(vocabulary)))
    for row, words in enumerate(tokens):
        for w in words:
            counts[row, index[w]] += 1
    words_per_cluster = counts.sum(axis=1, keepdims=True)
    tf = np.divide(counts, words_per_cluster, out=np.zeros_like(counts), where=words_per_cluster > 0)
    average_words = words_per_cluster.mean()
    idf = np.log(1 + average_words / counts.sum(axis=0))
    weights = tf * idf
    keywords = []
    for row in weights:
        ranked = sorted((i for i in range(len(vocabulary)) if row[i] > 0), key=lambda i: (-row[i], vocabulary[i]))
        keywords.append([vocabulary[i] for i in ranked[:top_k]])
    return keywords


def emerging_themes(
    texts: list[str],
    embeddings: np.ndarray,
    min_cluster_size: int = 5,
    max_clusters: int = 8,
    distance_threshold: float = 0.75,
) -> list[EmergingTheme]:
    """Groups of comments about the same uncatalogued topic, biggest first.

    Pass the comments that :func:`assign_themes` left as ``other`` (``members`` index into ``texts``).
    Agglomerative clustering with average linkage on cosine distance, cut at ``distance_threshold`` (the mean
    distance between two groups' members, so 0.75 merges comments whose average similarity is above 0.25);
    it is deterministic. Clusters smaller than ``min_cluster_size`` are noise and dropped; at most
    ``max_clusters`` are kept (ties in size go to the cluster with the earliest comment).
    """
    if len(texts) < max(min_cluster_size, 2):
        return []
    from sklearn.cluster import AgglomerativeClustering

    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=distance_threshold).fit_predict(np.asarray(embeddings))
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    kept = sorted((m for m in groups.values() if len(m) >= min_cluster_size), key=lambda m: (-len(m), m[0]))
    kept = kept[:max_clusters]
    keywords = ctfidf_keywords([[texts[i] for i in members] for members in kept])
    return [EmergingTheme(theme="emerging: " + ", ".join(words), keywords=tuple(words), members=tuple(members))
            for words, members in zip(keywords, kept)]


# ------------------------------------------------------------------------------------------- evaluation


def load_labelled(path: Path = SHIPPED_SET) -> list[tuple[str, str]]:
    """The labelled theme set as (comment, theme) rows, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row["theme"]) for row in csv.DictReader(handle)]


def split_halves(rows: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(tuning half, evaluation half): rows at even positions tune, odd positions evaluate.

    The file lists each theme's comments together with an even count per theme, so both halves hold the same
    number of comments of every theme.
    """
    return rows[0::2], rows[1::2]


def build_classifier(embed: Callable[[list[str]], np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Theme ids and centroids of :data:`CATALOGUE` under ``embed``."""
    ids, sentences = catalogue_texts()
    return theme_centroids(embed(sentences), ids)


def accuracy_report(expected: list[str], assigned: list[ThemeAssignment]) -> dict:
    """Top-1 accuracy, recall per expected theme and the share of comments put in ``other``."""
    predicted = [a.theme for a in assigned]
    per_theme = {}
    for theme in dict.fromkeys(expected):
        hits = [p == e for p, e in zip(predicted, expected) if e == theme]
        per_theme[theme] = sum(hits) / len(hits)
    return {
        "n": len(expected),
        "accuracy": sum(p == e for p, e in zip(predicted, expected)) / len(expected) if expected else 0.0,
        "recall": per_theme,
        "other_share": predicted.count(OTHER) / len(predicted) if predicted else 0.0,
    }


def evaluate_shipped(embed: Callable[[list[str]], np.ndarray], min_similarity: float = DEFAULT_MIN_SIMILARITY) -> dict:
    """Accuracy on the shipped theme set: overall, on the tuning and evaluation halves, per theme, share 'other'."""
    rows = load_labelled()
    ids, centroids = build_classifier(embed)
    assigned = assign_themes(embed([text for text, _ in rows]), ids, centroids, min_similarity)
    expected = [theme for _, theme in rows]
    report = accuracy_report(expected, assigned)
    report["tuning"] = accuracy_report(expected[0::2], assigned[0::2])["accuracy"]
    report["evaluation"] = accuracy_report(expected[1::2], assigned[1::2])["accuracy"]
    report["errors"] = [(text, theme, a.theme) for (text, theme), a in zip(rows, assigned) if a.theme != theme]
    return report
