"""How ``dpsgd.DEFAULTS`` are chosen: validation splits of digits' *training* part only, never its test split.

The data are the training part of ``datasets.digits()`` (1437 images); its test part (360) is
never loaded into this script's variables. From the training part, ``--splits`` stratified
75/25 splits (seeds 0, 1, …) give a fitting and a validation set each. Starting from the kit's
earlier defaults, one technique at a time is tried, each candidate on every split at ε 1 and
ε 2 (δ 1e-5, MLP 64-64-10 tanh); the best by mean validation accuracy is kept before the next
stage (a greedy coordinate search), and the table says what each technique bought:

1. σ calibrated by the PRV accountant (Gopi, Lee & Wutschitz 2021) or dp-accounting's PLD
   (Koskela et al. 2020; Doroshenko et al. 2022) instead of RDP (Mironov 2017);
2. larger expected batches with proportionally more epochs, so more steps (De et al. 2022);
3. more epochs at a larger ε: epochs = E·min(ε, 16)^g (more noise, a shorter walk: the noise a
   step adds accumulates over the steps, so the best number of steps grows with ε);
4. the learning rate and clipping norm C, scaled around the settings so far;
5. an exponential moving average of the iterates (De et al. 2022; no privacy cost);
6. a cosine learning-rate schedule (Loshchilov & Hutter 2017), at a larger peak rate;
7. tempered sigmoid activations s·sigmoid(T·x) − o (Papernot et al. 2021; tanh is s 2, T 2, o 1):
   reported only, since the model is the caller's, not a setting of ``dpsgd.train``.

Usage: nice -n 10 python bench/dpsgd_defaults.py [--splits 4] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
from sklearn.model_selection import train_test_split
from torch import nn

from leptonkit import datasets, dpsgd, models

warnings.filterwarnings("ignore")
torch.set_num_threads(1)   # the machine is shared: one thread per process keeps timings and load sane

#: The defaults before this search (the kit's behaviour up to issue 18).
EARLIER = {"batch_fraction": 0.35, "max_batch_size": 512, "epochs": 60, "epochs_growth": 0.0, "lr": 1.0,
           "max_grad_norm": 0.5, "calibration": "rdp", "ema": 0.0, "lr_schedule": "constant"}
EPSILONS = (1.0, 2.0)
DELTA = 1e-5


class TemperedSigmoid(nn.Module):
    """φ(x) = s·sigmoid(T·x) − o (Papernot et al. 2021); s 2, T 2, o 1 is tanh."""

    def __init__(self, scale: float, temperature: float, offset: float):
        super().__init__()
        self.scale, self.temperature, self.offset = scale, temperature, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * torch.sigmoid(self.temperature * x) - self.offset


def network(activation: nn.Module | None = None, seed: int = 0) -> nn.Module:
    model = models.mlp(64, 10, seed=seed)          # Linear, Tanh, Linear
    if activation is not None:
        model[1] = activation
    return model


def validation_splits(count: int):
    """``count`` stratified 75/25 splits of digits' training part; the test part is discarded unread."""
    X_train, _, y_train, _ = datasets.digits()
    return [train_test_split(X_train, y_train, test_size=0.25, random_state=seed, stratify=y_train)
            for seed in range(count)]


def validation_accuracy(settings: dict, splits, activation=None) -> dict[float, list[float]]:
    """Validation accuracy at each ε on every split; ``dpsgd.train`` calibrates σ to each ε itself."""
    n = len(splits[0][0])
    batch = min(settings["max_batch_size"], round(settings["batch_fraction"] * n))
    out = {}
    for eps in EPSILONS:   # epochs = E·ε^g, the rule dpsgd.train applies to a target ε (g = 0: fixed)
        grow = min(eps, dpsgd.EPOCHS_GROWTH_CAP) ** settings["epochs_growth"]
        epochs = max(1, round(settings["epochs"] * grow))
        out[eps] = []
        for seed, (X_fit, X_val, y_fit, y_val) in enumerate(splits):
            result = dpsgd.train(network(activation), X_fit, y_fit, target_epsilon=eps, delta=DELTA,
                                 epochs=epochs, batch_size=batch, max_grad_norm=settings["max_grad_norm"],
                                 lr=settings["lr"], calibration=settings["calibration"], ema=settings["ema"],
                                 lr_schedule=settings["lr_schedule"], rng=seed)
            assert result.epsilon <= eps, (result.epsilon, eps)
            out[eps].append(models.evaluate(result.model, X_val, y_val)[1])
    return out


def score(accuracies: dict[float, list[float]]) -> float:
    return statistics.mean(a for accs in accuracies.values() for a in accs)


def row(stage: str, change: str, accuracies: dict[float, list[float]], kept: bool) -> None:
    cells = "".join(f" {statistics.mean(a):>8.3f} {min(a):>7.3f}" for a in accuracies.values())
    print(f"{stage:<22} {change:<34}{cells} {score(accuracies):>8.3f} {'*' if kept else ''}")


def search(splits, quick: bool) -> dict:
    """The greedy search: each stage's candidates, the best kept (ties keep the earlier setting)."""
    print(f"{'stage':<22} {'setting':<34}" + "".join(f" {'ε=' + format(e, 'g') + ' mean':>8} {'worst':>7}"
                                                    for e in EPSILONS) + f" {'score':>8}")
    best = dict(EARLIER)
    best_acc = validation_accuracy(best, splits)
    row("0 earlier defaults", "RDP, B 0.35n, 60 epochs", best_acc, True)
    stages = [   # each candidate is a function of the best settings so far
        ("1 calibration", [lambda b, c=c: {"calibration": c} for c in ("pld", "prv")]),   # ties: PLD, faster
        ("2 batch × steps", [lambda b, f=f, e=e: {"batch_fraction": f, "epochs": e, "max_batch_size": 4096}
                             for f, e in ([(0.7, 150)] if quick else [(0.5, 100), (0.7, 150), (0.7, 225)])]),
        ("3 steps grow with ε", [lambda b, g=g: {"epochs_growth": g}
                                 for g in ([0.5] if quick else [0.5, 1.0])]),
        ("4 lr × C", [lambda b, lr=lr, C=C: {"lr": lr * b["lr"], "max_grad_norm": C * b["max_grad_norm"]}
                      for lr, C in ([(1.5, 1.0)] if quick else [(0.7, 1.0), (1.5, 1.0), (2.0, 0.5)])]),
        ("5 EMA of iterates", [lambda b, m=m: {"ema": m} for m in ([0.9] if quick else [0.9, 0.95])]),
        ("6 lr schedule", [lambda b, k=k: {"lr_schedule": "cosine", "lr": k * b["lr"]}
                           for k in ([1.5] if quick else [1.5, 2.0])]),
    ]
    for stage, candidates in stages:
        start = time.perf_counter()
        results = []
        for candidate in candidates:
            change = candidate(best)
            acc = validation_accuracy({**best, **change}, splits)
            results.append((score(acc), change, acc))
        top = max(results, key=lambda r: r[0])
        for s, change, acc in results:
            row(stage, _show(change), acc, change is top[1] and s > score(best_acc))
        if top[0] > score(best_acc):
            best, best_acc = {**best, **top[1]}, top[2]
        print(f"{'':<22} ({time.perf_counter() - start:.0f} s)")
    print("\n7 tempered sigmoid (the model's activation; reported, not a dpsgd.train setting)")
    for name, act in [("tanh = s 2, T 2, o 1", None),
                      ("s 1, T 2, o 0.5 (tanh / 2)", TemperedSigmoid(1, 2, 0.5)),
                      ("s 2, T 1, o 1 (tanh(x/2))", TemperedSigmoid(2, 1, 1)), ("ReLU", nn.ReLU())]:
        row("7 activation", name, validation_accuracy(best, splits, act), False)
    return best


def _show(change: dict) -> str:
    return ", ".join(f"{k.replace('max_grad_norm', 'C').replace('batch_fraction', 'B/n')} {v}"
                     for k, v in change.items() if k != "max_batch_size")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=4, help="validation splits of the training part")
    parser.add_argument("--quick", action="store_true", help="fewer candidates per stage, 2 splits")
    args = parser.parse_args()
    splits = validation_splits(2 if args.quick else args.splits)
    print(f"validation: {len(splits)} stratified 75/25 splits of digits' training part "
          f"({len(splits[0][0])} fit, {len(splits[0][1])} validate); δ = {DELTA:g}; the test split unread")
    start = time.perf_counter()
    best = search(splits, args.quick)
    print(f"\nchosen: {best}\ndpsgd.DEFAULTS now: {dpsgd.DEFAULTS}\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
