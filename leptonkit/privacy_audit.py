"""Privacy measured from the outside: many models trained at once, and ε lower bounds from one run.

An accountant gives an **upper** bound: ε that no attacker can beat, if the code is right. An
audit gives a **lower** bound: ε that some attacker provably reaches, measured on the trained
models. The two bracket the truth; a lower bound above the upper one is a bug in one of them.

- :func:`train_models` trains M copies of a small network *as one computation* — parameters
  stacked along a first axis, every step one batched matrix product — each on its own subset
  of the records (``included[j]``), with plain SGD or with DP-SGD (per-sample clipping with the
  ghost norms of ``dpsgd.clipped_gradient_sum``, Gaussian noise, Poisson sampling). These are
  the shadow models of LiRA (``attacks.lira``) and the repeated runs an audit needs.
- :func:`one_run_audit` is Steinke, Nasr & Jagielski's audit with **one** training run: m
  canaries, each included independently with probability ½; the auditor guesses "in" for the k
  highest-scoring and "out" for the k lowest; :func:`epsilon_lower_bound` turns the number of
  correct guesses into the largest ε the run cannot have at a stated confidence (their
  Theorem 3.1; the computation of their Appendix D, :func:`p_value`).

Not the audit *log*: that is :mod:`leptonkit.audit` (what was done); this module measures what a
training run leaks.

References
----------
T. Steinke, M. Nasr and M. Jagielski, *Privacy Auditing with One (1) Training Run*, NeurIPS 2023
(arXiv:2305.08846): Theorem 3.1 and the p-value / ε-bound algorithms of Appendix D.
N. Carlini, S. Chien, M. Nasr, S. Song, A. Terzis and F. Tramèr, *Membership Inference Attacks
From First Principles*, IEEE S&P 2022 (LiRA: shadow models trained on random halves).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn

from . import _progress
from ._checks import RNG, as_generator, check_array, check_bools, check_int, check_real
from .models import as_tensors, check_model

__all__ = ["AuditResult", "StackedModels", "epsilon_lower_bound", "inclusion", "one_run_audit", "p_value",
           "train_models"]

MAX_MODELS = 1024


# --- many models at once ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StackedModels:
    """M trained copies of ``template``: ``params[name]`` has a first axis of length M.

    ``included[j]`` says which records model j was trained on. :meth:`logits` runs all M on
    the same inputs; :meth:`model` gives copy j back as an ordinary ``nn.Module``.
    """

    template: nn.Module
    params: dict[str, torch.Tensor]
    included: np.ndarray

    def __len__(self) -> int:
        return len(self.included)

    def __repr__(self) -> str:
        return (f"StackedModels({len(self)} × {type(self.template).__name__}, "
                f"{self.included.shape[1]} records)")

    def logits(self, X: Any) -> torch.Tensor:
        """Every model's logits on ``X``: a tensor of shape (M, len(X), classes)."""
        X_t = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if X_t.ndim != 2:
            raise ValueError(f"X must be a 2-d array (records, features), got shape {tuple(X_t.shape)}")
        with torch.no_grad():
            out, _, _ = _forward(self.template, self.params, X_t.expand(len(self), -1, -1))
        return out

    def model(self, j: int) -> nn.Module:
        """Model ``j`` as a plain ``nn.Module`` (a copy: changing it changes nothing here)."""
        j = check_int(j, "j", low=0, high=len(self) - 1)
        copied = copy.deepcopy(self.template)
        with torch.no_grad():
            for name, p in copied.named_parameters():
                p.copy_(self.params[name][j])
        return copied


def inclusion(n_models: int, n_records: int, *, rng: RNG = None) -> np.ndarray:
    """Which record each model trains on: independent fair coins, a (n_models, n_records) bool array.

    Independence matters: the one-run audit's theorem needs each canary in or out at random,
    independently of the others (two models on complementary halves would not do).
    """
    n_models = check_int(n_models, "n_models", low=1, high=MAX_MODELS)
    n_records = check_int(n_records, "n_records", low=1, high=10_000_000)
    return as_generator(rng).random((n_models, n_records)) < 0.5


def _covered(template: nn.Module) -> bool:
    return isinstance(template, nn.Sequential) and any(isinstance(m, nn.Linear) for m in template) and all(
        isinstance(m, nn.Linear) or not any(True for _ in m.parameters()) for m in template)


def _forward(template: nn.Module, params: dict[str, torch.Tensor],
             X: torch.Tensor) -> tuple[torch.Tensor, list, list]:
    """All M models on their own (M, B, features) inputs: the logits, and each Linear's inputs and outputs."""
    inputs, outputs, h = [], [], X
    for name, layer in template.named_children():
        if isinstance(layer, nn.Linear):
            inputs.append(h)
            weight = params[f"{name}.weight"]
            h = torch.bmm(h, weight.transpose(1, 2))
            if layer.bias is not None:
                h = h + params[f"{name}.bias"].unsqueeze(1)
            outputs.append(h)
        else:
            h = layer(h)
    return h, inputs, outputs


def train_models(model: nn.Module, X: Any, y: Any, included: Any, *, epochs: int, lr: float,
                 batch_size: int = 64, noise_multiplier: float | None = None,
                 sample_rate: float | None = None, max_grad_norm: float = 0.5, ema: float = 0.0,
                 rng: RNG = None, progress: bool | None = None) -> StackedModels:
    """Train ``len(included)`` copies of ``model`` at once, copy j on the rows where ``included[j]``.

    Each copy starts from its own initialisation (the template's layers reset under a seed
    drawn from ``rng``), as independent shadow models do. ``model`` is an ``nn.Sequential`` of
    ``nn.Linear`` layers and parameter-free layers (``models.mlp``); the template is not changed.

    - Without ``noise_multiplier``: plain minibatch SGD, ``epochs`` passes over each copy's rows
      in shuffled batches of ``batch_size`` — the recipe of ``models.train_non_private``.
    - With ``noise_multiplier`` σ and ``sample_rate`` q: DP-SGD as ``dpsgd.train`` runs it —
      each step a Poisson sample of each copy's rows (rate q), every sample's gradient clipped
      to ``max_grad_norm`` C (its norm from the layer inputs and output gradients, as in
      ``dpsgd.clipped_gradient_sum``), N(0, σ²C²) added to the sum, divided by the expected
      batch q·n_j; round(1/q) steps an epoch. Every copy is then (ε, δ)-DP for the ε an
      accountant gives for (σ, q, steps). ``ema`` averages the iterates as ``dpsgd.train`` does.

    ``progress``: ``None`` (the default) shows a bar over the epochs once training has run 2 s,
    ``True`` at once, ``False`` never.

    Raises
    ------
    ValueError
        For a model this does not cover, ``included`` of the wrong shape or a copy with no rows,
        or settings out of range (σ ≥ 0, q in (0, 1], C > 0, lr > 0, ema in [0, 1)).
    """
    check_model(model)
    if not _covered(model):
        raise ValueError("model must be an nn.Sequential of nn.Linear and parameter-free layers (models.mlp)")
    X_t, y_t = as_tensors(X, y)
    if X_t.ndim != 2:
        raise ValueError(f"X must be a 2-d array (records, features), got shape {tuple(X_t.shape)}")
    mask = check_bools(included, "included")
    if mask.ndim != 2 or mask.shape[1] != len(X_t) or not 1 <= len(mask) <= MAX_MODELS:
        raise ValueError(f"included must be a bool array of shape (models ≤ {MAX_MODELS}, "
                         f"{len(X_t)} records)")
    if not mask.any(axis=1).all():
        raise ValueError("included gives a model no rows to train on")
    epochs = check_int(epochs, "epochs", low=1, high=100_000)
    lr = check_real(lr, "lr", low=0.0, low_open=True, high=1e6)
    batch_size = check_int(batch_size, "batch_size", low=1)
    ema = check_real(ema, "ema", low=0.0, high=1.0, high_open=True)
    progress = _progress.check_progress(progress)
    private = noise_multiplier is not None
    if private:
        sigma = check_real(noise_multiplier, "noise_multiplier", low=0.0, high=1e6)
        q = check_real(sample_rate, "sample_rate", low=0.0, low_open=True, high=1.0)
        C = check_real(max_grad_norm, "max_grad_norm", low=0.0, low_open=True, high=1e6)
    generator = as_generator(rng)
    M = len(mask)
    params = _initial_parameters(model, M, generator)
    average = {k: v.clone() for k, v in params.items()} if ema > 0 else None
    noise = torch.Generator().manual_seed(int(generator.integers(2**62)))
    step = 0
    for _ in _progress.bar(range(epochs), desc=f"{M} models", progress=progress):
        batches = (_poisson_batches(mask, q, generator) if private
                   else _shuffled_batches(mask, batch_size, generator))
        for rows, valid in batches:
            xb, yb = X_t[rows], y_t[rows]
            if private:
                update = _private_step(model, params, xb, yb, valid, C, sigma, noise)
                update = _scaled(update, 1.0 / (q * mask.sum(axis=1)))
            else:
                update = _plain_step(model, params, xb, yb, valid)
            with torch.no_grad():
                for k in params:
                    params[k] = params[k] - lr * update[k]
                if average is not None:
                    beta = min(ema, (1 + step) / (10 + step))
                    for k in average:
                        average[k] = beta * average[k] + (1 - beta) * params[k]
            step += 1
    final = average if average is not None else params
    return StackedModels(template=copy.deepcopy(model), params={k: v.detach() for k, v in final.items()},
                         included=mask.copy())


def _scaled(update: dict[str, torch.Tensor], scale: np.ndarray) -> dict[str, torch.Tensor]:
    s = torch.as_tensor(scale, dtype=torch.float32)
    return {k: v * s.reshape(-1, *([1] * (v.ndim - 1))) for k, v in update.items()}


def _initial_parameters(model: nn.Module, M: int, generator: np.random.Generator) -> dict[str, torch.Tensor]:
    stacked: dict[str, list[torch.Tensor]] = {name: [] for name, _ in model.named_parameters()}
    for _ in range(M):
        fresh = copy.deepcopy(model)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(generator.integers(2**62)))
            for layer in fresh:
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()
        for name, p in fresh.named_parameters():
            stacked[name].append(p.detach())
    return {name: torch.stack(ps) for name, ps in stacked.items()}


def _shuffled_batches(mask: np.ndarray, batch_size: int, generator: np.random.Generator):
    """One epoch of each model's rows in shuffled batches, padded to a common (M, B) shape."""
    orders = [generator.permutation(np.flatnonzero(row)) for row in mask]
    longest = max(len(o) for o in orders)
    for start in range(0, longest, batch_size):
        yield _padded([o[start:start + batch_size] for o in orders])


def _poisson_batches(mask: np.ndarray, q: float, generator: np.random.Generator):
    """round(1/q) steps, each a Poisson sample (rate q) of each model's rows, padded to (M, B)."""
    for _ in range(max(1, round(1 / q))):
        picked = mask & (generator.random(mask.shape) < q)
        yield _padded([np.flatnonzero(row) for row in picked])


def _padded(rows: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(1, max(len(r) for r in rows))
    index = np.zeros((len(rows), width), dtype=np.int64)
    valid = np.zeros((len(rows), width), dtype=bool)
    for j, r in enumerate(rows):
        index[j, :len(r)], valid[j, :len(r)] = r, True
    return torch.from_numpy(index), torch.from_numpy(valid)


def _plain_step(model: nn.Module, params: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor,
                valid: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each model's mean-loss gradient over its own batch (a model with an empty batch gets zero)."""
    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    logits, _, _ = _forward(model, leaves, xb)
    losses = nn.functional.cross_entropy(logits.transpose(1, 2), yb, reduction="none")   # (M, B)
    counts = valid.sum(1).clamp(min=1)
    total = ((losses * valid).sum(1) / counts).sum()
    grads = torch.autograd.grad(total, list(leaves.values()))
    return dict(zip(leaves, grads, strict=True))


def _private_step(model: nn.Module, params: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor,
                  valid: torch.Tensor, C: float, sigma: float,
                  noise: torch.Generator) -> dict[str, torch.Tensor]:
    """Each model's clipped gradient sum over its Poisson batch, plus N(0, σ²C²) per coordinate."""
    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    logits, inputs, outputs = _forward(model, leaves, xb)
    losses = nn.functional.cross_entropy(logits.transpose(1, 2), yb, reduction="none")
    backprops = torch.autograd.grad((losses * valid).sum(), outputs)
    squared = torch.zeros(valid.shape)
    linears = [(name, layer) for name, layer in model.named_children() if isinstance(layer, nn.Linear)]
    for a, g, (_, layer) in zip(inputs, backprops, linears, strict=True):
        g2 = g.pow(2).sum(2)
        squared += g2 * a.detach().pow(2).sum(2) + (g2 if layer.bias is not None else 0)
    factor = (C / (squared.sqrt() + 1e-6)).clamp(max=1.0) * valid      # 0 for the padding
    summed = {}
    for a, g, (name, layer) in zip(inputs, backprops, linears, strict=True):
        scaled = g * factor.unsqueeze(2)
        summed[f"{name}.weight"] = torch.bmm(scaled.transpose(1, 2), a.detach())
        if layer.bias is not None:
            summed[f"{name}.bias"] = scaled.sum(1)
    return {k: v + sigma * C * torch.randn(v.shape, generator=noise) for k, v in summed.items()}


# --- the one-run audit -------------------------------------------------------------------------------


def p_value(m: int, r: int, v: int, epsilon: float, delta: float = 0.0) -> float:
    """The chance of ≥ v correct guesses out of r, on m canaries, if the run were (ε, δ)-DP.

    Steinke, Nasr & Jagielski 2023, Theorem 3.1 and Appendix D: the count of correct guesses is
    dominated by Binomial(r, e^ε/(1 + e^ε)) — ε-DP randomized response on each guess — plus a
    δ-term, 2mδ·max_i P[v > Binomial ≥ v − i]/i. Monotone: larger ε, larger p-value.
    """
    m = check_int(m, "m", low=1, high=10**9)
    r = check_int(r, "r", low=0, high=10**9)
    v = check_int(v, "v", low=0, high=10**9)
    if not v <= r <= m:
        raise ValueError(f"the counts must satisfy v ≤ r ≤ m (correct guesses, guesses, canaries), got "
                         f"v={v}, r={r}, m={m}")
    epsilon = check_real(epsilon, "epsilon", low=0.0, high=700.0)
    delta = check_real(delta, "delta", low=0.0, high=1.0)
    q = 1.0 / (1.0 + math.exp(-epsilon))            # how often ε-DP randomized response is right
    beta = float(stats.binom.sf(v - 1, r, q))       # P[Binomial(r, q) ≥ v]
    if delta == 0 or v == 0:
        return min(beta, 1.0)
    below = np.cumsum(stats.binom.pmf(v - np.arange(1, v + 1), r, q))   # P[v > B ≥ v − i], i = 1 … v
    alpha = float(np.max(below / np.arange(1, v + 1)))
    return min(beta + alpha * delta * 2 * m, 1.0)


def epsilon_lower_bound(m: int, r: int, v: int, *, delta: float = 0.0, confidence: float = 0.95) -> float:
    """The largest ε such that v correct guesses of r (on m canaries) would have p-value < 1 − confidence.

    Any (ε', δ)-DP run with ε' below this would produce so many correct guesses with probability
    under 1 − confidence: so, at that confidence, the run is not (ε', δ)-DP for ε' below the
    bound. 0 when even ε = 0 explains the guesses. Found by bisection on ε (the p-value is
    monotone in ε), to 1e-4.
    """
    confidence = check_real(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)
    level = 1.0 - confidence
    if p_value(m, r, v, 0.0, delta) >= level:
        return 0.0
    low, high = 0.0, 1.0
    while p_value(m, r, v, high, delta) < level:
        low, high = high, 2 * high
        if high > 512:
            return low
    while high - low > 1e-4:
        mid = 0.5 * (low + high)
        if p_value(m, r, v, mid, delta) < level:
            low = mid
        else:
            high = mid
    return low


@dataclass(frozen=True)
class AuditResult:
    """What one run's canaries say: ε ≥ ``epsilon`` at ``confidence``, from ``correct`` of ``guesses``."""

    epsilon: float
    canaries: int
    guesses: int
    correct: int
    confidence: float
    delta: float

    def __str__(self) -> str:
        return (f"ε ≥ {self.epsilon:.2f} at {self.confidence:.0%} confidence (δ = {self.delta:g}): "
                f"{self.correct} of {self.guesses} guesses right on {self.canaries} canaries")


def one_run_audit(scores: Any, included: Any, *, delta: float = 0.0, confidence: float = 0.95,
                  guesses: Any = None) -> AuditResult:
    """Steinke et al.'s one-run audit: an ε lower bound from the canaries of a single training run.

    ``scores[i]`` is how member-like canary i looks to the auditor (e.g. minus the trained
    model's loss on it); ``included[i]`` whether it was in the training data — chosen by a fair
    coin, independently per canary, *before* training (see :func:`inclusion`). The auditor
    guesses "in" for the k highest scores and "out" for the k lowest and abstains on the rest;
    each k in ``guesses`` (default: m/20, m/10, m/5, m/4 and m/2 guesses in all) is tried, and, so
    that trying several cannot overstate the bound, each is tested at confidence
    1 − (1 − confidence)/len(guesses) (Bonferroni). The best bound is returned.

    Raises
    ------
    ValueError
        For scores that are not finite, lengths that differ, fewer than 2 canaries, or a number
        of guesses outside 1 … m/2 per side.
    """
    s = check_array(scores, "scores", ndim=1)
    if len(s) < 2:
        raise ValueError(f"scores must hold at least 2 canaries' scores, got {len(s)}")
    inside = check_bools(included, "included", shape=s.shape)
    m = len(s)
    if guesses is None:
        ks = sorted({max(1, round(m * f / 2)) for f in (0.05, 0.1, 0.2, 0.25, 0.5)})
    else:
        try:
            candidates = list(np.atleast_1d(np.asarray(guesses, dtype=object)).ravel())
        except (TypeError, ValueError):
            raise TypeError("guesses must be a whole number or a list of them") from None
        ks = sorted({check_int(k, "guesses", low=1, high=m // 2) for k in candidates})
        if not ks:
            raise ValueError("guesses must name at least one number of guesses per side")
    each = 1.0 - (1.0 - check_real(confidence, "confidence", low=0.0, high=1.0, low_open=True,
                                   high_open=True)) / len(ks)
    order = np.argsort(s, kind="stable")
    best = AuditResult(0.0, m, 0, 0, confidence, delta)
    for k in ks:
        correct = int(inside[order[-k:]].sum() + (~inside[order[:k]]).sum())
        bound = epsilon_lower_bound(m, 2 * k, correct, delta=delta, confidence=each)
        if bound > best.epsilon or best.guesses == 0:
            best = AuditResult(bound, m, 2 * k, correct, confidence, delta)
    return best
