"""Differential privacy: noise mechanisms, their calibration, and the queries built on them.

Neighbouring datasets differ by adding or removing one person's record, so a count has
sensitivity Δ = 1 and a sum of values clipped to [lower, upper] has Δ = max(|lower|, |upper|).
Neighbours: ``accounting`` adds up what many releases spend; ``attacks`` shows what these
mechanisms stop (the differencing attack, the floating-point attack on naive Laplace).

Randomness
----------
Every function takes ``rng``: a ``numpy.random.Generator`` or an int seed makes a lesson
reproducible. With ``rng=None`` the Laplace and geometric mechanisms draw every random integer
from the OS CSPRNG (``secrets``); the Gaussian, exponential and randomized-response mechanisms
use a numpy Generator freshly seeded from the OS (unpredictable seed, not a CSPRNG stream).

References
----------
C. Dwork and A. Roth, *The Algorithmic Foundations of Differential Privacy*, 2014.
B. Balle and Y.-X. Wang, *Improving the Gaussian Mechanism for Differential Privacy:
Analytical Calibration and Optimal Denoising*, ICML 2018.
C. Canonne, G. Kamath and T. Steinke, *The Discrete Gaussian for Differential Privacy*,
NeurIPS 2020 (exact discrete Laplace sampling).
I. Mironov, *On Significance of the Least Significant Bits for Differential Privacy*, CCS 2012.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import optimize, special

from . import accounting
from ._checks import RNG, as_generator, check_int, check_real
from .accounting import PrivacyAccountant, PrivacyCost

__all__ = [
    "dp_count",
    "dp_histogram",
    "dp_mean",
    "dp_sum",
    "exponential_mechanism",
    "exponential_mechanism_probabilities",
    "gaussian_delta",
    "gaussian_epsilon",
    "gaussian_mechanism",
    "gaussian_sigma",
    "geometric_mechanism",
    "laplace_grid",
    "laplace_mechanism",
    "laplace_scale",
    "per_coordinate_noise_std",
    "randomized_response",
    "randomized_response_estimate",
]

GRID_BITS = 10  # the output grid is 2**-10 of the sensitivity: at most 0.1 % more noise


# --- argument checks ----------------------------------------------------------------------


def _epsilon(value: Any, name: str = "epsilon") -> float:
    return check_real(value, name, low=0.0, low_open=True)


def _delta(value: Any) -> float:
    return check_real(value, "delta", low=0.0, high=1.0, low_open=True, high_open=True)


def _sensitivity(value: Any) -> float:
    return check_real(value, "sensitivity", low=0.0, low_open=True)


def _numeric(values: Any, name: str = "values") -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numeric (an array of numbers)") from None
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return arr


def _bounds(lower: Any, upper: Any) -> tuple[float, float]:
    lower, upper = check_real(lower, "lower"), check_real(upper, "upper")
    if lower > upper:
        raise ValueError(f"lower must be <= upper, got lower={lower:g} > upper={upper:g}")
    return lower, upper


def _uniform_below(rng: RNG) -> Callable[[int], int]:
    """A function ``draw(n)`` returning a uniform integer in [0, n): OS CSPRNG when rng is None."""
    if rng is None:
        return secrets.randbelow
    generator = as_generator(rng)
    return lambda n: int(generator.integers(n))


# --- Laplace and geometric (discrete Laplace), sampled exactly -----------------------------


def laplace_scale(sensitivity: float, epsilon: float) -> float:
    """The Laplace mechanism's scale b = Δ/ε: noise with density exp(-|x|/b)/(2b) gives ε-DP."""
    return _sensitivity(sensitivity) / _epsilon(epsilon)


def laplace_grid(sensitivity: float) -> float:
    """The output grid of :func:`laplace_mechanism`: the power of two nearest below Δ/1024."""
    return 2.0 ** (math.floor(math.log2(_sensitivity(sensitivity))) - GRID_BITS)


def laplace_mechanism(value: float | np.ndarray, *, sensitivity: float, epsilon: float,
                      rng: RNG = None, accountant: PrivacyAccountant | None = None,
                      label: str = "laplace_mechanism") -> float | np.ndarray:
    """Release ``value`` with Laplace noise of scale Δ/ε, ε-DP, safe from floating-point attacks.

    Textbook Laplace sampling on doubles leaks the input through the pattern of reachable
    outputs (Mironov 2012; see ``attacks.floating_point_attack``). This implementation follows
    OpenDP's defence: the value is rounded to a grid of spacing g (a power of two,
    :func:`laplace_grid`), integer noise from the discrete Laplace distribution is added in
    grid units with an exact sampler (Canonne, Kamath and Steinke 2020, Algorithm 2: integer
    arithmetic only), and the result is scaled back, which is exact in floating point. Every
    output is a multiple of g, so no output is possible from one input and impossible from
    its neighbour. The rounding can move neighbours up to one grid step further apart, so the
    noise scale is g·(⌊Δ/g⌋ + 1)/ε ≤ (Δ + g)/ε: at most 0.1 % above Δ/ε.

    Parameters
    ----------
    value
        A number or an array; every element gets independent noise.
    sensitivity, epsilon
        Δ > 0 (how much one person can change ``value``, in L1 over all elements) and ε > 0.
    rng
        None (noise from the OS CSPRNG), an int seed or a ``numpy.random.Generator``.
    accountant, label
        A :class:`~leptonkit.accounting.PrivacyAccountant` to check before and book after (with
        ``label``); a scalar is booked as the discrete Laplace it is, an array as an ε-DP release.

    Example
    -------
    >>> laplace_mechanism(42.0, sensitivity=1, epsilon=1.0, rng=0)
    41.73046875
    """
    delta_f, eps = _sensitivity(sensitivity), _epsilon(epsilon)
    arr = _numeric(value, "value")
    grid = laplace_grid(delta_f)
    if np.max(np.abs(arr)) > 2.0**50 * grid:
        raise ValueError(f"value must be at most {2.0**50 * grid:g} in magnitude for sensitivity "
                         f"{delta_f:g} (the output grid must stay exact in floating point)")
    steps = _grid_steps(delta_f)
    cost = (PrivacyCost.discrete_laplace(decay=eps / steps, sensitivity=steps) if arr.size == 1
            else PrivacyCost.pure(eps))
    with accounting.charge(accountant, cost, label=label):
        noise = _discrete_laplace_array(Fraction(steps) / _fraction_at_most(eps), arr.size, rng)
        released = (np.rint(arr / grid).ravel() + noise) * grid
    return float(released[0]) if np.ndim(value) == 0 else released.reshape(arr.shape)


def _grid_steps(sensitivity: float) -> int:
    """Δ in grid units, rounding included: the integer sensitivity of the noise on the grid."""
    return math.floor(sensitivity / laplace_grid(sensitivity)) + 1


def geometric_mechanism(count: int | np.ndarray, *, epsilon: float, sensitivity: int = 1,
                        rng: RNG = None, accountant: PrivacyAccountant | None = None,
                        label: str = "geometric_mechanism") -> int | np.ndarray:
    """Release an integer count with two-sided geometric (discrete Laplace) noise: ε-DP.

    P[noise = k] ∝ exp(-ε|k|/Δ) over the integers (Ghosh, Roughgarden and Sundararajan 2009),
    sampled exactly with integer arithmetic (Canonne, Kamath and Steinke 2020). Outputs are
    integers, so there is nothing for a floating-point attack to read. ``sensitivity`` is the
    L1 sensitivity of the whole array. With ``accountant`` a scalar is booked as the discrete
    Laplace it is, an array as an ε-DP release (``dp_histogram`` books its exact cost).
    """
    eps = _epsilon(epsilon)
    steps = check_int(sensitivity, "sensitivity", low=1)
    arr = np.asarray(count)
    if arr.size == 0:
        raise ValueError("count must not be empty")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"count must be an integer or an integer array, got dtype {arr.dtype}")
    cost = (PrivacyCost.discrete_laplace(decay=eps / steps, sensitivity=steps) if arr.size == 1
            else PrivacyCost.pure(eps))
    with accounting.charge(accountant, cost, label=label):
        released = _geometric(arr, eps, steps, rng)
    return int(released[0]) if arr.ndim == 0 else released.reshape(arr.shape)


def _geometric(arr: np.ndarray, eps: float, steps: int, rng: RNG) -> np.ndarray:
    noise = _discrete_laplace_array(Fraction(steps) / _fraction_at_most(eps), arr.size, rng)
    return arr.ravel().astype(np.int64) + noise


def _fraction_at_most(x: float, max_denominator: int = 2**20) -> Fraction:
    """A rational ≤ x with a small denominator, so that Δ/ε rounds towards more noise."""
    f = Fraction(math.floor(x * max_denominator), max_denominator)
    return f if f > 0 else Fraction(x)


def _discrete_laplace_array(scale: Fraction, size: int, rng: RNG) -> np.ndarray:
    draw = _uniform_below(rng)
    return np.fromiter((_discrete_laplace(scale, draw) for _ in range(size)), dtype=np.int64,
                       count=size)


def _bernoulli_exp_minus(num: int, den: int, draw: Callable[[int], int]) -> bool:
    """Exact Bernoulli(exp(-num/den)) for 0 ≤ num/den ≤ 1 (CKS20, Algorithm 1)."""
    k = 1
    while draw(den * k) < num:  # A ~ Bernoulli(γ/k)
        k += 1
    return k % 2 == 1


def _discrete_laplace(scale: Fraction, draw: Callable[[int], int]) -> int:
    """One exact sample with P[z] ∝ exp(-|z|/scale) (CKS20, Algorithm 2, scale = t/s)."""
    t, s = scale.numerator, scale.denominator
    while True:
        u = draw(t)
        if not _bernoulli_exp_minus(u, t, draw):
            continue
        v = 0
        while _bernoulli_exp_minus(1, 1, draw):
            v += 1
        y = (u + t * v) // s
        negative = draw(2) == 1
        if negative and y == 0:
            continue
        return -y if negative else y


# --- Gaussian -------------------------------------------------------------------------------


def gaussian_delta(*, epsilon: float, sigma: float, sensitivity: float) -> float:
    """The exact δ at which N(0, σ²) noise is (ε, δ)-DP for L2 sensitivity Δ (Balle & Wang, Thm 8).

    δ(ε) = Φ(Δ/2σ − εσ/Δ) − e^ε Φ(−Δ/2σ − εσ/Δ), computed in log space so large ε is safe.
    """
    eps = check_real(epsilon, "epsilon", low=0.0)
    sig = check_real(sigma, "sigma", low=0.0, low_open=True)
    a, b = _sensitivity(sensitivity) / (2 * sig), eps * sig / _sensitivity(sensitivity)
    return float(special.ndtr(a - b) - np.exp(eps + special.log_ndtr(-a - b)))


def gaussian_sigma(*, sensitivity: float, epsilon: float, delta: float,
                   method: str = "analytic") -> float:
    """Noise σ for the Gaussian mechanism to be (ε, δ)-DP at L2 sensitivity Δ.

    ``method="analytic"`` (default): the smallest σ meeting the exact condition of
    :func:`gaussian_delta`, for any ε > 0 (Balle & Wang 2018, Algorithm 1, solved numerically).
    ``method="classic"``: √(2 ln(1.25/δ))·Δ/ε (Dwork & Roth 2014, Theorem A.1), valid only for
    ε < 1 and larger than needed.
    """
    delta_f, eps, d = _sensitivity(sensitivity), _epsilon(epsilon), _delta(delta)
    if method == "classic":
        if eps >= 1:
            raise ValueError(f"epsilon must be in (0, 1) for method='classic' (the bound of Dwork & "
                             f"Roth, Thm A.1, needs ε < 1), got {eps:g}; use method='analytic'")
        return math.sqrt(2 * math.log(1.25 / d)) * delta_f / eps
    if method != "analytic":
        raise ValueError(f"method must be 'analytic' or 'classic', got {method!r}")

    def excess(sig: float) -> float:
        return gaussian_delta(epsilon=eps, sigma=sig, sensitivity=delta_f) - d

    lo, hi = delta_f * 1e-3, delta_f
    while excess(hi) > 0:
        lo, hi = hi, hi * 2
    while excess(lo) <= 0:
        lo /= 2
    sigma = optimize.brentq(excess, lo, hi, xtol=1e-15, rtol=1e-14)
    while excess(sigma) > 0:  # land on the private side of the root
        sigma = math.nextafter(sigma, math.inf)
    return sigma


def gaussian_epsilon(*, sigma: float, sensitivity: float, delta: float) -> float:
    """The smallest ε at which N(0, σ²) noise is (ε, δ)-DP: the inverse of :func:`gaussian_sigma`."""
    sig = check_real(sigma, "sigma", low=0.0, low_open=True)
    delta_f, d = _sensitivity(sensitivity), _delta(delta)

    def excess(eps: float) -> float:
        return gaussian_delta(epsilon=eps, sigma=sig, sensitivity=delta_f) - d

    if excess(0.0) <= 0:
        return 0.0
    hi = 1.0
    while excess(hi) > 0:
        hi *= 2
    eps = optimize.brentq(excess, 0.0, hi, xtol=1e-15, rtol=1e-14)
    while excess(eps) > 0:
        eps = math.nextafter(eps, math.inf)
    return eps


def gaussian_mechanism(value: float | np.ndarray, *, sensitivity: float, epsilon: float,
                       delta: float, rng: RNG = None, accountant: PrivacyAccountant | None = None,
                       label: str = "gaussian_mechanism") -> float | np.ndarray:
    """Release ``value`` with N(0, σ²) noise, σ from the analytic calibration: (ε, δ)-DP.

    ``sensitivity`` is the L2 sensitivity of the whole array. The noise is numpy's textbook
    floating-point normal sampler, as in Opacus: it is *not* hardened against
    floating-point attacks; where that matters use :func:`laplace_mechanism`. With
    ``accountant`` the release is booked as the Gaussian it is, so many of them compose tightly.
    """
    arr = _numeric(value, "value")
    sigma = gaussian_sigma(sensitivity=sensitivity, epsilon=epsilon, delta=delta)
    cost = PrivacyCost.gaussian(sigma / _sensitivity(sensitivity), epsilon=epsilon, delta=delta)
    with accounting.charge(accountant, cost, label=label):
        released = arr + as_generator(rng).normal(0.0, sigma, size=arr.shape)
    return float(released) if np.ndim(value) == 0 else released


# --- exponential mechanism and randomized response ------------------------------------------


def exponential_mechanism_probabilities(utilities: Sequence[float], *, epsilon: float,
                                        sensitivity: float) -> np.ndarray:
    """Selection probabilities ∝ exp(ε·u / 2Δ) of the exponential mechanism (McSherry & Talwar 2007)."""
    u = _numeric(utilities, "utilities")
    logits = _epsilon(epsilon) * u / (2 * _sensitivity(sensitivity))
    return special.softmax(logits)


def exponential_mechanism(utilities: Sequence[float], *, epsilon: float, sensitivity: float,
                          rng: RNG = None, accountant: PrivacyAccountant | None = None,
                          label: str = "exponential_mechanism") -> int:
    """Choose an index with probability ∝ exp(ε·u / 2Δ): ε-DP selection of a high-utility option.

    ``sensitivity`` is how much one person can change any one utility.
    """
    p = exponential_mechanism_probabilities(utilities, epsilon=epsilon, sensitivity=sensitivity)
    with accounting.charge(accountant, PrivacyCost.pure(epsilon), label=label):
        choice = int(as_generator(rng).choice(len(p), p=p))
    return choice


def randomized_response(truth: Sequence[bool], *, epsilon: float, rng: RNG = None,
                        accountant: PrivacyAccountant | None = None,
                        label: str = "randomized_response") -> np.ndarray:
    """Each person reports their true bit with probability e^ε/(1 + e^ε), else its opposite: ε-DP.

    Warner's 1965 survey technique; every respondent is protected locally, before any curator.
    """
    bits = np.asarray(truth)
    if bits.size == 0:
        raise ValueError("truth must not be empty")
    if bits.dtype != bool and not np.isin(bits, (0, 1)).all():
        raise TypeError("truth must hold booleans or 0/1 values")
    keep = _keep_probability(epsilon)
    with accounting.charge(accountant, PrivacyCost.pure(epsilon), label=label):
        flips = as_generator(rng).random(bits.shape) >= keep
    return np.logical_xor(bits.astype(bool), flips)


def _keep_probability(epsilon: float) -> float:
    return 1.0 / (1.0 + math.exp(-_epsilon(epsilon)))  # e^ε/(1 + e^ε), without overflow


def randomized_response_estimate(responses: Sequence[bool], *, epsilon: float) -> float:
    """Unbiased estimate of the true fraction of ones from randomized responses.

    With p = e^ε/(1 + e^ε), E[mean response] = (1 − p) + π(2p − 1), so
    π̂ = (mean − (1 − p)) / (2p − 1). It can fall outside [0, 1]; clip it for display only.
    """
    r = np.asarray(responses)
    if r.size == 0:
        raise ValueError("responses must not be empty")
    p = _keep_probability(epsilon)
    return float((r.astype(float).mean() - (1 - p)) / (2 * p - 1))


# --- queries on data: clip to declared bounds, then add calibrated noise ---------------------


def dp_count(values: Sequence[Any], *, epsilon: float, rng: RNG = None,
             accountant: PrivacyAccountant | None = None, label: str = "dp_count") -> int:
    """ε-DP count of records. Sensitivity 1: one person adds or removes one record."""
    try:
        n = len(values)
    except TypeError:
        raise TypeError(f"values must be a sequence of records, got {type(values).__name__}") from None
    if n == 0:
        raise ValueError("values must not be empty")
    return geometric_mechanism(n, epsilon=epsilon, rng=rng, accountant=accountant, label=label)


def dp_sum(values: Sequence[float], *, lower: float, upper: float, epsilon: float,
           rng: RNG = None, accountant: PrivacyAccountant | None = None, label: str = "dp_sum") -> float:
    """ε-DP sum of values clipped to [lower, upper].

    Sensitivity max(|lower|, |upper|): adding or removing one clipped value changes the sum by
    at most that much. The bounds must be chosen without looking at the data.
    """
    lower, upper = _bounds(lower, upper)
    clipped = np.clip(_numeric(values), lower, upper)
    return laplace_mechanism(float(clipped.sum()), sensitivity=_sum_sensitivity(lower, upper),
                             epsilon=epsilon, rng=rng, accountant=accountant, label=label)


def _sum_sensitivity(lower: float, upper: float) -> float:
    return max(abs(lower), abs(upper)) or 1.0  # bounds [0, 0]: the sum is always 0


def dp_mean(values: Sequence[float], *, lower: float, upper: float, epsilon: float,
            rng: RNG = None, accountant: PrivacyAccountant | None = None, label: str = "dp_mean") -> float:
    """ε-DP mean of values clipped to [lower, upper]: a noisy sum over a noisy count.

    ε is split in half between :func:`dp_sum` and :func:`dp_count` (basic composition); the
    ratio is post-processed into [lower, upper], which costs no privacy. With ``accountant``
    both halves are booked as one spend.
    """
    lower, upper = _bounds(lower, upper)
    eps = _epsilon(epsilon)
    _numeric(values)
    steps = _grid_steps(_sum_sensitivity(lower, upper))
    cost = PrivacyCost.compose(PrivacyCost.discrete_laplace(decay=eps / 2 / steps, sensitivity=steps),
                               PrivacyCost.discrete_laplace(decay=eps / 2, sensitivity=1))
    generator = None if rng is None else as_generator(rng)
    with accounting.charge(accountant, cost, label=label):
        total = dp_sum(values, lower=lower, upper=upper, epsilon=eps / 2, rng=generator)
        count = dp_count(values, epsilon=eps / 2, rng=generator)
    return float(np.clip(total / max(count, 1), lower, upper))


def dp_histogram(values: Sequence[float], *, bins: Sequence[float], epsilon: float,
                 rng: RNG = None, accountant: PrivacyAccountant | None = None,
                 label: str = "dp_histogram") -> np.ndarray:
    """ε-DP counts of values in the bins with the given edges (chosen without looking at the data).

    Sensitivity 1: one person falls in one bin. Values outside the edges are not counted.
    Counts are integers and may be negative; clipping them at 0 afterwards is free.
    """
    edges = _numeric(bins, "bins")
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("bins must be at least two strictly increasing edges")
    eps = _epsilon(epsilon)
    counts, _ = np.histogram(_numeric(values), bins=edges)
    # one person moves one bin by one: the exact cost is one discrete Laplace (parallel composition)
    with accounting.charge(accountant, PrivacyCost.discrete_laplace(decay=eps, sensitivity=1), label=label):
        released = _geometric(counts, eps, 1, rng)
    return released


# --- noise per coordinate: L1 against L2 sensitivity ---------------------------------------


def per_coordinate_noise_std(dimensions: Sequence[int], *, epsilon: float,
                             delta: float) -> dict[str, np.ndarray]:
    """Noise per coordinate when one person changes each of d released counts by up to 1.

    The L1 sensitivity is d (Laplace: scale d/ε, standard deviation √2·d/ε) but the L2
    sensitivity only √d (Gaussian: σ for Δ₂ = √d): for many coordinates Gaussian wins.
    """
    dims = np.asarray(dimensions)
    if dims.size == 0 or not np.issubdtype(dims.dtype, np.integer) or np.any(dims < 1):
        raise ValueError("dimensions must be positive integers")
    eps = _epsilon(epsilon)
    return {
        "dimensions": dims,
        "laplace": math.sqrt(2) * dims / eps,
        "gaussian": np.array([gaussian_sigma(sensitivity=math.sqrt(d), epsilon=eps, delta=delta)
                              for d in dims]),
    }
