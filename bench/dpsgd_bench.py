"""DP-SGD: leptonkit against Opacus (each of its per-sample modes) and plain SGD at three scales, in one run.

1. Step time at three scales, every contender on the same model, batch and seed:
   (a) ``mlp_small``: the digits MLP 64-64-10 (tanh) at batch 64;
   (b) ``mlp_large``: an MLP 784-1024-1024-10 (tanh) at batch 256 on synthetic inputs, where
       arithmetic, not Python, dominates;
   (c) ``cnn``: Opacus's own MNIST example network (two conv layers, 28×28 inputs; opacus
       ``examples/mnist.py``) at batch 128 on synthetic inputs.
   Contenders: plain SGD (no clipping, no noise); Opacus 1.6 ``make_private`` with
   ``grad_sample_mode`` "hooks", "functorch", "ew" (expanded weights) and "ghost" (ghost
   clipping, Li et al. 2022), each with its DPOptimizer adding noise; leptonkit's
   ``clipped_gradient_sum`` + ``add_noise`` + the SGD update, which is the step ``dpsgd.train``
   runs. Contenders are interleaved within each repetition (so a slow moment of the shared
   machine hits all of them), ≥ 30 repetitions; the median and the quartiles are printed.
   (Opacus's per-sample modes at ``mlp_large``, 40× slower than its ghost mode, get fewer: 3
   with ``--quick``, 30 without; the table prints each contender's count.)
   "Opacus best" is, per scale, the fastest Opacus mode by median.
2. Accuracy on five stratified 75/25 splits of digits (``random_state`` 1–5, none of them the
   split the defaults were chosen on; see bench/dpsgd_defaults.py, which reads only the
   training part of ``datasets.digits()``), leptonkit with its DEFAULTS at ε 1 and 2
   (δ = 1e-5): the mean and the worst of the five.

Prints tables, then ``FIGURE`` lines. Usage: nice -n 10 python bench/dpsgd_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from opacus import PrivacyEngine
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from leptonkit import dpsgd, models

warnings.filterwarnings("ignore")
torch.set_num_threads(1)   # the machine is shared; every contender gets the same one thread

OPACUS_MODES = ("hooks", "functorch", "ew", "ghost")
SPLIT_SEEDS = (1, 2, 3, 4, 5)


def mlp_small() -> nn.Module:
    return models.mlp(64, 10, seed=0)


def mlp_large() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 1024), nn.Tanh(), nn.Linear(1024, 1024), nn.Tanh(),
                         nn.Linear(1024, 10))


def cnn() -> nn.Module:
    """Opacus's MNIST example network (opacus/examples/mnist.py, ``SampleConvNet``) as a Sequential."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 16, 8, 2, padding=3), nn.ReLU(), nn.MaxPool2d(2, 1),
                         nn.Conv2d(16, 32, 4, 2), nn.ReLU(), nn.MaxPool2d(2, 1), nn.Flatten(),
                         nn.Linear(32 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 10))


def scales() -> dict[str, tuple]:
    X_digits, y_digits = load_digits(return_X_y=True)
    generator = torch.Generator().manual_seed(0)
    return {
        "mlp_small": (mlp_small, torch.tensor(X_digits[:64] / 16.0, dtype=torch.float32),
                      torch.tensor(y_digits[:64])),
        "mlp_large": (mlp_large, torch.randn(256, 784, generator=generator),
                      torch.randint(0, 10, (256,), generator=generator)),
        "cnn": (cnn, torch.randn(128, 1, 28, 28, generator=generator),
                torch.randint(0, 10, (128,), generator=generator)),
    }


def contenders(build, xb: torch.Tensor, yb: torch.Tensor, lr: float = 0.1, C: float = 1.0,
               sigma: float = 1.0) -> tuple[dict, dict]:
    """One step function per contender on its own copy of the model; modes Opacus refuses are named."""
    B = len(xb)
    steps, refused = {}, {}
    plain = build()
    plain_opt = torch.optim.SGD(plain.parameters(), lr=lr)

    def plain_step():
        plain_opt.zero_grad()
        nn.functional.cross_entropy(plain(xb), yb).backward()
        plain_opt.step()

    steps["plain SGD"] = plain_step
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xb, yb), batch_size=B)
    for mode in OPACUS_MODES:
        try:
            model = build()
            optimiser = torch.optim.SGD(model.parameters(), lr=lr)
            out = PrivacyEngine().make_private(module=model, optimizer=optimiser, data_loader=loader,
                                               noise_multiplier=sigma, max_grad_norm=C, grad_sample_mode=mode,
                                               criterion=nn.CrossEntropyLoss(), poisson_sampling=False)
            wrapped, opt = out[0], out[1]
            criterion = out[2] if mode == "ghost" else nn.CrossEntropyLoss()

            def opacus_step(wrapped=wrapped, opt=opt, criterion=criterion):
                opt.zero_grad()
                criterion(wrapped(xb), yb).backward()
                opt.step()

            opacus_step()   # a mode that fails on this model fails here, not in the timing loop
            steps[f"Opacus {mode}"] = opacus_step
        except Exception as error:   # report which modes do not support the model
            refused[f"Opacus {mode}"] = f"{type(error).__name__}: {str(error).splitlines()[0][:90]}"
    kit = build()
    params = dict(kit.named_parameters())
    generator = torch.Generator().manual_seed(0)

    def kit_step():
        summed, _ = dpsgd.clipped_gradient_sum(kit, xb, yb, C)   # what dpsgd.train runs, step by step
        noisy = dpsgd.add_noise(summed, noise_multiplier=sigma, max_grad_norm=C, generator=generator)
        with torch.no_grad():
            for name, p in params.items():
                p -= lr * noisy[name] / B

    steps["leptonkit"] = kit_step
    return steps, refused


def time_steps(steps: dict, repeats: int, inner: int, few: dict[str, int]) -> dict[str, list[float]]:
    """Seconds per step, ``repeats`` samples each of ``inner`` steps; contenders interleaved.

    A contender named in ``few`` gets only that many samples (the first ones, interleaved too).
    """
    for step in steps.values():
        step()   # warm up
    samples = {name: [] for name in steps}
    for rep in range(repeats):
        for name, step in steps.items():
            if rep >= few.get(name, repeats):
                continue
            start = time.perf_counter()
            for _ in range(inner):
                step()
            samples[name].append((time.perf_counter() - start) / inner)
    return samples


def throughput(repeats: int, slow_repeats: int) -> dict[str, dict[str, float]]:
    """Median seconds per step of every contender at every scale.

    At ``mlp_large`` Opacus's hooks, functorch and ew modes store 256 per-sample copies of the
    1.9 M-parameter gradient (about 2 GB) and take seconds a step, 40× its ghost mode: they get
    ``slow_repeats`` samples, so that a run stays short; the figures use Opacus's best mode,
    which always gets ``repeats``.
    """
    inner = {"mlp_small": 20, "mlp_large": 1, "cnn": 2}
    slow = {"mlp_large": ("Opacus hooks", "Opacus functorch", "Opacus ew")}
    medians = {}
    for scale, (build, xb, yb) in scales().items():
        steps, refused = contenders(build, xb, yb)
        samples = time_steps(steps, repeats, inner[scale], dict.fromkeys(slow.get(scale, ()), slow_repeats))
        medians[scale] = {name: statistics.median(s) for name, s in samples.items()}
        params = sum(p.numel() for p in build().parameters())
        print(f"\n{scale}: {params:,} parameters, batch {len(xb)}, repetitions × {inner[scale]} steps, "
              f"one thread")
        print(f"{'contender':>18} {'reps':>5} {'median ms':>10} {'q1':>8} {'q3':>8} {'vs plain SGD':>13}")
        for name, s in samples.items():
            q1, _, q3 = np.percentile(s, [25, 50, 75]) * 1e3
            print(f"{name:>18} {len(s):>5} {medians[scale][name] * 1e3:>10.3f} {q1:>8.3f} {q3:>8.3f} "
                  f"{medians[scale][name] / medians[scale]['plain SGD']:>12.2f}×")
        for name, why in refused.items():
            print(f"{name:>18} refused: {why}")
    return medians


def split_accuracy(epsilons=(1.0, 2.0)) -> dict[float, list[float]]:
    """leptonkit with its DEFAULTS on five stratified 75/25 splits of all of digits (seeds 1–5)."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    accuracy = {eps: [] for eps in epsilons}
    print(f"\naccuracy on five unseen stratified 75/25 splits of digits, δ = 1e-5, MLP 64-64-10, "
          f"DEFAULTS = {dpsgd.DEFAULTS}")
    print(f"{'split seed':>10}" + "".join(f" {'ε=' + format(e, 'g'):>8}" for e in epsilons))
    for seed in SPLIT_SEEDS:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
        for eps in epsilons:
            result = dpsgd.train(mlp_small(), X_tr, y_tr, target_epsilon=eps, rng=seed)
            accuracy[eps].append(models.evaluate(result.model, X_te, y_te)[1])
        print(f"{seed:>10}" + "".join(f" {accuracy[e][-1]:>8.3f}" for e in epsilons))
    print(f"{'mean':>10}" + "".join(f" {statistics.mean(accuracy[e]):>8.3f}" for e in epsilons))
    print(f"{'worst':>10}" + "".join(f" {min(accuracy[e]):>8.3f}" for e in epsilons))
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 repetitions (the minimum), about 2 minutes")
    args = parser.parse_args()
    start = time.perf_counter()
    t = throughput(repeats=30 if args.quick else 60, slow_repeats=3 if args.quick else 30)
    acc = split_accuracy()
    print(f"\n({time.perf_counter() - start:.0f} s)\n")
    for scale, medians in t.items():
        best = min((s for name, s in medians.items() if name.startswith("Opacus")), default=float("nan"))
        print(f"FIGURE throughput_vs_opacus_{scale} {best / medians['leptonkit']:.3f}")
    for scale in ("mlp_small", "mlp_large"):
        print(f"FIGURE time_vs_plain_sgd_{scale} {t[scale]['leptonkit'] / t[scale]['plain SGD']:.3f}")
    for eps in (1.0, 2.0):
        print(f"FIGURE acc_eps{eps:g}_mean {statistics.mean(acc[eps]):.3f}")
        print(f"FIGURE acc_eps{eps:g}_worst {min(acc[eps]):.3f}")


if __name__ == "__main__":
    main()
