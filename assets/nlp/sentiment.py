"""Sentiment of survey comments: a multinomial logistic regression on sentence embeddings.

Why a linear model on frozen embeddings: the embeddings are computed (and cached) for search and themes anyway,
so sentiment costs one matrix product per comment, the model is a few kilobytes of JSON that numpy alone can
apply, and it retrains in seconds when the labelled set grows.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
COLUMNS: tuple[str, ...] = ("text", "label", "theme", "hard_case")
DATA_DIR = Path(__file__).resolve().parent / "data"
C_GRID: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
CV_FOLDS = 5
JSON_FORMAT = 1


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


# ------------------------------------------------------------------------------------------- model


@dataclass(frozen=True, eq=False)
class SentimentModel:
    """A fitted softmax classifier over embeddings; prediction needs numpy only."""

    labels: tuple[str, ...]
    coef: np.ndarray  # (n_labels, dimensions)
    intercept: np.ndarray  # (n_labels,)
    model_name: str
    training_sha256: str

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per embedding, columns in the order of ``labels``."""
        x = np.atleast_2d(np.asarray(embeddings, dtype=np.float64))
        logits = x @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def predict(self, embeddings: np.ndarray) -> tuple[list[str], np.ndarray]:
        """The most likely label and a score in [-1, 1]: P(positive) - P(negative), so it averages sensibly."""
        proba = self.predict_proba(embeddings)
        labels = [self.labels[i] for i in proba.argmax(axis=1)]
        score = proba[:, self.labels.index("positive")] - proba[:, self.labels.index("negative")]
        return labels, score

    def to_json(self) -> dict:
        """A JSON-safe dict (float64 values survive the round trip exactly)."""
        return {"format": JSON_FORMAT, "labels": list(self.labels), "coef": self.coef.tolist(),
                "intercept": self.intercept.tolist(), "model_name": self.model_name,
                "training_sha256": self.training_sha256}

    @classmethod
    def from_json(cls, d: dict) -> SentimentModel:
        """The model ``to_json`` wrote."""
        if d.get("format") != JSON_FORMAT:
            raise ValueError(f"unsupported sentiment model format {d.get('format')!r}")
        return cls(labels=tuple(d["labels"]), coef=np.asarray(d["coef"], dtype=np.float64),
                   intercept=np.asarray(d["intercept"], dtype=np.float64), model_name=d["model_name"],
                   training_sha256=d["training_sha256"])


def train(embeddings: np.ndarray, labels: Sequence[str], model_name: str, training_sha256: str) -> SentimentModel:
    """A multinomial logistic regression, its inverse regularisation ``C`` chosen by stratified cross-validation.

    Only the rows given are used for choosing ``C`` (pass the training split), so the held-out score stays honest.
    Folds are shuffled with a fixed seed: the same data always gives the same model.
    """
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    unknown = sorted(set(y) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown label(s) {unknown}")
    x = np.asarray(embeddings, dtype=np.float64)
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=0)
    search = LogisticRegressionCV(Cs=list(C_GRID), cv=folds, scoring="accuracy", max_iter=5000, n_jobs=1)
    best_c = float(search.fit(x, y).C_[0])
    fitted = LogisticRegression(C=best_c, max_iter=5000).fit(x, y)
    order = [list(fitted.classes_).index(label) for label in LABELS]
    return SentimentModel(labels=LABELS, coef=fitted.coef_[order].astype(np.float64),
                          intercept=fitted.intercept_[order].astype(np.float64), model_name=model_name,
                          training_sha256=training_sha256)


# ------------------------------------------------------------------------------------------- evaluation


def evaluate(model: SentimentModel, embeddings: np.ndarray, labels: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion counts (true -> predicted)."""
    predicted, _ = model.predict(embeddings)
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


def train_from_shipped(embed: Callable[[list[str]], np.ndarray], model_name: str) -> tuple[SentimentModel, dict]:
    """Train on the shipped set's train split; report the held-out split and the independent set.

    ``embed`` maps texts to normalised embeddings; the caller passes its own so texts go through its cache.
    """
    train_df, test_df = split(load_labelled())
    independent = load_labelled(independent_path())
    model = train(embed(train_df["text"].tolist()), train_df["label"].tolist(), model_name,
                  training_sha256(train_df))
    report = {
        "heldout": evaluate(model, embed(test_df["text"].tolist()), test_df["label"].tolist()),
        "independent": evaluate(model, embed(independent["text"].tolist()), independent["label"].tolist()),
        "n_train": len(train_df), "n_test": len(test_df), "n_independent": len(independent),
    }
    return model, report


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
