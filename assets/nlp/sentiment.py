"""Sentiment of survey comments: two classifiers over the comment's vectors and a few cues, averaged.

* a multinomial logistic regression over the frozen model's fourth-layer view of the comment (computed in the
  same forward pass as the search embedding) plus a dozen hand-written polarity cues (negation, requests,
  sarcasm markers; see "cue features");
* the softmax head of the fine-tuned sentiment encoder (:mod:`assets.nlp.tuning`: the same model with a
  low-rank adapter trained on the labelled comments) over that encoder's embedding plus the same cues.

Both are numpy at run time (a few kilobytes of JSON); the vectors come from the embedding cache, so a comment
is classified without running a model once its views are cached. Score = P(positive) - P(negative), in -1..1.

The labelled set (``data/sentiment_labelled.csv``) is hand-written, not taken from the synthetic comment
generator, so evaluating on generated demo comments is not evaluating on training data. Labelling rules:

* **positive** / **negative**: the comment's *overall stance* towards the workplace. A mixed comment is labelled
  by where it lands: praise followed by a real complaint ("I like my team, but the pay is a joke and I'm
  leaving") is negative; a complaint followed by "but overall I'm happy here" is positive. Sarcasm is labelled
  by what is meant ("Oh great, another reorg" is negative), negation by what is said ("not bad at all" is
  positive, "I can't say I feel valued" is negative), understatement by its real strength.
* **neutral**: suggestions, requests, questions and factual statements without praise or complaint
  ("Please publish the salary bands", "More pay.", "I work two days at home"), and ambivalent remarks
  ("It's fine", "Nothing to add", "Some good some bad"). A request that carries a complaint is negative.

``hard_case`` marks rows written to probe those rules (sarcasm, mixed, negation, understatement, question).
``data/sentiment_independent.csv`` is written in other voices and industries; it is only ever evaluated on.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from assets.nlp.tuning import DEFAULT_TUNING, Adapter, TunedHead, TuningConfig

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
COLUMNS: tuple[str, ...] = ("text", "label", "theme", "hard_case")
DATA_DIR = Path(__file__).resolve().parent / "data"
C_GRID: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
CV_FOLDS = 5


def labelled_path() -> Path:
    """The hand-labelled set the model is trained (and held-out evaluated) on."""
    return DATA_DIR / "sentiment_labelled.csv"


def independent_path() -> Path:
    """The set in a different voice, used only to check the model generalises beyond how the training set reads."""
    return DATA_DIR / "sentiment_independent.csv"


# ------------------------------------------------------------------------------------------- data


def load_labelled(path: Path | None = None) -> pd.DataFrame:
    """The labelled comments at ``path`` (default: the shipped set), validated.

    Read with the csv module rather than ``pd.read_csv`` so that a comment such as "N/A" stays text instead of
    becoming a missing value, and so that an error can name the file line a reviewer has to fix.
    """
    path = Path(path) if path is not None else labelled_path()
    rows: list[dict[str, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("text", "label") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        for row in reader:
            rows.append(_validated_row(row, path, reader.line_num))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _validated_row(row: dict[str, str | None], path: Path, line: int) -> dict[str, str]:
    text = (row.get("text") or "").strip()
    label = (row.get("label") or "").strip()
    if not text:
        raise ValueError(f"{path}, line {line}: empty text")
    if label not in LABELS:
        raise ValueError(f"{path}, line {line}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
    return {"text": text, "label": label, "theme": (row.get("theme") or "").strip(),
            "hard_case": (row.get("hard_case") or "").strip()}


def _hash_fraction(text: str) -> float:
    """A stable number in [0, 1) for a text: case and spacing do not matter, so trivial variants stay together."""
    key = " ".join(text.lower().split())
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:15], 16) / 16**15


def split(df: pd.DataFrame, test_share: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and held-out rows, decided by each text's hash alone.

    A row is held out when its hash fraction is below ``test_share``, the same cut in every label, so each
    class is split in (about) the same proportion. Because a row's side depends on nothing but its own text,
    appending rows never moves an existing row, and no random seed is involved. Exact per-class counts would need
    a boundary that moves as rows are added, which is what this avoids.
    """
    if not 0.0 < test_share < 1.0:
        raise ValueError(f"test_share must be between 0 and 1, got {test_share}")
    unknown = sorted(set(df["label"]) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown label(s) {unknown}")
    is_test = df["text"].map(_hash_fraction) < test_share
    return df[~is_test], df[is_test]


def training_sha256(df: pd.DataFrame) -> str:
    """A hash of the (text, label) pairs, independent of row order, so a cached model is retrained when they change."""
    pairs = sorted(zip(df["text"].astype(str), df["label"].astype(str)))
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------- cue features
#
# Mean-pooled MiniLM embeddings encode *what a comment is about* far better than *which way it leans*: "not a
# single IT issue since the upgrade" sits next to IT complaints, and "Oh great, another reorg" next to praise. So a
# small hand-written block of polarity cues is appended to the vectors both classifiers read. The words are generic
# workplace sentiment vocabulary (a trailing * matches any ending); negators flip a cue within three words before it
# and inside one clause, as in "no complaints" or "not valued". The block has a dozen columns against the vectors'
# 384 and is weighted (``cue_weight``: chosen by cross-validation for the linear classifier, a training setting for
# the tuned one), so the vectors stay the main signal.


def _wordlist(block: str) -> tuple[str, ...]:
    """Word lists are written as blocks of text so that they read (and diff) like a glossary."""
    return tuple(block.split())


POSITIVE_CUES: tuple[str, ...] = _wordlist("""
love* great excellent brilliant amazing fantastic happy happier enjoy* appreciat* grateful thank* supportive valued
fair proud best good helpful trust* recommend improv* lovely awesome perfect respect* welcom* generous impress* useful
better smooth* easy easier clear decent glad pleased superb outstanding kind wonderful friendly approachable honest
transparent flexib* motivat* inspir* reward* empower* safe calm relief relieved nice efficient fun laugh* legend props
kudos cheers well sane sensible realistic manageable sustainable protected valuable thoughtful patient caring cared
quick quicker fast faster eased fixed protects finally""")
NEGATIVE_CUES: tuple[str, ...] = _wordlist("""
bad terrible awful worst poor hate* toxic exhaust* burnout burnt burned stress* overwork* underpaid unfair frustrat*
disappoint* ignor* useless pointless nightmare mess chaos chaotic broken slow unrealistic unsustainable insult*
demoralis* demoraliz* miserable leav* quit* favouritism favoritism micromanag* bully* bullied blame* lack* drown* joke
rubbish humiliat* scared worse problem* complain* issue* fault* doubt* regret* struggl* wrong hard difficult tired sick
angry upset unhappy fail* crash* wast* disaster* awkward dread* anxi* cut cuts freeze frozen froze overlook* invisible
unpaid unsafe painful lonely isolat* stuck dead crying ridiculous absurd degrading spied shouting shouts screams
screaming gossip* cliques clique drama backstabbing insane excessive overloaded overwhelmed nonexistent non-existent
outdated filthy freezing boiling mould rejects inappropriate dismissive condescending shambles dire""")
NEGATORS: frozenset[str] = frozenset(_wordlist("""
not no never nobody nothing none without hardly zero cannot cant dont didnt doesnt isnt wasnt wont wouldnt couldnt
havent hasnt arent nor neither nowhere"""))
CONTRASTS: frozenset[str] = frozenset({"but", "however", "though", "although", "yet", "except"})
# Suggestions and requests: the bulk of the neutral class.
REQUEST = re.compile(r"\b(please|pls|plz|suggest\w*|maybe|perhaps|consider|would (be|help|like|love|welcome|appreciate)"
                     r"|i'?d (like|love|suggest|prefer|welcome|appreciate)|could (we|the|you|there|all|someone)"
                     r"|can (we|the|you|there)|should be|it might help|might be good|it'?d help|would it be)\b")
# "Nothing to add", "it's fine": ambivalent answers, also neutral.
FILLER = re.compile(r"\b(nothing (to add|else|further|more|specific|to report|comes to mind)|no (further )?comments?"
                    r"|n/?a|no strong|not much to say|no opinion|ok|okay|fine|average|alright|so-so|mixed|neither"
                    r"|either way|what it is|it'?s a job|too early to say|can'?t remember)\b")
# Rhetorical questions ("Why do I need four logins...?") complain; other questions ask.
COMPLAINT_QUESTION = re.compile(r"(^|[.!?]\s*)(why|how (are|is|am|can|do|does|come)|what'?s the point"
                                r"|what is the point|what exactly|when exactly|does anyone|is anyone"
                                r"|could someone explain|when am i)\b")
SARCASM = re.compile(r"\b(oh (great|wonderful|good|joy|yes)|just what (we|i) needed|love how|nothing says"
                     r"|what could (possibly )?go wrong|yeah right|truly|i'?m sure|how (generous|lovely)|so valued"
                     r"|really (enjoy|enjoying|love|loved)|wow|ah yes|great stuff|inspiring stuff|what a surprise"
                     r"|can'?t wait|my favou?rite|nothing i love more|loved (hearing|spending)|i adore|shall i|sure,"
                     r"|fantastic\.|brilliant\.|great\.|lovely\.)")
# Duration, repetition and absence are how factual complaints read ("three weeks before I got access").
COMPLAINT = re.compile(r"\b(still waiting|again|every (single )?(time|day|week|year)|for (months|weeks|years)"
                       r"|out of order|non[- ]?existent|can'?t be bothered|not anymore|used to|no one|nobody|let alone"
                       r"|(takes?|took|waiting) (\w+ )?(weeks|months|days|hours)|twice|three times|the same)\b")
CUE_NAMES: tuple[str, ...] = (
    "positive", "negative", "negated_negative", "bare_negation", "final_clause_polarity", "request", "filler",
    "complaint_question", "other_question", "sarcasm_marker", "complaint_phrase", "incongruity",
)
CUE_WEIGHTS: tuple[float, ...] = (0.3, 0.5, 0.7)


def _matches(word: str, cues: Sequence[str]) -> bool:
    return any(word.startswith(c[:-1]) if c.endswith("*") else word == c for c in cues)


def _words(text: str) -> list[str]:
    """Lower-case words with apostrophes dropped ("can't" -> "cant"); punctuation kept as clause breaks."""
    low = text.lower().replace("\u2019", "'").replace("n't", "nt")
    return [w.replace("'", "") for w in re.findall(r"[a-z'/-]+|[.,;:!?]", low)]


def _polarity(words: list[str]) -> tuple[int, int, int, int]:
    """(positive, negative, negated negative, bare negation) counts; a negated positive counts as negative."""
    positive = negative = litotes = bare = 0
    for i, word in enumerate(words):
        window: list[str] = []
        for previous in reversed(words[max(0, i - 3):i]):
            if previous in ".,;:!?":
                break
            window.append(previous)
        negated = any(w in NEGATORS for w in window)
        if _matches(word, POSITIVE_CUES):
            negative, positive = (negative + 1, positive) if negated else (negative, positive + 1)
        elif _matches(word, NEGATIVE_CUES):
            litotes, negative = (litotes + 1, negative) if negated else (litotes, negative + 1)
        elif word in NEGATORS and not any(_matches(w, POSITIVE_CUES) or _matches(w, NEGATIVE_CUES)
                                          for w in words[i + 1:i + 4]):
            bare += 1
    return positive, negative, litotes, bare


def cue_features(text: str) -> np.ndarray:
    """The cue block of one comment, columns as in ``CUE_NAMES``, each in [-1, 1]."""
    low = text.lower().replace("\u2019", "'")
    words = _words(text)
    positive, negative, litotes, bare = _polarity(words)
    cut = max((i for i, w in enumerate(words) if w in CONTRASTS), default=-1)
    final = 0.0
    if cut >= 0:  # mixed comments are labelled by where they land: the clause after the last "but"
        p, n, lit, _ = _polarity(words[cut + 1:])
        final = float(np.sign(p + lit - n))
    rhetorical = bool(COMPLAINT_QUESTION.search(low))
    incongruous = positive > 0 and (negative > 0 or bare > 0) and cut < 0  # praise words on a complaint: sarcasm
    return np.array([
        min(positive, 3) / 3, min(negative, 3) / 3, min(litotes, 1), min(bare, 2) / 2, final,
        bool(REQUEST.search(low)), bool(FILLER.search(low)), rhetorical, "?" in text and not rhetorical,
        bool(SARCASM.search(low)), bool(COMPLAINT.search(low)), incongruous,
    ], dtype=np.float64)


def cue_matrix(texts: Sequence[str]) -> np.ndarray:
    """The cue block of each text, one row per text (columns as in ``CUE_NAMES``)."""
    return np.stack([cue_features(t) for t in texts]) if len(texts) else np.zeros((0, len(CUE_NAMES)))


# ------------------------------------------------------------------------------------------- model
#
# Two classifiers, averaged (:data:`TUNED_WEIGHT`). Accuracies below are five-fold cross-validation on the
# training split (``python -m assets.nlp.sentiment_cv``, which chose every setting; the held-out split never did):
#
# * **linear**: a multinomial logistic regression over the frozen model's fourth-layer view (see
#   :mod:`assets.nlp.embeddings`) and the cue block: no training of the encoder, 0.838 on its own (0.825 over
#   the sentence embedding, 0.821 and 0.823 over layers 3 and 5);
# * **tuned**: the softmax head trained together with the sentiment encoder's adapter (:mod:`assets.nlp.tuning`)
#   over that encoder's embedding and the cue block: 0.832 on its own.
#
# Their mistakes differ (the linear one reads wording, the tuned one stance), so the average of their
# probabilities does better than either: 0.853 with 0.3 of the weight on the tuned one (0.849 at 0.5, 0.844 at
# 0.7).

TUNED_WEIGHT = 0.3
JSON_FORMAT = 2


@dataclass(frozen=True)
class SentimentInputs:
    """What the classifier reads of each comment: its layer view, its tuned view and its text (for the cues)."""

    layer: np.ndarray
    tuned: np.ndarray
    texts: Sequence[str]

    def __post_init__(self):
        if not len(self.layer) == len(self.tuned) == len(self.texts):
            raise ValueError(f"sentiment inputs disagree in length: {len(self.layer)} layer vectors, "
                             f"{len(self.tuned)} tuned vectors, {len(self.texts)} texts")


@dataclass(frozen=True, eq=False)
class SoftmaxLayer:
    """logits = coef @ [feature_scale · vector, cue_weight · cues] + intercept (no cue columns if cue_weight is 0)."""

    coef: np.ndarray  # (n_labels, dimensions [+ cues])
    intercept: np.ndarray  # (n_labels,)
    feature_scale: float = 1.0
    cue_weight: float = 0.0

    def inputs(self, vectors: np.ndarray, cues: np.ndarray) -> np.ndarray:
        x = self.feature_scale * np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        return np.hstack([x, self.cue_weight * cues]) if self.cue_weight else x

    def proba(self, vectors: np.ndarray, cues: np.ndarray) -> np.ndarray:
        return softmax(self.inputs(vectors, cues) @ self.coef.T + self.intercept)

    def to_json(self) -> dict:
        return {"coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "feature_scale": self.feature_scale, "cue_weight": self.cue_weight}

    @classmethod
    def from_json(cls, d: dict) -> SoftmaxLayer:
        return cls(coef=np.asarray(d["coef"], dtype=np.float64), intercept=np.asarray(d["intercept"], dtype=np.float64),
                   feature_scale=float(d["feature_scale"]), cue_weight=float(d["cue_weight"]))


def softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


@dataclass(frozen=True, eq=False)
class SentimentModel:
    """The fitted classifier (numpy only): the linear and the tuned softmax layers, averaged."""

    labels: tuple[str, ...]
    linear: SoftmaxLayer
    tuned: SoftmaxLayer
    adapter_sha256: str  # the sentiment encoder whose embeddings ``tuned`` reads
    model_name: str
    training_sha256: str
    tuned_weight: float = TUNED_WEIGHT

    def predict_proba(self, inputs: SentimentInputs) -> np.ndarray:
        """Class probabilities, one row per comment, columns in the order of ``labels``."""
        cues = cue_matrix(inputs.texts)
        return (self.tuned_weight * self.tuned.proba(inputs.tuned, cues)
                + (1.0 - self.tuned_weight) * self.linear.proba(inputs.layer, cues))

    def predict(self, inputs: SentimentInputs) -> tuple[list[str], np.ndarray]:
        """The most likely label and a score in [-1, 1]: P(positive) - P(negative), so it averages sensibly."""
        proba = self.predict_proba(inputs)
        labels = [self.labels[i] for i in proba.argmax(axis=1)]
        score = proba[:, self.labels.index("positive")] - proba[:, self.labels.index("negative")]
        return labels, np.clip(score, -1.0, 1.0)

    def to_json(self) -> dict:
        """A JSON-safe dict (float64 values survive the round trip exactly)."""
        from assets.nlp.embeddings import SENTIMENT_LAYER

        return {"format": JSON_FORMAT, "labels": list(self.labels), "model_name": self.model_name,
                "training_sha256": self.training_sha256, "adapter_sha256": self.adapter_sha256,
                "layer": SENTIMENT_LAYER, "cue_names": list(CUE_NAMES), "tuned_weight": self.tuned_weight,
                "linear": self.linear.to_json(), "tuned": self.tuned.to_json()}

    @classmethod
    def from_json(cls, d: dict) -> SentimentModel:
        """The model ``to_json`` wrote; refuses one whose inputs (format, layer, cue block) differ from this code's."""
        from assets.nlp.embeddings import SENTIMENT_LAYER

        if d.get("format") != JSON_FORMAT:
            raise ValueError(f"unsupported sentiment model format {d.get('format')!r}: retrain it")
        if d.get("layer") != SENTIMENT_LAYER or d.get("cue_names") != list(CUE_NAMES):
            raise ValueError("the model's inputs (layer view or cue features) differ from this code's: retrain it")
        return cls(labels=tuple(d["labels"]), linear=SoftmaxLayer.from_json(d["linear"]),
                   tuned=SoftmaxLayer.from_json(d["tuned"]), adapter_sha256=d["adapter_sha256"],
                   model_name=d["model_name"], training_sha256=d["training_sha256"],
                   tuned_weight=float(d["tuned_weight"]))


def model_identity(model_name: str, training_sha256: str, adapter_sha256: str) -> str:
    """Names one sentiment classifier: its embedding model, the data it was trained on and its encoder's adapter
    (the first 12 hex digits of each hash), e.g. ``all-MiniLM-L6-v2@b32cc1fd9d7d.ae72f05f51a7``. Recorded with
    every classified comment (nlp.comment_enrichment.sentiment_model) and every alert evaluation."""
    return f"{model_name}@{training_sha256[:12]}.{adapter_sha256[:12]}"


class SentimentEncoder(Protocol):
    """The forward passes training and evaluation need (:class:`assets.nlp.embeddings.Encoder`, or a cached one)."""

    def base_views(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]: ...

    def tuned(self, texts: list[str], adapter: Adapter) -> np.ndarray: ...

    def fine_tune(self, texts, labels, cues, n_labels, config=None) -> tuple[Adapter, TunedHead]: ...


def _cv_accuracy(x: np.ndarray, y: np.ndarray, c: float, folds) -> float:
    from sklearn.linear_model import LogisticRegression

    scores = [LogisticRegression(C=c, max_iter=10000).fit(x[fit], y[fit]).score(x[held], y[held])
              for fit, held in folds]
    return float(np.mean(scores))


def fit_linear(vectors: np.ndarray, labels: Sequence[str], cues: np.ndarray | None) -> SoftmaxLayer:
    """A multinomial logistic regression; ``C`` (and the cue weight, when ``cues`` are given) chosen by
    stratified cross-validation on the rows given (pass the training split, so the held-out score stays honest).

    Folds are shuffled with a fixed seed: the same data always gives the same model. With more than two classes
    and the lbfgs solver, scikit-learn's LogisticRegression fits the multinomial (softmax) loss.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(list(labels))
    unknown = sorted(set(y) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown label(s) {unknown}")
    weights = CUE_WEIGHTS if cues is not None else (0.0,)
    folds = list(StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=0).split(vectors, y))
    vectors = np.asarray(vectors, dtype=np.float64)
    inputs = {w: np.hstack([vectors, w * cues]) if w else vectors for w in weights}
    scored = [(_cv_accuracy(inputs[w], y, c, folds), -c, w, c) for w in weights for c in C_GRID]
    _, _, best_w, best_c = max(scored)  # ties go to the smaller C: the simpler model
    fitted = LogisticRegression(C=best_c, max_iter=10000).fit(inputs[best_w], y)
    order = [list(fitted.classes_).index(label) for label in LABELS]
    return SoftmaxLayer(coef=fitted.coef_[order].astype(np.float64),
                        intercept=fitted.intercept_[order].astype(np.float64), feature_scale=1.0, cue_weight=best_w)


def train(encoder: SentimentEncoder, texts: Sequence[str], labels: Sequence[str], model_name: str,
          training_sha256: str, tuning: TuningConfig = DEFAULT_TUNING) -> tuple[SentimentModel, Adapter]:
    """Both halves of the classifier on (texts, labels): the linear layer over the layer view, and the
    sentiment encoder's adapter with its head. Returns the model and the adapter (which it names by hash)."""
    texts, labels = list(texts), list(labels)
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown label(s) {unknown}")
    cues = cue_matrix(texts)
    _, layer = encoder.base_views(texts)
    linear = fit_linear(layer, labels, cues)
    adapter, head = encoder.fine_tune(texts, [LABELS.index(label) for label in labels], cues, len(LABELS), tuning)
    tuned = SoftmaxLayer(coef=head.coef, intercept=head.intercept, feature_scale=tuning.feature_scale,
                         cue_weight=tuning.cue_weight)
    model = SentimentModel(labels=LABELS, linear=linear, tuned=tuned, adapter_sha256=adapter.sha256,
                           model_name=model_name, training_sha256=training_sha256)
    return model, adapter


def inputs_for(encoder: SentimentEncoder, texts: Sequence[str], adapter: Adapter) -> SentimentInputs:
    """The classifier's inputs for ``texts``, computed with ``encoder`` (two forward passes)."""
    texts = list(texts)
    return SentimentInputs(layer=encoder.base_views(texts)[1], tuned=encoder.tuned(texts, adapter), texts=texts)


# ------------------------------------------------------------------------------------------- evaluation


def evaluate(model: SentimentModel, inputs: SentimentInputs, labels: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion counts (true -> predicted)."""
    predicted, _ = model.predict(inputs)
    truth = list(labels)
    confusion = {t: {p: 0 for p in model.labels} for t in model.labels}
    for t, p in zip(truth, predicted):
        confusion[t][p] += 1
    per_class = {label: _class_scores(confusion, label) for label in model.labels}
    n = len(truth)
    correct = sum(confusion[label][label] for label in model.labels)
    return {"n": n, "accuracy": correct / n if n else 0.0,
            "macro_f1": float(np.mean([s["f1"] for s in per_class.values()])),
            "per_class": per_class, "confusion": confusion}


def _class_scores(confusion: dict[str, dict[str, int]], label: str) -> dict:
    hits = confusion[label][label]
    predicted = sum(row[label] for row in confusion.values())
    support = sum(confusion[label].values())
    precision = hits / predicted if predicted else 0.0
    recall = hits / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def train_from_shipped(encoder: SentimentEncoder, model_name: str,
                       tuning: TuningConfig = DEFAULT_TUNING) -> tuple[SentimentModel, Adapter, dict]:
    """Train on the shipped set's train split; report the held-out split and the independent set.

    About two and a half minutes on two CPU cores, nearly all of it fine-tuning the adapter.
    """
    train_df, test_df = split(load_labelled())
    independent = load_labelled(independent_path())
    model, adapter = train(encoder, train_df["text"].tolist(), train_df["label"].tolist(), model_name,
                           training_sha256(train_df), tuning)
    report = {"heldout": _evaluate_frame(model, adapter, test_df, encoder),
              "independent": _evaluate_frame(model, adapter, independent, encoder),
              "n_train": len(train_df), "n_test": len(test_df), "n_independent": len(independent),
              "by_hard_case": _by_hard_case(model, adapter, test_df, encoder)}
    return model, adapter, report


def _evaluate_frame(model: SentimentModel, adapter: Adapter, df: pd.DataFrame, encoder: SentimentEncoder) -> dict:
    return evaluate(model, inputs_for(encoder, df["text"].tolist(), adapter), df["label"].tolist())


def _by_hard_case(model: SentimentModel, adapter: Adapter, df: pd.DataFrame, encoder: SentimentEncoder) -> dict:
    """Held-out accuracy per kind of hard case ("" for the ordinary comments), with the counts."""
    predicted, _ = model.predict(inputs_for(encoder, df["text"].tolist(), adapter))
    right = np.array(predicted) == df["label"].to_numpy()
    kinds = df["hard_case"].to_numpy()
    return {kind or "ordinary": {"n": int((kinds == kind).sum()), "accuracy": float(right[kinds == kind].mean())}
            for kind in sorted(set(kinds))}


def confusion_markdown(report: dict) -> str:
    """Markdown confusion tables (rows: true label, columns: predicted) for each evaluated set in ``report``."""
    sections = [(name, result) for name, result in report.items() if isinstance(result, dict) and "confusion" in result]
    if "confusion" in report:  # a bare evaluate() result
        sections = [("evaluation", report)]
    return "\n\n".join(_confusion_table(name, result) for name, result in sections)


def _confusion_table(name: str, result: dict) -> str:
    labels = list(result["confusion"])
    lines = [f"**{name}**: n={result['n']}, accuracy {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f}",
             "",
             "| true \\ predicted | " + " | ".join(labels) + " |",
             "|---|" + "---:|" * len(labels)]
    lines += [f"| {t} | " + " | ".join(str(result["confusion"][t][p]) for p in labels) + " |" for t in labels]
    return "\n".join(lines)
