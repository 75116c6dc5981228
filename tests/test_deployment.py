"""The kit's Flower app on Flower's deployment engine, on loopback (``pytest -k deployment``).

A SuperLink and three SuperNodes run as real processes on 127.0.0.1 (free ports), each SuperNode
with its own ``--node-config`` and so its own partition; ``flwr run`` ships ``flower_app/`` to the
SuperLink; the model it trains must equal :func:`leptonkit.fl.fedavg`'s from the same clients.
Every process a test starts is stopped when it ends, also when it fails (``finally``), and the last
test checks that none is left. The processes are ``flower_app/leptonkit_flower/loopback.py``'s.

Tolerances. The runs are FedSGD (E = 1, B = ∞, every client every round), so nothing is random
and the two engines differ only in float32 rounding: Flower averages the clients' weights
(Σ_k (n_k/N)·w_k, float32) where ``fl.fedavg`` averages their updates in float64 and adds the mean
to w, and torch's batched (vmap) and per-client matrix products sum in different orders. Each is a
few units of float32's roundoff u = 2⁻²⁴ ≈ 6·10⁻⁸ relative to |w| < 2; 1e-5 is about 80·u·|w| a
round over 2 rounds (measured: 3·10⁻⁸). SecAgg+ also quantises each client's (n_k/max_weight)-scaled
weights to steps of 2·8/2²² (stochastic rounding over its clipping range ±8 in 2²² levels, Flower's
defaults), so the K clients add at most K·(16/2²²)/Σ_k(n_k/max_weight) per parameter in a round.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

try:
    import flwr  # noqa: F401
    import psutil  # noqa: F401  (ipykernel's dependency; the loopback federation's process tree)
except ImportError:
    if os.environ.get("CI") == "true":   # make test installs the `scale` extra: never skip there
        raise
    pytest.skip("Flower is not installed: pip install -e '.[scale]' (make test does)",
                allow_module_level=True)

from leptonkit import datasets, fl, models

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "flower_app"))
from leptonkit_flower.loopback import LoopbackFederation  # noqa: E402

K = 3
ROUNDS = 2
SETTINGS = {"local-epochs": 1, "batch-size": 0, "lr": 0.5, "num-server-rounds": ROUNDS}
FLOAT32_TOLERANCE = 1e-5
RUN_S = 240.0
STARTED: list[LoopbackFederation] = []


def _clients(nodes: int = K) -> tuple[list, tuple]:
    """What the SuperNodes load (flower_app/leptonkit_flower/task.py), built here the same way."""
    X, X_test, y, y_test = datasets.digits()
    return [(X[p], y[p]) for p in fl.partition(y, nodes, rng=0)], (X_test, y_test)


def _reference(rounds: int = ROUNDS, **kwargs) -> list[np.ndarray]:
    clients, test = _clients()
    result = fl.fedavg(models.mlp(64, 10, seed=0), clients, rounds=rounds, batch_size=None, lr=0.5,
                       eval_data=test, progress=False, **kwargs)
    return fl.get_weights(result.model)


def _max_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    assert [x.shape for x in a] == [y.shape for y in b]
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    """One insecure loopback federation, shared by the tests below (started once: ~3 s)."""
    federation = LoopbackFederation(tmp_path_factory.mktemp("deployment"), nodes=K)
    STARTED.append(federation)
    try:
        yield federation.start()
    finally:
        federation.stop()


def test_deployment_matches_fedavg(federation):
    weights, history = federation.run("plain", timeout=RUN_S, **SETTINGS)
    assert [h["round"] for h in history] == [1, 2]
    assert [h["clients"] for h in history] == [K, K]
    assert _max_difference(weights, _reference()) < FLOAT32_TOLERANCE


def test_deployment_survives_a_supernode_killed_mid_run(federation):
    """SuperNode K−1 is SIGKILLed once round 1 is saved: with min-available-nodes = 2, Flower's FedAvg
    waits round-timeout seconds for it in round 2 (a SIGKILLed node sends no goodbye, and the
    SuperLink marks it offline only when its heartbeat lapses), then aggregates the two survivors.

    Runs last of the tests on the shared federation (it leaves it with two SuperNodes)."""
    save = federation.workdir / "dropout"

    def kill_after_round_one() -> None:
        deadline = time.monotonic() + RUN_S
        while time.monotonic() < deadline:
            if save.with_suffix(".json").exists() and json.loads(save.with_suffix(".json").read_text()):
                federation.kill_supernode(K - 1)
                return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_after_round_one, daemon=True)
    killer.start()
    weights, history = federation.run("dropout", timeout=RUN_S, **{
        **SETTINGS, "min-available-nodes": K - 1, "round-timeout": 40.0})
    killer.join(timeout=10)
    assert federation.supernodes[K - 1].poll() is not None, "the SuperNode was not killed"
    assert [h["clients"] for h in history] == [K, K - 1]
    assert all(np.isfinite(w).all() for w in weights)
    assert history[-1]["accuracy"] > 0.1   # better than chance on ten balanced classes


def test_deployment_with_tls_and_secaggplus(tmp_path_factory):
    """TLS on (a CA and a SuperLink certificate from tools/make_certs.py) instead of --insecure, the
    sum by Flower's SecAgg+, each update clipped to S = 0.5 on its client (the kit's own clipping):
    still fl.fedavg's model, within SecAgg+'s quantisation bound (module docstring)."""
    workdir = tmp_path_factory.mktemp("tls")
    certs = workdir / "certificates"
    made = subprocess.run([sys.executable, str(ROOT / "tools" / "make_certs.py"), "--out", str(certs),
                           "--host", "127.0.0.1"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    tls = {"ca": certs / "ca.crt", "cert": certs / "server.pem", "key": certs / "server.key"}
    federation = LoopbackFederation(workdir, nodes=K, tls=tls)
    STARTED.append(federation)
    max_weight = 1000.0
    try:
        federation.start()
        assert "--insecure" not in federation.superlink_command() + federation.supernode_command(0)
        weights, history = federation.run("tls-secagg", timeout=RUN_S, **{
            **SETTINGS, "num-server-rounds": 1, "clip-norm": 0.5, "secure-aggregation": True,
            "max-weight": max_weight})
    finally:
        federation.stop()
    assert [h["clients"] for h in history] == [K]
    clients, _ = _clients()
    total = sum(len(X) for X, _ in clients) / max_weight
    bound = K * (2 * 8.0 / 2**22) / total + FLOAT32_TOLERANCE
    difference = _max_difference(weights, _reference(rounds=1, clip_norm=0.5))
    assert difference < bound
    # SecAgg+ did run: its rounding errors (up to K·Δ/Σ ratios ≈ 8·10⁻⁶ on each of ~4800 weights)
    # exceed float32's alone (≈ 3·10⁻⁸) on at least one weight, all but surely
    assert difference > 1e-6


def test_deployment_leaves_no_process_behind(federation):
    """Runs last: every SuperLink, SuperNode, SuperExec and app process the tests started is gone
    (the shared federation is stopped here, as its fixture would stop it after this test)."""
    federation.stop()
    assert STARTED, "no federation was started"
    assert [command for started in STARTED for command in started.alive()] == []
