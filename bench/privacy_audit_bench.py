"""Shadow models at scale: LiRA with 64 models, and stacked training against one model at a time.

Notebook 04 runs LiRA with 16 models (each the target once, the other 15 its shadows) to stay
under 30 s; Carlini et al. (2022) train up to 256. Here the same experiment — notebook 04's pool
(the first 500 training forms of digits and 100 random canaries), a fair coin per model and
record, the ordinary recipe (100 epochs, batches of 64, lr 0.5) — runs with 64 models, and the
true-positive rates of LiRA (online, offline) and the loss attack are printed at 0.1 % and 1 %
false positives. The one-run audit of model 0 is printed beside them.

Speed: ``privacy_audit.train_models`` (all models in one batched computation) against the
anchor a user would write first, ``models.train_non_private`` once per model in a loop, on the
same rows, recipe and thread count; the loop is timed on fewer models and both are compared per
model. Contenders interleaved, repeated, medians printed.

Prints a table, then ``FIGURE <name> <value>`` lines.

Usage: python bench/privacy_audit_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from leptonkit import attacks, models, privacy_audit
from leptonkit.lessons import n04_dp_sgd as lesson


def _stacked(M: int, seed: int) -> tuple[privacy_audit.StackedModels, float]:
    X, y = lesson.pool()
    included = privacy_audit.inclusion(M, len(X), rng=seed)
    start = time.perf_counter()
    stacked = privacy_audit.train_models(models.mlp(64, 10), X, y, included, epochs=100, batch_size=64,
                                         lr=0.5, rng=seed + 1)
    return stacked, time.perf_counter() - start


def _loop(M: int, seed: int) -> float:
    X, y = lesson.pool()
    included = privacy_audit.inclusion(M, len(X), rng=seed)
    start = time.perf_counter()
    for j in range(M):
        rows = np.flatnonzero(included[j])
        models.train_non_private(models.mlp(64, 10, seed=j), X[rows], y[rows], epochs=100, batch_size=64,
                                 lr=0.5, rng=j)
    return time.perf_counter() - start


def attack_table(stacked: privacy_audit.StackedModels) -> dict:
    X, y = lesson.pool()
    logits = stacked.logits(X)
    confidence = attacks.logit_confidence(logits, y)
    losses = -torch.log_softmax(logits, dim=2)[:, torch.arange(len(y)), torch.as_tensor(y)].numpy()
    forms = slice(0, lesson.POOL)
    member = stacked.included[:, forms].ravel()
    scores = {"LiRA online": lesson.lira_all(confidence[:, forms], stacked.included[:, forms]),
              "LiRA offline": lesson.lira_all(confidence[:, forms], stacked.included[:, forms], online=False),
              "loss threshold": -losses[:, forms]}
    table = {name: [attacks.tpr_at_fpr(s.ravel(), member, f) for f in (0.001, 0.01)]
             for name, s in scores.items()}
    canaries = slice(lesson.POOL, None)
    audit = privacy_audit.one_run_audit(-losses[0, canaries], stacked.included[0, canaries], delta=1e-5)
    return {"tpr": table, "audit": audit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 models for LiRA, 3 speed rounds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n_lira, rounds, stacked_m, loop_m = (32, 3, 32, 4) if args.quick else (64, 5, 64, 8)

    stacked, _ = _stacked(n_lira, seed=1)
    result = attack_table(stacked)
    print(f"LiRA with {n_lira} models (each the target once, the other {n_lira - 1} its shadows), "
          f"{n_lira} × {lesson.POOL} guesses")
    print(f"{'attack':>16} | TPR at 0.1 % FPR | TPR at 1 % FPR")
    for name, (low, one) in result["tpr"].items():
        print(f"{name:>16} | {low:16.2%} | {one:14.2%}")
    print(f"one-run audit of model 0: {result['audit']}")

    per_model = {"stacked": [], "loop": []}
    for r in range(rounds):   # interleaved
        per_model["stacked"].append(_stacked(stacked_m, seed=10 + r)[1] / stacked_m)
        per_model["loop"].append(_loop(loop_m, seed=10 + r) / loop_m)
    med = {k: statistics.median(v) for k, v in per_model.items()}
    print(f"\nseconds per trained model (100 epochs on ~300 records; median of {rounds} rounds, 1 thread)")
    print(f"  privacy_audit.train_models, {stacked_m} at once: {med['stacked'] * 1e3:8.1f} ms "
          f"(quartiles {np.percentile(per_model['stacked'], [25, 75]).round(4) * 1e3} ms)")
    print(f"  models.train_non_private in a loop ({loop_m}):  {med['loop'] * 1e3:8.1f} ms "
          f"(quartiles {np.percentile(per_model['loop'], [25, 75]).round(4) * 1e3} ms)")

    print(f"FIGURE lira_models {n_lira}")
    print(f"FIGURE lira_online_tpr_at_0.1pct_fpr {result['tpr']['LiRA online'][0]:.4f}")
    print(f"FIGURE lira_online_tpr_at_1pct_fpr {result['tpr']['LiRA online'][1]:.4f}")
    print(f"FIGURE loss_attack_tpr_at_1pct_fpr {result['tpr']['loss threshold'][1]:.4f}")
    print(f"FIGURE audit_epsilon_lower_bound_no_dp {result['audit'].epsilon:.3f}")
    print(f"FIGURE shadow_training_speedup_vs_loop {med['loop'] / med['stacked']:.2f}")


if __name__ == "__main__":
    main()
