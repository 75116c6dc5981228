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

__all__ = ["as_tensors", "check_model", "evaluate", "mlp", "train_non_private"]

MAX_WIDTH = 1_000_000  # units in a layer of the kit's small models


def check_model(model: Any, name: str = "model") -> nn.Module:
    """``model`` if it is a torch module; TypeError naming ``name`` otherwise."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    return model


def as_tensors(X: Any, y: Any, *, names: tuple[str, str] = ("X", "y")) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X, y)`` as tensors: floating X as float32, integer X (token ids) kept as int64, y as int64.

    ``names`` are the caller's names for the two arguments, used in error messages.

    Raises
    ------
    ValueError
        For no samples, a y that is not one label per sample, or a non-finite X.
    TypeError
        For X or y that are not numeric.
    """
    x_name, y_name = names
    X_t, y_t = _tensor(X, x_name), _tensor(y, y_name)
    if X_t.is_floating_point():
        X_t = X_t.to(torch.float32)
    elif X_t.dtype != torch.bool:
        X_t = X_t.to(torch.int64)
    else:
        raise TypeError(f"{x_name} must be numeric, got booleans")
    if y_t.is_complex() or y_t.dtype == torch.bool:
        raise TypeError(f"{y_name} must hold integer class labels, got {y_t.dtype}")
    if y_t.is_floating_point() and not (torch.isfinite(y_t).all() and torch.equal(y_t, y_t.round())):
        raise ValueError(f"{y_name} must hold integer class labels")
    y_t = y_t.to(torch.int64)
    if X_t.ndim < 1 or len(X_t) == 0:
        raise ValueError(f"{x_name} must hold at least one sample, shaped (samples, features...)")
    if y_t.ndim != 1 or len(y_t) != len(X_t):
        raise ValueError(f"{y_name} must be one label per sample: {x_name} has {len(X_t)} samples, "
                         f"{y_name} has shape {tuple(y_t.shape)}")
    if y_t.min() < 0:
        raise ValueError(f"{y_name} must hold class labels 0, 1, 2, …, got a negative label")
    if X_t.is_floating_point() and not torch.isfinite(X_t).all():
        raise ValueError(f"{x_name} must be finite (no NaN or infinity)")
    return X_t, y_t


def _tensor(values: Any, name: str) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values.detach()
    try:
        array = np.asarray(values)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{name} must be a numeric array") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.unsignedinteger) and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds integers too large for int64")
    if not array.flags.writeable:   # a read-only view (a cached dataset): torch wants memory it may write
        array = array.copy()
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
    n_inputs = check_int(n_inputs, "n_inputs", low=1, high=MAX_WIDTH)
    hidden = check_int(hidden, "hidden", low=1, high=MAX_WIDTH)
    n_classes = check_int(n_classes, "n_classes", low=2, high=MAX_WIDTH)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(n_inputs, hidden), nn.Tanh(), nn.Linear(hidden, n_classes))


def evaluate(model: nn.Module, X: Any, y: Any) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on (X, y)."""
    check_model(model)
    X_t, y_t = as_tensors(X, y)
    with torch.no_grad():
        out = _logits(model, X_t, y_t)
        return float(nn.functional.cross_entropy(out, y_t)), float((out.argmax(1) == y_t).float().mean())


def train_non_private(model: nn.Module, X: Any, y: Any, *, epochs: int = 30, batch_size: int = 64,
                      lr: float = 0.5, rng: RNG = None) -> nn.Module:
    """Plain minibatch SGD on a copy of ``model`` (shuffled batches): the baseline for the private models."""
    check_model(model)
    X_t, y_t = as_tensors(X, y)
    epochs = check_int(epochs, "epochs", low=1, high=1_000_000)
    batch_size = check_int(batch_size, "batch_size", low=1)
    lr = check_real(lr, "lr", low=0.0, low_open=True, high=1e6)
    with torch.no_grad():
        _logits(model, X_t, y_t)   # the model fits the data before any training
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


def _logits(model: nn.Module, X: torch.Tensor, y: torch.Tensor, name: str = "X") -> torch.Tensor:
    """``model(X)``, checked against the labels: a shape mismatch names the data, not torch's internals."""
    try:
        out = model(X)
    except (RuntimeError, IndexError, TypeError) as error:
        raise ValueError(f"{name} does not fit the model ({type(error).__name__}: "
                         f"{str(error).splitlines()[0][:120]})") from None
    if out.ndim != 2 or len(out) != len(X):
        raise ValueError(f"the model must map {name} to logits of shape (samples, classes), "
                         f"got {tuple(out.shape)}")
    if int(y.max()) >= out.shape[1]:
        raise ValueError(f"the labels of {name} reach {int(y.max())}, but the model has only {out.shape[1]} "
                         f"classes")
    return out
