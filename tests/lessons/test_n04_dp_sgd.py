"""Notebook 04's exercises accept right answers and refuse wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from leptonkit import datasets, dpsgd, models
from leptonkit.lessons import n04_dp_sgd as lesson
from leptonkit.lessons.n04_dp_sgd import first_batch


def _gradients():
    model, X, y = first_batch()
    return dpsgd.per_sample_gradients(model, X, y)


def _clipped():
    clipped = int((dpsgd.clip_and_sum(_gradients(), 3.0)[1] > 3.0).sum())
    return [clipped], [clipped + 1, 32]


def _influence():
    grads = _gradients()
    total = dpsgd.clip_and_sum(grads, 0.5)[0]
    without = dpsgd.clip_and_sum({k: g[1:] for k, g in grads.items()}, 0.5)[0]
    influence = float(torch.sqrt(sum((total[k] - without[k]).pow(2).sum() for k in total)))
    return [influence], [influence * 1.01, 0.6]


def _trained():
    X, _, y, _ = datasets.digits()
    trained_eps2 = dpsgd.train(models.mlp(64, 10), X, y, target_epsilon=2.0, rng=0, progress=False)
    small_eps8 = dpsgd.train(models.mlp(64, 10), X, y, target_epsilon=8.0, epochs=2, rng=0, progress=False)
    return [trained_eps2], [small_eps8, "model"]


def _attack():
    """The learner's attack, written independently: rank-based threshold at the 18th-highest non-member."""
    X, X_test, y, y_test = datasets.digits()
    model = lesson.ordinary_model()
    with torch.no_grad():
        def scores(X_, y_):
            return -torch.nn.functional.cross_entropy(model(torch.tensor(X_)), torch.tensor(y_),
                                                      reduction="none").numpy()
        member, outside = scores(X[lesson.MEMBERS], y[lesson.MEMBERS]), scores(X_test, y_test)
    threshold = np.sort(outside)[-round(0.05 * outside.size)]
    tpr = float(np.mean(member > threshold))
    return [tpr], [0.05, tpr + 0.02, 0.596, float(np.mean(member > np.median(outside)))]


def _canaries():
    """All r guesses right, δ = 0: p-value q^r with q = e^4/(1 + e^4); the smallest r with q^r < 0.05."""
    q = math.exp(4) / (1 + math.exp(4))
    r = math.floor(math.log(0.05) / math.log(q)) + 1
    return [r], [r - 1, 100, 1000]


ANSWERS = {"04.1": _clipped, "04.2": _influence, "04.3": _trained, "04.4": _attack, "04.5": _canaries}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_first_batch_is_the_first_forms():
    X, _, y, _ = datasets.digits()
    _, batch_x, batch_y = first_batch(5)
    assert torch.equal(batch_x, torch.tensor(X[:5])) and torch.equal(batch_y, torch.tensor(y[:5]))


@pytest.mark.parametrize("eps, delta, fpr", [(1.0, 1e-5, 0.05), (4.0, 1e-5, 0.01), (0.1, 0.0, 0.5),
                                             (8.0, 1e-5, 0.001)])
def test_dp_tpr_bound_is_the_tradeoff_of_an_eps_delta_test(eps, delta, fpr):
    bound = lesson.dp_tpr_bound(eps, delta, fpr)
    assert fpr <= bound <= 1.0
    assert bound == pytest.approx(min(1.0, math.exp(eps) * fpr + delta,
                                      1 - math.exp(-eps) * (1 - delta - fpr)))
    # randomized response at ε is (ε, 0)-DP and meets the bound at FPR = 1/(1 + e^ε) exactly
    p = 1 / (1 + math.exp(eps))
    assert lesson.dp_tpr_bound(eps, 0.0, p) == pytest.approx(1 - p)


def test_dp_tpr_bound_names_bad_arguments():
    with pytest.raises(ValueError, match="fpr"):
        lesson.dp_tpr_bound(1.0, 1e-5, 1.5)
    with pytest.raises(ValueError, match="epsilon"):
        lesson.dp_tpr_bound(-1.0, 1e-5, 0.1)
