"""leptonkit.fl against what theory says FedAvg must do, plus the Flower cross-check (``-k flower``)."""

from __future__ import annotations

import copy
import itertools
import os
import time

import numpy as np
import pytest
import torch

from leptonkit import accounting, attacks, datasets, fl, models


@pytest.fixture(scope="module")
def digits():
    return datasets.digits()


def _gd_steps(model, X, y, *, lr, steps):
    """Centralised full-batch gradient descent on the union: the reference."""
    model = copy.deepcopy(model)
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    X, y = torch.as_tensor(X), torch.as_tensor(y).long()
    for _ in range(steps):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        optimiser.step()
    return model


def _max_difference(a, b):
    pairs = zip(a.parameters(), b.parameters(), strict=True)
    return max(float((p - q).detach().abs().max()) for p, q in pairs)


# --- partitions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n_clients", [1, 7, 100])
def test_iid_partition_covers_every_sample_once_and_is_balanced(digits, n_clients):
    y = digits[2]
    parts = fl.partition(y, n_clients, rng=0)
    assert len(parts) == n_clients
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(len(y)))
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("alpha", [0.1, 1.0, 100.0])
def test_dirichlet_partition_covers_every_sample_once_with_no_empty_client(digits, alpha):
    y = digits[2]
    parts = fl.partition(y, 20, alpha=alpha, rng=1)
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(len(y)))
    assert all(len(p) > 0 for p in parts)


def test_small_alpha_skews_labels_more_than_large_alpha(digits):
    y = digits[2]

    def classes_per_client(alpha):
        return np.mean([len(np.unique(y[p])) for p in fl.partition(y, 20, alpha=alpha, rng=2)])

    assert classes_per_client(0.1) < 5 < classes_per_client(100.0)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"y": np.arange(5), "n_clients": 6}, ValueError, "n_clients"),
    ({"y": np.arange(5), "n_clients": 0}, ValueError, "n_clients"),
    ({"y": np.arange(5), "n_clients": 2, "alpha": 0.0}, ValueError, "alpha"),
    ({"y": np.arange(5), "n_clients": 2, "alpha": -1.0}, ValueError, "alpha"),
    ({"y": np.array([]), "n_clients": 1}, ValueError, "y"),
    ({"y": np.zeros(5), "n_clients": 5, "alpha": 0.01, "max_tries": 3}, ValueError, "empty client"),
])
def test_partition_bad_inputs(kwargs, error, name):
    with pytest.raises(error, match=name):
        fl.partition(**kwargs)


@pytest.mark.parametrize("alpha", [None, 1.0])
def test_partition_refuses_missing_labels_instead_of_dropping_their_samples(alpha):
    for y in (np.array([0, 1, np.nan, 1, 0]), np.array([0, 1, None, 1, 0], dtype=object),
              [0.0, 1.0, float("nan"), 1.0, 0.0]):
        with pytest.raises(ValueError, match="y must not have missing labels"):   # NaN was dropped
            fl.partition(y, 2, alpha=alpha, rng=0)
    parts = fl.partition(np.array(["cat", "dog", "cat", "emu", "dog", "emu"]), 2, alpha=alpha, rng=0)
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(6))


def test_partition_tries_a_bounded_number_of_times():
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"max_tries must be in \[1, 1000\]"):  # was: a billion redraws
        fl.partition(np.zeros(5), 5, alpha=0.01, max_tries=10**9, rng=0)
    with pytest.raises(ValueError, match="empty client in 1000 tries"):
        fl.partition(np.zeros(5), 5, alpha=0.001, max_tries=1000, rng=0)
    assert time.perf_counter() - start < 20


@pytest.mark.parametrize("kwargs, error, name", [
    ({"y": None, "n_clients": 2}, TypeError, "y"),
    ({"y": "labels", "n_clients": 2}, TypeError, "y"),
    ({"y": [[0, 1], [2]], "n_clients": 1}, TypeError, "y"),
    ({"y": np.array([0, "a", 1.5], dtype=object), "n_clients": 1}, TypeError, "y"),
    ({"y": np.arange(5), "n_clients": 2.0}, TypeError, "n_clients"),
    ({"y": np.arange(5), "n_clients": 2, "alpha": "1"}, TypeError, "alpha"),
    ({"y": np.arange(5), "n_clients": 2, "alpha": 1.0, "max_tries": 2.5}, TypeError, "max_tries"),
    ({"y": np.arange(5), "n_clients": 2, "rng": "seed"}, TypeError, "rng"),
])
def test_partition_wrong_types_name_the_parameter(kwargs, error, name):
    with pytest.raises(error, match=name):
        fl.partition(**kwargs)


# --- FedAvg reduces to gradient descent where theory says it must -------------------------------


def test_one_fedsgd_round_equals_one_gradient_step_on_the_union_for_unequal_clients(digits):
    X, _, y, _ = digits
    model = models.mlp(64, 10, seed=3)
    sizes = [3, 40, 17, 90]
    starts = np.cumsum([0, *sizes])
    clients = [(X[a:b], y[a:b]) for a, b in itertools.pairwise(starts)]
    result = fl.fedavg(model, clients, rounds=1, local_epochs=1, batch_size=None, lr=0.5, progress=False)
    reference = _gd_steps(model, X[:starts[-1]], y[:starts[-1]], lr=0.5, steps=1)
    assert _max_difference(result.model, reference) < 1e-6


def test_one_client_equals_centralised_training(digits):
    X, _, y, _ = digits
    model = models.mlp(64, 10, seed=4)
    result = fl.fedavg(model, [(X[:200], y[:200])], rounds=4, local_epochs=3, batch_size=None, lr=0.3,
                       progress=False)
    reference = _gd_steps(model, X[:200], y[:200], lr=0.3, steps=12)
    assert _max_difference(result.model, reference) < 1e-5


def test_local_momentum_is_torch_sgds(digits):
    X, _, y, _ = digits
    model = models.mlp(64, 10, seed=6)
    reference = copy.deepcopy(model)
    optimiser = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    inputs, targets = torch.as_tensor(X[:60]), torch.as_tensor(y[:60]).long()
    for _ in range(4):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(reference(inputs), targets).backward()
        optimiser.step()
    result = fl.fedavg(model, [(X[:60], y[:60])], rounds=1, local_epochs=4, batch_size=None, lr=0.1,
                       momentum=0.9, progress=False)
    assert _max_difference(result.model, reference) < 1e-6


def test_minibatch_local_sgd_on_one_client_matches_a_plain_loop(digits):
    # One client, one epoch, B = 10 over 25 samples: batches of 10, 10, 5 in the order fedavg drew.
    X, _, y, _ = digits
    model = models.mlp(64, 10, seed=5)
    generator = np.random.default_rng(0)
    generator.integers(2**63)                       # fedavg's torch seed
    generator.choice(1, size=1, replace=False)      # its client sampling
    order = generator.permutation(25)
    reference = copy.deepcopy(model)
    optimiser = torch.optim.SGD(reference.parameters(), lr=0.2)
    for batch in (order[:10], order[10:20], order[20:]):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(reference(torch.as_tensor(X[batch])),
                                          torch.as_tensor(y[batch]).long()).backward()
        optimiser.step()
    result = fl.fedavg(model, [(X[:25], y[:25])], rounds=1, batch_size=10, lr=0.2, rng=0, progress=False)
    assert _max_difference(result.model, reference) < 1e-6


def test_callers_model_is_untouched_and_history_counts_traffic(digits):
    X, _, y, _ = digits
    model = models.mlp(64, 10)
    before = [p.detach().clone() for p in model.parameters()]
    clients = [(X[p], y[p]) for p in fl.partition(y, 10, rng=0)]
    result = fl.fedavg(model, clients, rounds=3, clients_per_round=4, rng=0, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    n_params = sum(p.numel() for p in model.parameters())
    assert [h["clients"] for h in result.history] == [4, 4, 4]
    assert all(h["bytes_up"] == h["bytes_down"] == 4 * n_params * 4 for h in result.history)


def test_fedavg_learns_digits(digits):
    X, X_test, y, y_test = digits
    clients = [(X[p], y[p]) for p in fl.partition(y, 20, rng=0)]
    result = fl.fedavg(models.mlp(64, 10), clients, rounds=10, clients_per_round=5, local_epochs=2,
                       batch_size=10, eval_data=(X_test, y_test), rng=0, progress=False)
    assert result.history[-1]["accuracy"] > 0.85
    assert models.evaluate(result.model, X_test, y_test)[1] == pytest.approx(result.history[-1]["accuracy"])


def test_fedprox_term_pulls_clients_towards_the_global_model(digits):
    X, _, y, _ = digits
    model = models.mlp(64, 10)
    start = torch.cat([p.reshape(-1) for p in model.parameters()])

    def moved(mu):
        r = fl.fedavg(model, [(X[:100], y[:100])], rounds=1, local_epochs=20, batch_size=None, lr=0.5, mu=mu,
                      progress=False)
        return float((torch.cat([p.reshape(-1) for p in r.model.parameters()]) - start).norm())

    assert moved(1.0) < moved(0.0)          # lr · μ < 1, or the proximal step itself diverges


# --- aggregators ------------------------------------------------------------------------------


def test_robust_aggregators_resist_a_poisoning_client(digits):
    X, X_test, y, y_test = digits
    clients = [(X[p], y[p]) for p in fl.partition(y, 10, rng=0)]

    def accuracy(aggregator):
        r = fl.fedavg(models.mlp(64, 10), clients, rounds=10, local_epochs=2, batch_size=20,
                      aggregator=attacks.model_poisoning(aggregator, attackers=[0, 1], scale=-10.0),
                      eval_data=(X_test, y_test), rng=0, progress=False)
        return r.history[-1]["accuracy"]

    assert accuracy(fl.weighted_mean) < 0.5
    assert accuracy(fl.coordinate_median) > 0.8
    assert accuracy(lambda u, w, c: fl.trimmed_mean(u, w, c, beta=0.3)) > 0.8


def test_secure_mean_equals_the_weighted_mean_to_fixed_point_precision():
    rng = np.random.default_rng(0)
    updates, weights = rng.normal(scale=0.1, size=(6, 50)), rng.integers(1, 30, size=6).astype(float)
    clients = np.arange(6)
    np.testing.assert_allclose(fl.secure_mean(updates, weights, clients),
                               fl.weighted_mean(updates, weights, clients), atol=6 * 2.0**-17)


def test_trimmed_mean_drops_the_extremes():
    updates = np.array([[0.0], [1.0], [2.0], [3.0], [1000.0]])
    assert fl.trimmed_mean(updates, np.ones(5), np.arange(5), beta=0.2)[0] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="beta"):
        fl.trimmed_mean(updates, np.ones(5), np.arange(5), beta=0.5)


# --- DP-FedAvg ---------------------------------------------------------------------------------


def test_dp_fedavg_reports_the_accountants_epsilon(digits):
    X, _, y, _ = digits
    clients = [(X[p], y[p]) for p in fl.partition(y, 50, rng=0)]
    result = fl.fedavg(models.mlp(64, 10), clients, rounds=5, clients_per_round=10, clip_norm=1.0,
                       noise_multiplier=1.2, delta=1e-3, rng=0, progress=False)
    assert result.epsilon == pytest.approx(accounting.dpsgd_epsilon(noise_multiplier=1.2, sample_rate=0.2,
                                                                    steps=5, delta=1e-3))
    assert result.delta == 1e-3


def test_dp_fedavg_clips_each_update(digits):
    # Zero noise: the step is the sum of clipped updates over C·K, so its norm is at most S·|S_t|/(C·K).
    X, _, y, _ = digits
    clients = [(X[p], y[p]) for p in fl.partition(y, 8, rng=0)]
    model = models.mlp(64, 10)
    start = torch.cat([p.reshape(-1) for p in model.parameters()])
    result = fl.fedavg(model, clients, rounds=1, clients_per_round=4, local_epochs=5, lr=1.0, clip_norm=0.01,
                       noise_multiplier=0.0, rng=0, progress=False)
    step = torch.cat([p.reshape(-1) for p in result.model.parameters()]) - start
    assert float(step.norm()) <= 0.01 * result.history[0]["clients"] / 4 + 1e-6


# --- bad inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, error, name", [
    ({"rounds": 0}, ValueError, "rounds"),
    ({"rounds": 1, "clients_per_round": 0}, ValueError, "clients_per_round"),
    ({"rounds": 1, "clients_per_round": 4}, ValueError, "clients_per_round"),
    ({"rounds": 1, "lr": float("nan")}, ValueError, "lr"),
    ({"rounds": 1, "lr": 0.0}, ValueError, "lr"),
    ({"rounds": 1, "local_epochs": 0}, ValueError, "local_epochs"),
    ({"rounds": 1, "batch_size": 0}, ValueError, "batch_size"),
    ({"rounds": 1, "mu": -1.0}, ValueError, "mu"),
    ({"rounds": 1, "momentum": 1.0}, ValueError, "momentum"),
    ({"rounds": 1, "noise_multiplier": 1.0}, ValueError, "clip_norm"),
    ({"rounds": 1, "clip_norm": 0.0}, ValueError, "clip_norm"),
    ({"rounds": 1, "noise_multiplier": 1.0, "clip_norm": 1.0, "aggregator": fl.coordinate_median},
     ValueError, "not a sum"),
])
def test_fedavg_bad_arguments(digits, kwargs, error, name):
    X, _, y, _ = digits
    clients = [(X[:10], y[:10]), (X[10:20], y[10:20]), (X[20:30], y[20:30])]
    with pytest.raises(error, match=name):
        fl.fedavg(models.mlp(64, 10), clients, progress=False, **kwargs)


def test_fedavg_bad_clients_and_models(digits):
    X, _, y, _ = digits
    with pytest.raises(ValueError, match="empty"):
        fl.fedavg(models.mlp(64, 10), [(X[:10], y[:10]), (X[:0], y[:0])], rounds=1, progress=False)
    with pytest.raises(ValueError, match="clients"):
        fl.fedavg(models.mlp(64, 10), [], rounds=1, progress=False)
    with pytest.raises(ValueError, match=r"clients\[0\]"):
        fl.fedavg(models.mlp(64, 10), [(X[:10], y[:9])], rounds=1, progress=False)
    with pytest.raises(TypeError, match="model"):
        fl.fedavg("model", [(X[:10], y[:10])], rounds=1, progress=False)
    with pytest.raises(ValueError, match="BatchNorm"):
        fl.fedavg(torch.nn.Sequential(torch.nn.Linear(64, 10), torch.nn.BatchNorm1d(10)), [(X[:10], y[:10])],
                  rounds=1, progress=False)


# --- Flower: the same clients on a real federated engine ----------------------------------------


def test_flower_runs_the_same_fedavg(digits):
    """FedSGD with every client each round is deterministic, so Flower and leptonkit must agree."""
    try:
        import flwr  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("Flower is not installed: pip install -e '.[scale]' (make test installs it)")
    X, X_test, y, y_test = digits
    clients = [(X[p], y[p]) for p in fl.partition(y, 5, rng=0)]
    kwargs = {"rounds": 2, "batch_size": None, "lr": 0.5, "eval_data": (X_test, y_test)}
    flower = fl.run_on_flower(models.mlp(64, 10), clients, **kwargs)
    ours = fl.fedavg(models.mlp(64, 10), clients, progress=False, **kwargs)
    assert [h["round"] for h in flower.history] == [1, 2]
    assert [h["clients"] for h in flower.history] == [5, 5]
    assert _max_difference(flower.model, ours.model) < 1e-5
    assert flower.history[-1]["accuracy"] == pytest.approx(ours.history[-1]["accuracy"])


def test_flower_central_noise_has_the_calibrated_spread(digits):
    """noise="central" runs Flower's DifferentialPrivacyClientSideFixedClipping around FedAvg: the m = 3
    clipped updates are averaged with equal weights and N(0, (zS/m)²) is added to each weight.
    One round against fl.fedavg's clipped, fixed-denominator average without noise leaves exactly
    that noise; the sample deviation of its P ≈ 4800 draws is within 5 % of zS/m (its standard
    error is 1/√(2(P−1)) ≈ 1 %, so 5 % is ~5 standard errors: Flower's noise is not seeded)."""
    pytest.importorskip("flwr")
    X, X_test, y, y_test = digits
    clients = [(X[p], y[p]) for p in fl.partition(y, 3, rng=0)]
    kwargs = {"rounds": 1, "batch_size": None, "lr": 0.5, "eval_data": (X_test, y_test)}
    z, S = 1.0, 0.5
    flower = fl.run_on_flower(models.mlp(64, 10), clients, clip_norm=S, noise_multiplier=z, noise="central",
                              **kwargs)
    clean = fl.fedavg(models.mlp(64, 10), clients, clip_norm=S, average="fixed", progress=False, **kwargs)
    noise = torch.cat([(p - q).detach().ravel() for p, q in zip(flower.model.parameters(),
                                                                 clean.model.parameters(), strict=True)])
    assert [h["clients"] for h in flower.history] == [3]
    assert float(noise.std()) == pytest.approx(z * S / 3, rel=0.05)
    assert abs(float(noise.mean())) < 5 * z * S / 3 / noise.numel() ** 0.5


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"noise": "central"}, "needs clip_norm and noise_multiplier"),
    ({"noise_multiplier": 1.0}, "needs clip_norm"),
    ({"noise": "local", "clip_norm": 1.0, "noise_multiplier": 0.0}, "noise-multiplier > 0"),
    ({"noise": "distributed", "clip_norm": 1.0, "noise_multiplier": 1.0}, "noise must be one of"),
    ({"secure_aggregation": True, "clients_per_round": 2}, "at least 3 clients a round"),
    ({"secure_aggregation": "yes"}, "secure_aggregation must be True or False"),
    ({"clip_norm": -1.0}, "clip_norm"),
])
def test_flower_refuses_what_cannot_run_before_starting_flower(digits, kwargs, message):
    """The Flower app's run-config checks, reached through run_on_flower: no engine starts."""
    pytest.importorskip("flwr")
    X, _, y, _ = digits
    clients = [(X[k::4][:20], y[k::4][:20]) for k in range(4)]
    with pytest.raises((ValueError, TypeError), match=message):
        fl.run_on_flower(models.mlp(64, 10), clients, rounds=1, **kwargs)
