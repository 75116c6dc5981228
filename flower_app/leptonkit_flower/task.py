"""What a SuperNode loads and what the model is: both from the run config and the node config.

Each SuperNode reads only its own partition (``partition-id`` of ``num-partitions``, from its
``--node-config``) of a dataset leptonkit ships; the split is :func:`leptonkit.fl.partition` with a
fixed seed, so every SuperNode computes the same split without any data crossing the wire.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from leptonkit import datasets, fl, models

DATASETS = {"digits": datasets.digits, "breast_cancer": datasets.breast_cancer}


def load_dataset(run_config: Any) -> tuple[np.ndarray, ...]:
    """``X_train, X_test, y_train, y_test`` of the run's ``dataset``."""
    name = run_config.get("dataset", "digits")
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {name!r}")
    return _load(name)


@lru_cache(maxsize=4)   # the ServerApp evaluates every round; each load is the same split
def _load(name: str) -> tuple[np.ndarray, ...]:
    return DATASETS[name]()


def partition_of(run_config: Any, partition_id: int, num_partitions: int) -> tuple[np.ndarray, np.ndarray]:
    """Partition ``partition_id`` of ``num_partitions`` of the training split (IID, or Dirichlet(α))."""
    X, _, y, _ = load_dataset(run_config)
    alpha = float(run_config.get("partition-alpha", 0.0))
    parts = fl.partition(y, num_partitions, alpha=alpha or None, rng=int(run_config.get("partition-seed", 0)))
    if not 0 <= partition_id < num_partitions:
        raise ValueError(f"partition-id must be in [0, {num_partitions - 1}], got {partition_id}")
    return X[parts[partition_id]], y[parts[partition_id]]


def load_partition(context: Any) -> tuple[np.ndarray, np.ndarray]:
    """This SuperNode's own data: its ``--node-config 'partition-id=K num-partitions=N'``."""
    node = context.node_config
    if "partition-id" not in node or "num-partitions" not in node:
        raise ValueError("each SuperNode needs --node-config 'partition-id=K num-partitions=N'")
    return partition_of(context.run_config, int(node["partition-id"]), int(node["num-partitions"]))


def make_model(run_config: Any) -> nn.Module:
    """The kit's MLP for the run's dataset (the same seed gives every party the same start)."""
    X, _, y, _ = load_dataset(run_config)
    return models.mlp(X.shape[1], int(np.max(y)) + 1, hidden=int(run_config.get("hidden", 64)),
                      seed=int(run_config.get("model-seed", 0)))


def evaluate(model: nn.Module, run_config: Any) -> dict:
    """The server's evaluation of the global model on the dataset's test split."""
    _, X_test, _, y_test = load_dataset(run_config)
    loss, accuracy = models.evaluate(model, X_test, y_test)
    return {"accuracy": float(accuracy), "loss": float(loss)}


def save(weights: list[np.ndarray], history: list[dict], run_config: Any) -> None:
    """Write the global model and the history to ``save-path`` (``.npz`` and ``.json``), atomically."""
    path = str(run_config.get("save-path", ""))
    if not path:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial.npz")
    np.savez(partial, *weights)
    partial.replace(target.with_suffix(".npz"))
    text = target.with_name(target.name + ".partial.json")
    text.write_text(json.dumps(history))
    text.replace(target.with_suffix(".json"))
