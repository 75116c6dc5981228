"""leptonkit.attacks: each attack beats the undefended release; the defence holds it to the DP bound."""

from __future__ import annotations

import math

import numpy as np

from leptonkit import attacks, datasets, dp


def _four_se(p: float, n: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


def test_differencing_attack_reads_exact_counts_and_is_bounded_by_dp():
    bits = datasets.bank_customers(2000)["overdraft"].to_numpy()
    assert attacks.differencing_success_rate(bits, epsilon=None, trials=500, rng=0) == 1.0
    trials = 4000
    for epsilon in (0.1, 0.5):
        rate = attacks.differencing_success_rate(bits, epsilon=epsilon, trials=trials, rng=1)
        bound = attacks.dp_guess_bound(2 * epsilon)  # two releases, each ε
        assert rate <= bound + _four_se(bound, trials)


def test_floating_point_attack_never_rules_out_the_truth():
    rng = np.random.default_rng(0)
    for _ in range(500):
        secret = float(rng.integers(2))
        output = attacks.naive_laplace_insecure(secret, scale=10.0, rng=rng)
        assert secret in attacks.floating_point_attack(output, candidates=(0.0, 1.0), scale=10.0)


def test_floating_point_attack_beats_naive_laplace_but_not_the_kit():
    trials, epsilon = 4000, 0.1
    bound = attacks.dp_guess_bound(epsilon)
    naive = attacks.floating_point_attack_success_rate(epsilon=epsilon, trials=trials, sampler="naive", rng=0)
    assert naive["success_rate"] > bound + _four_se(bound, trials)  # the promise of ε is broken
    trials = 20_000
    kit = attacks.floating_point_attack_success_rate(epsilon=epsilon, trials=trials, sampler="kit", rng=1)
    assert kit["success_rate"] <= bound + _four_se(bound, trials)


def test_dp_guess_bound():
    assert attacks.dp_guess_bound(math.log(3)) == 0.75
    assert 0.5 < attacks.dp_guess_bound(0.01) < 0.51


def test_kit_outputs_are_the_same_kind_of_number_whatever_the_input():
    # the defence: every output is a multiple of one grid, for 0 and 1 alike
    g = dp.laplace_grid(1.0)
    for secret in (0.0, 1.0):
        out = dp.laplace_mechanism(np.full(1000, secret), sensitivity=1.0, epsilon=0.1, rng=2)
        assert np.all(out / g == np.round(out / g))
