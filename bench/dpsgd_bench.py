"""DP-SGD: leptonkit against Opacus (hooks) and plain SGD, on scikit-learn's digits, in one run.

1. Step throughput on the same model (MLP 64-64-10) and the same batch of 64: plain SGD,
   Opacus's GradSampleModule + DPOptimizer, and leptonkit's clipped_gradient_sum + add_noise
   (the step dpsgd.train runs). Median over repetitions, contenders interleaved.
2. Test accuracy at ε ∈ {0.5, 1, 2, 4, 8} (δ = 1e-5): leptonkit with its DEFAULTS beside
   Opacus's make_private_with_epsilon with the anchor's settings (30 epochs, batch 64, lr 0.5,
   C 1; ../shared/anchors/opacus_dpsgd_digits.py), and both without privacy.
3. ``--sweep``: the validation-split experiment behind ``dpsgd.DEFAULTS`` (the test set unused).

Prints tables, then ``FIGURE`` lines. Usage: python bench/dpsgd_bench.py [--quick] [--sweep]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import warnings

import torch
from opacus import GradSampleModule, PrivacyEngine
from opacus.optimizers import DPOptimizer
from sklearn.model_selection import train_test_split
from torch import nn

from leptonkit import datasets, dpsgd, models

warnings.filterwarnings("ignore")


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))


def throughput(X, y, repeats: int) -> dict[str, float]:
    xb, yb = torch.tensor(X[:64]), torch.tensor(y[:64])
    plain = mlp()
    plain_opt = torch.optim.SGD(plain.parameters(), lr=0.1)
    hooked = GradSampleModule(mlp())
    hooked_opt = DPOptimizer(torch.optim.SGD(hooked.parameters(), lr=0.1), noise_multiplier=1.0,
                             max_grad_norm=1.0, expected_batch_size=64)
    kit = mlp()
    generator = torch.Generator().manual_seed(0)

    def plain_step():
        plain_opt.zero_grad()
        nn.functional.cross_entropy(plain(xb), yb).backward()
        plain_opt.step()

    def opacus_step():
        hooked_opt.zero_grad()
        nn.functional.cross_entropy(hooked(xb), yb).backward()
        hooked_opt.step()

    def kit_step():
        summed, _ = dpsgd.clipped_gradient_sum(kit, xb, yb, 1.0)   # what dpsgd.train runs
        noisy = dpsgd.add_noise(summed, noise_multiplier=1.0, max_grad_norm=1.0, generator=generator)
        with torch.no_grad():
            for name, p in kit.named_parameters():
                p -= 0.1 * noisy[name] / 64

    steps = {"plain SGD": plain_step, "Opacus": opacus_step, "leptonkit": kit_step}
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(20):
                step()
            samples[name].append((time.perf_counter() - start) / 20)
    return {name: statistics.median(times) for name, times in samples.items()}


def opacus_accuracy(X, y, X_test, y_test, epsilon: float | None) -> float:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.5)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y)),
                                         batch_size=64, shuffle=True)
    if epsilon is not None:
        model, optimiser, loader = PrivacyEngine().make_private_with_epsilon(
            module=model, optimizer=optimiser, data_loader=loader, target_epsilon=epsilon,
            target_delta=1e-5, epochs=30, max_grad_norm=1.0)
    for _ in range(30):
        for xb, yb in loader:
            if len(xb) == 0:
                continue
            optimiser.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            optimiser.step()
    return models.evaluate(model, X_test, y_test)[1]


def sweep(X, y) -> None:
    X_a, X_v, y_a, y_v = train_test_split(X, y, test_size=0.25, random_state=1, stratify=y)
    print("\nvalidation sweep (25 % of the training split held out; the test set unused)")
    print(f"{'batch fraction':>14} {'epochs':>6} {'lr':>4} {'C':>4} {'val acc ε=1':>12} {'val acc ε=2':>12}")
    for fraction, epochs, lr, C in itertools.product([0.2, 0.35], [30, 60], [1.0, 2.0, 4.0], [0.5, 1.0]):
        accs = [models.evaluate(dpsgd.train(mlp(), X_a, y_a, target_epsilon=eps, epochs=epochs, lr=lr,
                                           batch_size=round(fraction * len(X_a)), max_grad_norm=C,
                                           rng=0, progress=False).model, X_v, y_v)[1] for eps in (1, 2)]
        print(f"{fraction:>14} {epochs:>6} {lr:>4} {C:>4} {accs[0]:>12.3f} {accs[1]:>12.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ε ∈ {1, 2} only, fewer repetitions")
    parser.add_argument("--sweep", action="store_true", help="rerun the sweep behind dpsgd.DEFAULTS")
    args = parser.parse_args()
    X, X_test, y, y_test = datasets.digits()

    t = throughput(X, y, repeats=5 if args.quick else 15)
    print("seconds per step, MLP 64-64-10, batch 64 (median)")
    for name, seconds in t.items():
        print(f"{name:>10}: {seconds * 1e3:7.3f} ms   {t['plain SGD'] / seconds:5.2f}× plain SGD's speed")

    epsilons = [1.0, 2.0] if args.quick else [0.5, 1.0, 2.0, 4.0, 8.0]
    print(f"\ntest accuracy on digits (δ = 1e-5); leptonkit DEFAULTS = {dpsgd.DEFAULTS}")
    print(f"{'ε':>5} {'leptonkit':>10} {'Opacus (anchor settings)':>25}")
    kit_acc = {}
    for eps in epsilons:
        trained = dpsgd.train(mlp(), X, y, target_epsilon=eps, rng=0, progress=False).model
        kit_acc[eps] = models.evaluate(trained, X_test, y_test)[1]
        print(f"{eps:>5} {kit_acc[eps]:>10.3f} {opacus_accuracy(X, y, X_test, y_test, eps):>25.3f}")
    plain = models.evaluate(models.train_non_private(mlp(), X, y, epochs=30, batch_size=64, lr=0.5, rng=0),
                           X_test, y_test)[1]
    print(f"{'none':>5} {plain:>10.3f} {opacus_accuracy(X, y, X_test, y_test, None):>25.3f}")
    if args.sweep:
        sweep(X, y)
    print()
    print(f"FIGURE throughput_vs_opacus {t['Opacus'] / t['leptonkit']:.3f}")
    print(f"FIGURE time_vs_plain_sgd {t['leptonkit'] / t['plain SGD']:.3f}")
    print(f"FIGURE acc_eps1 {kit_acc[1.0]:.3f}")
    print(f"FIGURE acc_eps2 {kit_acc[2.0]:.3f}")


if __name__ == "__main__":
    main()
