"""Notebook 02's exercises accept right answers and refuse wrong ones; compare_mechanisms is consistent."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from leptonkit import dp
from leptonkit.exercises import check
from leptonkit.lessons.n02_laplace_vs_gaussian import (
    _WRONG_TRIES,
    compare_mechanisms,
    gaussian_privacy_loss,
    mechanism_explorer,
)


def _ratio_at_50():
    noise = dp.per_coordinate_noise_std([50], epsilon=1, delta=1e-5)
    ratio = float(noise["laplace"][0] / noise["gaussian"][0])
    return [ratio], [1.0, 1 / ratio]


def _geometric_histogram(values, edges, epsilon, rng):
    counts, _ = np.histogram(values, bins=edges)
    return dp.geometric_mechanism(counts, epsilon=epsilon, sensitivity=1, rng=rng)


def _laplace_histogram(values, edges, epsilon, rng):
    counts, _ = np.histogram(values, bins=edges)
    return dp.laplace_mechanism(counts.astype(float), sensitivity=1, epsilon=epsilon, rng=rng)


def _histograms():
    def no_noise(values, edges, epsilon, rng):
        return np.histogram(values, bins=edges)[0]

    def one_per_bin(values, edges, epsilon, rng):    # Δ = number of bins: private, but wasteful
        counts, _ = np.histogram(values, bins=edges)
        return dp.geometric_mechanism(counts, epsilon=epsilon, sensitivity=len(counts), rng=rng)

    def half_the_noise(values, edges, epsilon, rng):
        return _geometric_histogram(values, edges, 2 * epsilon, rng)

    def clipped(values, edges, epsilon, rng):        # biased: counts shifted down by 1
        return _geometric_histogram(values, edges, epsilon, rng) - 1

    def one_total(values, edges, epsilon, rng):
        return np.array([dp.geometric_mechanism(len(values), epsilon=epsilon, rng=rng)])
    return ([_geometric_histogram, _laplace_histogram],
            [no_noise, one_per_bin, half_the_noise, clipped, one_total, "histogram"])


ANSWERS = {
    "02.1": lambda: ([20_000, 20_000.0], [500, 20_500, 19_500]),
    "02.2": lambda: ([math.exp(-2.5)], [math.exp(-5), 0.5]),
    "02.3": lambda: ([2 * math.log(1.25)], [math.log(1.5), 1.0]),
    "02.4": _ratio_at_50,
    "02.5": _histograms,
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_compare_mechanisms_reports_consistent_numbers():
    r = compare_mechanisms(sensitivity=1, epsilon=1, delta=1e-5)
    assert r["laplace_scale"] == 1 and r["gaussian_sigma"] == pytest.approx(3.7306, abs=1e-4)
    assert integrate.trapezoid(r["laplace_density"], r["x"]) == pytest.approx(1, abs=0.01)
    assert integrate.trapezoid(r["gaussian_density"], r["x"]) == pytest.approx(1, abs=0.01)
    # the observer's best guess never beats the ε-DP bound e^ε / (1 + e^ε)
    assert r["laplace_guess_probability"] <= math.exp(1) / (1 + math.exp(1))


def test_compare_mechanisms_names_a_bad_argument():
    with pytest.raises(ValueError, match="sensitivity must be in"):
        compare_mechanisms(sensitivity=0, epsilon=1, delta=1e-5)
    with pytest.raises(ValueError, match="epsilon must be in"):
        compare_mechanisms(sensitivity=1, epsilon=-1, delta=1e-5)
    with pytest.raises(ValueError, match="points must be in"):
        compare_mechanisms(sensitivity=1, epsilon=1, delta=1e-5, points=3)


def test_compare_mechanisms_bounds_its_grid():
    with pytest.raises(ValueError, match=r"points must be in \[11, 100001\]"):   # was: MemoryError
        compare_mechanisms(sensitivity=1, epsilon=1, delta=1e-5, points=10**9)
    with pytest.raises(TypeError, match="points must be an int"):
        compare_mechanisms(sensitivity=1, epsilon=1, delta=1e-5, points=401.0)
    with pytest.raises(TypeError, match="delta must be a real number"):
        compare_mechanisms(sensitivity=1, epsilon=1, delta="1e-5")
    assert compare_mechanisms(sensitivity=1, epsilon=1, delta=1e-5, points=100_001)["x"].size == 100_001


@pytest.mark.parametrize("kwargs, error, name", [
    ({"epsilon": "1"}, TypeError, "epsilon"), ({"epsilon": 100.0}, ValueError, "epsilon"),
    ({"delta": None}, TypeError, "delta"), ({"delta": 0.5}, ValueError, "delta"),
    ({"sensitivity": [1.0]}, TypeError, "sensitivity"), ({"sensitivity": 0.1}, ValueError, "sensitivity"),
])
def test_mechanism_explorer_refuses_starting_values_off_its_sliders(kwargs, error, name):
    with pytest.raises(error, match=name):
        mechanism_explorer(**kwargs)


def test_hints_reveal_one_more_step_per_wrong_try(capsys):
    _WRONG_TRIES.clear()
    outputs = []
    for _ in range(3):
        assert check("02.2", 0.5) is False
        outputs.append(capsys.readouterr().out)
    assert "Hint:" in outputs[0] and "Second hint" not in outputs[0]
    assert "Second hint: P[|X| > t] = exp(−t/b)" in outputs[1]
    assert outputs[2].count("Second hint") == 1 and "Third" not in outputs[2]   # 02.2 has two hints in all
    for _ in range(3):
        check("02.5", "histogram")
    out = capsys.readouterr().out
    assert "Third hint: dp.geometric_mechanism" in out
    assert "dp.geometric_mechanism(" not in out        # a hint, never the whole call


@pytest.mark.parametrize("z, eps", [(0.5, 1.0), (3.7306, 1.0), (10.0, 0.05), (1.0, 0.0)])
def test_delta_is_the_weighted_tail_of_the_privacy_loss(z, eps):
    r = gaussian_privacy_loss(noise_multiplier=z, epsilon=eps, points=20_001)
    assert r["delta"] == pytest.approx(dp.gaussian_delta(epsilon=eps, sigma=z, sensitivity=1))
    assert integrate.trapezoid(r["weighted_density"], r["loss"]) == pytest.approx(r["delta"], rel=1e-3,
                                                                                 abs=1e-9)
    assert integrate.trapezoid(r["density"], r["loss"]) == pytest.approx(1, abs=1e-6)
    assert r["tail_probability"] >= r["delta"]      # probabilistic DP asks more than (ε, δ)-DP


def test_gaussian_privacy_loss_names_bad_arguments():
    with pytest.raises(ValueError, match="noise_multiplier"):
        gaussian_privacy_loss(noise_multiplier=0.0, epsilon=1.0)
    with pytest.raises(ValueError, match="epsilon"):
        gaussian_privacy_loss(noise_multiplier=1.0, epsilon=-1.0)
    with pytest.raises(TypeError, match="points"):
        gaussian_privacy_loss(noise_multiplier=1.0, epsilon=1.0, points=10.5)
