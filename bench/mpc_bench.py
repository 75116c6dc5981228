"""Secret sharing and secure aggregation against plain numpy, in one run.

- additive sharing of 10⁶ values among 5 parties plus their reconstruction, against the anchor
  a plain numpy sum of 5 arrays of 10⁶ values (what the computation would cost with no
  privacy at all); goal ``additive_vs_plain_sum`` ≤ 5;
- ``secure_aggregate`` of 100 clients × 10⁵ values with 30 % dropouts, end to end (key
  agreement, Shamir sharing of seeds, masking, unmasking); goal ``secagg_100x1e5_seconds`` < 2;
  the anchor beside it is the plain sum of the 70 survivors' vectors.

Beside the additive figure, where its time goes: fresh pages for the 5 × 10⁶ shares (the
kernel zeroes every page a new array touches), the 32 MB AES keystream for shares 1 … 4 written
into memory that is already mapped, and reconstruction alone. Paillier is in ``he_bench.py``.

Each figure is the median over repetitions; the contenders are interleaved. Prints a table, then
``FIGURE <name> <value>`` lines.

Usage: python bench/mpc_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from leptonkit import mpc


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def additive(rounds: int) -> dict[str, tuple[float, float]]:
    """Share+reconstruct of 10⁶ values for 5 parties, a plain 5-array sum, and the pieces sharing
    cannot avoid, all interleaved in each round: {name: (median seconds, median ratio to the sum
    within a round)}. Ratios within a round are the figures: drift hits both sides alike.

    The pieces: fresh pages for the 5 × 10⁶ shares (the kernel zeroes each page a new array
    touches), the 32 MB AES keystream for shares 1 … 4 into memory already mapped, and
    reconstruction alone."""
    rng = np.random.default_rng(0)
    secret = rng.integers(-2**40, 2**40, size=10**6)
    arrays = [rng.normal(size=10**6) for _ in range(5)]
    shares = mpc.additive_share(secret, 5)
    mapped = np.zeros((4, 10**6), dtype=np.uint64)
    contenders = {
        "plain": lambda: arrays[0] + arrays[1] + arrays[2] + arrays[3] + arrays[4],
        "kit": lambda: mpc.additive_reconstruct(mpc.additive_share(secret, 5)),
        "fresh pages, 5 × 10⁶ uint64, touched once": lambda: np.empty((5, 10**6), dtype=np.uint64).fill(0),
        "AES keystream, 32 MB, mapped memory": lambda: mpc._keystream(bytes(32), mapped.nbytes, mapped),
        "reconstruct alone": lambda: mpc.additive_reconstruct(shares),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            times[name].append(_seconds(fn))
    return {name: (statistics.median(values),
                   statistics.median(v / p for v, p in zip(values, times["plain"], strict=True)))
            for name, values in times.items()}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (well under 60 s)")
    args = parser.parse_args()
    rounds = 3 if args.quick else 7

    shares = additive(rounds * 5)
    (kit, ratio), (plain, _) = shares.pop("kit"), shares.pop("plain")
    print(f"{'what':<52} {'leptonkit':>11} {'anchor':>11} {'ratio':>7}")
    label = "additive share+reconstruct, 10⁶ values, 5 parties"
    print(f"{label:<52} {kit * 1e3:>9.1f}ms {plain * 1e3:>9.1f}ms {ratio:>7.2f}")
    for name, (seconds, part) in shares.items():
        print(f"{'  floor: ' + name:<52} {seconds * 1e3:>9.1f}ms {'':>11} {part:>7.2f}")
    agg, agg_plain, error = secure_aggregation(rounds)
    print(f"{'secure aggregation, 100 × 10⁵, 30 % dropouts':<52} {agg:>10.2f}s {agg_plain * 1e3:>9.1f}ms "
          f"{agg / agg_plain:>7.0f}")
    print(f"\nsecure aggregation's largest difference from the plain sum: {error:.2e} (fixed point, 2^-16)")
    print(f"FIGURE additive_vs_plain_sum {ratio:.2f}")
    print(f"FIGURE secagg_100x1e5_seconds {agg:.2f}")


if __name__ == "__main__":
    main()
