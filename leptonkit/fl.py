"""Federated learning: partitions, a vectorised FedAvg simulator, DP-FedAvg, robust and secure aggregation.

:func:`partition` splits a dataset among clients (IID, or Dirichlet label skew); :func:`fedavg`
runs FedAvg (McMahan et al. 2017) with the paper's names — K clients, C·K of them per round,
E local epochs, batch size B (``None`` is the paper's B = ∞) — and trains the clients of a
round as **one batched computation**: their parameters are stacked, ``torch.func.vmap`` runs
every client's forward pass at once, and one ``backward()`` of the sum of their (independent)
losses gives every client its own gradient. Clients of unequal size are padded and masked.
Options: FedProx's μ (Li et al. 2020), an ``aggregator`` (weighted mean by default;
:func:`coordinate_median`, :func:`trimmed_mean`, :func:`secure_mean`), DP-FedAvg with
client-level clipping and Gaussian noise (McMahan et al. 2018), and update compression
(``compress``). :func:`run_on_flower` runs the same clients on Flower's simulation engine.
Neighbours: ``mpc`` (secure aggregation), ``compress``, ``accounting`` (ε), ``attacks``
(gradient inversion, poisoning).

References
----------
H. B. McMahan et al., *Communication-Efficient Learning of Deep Networks from Decentralized Data*,
AISTATS 2017 (arXiv 1602.05629). T. Li et al., *Federated Optimization in Heterogeneous
Networks* (FedProx), MLSys 2020. H. B. McMahan et al., *Learning Differentially Private Recurrent
Language Models*, ICLR 2018. T.-M. H. Hsu et al., *Measuring the Effects of Non-Identical Data
Distribution for Federated Visual Classification*, 2019 (Dirichlet partitions).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from . import _progress, accounting, mpc
from ._checks import RNG, as_generator, check_int, check_real
from .models import _logits, as_tensors, check_model

__all__ = ["FedAvgResult", "coordinate_median", "fedavg", "fedavg_on_partition", "flower_client_app",
           "flower_server_app", "flower_train", "get_weights", "partition", "rounds_to_accuracy",
           "run_on_flower", "secure_mean", "set_weights", "trimmed_mean", "weighted_mean"]

BYTES_PER_PARAMETER = 4  # float32 on the wire
MAX_ROUNDS = 1_000_000    # communication rounds of one run
RING_BYTES = 8           # secure aggregation sends elements of Z_2^64


@dataclass
class FedAvgResult:
    """What :func:`fedavg` returns: the trained global model (a copy) and per-round history.

    ``history[r]`` has ``round``, ``accuracy``, ``loss`` (of the global model on the evaluation
    data), ``clients`` (how many trained), ``bytes_up`` and ``bytes_down`` (that round's traffic).
    ``epsilon`` is the ε (at ``delta``) of a DP run for its ``privacy_unit`` (``"client"`` or
    ``"record"``) with its ``noise`` placement; all four are ``None`` without DP.
    """

    model: nn.Module
    history: list[dict] = field(default_factory=list)
    epsilon: float | None = None
    delta: float | None = None
    noise: str | None = None
    privacy_unit: str | None = None


# --- partitions ----------------------------------------------------------------------------------


_MAX_PARTITION_TRIES = 1000   # Dirichlet redraws: each costs a pass over every sample


def partition(y: Any, n_clients: int, *, alpha: float | None = None, rng: RNG = None,
              max_tries: int = 100) -> list[np.ndarray]:
    """Split sample indices among ``n_clients``: IID, or with Dirichlet(α) label skew.

    Parameters
    ----------
    y
        The labels, one per sample: a non-empty 1-d array of numbers, strings or booleans.
        A missing label (NaN, None) is refused: its sample would silently belong to no class.
    n_clients
        K, between 1 and the number of samples.
    alpha
        ``None`` for IID (a random permutation cut into sizes that differ by at most one);
        otherwise the concentration α > 0 of a Dirichlet over clients drawn for each class —
        small α gives each client few classes (Hsu et al. 2019). Draws with an empty client are
        redrawn up to ``max_tries`` times, an int in [1, 1000].

    Returns
    -------
    list of numpy.ndarray
        One sorted index array per client; every sample appears exactly once.
    """
    labels = _labels(y)
    n_clients = check_int(n_clients, "n_clients", low=1, high=labels.size)
    max_tries = check_int(max_tries, "max_tries", low=1, high=_MAX_PARTITION_TRIES)
    alpha = None if alpha is None else check_real(alpha, "alpha", low=0.0, low_open=True)
    generator = as_generator(rng)
    if alpha is None:
        return [np.sort(part) for part in np.array_split(generator.permutation(labels.size), n_clients)]
    _, codes = np.unique(labels, return_inverse=True)
    classes = [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]
    for _ in range(max_tries):
        parts: list[list[np.ndarray]] = [[] for _ in range(n_clients)]
        for members in classes:
            members = generator.permutation(members)
            shares = generator.dirichlet(np.full(n_clients, alpha))
            cuts = (np.cumsum(shares)[:-1] * len(members)).round().astype(int)
            for client, piece in enumerate(np.split(members, cuts)):
                parts[client].append(piece)
        result = [np.sort(np.concatenate(p)) for p in parts]
        if all(len(p) for p in result):
            return result
    raise ValueError(f"no Dirichlet(alpha={alpha:g}) partition of {labels.size} samples among {n_clients} "
                     f"clients without an empty client in {max_tries} tries (max_tries): raise alpha or "
                     f"lower n_clients")


def _labels(y: Any) -> np.ndarray:
    """``y`` as a 1-d array of labels that can be compared and have no missing entry."""
    if y is None or isinstance(y, (str, bytes, dict, set)):
        raise TypeError(f"y must be a 1-d array of labels, got {type(y).__name__}")
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    try:
        labels = np.asarray(y)
    except (TypeError, ValueError):
        raise TypeError("y must be a 1-d array of labels (not ragged or nested lists)") from None
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"y must be a non-empty 1-d array of labels, got shape {labels.shape}")
    if labels.dtype.kind not in "biufUSO":
        raise TypeError(f"y must hold numbers, strings or booleans, got dtype {labels.dtype}")
    if labels.dtype.kind == "O":
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in labels):
            raise ValueError("y must not have missing labels (None or NaN)")
        try:
            np.unique(labels)
        except TypeError:
            raise TypeError("y must hold labels of one comparable kind (numbers or strings)") from None
    elif labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError(f"y must not have missing labels: {int(np.isnan(labels).sum())} of {labels.size} "
                         f"are NaN (a NaN equals no class, so its sample would silently be dropped)")
    return labels


# --- parameters as one flat vector --------------------------------------------------------------


def get_weights(model: nn.Module) -> list[np.ndarray]:
    """The model's parameters as numpy arrays, in ``named_parameters`` order (Flower's format)."""
    return [p.detach().cpu().numpy().copy() for p in check_model(model).parameters()]


def set_weights(model: nn.Module, weights: Sequence[np.ndarray]) -> None:
    """Load arrays from :func:`get_weights` back into ``model``, in place (all or nothing)."""
    params = list(check_model(model).parameters())
    if not isinstance(weights, Sequence) or isinstance(weights, (str, bytes)) or len(weights) != len(params):
        raise TypeError(f"weights must be one array per parameter of the model ({len(params)})")
    arrays = []
    for p, w in zip(params, weights, strict=True):
        array = _finite(w, "weights")
        if array.shape != tuple(p.shape):
            raise ValueError(f"weights must match the model's shapes: got {array.shape} for {tuple(p.shape)}")
        arrays.append(array)
    with torch.no_grad():
        for p, array in zip(params, arrays, strict=True):
            p.copy_(torch.as_tensor(array, dtype=p.dtype))


def _finite(values: Any, name: str, *, ndim: int | None = None) -> np.ndarray:
    """``values`` as a finite float64 array (of ``ndim`` dimensions); errors name ``name``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{name} must be a numeric array") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return array


def _round_inputs(updates: Any, weights: Any) -> tuple[np.ndarray, np.ndarray]:
    """The aggregators' arguments: updates (K ≥ 1, P ≥ 1) and K non-negative weights, not all zero."""
    u, w = _finite(updates, "updates", ndim=2), _finite(weights, "weights", ndim=1)
    if u.shape[0] == 0 or u.shape[1] == 0:
        raise ValueError(f"updates must have at least one client and one parameter, got shape {u.shape}")
    if len(w) != len(u) or (w < 0).any() or not w.any():
        raise ValueError(f"weights must be {len(u)} non-negative numbers, not all zero")
    return u, w


# --- aggregation: updates (K, P), weights (K,), client ids (K,) -> aggregate update (P,) ----------


def plain_sum(updates: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ w_k Δ_k in the clear: the server sees every update."""
    return weights @ updates


def secure_sum(updates: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ w_k Δ_k by secure aggregation (``mpc.secure_aggregate``): the server sees only masked
    vectors and the sum (exact in 16-bit fixed point). Needs at least 3 clients."""
    if len(updates) < 3:
        raise ValueError(f"secure aggregation needs at least 3 clients in a round, got {len(updates)}: "
                         f"with two, each learns the other's update from the sum")
    return mpc.secure_aggregate(updates * weights[:, None]).total


@dataclass(frozen=True)
class MeanOfSum:
    """Σ w_k Δ_k / Σ w_k, with the sum taken by ``summation`` (:func:`plain_sum` or :func:`secure_sum`).

    An aggregator built on a sum composes with everything a sum allows: DP noise added to it
    (central), noise shares added before it (distributed), the fixed denominator of DP-FedAvg.
    """

    summation: Callable[[np.ndarray, np.ndarray], np.ndarray]
    name: str

    @property
    def secure(self) -> bool:
        return self.summation is secure_sum

    @property
    def __name__(self) -> str:   # read like the plain aggregator functions beside it
        return self.name

    def __call__(self, updates: np.ndarray, weights: np.ndarray, clients: np.ndarray) -> np.ndarray:
        updates, weights = _round_inputs(updates, weights)
        return self.summation(updates, weights) / weights.sum()

    def __repr__(self) -> str:
        return f"fl.{self.name}"


#: FedAvg's aggregate Σ n_k Δ_k / Σ n_k, summed in the clear.
weighted_mean = MeanOfSum(plain_sum, "weighted_mean")
#: The same mean with the sum taken by secure aggregation (Bonawitz et al. 2017).
secure_mean = MeanOfSum(secure_sum, "secure_mean")


def coordinate_median(updates: np.ndarray, weights: np.ndarray, clients: np.ndarray) -> np.ndarray:
    """The coordinate-wise median of the updates (Yin et al. 2018): robust to a minority of attackers."""
    updates, _ = _round_inputs(updates, weights)
    return np.median(updates, axis=0)


def trimmed_mean(updates: np.ndarray, weights: np.ndarray, clients: np.ndarray, *,
                 beta: float = 0.2) -> np.ndarray:
    """Per coordinate, drop the ⌊βK⌋ largest and smallest values and average the rest (Yin et al. 2018)."""
    updates, _ = _round_inputs(updates, weights)
    k = int(check_real(beta, "beta", low=0.0, high=0.5, high_open=True) * len(updates))
    ordered = np.sort(updates, axis=0)
    return ordered[k:len(updates) - k].mean(axis=0)


def secure(aggregator: Any) -> MeanOfSum:
    """``aggregator`` computed over secure aggregation — possible only for a mean of a sum.

    Raises
    ------
    ValueError
        For a median, trimmed mean or any other aggregator that needs the individual updates:
        under secure aggregation the server holds only masked vectors and their sum.
    """
    if isinstance(aggregator, MeanOfSum):
        return secure_mean
    name = getattr(aggregator, "__name__", type(aggregator).__name__)
    raise ValueError(f"{name} cannot run over secure aggregation: it needs the individual updates, and "
                     f"the server sees only masked vectors and their sum (a median of masked vectors is "
                     f"noise). Use fl.secure_mean, or a robust aggregator without secure aggregation")


NOISE_PLACEMENTS = ("central", "distributed", "local")
PRIVACY_UNITS = ("client", "record")


# --- FedAvg ---------------------------------------------------------------------------------------


def _check_model(model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if any(True for _ in model.buffers()):
        raise ValueError("model must have no buffers (BatchNorm's running statistics cannot be averaged "
                         "across clients by this simulator); use nn.GroupNorm or nn.LayerNorm")


def _client_data(clients: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    if not isinstance(clients, Sequence) or len(clients) == 0:
        raise ValueError("clients must be a non-empty list of (X, y) pairs")
    data = []
    for k, pair in enumerate(clients):
        is_pair = isinstance(pair, (tuple, list)) and len(pair) == 2
        if not is_pair or not all(hasattr(v, "__len__") for v in pair):
            raise TypeError(f"clients[{k}] must be an (X, y) pair of arrays")
        if len(pair[0]) == 0:
            raise ValueError(f"clients[{k}] is empty: every client needs at least one sample")
        if len(pair[1]) != len(pair[0]):
            raise ValueError(f"clients[{k}]: X has {len(pair[0])} samples but y has {len(pair[1])}")
        try:
            data.append(as_tensors(*pair))
        except (TypeError, ValueError) as error:
            raise type(error)(f"clients[{k}]: {error}") from None
    shapes = {tuple(X.shape[1:]) for X, _ in data}
    if len(shapes) != 1:
        raise ValueError(f"every client's X must have the same feature shape, got {sorted(shapes)}")
    return data


def _federation(model: Any, clients: Any, rounds: Any, clients_per_round: Any,
                eval_data: Any) -> tuple[list, int, int, tuple[torch.Tensor, torch.Tensor]]:
    """The checks both simulators share: the clients' data, rounds, C·K, and the evaluation set
    (the union of the clients' data when none is given)."""
    _check_model(model)
    data = _client_data(clients)
    rounds = check_int(rounds, "rounds", low=1, high=MAX_ROUNDS)
    per_round = check_int(len(data) if clients_per_round is None else clients_per_round, "clients_per_round",
                          low=1, high=len(data))
    if eval_data is None:
        evaluation = torch.cat([X for X, _ in data]), torch.cat([y for _, y in data])
    else:
        if not isinstance(eval_data, (tuple, list)) or len(eval_data) != 2:
            raise TypeError("eval_data must be an (X, y) pair or None")
        evaluation = as_tensors(*eval_data)
    return data, rounds, per_round, evaluation


def _check_fit(model: nn.Module, data: list, evaluation: tuple, *, classification: bool) -> None:
    """Every client's data and the evaluation set fit the model (for cross-entropy: labels < classes)."""
    sets = [(f"clients[{k}]", X, y) for k, (X, y) in enumerate(data)] + [("eval_data", *evaluation)]
    with torch.no_grad():
        for name, X, y in sets:
            if classification:
                _logits(model, X, y, name)
                continue
            try:
                model(X[:1])
            except (RuntimeError, IndexError, TypeError) as error:
                first = str(error).splitlines()[0][:120]
                raise ValueError(f"{name} does not fit the model ({first})") from None


def _cross_entropy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(output, target, reduction="none")


def _batch_indices(sizes: np.ndarray, epochs: int, batch: int, generator: np.random.Generator) -> np.ndarray:
    """(clients, steps, batch) sample indices, −1 for padding: E shuffled epochs of ⌈n_k/B⌉ batches."""
    steps = [epochs * math.ceil(n / batch) for n in sizes]
    out = np.full((len(sizes), max(steps), batch), -1, dtype=np.int64)
    for k, n in enumerate(sizes):
        per_epoch = math.ceil(n / batch)
        for e in range(epochs):
            order = np.full(per_epoch * batch, -1, dtype=np.int64)
            order[:n] = generator.permutation(n)
            out[k, e * per_epoch:(e + 1) * per_epoch] = order.reshape(per_epoch, batch)
    return out


@dataclass(frozen=True)
class _Privacy:
    """A run's DP settings, checked once: who is protected, where the noise goes, how much."""

    unit: str
    noise: str
    clip_norm: float
    noise_multiplier: float
    delta: float


def _privacy_plan(*, noise_multiplier: Any, clip_norm: Any, noise: Any, privacy_unit: Any, delta: Any,
                  aggregator: Any, average: Any, accountant: Any) -> tuple[_Privacy | None, str]:
    """Check that the pieces of a round fit together; return the DP plan (or None) and the averaging.

    Every refusal names why the combination cannot work.
    """
    if privacy_unit not in PRIVACY_UNITS:
        raise ValueError(f"privacy_unit must be one of {PRIVACY_UNITS}, got {privacy_unit!r}")
    if noise is not None and noise not in NOISE_PLACEMENTS:
        raise ValueError(f"noise must be one of {NOISE_PLACEMENTS} or None, got {noise!r}")
    if average is not None and average not in ("weights", "fixed"):
        raise ValueError(f"average must be 'weights', 'fixed' or None, got {average!r}")
    is_sum = isinstance(aggregator, MeanOfSum)
    if noise_multiplier is None:
        if noise is not None or privacy_unit != "client":
            raise ValueError("noise and privacy_unit='record' need noise_multiplier: without it nothing "
                             "is noised")
        if accountant is not None:
            raise ValueError("accountant needs noise_multiplier: FedAvg without DP noise releases a model "
                             "with no privacy guarantee for the ledger to book")
        return None, average or "weights"
    z = check_real(noise_multiplier, "noise_multiplier", low=0.0)
    if clip_norm is None:
        raise ValueError("noise_multiplier needs clip_norm: DP clips each update (or each record's "
                         "gradient) to L2 norm ≤ clip_norm, which is what the noise is calibrated to")
    S = check_real(clip_norm, "clip_norm", low=0.0, low_open=True)
    dlt = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    placement = noise or ("local" if privacy_unit == "record" else "central")
    if privacy_unit == "record" and placement == "central":
        raise ValueError("privacy_unit='record' cannot take noise='central': only a client can clip each of "
                         "its records' gradients, and a server that noises the sum has seen it un-noised. "
                         "Use noise='local' (DP-SGD on each client) or 'distributed' (each client's "
                         "share of the noise, over secure aggregation)")
    name = repr(aggregator) if is_sum else getattr(aggregator, "__name__", type(aggregator).__name__)
    if placement in ("central", "distributed") and not is_sum:
        raise ValueError(f"noise={placement!r} is calibrated to the sensitivity S of a sum of clipped "
                         f"updates; {name} is not a sum, so its sensitivity is not S. Use noise='local' "
                         f"(each update noised before {name}) or a mean aggregator")
    if placement == "distributed" and not aggregator.secure:
        raise ValueError("noise='distributed' protects only when the server cannot see the individual "
                         "updates, each carrying only its share of the noise: use aggregator=fl.secure_mean")
    if placement in ("central", "distributed") and privacy_unit == "client":
        if average == "weights":
            raise ValueError(f"average='weights' cannot be combined with noise={placement!r}: weighting by "
                             f"n_k scales a client's clipped update beyond S; DP-FedAvg divides the noisy "
                             f"sum by the fixed expected number of clients C·K (McMahan et al. 2018)")
        average = "fixed"
    if placement == "distributed" and privacy_unit == "record":
        if average == "weights":
            raise ValueError("average='weights' cannot be combined with record-level distributed noise: the "
                             "noisy sum of clipped gradients is divided by the fixed expected batch q Σ n_k")
        average = "fixed"
    return _Privacy(privacy_unit, placement, S, z, dlt), average or "weights"


def _is_top_k(compress: Any) -> bool:
    from . import compress as compression

    function = getattr(compress, "func", compress)   # a functools.partial of sparsify_top_k counts too
    return function is compression.sparsify_top_k or bool(getattr(compress, "sparse", False))


def fedavg(model: nn.Module, clients: Sequence[tuple[Any, Any]], *, rounds: int,
           clients_per_round: int | None = None, local_epochs: int = 1, batch_size: int | None = None,
           lr: float = 0.1, momentum: float = 0.0, mu: float = 0.0,
           aggregator: Callable[..., np.ndarray] | None = None,
           clip_norm: float | None = None, noise_multiplier: float | None = None, delta: float = 1e-5,
           noise: str | None = None, privacy_unit: str = "client", average: str | None = None,
           compress: Callable[[np.ndarray], tuple[np.ndarray, int]] | None = None,
           loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
           eval_data: tuple[Any, Any] | None = None, rng: RNG = None, progress: bool | None = None,
           accountant: accounting.PrivacyAccountant | None = None, label: str = "fl.fedavg") -> FedAvgResult:
    """Federated averaging (McMahan et al. 2017) of ``model`` over ``clients``; the model is not changed.

    Each round is built from pieces, in this order: local training (plain SGD, or DP-SGD on each
    client for record-level DP) → ``compress`` → clipping to ``clip_norm`` → (``noise="local"``:
    each client noises its own update; ``"distributed"``: each adds its share of the noise) →
    summation by the ``aggregator`` (in the clear, or by secure aggregation) → (``"central"``:
    the server noises the sum) → averaging, by the weights n_k or by the fixed expected number
    of clients C·K. Robust aggregators (median, trimmed mean) replace the sum and the averaging.

    Parameters
    ----------
    model
        The global model to start from (copied).
    clients
        K pairs (X_k, y_k), each with at least one sample.
    rounds
        Communication rounds, at least 1.
    clients_per_round
        C·K, the clients sampled (without replacement) each round; ``None`` means all K.
        With central or distributed noise each client joins each round independently with
        probability C·K / K instead (Poisson sampling, what the accountant assumes).
    local_epochs, batch_size
        E and B of each client's local SGD; ``batch_size=None`` is full batch (B = ∞).
        FedSGD is E = 1, B = ∞.
    lr, momentum, mu
        The local optimiser: SGD with step size ``lr`` and heavy-ball ``momentum`` (as
        ``torch.optim.SGD``; each client starts every round at zero velocity), and FedProx's
        proximal weight μ (0: plain FedAvg).
    aggregator
        :data:`weighted_mean` (default), :data:`secure_mean` (the same over secure aggregation),
        :func:`coordinate_median`, :func:`trimmed_mean`, or any
        ``f(updates (K, P), weights (K,), client ids (K,)) -> (P,)``.
    clip_norm, noise_multiplier, delta
        DP: each update (client level) or each record's gradient (record level) is clipped to
        L2 norm ≤ S = ``clip_norm`` and Gaussian noise of standard deviation σS is added,
        σ = ``noise_multiplier``; ε is reported at ``delta``.
    noise
        Where the noise goes: ``"central"`` (the server adds N(0, σ²S²) to the sum; McMahan et al.
        2018), ``"distributed"`` (each of the m clients of a round adds N(0, σ²S²/m) before secure
        aggregation, so the server never sees an un-noised sum; needs :data:`secure_mean`), or
        ``"local"`` (each client's update is itself DP against the server). Default: central for
        client-level DP, local for record-level. Record level with ``"distributed"`` is DP-SGD
        across the parties (cross-silo): each round every selected client sends the sum of its
        clipped record gradients at the global model over a Poisson sample of its records at the
        pooled rate q = B / Σ n_k (B is the expected batch of the whole federation) plus
        N(0, σ²S²/m); secure aggregation sums them, and the server takes one step of size ``lr``
        on the sum divided by the expected batch q Σ n_k (needs ``local_epochs=1``, no momentum,
        μ or compression).
    privacy_unit
        ``"client"`` (a client's whole dataset is protected) or ``"record"`` (one record:
        each client runs DP-SGD with Poisson sampling at rate B/n_k).
    average
        ``"weights"`` (Σ n_k Δ_k / Σ n_k, the default without DP) or ``"fixed"`` (divide by C·K;
        the only choice with central or distributed noise).
    compress
        ``f(updates (K, P)) -> (decoded updates, bytes per client)``, e.g. from ``leptonkit.compress``.
        Top-k sparsification cannot run over secure aggregation (the kept indices differ by client,
        so masked sparse vectors do not sum, and the indices themselves leak). Over secure
        aggregation each client sends 8 bytes per parameter (an element of Z_2^64), and a round
        with fewer than 3 clients adds nothing but its central noise (two clients would each
        learn the other's update from the sum).
    loss_fn
        Per-sample loss ``f(output, target) -> (batch,)``; default cross-entropy.
    eval_data
        (X, y) to evaluate the global model on after each round; default the union of the clients.
    progress
        ``None`` (the default): a bar over the rounds once the run has taken 2 s; ``True`` at
        once; ``False`` never (``leptonkit._progress``).
    accountant, label
        A :class:`~leptonkit.accounting.PrivacyAccountant`: the run's cost is checked before
        training and booked after it; a refused or failed run spends nothing.

    Returns
    -------
    FedAvgResult
        ``epsilon`` is the run's ε at ``delta`` for its privacy unit, from the accountant that fits
        its noise: central and distributed noise, a Poisson-subsampled Gaussian over ``rounds``
        (q = C·K/K, Opacus's RDP); local client-level noise, a Gaussian with sensitivity 2S (any
        two datasets of a client) in every round, with no credit for sampling (the server knows
        who took part); record level, DP-SGD's subsampled Gaussian on the client whose records
        are least protected, assuming it takes part in every round (with distributed noise, one
        step per round at the pooled rate q = B / Σ n_k).

    Raises
    ------
    ValueError, TypeError
        For rounds < 1, clients_per_round outside [1, K], an empty client, lr or μ out of
        range, noise without a clip norm, a model with buffers (BatchNorm), or pieces that
        cannot be combined (the message says why).

    Example
    -------
    DP-FedAvg over secure aggregation: ten clients, the server sees only masked updates and
    a noised sum.

    >>> from leptonkit import datasets, models
    >>> X, _, y, _ = datasets.digits()
    >>> clients = [(X[k::10], y[k::10]) for k in range(10)]
    >>> result = fedavg(models.mlp(64, 10), clients, rounds=2, aggregator=secure_mean, clip_norm=1.0,
    ...                 noise_multiplier=1.0, delta=1e-5, rng=0)
    >>> round(result.epsilon, 2), result.noise, result.privacy_unit
    (7.08, 'central', 'client')
    """
    data, rounds, per_round, (X_eval, y_eval) = _federation(model, clients, rounds, clients_per_round,
                                                            eval_data)
    K = len(data)
    _check_fit(model, data, (X_eval, y_eval), classification=loss_fn is None)
    local_epochs = check_int(local_epochs, "local_epochs", low=1, high=10_000)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", low=1)
    lr = check_real(lr, "lr", low=0.0, low_open=True)
    mu = check_real(mu, "mu", low=0.0)
    momentum = check_real(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    progress = _progress.check_progress(progress)
    if clip_norm is not None:
        clip_norm = check_real(clip_norm, "clip_norm", low=0.0, low_open=True)
    aggregator = weighted_mean if aggregator is None else aggregator
    if not callable(aggregator):
        raise TypeError(f"aggregator must be callable, got {type(aggregator).__name__}")
    if compress is not None and not callable(compress):
        raise TypeError(f"compress must be callable or None, got {type(compress).__name__}")
    privacy, average = _privacy_plan(noise_multiplier=noise_multiplier, clip_norm=clip_norm, noise=noise,
                                     privacy_unit=privacy_unit, delta=delta, aggregator=aggregator,
                                     average=average, accountant=accountant)
    secure_summation = isinstance(aggregator, MeanOfSum) and aggregator.secure
    if privacy is not None and privacy.unit == "record" and privacy.noise == "distributed":
        _check_one_step_rounds(local_epochs, momentum, mu, compress)
    if secure_summation and compress is not None and _is_top_k(compress):
        raise ValueError("top-k sparsification cannot run over secure aggregation: each client keeps "
                         "different indices, so masked sparse vectors do not sum, and the indices "
                         "themselves reveal where each update is large. Use compress.quantize_stochastic")
    sizes = np.array([len(X) for X, _ in data])
    cost = None if privacy is None else _privacy_cost(privacy, sizes, rounds, per_round, K, local_epochs,
                                                      batch_size)
    with accounting.charge(accountant, cost, label=label) if cost is not None else nullcontext():
        result = _fedavg(model, data, sizes, rounds=rounds, per_round=per_round, local_epochs=local_epochs,
                         batch_size=batch_size, lr=lr, momentum=momentum, mu=mu, aggregator=aggregator,
                         clip_norm=clip_norm, privacy=privacy, average=average, compress=compress,
                         loss_fn=_cross_entropy if loss_fn is None else loss_fn,
                         evaluation=(X_eval, y_eval), rng=rng, progress=progress)
    if privacy is not None:
        result.epsilon, result.delta = cost.epsilon, privacy.delta
        result.noise, result.privacy_unit = privacy.noise, privacy.unit
    return result


def _check_one_step_rounds(local_epochs: int, momentum: float, mu: float, compress: Any) -> None:
    """Record-level distributed noise is DP-SGD across the parties: one noisy step a round, nothing local."""
    why = ("record-level distributed noise takes one DP-SGD step per round across all parties (each sends "
           "its sum of clipped record gradients plus its share of the noise, over secure aggregation); a "
           "second local step would start from a model noised by that share alone, which is not DP")
    if local_epochs != 1:
        raise ValueError(f"local_epochs must be 1 with privacy_unit='record' and noise='distributed', got "
                         f"{local_epochs}: {why}")
    if momentum or mu:
        raise ValueError(f"momentum and mu must be 0 with privacy_unit='record' and noise='distributed' "
                         f"(got momentum={momentum}, mu={mu}): {why}")
    if compress is not None:
        raise ValueError("compress is not supported with privacy_unit='record' and noise='distributed': the "
                         "noise is calibrated to the clipped sum each party sends, which compression changes")


def _privacy_cost(privacy: _Privacy, sizes: np.ndarray, rounds: int, per_round: int, K: int, epochs: int,
                  batch_size: int | None) -> accounting.PrivacyCost:
    """What a DP run costs its privacy unit, with the accountant that fits where the noise goes."""
    z, dlt = privacy.noise_multiplier, privacy.delta
    if privacy.unit == "record":
        rates = np.ones(len(sizes)) if batch_size is None else np.minimum(1.0, batch_size / sizes)
        if privacy.noise == "distributed":   # one step a round; a record joins it with probability B / Σ n_k
            candidates = {(_pooled_rate(batch_size, sizes), rounds)}
        else:
            candidates = {(float(q), rounds * epochs * max(1, round(1 / q))) for q in rates}
    elif privacy.noise == "local":   # any two datasets of a client: sensitivity 2S; no sampling credit
        z, candidates = z / 2, {(1.0, rounds)}
    else:
        candidates = {(per_round / K, rounds)}
    costs = []
    for q, steps in sorted(candidates):
        eps = (accounting.dpsgd_epsilon(noise_multiplier=z, sample_rate=q, steps=steps, delta=dlt)
               if z > 0 else math.inf)
        costs.append(accounting.PrivacyCost.gaussian(z, sample_rate=q, steps=steps, epsilon=eps, delta=dlt))
    return max(costs, key=lambda c: c.epsilon)


def _fedavg(model: nn.Module, data: list, sizes: np.ndarray, *, rounds: int, per_round: int,
            local_epochs: int, batch_size: int | None, lr: float, momentum: float, mu: float,
            aggregator: Callable, clip_norm: float | None, privacy: _Privacy | None, average: str,
            compress: Callable | None, loss_fn: Callable, evaluation: tuple, rng: RNG,
            progress: bool | None) -> FedAvgResult:
    K = len(data)
    X_eval, y_eval = evaluation
    generator = as_generator(rng)
    torch_generator = torch.Generator().manual_seed(int(generator.integers(2**63)))
    poisson = privacy is not None and privacy.noise in ("central", "distributed")
    central = privacy is not None and privacy.noise == "central"
    record_level = privacy is not None and privacy.unit == "record"
    is_sum = isinstance(aggregator, MeanOfSum)
    secure_summation = is_sum and aggregator.secure

    global_model = copy.deepcopy(model)
    names = [name for name, _ in global_model.named_parameters()]
    shapes = [p.shape for p in global_model.parameters()]
    n_max = int(sizes.max())
    X_all = torch.zeros((K, n_max, *data[0][0].shape[1:]), dtype=data[0][0].dtype)
    y_all = torch.zeros((K, n_max), dtype=torch.long)
    for k, (X, y) in enumerate(data):
        X_all[k, :len(X)], y_all[k, :len(y)] = X, y

    def forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(global_model, params, (x,))

    flat = torch.cat([p.detach().reshape(-1) for p in global_model.parameters()])
    n_params = flat.numel()
    history = []
    for round_ in _progress.bar(range(1, rounds + 1), desc="FedAvg", progress=progress):
        if poisson:
            selected = np.flatnonzero(generator.random(K) < per_round / K)
        else:
            selected = np.sort(generator.choice(K, size=per_round, replace=False))
        m = len(selected)
        bytes_up = 0
        total = torch.zeros(n_params)   # what the round adds to the global model, before averaging
        denominator = float(per_round)
        if m and record_level and privacy.noise == "distributed":
            q = _pooled_rate(batch_size, sizes)
            sums = _clipped_gradient_sums(forward, flat, names, shapes, X_all[selected], y_all[selected],
                                          sizes[selected], q, privacy.clip_norm, loss_fn, generator)
            share = privacy.noise_multiplier * privacy.clip_norm / math.sqrt(m)
            updates = sums + share * torch.randn(sums.shape, generator=torch_generator).double().numpy()
            bytes_up = m * n_params * (RING_BYTES if secure_summation else BYTES_PER_PARAMETER)
            if not (secure_summation and m < 3):
                expected = q * float(sizes[selected].sum())
                summed = aggregator.summation(updates, np.ones(m))
                total = torch.as_tensor(-lr * summed / expected, dtype=torch.float32)
        elif m:
            trainer = _local_dpsgd if record_level else _local_training
            local = trainer(forward, flat, names, shapes, X_all[selected], y_all[selected], sizes[selected],
                            local_epochs, batch_size, lr, momentum, mu, loss_fn, generator,
                            privacy=privacy, noise_generator=torch_generator)
            updates = (local - flat).numpy().astype(np.float64)
            per_client_bytes = n_params * BYTES_PER_PARAMETER
            if compress is not None:
                updates, per_client_bytes = compress(updates)
            if clip_norm is not None and not record_level:   # record level clipped each gradient already
                norms = np.linalg.norm(updates, axis=1, keepdims=True)
                updates = updates * np.minimum(1.0, clip_norm / np.maximum(norms, 1e-12))
            if privacy is not None and privacy.unit == "client" and privacy.noise in ("local", "distributed"):
                share = privacy.noise_multiplier * privacy.clip_norm
                share = share if privacy.noise == "local" else share / math.sqrt(m)
                draws = torch.randn((m, n_params), generator=torch_generator).double().numpy()
                updates = updates + share * draws
            if secure_summation:
                per_client_bytes = n_params * RING_BYTES
            bytes_up = m * int(per_client_bytes)
            weights = sizes[selected].astype(np.float64) if average == "weights" else np.ones(m)
            if not is_sum:
                aggregate = aggregator(updates, weights, selected)
            elif secure_summation and m < 3:   # too few for secure aggregation: the round adds nothing
                aggregate = None
            else:
                summed = aggregator.summation(updates, weights)
                denominator = float(weights.sum()) if average == "weights" else denominator
                aggregate = summed if central else summed / denominator
            if aggregate is not None:
                total = torch.as_tensor(aggregate, dtype=torch.float32)
        if central:
            sigma = privacy.noise_multiplier * privacy.clip_norm
            noise = torch.randn(n_params, generator=torch_generator) * sigma
            total = (total + noise) / denominator   # fixed denominator: the expected C·K (McMahan 2018)
        flat = flat + total
        _load(global_model, flat)
        with torch.no_grad():
            output = global_model(X_eval)
            loss = float(loss_fn(output, y_eval).mean())
            correct = (output.argmax(1) == y_eval).float() if output.ndim == 2 else torch.full((1,), math.nan)
            accuracy = float(correct.mean())
        history.append({"round": round_, "accuracy": accuracy, "loss": loss, "clients": m,
                        "bytes_up": bytes_up, "bytes_down": m * n_params * BYTES_PER_PARAMETER})
    return FedAvgResult(model=global_model, history=history)


def _load(model: nn.Module, flat: torch.Tensor) -> None:
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(flat, model.parameters())


def _local_training(forward: Callable, flat: torch.Tensor, names: list[str], shapes: list[torch.Size],
                    X: torch.Tensor, y: torch.Tensor, sizes: np.ndarray, epochs: int, batch_size: int | None,
                    lr: float, momentum: float, mu: float, loss_fn: Callable,
                    generator: np.random.Generator, **_: Any) -> torch.Tensor:
    """Every selected client's E epochs of SGD at once: returns their final parameters, (clients, P)."""
    K = len(sizes)
    batch = int(sizes.max()) if batch_size is None else batch_size
    indices = torch.from_numpy(_batch_indices(sizes, epochs, batch, generator))
    stacked = flat.repeat(K, 1).requires_grad_(True)
    start = flat.detach()
    rows = torch.arange(K)[:, None]
    splits = [math.prod(s) for s in shapes]
    velocity = torch.zeros_like(start).repeat(K, 1)
    for step in range(indices.shape[1]):
        idx = indices[:, step]                                 # (K, B), −1 = padding
        mask = (idx >= 0).float()
        active = mask.sum(1) > 0                               # clients whose epochs are not over
        safe = idx.clamp(min=0)
        params = {name: chunk.reshape(K, *shape)
                  for name, chunk, shape in zip(names, stacked.split(splits, dim=1), shapes, strict=True)}
        output = vmap(forward)(params, X[rows, safe])          # (K, B, classes)
        per_sample = loss_fn(output.flatten(0, 1), y[rows, safe].flatten()).reshape(K, batch)
        losses = (per_sample * mask).sum(1) / mask.sum(1).clamp(min=1)
        if mu:
            losses = losses + mu / 2 * (stacked - start).pow(2).sum(1)
        grad, = torch.autograd.grad(losses.sum(), stacked)
        with torch.no_grad():
            velocity = momentum * velocity + grad              # torch.optim.SGD's rule (dampening 0)
            stacked -= lr * velocity * active[:, None]
    return stacked.detach()


def _local_dpsgd(forward: Callable, flat: torch.Tensor, names: list[str], shapes: list[torch.Size],
                 X: torch.Tensor, y: torch.Tensor, sizes: np.ndarray, epochs: int, batch_size: int | None,
                 lr: float, momentum: float, mu: float, loss_fn: Callable, generator: np.random.Generator, *,
                 privacy: _Privacy, noise_generator: torch.Generator) -> torch.Tensor:
    """Every selected client's E epochs of DP-SGD at once (record-level DP), as ``dpsgd.train`` does:

    each record joins each step with probability q_k = B/n_k (Poisson), its gradient is clipped
    to C, N(0, σ²C²) is added to the sum, which is divided by the expected batch size q_k·n_k;
    ⌊1/q_k⌉ steps make an epoch. Returns the clients' final parameters, (clients, P).
    """
    K, n_max = len(sizes), X.shape[1]
    rates = np.ones(K) if batch_size is None else np.minimum(1.0, batch_size / sizes)
    steps = epochs * np.maximum(1, np.round(1 / rates)).astype(int)
    valid = np.arange(n_max)[None, :] < sizes[:, None]
    expected = torch.as_tensor(rates * sizes, dtype=torch.float32)[:, None]
    splits = [math.prod(s) for s in shapes]
    C, sigma = privacy.clip_norm, privacy.noise_multiplier

    def loss_of_one(p: torch.Tensor, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        params = {name: chunk.reshape(shape)
                  for name, chunk, shape in zip(names, p.split(splits), shapes, strict=True)}
        return loss_fn(forward(params, x.unsqueeze(0)), target.unsqueeze(0)).sum()

    per_sample = vmap(vmap(torch.func.grad(loss_of_one), in_dims=(None, 0, 0)))   # (K, n, P)
    stacked, start = flat.repeat(K, 1), flat.detach()
    velocity = torch.zeros_like(stacked)
    for step in range(int(steps.max())):
        active = torch.as_tensor(step < steps)
        take = torch.as_tensor((generator.random((K, n_max)) < rates[:, None]) & valid, dtype=torch.float32)
        grads = per_sample(stacked, X, y)
        factor = (C / (grads.norm(dim=2) + 1e-6)).clamp(max=1.0) * take
        noisy = torch.einsum("kn,knp->kp", factor, grads) \
            + sigma * C * torch.randn(stacked.shape, generator=noise_generator)
        gradient = noisy / expected + (mu * (stacked - start) if mu else 0.0)
        velocity = momentum * velocity + gradient
        stacked = stacked - lr * velocity * active[:, None]
    return stacked.detach()


def _pooled_rate(batch_size: int | None, sizes: np.ndarray) -> float:
    """DP-SGD across parties samples every record at one rate q = B / Σ n_k (1 for B = ∞)."""
    return 1.0 if batch_size is None else min(1.0, batch_size / float(sizes.sum()))


def _clipped_gradient_sums(forward: Callable, flat: torch.Tensor, names: list[str], shapes: list[torch.Size],
                           X: torch.Tensor, y: torch.Tensor, sizes: np.ndarray, rate: float, C: float,
                           loss_fn: Callable, generator: np.random.Generator) -> np.ndarray:
    """(clients, P): each client's sum of per-record gradients at the global model, each clipped to
    L2 norm C, over a Poisson sample of its records at ``rate`` — its part of one DP-SGD step."""
    K, n_max = len(sizes), X.shape[1]
    take = (generator.random((K, n_max)) < rate) & (np.arange(n_max)[None, :] < sizes[:, None])
    splits = [math.prod(s) for s in shapes]

    def loss_of_one(p: torch.Tensor, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        params = {name: chunk.reshape(shape)
                  for name, chunk, shape in zip(names, p.split(splits), shapes, strict=True)}
        return loss_fn(forward(params, x.unsqueeze(0)), target.unsqueeze(0)).sum()

    per_record = vmap(torch.func.grad(loss_of_one), in_dims=(None, 0, 0))
    clients, rows = (torch.as_tensor(i) for i in np.nonzero(take))   # every party's sample in one batch
    sums = torch.zeros((K, flat.numel()), dtype=torch.float64)
    if len(rows):
        grads = per_record(flat, X[clients, rows], y[clients, rows])
        factor = (C / (grads.norm(dim=1) + 1e-6)).clamp(max=1.0)
        sums.index_add_(0, clients, (factor[:, None] * grads).double())
    return sums.numpy()


def fedavg_on_partition(model: nn.Module, X: Any, y: Any, *, n_clients: int, alpha: float | None = None,
                        partition_rng: RNG = 0, **kwargs: Any) -> FedAvgResult:
    """:func:`partition` (X, y) among ``n_clients``, then :func:`fedavg` on those clients (``kwargs``)."""
    as_tensors(X, y)   # one record per label, numeric and finite, before anything is split
    X, y = np.asarray(X), np.asarray(y)
    parts = partition(y, n_clients, alpha=alpha, rng=partition_rng)
    return fedavg(model, [(X[p], y[p]) for p in parts], **kwargs)


def rounds_to_accuracy(history: Sequence[dict], target: float) -> int | None:
    """The first round whose accuracy reaches ``target`` (``None`` if none does)."""
    target = check_real(target, "target", low=0.0, high=1.0)
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence) \
            or not all(isinstance(h, dict) and {"round", "accuracy"} <= set(h) for h in history):
        raise TypeError("history must be a list of per-round dicts with 'round' and 'accuracy' "
                        "(FedAvgResult.history)")
    return next((h["round"] for h in history if h["accuracy"] >= target), None)


# --- Flower -------------------------------------------------------------------------------------
#
# One Flower app, two engines. `flower_client_app` and `flower_server_app` build the ClientApp and
# the ServerApp; `flower_app/` (the app `flwr run` ships to a SuperLink and its SuperNodes) builds
# them with data from each SuperNode's own partition, and `run_on_flower` builds the very same apps
# with in-memory clients for Flower's simulation engine.

FLOWER_NOISE = ("none", "central", "local")
FLOWER_DEFAULTS: dict[str, Any] = {
    "num-server-rounds": 3, "fraction-train": 1.0, "local-epochs": 1, "batch-size": 0, "lr": 0.1,
    "clip-norm": 0.0, "noise": "none", "noise-multiplier": 0.0, "secure-aggregation": False,
    "num-shares": 3, "reconstruction-threshold": 2, "max-weight": 1000.0, "min-available-nodes": 3,
    "round-timeout": 120.0, "seed": 0,
}


@dataclass(frozen=True)
class _FlowerSettings:
    """A Flower run's options, read from its run config (hyphenated keys, as Flower's TOML has them)."""

    rounds: int
    fraction: float                 # C
    local_epochs: int               # E
    batch_size: int | None          # B; None is B = ∞ (run config: 0)
    lr: float
    clip_norm: float | None         # S; None: no clipping (run config: 0)
    noise: str                      # none, central (the server, after the sum) or local (each client)
    noise_multiplier: float         # z
    secure: bool                    # SecAgg+ (Bell et al. 2020) for the sum
    num_shares: int
    reconstruction_threshold: int
    max_weight: float
    nodes: int                      # K: the SuperNodes the run waits for
    timeout: float                  # seconds a round waits for replies
    seed: int

    @property
    def per_round(self) -> int:     # C·K, as Flower's FedAvg samples it: max(⌊C·K⌋, 1)
        return max(1, int(self.nodes * self.fraction))


def _flower_settings(config: Any) -> _FlowerSettings:
    """Check a run config (``FLOWER_DEFAULTS`` fill what it leaves out); errors name the run-config key."""
    merged = {**FLOWER_DEFAULTS, **dict(config)}
    noise = merged["noise"]
    if noise not in FLOWER_NOISE:
        raise ValueError(f"noise must be one of {FLOWER_NOISE}, got {noise!r}")
    if not isinstance(merged["secure-aggregation"], bool):
        raise TypeError(f"secure-aggregation must be true or false, got {merged['secure-aggregation']!r}")
    batch = check_int(merged["batch-size"], "batch-size", low=0)
    clip = check_real(merged["clip-norm"], "clip-norm", low=0.0)
    z = check_real(merged["noise-multiplier"], "noise-multiplier", low=0.0)
    if noise != "none" and not (clip > 0 and z > 0):
        raise ValueError(f"noise={noise!r} needs clip-norm > 0 and noise-multiplier > 0: the Gaussian noise "
                         f"σ = z·S is calibrated to updates clipped to L2 norm S")
    nodes = check_int(merged["min-available-nodes"], "min-available-nodes", low=1)
    shares = check_int(merged["num-shares"], "num-shares", low=2)
    settings = _FlowerSettings(
        rounds=check_int(merged["num-server-rounds"], "num-server-rounds", low=1, high=MAX_ROUNDS),
        fraction=check_real(merged["fraction-train"], "fraction-train", low=0.0, high=1.0, low_open=True),
        local_epochs=check_int(merged["local-epochs"], "local-epochs", low=1, high=10_000),
        batch_size=batch or None, lr=check_real(merged["lr"], "lr", low=0.0, low_open=True),
        clip_norm=clip or None, noise=noise, noise_multiplier=z, secure=merged["secure-aggregation"],
        num_shares=shares,
        reconstruction_threshold=check_int(merged["reconstruction-threshold"], "reconstruction-threshold",
                                           low=1, high=shares),
        max_weight=check_real(merged["max-weight"], "max-weight", low=0.0, low_open=True),
        nodes=nodes, timeout=check_real(merged["round-timeout"], "round-timeout", low=0.0, low_open=True),
        seed=check_int(merged["seed"], "seed", low=0))
    if settings.secure and settings.per_round < 3:
        raise ValueError(f"secure-aggregation needs at least 3 clients a round (C·K = {settings.per_round}): "
                         f"with two, each learns the other's update from the sum")
    return settings


def _flower_local_update(model: nn.Module, X: torch.Tensor, y: torch.Tensor, settings: _FlowerSettings,
                         partition_id: int, server_round: int) -> list[np.ndarray]:
    """One client's round: this module's local training (E epochs of SGD, batch B), its update clipped
    to S, and with ``noise="local"`` its own N(0, z²S²) noise: :func:`fedavg` of this one client."""
    local = settings.noise == "local"
    trained = fedavg(model, [(X, y)], rounds=1, local_epochs=settings.local_epochs,
                     batch_size=settings.batch_size, lr=settings.lr, clip_norm=settings.clip_norm,
                     noise_multiplier=settings.noise_multiplier if local else None,
                     noise="local" if local else None,
                     rng=settings.seed + 7919 * partition_id + server_round, progress=False)
    return get_weights(trained.model)


def flower_client_app(make_model: Callable[[Any], nn.Module],
                      load_data: Callable[[Any], tuple[Any, Any]], *, run_config: Any = None) -> Any:
    """Flower's ``ClientApp`` whose training is this module's local training (:func:`flower_train`).

    Parameters
    ----------
    make_model
        ``f(run_config) -> nn.Module``: the model architecture (the weights come from the server).
    load_data
        ``f(context) -> (X, y)``: this SuperNode's own data, e.g. its partition
        (``context.node_config["partition-id"]`` of ``"num-partitions"``).
    run_config
        Options that take the place of the run's own ``context.run_config`` (the simulation
        engine's ``run_simulation`` has none); keys as in :data:`FLOWER_DEFAULTS`.

    Returns
    -------
    flwr.clientapp.ClientApp
        Its ``@app.train()`` handler answers Flower's Message API; SecAgg+ messages go through
        Flower's ``secaggplus_mod`` first. ``flower_app/leptonkit_flower/client_app.py`` builds the
        same app with the imports deferred, so that SecAgg+'s key-exchange stages start no torch.
    """
    from flwr.clientapp import ClientApp

    if not callable(make_model) or not callable(load_data):
        raise TypeError("make_model and load_data must be callable")
    app = ClientApp()

    @app.train(mods=[_secaggplus_when_asked])
    def train(msg: Any, context: Any) -> Any:
        return flower_train(msg, context, make_model=make_model, load_data=load_data, run_config=run_config)

    return app


def _secaggplus_when_asked(msg: Any, context: Any, call_next: Callable) -> Any:
    """A Flower mod: ``secaggplus_mod`` on the messages of a SecAgg+ run, the handler on the others."""
    from flwr.client.mod import secaggplus_mod
    from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS

    if RECORD_KEY_CONFIGS in msg.content.config_records:
        return secaggplus_mod(msg, context, call_next)
    return call_next(msg, context)


def flower_train(msg: Any, context: Any, *, make_model: Callable[[Any], nn.Module],
                 load_data: Callable[[Any], tuple[Any, Any]], run_config: Any = None) -> Any:
    """A ``ClientApp``'s train handler: the global weights in, this client's locally trained weights out.

    Message API: ``msg.content["arrays"]`` (an ``ArrayRecord``) and ``["config"]["server-round"]``
    in; ``ArrayRecord`` and ``MetricRecord({"num-examples": n_k})`` out (weight 1 with central
    noise: DP-FedAvg divides by the fixed C·K, McMahan et al. 2018). Flower 1.42's
    ``secaggplus_mod`` speaks the older ``FitIns``/``FitRes`` layout, so a SecAgg+ message is read
    and answered in that layout (``flwr.compat``).
    """
    from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
    from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.compat.common import recorddict_compat as compat

    config = dict(context.run_config) if run_config is None else dict(run_config)
    settings = _flower_settings(config)
    X, y = as_tensors(*load_data(context))
    partition_id = int(context.node_config.get("partition-id", 0))
    legacy = "fitins.parameters" in msg.content.array_records
    if legacy:
        fitins = compat.recorddict_to_fitins(msg.content, keep_input=True)
        weights = parameters_to_ndarrays(fitins.parameters)
        server_round = int(fitins.config["server-round"])
    else:
        weights = msg.content["arrays"].to_numpy_ndarrays()
        server_round = int(msg.content["config"]["server-round"])
    model = make_model(config)
    set_weights(model, weights)
    updated = _flower_local_update(model, X, y, settings, partition_id, server_round)
    weight = 1 if settings.noise == "central" else len(X)
    if legacy:
        fitres = FitRes(status=Status(Code.OK, ""), parameters=ndarrays_to_parameters(updated),
                        num_examples=weight, metrics={})
        return Message(compat.fitres_to_recorddict(fitres, keep_input=False), reply_to=msg)
    content = RecordDict({"arrays": ArrayRecord(updated), "metrics": MetricRecord({"num-examples": weight})})
    return Message(content, reply_to=msg)


def flower_server_app(make_model: Callable[[Any], nn.Module], *,
                      evaluate: Callable[[nn.Module, Any], dict] | None = None,
                      on_round: Callable[[list[np.ndarray], list[dict], Any], None] | None = None,
                      run_config: Any = None) -> Any:
    """Flower's ``ServerApp``: FedAvg (McMahan et al. 2017) with C·K clients a round, from the run config.

    Plain runs use the Message API's ``flwr.serverapp.strategy.FedAvg`` (weighted by n_k), wrapped
    in Flower's ``DifferentialPrivacyClientSideFixedClipping`` for central noise (clients clip, the
    server adds N(0, z²S²/m²) to the mean of m updates, each weighted 1). With
    ``secure-aggregation`` the sum runs through Flower's ``SecAggPlusWorkflow``; in Flower 1.42 that
    workflow drives only the older strategy API (``flwr.server.strategy.FedAvg`` in a
    ``DefaultWorkflow`` with a ``LegacyContext``), so that path uses it.

    Parameters
    ----------
    make_model
        ``f(run_config) -> nn.Module``: the initial global model.
    evaluate
        ``f(model, run_config) -> {"accuracy": …, "loss": …}``: the server's own evaluation of the
        global model after each round (``None``: no evaluation).
    on_round
        ``f(weights, history, run_config)`` after each round: the global weights (as
        :func:`get_weights`) and the history so far, one dict a round with ``round``, ``clients``
        (replies aggregated) and what ``evaluate`` returned.
    run_config
        Options in place of the run's ``context.run_config`` (keys as in :data:`FLOWER_DEFAULTS`).
    """
    from flwr.serverapp import ServerApp

    if not callable(make_model):
        raise TypeError("make_model must be callable")
    app = ServerApp()

    @app.main()
    def main(grid: Any, context: Any) -> None:
        config = dict(context.run_config) if run_config is None else dict(run_config)
        settings = _flower_settings(config)
        model = make_model(config)
        history: list[dict] = []

        def after_round(server_round: int, weights: list[np.ndarray], clients: int) -> None:
            row: dict[str, Any] = {"round": server_round, "clients": clients}
            if evaluate is not None:
                evaluated = copy.deepcopy(model)
                set_weights(evaluated, weights)
                row.update(evaluate(evaluated, config))
            history.append(row)
            if on_round is not None:
                on_round(weights, history, config)

        if settings.secure:
            _flower_secaggplus(grid, context, model, settings, after_round)
        else:
            _flower_fedavg(grid, model, settings, after_round)

    return app


def _flower_fedavg(grid: Any, model: nn.Module, settings: _FlowerSettings, after_round: Callable) -> None:
    from flwr.app import ArrayRecord
    from flwr.serverapp.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg

    counted: dict[int, int] = {}

    class CountingFedAvg(FedAvg):   # Flower's FedAvg, remembering how many replies each round summed
        def aggregate_train(self, server_round: int, replies: Any) -> Any:
            replies = list(replies)
            counted[server_round] = sum(not r.has_error() for r in replies)
            return super().aggregate_train(server_round, replies)

    fedavg_strategy = CountingFedAvg(fraction_train=settings.fraction, fraction_evaluate=0.0,
                                     min_train_nodes=settings.per_round, min_available_nodes=settings.nodes)
    strategy: Any = fedavg_strategy
    if settings.noise == "central":
        strategy = DifferentialPrivacyClientSideFixedClipping(
            fedavg_strategy, noise_multiplier=settings.noise_multiplier, clipping_norm=settings.clip_norm,
            num_sampled_clients=settings.per_round)

    def evaluate_fn(server_round: int, arrays: Any) -> None:
        if server_round > 0:
            after_round(server_round, arrays.to_numpy_ndarrays(), counted.get(server_round, 0))

    strategy.start(grid=grid, initial_arrays=ArrayRecord(get_weights(model)), num_rounds=settings.rounds,
                   timeout=settings.timeout, evaluate_fn=evaluate_fn)


def _flower_secaggplus(grid: Any, context: Any, model: nn.Module, settings: _FlowerSettings,
                       after_round: Callable) -> None:
    from flwr.common import ndarrays_to_parameters
    from flwr.server import LegacyContext, ServerConfig
    from flwr.server.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg
    from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow

    replies: dict[int, int] = {}

    class CountingFedAvg(FedAvg):
        def aggregate_fit(self, server_round: int, results: Any, failures: Any) -> Any:
            replies[server_round] = len(results)
            return super().aggregate_fit(server_round, results, failures)

    def evaluate_fn(server_round: int, weights: list[np.ndarray], _config: Any) -> None:
        if server_round > 0:
            after_round(server_round, [np.asarray(w) for w in weights], replies.get(server_round, 0))

    strategy: Any = CountingFedAvg(fraction_fit=settings.fraction, fraction_evaluate=0.0,
                                   min_fit_clients=settings.per_round, min_available_clients=settings.nodes,
                                   initial_parameters=ndarrays_to_parameters(get_weights(model)),
                                   evaluate_fn=evaluate_fn,
                                   on_fit_config_fn=lambda server_round: {"server-round": server_round})
    if settings.noise == "central":
        strategy = DifferentialPrivacyClientSideFixedClipping(
            strategy, noise_multiplier=settings.noise_multiplier, clipping_norm=settings.clip_norm,
            num_sampled_clients=settings.per_round)
    legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=settings.rounds),
                           strategy=strategy)
    # SecAgg+ quantises w·(n_k/max_weight); with central noise every client's weight is 1, and
    # max_weight = 1 keeps the full 2²² levels for it
    max_weight = 1.0 if settings.noise == "central" else settings.max_weight
    secagg = SecAggPlusWorkflow(num_shares=settings.num_shares,
                                reconstruction_threshold=settings.reconstruction_threshold,
                                max_weight=max_weight, timeout=settings.timeout)
    DefaultWorkflow(fit_workflow=secagg)(grid, legacy)


def run_on_flower(model: nn.Module, clients: Sequence[tuple[Any, Any]], *, rounds: int,
                  clients_per_round: int | None = None, local_epochs: int = 1, batch_size: int | None = None,
                  lr: float = 0.1, clip_norm: float | None = None, noise_multiplier: float | None = None,
                  noise: str | None = None, secure_aggregation: bool = False,
                  eval_data: tuple[Any, Any] | None = None, rng: RNG = 0) -> FedAvgResult:
    """The same FedAvg clients on Flower's simulation engine (``pip install -e '.[scale]'``).

    It runs the kit's Flower app — :func:`flower_server_app` and :func:`flower_client_app`, the
    ones ``flower_app/`` ships to a SuperLink and its SuperNodes — with ``clients`` in memory, one
    virtual SuperNode each: Flower's ``FedAvg`` with C·K = ``clients_per_round`` clients a round,
    each training E = ``local_epochs`` epochs of SGD with B = ``batch_size`` (``None``: B = ∞) and
    step ``lr``; ``clip_norm`` S clips each update (on the client). ``noise="central"``: Flower's
    ``DifferentialPrivacyClientSideFixedClipping`` averages the m = C·K clipped updates with equal
    weights and adds N(0, (zS/m)²), z = ``noise_multiplier`` — :func:`fedavg`'s central DP-FedAvg,
    except that Flower samples exactly C·K clients a round (:func:`fedavg`: Poisson) and that no ε
    is computed here; ``"local"``: each client adds N(0, z²S²) to its clipped update, as in
    :func:`fedavg`. ``secure_aggregation`` sums with Flower's SecAgg+, whose quantisation moves
    each weight by at most K·(16/2²²)/Σ_k(n_k/max_weight) a round (max_weight 1000).
    Across machines, the same app runs under a SuperLink and SuperNodes (see the README).
    ``history`` has one dict a round: ``round``, ``clients`` (updates summed), ``accuracy``, ``loss``.
    """
    import flwr  # noqa: F401  (the `scale` extra)
    from flwr.simulation import run_simulation

    data, rounds, per_round, (X_eval, y_eval) = _federation(model, clients, rounds, clients_per_round,
                                                            eval_data)
    K = len(data)
    if noise_multiplier is not None and noise is None:
        noise = "central"
    if noise is not None and noise not in FLOWER_NOISE[1:]:
        raise ValueError(f"noise must be one of {FLOWER_NOISE[1:]} or None, got {noise!r}")
    if noise is not None and (clip_norm is None or noise_multiplier is None):
        raise ValueError(f"noise={noise!r} needs clip_norm and noise_multiplier: the Gaussian noise "
                         f"σ = noise_multiplier·clip_norm is calibrated to updates clipped to clip_norm")
    if not isinstance(secure_aggregation, bool):
        raise TypeError(f"secure_aggregation must be True or False, got {secure_aggregation!r}")
    run_config = {
        "num-server-rounds": rounds, "fraction-train": per_round / K,
        "local-epochs": check_int(local_epochs, "local_epochs", low=1, high=10_000),
        "batch-size": 0 if batch_size is None else check_int(batch_size, "batch_size", low=1),
        "lr": check_real(lr, "lr", low=0.0, low_open=True),
        "clip-norm": 0.0 if clip_norm is None else check_real(clip_norm, "clip_norm", low=0.0, low_open=True),
        "noise": "none" if noise is None else noise,
        "noise-multiplier": 0.0 if noise_multiplier is None else noise_multiplier,
        "secure-aggregation": secure_aggregation, "min-available-nodes": K,
        "seed": int(as_generator(rng).integers(2**31)),
    }
    settings = _flower_settings(run_config)   # every refusal before Flower starts
    if settings.per_round != per_round:       # ⌊K·(C·K/K)⌋ can round below C·K in floating point
        run_config["fraction-train"] = (per_round + 0.5) / K
    final: dict[str, Any] = {}

    def make_model(_config: Any) -> nn.Module:
        return copy.deepcopy(model)

    def load_data(context: Any) -> tuple[torch.Tensor, torch.Tensor]:
        return data[int(context.node_config["partition-id"])]

    def evaluate(evaluated: nn.Module, _config: Any) -> dict:
        with torch.no_grad():
            output = evaluated(X_eval)
            loss = float(nn.functional.cross_entropy(output, y_eval))
            accuracy = float((output.argmax(1) == y_eval).float().mean())
        return {"accuracy": accuracy, "loss": loss}

    def on_round(weights: list[np.ndarray], history: list[dict], _config: Any) -> None:
        final["weights"], final["history"] = weights, history

    run_simulation(server_app=flower_server_app(make_model, evaluate=evaluate, on_round=on_round,
                                                run_config=run_config),
                   client_app=flower_client_app(make_model, load_data, run_config=run_config),
                   num_supernodes=K, backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}})
    if "weights" not in final:
        raise RuntimeError("Flower's simulation finished without a round (see Flower's log above)")
    trained = copy.deepcopy(model)
    set_weights(trained, final["weights"])
    return FedAvgResult(model=trained, history=list(final["history"]))
