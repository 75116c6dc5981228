"""A federated round is built from pieces: every valid combination equals the same pieces composed by hand.

The hand-composed reference is one FedSGD round (E = 1, B = ∞, every client selected), whose
local update is −lr·∇L_k; the noise is drawn from the same streams fedavg documents: the run's
Generator seeds one torch Generator, from which central noise (P,), local and distributed noise
(m, P), and record-level noise (m, P) per step are drawn in that order.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math

import numpy as np
import pytest
import torch

from leptonkit import accounting, audit, compress, datasets, dpsgd, fl, models
from leptonkit.errors import PrivacyBudgetExceeded

LR, SEED, S, SIGMA = 0.5, 11, 0.05, 0.7


@pytest.fixture(scope="module")
def clients():
    X, _, y, _ = datasets.digits()
    cuts = [0, 9, 20, 26, 40, 47]        # five clients of unequal size
    return [(X[a:b], y[a:b]) for a, b in itertools.pairwise(cuts)]


def _flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).double()


def _client_updates(model, clients):
    """−lr·∇L_k at the global model: each client's FedSGD update, as (K, P) float64."""
    rows = []
    for X, y in clients:
        local = copy.deepcopy(model)
        loss = torch.nn.functional.cross_entropy(local(torch.as_tensor(X)), torch.as_tensor(y).long())
        grads = torch.autograd.grad(loss, list(local.parameters()))
        rows.append(torch.cat([g.reshape(-1) for g in grads]).double() * -LR)
    return torch.stack(rows).numpy()


def _streams():
    generator = np.random.default_rng(SEED)
    return torch.Generator().manual_seed(int(generator.integers(2**63)))


def _clip(updates, bound=S):
    norms = np.linalg.norm(updates, axis=1, keepdims=True)
    return updates * np.minimum(1.0, bound / np.maximum(norms, 1e-12))


def _hand(updates, sizes, *, aggregator, noise=None):
    """The round composed by hand from the documented pieces and streams."""
    torch_generator, K, P = _streams(), len(updates), updates.shape[1]
    weights = sizes.astype(float)                              # without central noise: weighted by n_k
    if noise is None:
        return aggregator(updates, weights, np.arange(K))
    clipped = _clip(updates)
    if noise == "central":
        draw = torch.randn(P, generator=torch_generator).double().numpy()
        return (clipped.sum(axis=0) + SIGMA * S * draw) / K
    draws = torch.randn((K, P), generator=torch_generator).double().numpy()
    if noise == "distributed":
        return (clipped + SIGMA * S / math.sqrt(K) * draws).sum(axis=0) / K
    noised = clipped + SIGMA * S * draws                       # local: each update is itself DP
    return aggregator(noised, weights, np.arange(K))


COMBINATIONS = [
    # (aggregator, noise, tolerance): the tolerance of secure aggregation is its fixed point, 2^-16 a client
    (fl.weighted_mean, None, 1e-6),
    (fl.secure_mean, None, 1e-4),
    (fl.coordinate_median, None, 1e-6),
    (fl.trimmed_mean, None, 1e-6),
    (fl.weighted_mean, "central", 1e-6),
    (fl.secure_mean, "central", 1e-4),
    (fl.secure_mean, "distributed", 1e-4),
    (fl.weighted_mean, "local", 1e-6),
    (fl.secure_mean, "local", 1e-4),
    (fl.coordinate_median, "local", 1e-6),
    (fl.trimmed_mean, "local", 1e-6),
]


@pytest.mark.parametrize("aggregator, noise, tolerance", COMBINATIONS,
                         ids=[f"{getattr(a, '__name__', repr(a))}-{n}" for a, n, _ in COMBINATIONS])
def test_every_valid_combination_equals_the_hand_composed_round(clients, aggregator, noise, tolerance):
    model = models.mlp(64, 10, seed=2)
    sizes = np.array([len(X) for X, _ in clients])
    dp_args = {} if noise is None else {"noise_multiplier": SIGMA, "clip_norm": S, "noise": noise}
    result = fl.fedavg(model, clients, rounds=1, lr=LR, aggregator=aggregator, rng=SEED, **dp_args)
    expected = _flat(model).numpy() + _hand(_client_updates(model, clients), sizes, aggregator=aggregator,
                                            noise=noise)
    assert np.max(np.abs(_flat(result.model).numpy() - expected)) < tolerance
    assert (result.noise, result.privacy_unit) == ((None, None) if noise is None else (noise, "client"))


def test_record_level_dp_is_dp_sgd_on_each_client(clients):
    """Record level, B = ∞ (q = 1, every record each step): each record's gradient is clipped to C and
    N(0, σ²C²) is added to the sum, divided by n_k — the same as dpsgd's pieces on that client."""
    model = models.mlp(64, 10, seed=2)
    result = fl.fedavg(model, clients, rounds=1, lr=LR, noise_multiplier=SIGMA, clip_norm=S,
                       privacy_unit="record", rng=SEED)
    torch_generator = _streams()
    noise = torch.randn((len(clients), _flat(model).numel()), generator=torch_generator)
    rows = []
    for (X, y), draw in zip(clients, noise, strict=True):
        summed, _ = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(model, torch.as_tensor(X),
                                                                  torch.as_tensor(y).long()), S)
        flat_sum = torch.cat([summed[name].reshape(-1) for name, _ in model.named_parameters()])
        rows.append(-LR * (flat_sum + SIGMA * S * draw).double() / len(X))
    sizes = np.array([len(X) for X, _ in clients], dtype=float)
    expected = _flat(model).numpy() + fl.weighted_mean(torch.stack(rows).numpy(), sizes, None)
    assert np.max(np.abs(_flat(result.model).numpy() - expected)) < 1e-5
    assert result.privacy_unit == "record" and result.noise == "local"


def test_record_level_distributed_noise_is_one_dp_sgd_step_across_the_parties(clients):
    """Record level with distributed noise, B = ∞ (q = 1): each party sends its sum of clipped record
    gradients plus N(0, σ²C²/K); the server steps by −lr·(their sum)/N — DP-SGD on the pooled records,
    with noise N(0, σ²C²) in total, though no party ever adds more than its share."""
    model = models.mlp(64, 10, seed=2)
    result = fl.fedavg(model, clients, rounds=1, lr=LR, noise_multiplier=SIGMA, clip_norm=S,
                       privacy_unit="record", noise="distributed", aggregator=fl.secure_mean, rng=SEED)
    P = _flat(model).numel()
    draws = torch.randn((len(clients), P), generator=_streams()).double()
    total = torch.zeros(P, dtype=torch.float64)
    for (X, y), draw in zip(clients, draws, strict=True):
        summed, _ = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(model, torch.as_tensor(X),
                                                                  torch.as_tensor(y).long()), S)
        flat_sum = torch.cat([summed[name].reshape(-1) for name, _ in model.named_parameters()]).double()
        total += flat_sum + SIGMA * S / math.sqrt(len(clients)) * draw
    N = sum(len(X) for X, _ in clients)
    expected = _flat(model).numpy() - LR * total.numpy() / N
    assert np.max(np.abs(_flat(result.model).numpy() - expected)) < 1e-4   # secure aggregation's fixed point
    assert (result.noise, result.privacy_unit) == ("distributed", "record")


def test_record_level_distributed_noise_is_accounted_as_dp_sgd_at_the_pooled_rate(clients):
    N = sum(len(X) for X, _ in clients)
    result = fl.fedavg(models.mlp(64, 10, seed=2), clients, rounds=4, lr=LR, noise_multiplier=1.2,
                       clip_norm=S, privacy_unit="record", noise="distributed", aggregator=fl.secure_mean,
                       batch_size=20, delta=1e-5, rng=0)
    assert result.epsilon == pytest.approx(accounting.dpsgd_epsilon(noise_multiplier=1.2, sample_rate=20 / N,
                                                                    steps=4, delta=1e-5))


@pytest.mark.parametrize("kwargs, message", [
    (dict(local_epochs=2), "local_epochs must be 1"),
    (dict(momentum=0.9), "momentum and mu must be 0"),
    (dict(mu=0.1), "momentum and mu must be 0"),
    (dict(compress=lambda u: (u, 1)), "compress is not supported"),
    (dict(aggregator=fl.weighted_mean), "secure_mean"),
    (dict(average="weights"), "average='weights'"),
])
def test_record_level_distributed_noise_refuses_what_would_break_it(clients, kwargs, message):
    options = dict(rounds=1, noise_multiplier=1.0, clip_norm=S, privacy_unit="record", noise="distributed",
                   aggregator=fl.secure_mean, rng=0)
    with pytest.raises(ValueError, match=message):
        fl.fedavg(models.mlp(64, 10), clients, **{**options, **kwargs})


def test_dp_over_secure_aggregation_gives_the_model_of_dp_over_a_plain_sum(clients):
    """The same noise draw on the same sum: secure aggregation changes what the server sees, not the model."""
    model = models.mlp(64, 10, seed=2)
    kwargs = {"rounds": 5, "clients_per_round": 5, "lr": LR, "clip_norm": 1.0, "noise_multiplier": 1.0,
              "delta": 1e-5, "rng": 3}
    plain = fl.fedavg(model, clients, **kwargs)
    hidden = fl.fedavg(model, clients, aggregator=fl.secure_mean, **kwargs)
    assert np.max(np.abs(_flat(plain.model).numpy() - _flat(hidden.model).numpy())) < 1e-4
    assert hidden.epsilon == plain.epsilon == pytest.approx(accounting.dpsgd_epsilon(
        noise_multiplier=1.0, sample_rate=1.0, steps=5, delta=1e-5))
    assert hidden.history[-1]["bytes_up"] == hidden.history[-1]["clients"] * 4810 * fl.RING_BYTES


def test_a_secure_round_with_fewer_than_three_clients_adds_only_its_noise(clients):
    model = models.mlp(64, 10, seed=2)
    quiet = fl.fedavg(model, clients, rounds=1, clients_per_round=2, aggregator=fl.secure_mean, rng=0)
    assert np.array_equal(_flat(quiet.model).numpy(), _flat(model).numpy())


def test_the_issues_entry_point_runs_dp_fedavg_over_secure_aggregation(clients):
    result = fl.fedavg(models.mlp(64, 10), clients, rounds=3, aggregator=fl.secure_mean, clip_norm=1.0,
                       noise_multiplier=1.0, delta=1e-5, rng=0)
    assert (result.noise, result.privacy_unit) == ("central", "client")
    assert result.epsilon == pytest.approx(accounting.dpsgd_epsilon(noise_multiplier=1.0, sample_rate=1.0,
                                                                    steps=3, delta=1e-5))


def test_each_noise_placement_reports_the_epsilon_of_its_own_accountant(clients):
    sizes = np.array([len(X) for X, _ in clients])
    base = {"rounds": 4, "noise_multiplier": 2.0, "clip_norm": 1.0, "delta": 1e-5, "rng": 0}
    central = fl.fedavg(models.mlp(64, 10), clients, clients_per_round=2, **base)
    local = fl.fedavg(models.mlp(64, 10), clients, clients_per_round=2, noise="local", **base)
    record = fl.fedavg(models.mlp(64, 10), clients, privacy_unit="record", batch_size=4, local_epochs=2,
                       **base)
    eps = functools.partial(accounting.dpsgd_epsilon, delta=1e-5)
    assert central.epsilon == pytest.approx(eps(noise_multiplier=2.0, sample_rate=2 / 5, steps=4))
    # local: sensitivity 2S between any two datasets of a client, every round, no credit for sampling
    assert local.epsilon == pytest.approx(eps(noise_multiplier=1.0, sample_rate=1.0, steps=4))
    worst = max(eps(noise_multiplier=2.0, sample_rate=min(1.0, 4 / n), steps=4 * 2 * max(1, round(n / 4)))
                for n in sizes)
    assert record.epsilon == pytest.approx(worst)


@pytest.mark.parametrize("kwargs, reason", [
    ({"aggregator": fl.coordinate_median, "noise_multiplier": 1.0, "clip_norm": 1.0}, "not a sum"),
    ({"aggregator": fl.trimmed_mean, "noise_multiplier": 1.0, "clip_norm": 1.0, "noise": "distributed"},
     "not a sum"),
    ({"noise_multiplier": 1.0, "clip_norm": 1.0, "noise": "distributed"}, "cannot see the individual"),
    ({"noise_multiplier": 1.0, "clip_norm": 1.0, "average": "weights"}, "fixed expected number"),
    ({"noise_multiplier": 1.0, "clip_norm": 1.0, "privacy_unit": "record", "noise": "central"},
     "only a client can clip each of its records"),
    ({"aggregator": fl.secure_mean, "compress": functools.partial(compress.sparsify_top_k, fraction=0.1)},
     "top-k"),
    ({"noise": "central"}, "need noise_multiplier"),
    ({"privacy_unit": "record"}, "need noise_multiplier"),
    ({"accountant": accounting.PrivacyAccountant(1.0, 1e-5)}, "accountant needs noise_multiplier"),
    ({"noise_multiplier": 1.0}, "clip_norm"),
    ({"noise_multiplier": 1.0, "clip_norm": 1.0, "noise": "everywhere"}, "noise must be one of"),
    ({"privacy_unit": "household"}, "privacy_unit must be one of"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_combination_that_cannot_work_says_why(clients, kwargs, reason):
    with pytest.raises(ValueError, match=reason):
        fl.fedavg(models.mlp(64, 10), clients, rounds=1, **kwargs)


def test_no_aggregator_but_a_mean_runs_over_secure_aggregation():
    assert fl.secure(fl.weighted_mean) is fl.secure_mean
    for aggregator in (fl.coordinate_median, fl.trimmed_mean):
        with pytest.raises(ValueError, match="masked vectors"):
            fl.secure(aggregator)


class _Counting(torch.nn.Module):
    """A model that counts its training passes (those with gradients on; checking that the data fit
    the model runs without): a refused run must not train at all."""

    def __init__(self):
        super().__init__()
        self.inner, self.calls = models.mlp(64, 10), 0

    def forward(self, x):
        self.calls += torch.is_grad_enabled()
        return self.inner(x)


def test_fedavg_checks_the_budget_before_training_and_books_the_run(clients, tmp_path):
    log = audit.AuditLog(tmp_path / "audit.jsonl")
    ledger = accounting.PrivacyAccountant(12.0, 1e-5, audit_log=log)
    kwargs = {"rounds": 3, "noise_multiplier": 1.0, "clip_norm": 1.0, "delta": 1e-5, "rng": 0,
              "accountant": ledger}
    first = fl.fedavg(models.mlp(64, 10), clients, label="bank federation", **kwargs)
    prv = accounting.dpsgd_epsilon(noise_multiplier=1.0, sample_rate=1.0, steps=3, delta=1e-5,
                                   accountant="prv")
    assert ledger.spent[0] == pytest.approx(prv, rel=0.02)            # PLD agrees with Opacus's PRV ...
    assert ledger.spent[0] <= first.epsilon                           # ... and is tighter than RDP
    assert [s.label for s in ledger.history] == ["bank federation"]
    before, lines = (ledger.history, ledger.spent), log.path.read_bytes().count(b"\n")
    counting = _Counting()
    with pytest.raises(PrivacyBudgetExceeded):
        fl.fedavg(counting, clients, **kwargs)
    assert counting.calls == 0                                        # refused before any computation
    assert (ledger.history, ledger.spent) == before
    assert log.path.read_bytes().count(b"\n") == lines + 1            # only the refusal's record
    assert log.records()[-1].action == "privacy_spend_refused"


def test_compression_comes_before_clipping_and_secure_summation(clients):
    """Quantised updates, clipped, summed by secure aggregation, noised by the server: by hand, the same."""
    model = models.mlp(64, 10, seed=2)
    quantise = functools.partial(compress.quantize_stochastic, bits=8, rng=0)
    result = fl.fedavg(model, clients, rounds=1, lr=LR, aggregator=fl.secure_mean, compress=quantise,
                       noise_multiplier=SIGMA, clip_norm=S, rng=SEED)
    decoded, _ = quantise(_client_updates(model, clients))
    draw = torch.randn(4810, generator=_streams()).double().numpy()
    expected = _flat(model).numpy() + (_clip(decoded).sum(axis=0) + SIGMA * S * draw) / len(clients)
    assert np.max(np.abs(_flat(result.model).numpy() - expected)) < 1e-4


def test_the_fixed_denominator_without_noise_divides_by_the_clients_of_a_round(clients):
    model = models.mlp(64, 10, seed=2)
    result = fl.fedavg(model, clients, rounds=1, lr=LR, average="fixed", rng=SEED)
    expected = _flat(model).numpy() + _client_updates(model, clients).sum(axis=0) / len(clients)
    assert np.max(np.abs(_flat(result.model).numpy() - expected)) < 1e-6
