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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap
from tqdm.auto import tqdm

from . import accounting, mpc
from ._checks import as_generator, check_int, check_real

__all__ = ["FedAvgResult", "coordinate_median", "fedavg", "fedavg_on_partition", "get_weights",
           "partition", "rounds_to_accuracy", "run_on_flower", "secure_mean", "set_weights", "trimmed_mean",
           "weighted_mean"]

BYTES_PER_PARAMETER = 4  # float32 on the wire


@dataclass
class FedAvgResult:
    """What :func:`fedavg` returns: the trained global model (a copy) and per-round history.

    ``history[r]`` has ``round``, ``accuracy``, ``loss`` (of the global model on the evaluation
    data), ``clients`` (how many trained), ``bytes_up`` and ``bytes_down`` (that round's traffic).
    ``epsilon`` is the client-level ε of DP-FedAvg (``None`` without DP).
    """

    model: nn.Module
    history: list[dict] = field(default_factory=list)
    epsilon: float | None = None
    delta: float | None = None


# --- partitions ----------------------------------------------------------------------------------


def partition(y: Any, n_clients: int, *, alpha: float | None = None, rng: Any = None,
              max_tries: int = 100) -> list[np.ndarray]:
    """Split sample indices among ``n_clients``: IID, or with Dirichlet(α) label skew.

    Parameters
    ----------
    y
        The labels, one per sample.
    n_clients
        K, between 1 and the number of samples.
    alpha
        ``None`` for IID (a random permutation cut into sizes that differ by at most one);
        otherwise the concentration α > 0 of a Dirichlet over clients drawn for each class —
        small α gives each client few classes (Hsu et al. 2019). Draws with an empty client are
        redrawn up to ``max_tries`` times.

    Returns
    -------
    list of numpy.ndarray
        One sorted index array per client; every sample appears exactly once.
    """
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"y must be a non-empty 1-d array of labels, got shape {labels.shape}")
    n_clients = check_int(n_clients, "n_clients", low=1, high=labels.size)
    generator = as_generator(rng)
    if alpha is None:
        return [np.sort(part) for part in np.array_split(generator.permutation(labels.size), n_clients)]
    alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
    classes = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    for _ in range(check_int(max_tries, "max_tries", low=1)):
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
                     f"clients without an empty client in {max_tries} tries: raise alpha or lower n_clients")


# --- parameters as one flat vector --------------------------------------------------------------


def get_weights(model: nn.Module) -> list[np.ndarray]:
    """The model's parameters as numpy arrays, in ``named_parameters`` order (Flower's format)."""
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


def set_weights(model: nn.Module, weights: Sequence[np.ndarray]) -> None:
    """Load arrays from :func:`get_weights` back into ``model``, in place."""
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights, strict=True):
            p.copy_(torch.as_tensor(np.asarray(w), dtype=p.dtype))


# --- aggregators: updates (K, P), weights (K,), client ids (K,) -> aggregate update (P,) -----------


def weighted_mean(updates: np.ndarray, weights: np.ndarray, clients: np.ndarray) -> np.ndarray:
    """FedAvg's aggregate: Σ n_k Δ_k / Σ n_k."""
    return weights @ updates / weights.sum()


def coordinate_median(updates: np.ndarray, weights: np.ndarray, clients: np.ndarray) -> np.ndarray:
    """The coordinate-wise median of the updates (Yin et al. 2018): robust to a minority of attackers."""
    return np.median(updates, axis=0)


def trimmed_mean(updates: np.ndarray, weights: np.ndarray, clients: np.ndarray, *,
                 beta: float = 0.2) -> np.ndarray:
    """Per coordinate, drop the ⌊βK⌋ largest and smallest values and average the rest (Yin et al. 2018)."""
    k = int(check_real(beta, "beta", low=0.0, high=0.5, high_open=True) * len(updates))
    ordered = np.sort(updates, axis=0)
    return ordered[k:len(updates) - k].mean(axis=0)


def secure_mean(updates: np.ndarray, weights: np.ndarray, clients: np.ndarray) -> np.ndarray:
    """The weighted mean computed with secure aggregation (``mpc.secure_aggregate``): the server
    sees only masked vectors and the sum Σ n_k Δ_k. Needs at least 3 clients per round."""
    return mpc.secure_aggregate(updates * weights[:, None]).total / weights.sum()


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
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"clients[{k}] must be an (X, y) pair")
        X = torch.as_tensor(np.asarray(pair[0]), dtype=torch.float32)
        y = torch.as_tensor(np.asarray(pair[1])).long()
        if len(X) == 0:
            raise ValueError(f"clients[{k}] is empty: every client needs at least one sample")
        if len(y) != len(X):
            raise ValueError(f"clients[{k}]: X has {len(X)} samples but y has {len(y)}")
        if not torch.isfinite(X).all():
            raise ValueError(f"clients[{k}]: X must be finite (no NaN or infinity)")
        data.append((X, y))
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
    rounds = check_int(rounds, "rounds", low=1)
    per_round = check_int(len(data) if clients_per_round is None else clients_per_round, "clients_per_round",
                          low=1, high=len(data))
    if eval_data is None:
        evaluation = torch.cat([X for X, _ in data]), torch.cat([y for _, y in data])
    else:
        evaluation = (torch.as_tensor(np.asarray(eval_data[0]), dtype=torch.float32),
                      torch.as_tensor(np.asarray(eval_data[1])).long())
    return data, rounds, per_round, evaluation


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


def fedavg(model: nn.Module, clients: Sequence[tuple[Any, Any]], *, rounds: int,
           clients_per_round: int | None = None, local_epochs: int = 1, batch_size: int | None = None,
           lr: float = 0.1, momentum: float = 0.0, mu: float = 0.0,
           aggregator: Callable[..., np.ndarray] | None = None,
           clip_norm: float | None = None, noise_multiplier: float | None = None, delta: float = 1e-5,
           compress: Callable[[np.ndarray], tuple[np.ndarray, int]] | None = None,
           loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
           eval_data: tuple[Any, Any] | None = None, rng: Any = None,
           progress: bool = True) -> FedAvgResult:
    """Federated averaging (McMahan et al. 2017) of ``model`` over ``clients``; the model is not changed.

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
        With DP each client joins each round independently with probability C·K / K instead
        (Poisson sampling, what the accountant assumes).
    local_epochs, batch_size
        E and B of each client's local SGD; ``batch_size=None`` is full batch (B = ∞).
        FedSGD is E = 1, B = ∞.
    lr, momentum, mu
        The local optimiser: SGD with step size ``lr`` and heavy-ball ``momentum`` (as
        ``torch.optim.SGD``; each client starts every round at zero velocity), and FedProx's
        proximal weight μ (0: plain FedAvg).
    aggregator
        ``f(updates (K, P), weights n_k (K,), client ids (K,)) -> (P,)`` combining the clients'
        updates Δ_k = w_k − w; default :func:`weighted_mean`.
    clip_norm, noise_multiplier, delta
        DP-FedAvg (McMahan et al. 2018): each update is clipped to L2 norm ≤ S = ``clip_norm``,
        the server adds N(0, (σS)²) to their sum and divides by the expected number of clients
        C·K; ε (client-level, at ``delta``) comes from Opacus's RDP accountant via ``accounting``.
    compress
        ``f(updates (K, P)) -> (decoded updates, bytes per client)``, e.g. from ``leptonkit.compress``.
    loss_fn
        Per-sample loss ``f(output, target) -> (batch,)``; default cross-entropy.
    eval_data
        (X, y) to evaluate the global model on after each round; default the union of the clients.

    Raises
    ------
    ValueError, TypeError
        For rounds < 1, clients_per_round outside [1, K], an empty client, lr or μ out of
        range, noise without a clip norm, or a model with buffers (BatchNorm).
    """
    data, rounds, per_round, (X_eval, y_eval) = _federation(model, clients, rounds, clients_per_round,
                                                            eval_data)
    K = len(data)
    local_epochs = check_int(local_epochs, "local_epochs", low=1)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", low=1)
    lr = check_real(lr, "lr", low=0.0, low_open=True)
    mu = check_real(mu, "mu", low=0.0)
    momentum = check_real(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    dp = noise_multiplier is not None
    if dp:
        noise_multiplier = check_real(noise_multiplier, "noise_multiplier", low=0.0)
        if clip_norm is None:
            raise ValueError("noise_multiplier needs clip_norm: DP-FedAvg clips each update to "
                             "L2 norm ≤ clip_norm")
        delta = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    if clip_norm is not None:
        clip_norm = check_real(clip_norm, "clip_norm", low=0.0, low_open=True)
    if dp and aggregator is not None:
        raise ValueError("aggregator cannot be combined with DP-FedAvg, which sums the clipped updates "
                         "and adds noise")
    aggregator = weighted_mean if aggregator is None else aggregator
    loss_fn = _cross_entropy if loss_fn is None else loss_fn
    generator = as_generator(rng)
    torch_generator = torch.Generator().manual_seed(int(generator.integers(2**63)))

    global_model = copy.deepcopy(model)
    names = [name for name, _ in global_model.named_parameters()]
    shapes = [p.shape for p in global_model.parameters()]
    sizes = np.array([len(X) for X, _ in data])
    n_max = int(sizes.max())
    X_all = torch.zeros((K, n_max, *data[0][0].shape[1:]))
    y_all = torch.zeros((K, n_max), dtype=torch.long)
    for k, (X, y) in enumerate(data):
        X_all[k, :len(X)], y_all[k, :len(y)] = X, y

    def forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(global_model, params, (x,))

    flat = torch.cat([p.detach().reshape(-1) for p in global_model.parameters()])
    n_params = flat.numel()
    history = []
    for round_ in tqdm(range(1, rounds + 1), desc="FedAvg", disable=not progress, leave=False):
        if dp:
            selected = np.flatnonzero(generator.random(K) < per_round / K)
        else:
            selected = np.sort(generator.choice(K, size=per_round, replace=False))
        update = torch.zeros(n_params)
        bytes_up = 0
        if len(selected):
            local = _local_training(forward, flat, names, shapes, X_all[selected], y_all[selected],
                                    sizes[selected], local_epochs, batch_size, lr, momentum, mu, loss_fn,
                                    generator)
            updates = (local - flat).numpy().astype(np.float64)
            if clip_norm is not None:
                norms = np.linalg.norm(updates, axis=1, keepdims=True)
                updates = updates * np.minimum(1.0, clip_norm / np.maximum(norms, 1e-12))
            per_client_bytes = n_params * BYTES_PER_PARAMETER
            if compress is not None:
                updates, per_client_bytes = compress(updates)
            bytes_up = len(selected) * int(per_client_bytes)
            aggregate = (updates.sum(axis=0) if dp   # DP-FedAvg: the clipped sum, noised below
                         else aggregator(updates, sizes[selected].astype(np.float64), selected))
            update = torch.as_tensor(aggregate, dtype=torch.float32)
        if dp:
            noise = torch.randn(n_params, generator=torch_generator) * noise_multiplier * clip_norm
            update = (update + noise) / per_round     # fixed denominator: the expected C·K (McMahan 2018)
        flat = flat + update
        _load(global_model, flat)
        with torch.no_grad():
            output = global_model(X_eval)
            loss = float(loss_fn(output, y_eval).mean())
            correct = (output.argmax(1) == y_eval).float() if output.ndim == 2 else torch.full((1,), math.nan)
            accuracy = float(correct.mean())
        history.append({"round": round_, "accuracy": accuracy, "loss": loss, "clients": len(selected),
                        "bytes_up": bytes_up, "bytes_down": len(selected) * n_params * BYTES_PER_PARAMETER})
    epsilon = None
    if dp:
        epsilon = (accounting.dpsgd_epsilon(noise_multiplier=noise_multiplier, sample_rate=per_round / K,
                                            steps=rounds, delta=delta) if noise_multiplier > 0 else math.inf)
    return FedAvgResult(model=global_model, history=history, epsilon=epsilon, delta=delta if dp else None)


def _load(model: nn.Module, flat: torch.Tensor) -> None:
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(flat, model.parameters())


def _local_training(forward: Callable, flat: torch.Tensor, names: list[str], shapes: list[torch.Size],
                    X: torch.Tensor, y: torch.Tensor, sizes: np.ndarray, epochs: int, batch_size: int | None,
                    lr: float, momentum: float, mu: float, loss_fn: Callable,
                    generator: np.random.Generator) -> torch.Tensor:
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


def fedavg_on_partition(model: nn.Module, X: Any, y: Any, *, n_clients: int, alpha: float | None = None,
                        partition_rng: Any = 0, **kwargs: Any) -> FedAvgResult:
    """:func:`partition` (X, y) among ``n_clients``, then :func:`fedavg` on those clients (``kwargs``)."""
    X, y = np.asarray(X), np.asarray(y)
    parts = partition(y, n_clients, alpha=alpha, rng=partition_rng)
    return fedavg(model, [(X[p], y[p]) for p in parts], **kwargs)


def rounds_to_accuracy(history: Sequence[dict], target: float) -> int | None:
    """The first round whose accuracy reaches ``target`` (``None`` if none does)."""
    target = check_real(target, "target", low=0.0, high=1.0)
    return next((h["round"] for h in history if h["accuracy"] >= target), None)


# --- Flower -------------------------------------------------------------------------------------


def run_on_flower(model: nn.Module, clients: Sequence[tuple[Any, Any]], *, rounds: int,
                  clients_per_round: int | None = None, local_epochs: int = 1, batch_size: int | None = None,
                  lr: float = 0.1, eval_data: tuple[Any, Any] | None = None, rng: Any = 0) -> FedAvgResult:
    """The same FedAvg clients on Flower's simulation engine (``pip install -e '.[scale]'``).

    Each client is a Flower ``ClientApp`` that loads the global weights and runs this module's
    local training (E epochs of SGD with batch size B, one client at a time); the ``ServerApp``
    uses Flower's own ``FedAvg`` strategy (weighted by n_k) with C·K clients per round.
    Across machines, the same apps run under a SuperLink and SuperNodes (see the README).
    """
    import flwr  # noqa: F401  (the `scale` extra)
    from flwr.client import ClientApp, NumPyClient
    from flwr.common import Context, ndarrays_to_parameters
    from flwr.server import ServerApp, ServerAppComponents, ServerConfig
    from flwr.server.strategy import FedAvg
    from flwr.simulation import run_simulation

    data, rounds, per_round, (X_eval, y_eval) = _federation(model, clients, rounds, clients_per_round,
                                                            eval_data)
    K = len(data)
    seed = int(as_generator(rng).integers(2**31))
    history: list[dict] = []
    final: dict[str, list[np.ndarray]] = {}

    class Client(NumPyClient):
        def __init__(self, k: int):
            self.k = k

        def fit(self, parameters, config):
            local = copy.deepcopy(model)
            set_weights(local, parameters)
            trained = fedavg(local, [data[self.k]], rounds=1, local_epochs=local_epochs,
                             batch_size=batch_size, lr=lr, rng=seed + 7919 * self.k + int(config["round"]),
                             progress=False)
            return get_weights(trained.model), len(data[self.k][0]), {}

    def client_fn(context: Context):
        return Client(int(context.node_config["partition-id"])).to_client()

    def evaluate(server_round, parameters, config):
        if server_round == 0:
            return None
        evaluated = copy.deepcopy(model)
        set_weights(evaluated, parameters)
        final["weights"] = [np.asarray(p) for p in parameters]
        with torch.no_grad():
            output = evaluated(X_eval)
            loss = float(nn.functional.cross_entropy(output, y_eval))
            accuracy = float((output.argmax(1) == y_eval).float().mean())
        history.append({"round": server_round, "accuracy": accuracy, "loss": loss})
        return loss, {"accuracy": accuracy}

    def server_fn(context: Context):
        strategy = FedAvg(fraction_fit=per_round / K, fraction_evaluate=0.0, min_fit_clients=per_round,
                          min_available_clients=K,
                          initial_parameters=ndarrays_to_parameters(get_weights(model)),
                          evaluate_fn=evaluate, on_fit_config_fn=lambda r: {"round": r})
        return ServerAppComponents(strategy=strategy, config=ServerConfig(num_rounds=rounds))

    run_simulation(server_app=ServerApp(server_fn=server_fn), client_app=ClientApp(client_fn=client_fn),
                   num_supernodes=K, backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}})
    trained = copy.deepcopy(model)
    set_weights(trained, final["weights"])
    return FedAvgResult(model=trained, history=history)
