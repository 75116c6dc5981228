"""DP-SGD (Abadi et al. 2016): per-sample gradients, clipping to C, Gaussian noise, an accountant.

One step, in the functions notebook 04 calls one by one: :func:`per_sample_gradients`
(``torch.func``: functional_call + vmap + grad), :func:`clip_and_sum` (each sample's gradient
scaled to norm ≤ C, then summed), :func:`add_noise` (N(0, σ²C²) on every coordinate of the
sum). :func:`train` runs them with Poisson sampling — each record joins each batch with
probability q, which is what the accountant assumes — and reports ε from Opacus's accountant
through ``accounting``. Opacus does the same with hooks for large models (see notebook 04).
Neighbours: ``accounting`` (ε), ``attacks.membership_inference_auc`` (what DP-SGD stops).
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from tqdm.auto import tqdm

from . import accounting
from ._checks import RNG, as_generator, check_int, check_real
from .models import _logits, as_tensors, evaluate

__all__ = ["DEFAULTS", "TrainResult", "add_noise", "clip_and_sum", "clipped_gradient_sum",
           "per_sample_gradients", "privacy_utility", "train"]

# Chosen on a validation split of scikit-learn's digits (not its test set): see bench/dpsgd_bench.py
# --sweep. Expected batch size is a fraction of the data, so the defaults carry to other sizes.
DEFAULTS = {"batch_fraction": 0.35, "max_batch_size": 512, "epochs": 60, "lr": 1.0, "max_grad_norm": 0.5}

_MIXES_SAMPLES = (nn.modules.batchnorm._BatchNorm,)


@dataclass
class TrainResult:
    """What :func:`train` returns: a trained copy of the model, the ε spent, and per-epoch history."""

    model: nn.Module
    epsilon: float
    delta: float
    noise_multiplier: float
    sample_rate: float
    steps: int
    history: list[dict] = field(default_factory=list)


def _check_model(model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, module in model.named_modules():
        if isinstance(module, _MIXES_SAMPLES):
            raise ValueError(
                f"model contains {type(module).__name__} ({name or 'the model itself'}), which mixes the "
                f"samples of a batch: one person's gradient then depends on everyone else's, so "
                f"per-sample clipping cannot bound it and the privacy guarantee fails. Use "
                f"nn.GroupNorm or nn.LayerNorm instead (opacus.validators.ModuleValidator.fix "
                f"makes this swap).")


def _tensors(X: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    X_t, y_t = as_tensors(X, y)
    if X_t.ndim < 2:
        raise ValueError("X must be shaped (samples, features...)")
    return X_t, y_t


def _batch(X: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch as tensors: tensors pass as they are (their dtype kept), anything else through as_tensors."""
    if isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor):
        if X.ndim < 2 or len(X) == 0:
            raise ValueError(f"X must be shaped (samples >= 1, features...), got shape {tuple(X.shape)}")
        if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise TypeError(f"y must hold integer class labels, got {y.dtype}")
        if y.shape != (len(X),):
            raise ValueError(f"y must be one label per sample: X has {len(X)} samples, y has shape "
                             f"{tuple(y.shape)}")
        return X, y
    return _tensors(X, y)


def _gradients(grads: Any, name: str) -> dict[str, torch.Tensor]:
    """A non-empty dict of named gradient tensors; TypeError naming ``name`` otherwise."""
    if not isinstance(grads, dict) or not grads:
        raise TypeError(f"{name} must be a non-empty dict of parameter name -> torch.Tensor, "
                        f"got {type(grads).__name__}")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in grads.items()):
        raise TypeError(f"{name} must map parameter names (str) to torch tensors")
    return grads


def _torch_generator(rng: RNG) -> tuple[np.random.Generator, torch.Generator]:
    """A numpy generator (batch sampling) and a torch generator (noise) from one ``rng``."""
    np_rng = as_generator(rng)
    return np_rng, torch.Generator().manual_seed(int(np_rng.integers(2**63)))


# --- one step, piece by piece ----------------------------------------------------------------


def per_sample_gradients(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """The gradient of the cross-entropy loss of every sample separately: {name: (batch, *shape)}."""
    _check_model(model)
    X, y = _batch(X, y)
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss_of_one(p, x, target):
        out = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return nn.functional.cross_entropy(out, target.unsqueeze(0))

    return vmap(grad(loss_of_one), in_dims=(None, 0, 0))(params, X, y)


def clip_and_sum(grads: dict[str, torch.Tensor],
                 max_grad_norm: float) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Scale each sample's whole gradient to L2 norm ≤ C, then sum over the batch.

    Returns the sum and the per-sample norms before clipping. The scale factor is
    min(1, C / (norm + 1e-6)), as in Opacus, so one person moves the sum by at most C.
    """
    grads = _gradients(grads, "grads")
    C = check_real(max_grad_norm, "max_grad_norm", low=0.0, low_open=True)
    if any(g.ndim == 0 for g in grads.values()) or len({len(g) for g in grads.values()}) != 1:
        raise ValueError("grads must hold per-sample gradients: tensors with one first (batch) dimension")
    norms = torch.sqrt(sum(g.reshape(len(g), -1).pow(2).sum(1) for g in grads.values()))
    factor = (C / (norms + 1e-6)).clamp(max=1.0)
    summed = {k: torch.einsum("i,i...->...", factor, g) for k, g in grads.items()}
    return summed, norms


def clipped_gradient_sum(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                         max_grad_norm: float) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The same as ``clip_and_sum(per_sample_gradients(...))``, faster where the model allows.

    For an ``nn.Sequential`` of ``nn.Linear`` layers and parameter-free activations, each
    sample's gradient of a layer's weight is the outer product g·aᵀ of the gradient at the
    layer's output and its input, so its squared norm is ‖g‖²‖a‖² and the clipped sum is one
    matrix product (the "ghost clipping" of Goodfellow 2015 and Li et al. 2022): one backward
    pass, no per-sample gradients in memory. Any other model takes the ``torch.func`` path.
    """
    _check_model(model)
    X, y = _batch(X, y)
    check_real(max_grad_norm, "max_grad_norm", low=0.0, low_open=True)
    layers = list(model) if isinstance(model, nn.Sequential) else []
    if not layers or any(any(True for _ in m.parameters()) and not isinstance(m, nn.Linear) for m in layers) \
            or X.ndim != 2:
        return clip_and_sum(per_sample_gradients(model, X, y), max_grad_norm)
    C = check_real(max_grad_norm, "max_grad_norm", low=0.0, low_open=True)
    inputs, outputs, linear = [], [], []
    h = X
    for name, layer in model.named_children():
        if isinstance(layer, nn.Linear):
            inputs.append(h)
            h = layer(h)
            outputs.append(h)
            linear.append((name, layer))
        else:
            h = layer(h)
    loss = nn.functional.cross_entropy(h, y, reduction="sum")
    backprops = torch.autograd.grad(loss, outputs)
    squared = torch.zeros(len(X))
    for a, g, (_, layer) in zip(inputs, backprops, linear, strict=True):
        g2 = g.detach().pow(2).sum(1)
        squared += g2 * a.detach().pow(2).sum(1) + (g2 if layer.bias is not None else 0)
    norms = squared.sqrt()
    factor = (C / (norms + 1e-6)).clamp(max=1.0)
    summed = {}
    for a, g, (name, layer) in zip(inputs, backprops, linear, strict=True):
        scaled = g.detach() * factor[:, None]
        summed[f"{name}.weight"] = scaled.T @ a.detach()
        if layer.bias is not None:
            summed[f"{name}.bias"] = scaled.sum(0)
    return summed, norms


def add_noise(summed: dict[str, torch.Tensor], *, noise_multiplier: float, max_grad_norm: float,
              generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Add N(0, (σ·C)²) to every coordinate of the clipped sum: the Gaussian mechanism, Δ₂ = C.

    σ in [0, 1e6] (0: no noise), C > 0; σ·C must leave room in the gradients' dtype (no noisy
    coordinate may overflow to infinity). ``generator`` is a ``torch.Generator`` or None.
    """
    summed = _gradients(summed, "summed")
    z = check_real(noise_multiplier, "noise_multiplier", low=0.0, high=accounting.MAX_NOISE_MULTIPLIER)
    C = check_real(max_grad_norm, "max_grad_norm", low=0.0, low_open=True)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    sigma = z * C
    room = min(torch.finfo(v.dtype).max if v.is_floating_point() else 0.0 for v in summed.values()) / 2**10
    if not sigma <= room:
        raise ValueError(f"noise_multiplier × max_grad_norm = {sigma:g} must be at most {room:g} for these "
                         f"gradients' dtype (the noise would overflow to infinity)")
    return {k: v + sigma * torch.randn(v.shape, generator=generator, dtype=v.dtype)
            for k, v in summed.items()}


# --- training ------------------------------------------------------------------------------------


def train(model: nn.Module, X: Any, y: Any, *, target_epsilon: float | None = None,
          noise_multiplier: float | None = None, delta: float = 1e-5, epochs: int | None = None,
          batch_size: int | None = None, max_grad_norm: float | None = None, lr: float | None = None,
          rng: RNG = None, progress: bool = False, accountant: accounting.PrivacyAccountant | None = None,
          label: str = "dpsgd.train") -> TrainResult:
    """Train a copy of ``model`` with DP-SGD on (X, y); the caller's model is left untouched.

    Give exactly one of ``target_epsilon`` (the noise is calibrated by Opacus's RDP accountant
    to reach it after ``epochs``) or ``noise_multiplier`` (σ/C; ε is then reported). Batches are
    Poisson samples with rate q = batch_size / n (``batch_size`` is the *expected* size); the
    noisy gradient sum is divided by that expected size and applied with plain SGD at ``lr``.
    Unset settings come from :data:`DEFAULTS`. With ``accountant``, the run's cost (a
    Poisson-subsampled Gaussian, σ, q, steps) is checked before training starts and booked when
    it ends; a refused or failed run spends nothing.

    ``noise_multiplier`` is 0 (no noise) or in [0.01, 1e6]; a ``target_epsilon`` that no noise
    multiplier in that range reaches is refused at once (see
    :func:`~leptonkit.accounting.noise_multiplier_for_epsilon`).

    Raises
    ------
    ValueError
        For both or neither of target_epsilon / noise_multiplier, C ≤ 0, a non-finite or
        non-positive lr, δ outside (0, 1), an unreachable target_epsilon, or a model with BatchNorm.
    """
    _check_model(model)
    if (target_epsilon is None) == (noise_multiplier is None):
        raise ValueError("give exactly one of target_epsilon (ε to reach) or noise_multiplier (σ/C)")
    X_t, y_t = _tensors(X, y)
    with torch.no_grad():
        _logits(model, X_t, y_t)   # features and labels fit the model, before any noise is calibrated
    n = len(X_t)
    epochs = check_int(DEFAULTS["epochs"] if epochs is None else epochs, "epochs", low=1, high=100_000)
    default_batch = min(DEFAULTS["max_batch_size"], max(1, round(DEFAULTS["batch_fraction"] * n)))
    batch_size = check_int(default_batch if batch_size is None else batch_size, "batch_size", low=1, high=n)
    C = check_real(DEFAULTS["max_grad_norm"] if max_grad_norm is None else max_grad_norm, "max_grad_norm",
                   low=0.0, low_open=True)
    lr = check_real(DEFAULTS["lr"] if lr is None else lr, "lr", low=0.0, low_open=True)
    delta = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    q = batch_size / n
    steps_per_epoch = max(1, round(1 / q))
    steps = epochs * steps_per_epoch
    if target_epsilon is not None:
        check_real(target_epsilon, "target_epsilon", low=0.0, low_open=True)
        sigma = accounting.noise_multiplier_for_epsilon(target_epsilon=target_epsilon, sample_rate=q,
                                                        steps=steps, delta=delta)
    else:   # 0 (no noise, ε = ∞) or a noise multiplier in [0.01, 1e6]
        sigma = check_real(noise_multiplier, "noise_multiplier", low=0.0)
        if sigma != 0:
            sigma = check_real(sigma, "noise_multiplier", low=accounting.MIN_NOISE_MULTIPLIER,
                               high=accounting.MAX_NOISE_MULTIPLIER)
    with warnings.catch_warnings():  # Opacus's default orders, so ε equals its accountant's exactly
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        epsilons = (accounting.dpsgd_epsilon_curve(noise_multiplier=sigma, sample_rate=q, delta=delta,
                                                   steps=[(e + 1) * steps_per_epoch for e in range(epochs)])
                    if sigma > 0 else [math.inf] * epochs)
    cost = accounting.PrivacyCost.gaussian(sigma, sample_rate=q, steps=steps, epsilon=float(epsilons[-1]),
                                           delta=delta)
    with accounting.charge(accountant, cost, label=label):
        return _train(model, X_t, y_t, sigma=sigma, q=q, batch_size=batch_size, C=C, lr=lr, delta=delta,
                      epochs=epochs, steps_per_epoch=steps_per_epoch, epsilons=epsilons, rng=rng,
                      progress=progress)


def _train(model: nn.Module, X_t: torch.Tensor, y_t: torch.Tensor, *, sigma: float, q: float, batch_size: int,
           C: float, lr: float, delta: float, epochs: int, steps_per_epoch: int, epsilons: Any, rng: RNG,
           progress: bool) -> TrainResult:
    n = len(X_t)
    np_rng, torch_rng = _torch_generator(rng)
    trained = copy.deepcopy(model)
    params = dict(trained.named_parameters())
    history = []
    bar = tqdm(range(epochs), desc="DP-SGD", disable=not progress, leave=False)
    for epoch in bar:
        for _ in range(steps_per_epoch):
            batch = torch.from_numpy(np.flatnonzero(np_rng.random(n) < q))
            if len(batch) == 0:
                summed = {k: torch.zeros_like(p) for k, p in params.items()}
            else:
                summed, _ = clipped_gradient_sum(trained, X_t[batch], y_t[batch], C)
            noisy = add_noise(summed, noise_multiplier=sigma, max_grad_norm=C, generator=torch_rng)
            with torch.no_grad():
                for k, p in params.items():
                    p -= lr * noisy[k] / batch_size
        loss, accuracy = evaluate(trained, X_t, y_t)
        history.append({"epoch": epoch + 1, "loss": loss, "accuracy": accuracy})
        bar.set_postfix(loss=f"{loss:.3f}")
    for h, eps in zip(history, epsilons, strict=True):
        h["epsilon"] = float(eps)
    return TrainResult(model=trained, epsilon=history[-1]["epsilon"], delta=delta, noise_multiplier=sigma,
                       sample_rate=q, steps=epochs * steps_per_epoch, history=history)


def privacy_utility(model: nn.Module, X: Any, y: Any, X_test: Any, y_test: Any, *,
                    epsilons: list[float], baseline: nn.Module, rng: RNG = 0) -> dict[str, Any]:
    """Test accuracy and membership-inference AUC of DP-SGD at each ε, beside a non-private model.

    Each ε trains a copy of ``model`` with :func:`train` (defaults, δ = 1e-5); the attack is
    ``attacks.membership_inference_auc`` with (X, y) as members and (X_test, y_test) as
    non-members. ``baseline`` is the already trained non-private model to compare with.
    """
    from .attacks import membership_inference_auc  # the attack DP-SGD is measured against

    accuracy, auc = [], []
    for eps in epsilons:
        trained = train(model, X, y, target_epsilon=eps, rng=rng, progress=False).model
        accuracy.append(evaluate(trained, X_test, y_test)[1])
        auc.append(membership_inference_auc(trained, X, y, X_test, y_test))
    return {"epsilon": np.asarray(epsilons, dtype=float), "accuracy": np.asarray(accuracy),
            "auc": np.asarray(auc), "baseline_accuracy": evaluate(baseline, X_test, y_test)[1],
            "baseline_auc": membership_inference_auc(baseline, X, y, X_test, y_test)}
