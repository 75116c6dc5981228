"""Attacks, each beside the defence that stops it: the kit shows the threat before the cure.

- The **differencing attack**: two counts that differ by one person reveal that person
  (stopped by ``dp``'s noise: success is bounded by e^ε/(1 + e^ε)).
- The **floating-point attack** (Mironov, CCS 2012) on textbook Laplace sampling: the doubles
  a naive sampler can output depend on the true value, so an output can rule a value out
  (stopped by ``dp.laplace_mechanism``, which releases only multiples of a grid).
- **Membership inference** by loss threshold (Yeom et al. 2018): a model's loss is lower on the
  records it was trained on — and **LiRA** (Carlini et al. 2022), which asks, per record, whether
  the model's confidence looks like that of shadow models trained with the record or without
  it, and finds members at false-positive rates where the loss attack finds none (both stopped
  by ``dpsgd``: each record's influence is clipped and noised).
- The **linkage attack** (Sweeney 2002): a table without names joined to a public register on
  (postcode, birth date, sex) names most of its rows (blunted by ``masking.mondrian``'s
  k-anonymity: at best one chance in k — while DP is what bounds what the table reveals).
- **Gradient inversion** (Zhu et al. 2019): one client's gradient gives its input back (stopped
  by DP noise, or by secure aggregation of many clients, so the server sees only a sum).
- **Model poisoning**: a client sends a scaled, sign-flipped update (resisted by ``fl``'s
  coordinate median and trimmed mean) — and **ALIE** (Baruch et al. 2019), "a little is
  enough": colluding clients send the round's mean shifted by z standard deviations in every
  coordinate, inside the honest spread, which a coordinate median does not resist.

The naive sampler lives here, and only here, under a name that says what it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import dp
from ._checks import RNG, as_generator, check_array, check_bools, check_int, check_real

__all__ = [
    "alie_poisoning",
    "alie_z_max",
    "client_gradient",
    "differencing_attack",
    "differencing_success_rate",
    "dp_guess_bound",
    "floating_point_attack",
    "floating_point_attack_success_rate",
    "gradient_inversion",
    "linkage_attack",
    "lira",
    "logit_confidence",
    "membership_inference_auc",
    "model_poisoning",
    "naive_laplace_insecure",
    "reidentification_tradeoff",
    "tpr_at_fpr",
]

_U_BITS = 53  # the naive sampler's uniform draws are k / 2**53, k = 1 … 2**53
MAX_TRIALS = 10_000_000  # simulated attacks: beyond this a run takes minutes, not seconds


def dp_guess_bound(epsilon: float) -> float:
    """The best probability of guessing one person's secret bit from an ε-DP release: e^ε/(1 + e^ε).

    With even prior odds, no test tells two neighbouring datasets apart more often than this
    (Wasserman & Zhou 2010; Kairouz, Oh & Viswanath 2015).
    """
    return 1.0 / (1.0 + math.exp(-check_real(epsilon, "epsilon", low=0.0, low_open=True)))


# --- differencing -----------------------------------------------------------------------------


def differencing_attack(count_all: float, count_without_target: float) -> bool:
    """Guess the target's secret bit from a count over everyone and one over everyone but them."""
    total = check_real(count_all, "count_all")
    return (total - check_real(count_without_target, "count_without_target")) > 0.5


def differencing_success_rate(bits: np.ndarray, *, epsilon: float | None, trials: int,
                              rng: RNG = None) -> float:
    """How often the differencing attack guesses a random customer's bit right.

    Each trial picks a target from ``bits``, releases the count of ones over everyone and over
    everyone but the target — exactly (``epsilon=None``) or each with ``dp.geometric_mechanism``
    at ``epsilon`` — and runs :func:`differencing_attack`. The two releases together are
    2ε-DP, so the success rate cannot exceed ``dp_guess_bound(2 * epsilon)`` beyond sampling error.
    """
    try:
        bits = np.asarray(bits)
    except ValueError:
        raise ValueError("bits must be a 1-d array of people's 0/1 secrets") from None
    if bits.ndim != 1 or bits.size < 2 or not (bits.dtype == bool or np.isin(bits, (0, 1)).all()):
        raise ValueError("bits must be a 1-d array of at least two people's 0/1 (or boolean) secrets")
    bits = bits.astype(bool)
    if epsilon is not None:
        check_real(epsilon, "epsilon", low=0.0, low_open=True)
    trials = check_int(trials, "trials", low=1, high=MAX_TRIALS)
    generator = as_generator(rng)
    total = int(bits.sum())
    hits = 0
    for target in generator.integers(bits.size, size=trials):
        without = total - int(bits[target])
        if epsilon is None:
            released = (total, without)
        else:
            released = (dp.geometric_mechanism(total, epsilon=epsilon, rng=generator),
                        dp.geometric_mechanism(without, epsilon=epsilon, rng=generator))
        hits += differencing_attack(*released) == bits[target]
    return float(hits / trials)


# --- floating point ---------------------------------------------------------------------------


def naive_laplace_insecure(value: float, *, scale: float, rng: RNG = None) -> float:
    """INSECURE textbook Laplace sampling: ``value ± scale·(−ln U)`` with U a uniform double.

    U takes the values k/2**53; the logarithm and the addition round to doubles, so the set of
    outputs this can produce differs for different ``value``s — which is what
    :func:`floating_point_attack` reads. For the lesson only; use ``dp.laplace_mechanism``.
    """
    value = check_real(value, "value")
    scale = check_real(scale, "scale", low=0.0, low_open=True)
    generator = as_generator(rng)
    u = int(generator.integers(1, 2**_U_BITS + 1)) / 2**_U_BITS
    sign = 1.0 if generator.integers(2) else -1.0
    return value + sign * (scale * -math.log(u))


def floating_point_attack(output: float, *, candidates: tuple[float, ...], scale: float) -> list[float]:
    """The candidate inputs from which :func:`naive_laplace_insecure` could have produced ``output``.

    For each candidate x it inverts the sampler (u ≈ exp(−|output − x|/scale)), then checks the
    few grid values k/2**53 near u for one that reproduces ``output`` bit for bit. A candidate
    with no such k is ruled out with certainty — whatever ε promised.
    """
    scale = check_real(scale, "scale", low=0.0, low_open=True)
    output = check_real(output, "output")
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Iterable):
        raise TypeError(f"candidates must be a collection of numbers, got {type(candidates).__name__}")
    candidates = [check_real(x, "candidates") for x in candidates]
    possible = []
    for x in candidates:
        noise = output - x
        u = math.exp(-abs(noise) / scale)
        # how far the rounding of output and x can move u, in grid steps, with a margin
        width = math.ceil(2**_U_BITS * u * 4 * (math.ulp(output) + math.ulp(x)) / scale) + 2
        centre = round(u * 2**_U_BITS)
        signs = (1.0, -1.0) if noise == 0 else ((1.0,) if noise > 0 else (-1.0,))
        if any(x + sign * (scale * -math.log(k / 2**_U_BITS)) == output
               for k in range(max(centre - width, 1), min(centre + width, 2**_U_BITS) + 1)
               for sign in signs):
            possible.append(x)
    return possible


def floating_point_attack_success_rate(*, epsilon: float, trials: int, sampler: str,
                                       rng: RNG = None) -> dict[str, float]:
    """Guess a secret bit (x = 0 or 1, sensitivity 1) from one Laplace release at ``epsilon``.

    ``sampler`` is ``"naive"`` (:func:`naive_laplace_insecure`) or ``"kit"``
    (``dp.laplace_mechanism``). The attacker runs :func:`floating_point_attack`; when exactly
    one candidate survives it answers that one, otherwise it falls back to the best guess from
    the noise distribution (the nearer candidate). Returns the success rate, the fraction of
    releases where the attack ruled a candidate out, and the DP bound e^ε/(1 + e^ε).
    """
    eps = check_real(epsilon, "epsilon", low=0.0, high=50.0, low_open=True)  # beyond 50: no noise to read
    trials = check_int(trials, "trials", low=1, high=MAX_TRIALS)
    if not isinstance(sampler, str) or sampler not in ("naive", "kit"):
        raise ValueError(f"sampler must be 'naive' or 'kit', got {sampler!r}")
    generator = as_generator(rng)
    scale = 1.0 / eps
    hits = decided = 0
    for secret in generator.integers(2, size=trials).astype(float):
        if sampler == "naive":
            output = naive_laplace_insecure(secret, scale=scale, rng=generator)
        else:
            output = dp.laplace_mechanism(secret, sensitivity=1.0, epsilon=eps, rng=generator)
        possible = floating_point_attack(output, candidates=(0.0, 1.0), scale=scale)
        if len(possible) == 1:
            decided += 1
            guess = possible[0]
        else:
            guess = 1.0 if output > 0.5 else 0.0
        hits += guess == secret
    return {"success_rate": float(hits / trials), "decided_fraction": decided / trials,
            "dp_bound": dp_guess_bound(eps)}


# --- linkage -------------------------------------------------------------------------------------


def linkage_attack(released: pd.DataFrame, register: pd.DataFrame, *, quasi_identifiers: Sequence[str],
                   identity: str = "name") -> pd.DataFrame:
    """Link each released record to the register people it could be (Sweeney 2002).

    A register person is a candidate for a record when they agree on every quasi-identifier: the
    same value, inside a generalised ``pandas.Interval``, or among ``"|"``-joined categories
    (what ``masking.mondrian`` publishes). Returns, per released record, the number of
    ``candidates`` and the attacker's ``guess`` (the candidate's ``identity`` when there is
    exactly one, else None). When the released people are all in the register, the chance of
    naming a record correctly is 1/candidates, so ``(1 / result.candidates).mean()`` is the
    expected re-identification rate.
    """
    columns = _column_names(quasi_identifiers, "quasi_identifiers")
    if not isinstance(identity, str):
        raise TypeError(f"identity must be a column name (str), got {type(identity).__name__}")
    for frame, name in ((released, "released"), (register, "register")):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"unknown columns {missing} in {name}; it has {list(frame.columns)}")
    if identity not in register.columns:
        raise ValueError(f"identity column {identity!r} is not in register")
    if released.empty or register.empty or not columns:
        raise ValueError("released, register and quasi_identifiers must not be empty")
    generalised = released[columns].map(lambda v: isinstance(v, pd.Interval) or
                                        (isinstance(v, str) and "|" in v)).to_numpy().any()
    if not generalised:  # exact values: one join does it
        counts = register.groupby(columns, sort=False)[identity].agg(["size", "first"])
        joined = released[columns].join(counts, on=columns)
        candidates = joined["size"].fillna(0).astype(int)
        return pd.DataFrame({"candidates": candidates,
                             "guess": joined["first"].where(candidates == 1, None)}, index=released.index)
    people = {c: register[c].to_numpy() for c in columns}
    names = register[identity].to_numpy()
    keys = [tuple(row) for row in released[columns].itertuples(index=False, name=None)]
    found: dict[tuple, tuple[int, Any]] = {}
    for key in dict.fromkeys(keys):
        match = np.ones(len(register), dtype=bool)
        for c, value in zip(columns, key, strict=True):
            match &= _matches(people[c], value)
        count = int(match.sum())
        found[key] = (count, names[match.argmax()] if count == 1 else None)
    return pd.DataFrame({"candidates": [found[k][0] for k in keys], "guess": [found[k][1] for k in keys]},
                        index=released.index)


def _matches(column: np.ndarray, value: Any) -> np.ndarray:
    if isinstance(value, pd.Interval):
        left, right = np.asarray(value.left), np.asarray(value.right)
        if np.issubdtype(column.dtype, np.datetime64):
            left, right = np.datetime64(value.left), np.datetime64(value.right)
        return (column >= left) & (column <= right)
    if isinstance(value, str) and "|" in value:
        return np.isin(column, value.split("|"))
    if np.issubdtype(column.dtype, np.datetime64):
        return column == np.datetime64(value)
    return column == value


def reidentification_tradeoff(records: pd.DataFrame, register: pd.DataFrame, *,
                              quasi_identifiers: Sequence[str], ks: Sequence[int],
                              sensitive: str | None = None) -> dict[str, np.ndarray]:
    """Re-identification risk against information loss as ``masking.mondrian``'s k grows.

    For each k: the expected re-identification rate of :func:`linkage_attack` (mean of
    1/candidates), the fraction of records named outright (one candidate), Mondrian's
    information loss and, with ``sensitive``, the l-diversity of the release.
    """
    from . import masking  # the defence measured here lives in masking

    for frame, name in ((records, "records"), (register, "register")):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    quasi_identifiers = _column_names(quasi_identifiers, "quasi_identifiers")
    if sensitive is not None and not isinstance(sensitive, str):
        raise TypeError(f"sensitive must be a column name (str) or None, got {type(sensitive).__name__}")
    ks = _whole_numbers(ks, "ks", low=1, high=len(records))
    rows = {"k": [], "reidentification": [], "unique": [], "information_loss": [], "l_diversity": []}
    for k in ks:
        released, loss = masking.mondrian(records, quasi_identifiers, int(k))
        linked = linkage_attack(released, register, quasi_identifiers=quasi_identifiers)
        candidates = linked["candidates"].clip(lower=1)
        rows["k"].append(int(k))
        rows["reidentification"].append(float((1 / candidates).mean()))
        rows["unique"].append(float((linked["candidates"] == 1).mean()))
        rows["information_loss"].append(loss)
        rows["l_diversity"].append(masking.l_diversity(released, quasi_identifiers, sensitive)
                                   if sensitive else np.nan)
    return {key: np.asarray(value) for key, value in rows.items()}


# --- membership inference -----------------------------------------------------------------------


def membership_inference_auc(model: Any, X_members: Any, y_members: Any, X_nonmembers: Any,
                             y_nonmembers: Any) -> float:
    """AUC of the loss-threshold membership-inference attack (Yeom et al., CSF 2018).

    The attacker scores each record by the model's loss on it and guesses "in the training
    data" below a threshold; the AUC is that guess's success over every threshold: 0.5 is a
    coin flip, 1.0 names every member. ``model`` is a torch classifier returning logits.
    """
    import torch
    from sklearn.metrics import roc_auc_score

    from .models import _logits, as_tensors, check_model

    check_model(model)

    def losses(X: Any, y: Any, names: tuple[str, str]) -> np.ndarray:
        X_t, y_t = as_tensors(X, y, names=names)   # at least one record, one label per record
        with torch.no_grad():
            logits = _logits(model, X_t, y_t, names[0])
            return torch.nn.functional.cross_entropy(logits, y_t, reduction="none").numpy()

    member = losses(X_members, y_members, ("X_members", "y_members"))
    outside = losses(X_nonmembers, y_nonmembers, ("X_nonmembers", "y_nonmembers"))
    labels = np.r_[np.ones(len(member)), np.zeros(len(outside))]
    return float(roc_auc_score(labels, -np.r_[member, outside]))


def logit_confidence(logits: Any, y: Any) -> np.ndarray:
    """log(p / (1 − p)) of the true label's softmax probability p: LiRA's score (Carlini et al. §IV-C).

    ``logits`` has shape (..., n, classes) and ``y`` shape (n,); computed as z_y − logsumexp of
    the other logits, which stays finite where p rounds to 1. The scaling makes a model's scores
    on one record close to Gaussian across shadow models.
    """
    import torch

    z = check_array(logits, "logits")
    y = np.asarray(y) if not isinstance(y, (str, bytes)) and y is not None else np.asarray([], dtype=object)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or len(y) == 0:
        raise TypeError("y must be a 1-d array of class indices (integers)")
    if z.ndim < 2 or z.shape[-2] != len(y) or z.shape[-1] < 2:
        raise ValueError(f"logits must have shape (..., {len(y)}, classes ≥ 2), got {z.shape}")
    if int(y.min()) < 0 or int(y.max()) >= z.shape[-1]:
        raise ValueError(f"y must hold class indices in [0, {z.shape[-1] - 1}]")
    z = torch.as_tensor(z)
    labels = torch.as_tensor(y, dtype=torch.long)
    rows = torch.arange(len(labels))
    true = z[..., rows, labels]
    others = z.clone()
    others[..., rows, labels] = -math.inf
    return (true - torch.logsumexp(others, dim=-1)).numpy()


def lira(target: Any, shadows: Any, shadow_in: Any, *, online: bool = True) -> np.ndarray:
    """LiRA's membership score of every record (higher: more likely a member). Carlini et al. 2022.

    ``target[i]`` is the attacked model's :func:`logit_confidence` on record i; ``shadows[s, i]``
    shadow model s's, and ``shadow_in[s, i]`` whether shadow s trained on record i. Per record,
    the shadows give the mean score of models trained with it (μ_in) and without it (μ_out);
    the variance is one per side, pooled over all records (the paper's choice when shadows
    are few, §VI-B). **Online**: the log-likelihood ratio log N(x; μ_in, σ_in²) − log N(x;
    μ_out, σ_out²). **Offline** (no shadow ever trained on the target's records): how far x
    lies above the out-distribution, (x − μ_out)/σ_out. A record that no shadow saw on one
    side borrows that side's mean shift, averaged over the other records.

    Raises
    ------
    ValueError
        For shapes that do not fit, non-finite scores, or a side (in or out) no shadow covers.
    """
    x = check_array(target, "target", ndim=1)
    if len(x) == 0:
        raise ValueError("target must hold at least one record's score")
    s = check_array(shadows, "shadows", ndim=2)
    if s.shape[1] != len(x):
        raise ValueError(f"shadows must have shape (shadows, {len(x)} records), got {s.shape}")
    inside = check_bools(shadow_in, "shadow_in", shape=s.shape)
    if not isinstance(online, bool):
        raise TypeError(f"online must be True or False, got {type(online).__name__}")
    n_in, n_out = inside.sum(0), (~inside).sum(0)
    if not (n_out.any() and (n_in.any() or not online)):
        raise ValueError("shadow_in leaves one side (in / out) without any shadow model")
    mu_out = np.where(n_out > 0, (s * ~inside).sum(0) / np.maximum(n_out, 1), np.nan)
    var_out = float(np.sum(np.where(inside, 0.0, (s - np.nan_to_num(mu_out)) ** 2)) / max(1, n_out.sum() - 1))
    if not online:
        mu_out = np.where(np.isnan(mu_out), np.nanmean(mu_out), mu_out)
        return (x - mu_out) / math.sqrt(max(var_out, 1e-12))
    mu_in = np.where(n_in > 0, (s * inside).sum(0) / np.maximum(n_in, 1), np.nan)
    shift = np.nanmean(mu_in - mu_out)
    mu_in = np.where(np.isnan(mu_in), mu_out + shift, mu_in)
    mu_out = np.where(np.isnan(mu_out), mu_in - shift, mu_out)
    var_in = float(np.sum(np.where(inside, (s - mu_in) ** 2, 0.0)) / max(1, n_in.sum() - 1))
    var_in, var_out = max(var_in, 1e-12), max(var_out, 1e-12)
    return (-(x - mu_in) ** 2 / (2 * var_in) + (x - mu_out) ** 2 / (2 * var_out)
            - 0.5 * math.log(var_in / var_out))


def tpr_at_fpr(scores: Any, is_member: Any, fpr: float) -> float:
    """The share of members an attack finds while it accuses at most ``fpr`` of the non-members.

    The threshold is the smallest that flags no more than ⌊fpr·(non-members)⌋ of them (ties
    count against the attack), so at an FPR below one non-member the answer is the share of
    members scoring above every non-member. ``scores``: higher means "member".
    """
    s = check_array(scores, "scores", ndim=1)
    if len(s) == 0:
        raise ValueError("scores must hold at least one record's score")
    member = check_bools(is_member, "is_member", shape=s.shape)
    if member.all() or not member.any():
        raise ValueError("is_member must hold both members and non-members")
    fpr = check_real(fpr, "fpr", low=0.0, high=1.0)
    outside = np.sort(s[~member])[::-1]
    allowed = math.floor(fpr * len(outside) + 1e-9)
    threshold = outside[allowed] if allowed < len(outside) else -math.inf
    return float(np.mean(s[member] > threshold))


# --- gradient inversion and poisoning (federated learning) -------------------------------------


def client_gradient(model: Any, X: Any, y: Any) -> list:
    """The gradient a FedSGD client sends: of its mean cross-entropy loss on (X, y), per parameter."""
    import torch

    from .models import _logits, as_tensors, check_model

    check_model(model)
    X_t, y_t = as_tensors(X, y)
    loss = torch.nn.functional.cross_entropy(_logits(model, X_t, y_t), y_t)
    return [g.detach() for g in torch.autograd.grad(loss, list(model.parameters()))]


def gradient_inversion(model: Any, gradient: Sequence, *, n_features: int, steps: int = 100,
                       rng: RNG = 0) -> dict[str, Any]:
    """Deep Leakage from Gradients (Zhu et al., NeurIPS 2019): rebuild a client's input from its gradient.

    The attacker (the server) starts from random noise and adjusts a dummy input until the
    gradient it would produce matches the one received (L-BFGS on the squared distance). The
    label is read off first, as iDLG does (Zhao et al. 2020): for one sample, the gradient of
    the last layer's bias is negative only at the true class.

    Returns ``reconstruction`` (n_features,), ``label``, and ``match`` — the final squared
    gradient distance (near 0 when the attack has found an input that explains the gradient).
    Against a gradient averaged over many records, or noised by DP, no single input explains
    it and the reconstruction is noise.
    """
    import torch

    from .models import check_model

    check_model(model)
    n_features = check_int(n_features, "n_features", low=1, high=1_000_000)
    steps = check_int(steps, "steps", low=1, high=100_000)
    params = list(model.parameters())
    target = _gradient(gradient, params)
    label = int(torch.argmin(target[-1]))          # the last layer's bias gradient: softmax − one-hot
    seed = int(as_generator(rng).integers(2**31))
    dummy = torch.randn(1, n_features, generator=torch.Generator().manual_seed(seed)).requires_grad_(True)
    optimiser = torch.optim.LBFGS([dummy], lr=1.0, max_iter=steps, history_size=50,
                                  line_search_fn="strong_wolfe")
    y = torch.tensor([label])
    try:
        model(dummy)
    except (RuntimeError, IndexError) as error:
        raise ValueError(f"n_features does not fit the model: {str(error).splitlines()[0][:120]}") from None

    def distance() -> torch.Tensor:
        loss = torch.nn.functional.cross_entropy(model(dummy), y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        return sum(((g - t) ** 2).sum() for g, t in zip(grads, target, strict=True))

    def closure() -> torch.Tensor:   # only the dummy input gets a gradient: the model is untouched
        d = distance()
        dummy.grad, = torch.autograd.grad(d, dummy)
        return d.detach()

    optimiser.step(closure)
    final = float(distance().detach())
    return {"reconstruction": dummy.detach().reshape(-1).numpy(), "label": label, "match": final}


def model_poisoning(aggregator: Any, *, attackers: Sequence[int], scale: float = -10.0) -> Any:
    """Wrap an ``fl`` aggregator so that the ``attackers`` send their update times ``scale``.

    A scaled, sign-flipped update (a simple model-poisoning attack) drags a plain mean wherever
    the attacker likes; a coordinate median or a trimmed mean ignores a minority of such clients.
    """
    if not callable(aggregator):
        raise TypeError(f"aggregator must be callable, got {type(aggregator).__name__}")
    attackers = frozenset(_whole_numbers(attackers, "attackers", low=0))
    scale = check_real(scale, "scale")

    def poisoned(updates: np.ndarray, weights: np.ndarray, clients: np.ndarray) -> np.ndarray:
        bad = np.isin(clients, list(attackers))
        updates = updates.copy()
        updates[bad] *= scale
        return aggregator(updates, weights, clients)

    return poisoned


def alie_z_max(n_clients: int, n_attackers: int) -> float:
    """ALIE's z_max (Baruch et al. 2019, section 3): how many standard deviations the lie may shift.

    With n clients of which m collude, s = ⌊n/2 + 1⌋ − m honest clients must side with the
    attackers for them to hold a majority; z_max = Φ⁻¹((n − s)/n) is the shift beyond which
    fewer than s honest values lie, under a normal model of the honest values. With s ≤ 0 the
    attackers are a majority already and s is taken as 1.

    Raises
    ------
    TypeError, ValueError
        If ``n_clients`` < 2 or ``n_attackers`` is outside [0, n_clients].
    """
    from statistics import NormalDist

    n = check_int(n_clients, "n_clients", low=2, high=10**9)
    m = check_int(n_attackers, "n_attackers", low=0, high=n)
    s = max(math.floor(n / 2 + 1) - m, 1)
    return float(NormalDist().inv_cdf((n - s) / n))


def alie_poisoning(aggregator: Any, *, attackers: Sequence[int], z: float | None = None) -> Any:
    """Wrap an ``fl`` aggregator so that the ``attackers`` send ALIE's lie (Baruch et al. 2019).

    Each round, every attacker among the round's clients replaces its update by μ − zσ, where μ
    and σ are the per-coordinate mean and standard deviation of that round's honest updates
    (what the paper assumes the colluders know or estimate; this is its strongest form). Each
    coordinate of the lie lies within the honest spread, so the coordinate median and the
    trimmed mean keep it; but all attackers push every coordinate the same way, so the
    aggregate moves a fraction of σ against the honest direction every round. ``z`` defaults
    to :func:`alie_z_max` for the round's n and m. A plain mean moves only by (m/n)·zσ.

    Threat model: the attackers collude and see the round's honest updates (or their
    statistics); the server sees every update (no secure aggregation) and applies ``aggregator``.

    Raises
    ------
    TypeError, ValueError
        If ``aggregator`` is not callable, ``attackers`` is not a collection of client ids ≥ 0,
        or ``z`` is not a finite number in [0, 100].
    """
    if not callable(aggregator):
        raise TypeError(f"aggregator must be callable, got {type(aggregator).__name__}")
    attackers = frozenset(_whole_numbers(attackers, "attackers", low=0))
    if z is not None:
        z = check_real(z, "z", low=0.0, high=100.0)

    def alie(updates: np.ndarray, weights: np.ndarray, clients: np.ndarray) -> np.ndarray:
        bad = np.isin(clients, list(attackers))
        m = int(bad.sum())
        if m == 0 or len(clients) < 2:
            return aggregator(updates, weights, clients)
        shift = alie_z_max(len(clients), m) if z is None else z
        lie = updates.mean(axis=0) - shift * updates.std(axis=0)
        updates = updates.copy()
        updates[bad] = lie
        return aggregator(updates, weights, clients)

    alie.__name__ = f"alie({getattr(aggregator, '__name__', type(aggregator).__name__)})"
    return alie


# --- argument checks shared by the attacks ---------------------------------------------------


def _column_names(columns: Any, name: str) -> list[str]:
    if isinstance(columns, str) or not isinstance(columns, Iterable):
        raise TypeError(f"{name} must be a list of column names, got {type(columns).__name__}")
    columns = list(columns)
    if not all(isinstance(c, str) for c in columns):
        raise TypeError(f"{name} must hold column names (str)")
    return columns


def _whole_numbers(values: Any, name: str, *, low: int, high: int | None = None) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a collection of whole numbers, got {type(values).__name__}")
    return [check_int(v, name, low=low, high=high) for v in values]


def _gradient(gradient: Any, params: list) -> list:
    """The received gradient as float tensors, one per parameter of the model, of the same shapes."""
    import torch

    if not isinstance(gradient, Sequence) or isinstance(gradient, (str, bytes)) \
            or len(gradient) != len(params):
        raise TypeError(f"gradient must be one array per model parameter ({len(params)})")
    target = []
    for g, p in zip(gradient, params, strict=True):
        try:
            t = torch.as_tensor(np.asarray(g, dtype=np.float32))
        except (TypeError, ValueError, OverflowError):
            raise TypeError("gradient must hold numeric arrays") from None
        if t.shape != p.shape or not torch.isfinite(t).all():
            raise ValueError(f"gradient must match the model's parameter shapes and be finite; got "
                             f"{tuple(t.shape)} for a parameter of shape {tuple(p.shape)}")
        target.append(t)
    return target
