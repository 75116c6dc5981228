"""Data that does not fit the model is named before any training or noise calibration starts.

Labels beyond the model's classes used to surface as torch's IndexError from deep inside a
training loop, and a feature mismatch as a RuntimeError about matrix shapes.
"""

from __future__ import annotations

import pytest

from leptonkit import attacks, datasets, dpsgd, fl, models

X, _, Y, _ = datasets.digits()


@pytest.mark.parametrize("train", [
    lambda X, y: dpsgd.train(models.mlp(64, 10), X, y, noise_multiplier=1.0, epochs=1, rng=0),
    lambda X, y: fl.fedavg(models.mlp(64, 10), [(X, y)], rounds=1, rng=0),
    lambda X, y: models.train_non_private(models.mlp(64, 10), X, y, epochs=1, rng=0),
    lambda X, y: models.evaluate(models.mlp(64, 10), X, y),
    lambda X, y: attacks.membership_inference_auc(models.mlp(64, 10), X, y, X, y),
], ids=["dpsgd.train", "fl.fedavg", "train_non_private", "evaluate", "membership_inference_auc"])
def test_labels_beyond_the_classes_and_a_feature_mismatch_are_value_errors(train):
    with pytest.raises(ValueError, match="10 classes"):
        train(X[:40], Y[:40] + 20)
    with pytest.raises(ValueError, match="does not fit the model"):
        train(X[:40, :10], Y[:40])
    with pytest.raises(ValueError, match="negative label"):
        train(X[:40], Y[:40] - 20)
