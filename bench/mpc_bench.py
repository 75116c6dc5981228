"""Secret sharing and secure aggregation against plain numpy, and Paillier's rate, in one run.

- additive sharing of 10⁶ values among 5 parties plus their reconstruction, against the anchor
  a plain numpy sum of 5 arrays of 10⁶ values (what the computation would cost with no
  privacy at all); goal ``additive_vs_plain_sum`` ≤ 5;
- ``secure_aggregate`` of 100 clients × 10⁵ values with 30 % dropouts, end to end (key
  agreement, Shamir sharing of seeds, masking, unmasking); goal ``secagg_100x1e5_seconds`` < 2;
  the anchor beside it is the plain sum of the 70 survivors' vectors;
- Paillier encryptions per second with a 2048-bit key.

Each figure is the median over repetitions; the contenders are interleaved. Prints a table, then
``FIGURE <name> <value>`` lines.

Usage: python bench/mpc_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from leptonkit import he, mpc


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def additive(rounds: int) -> tuple[float, float]:
    """Median seconds of share+reconstruct of 10⁶ values for 5 parties, and of a plain 5-array sum."""
    rng = np.random.default_rng(0)
    secret = rng.integers(-2**40, 2**40, size=10**6)
    arrays = [rng.normal(size=10**6) for _ in range(5)]
    kit, plain = [], []
    for _ in range(rounds):
        kit.append(_seconds(lambda: mpc.additive_reconstruct(mpc.additive_share(secret, 5))))
        plain.append(_seconds(lambda: arrays[0] + arrays[1] + arrays[2] + arrays[3] + arrays[4]))
    return statistics.median(kit), statistics.median(plain)


def secure_aggregation(rounds: int, *, clients: int = 100, length: int = 10**5,
                       dropout_rate: float = 0.3) -> tuple[float, float, float]:
    """Median seconds of secure aggregation and of the plain survivors' sum; the largest error."""
    updates = np.random.default_rng(1).normal(scale=0.01, size=(clients, length))
    dropouts = list(range(round(clients * dropout_rate)))
    survivors = updates[len(dropouts):]
    kit, plain, error = [], [], 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        result = mpc.secure_aggregate(updates, dropouts=dropouts)
        kit.append(time.perf_counter() - start)
        plain.append(_seconds(lambda: survivors.sum(axis=0)))
        error = max(error, float(np.max(np.abs(result.total - survivors.sum(axis=0)))))
    return statistics.median(kit), statistics.median(plain), error


def paillier_rate(count: int) -> float:
    _, public = he.generate_paillier_keypair(2048)
    start = time.perf_counter()
    for i in range(count):
        public.encrypt(i)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (well under 60 s)")
    args = parser.parse_args()
    rounds = 3 if args.quick else 7

    kit, plain = additive(rounds * 3)
    print(f"{'what':<48} {'leptonkit':>11} {'anchor':>11} {'ratio':>7}")
    label = "additive share+reconstruct, 10⁶ values, 5 parties"
    print(f"{label:<48} {kit * 1e3:>9.1f}ms {plain * 1e3:>9.1f}ms {kit / plain:>7.2f}")
    agg, agg_plain, error = secure_aggregation(rounds)
    print(f"{'secure aggregation, 100 × 10⁵, 30 % dropouts':<48} {agg:>10.2f}s {agg_plain * 1e3:>9.1f}ms "
          f"{agg / agg_plain:>7.0f}")
    rate = paillier_rate(20 if args.quick else 60)
    print(f"{'Paillier encryptions per second, 2048-bit key':<48} {rate:>11.1f}")
    print(f"\nsecure aggregation's largest difference from the plain sum: {error:.2e} (fixed point, 2^-16)")
    print(f"FIGURE additive_vs_plain_sum {kit / plain:.2f}")
    print(f"FIGURE secagg_100x1e5_seconds {agg:.2f}")
    print(f"FIGURE paillier_encryptions_per_second {rate:.1f}")


if __name__ == "__main__":
    main()
