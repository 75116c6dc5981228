"""Callback time of every explorer in the kit: what one slider move costs in the kernel.

Each explorer that a lesson declares in its ``EXPLORERS`` (gathered by
``leptonkit.lessons.explorers()``) is built once, then every one of its sliders
is moved through a sequence of values; each move runs the callback (one library call, one
figure builder, one ``batch_update`` of the FigureWidget) synchronously, and is timed.

The anchor, measured in the same run on the same figure, is the least any explorer of that
figure could cost: assigning new y-values to every trace inside one ``batch_update``, with
nothing computed or built. The goal (issue 4) is a worst median under 50 ms; NOTEBOOKS.md asks for
"well under 100 ms". The FedAvg explorer retrains on every move — its goal (issue 9) is a second
— so it is reported on its own lines and left out of the worst-median figure. Browser rendering
is not included. Prints a table, then ``FIGURE`` lines.

Usage: python bench/explorer_latency.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np

from leptonkit import crypto, he, lessons

# explorers that train a model on every move (goal: 1 s, not 50 ms)
RETRAINING = ("fedavg", "federation", "hospitals")


def _positions(control, moves: int) -> list:
    """Slider values to visit: evenly spread over the slider's range, in a back-and-forth order."""
    if isinstance(control.value, bool):  # a checkbox: on and off in turn
        return [not control.value, control.value] * (moves // 2)
    if hasattr(control, "options"):  # SelectionSlider: back and forth over its options
        options = list(control.options)
        cycle = options + options[-2:0:-1]
        return [cycle[i % len(cycle)] for i in range(1, moves + 1)]
    elif hasattr(control, "base"):  # FloatLogSlider: min and max are exponents
        values = [control.base ** e for e in np.linspace(control.min, control.max, moves)]
    elif isinstance(control.value, int):
        values = [int(v) for v in np.linspace(control.min, control.max, moves).round()]
    else:
        values = list(np.linspace(control.min, control.max, moves))
    return values[::2] + values[1::2][::-1]


def _nudged(trace) -> tuple[str, np.ndarray] | None:
    """The trace's numeric data (z of a heatmap, else y, else x), changed by one part in 10⁹."""
    for attribute in ("z", "y", "x"):
        values = getattr(trace, attribute, None)
        if values is not None:
            try:
                return attribute, np.asarray(values, dtype=float) * (1 + 1e-9)
            except ValueError:   # category labels
                continue
    return None


def measure(name: str, moves: int) -> tuple[list[float], list[float]]:
    """Milliseconds per slider move, and per bare data update of the same figure (the anchor)."""
    tables = {"kdf_cost": lambda: crypto.kdf_cost_table(measured_up_to=12, repeats=1),
              "paillier_cost": lambda: he.cost_table((1024, 2048), repeats=1)}
    kwargs = {"table": tables[name]()} if name in tables else {}
    explorer = lessons.explorers()[name](**kwargs)
    figure = explorer.figure
    times, anchor = [], []
    for control in explorer.controls.values():
        for value in _positions(control, moves):
            if value == control.value:  # not a move: the callback would not run
                continue
            start = time.perf_counter()
            control.value = value
            times.append((time.perf_counter() - start) * 1e3)
            # new numbers for every trace (a tiny change, so plotly cannot skip the update)
            data = [_nudged(trace) for trace in figure.data]
            start = time.perf_counter()
            with figure.batch_update():
                for trace, new in zip(figure.data, data, strict=True):
                    if new is not None:
                        trace[new[0]] = new[1]
            anchor.append((time.perf_counter() - start) * 1e3)
    return times, anchor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer moves per slider")
    parser.add_argument("--only", nargs="*", default=None, help="measure only these explorers")
    args = parser.parse_args()
    moves = 10 if args.quick else 40
    warnings.filterwarnings("ignore")
    print(f"{'explorer':<18} {'moves':>6} {'median ms':>10} {'p95 ms':>8} {'anchor ms':>10} {'ratio':>6}")
    medians, p95s, ratios = {}, {}, {}
    for name in args.only or lessons.explorers():
        times, anchor = measure(name, moves)
        medians[name], p95s[name] = statistics.median(times), float(np.percentile(times, 95))
        ratios[name] = medians[name] / statistics.median(anchor)
        print(f"{name:<18} {len(times):>6} {medians[name]:>10.1f} {p95s[name]:>8.1f} "
              f"{statistics.median(anchor):>10.2f} {ratios[name]:>6.1f}")
    lookup = [name for name in medians if name not in RETRAINING]
    if lookup:
        worst = max(lookup, key=medians.get)
        print(f"\nworst median (explorers that do not retrain): {worst}; "
              f"anchor = new y-values for the same figure in one batch_update")
        print(f"FIGURE explorer_median_ms_worst {medians[worst]:.1f}")
        print(f"FIGURE explorer_p95_ms_worst {max(p95s[name] for name in lookup):.1f}")
        print(f"FIGURE explorer_over_anchor_worst {ratios[worst]:.1f}")
    # The case studies' explorers train each setting once and then remember it: their median mixes
    # first visits (a training run) with revisits (a lookup); the p95 is the first visits' cost.
    for name in (n for n in RETRAINING if n in medians):
        print(f"FIGURE {name}_explorer_retrain_median_ms {medians[name]:.1f}")
        print(f"FIGURE {name}_explorer_retrain_p95_ms {p95s[name]:.1f}")


if __name__ == "__main__":
    main()
