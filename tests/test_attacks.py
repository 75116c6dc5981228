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


# --- ALIE ("a little is enough") -------------------------------------------------------------


def test_alie_z_max_follows_baruch_et_al():
    from statistics import NormalDist

    # n = 50, m = 24: s = ⌊50/2 + 1⌋ − 24 = 2, z_max = Φ⁻¹(48/50) ≈ 1.75 (the paper's example)
    assert math.isclose(attacks.alie_z_max(50, 24), NormalDist().inv_cdf(0.96))
    assert math.isclose(attacks.alie_z_max(20, 6), NormalDist().inv_cdf(15 / 20))
    assert attacks.alie_z_max(10, 0) < attacks.alie_z_max(10, 2) < attacks.alie_z_max(10, 4)
    assert math.isclose(attacks.alie_z_max(10, 9), NormalDist().inv_cdf(0.9))   # majority: s taken as 1


def test_alie_stays_inside_the_honest_spread_yet_moves_the_median_more_than_scaling():
    from leptonkit import fl

    rng = np.random.default_rng(0)
    n, m, P = 20, 6, 2000
    mu, sigma = rng.normal(0, 1, P), rng.uniform(0.5, 2.0, P)
    honest = mu + sigma * rng.standard_normal((n, P))
    clients, weights = np.arange(n), np.ones(n)
    seen = {}

    def spy(updates, weights, clients):
        seen["updates"] = updates
        return fl.coordinate_median(updates, weights, clients)

    alie = attacks.alie_poisoning(spy, attackers=range(m), z=1.5)(honest, weights, clients)
    lie = seen["updates"][0]
    assert np.all(seen["updates"][:m] == lie) and np.array_equal(seen["updates"][m:], honest[m:])
    assert np.allclose(lie, honest.mean(axis=0) - 1.5 * honest.std(axis=0))
    inside = np.mean((lie >= honest.min(axis=0)) & (lie <= honest.max(axis=0)))
    # 1.5σ below the mean is still above the smallest of 20 honest values in most coordinates
    # (about 90 % here, P = 2000 coordinates: a standard error under 1 %)
    assert inside > 0.85
    clean = fl.coordinate_median(honest, weights, clients)
    scaled = attacks.model_poisoning(fl.coordinate_median, attackers=range(m))(honest, weights, clients)
    alie_shift = np.mean((alie - clean) / sigma)
    scaled_shift = np.mean((scaled - clean) / sigma)
    # the colluders all push the same way: ALIE shifts the median by about half a σ in every
    # coordinate (6 of 20 values at −1.5σ move it from the 50th to about the 29th honest percentile),
    # while the scaled updates' signs differ by coordinate and partly cancel
    assert alie_shift < -0.35 and abs(scaled_shift) < abs(alie_shift) / 2
    # with no attacker in the round, the aggregator sees the honest updates
    untouched = attacks.alie_poisoning(fl.coordinate_median, attackers=[99])(honest, weights, clients)
    assert np.array_equal(untouched, clean)


def test_alie_default_z_is_z_max_of_the_round():
    rng = np.random.default_rng(1)
    updates = rng.normal(size=(10, 30))
    seen = {}

    def spy(u, w, c):
        seen["u"] = u
        return u.mean(axis=0)

    attacks.alie_poisoning(spy, attackers=[0, 1, 2])(updates, np.ones(10), np.arange(10))
    z = attacks.alie_z_max(10, 3)
    assert np.allclose(seen["u"][0], updates.mean(axis=0) - z * updates.std(axis=0))


def test_alie_bad_arguments_name_the_parameter():
    import pytest

    from leptonkit import fl

    with pytest.raises(TypeError, match="aggregator"):
        attacks.alie_poisoning("mean", attackers=[0])
    with pytest.raises(TypeError, match="attackers"):
        attacks.alie_poisoning(fl.weighted_mean, attackers=3)
    for z in (-1.0, float("nan"), 1e3):
        with pytest.raises(ValueError, match="z"):
            attacks.alie_poisoning(fl.weighted_mean, attackers=[0], z=z)
    with pytest.raises(ValueError, match="n_attackers"):
        attacks.alie_z_max(10, 11)
    with pytest.raises(ValueError, match="n_clients"):
        attacks.alie_z_max(1, 0)
