"""Notebook 06's exercises accept right answers and refuse wrong ones; coalition_knowledge counts right."""

from __future__ import annotations

import numpy as np
import pytest

from leptonkit import mpc
from leptonkit.lessons.n06_secret_sharing import (
    EXPOSURES,
    LAST_YEAR_EAST,
    bank_updates,
    broken_shares_insecure,
    coalition_knowledge,
    joint_uniformity,
    network_cost_explorer,
    reused_triple_openings,
    secure_aggregation_explorer,
    threshold_explorer,
    truncate_shares_locally,
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


def _reused_triple():
    first, second = reused_triple_openings()
    raw = first["d"] - second["d"]                                  # x − x′ in the ring
    right = [mpc.decode_fixed(raw), float(mpc.decode_fixed(raw)[0]), 340.125 - LAST_YEAR_EAST]
    wrong = [raw, mpc.decode_fixed(second["d"] - first["d"]), raw.view(np.int64),
             mpc.decode_fixed(first["e"] - second["e"]), 340.125, [1.0, 2.0]]
    return right, wrong


ANSWERS = {
    "06.1": _partial_sums,
    "06.2": lambda: ([16], [10, 26, 15]),
    "06.3": _beaver,
    "06.4": _reused_triple,
    "06.5": lambda: ([4], [3, 5, 9]),
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


def test_the_joint_test_passes_real_shares_and_catches_the_broken_dealer():
    real = mpc.additive_share(np.full(40_000, 120), 3, rng=61)
    for coalition in ([0, 1], [0, 2], [1, 2]):
        assert joint_uniformity(real[coalition])["uniform"]
    broken = broken_shares_insecure(120, 40_000, rng=62)
    assert np.all(mpc.additive_reconstruct(broken) == 120)
    for share in broken:                                        # one share at a time: looks fine
        assert joint_uniformity(share[None, :], bits=8)["uniform"]
    assert not joint_uniformity(broken[[0, 1]])["uniform"]      # two together: caught
    with np.errstate(over="ignore"):
        assert set((broken[0] + np.uint64(2) * broken[1]).tolist()) == {120, 119}   # and they learn s
    with pytest.raises(ValueError, match="shares"):
        joint_uniformity(real, bits=8)                          # 3 × 8 bits: too many cells to count


def test_local_truncation_works_for_two_parties_and_fails_for_three():
    x = np.linspace(-100, 100, 5000)
    errors = {}
    for n in (2, 3):
        xs = mpc.additive_share(mpc.encode_fixed(x), n, rng=63)
        ys = mpc.additive_share(mpc.encode_fixed(np.full(x.size, 0.5)), n, rng=64)
        z = mpc.beaver_multiply(xs, ys, mpc.beaver_triple(x.size, n, rng=65))["z"]
        truncated = mpc.decode_fixed(mpc.additive_reconstruct(truncate_shares_locally(z)))
        errors[n] = np.abs(truncated - x * 0.5)
    # two parties: the truncated shares are within 2 units of 2^-16 (SecureML, Theorem 1 at this size)
    assert errors[2].max() <= 2 * 2.0**-16
    # three: about a third wrap and are off by 2^(64 − 16) / 2^16 = 2^32
    wrong = errors[3] > 1
    assert 0.2 < wrong.mean() < 0.6 and np.allclose(errors[3][wrong], 2.0**32, rtol=1e-9)


def test_the_network_meter_moves_and_names_bad_starting_values():
    explorer = network_cost_explorer(n_parties=10, log10_length=2.0, rtt_ms=100.0, depth=1)
    explorer.controls["depth"].value = 10
    assert len(explorer.figure.data) == 3
    beaver = list(explorer.figure.data[0].y).index("Beaver products")
    assert explorer.figure.data[0].x[beaver] == pytest.approx(1.1)       # 11 rounds × 100 ms
    for kwargs, error, name in [({"n_parties": 2}, ValueError, "n_parties"), ({"rtt_ms": 400}, ValueError,
                                "rtt_ms"), ({"log10_length": "3"}, TypeError, "log10_length"),
                                ({"depth": 21}, ValueError, "depth")]:
        with pytest.raises(error, match=name):
            network_cost_explorer(**kwargs)
