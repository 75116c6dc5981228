"""Attacks, each beside the defence that stops it: the kit shows the threat before the cure.

- The **differencing attack**: two counts that differ by one person reveal that person
  (stopped by ``dp``'s noise: success is bounded by e^ε/(1 + e^ε)).
- The **floating-point attack** (Mironov, CCS 2012) on textbook Laplace sampling: the doubles
  a naive sampler can output depend on the true value, so an output can rule a value out
  (stopped by ``dp.laplace_mechanism``, which releases only multiples of a grid).

The naive sampler lives here, and only here, under a name that says what it is.
Later issues add membership inference, gradient inversion and linkage attacks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import dp
from ._checks import check_int, check_real

__all__ = [
    "differencing_attack",
    "differencing_success_rate",
    "dp_guess_bound",
    "floating_point_attack",
    "floating_point_attack_success_rate",
    "naive_laplace_insecure",
]

_U_BITS = 53  # the naive sampler's uniform draws are k / 2**53, k = 1 … 2**53


def dp_guess_bound(epsilon: float) -> float:
    """The best probability of guessing one person's secret bit from an ε-DP release: e^ε/(1 + e^ε).

    With even prior odds, no test tells two neighbouring datasets apart more often than this
    (Wasserman & Zhou 2010; Kairouz, Oh & Viswanath 2015).
    """
    return 1.0 / (1.0 + math.exp(-check_real(epsilon, "epsilon", low=0.0, low_open=True)))


# --- differencing -----------------------------------------------------------------------------


def differencing_attack(count_all: float, count_without_target: float) -> bool:
    """Guess the target's secret bit from a count over everyone and one over everyone but them."""
    return (count_all - count_without_target) > 0.5


def differencing_success_rate(bits: np.ndarray, *, epsilon: float | None, trials: int,
                              rng: Any = None) -> float:
    """How often the differencing attack guesses a random customer's bit right.

    Each trial picks a target from ``bits``, releases the count of ones over everyone and over
    everyone but the target — exactly (``epsilon=None``) or each with ``dp.geometric_mechanism``
    at ``epsilon`` — and runs :func:`differencing_attack`. The two releases together are
    2ε-DP, so the success rate cannot exceed ``dp_guess_bound(2 * epsilon)`` beyond sampling error.
    """
    bits = np.asarray(bits).astype(bool)
    if bits.size < 2:
        raise ValueError("bits must hold at least two people")
    trials = check_int(trials, "trials", low=1)
    generator = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
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


def naive_laplace_insecure(value: float, *, scale: float, rng: Any = None) -> float:
    """INSECURE textbook Laplace sampling: ``value ± scale·(−ln U)`` with U a uniform double.

    U takes the values k/2**53; the logarithm and the addition round to doubles, so the set of
    outputs this can produce differs for different ``value``s — which is what
    :func:`floating_point_attack` reads. For the lesson only; use ``dp.laplace_mechanism``.
    """
    generator = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
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
                                       rng: Any = None) -> dict[str, float]:
    """Guess a secret bit (x = 0 or 1, sensitivity 1) from one Laplace release at ``epsilon``.

    ``sampler`` is ``"naive"`` (:func:`naive_laplace_insecure`) or ``"kit"``
    (``dp.laplace_mechanism``). The attacker runs :func:`floating_point_attack`; when exactly
    one candidate survives it answers that one, otherwise it falls back to the best guess from
    the noise distribution (the nearer candidate). Returns the success rate, the fraction of
    releases where the attack ruled a candidate out, and the DP bound e^ε/(1 + e^ε).
    """
    eps = check_real(epsilon, "epsilon", low=0.0, low_open=True)
    trials = check_int(trials, "trials", low=1)
    if sampler not in ("naive", "kit"):
        raise ValueError(f"sampler must be 'naive' or 'kit', got {sampler!r}")
    generator = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
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
