"""leptonkit's exact Laplace and geometric noise against OpenDP's, measured in the same run.

The kit: ``dp.laplace_mechanism`` on 10⁶ values (noise on a power-of-two grid, integers from the
exact discrete Laplace sampler of Canonne, Kamath & Steinke 2020, vectorised) and
``dp.geometric_mechanism`` on 10⁶ integer counts, both at Δ = 1, ε = 0.5 (scale 2) with
``rng=None``: every random integer from the OS CSPRNG. The anchors: OpenDP's ``then_laplace``
at scale 2 on a vector of floats (its exact float sampler) and on a vector of ints (its
discrete Laplace), which draw from OpenSSL's CSPRNG. OpenDP is timed on fewer values (it takes
tens of microseconds a value) and compared per value; the inputs are Python lists made
beforehand, so only the sampling is timed. Contenders are interleaved round by round; each
figure is the median over rounds of the kit's throughput divided by OpenDP's (higher is better).
Prints a table, then ``FIGURE <name> <value>`` lines; without ``opendp`` (dev extra) the kit alone.

Usage: python bench/laplace_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from leptonkit import dp

try:
    import opendp.prelude as odp
except ImportError:  # benchmark-only anchor
    odp = None

KIT_VALUES = 10**6
SCALE = 2.0   # Δ/ε for Δ = 1, ε = 0.5


def _per_second(fn, values: int) -> float:
    start = time.perf_counter()
    fn()
    return values / (time.perf_counter() - start)


def contenders(anchor_values: int) -> dict:
    zeros, counts = np.zeros(KIT_VALUES), np.zeros(KIT_VALUES, dtype=np.int64)
    runs = {
        "kit laplace_mechanism (OS CSPRNG)": (
            lambda: dp.laplace_mechanism(zeros, sensitivity=1, epsilon=0.5), KIT_VALUES),
        "kit laplace_mechanism (seeded)": (
            lambda: dp.laplace_mechanism(zeros, sensitivity=1, epsilon=0.5, rng=0), KIT_VALUES),
        "kit geometric_mechanism (OS CSPRNG)": (
            lambda: dp.geometric_mechanism(counts, epsilon=0.5), KIT_VALUES),
    }
    if odp is not None:
        odp.enable_features("contrib")
        floats = (odp.vector_domain(odp.atom_domain(T=float, nan=False)), odp.l1_distance(T=float))
        ints = (odp.vector_domain(odp.atom_domain(T=int)), odp.l1_distance(T=int))
        float_laplace = floats >> odp.m.then_laplace(scale=SCALE)
        int_laplace = ints >> odp.m.then_laplace(scale=SCALE)
        float_input, int_input = [0.0] * anchor_values, [0] * anchor_values
        runs["OpenDP then_laplace, float"] = (lambda: float_laplace(float_input), anchor_values)
        runs["OpenDP then_laplace, int"] = (lambda: int_laplace(int_input), anchor_values)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer values and rounds (well under 60 s)")
    args = parser.parse_args()
    rounds, anchor_values = (3, 20_000) if args.quick else (5, 100_000)
    runs = contenders(anchor_values)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (fn, values) in runs.items():
            samples[name].append(_per_second(fn, values))
    print(f"exact Laplace noise at scale {SCALE:g}; median of {rounds} rounds")
    print(f"{'sampler':<38} {'values':>9} {'values/s':>12} {'s per 10⁶':>10}")
    for name, (_, values) in runs.items():
        rate = statistics.median(samples[name])
        print(f"{name:<38} {values:>9} {rate:>12,.0f} {1e6 / rate:>10.2f}")
    kit = samples["kit laplace_mechanism (OS CSPRNG)"]
    figures = {"laplace_seconds_per_1e6": 1e6 / statistics.median(kit)}
    if odp is None:
        print("\nopendp is not installed (pip install opendp, or the dev extra): no anchor")
    else:
        def ratio(a: str, b: str) -> float:
            return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))
        figures["laplace_vs_opendp"] = ratio("kit laplace_mechanism (OS CSPRNG)",
                                             "OpenDP then_laplace, float")
        figures["laplace_int_vs_opendp_int"] = ratio("kit geometric_mechanism (OS CSPRNG)",
                                                     "OpenDP then_laplace, int")
    print()
    for name, value in figures.items():
        print(f"FIGURE {name} {value:.2f}")


if __name__ == "__main__":
    main()
