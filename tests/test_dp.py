"""leptonkit.dp against the defining properties of each mechanism.

Statistical tests use fixed seeds; every tolerance is four standard errors of the statistic
under the distribution the mechanism promises (a false alarm has probability < 1e-4 per check).
"""

from __future__ import annotations

import math
import secrets

import numpy as np
import pytest
from scipy import integrate, stats

from leptonkit import dp

N = 20_000


def _four_se(p: float, n: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


# --- Laplace --------------------------------------------------------------------------------


def test_laplace_scale_is_sensitivity_over_epsilon():
    assert dp.laplace_scale(1, 0.5) == 2.0
    assert dp.laplace_scale(3.0, 1.5) == 2.0


@pytest.mark.parametrize("sensitivity, epsilon", [(1.0, 0.5), (250.0, 2.0), (0.01, 0.1)])
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


def test_classic_gaussian_refuses_epsilon_of_one_or_more():
    with pytest.raises(ValueError, match=r"epsilon must be in \(0, 1\) for method='classic'"):
        dp.gaussian_sigma(sensitivity=1, epsilon=1.0, delta=1e-5, method="classic")
    with pytest.raises(ValueError, match="method"):
        dp.gaussian_sigma(sensitivity=1, epsilon=0.5, delta=1e-5, method="fast")


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


def test_randomized_response_keeps_the_truth_with_the_right_probability():
    epsilon = 1.0
    truth = np.ones(N, dtype=bool)
    keep = np.mean(dp.randomized_response(truth, epsilon=epsilon, rng=0))
    p = math.exp(epsilon) / (1 + math.exp(epsilon))
    assert abs(keep - p) < _four_se(p, N)


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
    ({"epsilon": 0}, ValueError, r"epsilon must be in \(0, inf\), got 0"),
    ({"epsilon": -1}, ValueError, r"epsilon must be in \(0, inf\)"),
    ({"epsilon": float("nan")}, ValueError, "epsilon must be a finite number"),
    ({"epsilon": float("inf")}, ValueError, "epsilon must be a finite number"),
    ({"epsilon": "1"}, TypeError, "epsilon must be a real number"),
    ({"sensitivity": 0}, ValueError, r"sensitivity must be in \(0, inf\)"),
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


def test_gaussian_beats_laplace_per_coordinate_only_for_many_coordinates():
    noise = dp.per_coordinate_noise_std([1, 100], epsilon=1, delta=1e-5)
    assert noise["laplace"][0] < noise["gaussian"][0] and noise["laplace"][1] > noise["gaussian"][1]
