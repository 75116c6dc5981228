"""Notebook 06's exercises accept right answers and refuse wrong ones; coalition_knowledge counts right."""

from __future__ import annotations

import numpy as np
import pytest

from leptonkit import mpc
from leptonkit.lessons.n06_secret_sharing import (
    EXPOSURES,
    bank_updates,
    coalition_knowledge,
    secure_aggregation_explorer,
    threshold_explorer,
)


def _partial_sums():
    sharings = np.stack([mpc.additive_share(x, 3) for x in EXPOSURES])
    partial = sharings.sum(axis=0, dtype=np.uint64)
    return [partial], [np.array(EXPOSURES), np.array([sum(EXPOSURES), 0, 0]), partial[:2],
                       partial + np.uint64(1)]


def _beaver():
    x_shares, y_shares = mpc.additive_share(np.array([6]), 3), mpc.additive_share(np.array([7]), 3)
    product = mpc.beaver_multiply(x_shares, y_shares, mpc.beaver_triple(1, 3))["z"]
    return [product], [product[:2], product + np.uint64(1), np.array([42])]


ANSWERS = {
    "06.1": _partial_sums,
    "06.2": lambda: ([16], [10, 26, 15]),
    "06.3": _beaver,
    "06.4": lambda: ([4], [3, 5, 9]),
}


@pytest.mark.parametrize("exercise_id", sorted(ANSWERS))
def test_exercise(exercise_id, judge):
    judge(exercise_id, *ANSWERS[exercise_id]())


def test_coalition_knowledge_counts_coalitions_and_what_shares_reveal():
    view = coalition_knowledge(threshold=3, n_parties=5, holders=2, secret=7, prime=11)
    assert view["sizes"].tolist() == [1, 2, 3, 4, 5]
    assert view["can"].tolist() == [0, 0, 10, 5, 1] and view["cannot"].tolist() == [5, 10, 0, 0, 0]
    assert len(view["counts"]) == 11 and len(set(view["counts"].tolist())) == 1   # two shares: nothing
    known = coalition_knowledge(threshold=3, n_parties=5, holders=3, secret=7, prime=11)["counts"]
    assert known[7] == 1 and known.sum() == 1                                       # three: the secret
    with pytest.raises(ValueError, match="threshold must be in"):
        coalition_knowledge(threshold=6, n_parties=5, holders=0)


def test_bank_updates_are_ten_seeded_vectors():
    updates = bank_updates()
    assert updates.shape == (10, 12) and np.array_equal(updates, bank_updates())


@pytest.mark.parametrize("kwargs, error, name", [
    ({"threshold": None}, TypeError, "threshold"), ({"threshold": 7}, ValueError, "threshold"),
    ({"n_parties": 2.5}, TypeError, "n_parties"), ({"n_parties": 11}, ValueError, "n_parties"),
    ({"holders": "2"}, TypeError, "holders"), ({"holders": -1}, ValueError, "holders"),
])
def test_threshold_explorer_refuses_starting_values_off_its_sliders(kwargs, error, name):
    with pytest.raises(error, match=name):
        threshold_explorer(**kwargs)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"updates": 5}, TypeError, "updates"), ({"updates": "updates"}, TypeError, "updates"),
    ({"updates": [[1.0, [2.0]]]}, TypeError, "updates"),
    ({"updates": np.ones((2, 3))}, ValueError, "updates"),
    ({"updates": np.array([["a", "b"]] * 3)}, TypeError, "updates"),
    ({"dropouts": "1"}, TypeError, "dropouts"), ({"dropouts": 5}, ValueError, "dropouts"),
])
def test_secure_aggregation_explorer_names_a_bad_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        secure_aggregation_explorer(**kwargs)
