"""The sentiment encoder: all-MiniLM-L6-v2 with a low-rank adapter (LoRA) fine-tuned on the labelled comments.

Why fine-tune at all: the frozen model places a comment by *what it is about*, not by *which way it leans*. A
linear model over frozen vectors tops out at about 0.84 in cross-validation on the training split. Training
through every transformer layer, with the comments and their labels, teaches the encoder stance: sarcasm,
"not bad at all", praise that ends in "but I'm leaving".

Why an adapter rather than new weights: every attention and feed-forward matrix W of the six layers gets a
trained low-rank update s·B·A (rank 8). That is about 330,000 numbers, 1.3 MB, against the model's 22 million.
It fits in the repository and in one database row. The packaged model stays as it is, so the search and theme
embeddings, and their cache, do not change. At run time the update is merged into a copy of the model
(W + s·B·A): the tuned encoder is an ordinary SentenceTransformer, one more forward pass for a new text and
nothing for a cached one.

Training is deterministic for a given machine: fixed seeds, fixed batch order, no data-dependent choices. The
settings (:data:`DEFAULT_TUNING`) were chosen by five-fold cross-validation on the training split only
(``python -m assets.nlp.sentiment_cv``); the held-out split never takes part in a choice.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

# The linear maps of each BERT layer that get an update, as paths inside ``encoder.layer[i]``.
TARGETS: tuple[str, ...] = ("attention.self.query", "attention.self.key", "attention.self.value",
                            "attention.output.dense", "intermediate.dense", "output.dense")
ADAPTER_FORMAT = 1


@dataclass(frozen=True)
class TuningConfig:
    """How the adapter and its classification head are trained."""

    rank: int = 8
    scale: float = 2.0  # s in W + s·B·A
    epochs: int = 8
    learning_rate: float = 5e-4
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup_share: float = 0.1  # linear warm-up over this share of the steps, then linear decay to zero
    feature_scale: float = 5.0  # the head sees feature_scale × the normalised embedding ...
    cue_weight: float = 1.0  # ... next to cue_weight × the cue block of :mod:`assets.nlp.sentiment`
    seed: int = 0

    def __post_init__(self):
        if self.rank < 1 or self.epochs < 1 or self.batch_size < 1 or self.learning_rate <= 0:
            raise ValueError(f"invalid tuning settings: {self}")


DEFAULT_TUNING = TuningConfig()


@dataclass(frozen=True, eq=False)
class Adapter:
    """The trained low-rank updates: ``tensors["<layer>.<target>.A"]`` is (rank, in), ``.B`` is (out, rank)."""

    config: TuningConfig
    tensors: dict[str, np.ndarray]

    @cached_property
    def sha256(self) -> str:
        """Content hash: names the tuned encoder's embeddings in the cache, so a retrained adapter never mixes."""
        digest = hashlib.sha256(json.dumps(asdict(self.config), sort_keys=True).encode())
        for name in sorted(self.tensors):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(self.tensors[name], dtype=np.float32).tobytes())
        return digest.hexdigest()

    def to_bytes(self) -> bytes:
        """A safetensors file (no pickle: loading it cannot run code), the settings in its metadata."""
        from safetensors.numpy import save

        metadata = {"format": str(ADAPTER_FORMAT), "config": json.dumps(asdict(self.config), sort_keys=True)}
        return save({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in self.tensors.items()}, metadata)

    @classmethod
    def from_bytes(cls, data: bytes) -> Adapter:
        from safetensors.numpy import load

        data = bytes(data)
        # A safetensors file starts with the length of its JSON header (8 bytes, little-endian), then the header.
        header_length = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8:8 + header_length]).get("__metadata__") or {}
        if metadata.get("format") != str(ADAPTER_FORMAT):
            raise ValueError(f"unsupported adapter format {metadata.get('format')!r}")
        return cls(config=TuningConfig(**json.loads(metadata["config"])), tensors=dict(load(data)))


@dataclass(frozen=True, eq=False)
class TunedHead:
    """The softmax layer trained with the adapter: logits = coef @ [feature_scale·embedding, cue_weight·cues]."""

    coef: np.ndarray  # (n_labels, dimensions + n_cues), rows in the label order given to fine_tune
    intercept: np.ndarray


# ------------------------------------------------------------------------------------------- training


def _lora_linear(base, rank: int, scale: float, generator):
    """``base`` (an nn.Linear, frozen) plus a trainable s·B·A; B starts at zero, so training starts at the model."""
    import torch

    class LoRALinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.base = base
            bound = 1.0 / base.in_features**0.5
            self.A = torch.nn.Parameter(torch.empty(rank, base.in_features).uniform_(-bound, bound,
                                                                                    generator=generator))
            self.B = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x):
            return self.base(x) + (x @ self.A.T) @ self.B.T * scale

    return LoRALinear()


def transformer_layers(model):
    """The transformer layers of a SentenceTransformer over a BERT-style model (``encoder.layer``, each with
    the maps in :data:`TARGETS`), such as all-MiniLM-L6-v2; any other architecture gets a one-line error."""
    bert = getattr(model[0], "auto_model", None)
    layers = getattr(getattr(bert, "encoder", None), "layer", None)
    try:
        for layer in layers:
            for path in TARGETS:
                layer.get_submodule(path)
    except (TypeError, AttributeError) as error:
        raise ValueError("the sentiment encoder needs a BERT-style model (all-MiniLM-L6-v2 or alike); "
                         f"this one has no {error}") from None
    return list(layers)


def _set_submodule(root, path: str, module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, name, module)


def _mean_pool(hidden, mask):
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _attach(model, config: TuningConfig) -> dict[str, object]:
    """Freeze ``model`` (in place) and put a fresh update beside each target map; returns them by name."""
    import torch

    generator = torch.Generator().manual_seed(config.seed)
    layers = transformer_layers(model)
    for parameter in model[0].auto_model.parameters():
        parameter.requires_grad = False
    adapted: dict[str, object] = {}
    for i, layer in enumerate(layers):
        for path in TARGETS:
            module = _lora_linear(layer.get_submodule(path), config.rank, config.scale, generator)
            _set_submodule(layer, path, module)
            adapted[f"{i}.{path}"] = module
    return adapted


def lora_model(model, adapter: Adapter):
    """A copy of ``model`` with the adapter as separate updates (as during training), not merged: for checking
    that merging changes nothing."""
    import torch

    unmerged = copy.deepcopy(model)
    with torch.no_grad():
        for name, module in _attach(unmerged, adapter.config).items():
            module.A.copy_(torch.from_numpy(adapter.tensors[f"{name}.A"]))
            module.B.copy_(torch.from_numpy(adapter.tensors[f"{name}.B"]))
    return unmerged.eval()


def fine_tune(model, texts: Sequence[str], labels: Sequence[int], cues: np.ndarray, n_labels: int,
              config: TuningConfig = DEFAULT_TUNING) -> tuple[Adapter, TunedHead]:
    """Train an adapter and a softmax head on (texts, label indices), the cue block beside the embedding.

    ``model`` (a SentenceTransformer with mean pooling, such as all-MiniLM-L6-v2) is not changed: training runs
    on a copy, on the CPU whatever the model's device (so the result is reproducible). About 8 epochs × 800
    comments take under two minutes on two cores.
    """
    import torch

    if len(texts) != len(labels) or len(texts) != len(cues):
        raise ValueError("fine_tune needs one label and one cue row per text")
    if not len(texts):
        raise ValueError("fine_tune needs at least one labelled text")
    torch.manual_seed(config.seed)
    work = copy.deepcopy(model).to("cpu")
    adapted = _attach(work, config)
    bert = work[0].auto_model
    dimensions = bert.config.hidden_size
    head = torch.nn.Linear(dimensions + cues.shape[1], n_labels)
    trainable = [p for m in adapted.values() for p in (m.A, m.B)] + list(head.parameters())
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
    steps = config.epochs * -(-len(texts) // config.batch_size)
    warmup = max(1.0, config.warmup_share * steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (steps - step) / steps))

    encoded = work.tokenizer(list(texts), padding=True, truncation=True, max_length=work.max_seq_length,
                             return_tensors="pt")
    cue_block = torch.from_numpy(np.asarray(cues, dtype=np.float32)) * config.cue_weight
    target = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    order_rng = np.random.default_rng(config.seed)
    bert.train()
    for _ in range(config.epochs):
        for batch in np.array_split(order_rng.permutation(len(texts)), steps // config.epochs):
            index = torch.as_tensor(batch)
            mask = encoded["attention_mask"][index]
            width = int(mask.sum(1).max())
            inputs = {k: v[index][:, :width] for k, v in encoded.items()}
            hidden = bert(**inputs).last_hidden_state
            features = torch.cat([config.feature_scale * _mean_pool(hidden, inputs["attention_mask"]),
                                  cue_block[index]], dim=1)
            loss = torch.nn.functional.cross_entropy(head(features), target[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    tensors = {}
    for name, module in adapted.items():
        tensors[f"{name}.A"] = module.A.detach().numpy().astype(np.float32)
        tensors[f"{name}.B"] = module.B.detach().numpy().astype(np.float32)
    fitted_head = TunedHead(coef=head.weight.detach().numpy().astype(np.float64),
                            intercept=head.bias.detach().numpy().astype(np.float64))
    return Adapter(config=config, tensors=tensors), fitted_head


# ------------------------------------------------------------------------------------------- the tuned encoder


def merged_model(model, adapter: Adapter):
    """A copy of ``model`` with the adapter's updates merged into its weights (W + s·B·A)."""
    import torch

    tuned = copy.deepcopy(model)
    layers = transformer_layers(tuned)
    expected = {f"{i}.{path}" for i in range(len(layers)) for path in TARGETS}
    found = {name.rsplit(".", 1)[0] for name in adapter.tensors}
    if found != expected:
        raise ValueError("the adapter does not fit this model (different layers); retrain it for this model")
    with torch.no_grad():
        for i, layer in enumerate(layers):
            for path in TARGETS:
                linear = layer.get_submodule(path)
                a = torch.from_numpy(adapter.tensors[f"{i}.{path}.A"]).to(linear.weight)
                b = torch.from_numpy(adapter.tensors[f"{i}.{path}.B"]).to(linear.weight)
                if linear.weight.shape != (b.shape[0], a.shape[1]):
                    raise ValueError("the adapter does not fit this model (different sizes); retrain it")
                linear.weight += adapter.config.scale * (b @ a)
    return tuned.eval()


_TUNED: dict[tuple[int, str], object] = {}
_TUNED_LOCK = threading.Lock()


def tuned_model(model, adapter: Adapter):
    """The merged model for (``model``, ``adapter``), built once per process."""
    key = (id(model), adapter.sha256)
    with _TUNED_LOCK:
        if key not in _TUNED:
            _TUNED[key] = merged_model(model, adapter)
        return _TUNED[key]
