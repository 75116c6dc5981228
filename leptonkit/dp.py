"""Differential privacy: noise mechanisms, their calibration, and the queries built on them.

Neighbouring datasets differ by adding or removing one person's record, so a count has
sensitivity Δ = 1 and a sum of values clipped to [lower, upper] has Δ = max(|lower|, |upper|).
(Under substitution — one record replaced, n public — that sum would have Δ = upper − lower, and
an ε-DP release under add/remove is 2ε-DP under substitution.) The sparse vector technique
(:func:`sparse_vector`) answers a stream of threshold questions for one ε.
Neighbours: ``accounting`` adds up what many releases spend; ``attacks`` shows what these
mechanisms stop (the differencing attack, the floating-point attack on naive Laplace).

Randomness
----------
Every function takes ``rng``: a ``numpy.random.Generator`` or an int seed makes a lesson
reproducible. With ``rng=None`` the Laplace and geometric mechanisms draw every random integer
from the OS CSPRNG (``secrets`` for one value, ``os.urandom`` for an array); the Gaussian,
exponential and randomized-response mechanisms use a numpy Generator freshly seeded from the
OS (unpredictable seed, not a CSPRNG stream). The exact discrete Laplace sampler runs its
rejection steps on whole arrays (about 0.3 s per 10^6 values); a single value is drawn with
exactly the random numbers the one-at-a-time sampler of earlier versions used.

Supported ranges
----------------
ε in [2^-30, 2^40] (:data:`MIN_EPSILON`, :data:`MAX_EPSILON`; ``dp_mean`` needs 2^-29, as it
spends ε/2 twice) and a real sensitivity Δ in [2^-980, 2^960] (:data:`MIN_SENSITIVITY`,
:data:`MAX_SENSITIVITY`): there the Laplace grid is a normal double, the noise stays below
2^52 grid steps (so value plus noise is exact), every output is finite, and the discrete
Laplace's rational scale fits numpy's int64. The geometric mechanism takes an integer
sensitivity in [1, 2^20] and counts in [-2^62, 2^62], so no count plus noise wraps around.
Outside these ranges a ``ValueError`` names the parameter and the range.

References
----------
C. Dwork and A. Roth, *The Algorithmic Foundations of Differential Privacy*, 2014.
B. Balle and Y.-X. Wang, *Improving the Gaussian Mechanism for Differential Privacy:
Analytical Calibration and Optimal Denoising*, ICML 2018.
M. Lyu, D. Su and N. Li, *Understanding the Sparse Vector Technique for Differential Privacy*,
PVLDB 10(6), 2017 (Algorithm 1, the sparse vector technique).
C. Canonne, G. Kamath and T. Steinke, *The Discrete Gaussian for Differential Privacy*,
NeurIPS 2020 (exact discrete Laplace sampling).
I. Mironov, *On Significance of the Least Significant Bits for Differential Privacy*, CCS 2012.
"""

from __future__ import annotations

import functools
import math
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from numbers import Integral
from typing import Any

import numpy as np
from scipy import optimize, special

from . import accounting
from ._checks import RNG, as_generator, check_int, check_real, lesson_generator
from .accounting import PrivacyAccountant, PrivacyCost

__all__ = [
    "MAX_COUNT",
    "MAX_EPSILON",
    "MAX_INT_SENSITIVITY",
    "MAX_SENSITIVITY",
    "MIN_EPSILON",
    "MIN_SENSITIVITY",
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
    "sparse_vector",
]

GRID_BITS = 10  # the output grid is 2**-10 of the sensitivity: at most 0.1 % more noise

#: The ε every mechanism here accepts: [2^-30, 2^40] (about 9.3e-10 to 1.1e12). Below, the
#: Laplace noise would outgrow the 53 bits that keep its output grid exact; above, every
#: mechanism is already the identity to within floating point.
MIN_EPSILON = 2.0**-30
MAX_EPSILON = 2.0**40
#: The real sensitivity Δ every mechanism here accepts: [2^-980, 2^960] (about 1e-295 to 1e289),
#: where the Laplace grid Δ/2^10 is a normal double and every noisy output stays finite.
MIN_SENSITIVITY = 2.0**-980
MAX_SENSITIVITY = 2.0**960
#: The largest integer sensitivity of :func:`geometric_mechanism`: the noise scale Δ/ε then stays
#: below 2^50, so a count plus its noise cannot leave int64 (probability below 2^-5000).
MAX_INT_SENSITIVITY = 2**20
#: The largest |count| :func:`geometric_mechanism` accepts (int64 has room for the noise).
MAX_COUNT = 2**62
_MAX_COORDINATES = 100_000     # per_coordinate_noise_std: entries of ``dimensions``
_INT64_ROOM = 2**62            # products below this stay exact in int64 with room for a sum


# --- argument checks ----------------------------------------------------------------------


def _power_of_two(x: float) -> str:
    return f"2^{math.frexp(x)[1] - 1}"


def _epsilon(value: Any, name: str = "epsilon", *, low: float = MIN_EPSILON) -> float:
    eps = check_real(value, name)
    if not low <= eps <= MAX_EPSILON:
        raise ValueError(f"{name} must be in [{_power_of_two(low)}, 2^40] (about {low:.2g} to "
                         f"{MAX_EPSILON:.2g}: ε > 0, within what the kit's mechanisms compute exactly), "
                         f"got {eps:g}")
    return eps


def _delta(value: Any) -> float:
    return check_real(value, "delta", low=0.0, high=1.0, low_open=True, high_open=True)


def _sensitivity(value: Any, name: str = "sensitivity") -> float:
    sens = check_real(value, name)
    if not MIN_SENSITIVITY <= sens <= MAX_SENSITIVITY:
        raise ValueError(f"{name} must be in [2^-980, 2^960] (about {MIN_SENSITIVITY:.2g} to "
                         f"{MAX_SENSITIVITY:.2g}: Δ > 0, where the output grid and the noise stay exact "
                         f"and finite), got {sens:g}")
    return sens


def _array(values: Any, name: str) -> np.ndarray:
    """``values`` as an array, refusing text, bytes and ragged nesting with a ``TypeError``."""
    if values is None or isinstance(values, (str, bytes, bytearray, memoryview, dict, set)):
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(values).__name__}")
    try:
        return np.asarray(values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or a rectangular array of numbers (not ragged "
                        f"or nested lists)") from None


def _numeric(values: Any, name: str = "values") -> np.ndarray:
    """Real numbers as a float array: text, bytes, None, complex and ragged input are refused."""
    arr = _array(values, name)
    if arr.dtype == object:
        flat = arr.ravel()
        if not all(isinstance(x, (float, Integral, np.floating)) and not isinstance(x, (bool, np.bool_))
                   for x in flat):
            raise TypeError(f"{name} must be numeric (an array of numbers): it holds "
                            f"{sorted({type(x).__name__ for x in flat})}")
        try:
            arr = arr.astype(float)
        except OverflowError:
            raise ValueError(f"{name} must be finite (an integer is too large for a float)") from None
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric (an array of numbers), got dtype {arr.dtype}")
    arr = arr.astype(float, copy=False)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return arr


def _bits(values: Any, name: str) -> np.ndarray:
    """Booleans or 0/1 values as a bool array; anything else (None, 2, NaN, '1') is refused."""
    arr = _array(values, name)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if arr.dtype != bool:
        if arr.dtype.kind == "O":
            ok = all(isinstance(x, (Integral, float, np.floating)) and x in (0, 1) for x in arr.ravel())
        else:
            ok = arr.dtype.kind in "iuf" and bool(np.isin(arr, (0, 1)).all())
        if not ok:
            raise TypeError(f"{name} must hold booleans or 0/1 values")
    return arr.astype(bool)


def _bounds(lower: Any, upper: Any) -> tuple[float, float]:
    lower, upper = check_real(lower, "lower"), check_real(upper, "upper")
    if lower > upper:
        raise ValueError(f"lower must be <= upper, got lower={lower:g} > upper={upper:g}")
    return lower, upper


# --- exact randomness for the discrete Laplace ------------------------------------------------
#
# A source of uniform integers ``below(bound, size)``: int64 arrays uniform on [0, bound), for
# bound < 2^63. With a numpy Generator it is ``Generator.integers`` (Lemire's unbiased method);
# with rng=None it is the OS CSPRNG, ``os.urandom``, with exact rejection of masked words.


def _os_below(bound: int, size: int) -> np.ndarray:
    """``size`` integers uniform on [0, bound) from the OS CSPRNG (masking, then exact rejection)."""
    out = np.zeros(size, dtype=np.int64)
    if bound == 1 or size == 0:
        return out
    mask = np.uint64((1 << (bound - 1).bit_length()) - 1)
    limit, filled = np.uint64(bound), 0
    while filled < size:          # each masked word is accepted with probability > 1/2
        need = size - filled
        words = np.frombuffer(os.urandom(8 * (need + need // 2 + 8)), dtype=np.uint64) & mask
        words = words[words < limit][:need]
        out[filled:filled + words.size] = words
        filled += words.size
    return out


def _integer_source(rng: RNG) -> tuple[Callable[[int, int], np.ndarray], Callable[[int], int]]:
    """``(below, draw)``: vectorised and scalar uniform integers, from the OS CSPRNG when rng is None.

    ``draw(n)`` is one integer in [0, n). For a Generator, ``below(n, 1)[0]`` and ``draw(n)``
    consume the same random bits, so a sample drawn one at a time equals the vectorised one.
    """
    generator = lesson_generator(rng)
    if generator is None:
        return _os_below, secrets.randbelow

    def below(bound: int, size: int) -> np.ndarray:
        if size == 0:
            return np.zeros(0, dtype=np.int64)
        return generator.integers(0, bound, size=size, dtype=np.int64)

    return below, lambda n: int(generator.integers(n))


def _noise_scale(steps: int, eps: float) -> tuple[int, int]:
    """The discrete Laplace scale steps/ε' as a fraction t/s, with ε' ≤ ε (more noise, never less).

    ε' is ε rounded down to a multiple of 2^-D, D = max(20, 10 − ⌊log₂ ε⌋): it keeps at least
    10 significant bits (at most 0.1 % less ε) and, for ε ≥ 2^-10, is ⌊ε·2^20⌋/2^20. Over the
    supported ranges t and s stay below 2^61, so every draw fits numpy's int64.
    """
    exponent = math.frexp(eps)[1] - 1            # ⌊log₂ ε⌋, exactly
    bits = max(20, 10 - exponent)
    scale = Fraction(steps * 2**bits, math.floor(math.ldexp(eps, bits)))
    return scale.numerator, scale.denominator


def _bernoulli_exp_minus(num: int, den: int, draw: Callable[[int], int]) -> bool:
    """Exact Bernoulli(exp(-num/den)) for 0 ≤ num/den ≤ 1 (CKS20, Algorithm 1)."""
    k = 1
    while True:  # A ~ Bernoulli(γ/k)
        if den * k < _INT64_ROOM:
            a = draw(den * k) < num
        else:    # γ/k = (num/den)·(1/k): two independent draws, each of a bound int64 can hold
            a = draw(den) < num
            a = (draw(k) == 0) and a
        if not a:
            return k % 2 == 1
        k += 1


def _discrete_laplace(t: int, s: int, draw: Callable[[int], int]) -> int:
    """One exact sample with P[z] ∝ exp(-|z|·s/t) (CKS20, Algorithm 2, scale t/s)."""
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


def _bernoulli_exp_minus_array(num: np.ndarray, den: int,
                               below: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """Vectorised :func:`_bernoulli_exp_minus`: entry i is Bernoulli(exp(-num[i]/den)), independent."""
    result = np.empty(num.size, dtype=bool)
    active = np.arange(num.size)
    k = 1
    while active.size:  # round k: every entry still running draws its A ~ Bernoulli(γ/k)
        if den * k < _INT64_ROOM:
            a = below(den * k, active.size) < num[active]
        else:
            a = below(den, active.size) < num[active]
            a &= below(k, active.size) == 0
        result[active[~a]] = k % 2 == 1
        active = active[a]
        k += 1
    return result


def _geometric_exp_minus_one(size: int, below: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """How many Bernoulli(exp(-1)) successes come before the first failure, ``size`` times."""
    v = np.zeros(size, dtype=np.int64)
    active = np.arange(size)
    ones = np.ones(size, dtype=np.int64)
    while active.size:
        active = active[_bernoulli_exp_minus_array(ones[:active.size], 1, below)]
        v[active] += 1
    return v


def _floor_of(u: np.ndarray, v: np.ndarray, t: int, s: int) -> np.ndarray:
    """⌊(u + t·v)/s⌋ exactly: in int64 where it cannot overflow, with Python ints elsewhere."""
    y = np.empty(u.size, dtype=np.int64)
    safe = v <= (_INT64_ROOM - t) // t
    y[safe] = (u[safe] + t * v[safe]) // s
    if not safe.all():  # v ≥ 2^62/t: probability about exp(-2^62/t) per sample, but exact all the same
        y[~safe] = [(int(a) + t * int(b)) // s for a, b in zip(u[~safe], v[~safe], strict=True)]
    return y


def _discrete_laplace_array(t: int, s: int, size: int, rng: RNG) -> np.ndarray:
    """``size`` independent exact samples with P[z] ∝ exp(-|z|·s/t): CKS20's Algorithm 2, vectorised.

    Every step of the algorithm runs on all pending samples at once; a sample rejected by the
    first Bernoulli or by the sign step is simply pending again in the next round. Each draw is
    fresh and uniform, so every sample follows the algorithm's exact distribution. A single
    sample is drawn by the scalar algorithm, which consumes exactly the same random numbers.
    """
    below, draw = _integer_source(rng)
    if size == 1:
        return np.array([_discrete_laplace(t, s, draw)], dtype=np.int64)
    return _discrete_laplace_vector(t, s, size, below)


def _discrete_laplace_vector(t: int, s: int, size: int,
                             below: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """The vectorised rounds of :func:`_discrete_laplace_array`, for any size."""
    out = np.empty(size, dtype=np.int64)
    pending = np.arange(size)
    while pending.size:
        u = below(t, pending.size)
        kept = _bernoulli_exp_minus_array(u, t, below)
        accepted, u = pending[kept], u[kept]
        y = _floor_of(u, _geometric_exp_minus_one(accepted.size, below), t, s)
        negative = below(2, accepted.size) == 1
        valid = ~(negative & (y == 0))          # −0 is redrawn: 0 must not count twice
        out[accepted[valid]] = np.where(negative, -y, y)[valid]
        pending = np.concatenate([pending[~kept], accepted[~valid]])
    return out


# --- Laplace and geometric (discrete Laplace), sampled exactly -----------------------------


def laplace_scale(sensitivity: float, epsilon: float) -> float:
    """The Laplace mechanism's scale b = Δ/ε: noise with density exp(-|x|/b)/(2b) gives ε-DP.

    Δ in [2^-980, 2^960] and ε in [2^-30, 2^40] (:data:`MIN_SENSITIVITY` … :data:`MAX_EPSILON`).
    """
    return _sensitivity(sensitivity) / _epsilon(epsilon)


def laplace_grid(sensitivity: float) -> float:
    """The output grid of :func:`laplace_mechanism`: 2^(⌊log₂ Δ⌋ − 10), between Δ/2048 and Δ/1024.

    Δ must be in [2^-980, 2^960], so the grid is a normal double.
    """
    return math.ldexp(1.0, math.frexp(_sensitivity(sensitivity))[1] - 1 - GRID_BITS)


def laplace_mechanism(value: float | np.ndarray, *, sensitivity: float, epsilon: float,
                      rng: RNG = None, accountant: PrivacyAccountant | None = None,
                      label: str = "laplace_mechanism") -> float | np.ndarray:
    """Release ``value`` with Laplace noise of scale Δ/ε, ε-DP, safe from floating-point attacks.

    Textbook Laplace sampling on doubles leaks the input through the pattern of reachable
    outputs (Mironov 2012; see ``attacks.floating_point_attack``). This implementation follows
    OpenDP's defence: the value is rounded to a grid of spacing g (a power of two,
    :func:`laplace_grid`), integer noise from the discrete Laplace distribution is added in
    grid units with an exact sampler (Canonne, Kamath and Steinke 2020, Algorithm 2: integer
    arithmetic only, vectorised over the array), and the result is scaled back, which is exact
    in floating point. Every output is a multiple of g, so no output is possible from one input
    and impossible from its neighbour. The rounding can move neighbours up to one grid step
    further apart, so the noise scale is g·(⌊Δ/g⌋ + 1)/ε' ≤ (Δ + g)/ε', where ε' ≤ ε is ε
    rounded down to keep at least 10 significant bits: in all at most 0.2 % above Δ/ε.

    Parameters
    ----------
    value
        A number or an array; every element gets independent noise. Its magnitude must be at
        most 2^50 grid steps (about 2^40·Δ), so that value and noise stay exact in a double.
    sensitivity, epsilon
        Δ in [2^-980, 2^960] (how much one person can change ``value``, in L1 over all
        elements) and ε in [2^-30, 2^40]. In that range the noise stays below 2^52 grid steps
        except with probability below exp(-2000), so every output is exact.
    rng
        None (every random integer from the OS CSPRNG, ``os.urandom``/``secrets``), an int seed
        or a ``numpy.random.Generator`` (reproducible, for lessons).
    accountant, label
        A :class:`~leptonkit.accounting.PrivacyAccountant` to check before and book after (with
        ``label``); a scalar is booked as the discrete Laplace it is, an array as an ε-DP release.

    Notes
    -----
    About 0.3 s per 10^6 values (the rejection steps run on whole arrays). A seeded scalar
    release draws the same numbers as the one-sample-at-a-time sampler of earlier versions.

    Example
    -------
    >>> laplace_mechanism(42.0, sensitivity=1, epsilon=1.0, rng=0)
    41.73046875
    """
    delta_f, eps = _sensitivity(sensitivity), _epsilon(epsilon)
    arr = _numeric(value, "value")
    lesson_generator(rng)       # a bad rng is refused before the budget is asked
    grid = laplace_grid(delta_f)
    if np.max(np.abs(arr)) > 2.0**50 * grid:
        raise ValueError(f"value must be at most {2.0**50 * grid:g} in magnitude for sensitivity "
                         f"{delta_f:g} (the output grid must stay exact in floating point)")
    steps = _grid_steps(delta_f)
    t, s = _noise_scale(steps, eps)
    cost = (PrivacyCost.discrete_laplace(decay=eps / steps, sensitivity=steps) if arr.size == 1
            else PrivacyCost.pure(eps))
    with accounting.charge(accountant, cost, label=label):
        noise = _discrete_laplace_array(t, s, arr.size, rng)
        released = (np.rint(arr / grid).ravel() + noise) * grid
    return float(released[0]) if np.ndim(value) == 0 else released.reshape(arr.shape)


def _grid_steps(sensitivity: float) -> int:
    """Δ in grid units, rounding included: the integer sensitivity of the noise on the grid."""
    return math.floor(sensitivity / laplace_grid(sensitivity)) + 1


def _counts(count: Any) -> np.ndarray:
    """Integer counts as an int64 array, each within ±MAX_COUNT."""
    arr = _array(count, "count")
    if arr.size == 0:
        raise ValueError("count must not be empty")
    if arr.dtype == object:   # Python ints beyond int64
        if not all(isinstance(x, Integral) and not isinstance(x, (bool, np.bool_)) for x in arr.ravel()):
            raise TypeError("count must be an integer or an integer array, got dtype object")
        low, high = min(arr.ravel()), max(arr.ravel())
    elif np.issubdtype(arr.dtype, np.integer):
        low, high = int(arr.min()), int(arr.max())
    else:
        raise TypeError(f"count must be an integer or an integer array, got dtype {arr.dtype}")
    if low < -MAX_COUNT or high > MAX_COUNT:
        raise ValueError("count must be in [-2^62, 2^62] (so that count plus noise stays inside int64)")
    return arr.astype(np.int64)


def geometric_mechanism(count: int | np.ndarray, *, epsilon: float, sensitivity: int = 1,
                        rng: RNG = None, accountant: PrivacyAccountant | None = None,
                        label: str = "geometric_mechanism") -> int | np.ndarray:
    """Release an integer count with two-sided geometric (discrete Laplace) noise: ε-DP.

    P[noise = k] ∝ exp(-ε'|k|/Δ) over the integers (Ghosh, Roughgarden and Sundararajan 2009),
    sampled exactly with integer arithmetic (Canonne, Kamath and Steinke 2020), with ε' ≤ ε
    as in :func:`laplace_mechanism` (at most 0.1 % less). Outputs are integers, so there is
    nothing for a floating-point attack to read. ``sensitivity`` is the L1 sensitivity of the
    whole array, an int in [1, 2^20]; ε is in [2^-30, 2^40]; counts are in [-2^62, 2^62], and
    the noise scale Δ/ε stays below 2^50, so count plus noise cannot wrap around int64 (except
    with probability below exp(-4000)). With ``accountant`` a scalar is booked as the discrete
    Laplace it is, an array as an ε-DP release (``dp_histogram`` books its exact cost).
    """
    eps = _epsilon(epsilon)
    steps = check_int(sensitivity, "sensitivity", low=1, high=MAX_INT_SENSITIVITY)
    arr = _counts(count)
    lesson_generator(rng)
    cost = (PrivacyCost.discrete_laplace(decay=eps / steps, sensitivity=steps) if arr.size == 1
            else PrivacyCost.pure(eps))
    with accounting.charge(accountant, cost, label=label):
        released = _geometric(arr, eps, steps, rng)
    return int(released[0]) if arr.ndim == 0 else released.reshape(arr.shape)


def _geometric(arr: np.ndarray, eps: float, steps: int, rng: RNG) -> np.ndarray:
    t, s = _noise_scale(steps, eps)
    return arr.ravel() + _discrete_laplace_array(t, s, arr.size, rng)


# --- Gaussian -------------------------------------------------------------------------------
#
# The Gaussian mechanism's privacy depends on σ only through z = σ/Δ, so every calibration is
# solved in those units (z for Δ = 1) and scaled by Δ afterwards: the answer is as precise for
# Δ = 1e-11 as for Δ = 1, and one solve serves every sensitivity.


def _unit_delta(eps: float, z: Any) -> Any:
    """δ(ε) of N(0, z²) noise at sensitivity 1 (Balle & Wang, Thm 8), for a float or an array z > 0.

    δ = Φ(1/2z − εz) − e^ε Φ(−1/2z − εz), the second term in log space. z = 0 gives 1 and
    z = ∞ gives 0, the limits; the result is clipped to [0, 1] against rounding.
    """
    z = np.asarray(z, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        a = np.where(z > 0, 0.5 / np.where(z > 0, z, 1.0), np.inf)
        b = eps * z if eps > 0 else np.zeros_like(z)
        # e^ε Φ(−a − b) ≤ 1 always (a + b ≥ √(2ε)), so the exponent never overflows
        value = special.ndtr(a - b) - np.exp(eps + special.log_ndtr(-a - b))
    value = np.clip(np.nan_to_num(value, nan=0.0), 0.0, 1.0)
    return float(value) if value.ndim == 0 else value


def gaussian_delta(*, epsilon: float, sigma: float, sensitivity: float) -> float:
    """The exact δ at which N(0, σ²) noise is (ε, δ)-DP for L2 sensitivity Δ (Balle & Wang, Thm 8).

    δ(ε) = Φ(Δ/2σ − εσ/Δ) − e^ε Φ(−Δ/2σ − εσ/Δ), computed in log space so large ε is safe.
    ε in [0, 2^40], σ > 0 and Δ in [2^-980, 2^960].
    """
    eps = check_real(epsilon, "epsilon", low=0.0)
    if eps > MAX_EPSILON:
        raise ValueError(f"epsilon must be in [0, 2^40] (about {MAX_EPSILON:.2g}), got {eps:g}")
    sig = check_real(sigma, "sigma", low=0.0, low_open=True)
    return _unit_delta(eps, sig / _sensitivity(sensitivity))


@functools.lru_cache(maxsize=1024)
def _unit_sigma(eps: float, d: float) -> float:
    """The smallest z = σ/Δ with δ(ε) ≤ d (Balle & Wang, Algorithm 1, solved numerically)."""

    def excess(z: float) -> float:
        return _unit_delta(eps, z) - d

    lo, hi = 1e-3, 1.0
    for _ in range(2100):          # the exponent range of a double: always enough
        if excess(hi) <= 0:
            break
        lo, hi = hi, hi * 2
    for _ in range(2100):
        if excess(lo) > 0:
            break
        lo /= 2
    z = optimize.brentq(excess, lo, hi, xtol=1e-300, rtol=1e-14)
    for _ in range(4096):          # brentq lands within 1e-14·z of the root: a few dozen ulps
        if excess(z) <= 0:         # the private side of the root
            return z
        z = math.nextafter(z, math.inf)
    raise ArithmeticError(f"the Gaussian calibration did not converge for epsilon={eps:g}, delta={d:g}")


def _private_sigma(z: Any, delta_f: Any, eps: float, d: float) -> Any:
    """σ = z·Δ, each nudged up by ulps until δ(ε) ≤ d holds for the rounded σ/Δ itself."""
    sigma = np.asarray(z * np.asarray(delta_f, dtype=float), dtype=float)
    for _ in range(64):
        over = np.atleast_1d(_unit_delta(eps, sigma / delta_f) > d)
        if not over.any():
            return float(sigma) if sigma.ndim == 0 else sigma
        sigma = np.where(over.reshape(sigma.shape), np.nextafter(sigma, np.inf), sigma)
    raise ArithmeticError("the Gaussian calibration did not converge after scaling by the sensitivity")


def gaussian_sigma(*, sensitivity: float, epsilon: float, delta: float,
                   method: str = "analytic") -> float:
    """Noise σ for the Gaussian mechanism to be (ε, δ)-DP at L2 sensitivity Δ.

    ``method="analytic"`` (default): the smallest σ meeting the exact condition of
    :func:`gaussian_delta` (Balle & Wang 2018, Algorithm 1, solved numerically). σ/Δ depends
    only on ε and δ, so it is solved once for Δ = 1 (to 1e-14, on the private side) and scaled.
    ``method="classic"``: √(2 ln(1.25/δ))·Δ/ε (Dwork & Roth 2014, Theorem A.1), valid only for
    ε < 1 and larger than needed. Δ in [2^-980, 2^960], ε in [2^-30, 2^40], δ in (0, 1).
    """
    delta_f, eps, d = _sensitivity(sensitivity), _epsilon(epsilon), _delta(delta)
    if not isinstance(method, str):
        raise TypeError(f"method must be 'analytic' or 'classic', got {type(method).__name__}")
    if method == "classic":
        if eps >= 1:
            raise ValueError(f"epsilon must be in (0, 1) for method='classic' (the bound of Dwork & "
                             f"Roth, Thm A.1, needs ε < 1), got {eps:g}; use method='analytic'")
        return math.sqrt(2 * math.log(1.25 / d)) / eps * delta_f
    if method != "analytic":
        raise ValueError(f"method must be 'analytic' or 'classic', got {method!r}")
    return _private_sigma(_unit_sigma(eps, d), delta_f, eps, d)


def gaussian_epsilon(*, sigma: float, sensitivity: float, delta: float) -> float:
    """The smallest ε at which N(0, σ²) noise is (ε, δ)-DP: the inverse of :func:`gaussian_sigma`.

    Raises ``ValueError`` naming ``sigma`` when σ is so small next to Δ that ε would exceed
    2^40, the largest ε the kit supports.
    """
    sig = check_real(sigma, "sigma", low=0.0, low_open=True)
    delta_f, d = _sensitivity(sensitivity), _delta(delta)
    z = sig / delta_f

    def excess(eps: float) -> float:
        return _unit_delta(eps, z) - d

    if excess(0.0) <= 0:
        return 0.0
    if z == 0 or excess(MAX_EPSILON) > 0:
        smallest = _unit_sigma(MAX_EPSILON, d) * delta_f
        raise ValueError(f"sigma must be at least {smallest:.6g} for sensitivity {delta_f:g} and delta "
                         f"{d:g}, got {sig:g}: with less noise ε would exceed 2^40, the largest the kit "
                         f"supports")
    hi = 1.0
    while excess(hi) > 0:          # at most 40 doublings: excess(2^40) <= 0
        hi *= 2
    eps = optimize.brentq(excess, 0.0, hi, xtol=1e-300, rtol=1e-14)
    for _ in range(4096):
        if excess(eps) <= 0:
            return eps
        eps = math.nextafter(eps, math.inf)
    raise ArithmeticError(f"gaussian_epsilon did not converge for sigma={sig:g}, delta={d:g}")


def gaussian_mechanism(value: float | np.ndarray, *, sensitivity: float, epsilon: float,
                       delta: float, rng: RNG = None, accountant: PrivacyAccountant | None = None,
                       label: str = "gaussian_mechanism") -> float | np.ndarray:
    """Release ``value`` with N(0, σ²) noise, σ from the analytic calibration: (ε, δ)-DP.

    ``sensitivity`` is the L2 sensitivity of the whole array. The noise is numpy's textbook
    floating-point normal sampler, as in Opacus: it is *not* hardened against
    floating-point attacks; where that matters use :func:`laplace_mechanism`. With
    ``accountant`` the release is booked as the Gaussian it is, so many of them compose tightly.
    Ranges as in :func:`gaussian_sigma`; |value| + 64σ must stay below 2^1023, so no output
    overflows to infinity.
    """
    arr = _numeric(value, "value")
    delta_f, eps, d = _sensitivity(sensitivity), _epsilon(epsilon), _delta(delta)
    lesson_generator(rng)
    sigma = gaussian_sigma(sensitivity=delta_f, epsilon=eps, delta=d)
    room = 2.0**1023 - 64 * sigma
    if room <= 0 or np.max(np.abs(arr)) > room:
        raise ValueError(f"value must be at most {max(room, 0.0):g} in magnitude with noise σ = {sigma:g} "
                         f"(the noisy output must stay finite)")
    cost = PrivacyCost.gaussian(sigma / delta_f, epsilon=eps, delta=d)
    with accounting.charge(accountant, cost, label=label):
        released = arr + as_generator(rng).normal(0.0, sigma, size=arr.shape)
    return float(released) if np.ndim(value) == 0 else released


# --- exponential mechanism and randomized response ------------------------------------------


def exponential_mechanism_probabilities(utilities: Sequence[float], *, epsilon: float,
                                        sensitivity: float) -> np.ndarray:
    """Selection probabilities ∝ exp(ε·u / 2Δ) of the exponential mechanism (McSherry & Talwar 2007).

    ``utilities`` is a non-empty 1-d array of finite numbers; ε in [2^-30, 2^40], Δ in
    [2^-980, 2^960]. Computed as exp((u − max u)·ε/2Δ), so no logit overflows: options far
    below the best get probability 0, never NaN.
    """
    u = _numeric(utilities, "utilities")
    if u.ndim != 1:
        raise ValueError(f"utilities must be a 1-d array (one utility per option), got shape {u.shape}")
    rate = _epsilon(epsilon) / (2 * _sensitivity(sensitivity))      # at most 2^1019: finite
    with np.errstate(over="ignore"):
        logits = (u - u.max()) * rate                                # ≤ 0, the best option at 0
    weights = np.exp(logits)
    return weights / weights.sum()


def exponential_mechanism(utilities: Sequence[float], *, epsilon: float, sensitivity: float,
                          rng: RNG = None, accountant: PrivacyAccountant | None = None,
                          label: str = "exponential_mechanism") -> int:
    """Choose an index with probability ∝ exp(ε·u / 2Δ): ε-DP selection of a high-utility option.

    ``sensitivity`` is how much one person can change any one utility.
    """
    p = exponential_mechanism_probabilities(utilities, epsilon=epsilon, sensitivity=sensitivity)
    lesson_generator(rng)
    with accounting.charge(accountant, PrivacyCost.pure(epsilon), label=label):
        choice = int(as_generator(rng).choice(len(p), p=p))
    return choice


def randomized_response(truth: Sequence[bool], *, epsilon: float, rng: RNG = None,
                        accountant: PrivacyAccountant | None = None,
                        label: str = "randomized_response") -> np.ndarray:
    """Each person reports their true bit with probability e^ε/(1 + e^ε), else its opposite: ε-DP.

    Warner's 1965 survey technique; every respondent is protected locally, before any curator.
    ``truth`` holds booleans or 0/1 values; ε in [2^-30, 2^40].
    """
    bits = _bits(truth, "truth")
    keep = _keep_probability(epsilon)
    lesson_generator(rng)
    with accounting.charge(accountant, PrivacyCost.pure(epsilon), label=label):
        flips = as_generator(rng).random(bits.shape) >= keep
    return np.logical_xor(bits, flips)


def _keep_probability(epsilon: float) -> float:
    return 1.0 / (1.0 + math.exp(-_epsilon(epsilon)))  # e^ε/(1 + e^ε), without overflow


def randomized_response_estimate(responses: Sequence[bool], *, epsilon: float) -> float:
    """Unbiased estimate of the true fraction of ones from randomized responses.

    With p = e^ε/(1 + e^ε), E[mean response] = (1 − p) + π(2p − 1), so
    π̂ = (mean − (1 − p)) / (2p − 1), computed as (mean − expit(−ε)) / tanh(ε/2) so that small
    ε loses no precision. It can fall outside [0, 1]; clip it for display only. ``responses``
    holds booleans or 0/1 values (None, NaN or other numbers are refused).
    """
    r = _bits(responses, "responses")
    eps = _epsilon(epsilon)
    return float((r.mean() - special.expit(-eps)) / math.tanh(eps / 2))


# --- sparse vector technique ----------------------------------------------------------------

_MAX_ABOVE = 10**6     # sparse_vector: answers above the threshold before it halts


def sparse_vector(answers: Iterable[float], *, threshold: float, epsilon: float, sensitivity: float = 1.0,
                  max_above: int = 1, monotonic: bool = False, rng: RNG = None,
                  accountant: PrivacyAccountant | None = None, label: str = "sparse_vector") -> list[bool]:
    """Which answers lie above ``threshold``, up to ``max_above`` of them, for ε in all: the SVT.

    The sparse vector technique (Dwork & Roth 2014, Algorithm 1 *AboveThreshold*, §3.6; here
    Lyu, Su & Li 2017, Algorithm 1): the threshold gets noise once, Lap(Δ/ε₁) with ε₁ = ε/2;
    each answer gets fresh noise Lap(2cΔ/ε₂) with ε₂ = ε − ε₁ and c = ``max_above`` (cΔ/ε₂ when
    every query moves the same way between neighbours, ``monotonic=True``); the output is True
    where the noisy answer reaches the noisy threshold, and the loop halts after the c-th True.
    However many answers come back False, the whole release is ε-DP (Lyu et al., Thm 2): only
    the True ones cost. The noisy values themselves are never released (releasing them is not
    private; Lyu et al. §3).

    ``answers`` is any iterable of the queries' exact answers on the data, consumed lazily, so
    an analyst may choose each query after seeing the previous outputs (the adaptive setting
    the theorem covers); each one person can move by at most ``sensitivity``. The noise is the
    kit's exact discrete Laplace on :func:`laplace_grid`'s grid, as in :func:`laplace_mechanism`
    (threshold and answers rounded to the grid, the rounding covered by one more grid step of
    sensitivity), so the comparison has no floating-point leak. With ``accountant`` the release
    is checked before the first answer is read and booked as one ε-DP spend when it finishes;
    if ``answers`` raises, nothing is released and nothing is spent.

    Parameters
    ----------
    answers
        The exact answers q₁(D), q₂(D), … (real numbers), at most as many as the caller likes.
    threshold
        T, a real number chosen without looking at the data.
    epsilon, sensitivity
        ε in [2^-29, 2^40] (it is split in two halves) and Δ in [2^-980, 2^960].
    max_above
        c, an int in [1, 10^6]: how many True answers before the technique halts.
    monotonic
        True only if, between any two neighbours, every answer moves in the same direction.

    Returns
    -------
    list of bool
        One verdict per answer read; its last entry is the c-th True, or the input ran out.

    Example
    -------
    >>> sparse_vector([3.0, 40.0, 5.0], threshold=20.0, epsilon=1.0, rng=0)
    [False, True]
    """
    text = (str, bytes, bytearray, memoryview, dict, set)
    if isinstance(answers, text) or not isinstance(answers, Iterable):
        raise TypeError(f"answers must be an iterable of numbers (the queries' answers), "
                        f"got {type(answers).__name__}")
    t_value = check_real(threshold, "threshold")
    eps = _epsilon(epsilon, low=2 * MIN_EPSILON)
    delta_f = _sensitivity(sensitivity)
    c = check_int(max_above, "max_above", low=1, high=_MAX_ABOVE)
    if not isinstance(monotonic, (bool, np.bool_)):
        raise TypeError(f"monotonic must be True or False, got {type(monotonic).__name__}")
    grid = laplace_grid(delta_f)
    room = 2.0**40 * grid
    if abs(t_value) > room:
        raise ValueError(f"threshold must be at most {room:g} in magnitude for sensitivity {delta_f:g} "
                         f"(the comparison runs on an exact grid), got {t_value:g}")
    generator = lesson_generator(rng)
    steps = _grid_steps(delta_f)
    eps_threshold = eps / 2
    eps_answers = eps - eps_threshold
    per_answer = steps * c * (1 if monotonic else 2)
    with accounting.charge(accountant, PrivacyCost.pure(eps), label=label):
        t, s = _noise_scale(steps, eps_threshold)
        noisy_threshold = round(t_value / grid) + int(_discrete_laplace_array(t, s, 1, generator)[0])
        t, s = _noise_scale(per_answer, eps_answers)
        verdicts: list[bool] = []
        above = 0
        for i, answer in enumerate(answers):
            value = check_real(answer, f"answers[{i}]")
            if abs(value) > room:
                raise ValueError(f"answers[{i}] must be at most {room:g} in magnitude for sensitivity "
                                 f"{delta_f:g}, got {value:g}")
            noisy = round(value / grid) + int(_discrete_laplace_array(t, s, 1, generator)[0])
            verdicts.append(noisy >= noisy_threshold)
            if verdicts[-1]:
                above += 1
                if above == c:
                    break
    return verdicts


# --- queries on data: clip to declared bounds, then add calibrated noise ---------------------


def dp_count(values: Sequence[Any], *, epsilon: float, rng: RNG = None,
             accountant: PrivacyAccountant | None = None, label: str = "dp_count") -> int:
    """ε-DP count of records. Sensitivity 1: one person adds or removes one record.

    ``values`` is any sized collection of records (a list, an array, a DataFrame); a string or
    bytes is refused (it is one value, not a collection).
    """
    if isinstance(values, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"values must be a collection of records, got {type(values).__name__}")
    try:
        n = len(values)
    except TypeError:
        raise TypeError(f"values must be a sequence of records, got {type(values).__name__}") from None
    except OverflowError:
        raise ValueError(f"values must hold at most {MAX_COUNT} records") from None
    if n == 0:
        raise ValueError("values must not be empty")
    return geometric_mechanism(n, epsilon=epsilon, rng=rng, accountant=accountant, label=label)


def dp_sum(values: Sequence[float], *, lower: float, upper: float, epsilon: float,
           rng: RNG = None, accountant: PrivacyAccountant | None = None, label: str = "dp_sum") -> float:
    """ε-DP sum of values clipped to [lower, upper].

    Sensitivity max(|lower|, |upper|): adding or removing one clipped value changes the sum by
    at most that much. The bounds must be chosen without looking at the data; the larger of
    |lower| and |upper| must be 0 or in [2^-980, 2^960].
    """
    lower, upper = _bounds(lower, upper)
    sensitivity = _sum_sensitivity(lower, upper)
    clipped = np.clip(_numeric(values), lower, upper)
    return laplace_mechanism(float(clipped.sum()), sensitivity=sensitivity,
                             epsilon=epsilon, rng=rng, accountant=accountant, label=label)


def _sum_sensitivity(lower: float, upper: float) -> float:
    largest = max(abs(lower), abs(upper))
    if largest == 0:
        return 1.0  # bounds [0, 0]: the sum is always 0
    if not MIN_SENSITIVITY <= largest <= MAX_SENSITIVITY:
        raise ValueError(f"lower and upper must be at most 2^960 in magnitude and not both below 2^-980 "
                         f"(their larger magnitude is the sum's sensitivity), got lower={lower:g}, "
                         f"upper={upper:g}")
    return largest


def dp_mean(values: Sequence[float], *, lower: float, upper: float, epsilon: float,
            rng: RNG = None, accountant: PrivacyAccountant | None = None, label: str = "dp_mean") -> float:
    """ε-DP mean of values clipped to [lower, upper]: a noisy sum over a noisy count.

    ε is split in half between :func:`dp_sum` and :func:`dp_count` (basic composition), so it
    must be in [2^-29, 2^40]; the ratio is post-processed into [lower, upper], which costs no
    privacy. With ``accountant`` both halves are booked as one spend.
    """
    lower, upper = _bounds(lower, upper)
    eps = _epsilon(epsilon, low=2 * MIN_EPSILON)
    _numeric(values)
    lesson_generator(rng)
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
    lesson_generator(rng)
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
    ``dimensions`` holds at most 100 000 integers in [1, 2^62]; each Gaussian σ equals
    ``gaussian_sigma(sensitivity=√d, ...)``, from one calibration for all of them.
    """
    dims = _array(dimensions, "dimensions")
    if dims.size == 0:
        raise ValueError("dimensions must not be empty")
    if dims.dtype == object or not np.issubdtype(dims.dtype, np.integer):
        raise TypeError(f"dimensions must be positive integers, got dtype {dims.dtype}")
    if dims.size > _MAX_COORDINATES:
        raise ValueError(f"dimensions must hold at most {_MAX_COORDINATES} entries, got {dims.size}")
    if dims.min() < 1 or dims.max() > MAX_COUNT:
        raise ValueError("dimensions must be integers in [1, 2^62]")
    eps, d = _epsilon(epsilon), _delta(delta)
    root = np.sqrt(dims.astype(float))
    return {
        "dimensions": dims,
        "laplace": math.sqrt(2) * dims / eps,
        "gaussian": np.atleast_1d(_private_sigma(_unit_sigma(eps, d), root, eps, d)).reshape(dims.shape),
    }
