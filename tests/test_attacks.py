"""leptonkit.attacks: each attack beats the undefended release; the defence holds it to the DP bound."""

from __future__ import annotations

import math

import numpy as np

from leptonkit import attacks, datasets, dp, models


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


# --- gradient inversion ------------------------------------------------------------------------


def test_gradient_inversion_rebuilds_one_record_and_fails_on_a_sum_or_under_noise():
    import torch

    from leptonkit import datasets

    X, _, y, _ = datasets.digits()
    model = models.mlp(64, 10)
    one = attacks.gradient_inversion(model, attacks.client_gradient(model, X[:1], y[:1]), n_features=64)
    assert one["label"] == y[0] and np.max(np.abs(one["reconstruction"] - X[0])) < 1e-3
    # the baseline an attacker gets for free: the average digit's distance to its nearest record
    baseline = ((X[:50] - X[:50].mean(axis=0)) ** 2).mean(axis=1).min()
    many = attacks.gradient_inversion(model, attacks.client_gradient(model, X[:50], y[:50]), n_features=64)
    assert ((X[:50] - many["reconstruction"]) ** 2).mean(axis=1).min() > baseline
    gradient = attacks.client_gradient(model, X[:1], y[:1])
    norm = float(torch.sqrt(sum((g ** 2).sum() for g in gradient)))
    generator = torch.Generator().manual_seed(0)
    noised = [g / norm + torch.randn(g.shape, generator=generator) for g in gradient]   # C = 1, σ = 1
    guess = attacks.gradient_inversion(model, noised, n_features=64)["reconstruction"]
    assert ((X[0] - guess) ** 2).mean() > ((X[0] - X[:50].mean(axis=0)) ** 2).mean()


def test_gradient_inversion_leaves_the_model_untouched():
    from leptonkit import datasets

    X, _, y, _ = datasets.digits()
    model = models.mlp(64, 10)
    attacks.gradient_inversion(model, attacks.client_gradient(model, X[:1], y[:1]), n_features=64, steps=5)
    assert all(p.grad is None for p in model.parameters())
