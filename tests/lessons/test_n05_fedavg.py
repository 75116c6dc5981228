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


def _alie():
    def alie(updates):
        return updates.mean(axis=0) - 1.2 * updates.std(axis=0)

    def alie_z_max(updates):   # the paper's z_max for n = 20, m = 6
        return updates.mean(axis=0) - attacks.alie_z_max(20, 6) * updates.std(axis=0)

    def scaled(updates):       # the ×−10 attack: far outside the honest range
        return -10 * updates[0]

    def mean(updates):         # inside, but pushes nowhere
        return updates.mean(axis=0)

    def far(updates):          # pushes hard, but an outlier filter sees it
        return updates.mean(axis=0) - 5 * updates.std(axis=0)

    def random_signs(updates):  # inside, but the colluders do not push the same way
        return updates[np.arange(updates.shape[1]) % updates.shape[0], np.arange(updates.shape[1])]

    return [alie, alie_z_max], [scaled, mean, far, random_signs, lambda u: u[:, :3].sum(axis=1), "lie"]


ANSWERS = {"05.1": _bytes_up, "05.2": _skewed_labels, "05.3": _reconstruction, "05.4": _dp_noise,
           "05.5": _alie}


def test_centered_clipping_bounds_each_client_and_keeps_honest_updates():
    from leptonkit.lessons.n05_fedavg import centered_clipping

    rng = np.random.default_rng(0)
    honest = rng.normal(1.0, 0.1, size=(9, 50))
    aggregate = centered_clipping(10.0)           # τ above every gap: the plain mean
    assert np.allclose(aggregate(honest, np.ones(9), np.arange(9)), honest.mean(axis=0))
    # each iteration is non-expansive in v and one client's clipped term differs by at most 2τ/K,
    # so after L iterations a single liar, however far, moves the aggregate by at most L·2τ/K
    poisoned = np.vstack([honest, np.full((1, 50), -1e6)])
    clean = np.vstack([honest, honest[:1]])
    tau, L, K = 1.0, 3, 10
    robust = centered_clipping(tau, iterations=L)(poisoned, np.ones(K), np.arange(K))
    reference = centered_clipping(tau, iterations=L)(clean, np.ones(K), np.arange(K))
    assert np.linalg.norm(robust - reference) <= L * 2 * tau / K + 1e-9
    assert np.linalg.norm(robust - reference) > 0.1 * tau / K     # but it does move it
    with pytest.raises(ValueError, match="tau"):
        centered_clipping(0.0)


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())
