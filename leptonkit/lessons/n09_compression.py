"""Lesson for notebooks/09_compression.ipynb: compressing updates and models.

Here: the trained model's compression frontier, the checkers 09.1–09.3 and the compression explorer.
Exercises in notebook order: 09.1 top-k bytes, 09.2 FedAvg with 8-bit quantisation (a build task),
09.3 the largest safe pruning at 8 bits.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go

from leptonkit import compress, datasets, fl, models
from leptonkit.exercises import NotYet, exactly, exercise
from leptonkit.i18n import N_, _
from leptonkit.plots import HIGHLIGHT_COLOUR, PALETTE, finish
from leptonkit.widgets import Explorer, selection_slider

__all__ = ["EXPLORERS", "compression_explorer", "compression_tradeoff", "frontier"]


@functools.lru_cache(maxsize=1)
def _frontier() -> dict[str, np.ndarray]:
    X, X_test, y, y_test = datasets.digits()
    model = models.train_non_private(models.mlp(64, 10), X, y, epochs=30, rng=0)
    return compress.compression_frontier(model, X_test, y_test)


def frontier() -> dict[str, np.ndarray]:
    """:func:`leptonkit.compress.compression_frontier` of a 64-64-10 network trained on digits (seed 0).

    Trained once (a few seconds), then copied on every call.
    """
    return {name: np.array(values, copy=True) for name, values in _frontier().items()}


# --- exercises -----------------------------------------------------------------------------


@exercise("09.1", hint=N_("compress.sparsify_top_k(np.zeros((1, 4810)), fraction=0.01) returns the bytes "
                          "per client; or count ⌈1 % of 4810⌉ values at 4 + 4 bytes each."))
def _top_k_bytes(answer: Any) -> bool:
    expected = compress.sparsify_top_k(np.zeros((1, 4810)), fraction=0.01)[1]
    return exactly(answer, expected, _("{} is not the bytes of the kept values and their indices."))


@exercise("09.3", hint=N_("In the frontier, look at the 8-bit rows: the largest prune fraction whose "
                          "accuracy is at least the uncompressed (0 %, 32-bit) accuracy minus 0.01."))
def _largest_safe_pruning(answer: Any) -> bool:
    table = _frontier()
    dense = table["accuracy"][(table["bits"] == 32) & (table["prune"] == 0)][0]
    eight = table["bits"] == 8
    ok = table["prune"][eight & (table["accuracy"] >= dense - 0.01)]
    if not math.isclose(float(answer), float(ok.max())):
        raise NotYet(_("{answer:g} is not the largest 8-bit pruning fraction within 1 point.").format(
            answer=float(answer)))
    return True


@exercise("09.2", hint=N_("Make one generator first, gen = np.random.default_rng(0), then "
                          "fl.fedavg(..., compress=lambda u: compress.quantize_stochastic(u, bits=8, "
                          "rng=gen)) on the notebook's clients; answer the FedAvgResult."))
def _quantised_fedavg(answer: Any) -> bool:
    if not isinstance(answer, fl.FedAvgResult):
        raise NotYet(_("answer the FedAvgResult, not {kind}.").format(kind=type(answer).__name__))
    n_params = sum(p.numel() for p in answer.model.parameters())
    last = answer.history[-1]
    if last["bytes_up"] != last["clients"] * (n_params + 8):
        raise NotYet(_("each client should send one byte per parameter plus 8 (8-bit values, min and max)."))
    if last["accuracy"] < 0.85:
        raise NotYet(_("final accuracy {accuracy:.1%}: train until it is at least 85 %.").format(
            accuracy=last["accuracy"]))
    return True


# --- explorer: compression ----------------------------------------------------------------------


def compression_tradeoff(frontier: dict, *, prune: float, bits: int) -> go.Figure:
    """Accuracy against model size for every (prune, bits) setting, the chosen one marked."""
    fig = go.Figure()
    for n, b in enumerate(np.unique(frontier["bits"])):
        rows = frontier["bits"] == b
        fig.add_trace(go.Scatter(x=frontier["bytes"][rows] / 1e3, y=frontier["accuracy"][rows],
                                 mode="lines+markers", line={"color": PALETTE[n % len(PALETTE)]},
                                 name=_("{bits}-bit weights").format(bits=b),
                                 text=[_("prune {f:.0%}").format(f=f) for f in frontier["prune"][rows]],
                                 hovertemplate="%{text}: %{x:.1f} kB, %{y:.1%}<extra></extra>"))
    i = int(np.argmin(np.abs(frontier["prune"] - prune) + 100 * (frontier["bits"] != bits)))
    fig.add_trace(go.Scatter(x=[frontier["bytes"][i] / 1e3], y=[frontier["accuracy"][i]], mode="markers",
                             marker={"size": 16, "color": HIGHLIGHT_COLOUR, "symbol": "star"},
                             name=_("your choice")))
    dense = frontier["bytes"][(frontier["bits"] == 32) & (frontier["prune"] == 0)][0]
    fig.update_layout(title=_("prune {prune:.0%}, {bits}-bit: {kb:.1f} kB ({ratio:.1f}× smaller), accuracy "
                              "{accuracy:.1%}").format(prune=frontier["prune"][i], bits=frontier["bits"][i],
                                                       kb=frontier["bytes"][i] / 1e3,
                                                       ratio=dense / frontier["bytes"][i],
                                                       accuracy=frontier["accuracy"][i]),
                      xaxis={"type": "log", "title": _("model size (kB, log scale)")},
                      yaxis={"title": _("test accuracy"), "tickformat": ".0%"})
    return finish(fig, height=420, legend=True, margin={"t": 50})


def compression_explorer(table: Mapping[str, np.ndarray] | None = None, *, prune: float = 0.5,
                         bits: int = 8) -> Explorer:
    """Pruning fraction and bits per weight against model size and test accuracy.

    ``table`` is :func:`leptonkit.compress.compression_frontier`; when not given it is this
    lesson's :func:`frontier` (a network trained on digits). The sliders only look it up.
    """
    table = frontier() if table is None else table
    controls = {
        "prune": selection_slider(_("weights pruned"), sorted({float(f) for f in table["prune"]}),
                                  near=prune),
        "bits": selection_slider(_("bits per weight"), sorted({int(b) for b in table["bits"]}), near=bits),
    }

    def compute(prune: float, bits: int) -> Mapping[str, np.ndarray]:
        return table

    return Explorer(controls, compute, compression_tradeoff)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"compression": compression_explorer}
