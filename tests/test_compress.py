"""leptonkit.compress: what each compressor keeps, what it costs in bytes, and its bias."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from leptonkit import compress, datasets, models


def test_top_k_keeps_exactly_the_largest_coordinates():
    updates = np.array([[0.1, -5.0, 0.3, 2.0, -0.2], [1.0, 1.5, -3.0, 0.0, 0.5]])
    sparse, size = compress.sparsify_top_k(updates, fraction=0.4)
    assert np.array_equal(sparse, [[0, -5.0, 0, 2.0, 0], [0, 1.5, -3.0, 0, 0]])
    assert size == 2 * (compress.DENSE_BYTES + compress.INDEX_BYTES)


def test_stochastic_quantisation_is_unbiased_within_its_variance():
    rng = np.random.default_rng(0)
    update = rng.normal(size=(1, 200))
    trials = 4000
    total = sum(compress.quantize_stochastic(update, bits=2, rng=rng)[0] for _ in range(trials))
    step = (update.max() - update.min()) / 3
    # each coordinate's mean over `trials` draws has sd ≤ step / (2 √trials); allow 4.5 of them
    assert np.max(np.abs(total / trials - update)) < 4.5 * step / (2 * math.sqrt(trials))


def test_quantised_values_are_on_the_grid_and_within_one_step():
    update = np.random.default_rng(1).normal(size=(3, 1000))
    quantised, size = compress.quantize_stochastic(update, bits=8, rng=2)
    low, high = update.min(axis=1, keepdims=True), update.max(axis=1, keepdims=True)
    step = (high - low) / 255
    levels = (quantised - low) / step
    assert np.allclose(levels, np.round(levels)) and np.all(np.abs(quantised - update) <= step + 1e-12)
    assert size == 1000 + 8


def test_model_pruning_and_quantisation_report_their_size():
    model = models.mlp(64, 10)
    n = sum(p.numel() for p in model.parameters())
    same, dense = compress.compress_model(model)
    assert dense == 4 * n and all(torch.equal(a, b) for a, b in zip(same.parameters(), model.parameters(),
                                                                     strict=True))
    pruned, pruned_size = compress.compress_model(model, prune=0.9)
    zeros = sum(int((p == 0).sum()) for p in pruned.parameters())
    assert zeros >= 0.9 * n and pruned_size == (n - zeros) * 8
    quantised, q_size = compress.compress_model(model, bits=8)
    assert q_size == n + 4 * len(list(model.parameters()))
    for p in quantised.parameters():
        scale = p.abs().max() / 127
        assert torch.allclose(p / scale, torch.round(p / scale), atol=1e-4)


def test_pruning_costs_little_accuracy_until_it_costs_a_lot():
    X, X_test, y, y_test = datasets.digits()
    model = models.train_non_private(models.mlp(64, 10), X, y, epochs=30, rng=0)
    accuracy = {f: models.evaluate(compress.compress_model(model, prune=f, bits=8)[0], X_test, y_test)[1]
                for f in (0.0, 0.5, 0.99)}
    assert accuracy[0.0] > 0.9 and accuracy[0.5] > accuracy[0.0] - 0.05 and accuracy[0.99] < 0.5


@pytest.mark.parametrize("call, error, name", [
    (lambda: compress.sparsify_top_k(np.ones((2, 3)), fraction=0.0), ValueError, "fraction"),
    (lambda: compress.sparsify_top_k(np.ones(3), fraction=0.5), ValueError, "updates"),
    (lambda: compress.sparsify_top_k([["a"]], fraction=0.5), TypeError, "updates"),
    (lambda: compress.quantize_stochastic(np.ones((2, 3)), bits=0), ValueError, "bits"),
    (lambda: compress.quantize_stochastic(np.full((1, 2), np.nan)), ValueError, "finite"),
    (lambda: compress.compress_model(models.mlp(4, 2), prune=1.0), ValueError, "prune"),
    (lambda: compress.compress_model(models.mlp(4, 2), bits=1), ValueError, "bits"),
    (lambda: compress.compress_model("model"), TypeError, "model"),
])
def test_bad_inputs(call, error, name):
    with pytest.raises(error, match=name):
        call()
