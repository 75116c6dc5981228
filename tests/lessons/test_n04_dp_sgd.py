"""Notebook 04's exercises accept right answers and refuse wrong ones."""

from __future__ import annotations

import pytest
import torch

from leptonkit import datasets, dpsgd, models
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


ANSWERS = {"04.1": _clipped, "04.2": _influence, "04.3": _trained}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_first_batch_is_the_first_forms():
    X, _, y, _ = datasets.digits()
    _, batch_x, batch_y = first_batch(5)
    assert torch.equal(batch_x, torch.tensor(X[:5])) and torch.equal(batch_y, torch.tensor(y[:5]))
