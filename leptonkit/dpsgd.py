"""DP-SGD (Abadi et al. 2016): per-sample gradients, clipping to C, Gaussian noise, an accountant.

One step, in the functions notebook 04 calls one by one: :func:`per_sample_gradients`
(``torch.func``: functional_call + vmap + grad), :func:`clip_and_sum` (each sample's gradient
scaled to norm ≤ C, then summed), :func:`add_noise` (N(0, σ²C²) on every coordinate of the
sum). :func:`train` runs them with Poisson sampling — each record joins each batch with
probability q, which is what the accountant assumes — calibrates σ with the tightest accountant
at hand (dp-accounting's PLD by default; Opacus's PRV or RDP on request), and can return an
exponential moving average of the iterates (free: post-processing). Opacus does the same with
hooks for large models (see notebook 04). Neighbours: ``accounting`` (ε),
``attacks.membership_inference_auc`` (what DP-SGD stops).

References
----------
M. Abadi et al., *Deep Learning with Differential Privacy*, CCS 2016 (DP-SGD).
S. Gopi, Y. T. Lee and L. Wutschitz, *Numerical Composition of Differential Privacy*, NeurIPS 2021
(the PRV accountant: a tighter ε than RDP for the same noise, so less noise for the same ε).
A. Koskela, J. Jälkö and A. Honkela, *Computing Tight Differential Privacy Guarantees Using FFT*,
AISTATS 2020; V. Doroshenko, B. Ghazi, P. Kamath, R. Kumar and P. Manurangsi, *Connect the Dots:
Tighter Discrete Approximations of Privacy Loss Distributions*, PoPETs 2022 (the PLD accountant).
S. De, L. Berrada, J. Hayes, S. L. Smith and B. Balle, *Unlocking High-Accuracy Differentially
Private Image Classification through Scale*, arXiv:2204.13650, 2022 (large batches, many steps,
an exponential moving average of the parameters).
N. Papernot, A. Thakurta, S. Song, S. Chien and Ú. Erlingsson, *Tempered Sigmoid Activations for
Deep Learning with Differential Privacy*, AAAI 2021 (bounded activations such as tanh).
I. Loshchilov and F. Hutter, *SGDR: Stochastic Gradient Descent with Warm Restarts*, ICLR 2017
(the cosine learning-rate schedule, Eq. 5, here without restarts).
I. Goodfellow, *Efficient Per-Example Gradient Computations*, arXiv:1510.01799, 2015; X. Li,
F. Tramèr, P. Liang and T. Hashimoto, *Large Language Models Can Be Strong Differentially Private
Learners*, ICLR 2022 (ghost clipping: per-sample norms of linear layers without per-sample gradients).
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

from . import _progress, accounting
from ._checks import RNG, as_generator, check_int, check_real
from .models import _logits, as_tensors, evaluate

__all__ = ["CALIBRATIONS", "DEFAULTS", "EPOCHS_GROWTH_CAP", "LR_SCHEDULES", "TrainResult", "add_noise",
           "calibrate_noise", "clip_and_sum", "clipped_gradient_sum", "per_sample_gradients",
           "privacy_utility",
           "train"]

# Chosen on validation splits carved from the training part of scikit-learn's digits (several
# seeds; the test split never read): see bench/dpsgd_defaults.py, which prints what each setting
# buys. The expected batch size is a fraction of the data, so the defaults carry to other sizes.
# With a target ε and no ``epochs``, train runs epochs = epochs · min(ε, EPOCHS_GROWTH_CAP)^epochs_growth.
DEFAULTS = {"batch_fraction": 0.35, "max_batch_size": 512, "epochs": 60, "epochs_growth": 0.5, "lr": 1.0,
            "max_grad_norm": 0.5, "calibration": "pld", "ema": 0.9, "lr_schedule": "constant"}
EPOCHS_GROWTH_CAP = 16.0
#: The learning-rate schedules :func:`train` knows: constant, or cosine decay to 0 over all steps
#: (Loshchilov & Hutter 2017, Eq. 5, one cycle without restarts).
LR_SCHEDULES = ("constant", "cosine")
#: The analyses :func:`train` can calibrate σ with: dp-accounting's PLD, Opacus's PRV or RDP accountant.
CALIBRATIONS = ("pld", "prv", "rdp")
_PLD_GRID = 1e-3            # PLD discretisation for calibration: ε within about 1e-3 of the finest grid's
_MAX_TIGHT_EPSILON = 64.0   # beyond this, the tight accountants' grids grow large; RDP's ε stands

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

    For an ``nn.Sequential`` whose layers with parameters are ``nn.Linear`` (on inputs shaped
    (batch, features)) or ``nn.Conv2d`` (groups 1, zero or no padding) and whose other layers
    have no parameters, one forward and one backward pass give every sample's gradient at each
    layer's output, g, and the layer's input, a. For a linear layer a sample's weight gradient
    is the outer product g·aᵀ, so its squared norm is ‖g‖²‖a‖² and the clipped sum is one matrix
    product (the "ghost clipping" of Goodfellow 2015 and Li et al. 2022): no per-sample
    gradients in memory. For a convolution it is g times the unfolded input patches (the
    im2col form Opacus's hooks use), formed per sample only for that small kernel. A first layer
    ``nn.Embedding`` or ``nn.EmbeddingBag`` (``"sum"`` or ``"mean"``, on integer ids shaped
    (batch, tokens)) has a per-sample gradient only on the rows of the tokens that sample uses:
    row v gets the output gradients of the positions holding v (for a bag, g times the token's
    count, over the bag's size for ``"mean"``; padding contributes nothing), so its norm and its
    clipped sum come from those rows alone — no (batch, vocabulary, dim) tensor. Any other
    model takes the ``torch.func`` path.
    """
    _check_model(model)
    X, y = _batch(X, y)
    C = check_real(max_grad_norm, "max_grad_norm", low=0.0, low_open=True)
    fast = _fast_clipped_sum(model, X, y, C)
    return fast if fast is not None else clip_and_sum(per_sample_gradients(model, X, y), C)


_EMBEDDINGS = (nn.Embedding, nn.EmbeddingBag)


def _fast_embedding(layer: nn.Module) -> bool:
    """An embedding whose per-sample gradient is its rows: no max_norm renormalisation (it rewrites
    the weights in the forward pass), no sparse gradients, a bag that sums or averages."""
    if isinstance(layer, nn.EmbeddingBag):
        return layer.max_norm is None and not layer.sparse and layer.mode in ("sum", "mean")
    return isinstance(layer, nn.Embedding) and layer.max_norm is None and not layer.sparse


def _fast_layer(layer: nn.Module) -> bool:
    """Whether :func:`_fast_clipped_sum` knows this layer: no parameters, a Linear, a plain Conv2d, or
    an embedding (first layer only, checked there)."""
    if isinstance(layer, nn.Linear):
        return True
    if isinstance(layer, _EMBEDDINGS):
        return _fast_embedding(layer)
    if isinstance(layer, nn.Conv2d):
        return layer.groups == 1 and layer.padding_mode == "zeros" and not isinstance(layer.padding, str)
    return not any(True for _ in layer.parameters())


def _fast_clipped_sum(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                      C: float) -> tuple[dict[str, torch.Tensor], torch.Tensor] | None:
    """The clipped sum from layer inputs and output gradients; None where the model is not covered."""
    if not isinstance(model, nn.Sequential) or not all(_fast_layer(m) for m in model):
        return None
    inputs, outputs, layers = [], [], []
    h = X
    for position, (name, layer) in enumerate(model.named_children()):
        if isinstance(layer, _EMBEDDINGS):
            integer_ids = not (X.is_floating_point() or X.is_complex() or X.dtype == torch.bool)
            if position != 0 or X.ndim != 2 or not integer_ids:
                return None   # an embedding reads the integer ids (batch, tokens) the model is given
            inputs.append(h)
            h = layer(h)
            outputs.append(h)
            layers.append((name, layer))
        elif isinstance(layer, (nn.Linear, nn.Conv2d)):
            if h.ndim != (2 if isinstance(layer, nn.Linear) else 4):
                return None   # a linear layer over a sequence (one sample, several rows), an unbatched image
            inputs.append(h)
            h = layer(h)
            outputs.append(h)
            layers.append((name, layer))
        else:
            h = layer(h)
    if not layers or not outputs[-1].requires_grad:
        return None
    loss = nn.functional.cross_entropy(h, y, reduction="sum")
    backprops = torch.autograd.grad(loss, outputs)
    B = len(X)
    squared = torch.zeros(B, dtype=backprops[0].dtype)
    pieces = []   # (name, layer, a, g, per-sample weight gradients or None for the ghost form)
    for a, g, (name, layer) in zip(inputs, backprops, layers, strict=True):
        a, g = a.detach(), g.detach()
        if isinstance(layer, _EMBEDDINGS):
            rows = _embedding_rows(layer, a, g)
            squared += torch.zeros(B, dtype=squared.dtype).index_add_(0, rows[0], rows[2].pow(2).sum(1))
            pieces.append((name, layer, a, g, rows))
        elif isinstance(layer, nn.Linear):
            g2 = g.pow(2).sum(1)
            squared += g2 * a.pow(2).sum(1) + (g2 if layer.bias is not None else 0)
            pieces.append((name, layer, a, g, None))
        else:
            patches = nn.functional.unfold(a, layer.kernel_size, dilation=layer.dilation,
                                           padding=layer.padding, stride=layer.stride)   # (B, C_in·k², L)
            g = g.reshape(B, layer.out_channels, -1)                          # (B, C_out, L)
            weight = torch.bmm(g, patches.transpose(1, 2))                    # (B, C_out, C_in·k²)
            squared += weight.pow(2).sum((1, 2))
            if layer.bias is not None:
                squared += g.sum(2).pow(2).sum(1)
            pieces.append((name, layer, a, g, weight))
    norms = squared.sqrt()
    factor = (C / (norms + 1e-6)).clamp(max=1.0)
    summed = {}
    for name, layer, a, g, weight in pieces:
        if isinstance(layer, _EMBEDDINGS):
            sample, token, rows = weight
            summed[f"{name}.weight"] = torch.zeros_like(layer.weight).index_add_(
                0, token, rows * factor[sample, None].to(rows.dtype))
        elif weight is None:
            scaled = g * factor[:, None]
            summed[f"{name}.weight"] = scaled.T @ a
            if layer.bias is not None:
                summed[f"{name}.bias"] = scaled.sum(0)
        else:
            summed[f"{name}.weight"] = torch.einsum("b,bok->ok", factor, weight).reshape(layer.weight.shape)
            if layer.bias is not None:
                summed[f"{name}.bias"] = factor @ g.sum(2)
    return summed, norms


def _embedding_rows(layer: nn.Module, ids: torch.Tensor,
                    g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The non-zero rows of each sample's embedding gradient: (sample, token, row) for every pair
    (sample, token) the batch uses. ``ids`` (batch, tokens); ``g`` the gradient at the layer's output."""
    B, L = ids.shape
    if isinstance(layer, nn.EmbeddingBag):     # output (B, dim): every position of a bag gets g_b, weighted
        weight = torch.ones(B, L, dtype=g.dtype)
        if layer.padding_idx is not None:
            weight = weight * (ids != layer.padding_idx)
        if layer.mode == "mean":
            weight = weight / weight.sum(1, keepdim=True).clamp(min=1)
        contributions = weight[..., None] * g[:, None, :]
    else:                                      # output (B, tokens, dim): each position its own gradient
        contributions = g
        if layer.padding_idx is not None:
            contributions = contributions * (ids != layer.padding_idx)[..., None]
    keys = (torch.arange(B)[:, None] * layer.num_embeddings + ids).reshape(-1)
    unique, inverse = torch.unique(keys, return_inverse=True)
    rows = torch.zeros(len(unique), g.shape[-1], dtype=g.dtype).index_add_(
        0, inverse, contributions.reshape(B * L, -1))
    return unique // layer.num_embeddings, unique % layer.num_embeddings, rows


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
          calibration: str | None = None, ema: float | None = None,
          lr_schedule: str | None = None, rng: RNG = None, progress: bool | None = None,
          accountant: accounting.PrivacyAccountant | None = None, label: str = "dpsgd.train") -> TrainResult:
    """Train a copy of ``model`` with DP-SGD on (X, y); the caller's model is left untouched.

    Give exactly one of ``target_epsilon`` (the noise is calibrated to reach it after
    ``epochs``) or ``noise_multiplier`` (σ/C; ε is then reported). Unset ``epochs`` with a
    target ε is E·min(ε, 16)^g from :data:`DEFAULTS` (``epochs``, ``epochs_growth``): the best
    number of steps grows with ε, since less noise allows a longer walk (bench/dpsgd_defaults.py).
    Batches are Poisson samples with rate q = batch_size / n (``batch_size`` is the *expected*
    size); the noisy gradient sum is divided by that expected size and applied with plain SGD
    at ``lr``. Unset settings come from :data:`DEFAULTS`. With ``accountant``, the run's cost
    (a Poisson-subsampled Gaussian, σ, q, steps) is checked before training starts and booked
    when it ends; a refused or failed run spends nothing.

    ``calibration`` (one of :data:`CALIBRATIONS`) names the analysis that calibrates σ and
    reports ``epsilon``: ``"pld"`` (the default: dp-accounting's privacy-loss distribution,
    pessimistic, the analysis the ledger uses), ``"prv"`` (Opacus's PRV accountant, Gopi et al.
    2021) or ``"rdp"`` (Opacus's RDP accountant, Mironov 2017: the kit's behaviour before). On
    digits PLD and PRV need about 7 % less noise than RDP for ε 1–2. RDP calibrates first and
    bounds the search; where the tight accountant cannot evaluate, or ε is above 64, RDP's σ
    and ε stand. ``history[i]["epsilon"]`` is always the RDP ε after epoch i + 1 (cheap for
    every epoch, and an upper bound on the tight one).

    ``ema`` is a decay β in [0, 1) (0: off): the returned model holds the exponential moving
    average of the iterates, θ̄ ← β_t θ̄ + (1 − β_t) θ with β_t = min(β, (1 + t)/(10 + t)) after
    step t (the warm-up of TensorFlow's ``ExponentialMovingAverage(num_updates=t)``), as De et
    al. 2022 do. It is post-processing of the released iterates, so it costs no
    privacy: ε is the same with or without it. ``lr_schedule`` is one of :data:`LR_SCHEDULES`.

    ``progress``: ``None`` (the default) shows a bar over the epochs once training has run 2 s,
    ``True`` at once, ``False`` never (``leptonkit._progress``).

    ``noise_multiplier`` is 0 (no noise) or in [0.01, 1e6]; a ``target_epsilon`` that no noise
    multiplier in that range reaches is refused at once (see
    :func:`~leptonkit.accounting.noise_multiplier_for_epsilon`).

    Raises
    ------
    ValueError
        For both or neither of target_epsilon / noise_multiplier, C ≤ 0, a non-finite or
        non-positive lr, δ outside (0, 1), an unreachable target_epsilon, ema outside [0, 1),
        an unknown calibration or lr_schedule, or a model with BatchNorm.
    """
    _check_model(model)
    if (target_epsilon is None) == (noise_multiplier is None):
        raise ValueError("give exactly one of target_epsilon (ε to reach) or noise_multiplier (σ/C)")
    X_t, y_t = _tensors(X, y)
    with torch.no_grad():
        _logits(model, X_t, y_t)   # features and labels fit the model, before any noise is calibrated
    n = len(X_t)
    if epochs is None and target_epsilon is not None:   # more noise, fewer steps: see DEFAULTS
        grow = min(check_real(target_epsilon, "target_epsilon", low=0.0, low_open=True), EPOCHS_GROWTH_CAP)
        epochs = max(1, round(DEFAULTS["epochs"] * grow ** DEFAULTS["epochs_growth"]))
    epochs = check_int(DEFAULTS["epochs"] if epochs is None else epochs, "epochs", low=1, high=100_000)
    default_batch = min(DEFAULTS["max_batch_size"], max(1, round(DEFAULTS["batch_fraction"] * n)))
    batch_size = check_int(default_batch if batch_size is None else batch_size, "batch_size", low=1, high=n)
    C = check_real(DEFAULTS["max_grad_norm"] if max_grad_norm is None else max_grad_norm, "max_grad_norm",
                   low=0.0, low_open=True)
    lr = check_real(DEFAULTS["lr"] if lr is None else lr, "lr", low=0.0, low_open=True)
    delta = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    progress = _progress.check_progress(progress)
    calibration = _choice(DEFAULTS["calibration"] if calibration is None else calibration, "calibration",
                          CALIBRATIONS)
    schedule = _choice(DEFAULTS["lr_schedule"] if lr_schedule is None else lr_schedule, "lr_schedule",
                       LR_SCHEDULES)
    ema = check_real(DEFAULTS["ema"] if ema is None else ema, "ema", low=0.0, high=1.0, high_open=True)
    q = batch_size / n
    steps_per_epoch = max(1, round(1 / q))
    steps = epochs * steps_per_epoch
    tight = None
    if target_epsilon is not None:
        check_real(target_epsilon, "target_epsilon", low=0.0, low_open=True)
        sigma, tight = calibrate_noise(target_epsilon, sample_rate=q, steps=steps, delta=delta,
                                       calibration=calibration)
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
    epsilon = float(epsilons[-1])
    if target_epsilon is None and calibration != "rdp" and 0 < epsilon <= _MAX_TIGHT_EPSILON:
        tight = _tight_epsilon(sigma, q, steps, delta, calibration)
    epsilon = min(epsilon, math.inf if tight is None else tight)
    cost = accounting.PrivacyCost.gaussian(sigma, sample_rate=q, steps=steps, epsilon=epsilon, delta=delta)
    with accounting.charge(accountant, cost, label=label):
        return _train(model, X_t, y_t, sigma=sigma, q=q, batch_size=batch_size, C=C, lr=lr, delta=delta,
                      epochs=epochs, steps_per_epoch=steps_per_epoch, epsilons=epsilons, epsilon=epsilon,
                      ema=ema, schedule=schedule, rng=rng, progress=progress)


def calibrate_noise(target_epsilon: float, *, sample_rate: float, steps: int, delta: float,
                    calibration: str | None = None) -> tuple[float, float | None]:
    """The noise multiplier σ :func:`train` uses for ``target_epsilon``, and the tight ε it reaches.

    RDP calibrates first (``accounting.noise_multiplier_for_epsilon``) and bounds the search; with
    ``calibration`` "pld" (the default, from :data:`DEFAULTS`) or "prv" the smallest σ below it whose
    tight ε ≤ target is found by bisection. The second value is None with ``calibration="rdp"`` and
    infinity where the tight accountant cannot evaluate (RDP's σ then stands). For callers that
    train their own way (``privacy_audit.train_models``, ``text.train_language_model``) and want the
    noise ``train`` would pick.
    """
    calibration = _choice(DEFAULTS["calibration"] if calibration is None else calibration, "calibration",
                          CALIBRATIONS)
    sigma = accounting.noise_multiplier_for_epsilon(target_epsilon=target_epsilon, sample_rate=sample_rate,
                                                    steps=steps, delta=delta, accountant="rdp")
    if calibration == "rdp":
        return sigma, None
    return _tight_noise_multiplier(target_epsilon, sample_rate, steps, delta, sigma, calibration)


def _tight_epsilon(sigma: float, q: float, steps: int, delta: float, calibration: str) -> float:
    """ε by the PLD or PRV accountant; infinity where it cannot evaluate (RDP's ε then stands).

    ``"pld"`` is dp-accounting's privacy-loss distribution of the Poisson-subsampled Gaussian
    (Koskela et al. 2020; Doroshenko et al. 2022), discretised pessimistically on a grid of
    10^-3 (an upper bound on the true ε), the analysis the kit's ledger also uses; ``"prv"`` is
    Opacus's PRV accountant.
    """
    if calibration == "prv":
        try:
            return accounting.dpsgd_epsilon(noise_multiplier=sigma, sample_rate=q, steps=steps, delta=delta,
                                            accountant="prv")
        except ValueError:
            return math.inf
    from dp_accounting.pld import privacy_loss_distribution as pld

    one = pld.from_gaussian_mechanism(standard_deviation=sigma, sensitivity=1.0, sampling_prob=q,
                                      value_discretization_interval=_PLD_GRID)
    eps = float((one.self_compose(steps) if steps > 1 else one).get_epsilon_for_delta(delta))
    return max(eps, 0.0) if math.isfinite(eps) else math.inf


def _tight_noise_multiplier(target: float, q: float, steps: int, delta: float, sigma_rdp: float,
                            calibration: str) -> tuple[float, float]:
    """The smallest σ (to 0.01 in ε, Opacus's tolerance) whose PLD or PRV ε ≤ target, and that ε.

    Both are tighter than RDP, so RDP's calibration ``sigma_rdp`` bounds the answer from above
    and a bisection below it needs a handful of evaluations; where the accountant cannot
    evaluate, or the target is beyond :data:`_MAX_TIGHT_EPSILON`, ``sigma_rdp`` stands.
    """
    if target > _MAX_TIGHT_EPSILON:
        return sigma_rdp, math.inf
    high, eps_high = sigma_rdp, _tight_epsilon(sigma_rdp, q, steps, delta, calibration)
    if eps_high > target:
        return sigma_rdp, eps_high
    low = max(accounting.MIN_NOISE_MULTIPLIER, 0.5 * sigma_rdp)
    for _ in range(20):
        if target - eps_high < 0.01:
            break
        mid = 0.5 * (low + high)
        eps_mid = _tight_epsilon(mid, q, steps, delta, calibration)
        if eps_mid <= target:
            high, eps_high = mid, eps_mid
        else:
            low = mid
    return high, eps_high


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {allowed}, got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r:.40}")
    return value


def _learning_rate(step: int, steps: int, lr: float, schedule: str) -> float:
    """The learning rate at ``step`` (0-based) of ``steps``: constant, or cosine from lr down towards 0."""
    if schedule == "cosine":   # Loshchilov & Hutter 2017, Eq. 5, with η_min = 0 and one cycle of `steps`
        return lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))
    return lr


def _train(model: nn.Module, X_t: torch.Tensor, y_t: torch.Tensor, *, sigma: float, q: float, batch_size: int,
           C: float, lr: float, delta: float, epochs: int, steps_per_epoch: int, epsilons: Any,
           epsilon: float, ema: float, schedule: str, rng: RNG, progress: bool | None) -> TrainResult:
    n = len(X_t)
    np_rng, torch_rng = _torch_generator(rng)
    trained = copy.deepcopy(model)
    params = dict(trained.named_parameters())
    average = copy.deepcopy(trained) if ema > 0 else None
    averaged = dict(average.named_parameters()) if average is not None else {}
    steps, step = epochs * steps_per_epoch, 0
    history = []
    bar = _progress.bar(range(epochs), desc="DP-SGD", progress=progress)
    for epoch in bar:
        for _ in range(steps_per_epoch):
            batch = torch.from_numpy(np.flatnonzero(np_rng.random(n) < q))
            if len(batch) == 0:
                summed = {k: torch.zeros_like(p) for k, p in params.items()}
            else:
                summed, _ = clipped_gradient_sum(trained, X_t[batch], y_t[batch], C)
            noisy = add_noise(summed, noise_multiplier=sigma, max_grad_norm=C, generator=torch_rng)
            rate = _learning_rate(step, steps, lr, schedule)
            with torch.no_grad():
                for k, p in params.items():
                    p -= rate * noisy[k] / batch_size
                if average is not None:   # post-processing of the noisy iterates: no privacy cost
                    beta = min(ema, (1 + step) / (10 + step))
                    for k, p in averaged.items():
                        p.mul_(beta).add_(params[k], alpha=1 - beta)
            step += 1
        loss, accuracy = evaluate(average if average is not None else trained, X_t, y_t)
        history.append({"epoch": epoch + 1, "loss": loss, "accuracy": accuracy})
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)   # a refresh would show it before 2 s
    for h, eps in zip(history, epsilons, strict=True):
        h["epsilon"] = float(eps)
    return TrainResult(model=average if average is not None else trained, epsilon=epsilon, delta=delta,
                       noise_multiplier=sigma, sample_rate=q, steps=steps, history=history)


def privacy_utility(model: nn.Module, X: Any, y: Any, X_test: Any, y_test: Any, *,
                    epsilons: list[float], baseline: nn.Module, rng: RNG = 0,
                    progress: bool | None = None) -> dict[str, Any]:
    """Test accuracy and membership-inference AUC of DP-SGD at each ε, beside a non-private model.

    Each ε trains a copy of ``model`` with :func:`train` (defaults, δ = 1e-5); the attack is
    ``attacks.membership_inference_auc`` with (X, y) as members and (X_test, y_test) as
    non-members. ``baseline`` is the already trained non-private model to compare with.
    ``progress``: a bar over the ε values (after 2 s by default), as in :func:`train`.
    """
    from .attacks import membership_inference_auc  # the attack DP-SGD is measured against

    accuracy, auc = [], []
    for eps in _progress.bar(epsilons, desc="ε values", progress=progress):
        trained = train(model, X, y, target_epsilon=eps, rng=rng, progress=False).model
        accuracy.append(evaluate(trained, X_test, y_test)[1])
        auc.append(membership_inference_auc(trained, X, y, X_test, y_test))
    return {"epsilon": np.asarray(epsilons, dtype=float), "accuracy": np.asarray(accuracy),
            "auc": np.asarray(auc), "baseline_accuracy": evaluate(baseline, X_test, y_test)[1],
            "baseline_auc": membership_inference_auc(baseline, X, y, X_test, y_test)}
