"""Smaller updates and smaller models: top-k sparsification, stochastic 8-bit quantisation, pruning.

Update compressors take the clients' updates as an array (K, P) and return the updates the
server decodes together with the bytes each client sends, so that ``fl.fedavg(...,
compress=...)`` counts real traffic. Model compressors return a compressed copy and its size.
Every function reports bytes; the dense float32 size is ``4 · P``. Neighbours: ``fl`` (where the
updates come from), ``models.evaluate`` (what compression costs in accuracy).

References: A. F. Aji and K. Heafield, *Sparse Communication for Distributed Gradient Descent*,
EMNLP 2017 (top-k); D. Alistarh et al., *QSGD*, NeurIPS 2017 (stochastic quantisation);
S. Han, H. Mao and W. Dally, *Deep Compression*, ICLR 2016 (pruning and quantising models).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import RNG, as_generator, check_int, check_real

__all__ = ["DENSE_BYTES", "INDEX_BYTES", "compress_model", "compression_frontier", "dense_bytes",
           "quantize_stochastic", "sparsify_top_k"]

DENSE_BYTES = 4    # a float32 value
INDEX_BYTES = 4    # a uint32 position of a kept value


def dense_bytes(n_values: int) -> int:
    """Bytes of ``n_values`` float32 values sent as they are."""
    return DENSE_BYTES * check_int(n_values, "n_values", low=0)


def _updates(updates: Any) -> np.ndarray:
    try:
        arr = np.asarray(updates, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise TypeError("updates must be a numeric array of shape (clients, parameters)") from None
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"updates must have shape (clients, parameters >= 1), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("updates must be finite (no NaN or infinity)")
    return arr


def sparsify_top_k(updates: Any, *, fraction: float) -> tuple[np.ndarray, int]:
    """Keep each client's ``fraction`` of largest-magnitude coordinates, zero the rest.

    Returns the sparse updates (dense array, zeros elsewhere) and the bytes per client: a value
    and an index for each kept coordinate. Biased (small coordinates are lost); in practice
    clients keep the remainder as error feedback for the next round — not done here.
    """
    arr = _updates(updates)
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, low_open=True)
    k = max(1, math.ceil(fraction * arr.shape[1]))
    kept = np.argpartition(np.abs(arr), arr.shape[1] - k, axis=1)[:, arr.shape[1] - k:]
    out = np.zeros_like(arr)
    rows = np.arange(len(arr))[:, None]
    out[rows, kept] = arr[rows, kept]
    return out, k * (DENSE_BYTES + INDEX_BYTES)


def quantize_stochastic(updates: Any, *, bits: int = 8, rng: RNG = None) -> tuple[np.ndarray, int]:
    """Quantise each client's update to 2^bits levels between its min and max, rounding at random.

    A value between two levels rounds up with probability proportional to its distance from
    the lower one, so the quantised update is **unbiased** (QSGD's idea): E[Q(x)] = x, with
    variance at most step²/4 per coordinate. Bytes per client: ``bits`` per value plus the
    float32 min and max.
    """
    arr = _updates(updates)
    bits = check_int(bits, "bits", low=1, high=16)
    generator = as_generator(rng)
    low, high = arr.min(axis=1, keepdims=True), arr.max(axis=1, keepdims=True)
    step = np.where(high > low, (high - low) / (2**bits - 1), 1.0)
    position = (arr - low) / step
    level = np.floor(position) + (generator.random(arr.shape) < position - np.floor(position))
    return low + level * step, math.ceil(arr.shape[1] * bits / 8) + 2 * DENSE_BYTES


def compress_model(model: nn.Module, *, prune: float = 0.0, bits: int = 32) -> tuple[nn.Module, int]:
    """Magnitude-prune then quantise a copy of ``model``; return it and its size in bytes.

    ``prune`` is the fraction of weights (over all parameters) set to zero, smallest magnitudes
    first. ``bits`` < 32 quantises each tensor linearly and symmetrically to 2^(bits−1) − 1 levels
    per sign around zero (post-training quantisation; zeros stay zero). The size counts a value
    and an index per kept weight when that is smaller than storing every weight, plus one float32
    scale per tensor.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    prune = check_real(prune, "prune", low=0.0, high=1.0, high_open=True)
    bits = check_int(bits, "bits", low=2, high=32)
    compressed = copy.deepcopy(model)
    params = list(compressed.parameters())
    total = sum(p.numel() for p in params)
    with torch.no_grad():
        if prune > 0:
            magnitudes = torch.cat([p.abs().reshape(-1) for p in params])
            cut = torch.kthvalue(magnitudes, max(1, math.floor(prune * total))).values
            for p in params:
                p[p.abs() <= cut] = 0.0
        if bits < 32:
            levels = 2 ** (bits - 1) - 1
            for p in params:
                scale = p.abs().max() / levels
                if scale > 0:
                    p.copy_(torch.round(p / scale) * scale)
    kept = sum(int((p != 0).sum()) for p in params)
    value_bits = bits
    dense = math.ceil(total * value_bits / 8)
    sparse = math.ceil(kept * value_bits / 8) + kept * INDEX_BYTES
    return compressed, min(dense, sparse) + (DENSE_BYTES * len(params) if bits < 32 else 0)


def compression_frontier(model: nn.Module, X_test: Any, y_test: Any, *,
                         prune: Any = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98),
                         bits: Any = (2, 4, 8, 16, 32)) -> dict[str, np.ndarray]:
    """Test accuracy and size of :func:`compress_model` for every (prune, bits) pair, as flat arrays."""
    from .models import as_tensors, check_model, evaluate

    check_model(model)
    X_t, y_t = as_tensors(X_test, y_test, names=("X_test", "y_test"))
    prune, bits = _grid(prune, "prune", check_real), _grid(bits, "bits", check_int)
    rows: dict[str, list] = {"prune": [], "bits": [], "bytes": [], "accuracy": []}
    for b in bits:
        for f in prune:
            compressed, size = compress_model(model, prune=f, bits=b)
            rows["prune"].append(f)
            rows["bits"].append(b)
            rows["bytes"].append(size)
            rows["accuracy"].append(evaluate(compressed, X_t, y_t)[1])
    return {k: np.asarray(v) for k, v in rows.items()}


def _grid(values: Any, name: str, check: Any) -> list:
    """A non-empty collection of settings, each checked like the single one (``compress_model``'s range)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a collection of settings, got {type(values).__name__}")
    values = list(values)
    if not values or len(values) > 1000:
        raise ValueError(f"{name} must hold 1 to 1000 settings, got {len(values)}")
    for v in values:
        check(v, name)
    return values
