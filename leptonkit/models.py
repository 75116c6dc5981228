"""The small models the lessons train, how they are evaluated, and the non-private baseline.

DP-SGD (``dpsgd``), federated learning (``fl``), compression (``compress``), the case studies
and the text models all start from these, so a number in one notebook compares with another.
Building a model never touches torch's global random state: the seed is the model's own.
:func:`as_tensors` is the one place where data become tensors; integer features (token ids)
stay integers.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import RNG, as_generator, check_int, check_real

__all__ = ["as_tensors", "evaluate", "mlp", "train_non_private"]


def as_tensors(X: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X, y)`` as tensors: floating X as float32, integer X (token ids) kept as int64, y as int64.

    Raises
    ------
    ValueError
        For no samples, a y that is not one label per sample, or a non-finite X.
    TypeError
        For X or y that are not numeric.
    """
    X_t, y_t = _tensor(X, "X"), _tensor(y, "y")
    if X_t.is_floating_point():
        X_t = X_t.to(torch.float32)
    elif X_t.dtype != torch.bool:
        X_t = X_t.to(torch.int64)
    else:
        raise TypeError("X must be numeric, got booleans")
    if y_t.is_floating_point() or y_t.is_complex():
        if not torch.equal(y_t, y_t.round()):
            raise ValueError("y must hold integer class labels")
    y_t = y_t.to(torch.int64)
    if X_t.ndim < 1 or len(X_t) == 0:
        raise ValueError("X must hold at least one sample, shaped (samples, features...)")
    if y_t.ndim != 1 or len(y_t) != len(X_t):
        raise ValueError(f"y must be one label per sample: X has {len(X_t)} samples, "
                         f"y has shape {tuple(y_t.shape)}")
    if X_t.is_floating_point() and not torch.isfinite(X_t).all():
        raise ValueError("X must be finite (no NaN or infinity)")
    return X_t, y_t


def _tensor(values: Any, name: str) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values.detach()
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    return torch.as_tensor(array)


def mlp(n_inputs: int, n_classes: int, *, hidden: int = 64, seed: int = 0) -> nn.Module:
    """A one-hidden-layer tanh network initialised from ``seed``: the kit's small default model.

    torch's global random state is left as it was (the initialisation runs in a forked state).

    Example
    -------
    >>> model = mlp(64, 10)
    >>> sum(p.numel() for p in model.parameters())
    4810
    """
    seed = check_int(seed, "seed", low=0, high=2**63 - 1)
    n_inputs, hidden = check_int(n_inputs, "n_inputs", low=1), check_int(hidden, "hidden", low=1)
    n_classes = check_int(n_classes, "n_classes", low=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(n_inputs, hidden), nn.Tanh(), nn.Linear(hidden, n_classes))


def evaluate(model: nn.Module, X: Any, y: Any) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on (X, y)."""
    X_t, y_t = as_tensors(X, y)
    with torch.no_grad():
        out = model(X_t)
        return float(nn.functional.cross_entropy(out, y_t)), float((out.argmax(1) == y_t).float().mean())


def train_non_private(model: nn.Module, X: Any, y: Any, *, epochs: int = 30, batch_size: int = 64,
                      lr: float = 0.5, rng: RNG = None) -> nn.Module:
    """Plain minibatch SGD on a copy of ``model`` (shuffled batches): the baseline for the private models."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X_t, y_t = as_tensors(X, y)
    epochs = check_int(epochs, "epochs", low=1, high=1_000_000)
    batch_size = check_int(batch_size, "batch_size", low=1)
    lr = check_real(lr, "lr", low=0.0, low_open=True)
    generator = as_generator(rng)
    trained = copy.deepcopy(model)
    optimiser = torch.optim.SGD(trained.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.from_numpy(generator.permutation(len(X_t)))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            optimiser.zero_grad()
            nn.functional.cross_entropy(trained(X_t[batch]), y_t[batch]).backward()
            optimiser.step()
    return trained
