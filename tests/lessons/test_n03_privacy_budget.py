"""Notebook 03's exercises accept right answers and refuse wrong ones."""

from __future__ import annotations

import math

import pytest

from leptonkit import accounting


def _advanced():
    advanced = math.sqrt(2 * 200 * math.log(1e6)) * 0.05 + 200 * 0.05 * math.expm1(0.05)
    return [advanced], [10.0, advanced * 1.05]


def _calibrated():
    z = accounting.noise_multiplier_for_epsilon(target_epsilon=3, sample_rate=0.01, steps=2000, delta=1e-5)
    return [z], [z * 0.9, z * 1.2]


ANSWERS = {
    "03.1": lambda: ([6], [5, 7]),
    "03.2": _advanced,
    "03.3": _calibrated,
    "03.4": lambda: ([313], [312, 400]),
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())
