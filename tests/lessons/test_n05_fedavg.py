"""Notebook 05's exercises accept right answers and refuse wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from leptonkit import accounting, attacks, datasets, fl, models
from leptonkit.lessons.n05_fedavg import LEAKED_RECORD


def _bytes_up():
    n_params = sum(p.numel() for p in models.mlp(64, 10).parameters())
    return [4 * n_params], [n_params, 8 * n_params]


def _skewed_labels():
    _, _, y, _ = datasets.digits()
    labels = len(np.unique(y[fl.partition(y, 10, alpha=0.1, rng=0)[0]]))
    return [labels], [labels + 1, 10]


def _dp_noise():
    sigma = accounting.noise_multiplier_for_epsilon(target_epsilon=5, sample_rate=0.1, steps=50, delta=1e-5)
    return [sigma], [sigma * 0.9, sigma * 1.2]


def _reconstruction():
    X, _, y, _ = datasets.digits()
    model = models.mlp(64, 10)
    record = slice(LEAKED_RECORD, LEAKED_RECORD + 1)
    leaked = attacks.client_gradient(model, X[record], y[record])
    rebuilt = attacks.gradient_inversion(model, leaked, n_features=64)["reconstruction"]
    return [rebuilt, X[LEAKED_RECORD]], [X[LEAKED_RECORD + 1], rebuilt[:32], np.zeros(64)]


ANSWERS = {"05.1": _bytes_up, "05.2": _skewed_labels, "05.3": _dp_noise, "05.4": _reconstruction}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())
