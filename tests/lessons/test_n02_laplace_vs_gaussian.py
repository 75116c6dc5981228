"""Notebook 02's exercises accept right answers and refuse wrong ones; compare_mechanisms is consistent."""

from __future__ import annotations

import math

import pytest
from scipy import integrate

from leptonkit import dp
from leptonkit.lessons.n02_laplace_vs_gaussian import compare_mechanisms, mechanism_explorer


def _ratio_at_50():
    noise = dp.per_coordinate_noise_std([50], epsilon=1, delta=1e-5)
    ratio = float(noise["laplace"][0] / noise["gaussian"][0])
    return [ratio], [1.0, 1 / ratio]


ANSWERS = {
    "02.1": lambda: ([20_000, 20_000.0], [500, 20_500, 19_500]),
    "02.2": lambda: ([math.exp(-2.5)], [math.exp(-5), 0.5]),
    "02.3": lambda: ([2 * math.log(1.25)], [math.log(1.5), 1.0]),
    "02.4": _ratio_at_50,
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
