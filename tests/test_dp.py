"""leptonkit.dp against the defining properties of each mechanism.

Statistical tests use fixed seeds; every tolerance is four standard errors of the statistic
under the distribution the mechanism promises (a false alarm has probability < 1e-4 per check).
"""

from __future__ import annotations

import math
import os
import secrets
import time

import numpy as np
import pytest
from scipy import integrate, stats

from leptonkit import dp
from leptonkit._checks import check_int, check_real

N = 20_000


def _four_se(p: float, n: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


# --- Laplace --------------------------------------------------------------------------------


def test_laplace_scale_is_sensitivity_over_epsilon():
    assert dp.laplace_scale(1, 0.5) == 2.0
    assert dp.laplace_scale(3.0, 1.5) == 2.0


@pytest.mark.parametrize("sensitivity, epsilon", [(1.0, 0.5), (250.0, 2.0), (0.01, 0.1),
                                                  (1.0, 1e-7), (3.0, 2**-30), (2.0**-900, 0.7)])
def test_laplace_noise_has_scale_delta_over_epsilon(sensitivity, epsilon):
    noise = dp.laplace_mechanism(np.zeros(N), sensitivity=sensitivity, epsilon=epsilon, rng=0)
    g = dp.laplace_grid(sensitivity)
    b = g * (math.floor(sensitivity / g) + 1) / epsilon  # the documented scale, ≤ 0.1 % above Δ/ε
    assert b / (sensitivity / epsilon) <= 1.001
    # |X| of a Laplace(b) is exponential with mean b and sd b; X has mean 0 and sd √2·b.
    assert abs(np.abs(noise).mean() - b) < 4 * b / math.sqrt(N)
    assert abs(noise.mean()) < 4 * math.sqrt(2) * b / math.sqrt(N)
    # and the whole distribution: Kolmogorov–Smirnov against Laplace(b) (grid ≪ b)
    assert stats.kstest(noise, stats.laplace(scale=b).cdf).pvalue > 1e-4


def test_laplace_outputs_lie_on_the_grid_and_scalars_stay_scalars():
    out = dp.laplace_mechanism(np.array([[1.3, -7.25], [1e6, 0.0]]), sensitivity=1, epsilon=1, rng=3)
    g = dp.laplace_grid(1)
    assert out.shape == (2, 2) and np.all(out / g == np.round(out / g))
    scalar = dp.laplace_mechanism(5.0, sensitivity=1, epsilon=1, rng=3)
    assert isinstance(scalar, float) and (scalar / g).is_integer()


def test_seeded_noise_repeats_and_unseeded_noise_comes_from_the_os(monkeypatch):
    a = dp.laplace_mechanism(np.zeros(5), sensitivity=1, epsilon=1, rng=42)
    b = dp.laplace_mechanism(np.zeros(5), sensitivity=1, epsilon=1, rng=42)
    np.testing.assert_array_equal(a, b)
    calls, real = [], secrets.randbelow
    monkeypatch.setattr(secrets, "randbelow", lambda n: calls.append(n) or real(n))
    dp.laplace_mechanism(0.0, sensitivity=1, epsilon=1)
    dp.geometric_mechanism(0, epsilon=1)
    assert calls, "rng=None must draw from the OS CSPRNG (secrets)"
    # arrays are sampled vectorised, every random integer still from the OS (os.urandom)
    reads, urandom = [], os.urandom
    monkeypatch.setattr(os, "urandom", lambda n: reads.append(n) or urandom(n))
    monkeypatch.setattr(np.random, "default_rng", None)   # no numpy generator may be involved
    monkeypatch.setattr(np.random, "Generator", None)
    out = dp.laplace_mechanism(np.zeros(1000), sensitivity=1, epsilon=1)
    counts = dp.geometric_mechanism(np.zeros(1000, dtype=int), epsilon=1)
    assert reads and out.shape == (1000,) and counts.shape == (1000,)
    assert len(np.unique(out)) > 10 and len(np.unique(counts)) > 5


def test_a_seeded_scalar_release_draws_what_it_always_drew():
    # the vectorised sampler draws a single sample exactly as the one-at-a-time sampler did, so
    # the lessons' seeded scalar releases (and their checked outputs) are unchanged
    assert [dp.laplace_mechanism(0.0, sensitivity=1, epsilon=0.1, rng=s) for s in range(6)] == [
        -8.513671875, 5.123046875, 27.3115234375, -0.8564453125, -7.271484375, -15.16796875]
    assert [dp.geometric_mechanism(100, epsilon=0.5, rng=s) for s in range(6)] == [101, 100, 97, 97, 99, 105]
    assert [dp.dp_count([1] * 30, epsilon=0.4, rng=s) for s in range(6)] == [31, 29, 26, 28, 29, 36]


def test_the_vectorised_sampler_consumes_a_single_sample_like_the_scalar_one():
    for eps, steps in ((0.1, 1025), (3.0, 1), (2.0**-25, 2**20), (2.0**39, 7)):
        t, s = dp._noise_scale(steps, eps)
        assert t < 2**61 and s < 2**61
        for seed in range(40):
            vector, scalar = np.random.default_rng(seed), np.random.default_rng(seed)
            below, _ = dp._integer_source(vector)
            _, draw = dp._integer_source(scalar)
            assert dp._discrete_laplace_vector(t, s, 1, below)[0] == dp._discrete_laplace(t, s, draw)
            assert vector.bit_generator.state == scalar.bit_generator.state


@pytest.mark.parametrize("num, den", [(0, 7), (3, 10), (1, 1), (5, 7), (2**60 + 12345, 2**61 - 1)])
def test_the_vectorised_bernoulli_is_exactly_exp_minus_num_over_den(num, den):
    # den = 2^61 − 1 takes the branch that splits A ~ Bernoulli(γ/k) into two draws int64 can hold
    below, _ = dp._integer_source(np.random.default_rng(11))
    hits = dp._bernoulli_exp_minus_array(np.full(N, num, dtype=np.int64), den, below)
    p = math.exp(-num / den)
    assert abs(hits.mean() - p) < _four_se(p, N) + 1e-12


def test_the_os_sampler_is_uniform_below_its_bound():
    values = dp._os_below(10, 50_000)
    assert values.min() >= 0 and values.max() <= 9
    counts = np.bincount(values, minlength=10)
    statistic = ((counts - 5000) ** 2 / 5000).sum()
    assert statistic < stats.chi2.ppf(1 - 1e-4, 9)
    assert dp._os_below(1, 5).tolist() == [0] * 5
    big = dp._os_below(2**61 + 3, 1000)
    assert big.min() >= 0 and big.max() < 2**61 + 3 and big.max() > 2**59


def test_exact_division_never_overflows_int64():
    rng = np.random.default_rng(3)
    t, s = 2**60 - 93, 2**19 + 7
    u, v = rng.integers(0, t, size=200), np.concatenate([rng.integers(0, 5, size=100), np.full(100, 40)])
    expected = [(int(a) + t * int(b)) // s for a, b in zip(u, v, strict=True)]
    assert dp._floor_of(u, v, t, s).tolist() == expected


def _reference_discrete_laplace(t: int, s: int, size: int, seed: int) -> np.ndarray:
    """CKS20's Algorithms 1 and 2 transcribed from the paper, one sample at a time, in Python ints.

    Independent of dp.py: its own uniform source (random.Random.randrange, exact for any bound).
    """
    import random
    below = random.Random(seed).randrange

    def bernoulli_exp_minus(num: int, den: int) -> bool:      # Algorithm 1, γ = num/den ∈ [0, 1]
        k = 1
        while below(den * k) < num:                          # A ~ Bernoulli(γ/k)
            k += 1
        return k % 2 == 1

    out = []
    while len(out) < size:                                   # Algorithm 2, scale t/s
        u = below(t)
        if not bernoulli_exp_minus(u, t):
            continue
        v = 0
        while bernoulli_exp_minus(1, 1):
            v += 1
        y = (u + t * v) // s
        b = below(2)
        if b == 1 and y == 0:
            continue
        out.append(-y if b else y)
    return np.array(out, dtype=np.int64)


def _discrete_laplace_bins(t: int, s: int, bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges near equal probability under P[z] ∝ α^|z|, α = exp(−s/t), and each bin's exact mass."""
    alpha = math.exp(-s / t)
    k = math.ceil(t / s * math.log(2e7))                     # mass beyond ±k is below 1e-7
    z = np.arange(-k, k + 1)
    pmf = (1 - alpha) / (1 + alpha) * alpha ** np.abs(z)
    cdf = np.cumsum(pmf)
    edges = np.unique(z[np.searchsorted(cdf, np.linspace(0, 1, bins + 1)[1:-1])])  # bin j: z ≤ edges[j]
    upper = np.append(cdf[edges + k], 1.0)
    return edges, np.diff(np.concatenate([[0.0], upper]))


def _binned(sample: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.bincount(np.searchsorted(edges, sample, side="left"), minlength=edges.size + 1)


@pytest.mark.parametrize("t, s", [(3, 1), (7, 3), dp._noise_scale(1025, 0.1)])
def test_the_vectorised_sampler_and_a_scalar_reference_agree_in_distribution(t, s):
    """Many samples at once (dp's vectorised rounds) and one at a time (the paper's algorithm):
    each matches the exact pmf, and the two match each other (chi-square, false alarm < 1e-4)."""
    n = N
    vectorised = dp._discrete_laplace_array(t, s, n, rng=21)
    reference = _reference_discrete_laplace(t, s, n, seed=22)
    edges, mass = _discrete_laplace_bins(t, s)
    a, b = _binned(vectorised, edges), _binned(reference, edges)
    limit = stats.chi2.ppf(1 - 1e-4, edges.size)              # bins − 1 degrees of freedom
    for counts in (a, b):
        assert ((counts - n * mass) ** 2 / (n * mass)).sum() < limit
    assert ((a - b) ** 2 / (a + b)).sum() < limit             # two-sample homogeneity, equal sizes
    # the test has power: against a scale 10 % larger the same statistic rejects (it is ~150 here)
    wrong_edges, wrong_mass = _discrete_laplace_bins(t * 11, s * 10)
    wrong_counts = _binned(vectorised, wrong_edges)
    assert ((wrong_counts - n * wrong_mass) ** 2 / (n * wrong_mass)).sum() > limit


def test_laplace_noise_is_vectorised():
    # one sample at a time in Python took about 17 s per 10^6 values; now well under a second
    for rng in (0, None):
        start = time.perf_counter()
        noise = dp.laplace_mechanism(np.zeros(10**6), sensitivity=1, epsilon=0.5, rng=rng)
        assert time.perf_counter() - start < 5.0
        assert abs(np.abs(noise).mean() - 2 * (1 + 2**-10)) < 4 * 2.1 / math.sqrt(10**6)


def test_geometric_mechanism_matches_the_discrete_laplace_pmf_and_its_privacy_loss():
    epsilon = 0.8
    out = dp.geometric_mechanism(np.zeros(N, dtype=int), epsilon=epsilon, rng=1)
    assert out.dtype == np.int64
    alpha = math.exp(-epsilon)
    for k in range(-4, 5):
        p = (1 - alpha) / (1 + alpha) * alpha ** abs(k)
        assert abs(np.mean(out == k) - p) < _four_se(p, N), k
    # privacy loss: frequencies of neighbouring inputs (0 and 1) differ by at most e^ε
    shifted = dp.geometric_mechanism(np.ones(N, dtype=int), epsilon=epsilon, rng=2)
    for k in range(-2, 4):
        f0, f1 = np.mean(out == k), np.mean(shifted == k)
        se = math.sqrt((1 - f0) / (N * f0) + (1 - f1) / (N * f1))  # sd of log f0 − log f1
        assert abs(math.log(f0 / f1)) < epsilon + 4 * se


@pytest.mark.parametrize("epsilon, sensitivity", [(1e-6, 1), (2.0**-25, 2**20), (0.3, 2**20)])
def test_geometric_noise_has_the_discrete_laplace_scale_at_the_edges_of_its_range(epsilon, sensitivity):
    # tiny ε and large Δ: numerators near 2^60, the exact (Python int) division path included
    out = dp.geometric_mechanism(np.zeros(N, dtype=int), epsilon=epsilon, sensitivity=sensitivity, rng=4)
    t, s = dp._noise_scale(sensitivity, epsilon)
    alpha = math.exp(-s / t)
    mean_abs = 2 * alpha / (1 - alpha**2)                   # E|Z| of the discrete Laplace
    second = 2 * alpha / (1 - alpha) ** 2                   # E Z², an upper bound on Var|Z|
    assert abs(np.abs(out).mean() - mean_abs) < 4 * math.sqrt(second / N)
    assert t / s >= sensitivity / epsilon and t / s <= sensitivity / epsilon * (1 + 2**-10)


def test_epsilon_and_sensitivity_are_computed_in_their_range_and_refused_outside_it():
    g = dp.laplace_grid(1)
    for rng in (0, None):
        out = dp.laplace_mechanism(0.0, sensitivity=1, epsilon=1e-7, rng=rng)   # was: int64 out of bounds
        assert (out / g).is_integer() and math.isfinite(out)
    for eps in (dp.MIN_EPSILON, dp.MAX_EPSILON):
        assert np.all(np.isfinite(dp.laplace_mechanism(np.zeros(5), sensitivity=1, epsilon=eps, rng=1)))
    for sens in (dp.MIN_SENSITIVITY, dp.MAX_SENSITIVITY):
        out = dp.laplace_mechanism(np.zeros(5), sensitivity=sens, epsilon=dp.MIN_EPSILON, rng=2)
        grid = dp.laplace_grid(sens)
        assert np.all(np.isfinite(out)) and np.all(out / grid == np.round(out / grid))
    for eps in (1e-17, 1e-10, 2.0**41, 1e303):          # were: int64 bounds, OverflowError
        with pytest.raises(ValueError, match=r"epsilon must be in \[2\^-30, 2\^40\]"):
            dp.laplace_mechanism(0.0, sensitivity=1, epsilon=eps, rng=0)
        with pytest.raises(ValueError, match=r"epsilon must be in \[2\^-30, 2\^40\]"):
            dp.geometric_mechanism(0, epsilon=eps, rng=0)
    for sens in (2.0**-1070, 1e-300, 4e307, 2.0**961):  # were: ZeroDivisionError, a silent inf
        with pytest.raises(ValueError, match=r"sensitivity must be in \[2\^-980, 2\^960\]"):
            dp.laplace_mechanism(0.0, sensitivity=sens, epsilon=1, rng=0)
    with pytest.raises(ValueError, match=r"epsilon must be in \[2\^-29, 2\^40\]"):
        dp.dp_mean([1.0], lower=0, upper=1, epsilon=2.0**-30)   # its halves would fall below 2^-30
    with pytest.raises(ValueError, match="lower and upper"):
        dp.dp_sum([1.0], lower=-1e300, upper=1, epsilon=1)


def test_geometric_counts_never_wrap_around_int64():
    with pytest.raises(ValueError, match=r"count must be in \[-2\^62, 2\^62\]"):
        dp.geometric_mechanism(np.uint64(2**64 - 1), epsilon=1)          # was: -1, silently
    with pytest.raises(ValueError, match="count must be in"):
        dp.geometric_mechanism(np.array([5, 2**63 - 1]), epsilon=1)
    with pytest.raises(ValueError, match="count must be in"):
        dp.geometric_mechanism(2**70, epsilon=1)
    with pytest.raises(ValueError, match=r"sensitivity must be in \[1, 1048576\]"):
        dp.geometric_mechanism(5, epsilon=1, sensitivity=2**21)
    top = dp.geometric_mechanism(np.array([2**62, -(2**62)]), epsilon=1000, rng=0)
    assert top.tolist() == [2**62, -(2**62)]


# --- Gaussian -------------------------------------------------------------------------------


def _delta_by_integration(epsilon: float, sigma: float, sensitivity: float) -> float:
    """δ(ε) = ∫ max(0, p(x) − e^ε q(x)) dx for p = N(0, σ²), q = N(Δ, σ²): the definition."""
    p, q = stats.norm(0, sigma), stats.norm(sensitivity, sigma)
    # p > e^ε q exactly where x < Δ/2 − εσ²/Δ
    cut = sensitivity / 2 - epsilon * sigma**2 / sensitivity
    value, _ = integrate.quad(lambda x: p.pdf(x) - math.exp(epsilon) * q.pdf(x), -np.inf, cut,
                              epsabs=1e-14, epsrel=1e-10, limit=200)
    return value


@pytest.mark.parametrize("epsilon, delta, sensitivity", [
    (0.1, 1e-5, 1.0), (0.5, 1e-6, 2.0), (1.0, 1e-5, 1.0), (3.0, 1e-3, 0.5), (8.0, 1e-9, 1.0)])
def test_analytic_gaussian_sigma_meets_the_exact_condition_and_is_tight(epsilon, delta, sensitivity):
    sigma = dp.gaussian_sigma(sensitivity=sensitivity, epsilon=epsilon, delta=delta)
    assert dp.gaussian_delta(epsilon=epsilon, sigma=sigma, sensitivity=sensitivity) <= delta
    smaller = sigma * (1 - 1e-9)
    assert dp.gaussian_delta(epsilon=epsilon, sigma=smaller, sensitivity=sensitivity) > delta
    assert _delta_by_integration(epsilon, sigma, sensitivity) == pytest.approx(delta, rel=1e-6)
    assert dp.gaussian_epsilon(sigma=sigma, sensitivity=sensitivity, delta=delta) == pytest.approx(epsilon)
    if epsilon < 1:
        classic = dp.gaussian_sigma(sensitivity=sensitivity, epsilon=epsilon, delta=delta, method="classic")
        assert classic == pytest.approx(math.sqrt(2 * math.log(1.25 / delta)) * sensitivity / epsilon)
        assert classic > sigma


@pytest.mark.parametrize("sensitivity", [1e-11, 1e-9, 1e-200, 3.5, 1e200])
def test_gaussian_sigma_is_solved_in_units_of_the_sensitivity(sensitivity):
    # σ/Δ depends only on ε and δ: one calibration, as exact for Δ = 1e-11 as for Δ = 1
    start = time.perf_counter()
    sigma = dp.gaussian_sigma(sensitivity=sensitivity, epsilon=1, delta=1e-5)   # 1e-11 used to hang
    assert time.perf_counter() - start < 2.0
    assert sigma / sensitivity == pytest.approx(dp.gaussian_sigma(sensitivity=1, epsilon=1, delta=1e-5),
                                                rel=4e-16)                      # 1e-9 was off by 1e-8
    assert dp.gaussian_delta(epsilon=1, sigma=sigma, sensitivity=sensitivity) <= 1e-5
    assert dp.gaussian_delta(epsilon=1, sigma=sigma * (1 - 1e-9), sensitivity=sensitivity) > 1e-5
    assert dp.gaussian_epsilon(sigma=sigma, sensitivity=sensitivity, delta=1e-5) == pytest.approx(1.0)


@pytest.mark.parametrize("epsilon", [dp.MIN_EPSILON, 1e-4, 50.0, 1e6, dp.MAX_EPSILON])
def test_gaussian_calibration_holds_across_the_epsilon_range(epsilon):
    sigma = dp.gaussian_sigma(sensitivity=1, epsilon=epsilon, delta=1e-6)
    assert math.isfinite(sigma) and sigma > 0
    assert dp.gaussian_delta(epsilon=epsilon, sigma=sigma, sensitivity=1) <= 1e-6
    assert dp.gaussian_delta(epsilon=epsilon, sigma=sigma * (1 - 1e-9), sensitivity=1) > 1e-6


def test_gaussian_epsilon_names_sigma_when_the_noise_is_too_small():
    with pytest.raises(ValueError, match="sigma must be at least"):      # blamed "epsilon" before
        dp.gaussian_epsilon(sigma=1e-300, sensitivity=1, delta=1e-5)
    with pytest.raises(ValueError, match="sigma must be at least"):
        dp.gaussian_epsilon(sigma=1e-100, sensitivity=1e200, delta=1e-5)
    assert dp.gaussian_epsilon(sigma=1e300, sensitivity=1e-200, delta=1e-5) == 0.0
    assert dp.gaussian_delta(epsilon=0, sigma=1e300, sensitivity=1e-200) == 0.0
    assert dp.gaussian_delta(epsilon=2.0**40, sigma=1e-300, sensitivity=1e200) == 1.0
    with pytest.raises(ValueError, match="value must be at most"):
        dp.gaussian_mechanism(1e308, sensitivity=1, epsilon=1, delta=1e-5, rng=0)


def test_classic_gaussian_refuses_epsilon_of_one_or_more():
    with pytest.raises(ValueError, match=r"epsilon must be in \(0, 1\) for method='classic'"):
        dp.gaussian_sigma(sensitivity=1, epsilon=1.0, delta=1e-5, method="classic")
    with pytest.raises(ValueError, match="method"):
        dp.gaussian_sigma(sensitivity=1, epsilon=0.5, delta=1e-5, method="fast")
    with pytest.raises(TypeError, match="method"):
        dp.gaussian_sigma(sensitivity=1, epsilon=0.5, delta=1e-5, method=None)


def test_gaussian_mechanism_noise_has_the_calibrated_sigma():
    sigma = dp.gaussian_sigma(sensitivity=2, epsilon=1, delta=1e-5)
    noise = dp.gaussian_mechanism(np.zeros(N), sensitivity=2, epsilon=1, delta=1e-5, rng=0)
    assert abs(noise.std() - sigma) < 4 * sigma / math.sqrt(2 * N)
    assert abs(noise.mean()) < 4 * sigma / math.sqrt(N)
    assert isinstance(dp.gaussian_mechanism(1.0, sensitivity=1, epsilon=1, delta=1e-5, rng=0), float)


# --- exponential mechanism and randomized response -------------------------------------------


def test_exponential_mechanism_selects_proportionally_to_exp_eps_u_over_2_delta():
    utilities, epsilon, sensitivity = [0.0, 1.0, 2.0, 4.0], 1.0, 2.0
    expected = np.exp(epsilon * np.array(utilities) / (2 * sensitivity))
    expected /= expected.sum()
    p = dp.exponential_mechanism_probabilities(utilities, epsilon=epsilon, sensitivity=sensitivity)
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    rng = np.random.default_rng(5)
    picks = np.array([dp.exponential_mechanism(utilities, epsilon=epsilon, sensitivity=sensitivity,
                                               rng=rng) for _ in range(N)])
    for i, pi in enumerate(expected):
        assert abs(np.mean(picks == i) - pi) < _four_se(pi, N)


def test_exponential_probabilities_never_overflow_into_nan():
    p = dp.exponential_mechanism_probabilities([1e308, -1e308, 5.0, 1e308], epsilon=dp.MAX_EPSILON,
                                               sensitivity=dp.MIN_SENSITIVITY)
    assert np.all(np.isfinite(p)) and p.tolist() == [0.5, 0.0, 0.0, 0.5]
    with pytest.raises(ValueError, match="epsilon must be in"):           # was: NaN probabilities
        dp.exponential_mechanism_probabilities([1.0, 1.0], epsilon=1e308, sensitivity=1)
    with pytest.raises(ValueError, match="utilities must be a 1-d array"):
        dp.exponential_mechanism_probabilities([[1.0, 2.0]], epsilon=1, sensitivity=1)


def test_randomized_response_keeps_the_truth_with_the_right_probability():
    epsilon = 1.0
    truth = np.ones(N, dtype=bool)
    keep = np.mean(dp.randomized_response(truth, epsilon=epsilon, rng=0))
    p = math.exp(epsilon) / (1 + math.exp(epsilon))
    assert abs(keep - p) < _four_se(p, N)


def test_randomized_response_estimate_refuses_what_is_not_a_bit_and_keeps_its_precision():
    for bad in ([None, 5], [0.5, 1], [np.nan, 1], ["1", "0"], [2, 0]):   # [None, 5] was: nan
        with pytest.raises(TypeError, match="responses must hold booleans or 0/1 values"):
            dp.randomized_response_estimate(bad, epsilon=1)
    with pytest.raises(TypeError, match="truth must hold booleans"):
        dp.randomized_response([None, 1], epsilon=1)
    assert dp.randomized_response_estimate([1, 0, 1.0, True], epsilon=1) == pytest.approx(
        (0.75 - 1 / (1 + math.e)) / ((math.e - 1) / (math.e + 1)))
    # small ε: p = e^ε/(1 + e^ε) and 2p − 1 = expm1(ε)/(expm1(ε) + 2), without cancellation
    eps = 2.0**-30
    p = 1 / (1 + math.exp(-eps))
    exact = p / (math.expm1(eps) / (math.expm1(eps) + 2))
    assert dp.randomized_response_estimate([True] * 4, epsilon=eps) == pytest.approx(exact, rel=1e-12)


def test_randomized_response_estimator_is_unbiased():
    epsilon, pi, people, repeats = 0.5, 0.3, 1000, 2000
    rng = np.random.default_rng(7)
    truth = rng.random(people) < pi
    true_fraction = truth.mean()
    estimates = np.array([dp.randomized_response_estimate(
        dp.randomized_response(truth, epsilon=epsilon, rng=rng), epsilon=epsilon) for _ in range(repeats)])
    assert abs(estimates.mean() - true_fraction) < 4 * estimates.std() / math.sqrt(repeats)


# --- queries ----------------------------------------------------------------------------------


def test_queries_clip_and_land_near_the_truth_at_large_epsilon():
    values = np.array([-50.0, 10.0, 20.0, 30.0, 1e6])
    # clipped to [0, 100]: 0 + 10 + 20 + 30 + 100 = 160; noise scale 100/1000 = 0.1
    assert dp.dp_sum(values, lower=0, upper=100, epsilon=1000, rng=0) == pytest.approx(160, abs=2)
    assert dp.dp_mean(values, lower=0, upper=100, epsilon=1000, rng=0) == pytest.approx(32, abs=1)
    assert dp.dp_count(values, epsilon=1000, rng=0) == 5
    hist = dp.dp_histogram(values, bins=[0, 15, 25, 35], epsilon=1000, rng=0)
    np.testing.assert_array_equal(hist, [1, 1, 1])
    assert 0 <= dp.dp_mean([5.0], lower=0, upper=10, epsilon=0.01, rng=1) <= 10


def test_dp_sum_noise_scale_is_the_largest_bound():
    sums = [dp.dp_sum([1.0, 2.0], lower=-4, upper=2, epsilon=1.0, rng=s) for s in range(4000)]
    b = 4.0 * (1 + 2**-10)  # Δ = max(|−4|, |2|) = 4, on its grid
    assert abs(np.mean(np.abs(np.array(sums) - 3.0)) - b) < 4 * b / math.sqrt(4000)


@pytest.mark.parametrize("bad, error, match", [
    ({"epsilon": 0}, ValueError, r"epsilon must be in \[2\^-30, 2\^40\] .*got 0"),
    ({"epsilon": -1}, ValueError, r"epsilon must be in \[2\^-30, 2\^40\]"),
    ({"epsilon": float("nan")}, ValueError, "epsilon must be a finite number"),
    ({"epsilon": float("inf")}, ValueError, "epsilon must be a finite number"),
    ({"epsilon": 10**400}, ValueError, "epsilon must be a finite number"),
    ({"epsilon": "1"}, TypeError, "epsilon must be a real number"),
    ({"epsilon": b"1"}, TypeError, "epsilon must be a real number"),
    ({"epsilon": True}, TypeError, "epsilon must be a real number"),
    ({"sensitivity": 0}, ValueError, r"sensitivity must be in \[2\^-980, 2\^960\]"),
    ({"sensitivity": -2}, ValueError, "sensitivity"),
    ({"delta": 0}, ValueError, r"delta must be in \(0, 1\)"),
    ({"delta": 1}, ValueError, r"delta must be in \(0, 1\)"),
    ({"delta": 1.5}, ValueError, "delta"),
])
def test_bad_privacy_parameters_name_the_parameter_and_range(bad, error, match):
    args = {"sensitivity": 1.0, "epsilon": 1.0, "delta": 1e-5, **bad}
    with pytest.raises(error, match=match):
        dp.gaussian_sigma(**args)
    if "delta" not in bad:
        with pytest.raises(error, match=match):
            dp.laplace_mechanism(1.0, sensitivity=args["sensitivity"], epsilon=args["epsilon"])


def test_bad_data_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="lower must be <= upper"):
        dp.dp_sum([1.0], lower=5, upper=1, epsilon=1)
    for query in (dp.dp_sum, dp.dp_mean):
        with pytest.raises(ValueError, match="values must not be empty"):
            query([], lower=0, upper=1, epsilon=1)
        with pytest.raises(TypeError, match="values must be numeric"):
            query(["a", "b"], lower=0, upper=1, epsilon=1)
        with pytest.raises(ValueError, match="values must be finite"):
            query([1.0, float("nan")], lower=0, upper=1, epsilon=1)
    with pytest.raises(ValueError, match="values must not be empty"):
        dp.dp_count([], epsilon=1)
    with pytest.raises(ValueError, match="bins"):
        dp.dp_histogram([1.0], bins=[3, 1], epsilon=1)
    with pytest.raises(TypeError, match="count must be an integer"):
        dp.geometric_mechanism(1.5, epsilon=1)
    with pytest.raises(TypeError, match="rng must be"):
        dp.gaussian_mechanism(1.0, sensitivity=1, epsilon=1, delta=1e-5, rng="seed")
    with pytest.raises(TypeError, match="truth must hold booleans"):
        dp.randomized_response([0, 2], epsilon=1)
    with pytest.raises(ValueError, match="value must be at most"):
        dp.laplace_mechanism(1e300, sensitivity=1, epsilon=1)


@pytest.mark.parametrize("call", [
    lambda v: dp.laplace_mechanism(v, sensitivity=1, epsilon=1, rng=0),
    lambda v: dp.gaussian_mechanism(v, sensitivity=1, epsilon=1, delta=1e-5, rng=0),
    lambda v: dp.dp_sum(v, lower=0, upper=5, epsilon=1, rng=0),
    lambda v: dp.dp_mean(v, lower=0, upper=5, epsilon=1, rng=0),
    lambda v: dp.dp_histogram(v, bins=[0, 1, 2], epsilon=1, rng=0),
    lambda v: dp.exponential_mechanism_probabilities(v, epsilon=1, sensitivity=1),
])
def test_text_bytes_none_and_ragged_lists_are_not_numbers(call):
    for bad in ("1", b"1", ["1", "2"], [b"1"], None, [None, 1.0], [[1.0, [2.0]]], [1 + 2j]):
        with pytest.raises(TypeError, match="must be"):                   # "1" and b"1" were released
            call(bad)


def test_dp_count_takes_a_collection_of_records():
    for bad in (None, 5, 2.5):
        with pytest.raises(TypeError, match="values must be a sequence of records"):
            dp.dp_count(bad, epsilon=1)
    for bad in ("abc", b"abc"):                                            # "abc" counted 3 records
        with pytest.raises(TypeError, match="values must be a collection of records"):
            dp.dp_count(bad, epsilon=1)
    with pytest.raises(ValueError, match="values must hold at most"):
        dp.dp_count(range(10**20), epsilon=1)
    assert isinstance(dp.dp_count(np.zeros((7, 2)), epsilon=1000, rng=0), int)


def test_per_coordinate_noise_is_one_calibration_for_every_dimension():
    dims = np.array([1, 2, 50, 10**6, 2**40])
    noise = dp.per_coordinate_noise_std(dims, epsilon=0.7, delta=1e-6)
    expected = [dp.gaussian_sigma(sensitivity=math.sqrt(d), epsilon=0.7, delta=1e-6) for d in dims]
    assert noise["gaussian"].tolist() == expected
    start = time.perf_counter()
    many = dp.per_coordinate_noise_std(np.arange(1, 100_001), epsilon=1, delta=1e-5)
    assert many["gaussian"].shape == (100_000,)
    assert time.perf_counter() - start < 5.0
    with pytest.raises(ValueError, match="dimensions must hold at most"):
        dp.per_coordinate_noise_std(np.ones(100_001, dtype=int), epsilon=1, delta=1e-5)
    with pytest.raises(TypeError, match="dimensions must be positive integers"):
        dp.per_coordinate_noise_std([1.5], epsilon=1, delta=1e-5)
    with pytest.raises(ValueError, match="dimensions must be integers in"):
        dp.per_coordinate_noise_std([0, 3], epsilon=1, delta=1e-5)


# --- the sparse vector technique ----------------------------------------------------------------


def _svt_true_probability(x: float, epsilon: float, c: int = 1) -> float:
    """P[one answer at threshold + x is reported above]: P[ν − ρ ≥ −x], ρ ~ Lap(2/ε), ν ~ Lap(4c/ε)."""
    b_rho, b_nu = 2 / epsilon, 4 * c / epsilon
    density = stats.laplace(scale=b_rho).pdf
    return integrate.quad(lambda r: density(r) * stats.laplace(scale=b_nu).sf(r - x), -60 * b_rho, 60 * b_rho,
                          points=[0.0, x], limit=200)[0]


@pytest.mark.parametrize("x", [-4.0, 0.0, 3.0])
def test_sparse_vector_has_the_noise_of_lyu_su_li_algorithm_1(x):
    """Threshold noise Lap(Δ/(ε/2)), answer noise Lap(2cΔ/(ε/2)): the first verdict's probability."""
    rng = np.random.default_rng(16)
    hits = sum(dp.sparse_vector([x], threshold=0.0, epsilon=1.0, rng=rng)[0] for _ in range(N // 4))
    p = _svt_true_probability(x, 1.0)
    assert abs(hits / (N // 4) - p) < _four_se(p, N // 4) + 0.002   # 0.002: the grid's rounding


def test_sparse_vector_meets_its_epsilon_on_neighbouring_answers():
    """Every outcome (the index of the first True) is at most e^ε more likely on either neighbour."""
    n, eps = N // 2, 1.0
    rng = np.random.default_rng(5)
    here, there = np.zeros(5, dtype=int), np.zeros(5, dtype=int)
    for counts, answers in ((here, [0.0, 0.0, 0.0, 0.0]), (there, [1.0, 1.0, 1.0, 1.0])):
        for _ in range(n):
            out = dp.sparse_vector(answers, threshold=3.0, epsilon=eps, rng=rng)
            counts[out.index(True) if True in out else 4] += 1
    for a, b in ((here, there), (there, here)):
        p_a, p_b = a / n, b / n
        bound = math.exp(eps) * p_b + np.array([_four_se(p, n) for p in p_a]) * (1 + math.exp(eps))
        assert np.all(p_a <= bound)
    assert there[0] > here[0]     # and it is not trivially private: larger answers cross more often


def test_sparse_vector_halts_after_max_above_and_reads_lazily():
    read = []

    def answers():
        for i in range(1000):
            read.append(i)
            yield 1e6 if i % 10 == 9 else -1e6
    out = dp.sparse_vector(answers(), threshold=0.0, epsilon=1.0, max_above=3, rng=0)
    assert out.count(True) == 3 and out[-1] is True and len(out) == 30 and read == list(range(30))
    assert dp.sparse_vector([-1e6] * 50, threshold=0.0, epsilon=1.0, rng=0) == [False] * 50


def test_sparse_vector_books_one_epsilon_however_many_answers_and_refuses_before_reading():
    from leptonkit import accounting
    from leptonkit.errors import PrivacyBudgetExceeded

    ledger = accounting.PrivacyAccountant(1.0)
    dp.sparse_vector([-1e6] * 500, threshold=0.0, epsilon=0.75, rng=1, accountant=ledger)
    assert ledger.spent == pytest.approx((0.75, 0.0)) and len(ledger.history) == 1
    read = []

    def answers():
        read.append(1)
        yield 0.0
    with pytest.raises(PrivacyBudgetExceeded):
        dp.sparse_vector(answers(), threshold=0.0, epsilon=0.5, rng=1, accountant=ledger)
    assert read == [] and ledger.spent == pytest.approx((0.75, 0.0))

    def broken():
        yield 0.0
        raise RuntimeError("the data source failed")
    fresh = accounting.PrivacyAccountant(1.0)
    with pytest.raises(RuntimeError):
        dp.sparse_vector(broken(), threshold=5.0, epsilon=0.5, rng=1, accountant=fresh)
    assert fresh.spent == (0.0, 0.0)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"answers": "123"}, TypeError, "answers"), ({"answers": 5}, TypeError, "answers"),
    ({"answers": [-1e6, "x"]}, TypeError, r"answers\[1\]"),
    ({"answers": [float("nan")]}, ValueError, "answers"),
    ({"threshold": None}, TypeError, "threshold"), ({"threshold": 1e300}, ValueError, "threshold"),
    ({"epsilon": 0.0}, ValueError, "epsilon"), ({"sensitivity": -1.0}, ValueError, "sensitivity"),
    ({"max_above": 0}, ValueError, "max_above"), ({"max_above": 1.5}, TypeError, "max_above"),
    ({"monotonic": "yes"}, TypeError, "monotonic"), ({"answers": [1e300]}, ValueError, r"answers\[0\]"),
])
def test_sparse_vector_names_a_bad_argument(kwargs, error, name):
    args = {"answers": [1.0, 2.0], "threshold": 0.0, "epsilon": 1.0, "rng": 0, **kwargs}
    with pytest.raises(error, match=name):
        dp.sparse_vector(**args)


# --- the argument checks every module shares -------------------------------------------------


def test_check_real_refuses_text_bytes_bools_and_numbers_too_large_for_a_float():
    with pytest.raises(ValueError, match="x must be a finite number"):    # was: OverflowError
        check_real(10**400, "x")
    with pytest.raises(ValueError, match="an int of 1329 bits"):
        check_real(-(10**400), "x", low=0.0)
    for bad in ("1", b"1", bytearray(b"1"), True, np.bool_(False), None, [1.0], 1j):
        with pytest.raises(TypeError, match="x must be a real number"):
            check_real(bad, "x")
    for good in (np.float32(0.5), np.float16(0.5), np.int8(3), np.uint64(7), np.longdouble(2.5), 3):
        assert check_real(good, "x") == float(good)


def test_check_int_refuses_text_bytes_bools_and_floats_and_takes_numpy_integers():
    for bad in ("1", b"1", True, np.bool_(True), 2.0, np.float64(2.0), None):
        with pytest.raises(TypeError, match="n must be an int"):
            check_int(bad, "n")
    for good in (np.int8(3), np.uint64(2**64 - 1), np.int64(-5), 10**30):
        assert check_int(good, "n") == int(good)
    with pytest.raises(ValueError, match=r"n must be in \[1, 2\^62\], got an int of 1329 bits"):
        check_int(10**400, "n", low=1, high=2**62)


def test_gaussian_beats_laplace_per_coordinate_only_for_many_coordinates():
    noise = dp.per_coordinate_noise_std([1, 100], epsilon=1, delta=1e-5)
    assert noise["laplace"][0] < noise["gaussian"][0] and noise["laplace"][1] > noise["gaussian"][1]
