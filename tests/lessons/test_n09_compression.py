"""Notebook 09's exercises accept right answers and refuse wrong ones; the frontier is computed once."""

from __future__ import annotations

import numpy as np
import pytest

from leptonkit import compress, datasets, fl, models
from leptonkit.lessons import n09_compression as lesson


def _fedavg():
    X, X_test, y, y_test = datasets.digits()
    clients = [(X[p], y[p]) for p in fl.partition(y, 50, rng=0)]

    def run(rounds, bits=8):
        generator = np.random.default_rng(0)   # created once: fresh rounding draws every round

        def quantise(updates):
            return compress.quantize_stochastic(updates, bits=bits, rng=generator)
        return fl.fedavg(models.mlp(64, 10), clients, rounds=rounds, clients_per_round=10, local_epochs=5,
                         batch_size=10, lr=0.1, compress=quantise, eval_data=(X_test, y_test), rng=0,
                         progress=False)

    return [run(20)], [run(1), run(20, bits=4), "result"]


ANSWERS = {
    "09.1": lambda: ([392], [49, 19240]),
    "09.2": _fedavg,
    "09.3": lambda: ([0.5], [0.0, 0.7, 0.9]),
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_frontier_hands_out_copies_of_one_computation():
    first = lesson.frontier()
    assert {"prune", "bits", "bytes", "accuracy"} <= set(first)
    first["accuracy"][:] = -1.0
    assert np.all(lesson.frontier()["accuracy"] >= 0)
