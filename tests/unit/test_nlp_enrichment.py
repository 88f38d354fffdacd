"""enrich_rows: sentiment (given), catalogue themes and emerging themes put together, on hand-made vectors."""

from __future__ import annotations

import numpy as np

from assets.nlp.pipeline import enrich_rows


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


# axis 0: pay, axis 1: tools, axis 2: parking (no catalogue theme), axis 3: noise
THEME_IDS = ["pay", "tools"]
CENTROIDS = np.stack([unit(1, 0, 0, 0), unit(0, 1, 0, 0)])


def test_catalogue_themes_sentiment_and_an_emerging_cluster():
    texts = ["pay is low", "laptop is great"] + [f"no parking spaces {i}" for i in range(6)] + ["odd one"]
    vectors = np.stack([unit(1, 0, 0, -0.5), unit(0, 1, 0, 0.5)]
                       + [unit(0.05 * i, 0, 1, -0.3) for i in range(6)] + [unit(0, 0, 0, 1)])
    ids = [f"c{i}" for i in range(len(texts))]
    labels = ["negative", "positive"] + ["neutral"] * 6 + ["positive"]
    scores = [-0.95, 0.93] + [0.0] * 6 + [1.7]  # 1.7: out of range, clipped
    rows, emerging = enrich_rows(ids, texts, vectors, labels, scores, THEME_IDS, CENTROIDS, min_cluster_size=5)
    by_id = {r.comment_id: r for r in rows}
    assert (by_id["c0"].theme, by_id["c0"].theme_source, by_id["c0"].sentiment_label) == ("pay", "catalogue",
                                                                                          "negative")
    assert (by_id["c1"].theme, by_id["c1"].sentiment_label) == ("tools", "positive")
    assert (by_id["c0"].sentiment_score, by_id["c1"].sentiment_score, by_id["c8"].sentiment_score) == (-0.95, 0.93, 1.0)
    [(name, keywords, n)] = emerging
    assert n == 6 and "parking" in keywords and name.startswith("emerging")
    assert {by_id[f"c{i}"].theme for i in range(2, 8)} == {name}
    assert all(by_id[f"c{i}"].theme_source == "emerging" for i in range(2, 8))
    assert (by_id["c8"].theme, by_id["c8"].theme_source) == ("other", "other")
    assert all(0 <= r.theme_confidence <= 1 and -1 <= r.sentiment_score <= 1 for r in rows)


def test_pasted_duplicates_do_not_make_a_cluster_on_their_own():
    texts = ["same complaint about the lift"] * 7
    vectors = np.stack([unit(0, 0, 1, 0)] * 7)
    rows, emerging = enrich_rows([f"c{i}" for i in range(7)], texts, vectors, ["neutral"] * 7, [0.0] * 7, THEME_IDS,
                                 CENTROIDS)
    assert emerging == [] and {r.theme for r in rows} == {"other"}


def test_no_comments_no_rows():
    assert enrich_rows([], [], np.zeros((0, 4), np.float32), [], [], THEME_IDS, CENTROIDS) == ([], [])
