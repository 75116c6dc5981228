"""leptonkit.dpsgd against Opacus and against DP-SGD's defining property: bounded per-sample influence."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
import torch
from opacus import GradSampleModule
from opacus.accountants import RDPAccountant
from opacus.optimizers import DPOptimizer
from torch import nn

from leptonkit import accounting, attacks, datasets, dpsgd, models


def _mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))


@pytest.fixture(scope="module")
def digits():
    return datasets.digits()


def test_one_step_equals_opacus_without_noise(digits):
    X, _, y, _ = digits
    xb, yb = torch.tensor(X[:64]), torch.tensor(y[:64])
    C, lr, B = 0.5, 0.7, 64
    model = _mlp()
    # Opacus: per-sample gradients by hooks, clipping, no noise, mean over the expected batch
    reference = GradSampleModule(copy.deepcopy(model))
    optimiser = DPOptimizer(torch.optim.SGD(reference.parameters(), lr=lr), noise_multiplier=0.0,
                            max_grad_norm=C, expected_batch_size=B)
    optimiser.zero_grad()
    nn.functional.cross_entropy(reference(xb), yb).backward()
    optimiser.step()
    # leptonkit: the functions train() uses, one by one
    summed, _ = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(model, xb, yb), C)
    noisy = dpsgd.add_noise(summed, noise_multiplier=0.0, max_grad_norm=C)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p -= lr * noisy[name] / B
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6), name


def test_the_fast_clipped_sum_equals_the_per_sample_path(digits):
    X, _, y, _ = digits
    model = _mlp()
    for C in (0.1, 1.0, 100.0):
        slow, slow_norms = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(model, torch.tensor(X[:50]),
                                                                         torch.tensor(y[:50])), C)
        fast, fast_norms = dpsgd.clipped_gradient_sum(model, torch.tensor(X[:50]), torch.tensor(y[:50]), C)
        assert sorted(slow) == sorted(fast)
        assert torch.allclose(slow_norms, fast_norms, atol=1e-5)
        for name in slow:
            assert torch.allclose(slow[name], fast[name], atol=1e-5), (C, name)
    # a model the fast path does not cover falls back to torch.func
    odd = nn.Sequential(nn.Linear(64, 8), nn.LayerNorm(8), nn.Linear(8, 10))
    grads = dpsgd.per_sample_gradients(odd, torch.tensor(X[:5]), torch.tensor(y[:5]))
    expected, _ = dpsgd.clip_and_sum(grads, 1.0)
    got, _ = dpsgd.clipped_gradient_sum(odd, torch.tensor(X[:5]), torch.tensor(y[:5]), 1.0)
    assert all(torch.allclose(expected[k], got[k], atol=1e-6) for k in expected)


def test_the_fast_path_covers_convolutions_and_equals_torch_func(digits):
    X, _, y, _ = digits
    images = torch.tensor(X[:24]).reshape(-1, 1, 8, 8)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 6, 3, stride=2, bias=False),
                        nn.ReLU(), nn.MaxPool2d(2, 1), nn.Flatten(), nn.Linear(6 * 2 * 2, 10))
    for C in (0.05, 1.0, 1e3):
        labels = torch.tensor(y[:24])
        slow, slow_norms = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(net, images, labels), C)
        assert dpsgd._fast_clipped_sum(net, images, torch.tensor(y[:24]), C) is not None   # the fast path ran
        fast, fast_norms = dpsgd.clipped_gradient_sum(net, images, torch.tensor(y[:24]), C)
        assert sorted(slow) == sorted(fast)
        assert torch.allclose(slow_norms, fast_norms, rtol=1e-4, atol=1e-6)
        for name in slow:
            assert torch.allclose(slow[name], fast[name], rtol=1e-4, atol=1e-6), (C, name)
    # grouped convolutions and 'same' padding are not covered: torch.func takes them, with the same answer
    grouped = nn.Sequential(nn.Conv2d(1, 4, 3, padding="same"), nn.Conv2d(4, 4, 3, groups=2), nn.Flatten(),
                            nn.Linear(4 * 6 * 6, 10))
    assert dpsgd._fast_clipped_sum(grouped, images, torch.tensor(y[:24]), 1.0) is None
    expected, _ = dpsgd.clip_and_sum(dpsgd.per_sample_gradients(grouped, images, torch.tensor(y[:24])), 1.0)
    got, _ = dpsgd.clipped_gradient_sum(grouped, images, torch.tensor(y[:24]), 1.0)
    assert all(torch.allclose(expected[k], got[k], atol=1e-6) for k in expected)


def test_per_sample_gradients_equal_one_backward_each(digits):
    X, _, y, _ = digits
    model = _mlp()
    grads = dpsgd.per_sample_gradients(model, torch.tensor(X[:5]), torch.tensor(y[:5]))
    for i in range(5):
        model.zero_grad()
        nn.functional.cross_entropy(model(torch.tensor(X[i:i + 1])), torch.tensor(y[i:i + 1])).backward()
        for name, p in model.named_parameters():
            assert torch.allclose(grads[name][i], p.grad, atol=1e-6)


def test_clipping_bounds_every_samples_influence_on_the_sum(digits):
    X, _, y, _ = digits
    model, C = _mlp(), 0.25
    grads = dpsgd.per_sample_gradients(model, torch.tensor(X[:40]), torch.tensor(y[:40]))
    total, norms = dpsgd.clip_and_sum(grads, C)
    assert (norms > C).any()   # clipping is really exercised
    for i in range(40):
        without = dpsgd.clip_and_sum({k: torch.cat([g[:i], g[i + 1:]]) for k, g in grads.items()}, C)[0]
        change = math.sqrt(sum(float((total[k] - without[k]).pow(2).sum()) for k in total))
        assert change <= C * (1 + 1e-5)


def test_noise_has_standard_deviation_sigma_times_c():
    zeros = {"w": torch.zeros(200_000)}
    noisy = dpsgd.add_noise(zeros, noise_multiplier=1.5, max_grad_norm=0.5,
                            generator=torch.Generator().manual_seed(0))
    sd = float(noisy["w"].std())
    assert abs(sd - 0.75) < 4 * 0.75 / math.sqrt(2 * 200_000)


def test_train_reports_opacus_epsilon_and_leaves_the_model_untouched(digits):
    X, X_test, y, y_test = digits
    model = _mlp()
    before = copy.deepcopy(model.state_dict())
    result = dpsgd.train(model, X, y, target_epsilon=2.0, epochs=5, rng=0, progress=False, calibration="rdp")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    acct = RDPAccountant()
    acct.history = [(result.noise_multiplier, result.sample_rate, result.steps)]
    assert result.epsilon == pytest.approx(acct.get_epsilon(1e-5), rel=1e-12)
    assert 1.98 <= result.epsilon <= 2.0
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5]
    assert all(a["epsilon"] < b["epsilon"] for a, b in zip(result.history, result.history[1:], strict=False))
    assert models.evaluate(result.model, X_test, y_test)[1] > 0.5  # it learns something


def test_tight_calibration_spends_the_target_with_less_noise_than_rdp(digits):
    from dp_accounting.pld import privacy_loss_distribution as pld

    X, _, y, _ = digits
    runs = {c: dpsgd.train(_mlp(), X[:400], y[:400], target_epsilon=2.0, epochs=5, rng=0, calibration=c)
            for c in dpsgd.CALIBRATIONS}
    rdp = runs["rdp"]
    for name in ("pld", "prv"):
        tight = runs[name]
        assert tight.sample_rate == rdp.sample_rate and tight.steps == rdp.steps
        assert tight.noise_multiplier < 0.97 * rdp.noise_multiplier   # certifies more for the same noise
        assert 1.99 <= tight.epsilon <= 2.0                          # Opacus's tolerance, never above
        # the RDP bound on the same, smaller noise is above the target: the history is RDP's, and says so
        assert tight.history[-1]["epsilon"] > 2.0 >= tight.epsilon
    prv = runs["prv"]
    assert prv.epsilon == pytest.approx(accounting.dpsgd_epsilon(
        noise_multiplier=prv.noise_multiplier, sample_rate=prv.sample_rate, steps=prv.steps, delta=1e-5,
        accountant="prv"), rel=1e-12)
    # PLD: dp-accounting on a grid ten times finer agrees within the coarser grid's step, from below
    fine = pld.from_gaussian_mechanism(standard_deviation=runs["pld"].noise_multiplier, sensitivity=1.0,
                                       sampling_prob=rdp.sample_rate, value_discretization_interval=1e-4)
    finer = fine.self_compose(rdp.steps).get_epsilon_for_delta(1e-5)
    assert finer <= runs["pld"].epsilon <= finer + 2e-3
    assert dpsgd.DEFAULTS["calibration"] == "pld"


def test_ema_costs_no_privacy_and_averages_the_iterates(digits):
    X, _, y, _ = digits
    kwargs = {"noise_multiplier": 2.0, "epochs": 3, "batch_size": 100, "rng": 3, "max_grad_norm": 0.5,
              "lr": 1.0, "lr_schedule": "constant"}
    plain = dpsgd.train(_mlp(), X[:300], y[:300], ema=0.0, **kwargs)
    averaged = dpsgd.train(_mlp(), X[:300], y[:300], ema=0.9, **kwargs)
    # ε, σ, q and the steps are the same: the average is post-processing of the released iterates
    assert (averaged.epsilon, averaged.noise_multiplier, averaged.sample_rate, averaged.steps) == \
        (plain.epsilon, plain.noise_multiplier, plain.sample_rate, plain.steps)
    assert not torch.equal(next(averaged.model.parameters()), next(plain.model.parameters()))
    # the same run, its iterates averaged by hand with β_t = min(0.9, (1 + t)/(10 + t)), gives the EMA model
    model, mean = _mlp(), {k: v.detach().clone() for k, v in _mlp().named_parameters()}
    C, lr, B = kwargs["max_grad_norm"], kwargs["lr"], kwargs["batch_size"]
    np_rng, torch_rng = dpsgd._torch_generator(3)
    X_t, y_t = torch.tensor(X[:300]), torch.tensor(y[:300])
    for t in range(plain.steps):
        batch = torch.from_numpy(np.flatnonzero(np_rng.random(300) < B / 300))
        summed, _ = dpsgd.clipped_gradient_sum(model, X_t[batch], y_t[batch], C)
        noisy = dpsgd.add_noise(summed, noise_multiplier=2.0, max_grad_norm=C, generator=torch_rng)
        beta = min(0.9, (1 + t) / (10 + t))
        with torch.no_grad():
            for k, p in model.named_parameters():
                p -= lr * noisy[k] / B
                mean[k] = beta * mean[k] + (1 - beta) * p
    for k, p in averaged.model.named_parameters():
        assert torch.allclose(p, mean[k], atol=1e-6), k
    for k, p in plain.model.named_parameters():
        assert torch.allclose(p, dict(model.named_parameters())[k], atol=1e-6), k


def test_the_cosine_schedule_is_deterministic_and_decays_to_zero(digits):
    X, _, y, _ = digits
    rates = [dpsgd._learning_rate(t, 100, 2.0, "cosine") for t in range(100)]
    assert rates[0] == 2.0 and rates[50] == pytest.approx(1.0) and rates[-1] == pytest.approx(2.0 * 0.5 * (
        1 + math.cos(math.pi * 99 / 100)))
    assert all(a > b for a, b in itertools.pairwise(rates))
    assert all(dpsgd._learning_rate(t, 100, 2.0, "constant") == 2.0 for t in range(100))
    a, b, c = (dpsgd.train(_mlp(), X[:300], y[:300], noise_multiplier=1.0, epochs=2, rng=7, lr_schedule=s)
               for s in ("cosine", "cosine", "constant"))
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True))
    assert not torch.equal(next(a.model.parameters()), next(c.model.parameters()))
    assert a.epsilon == c.epsilon


def test_epochs_grow_with_the_target_epsilon_only_when_unset(digits):
    X, _, y, _ = digits
    E, g = dpsgd.DEFAULTS["epochs"], dpsgd.DEFAULTS["epochs_growth"]
    for eps in (0.5, 4.0, 1e3):
        result = dpsgd.train(_mlp(), X[:100], y[:100], target_epsilon=eps, rng=0)
        expected = max(1, round(E * min(eps, dpsgd.EPOCHS_GROWTH_CAP) ** g))
        assert len(result.history) == expected and result.steps == expected * round(1 / result.sample_rate)
    assert len(dpsgd.train(_mlp(), X[:100], y[:100], target_epsilon=4.0, epochs=3, rng=0).history) == 3
    assert len(dpsgd.train(_mlp(), X[:100], y[:100], noise_multiplier=1.0, rng=0).history) == E


def test_train_is_reproducible_with_a_seed(digits):
    X, _, y, _ = digits
    a = dpsgd.train(_mlp(), X[:300], y[:300], noise_multiplier=1.0, epochs=2, rng=7, progress=False)
    b = dpsgd.train(_mlp(), X[:300], y[:300], noise_multiplier=1.0, epochs=2, rng=7, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True))


@pytest.mark.parametrize("kwargs, error, match", [
    ({}, ValueError, r"exactly one of target_epsilon"),
    ({"target_epsilon": 1.0, "noise_multiplier": 1.0}, ValueError, "exactly one of target_epsilon"),
    ({"noise_multiplier": 1.0, "max_grad_norm": 0.0}, ValueError, r"max_grad_norm must be in \(0, inf\)"),
    ({"noise_multiplier": 1.0, "max_grad_norm": -1.0}, ValueError, "max_grad_norm"),
    ({"noise_multiplier": 1.0, "lr": float("nan")}, ValueError, "lr must be a finite number"),
    ({"noise_multiplier": 1.0, "lr": float("inf")}, ValueError, "lr must be a finite number"),
    ({"noise_multiplier": 1.0, "delta": 0.0}, ValueError, "delta"),
    ({"target_epsilon": -1.0}, ValueError, "target_epsilon"),
    ({"target_epsilon": 1e308}, ValueError, "target_epsilon=1e\\+308 is too large"),   # looped forever
    ({"target_epsilon": 1e16}, ValueError, "target_epsilon=1e\\+16 is too large"),
    ({"target_epsilon": 1e-12}, ValueError, "target_epsilon=1e-12 is too small"),
    ({"noise_multiplier": 0.001}, ValueError, r"noise_multiplier must be in \[0.01, 1e\+06\]"),
    ({"noise_multiplier": 1e200}, ValueError, "noise_multiplier must be in"),
    ({"noise_multiplier": "1"}, TypeError, "noise_multiplier must be a real number"),
    ({"target_epsilon": None, "noise_multiplier": None}, ValueError, "exactly one of target_epsilon"),
    ({"noise_multiplier": 1.0, "ema": 1.0}, ValueError, r"ema must be in \[0, 1\)"),
    ({"noise_multiplier": 1.0, "ema": -0.1}, ValueError, r"ema must be in \[0, 1\)"),
    ({"noise_multiplier": 1.0, "ema": "0.9"}, TypeError, "ema must be a real number"),
    ({"noise_multiplier": 1.0, "calibration": "gdp"}, ValueError, r"calibration must be one of \('pld', 'pr"),
    ({"noise_multiplier": 1.0, "calibration": 1}, TypeError, "calibration must be one of"),
    ({"noise_multiplier": 1.0, "lr_schedule": "step"}, ValueError, r"lr_schedule must be one of \('cons"),
])
def test_bad_settings_are_named(digits, kwargs, error, match):
    X, _, y, _ = digits
    with pytest.raises(error, match=match):
        dpsgd.train(_mlp(), X[:50], y[:50], epochs=1, progress=False, **kwargs)


def test_batchnorm_is_refused_with_the_fix_named(digits):
    X, _, y, _ = digits
    model = nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))
    with pytest.raises(ValueError, match=r"BatchNorm1d.*GroupNorm or nn.LayerNorm"):
        dpsgd.train(model, X[:50], y[:50], noise_multiplier=1.0, epochs=1, progress=False)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        dpsgd.train("model", X[:50], y[:50], noise_multiplier=1.0)
    with pytest.raises(ValueError, match="one label per sample"):
        dpsgd.train(_mlp(), X[:50], y[:40], noise_multiplier=1.0)


def test_membership_inference_beats_overfitting_and_dp_bounds_it(digits):
    X, X_test, y, y_test = digits
    n = 100  # members: the first 100 training images; non-members: the first 100 test images
    torch.manual_seed(0)
    wide = nn.Sequential(nn.Linear(64, 256), nn.Tanh(), nn.Linear(256, 10))
    overfit = models.train_non_private(wide, X[:n], y[:n], epochs=500, batch_size=16, lr=0.5, rng=0)
    auc_plain = attacks.membership_inference_auc(overfit, X[:n], y[:n], X_test[:n], y_test[:n])
    private = dpsgd.train(wide, X[:n], y[:n], target_epsilon=1.0, rng=0, progress=False).model
    auc_dp = attacks.membership_inference_auc(private, X[:n], y[:n], X_test[:n], y_test[:n])
    se = math.sqrt((2 * n + 1) / (12 * n * n))   # the AUC's standard error when there is no signal
    assert auc_plain > 0.5 + 4 * se              # the attack works on the overfit model
    # ε-DP bounds every attack's ROC by TPR <= e^ε FPR, an AUC of at most e^ε / (1 + e^ε)
    assert auc_dp <= math.exp(1) / (1 + math.exp(1)) + 4 * se
    same = attacks.membership_inference_auc(overfit, X[:50], y[:50], X[:50], y[:50])
    assert np.isclose(same, 0.5)                 # identical sets cannot be told apart


@pytest.mark.parametrize("call, error, name", [
    (lambda m, X, y, g: dpsgd.per_sample_gradients(object(), X, y), TypeError, "model"),
    (lambda m, X, y, g: dpsgd.per_sample_gradients(m, [], y), ValueError, "X"),
    (lambda m, X, y, g: dpsgd.per_sample_gradients(m, {}, y), TypeError, "X"),
    (lambda m, X, y, g: dpsgd.per_sample_gradients(m, X, None), TypeError, "y"),
    (lambda m, X, y, g: dpsgd.per_sample_gradients(m, X[0], y), ValueError, "X"),
    (lambda m, X, y, g: dpsgd.per_sample_gradients(m, X, y.float()), TypeError, "y"),
    (lambda m, X, y, g: dpsgd.clipped_gradient_sum(None, X, y, 1.0), TypeError, "model"),
    (lambda m, X, y, g: dpsgd.clipped_gradient_sum(m, X, y[:2], 1.0), ValueError, "y"),
    (lambda m, X, y, g: dpsgd.clipped_gradient_sum(m, X, y, "1"), TypeError, "max_grad_norm"),
    (lambda m, X, y, g: dpsgd.clip_and_sum(None, 1.0), TypeError, "grads"),
    (lambda m, X, y, g: dpsgd.clip_and_sum({}, 1.0), TypeError, "grads"),
    (lambda m, X, y, g: dpsgd.clip_and_sum({"w": 1.0}, 1.0), TypeError, "grads"),
    (lambda m, X, y, g: dpsgd.clip_and_sum({"a": torch.zeros(3, 2), "b": torch.zeros(4)}, 1.0), ValueError,
     "grads"),
    (lambda m, X, y, g: dpsgd.add_noise(None, noise_multiplier=1.0, max_grad_norm=1.0), TypeError, "summed"),
    (lambda m, X, y, g: dpsgd.add_noise([1.0], noise_multiplier=1.0, max_grad_norm=1.0), TypeError, "summed"),
    (lambda m, X, y, g: dpsgd.add_noise(g, noise_multiplier=1.0, max_grad_norm=None), TypeError,
     "max_grad_norm"),
    (lambda m, X, y, g: dpsgd.add_noise(g, noise_multiplier=1.0, max_grad_norm=1.0, generator=0), TypeError,
     "generator"),
    (lambda m, X, y, g: dpsgd.add_noise(g, noise_multiplier=1e6, max_grad_norm=1e300), ValueError,
     "noise_multiplier × max_grad_norm"),               # was: a tensor of silent infinities
])
def test_the_pieces_of_a_step_name_their_bad_arguments(digits, call, error, name):
    X, _, y, _ = digits
    model, X_t, y_t = _mlp(), torch.tensor(X[:4]), torch.tensor(y[:4])
    summed = {k: v.sum(0) for k, v in dpsgd.per_sample_gradients(model, X_t, y_t).items()}
    with pytest.raises(error, match=name):
        call(model, X_t, y_t, summed)


# --- embeddings: a sample's gradient lives on the rows it uses -------------------------------------


def _clipped_reference(model: nn.Module, X: torch.Tensor, y: torch.Tensor, C: float):
    """Clip-and-sum computed the slow, obvious way: one backward pass per sample on the full weights."""
    total = {k: torch.zeros_like(p) for k, p in model.named_parameters()}
    norms = []
    for i in range(len(X)):
        model.zero_grad()
        nn.functional.cross_entropy(model(X[i:i + 1]), y[i:i + 1]).backward()
        grads = {k: p.grad.clone() for k, p in model.named_parameters()}
        norm = torch.sqrt(sum(g.pow(2).sum() for g in grads.values()))
        norms.append(norm)
        for k in total:
            total[k] += min(1.0, C / (float(norm) + 1e-6)) * grads[k]
    return total, torch.stack(norms)


def _embedding_models(V: int) -> list[nn.Module]:
    torch.manual_seed(0)
    return [nn.Sequential(nn.EmbeddingBag(V, 4, mode="mean", padding_idx=0), nn.Linear(4, 3)),
            nn.Sequential(nn.EmbeddingBag(V, 4, mode="sum"), nn.Tanh(), nn.Linear(4, 3)),
            nn.Sequential(nn.Embedding(V, 4, padding_idx=0), nn.Flatten(), nn.Linear(28, 3)),
            nn.Sequential(nn.Embedding(V, 4), nn.Flatten(), nn.Linear(28, 5), nn.Tanh(), nn.Linear(5, 3))]


def test_embedding_clipping_matches_a_per_sample_reference():
    """Repeated tokens, padding, an all-padding sample and one token seven times; C both binding and not."""
    V = 30
    X = torch.randint(0, V, (12, 7), generator=torch.Generator().manual_seed(1))
    X[:, 5:] = 0
    X[3] = 0
    X[4] = 5
    y = torch.randint(0, 3, (12,), generator=torch.Generator().manual_seed(2))
    for model in _embedding_models(V):
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(3)   # gradients long enough that C = 0.3 clips most of them
        for C in (0.3, 1e3):
            fast, norms = dpsgd.clipped_gradient_sum(model, X, y, C)
            assert dpsgd._fast_clipped_sum(model, X, y, C) is not None   # the embedding path, no fallback
            reference, reference_norms = _clipped_reference(model, X, y, C)
            assert sorted(fast) == sorted(reference)
            torch.testing.assert_close(norms, reference_norms, atol=1e-5, rtol=1e-5)
            for k in reference:
                torch.testing.assert_close(fast[k], reference[k], atol=1e-5, rtol=1e-5)


def test_an_embedding_gradient_touches_only_the_rows_the_batch_uses():
    model = _embedding_models(50)[0]
    X = torch.tensor([[4, 7, 7, 0], [9, 4, 0, 0]])
    summed, _ = dpsgd.clipped_gradient_sum(model, X, torch.tensor([0, 2]), 1.0)
    touched = set(torch.nonzero(summed["0.weight"].abs().sum(1)).flatten().tolist())
    assert touched == {4, 7, 9}   # padding row 0 and every unused row get nothing


def test_embedding_models_train_under_the_accountant_with_integer_ids():
    from leptonkit import text

    g = np.random.default_rng(0)
    X = g.integers(4, 40, size=(200, 6))
    y = (X[:, 0] % 2).astype(int)            # the first token decides the class
    ledger = accounting.PrivacyAccountant(2.0, 1e-5)
    result = dpsgd.train(text.bag_classifier(40, 2, dim=8), X, y, target_epsilon=2.0, epochs=5, batch_size=50,
                         lr=2.0, max_grad_norm=1.0, rng=0, accountant=ledger)
    assert result.epsilon <= 2.0 and ledger.spent[0] == pytest.approx(result.epsilon, abs=1e-6)


def test_an_embedding_after_another_layer_or_on_floats_takes_the_general_path():
    model = nn.Sequential(nn.Linear(3, 3), nn.Embedding(10, 2))
    assert dpsgd._fast_clipped_sum(model, torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), 1.0) is None
    bag = nn.Sequential(nn.EmbeddingBag(10, 2), nn.Linear(2, 2))
    assert dpsgd._fast_clipped_sum(bag, torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), 1.0) is None
    renormed = nn.Sequential(nn.EmbeddingBag(10, 2, max_norm=1.0), nn.Linear(2, 2))
    assert not dpsgd._fast_layer(renormed[0])
