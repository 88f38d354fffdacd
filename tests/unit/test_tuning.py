"""The sentiment encoder's adapter (assets/nlp/tuning.py): merging changes nothing, files round-trip, training is
deterministic and moves the model, a wrong adapter is refused. Real all-MiniLM-L6-v2, offline; no database."""

from __future__ import annotations

import numpy as np
import pytest

from assets.nlp import sentiment, tuning
from assets.nlp.embeddings import Encoder, encode

TEXTS = ["I love it here", "This place is a nightmare, but the coffee is ok", "Please add more parking",
         "Not bad at all", "Oh great, another reorg"]


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder()


def random_adapter(model, seed: int = 0, rank: int = 4) -> tuning.Adapter:
    rng = np.random.default_rng(seed)
    tensors = {}
    for i, layer in enumerate(model[0].auto_model.encoder.layer):
        for path in tuning.TARGETS:
            linear = layer.get_submodule(path)
            tensors[f"{i}.{path}.A"] = rng.normal(0, 0.05, (rank, linear.in_features)).astype(np.float32)
            tensors[f"{i}.{path}.B"] = rng.normal(0, 0.05, (linear.out_features, rank)).astype(np.float32)
    return tuning.Adapter(tuning.TuningConfig(rank=rank), tensors)


def test_merged_weights_give_what_the_separate_updates_give(encoder):
    adapter = random_adapter(encoder.model)
    unmerged = encode(TEXTS, tuning.lora_model(encoder.model, adapter))
    merged = encoder.tuned(TEXTS, adapter)
    np.testing.assert_allclose(merged, unmerged, atol=1e-5)
    assert np.abs(merged - encoder.sentence(TEXTS)).max() > 0.05  # the adapter does change the embedding
    np.testing.assert_allclose(np.linalg.norm(merged, axis=1), 1.0, atol=1e-5)


def test_merging_leaves_the_packaged_model_alone(encoder):
    before = encoder.sentence(TEXTS)
    encoder.tuned(TEXTS, random_adapter(encoder.model, seed=1))
    np.testing.assert_array_equal(encoder.sentence(TEXTS), before)


def test_adapter_file_round_trip_and_hash(encoder):
    adapter = random_adapter(encoder.model)
    again = tuning.Adapter.from_bytes(adapter.to_bytes())
    assert again.sha256 == adapter.sha256 and again.config == adapter.config
    assert all(np.array_equal(again.tensors[k], v) for k, v in adapter.tensors.items())
    assert random_adapter(encoder.model, seed=2).sha256 != adapter.sha256


def test_an_adapter_for_another_model_is_refused(encoder):
    adapter = random_adapter(encoder.model)
    fewer_layers = {k: v for k, v in adapter.tensors.items() if not k.startswith("5.")}
    with pytest.raises(ValueError, match="does not fit"):
        tuning.merged_model(encoder.model, tuning.Adapter(adapter.config, fewer_layers))
    wrong_size = dict(adapter.tensors)
    wrong_size["0.attention.self.query.A"] = np.zeros((4, 100), np.float32)
    with pytest.raises(ValueError, match="does not fit"):
        tuning.merged_model(encoder.model, tuning.Adapter(adapter.config, wrong_size))


def test_a_model_of_another_architecture_is_refused_in_one_line():
    from types import SimpleNamespace

    for not_bert in ([SimpleNamespace(auto_model=object())], [SimpleNamespace()]):
        with pytest.raises(ValueError, match="needs a BERT-style model"):
            tuning.transformer_layers(not_bert)


def test_a_file_of_another_format_is_refused(encoder):
    from safetensors.numpy import save

    with pytest.raises(ValueError, match="format"):
        tuning.Adapter.from_bytes(save({"x": np.zeros(1, np.float32)}, {"format": "0", "config": "{}"}))


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError, match="invalid tuning"):
        tuning.TuningConfig(rank=0)


def test_fine_tuning_is_deterministic_and_learns_a_small_set(encoder):
    texts = ["I love my team", "Great manager, very supportive", "Best place I have worked",
             "I hate the commute", "Terrible pay and no recognition", "Toxic culture, I am leaving",
             "Please add a bike rack", "Could we move the stand-up to ten?", "More vegetarian options please"] * 2
    labels = [2, 2, 2, 0, 0, 0, 1, 1, 1] * 2
    cues = sentiment.cue_matrix(texts)
    config = tuning.TuningConfig(epochs=6, batch_size=6, learning_rate=2e-3)
    first, head = tuning.fine_tune(encoder.model, texts, labels, cues, 3, config)
    second, _ = tuning.fine_tune(encoder.model, texts, labels, cues, 3, config)
    assert first.sha256 == second.sha256  # same data, same seed: the same adapter, bit for bit
    assert set(first.tensors) == {f"{i}.{p}.{m}" for i in range(6) for p in tuning.TARGETS for m in "AB"}
    assert all(np.abs(first.tensors[f"{i}.{p}.B"]).max() > 0 for i in range(6) for p in tuning.TARGETS)
    layer = sentiment.SoftmaxLayer(head.coef, head.intercept, config.feature_scale, config.cue_weight)
    predicted = layer.proba(encoder.tuned(texts, first), cues).argmax(axis=1)
    assert (predicted == np.array(labels)).mean() == 1.0
    with pytest.raises(ValueError, match="one label"):
        tuning.fine_tune(encoder.model, texts, labels[:-1], cues, 3, config)
