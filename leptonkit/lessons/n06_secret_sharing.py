"""Lesson for notebooks/06_secret_sharing.ipynb: secret sharing, Beaver triples, secure aggregation.

Here: the banks' data, ``coalition_knowledge``, the checkers 06.1–06.4, two explorers and their figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from leptonkit import mpc
from leptonkit._checks import RNG, check_int
from leptonkit.errors import InsufficientShares
from leptonkit.exercises import NotYet, exactly, exercise
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, LEGEND_BELOW, TEMPLATE
from leptonkit.widgets import Explorer, slider

__all__ = ["EXPLORERS", "EXPOSURES", "SHAMIR_MAX_THRESHOLD", "SHAMIR_PRIME", "SHAMIR_SECRET",
           "bank_updates", "coalition_knowledge", "coalitions", "secure_aggregation",
           "secure_aggregation_explorer", "threshold_explorer"]

EXPOSURES = (120, 340, 95)   # the three banks' exposures, in millions
SHAMIR_PRIME = 11            # a tiny field, so every polynomial can be counted
SHAMIR_SECRET = 7
SHAMIR_MAX_THRESHOLD = 6     # 11^5 polynomials to count: still a few milliseconds


def bank_updates() -> np.ndarray:
    """Ten banks' model updates, 12 numbers each (seeded): what they aggregate securely."""
    return np.random.default_rng(6).normal(size=(10, 12))


def coalition_knowledge(*, threshold: int, n_parties: int, holders: int, secret: int = 7, prime: int = 11,
                        rng: RNG = 0) -> dict[str, np.ndarray]:
    """What coalitions of each size can do with a (t, n) sharing of ``secret`` in a tiny field.

    Returns ``sizes`` (1..n), ``can`` and ``cannot`` (how many coalitions of each size can or
    cannot reconstruct) and ``counts`` (:func:`leptonkit.mpc.consistent_secrets` for the first
    ``holders`` shares), for the threshold explorer.
    """
    n_parties = check_int(n_parties, "n_parties", low=2)
    threshold = check_int(threshold, "threshold", low=1, high=n_parties)
    holders = check_int(holders, "holders", low=0, high=n_parties)
    shares = mpc.shamir_share(secret, threshold=threshold, n_parties=n_parties, prime=prime, rng=rng)
    sizes = np.arange(1, n_parties + 1)
    coalitions = np.array([math.comb(n_parties, k) for k in sizes])
    can = np.where(sizes >= threshold, coalitions, 0)
    return {"sizes": sizes, "can": can, "cannot": coalitions - can,
            "counts": mpc.consistent_secrets(shares[:holders], threshold=threshold, prime=prime)}


# --- exercises -----------------------------------------------------------------------------


@exercise("06.1", hint="Share each exposure with mpc.additive_share(x, 3) (share j goes to bank j), stack "
                       "the three sharings into a 3 × 3 array and add down the sharings (axis=0): entry j "
                       "is what bank j publishes. Answer those three partial sums.")
def _partial_sums(answer: Any) -> bool:
    partial = np.asarray(answer, dtype=np.uint64)
    if partial.shape != (3,):
        raise NotYet(f"answer one partial sum per bank: shape (3,), not {partial.shape}.")
    if int(mpc.additive_reconstruct(partial)) != sum(EXPOSURES):
        raise NotYet("the partial sums do not add up to the total exposure.")
    if set(partial.tolist()) & {*EXPOSURES, sum(EXPOSURES), 0}:
        raise NotYet("a partial sum shows a bank's exposure or the total in the clear: use random shares.")
    return True


@exercise("06.2", hint="A coalition reconstructs when it has at least t members: add math.comb(5, k) "
                       "for k = 3, 4, 5 — or read the green bars of the explorer at t = 3, n = 5.")
def _coalitions_that_reconstruct(answer: Any) -> bool:
    expected = sum(math.comb(5, k) for k in range(3, 6))
    return exactly(answer, expected, "{} is not the number of coalitions of at least 3 of the 5 banks.")


@exercise("06.3", hint="x_shares = mpc.additive_share(np.array([6]), 3), likewise y = 7; triple = "
                       "mpc.beaver_triple(1, 3); answer beaver_multiply(x_shares, y_shares, triple)['z'].")
def _beaver_product(answer: Any) -> bool:
    z = np.asarray(answer, dtype=np.uint64)
    if z.ndim != 2 or z.shape[0] != 3:
        raise NotYet(f"answer the three parties' shares of the product (shape (3, 1)), not shape {z.shape}.")
    if mpc.additive_reconstruct(z).view(np.int64).tolist() != [42]:
        raise NotYet("these shares do not reconstruct to 6 × 7 = 42.")
    return True


@exercise("06.4", hint="The default threshold is a majority, n // 2 + 1; the server needs that many "
                       "survivors. Try mpc.secure_aggregate with more and more dropouts.")
def _most_dropouts(answer: Any) -> bool:
    updates = np.ones((10, 2))
    k = int(answer)
    try:
        mpc.secure_aggregate(updates, dropouts=range(k))
    except InsufficientShares:
        raise NotYet(f"with {k} dropouts the server cannot recover the sum.") from None
    try:
        mpc.secure_aggregate(updates, dropouts=range(k + 1))
    except InsufficientShares:
        return True
    raise NotYet(f"the server still recovers the sum with {k + 1} dropouts: find the largest number.")


# --- figures ---------------------------------------------------------------------------------

_CAN, _CANNOT = "#2ca02c", "#c7c7c7"


def coalitions(view: dict, *, threshold: int, n_parties: int, holders: int) -> go.Figure:
    """Which coalitions can reconstruct a (t, n) secret, and what ``holders`` shares say about it.

    ``view`` is :func:`coalition_knowledge`: left, coalitions of each size that can or cannot
    reconstruct; right, how many polynomials agree with the held shares for each candidate.
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("coalitions of each size",
                                        f"what {holders} shares say about the secret"))
    fig.add_trace(go.Bar(x=view["sizes"], y=view["can"], name="can reconstruct", marker_color=_CAN),
                  row=1, col=1)
    fig.add_trace(go.Bar(x=view["sizes"], y=view["cannot"], name="learn nothing", marker_color=_CANNOT),
                  row=1, col=1)
    counts = view["counts"]
    fig.add_trace(go.Bar(x=np.arange(len(counts)), y=counts, marker_color=LAPLACE_COLOUR, showlegend=False,
                         hovertemplate="secret %{x}: %{y} polynomials agree<extra></extra>"), row=1, col=2)
    known = np.count_nonzero(counts) == 1
    verdict = (f"the secret is {int(np.argmax(counts))}" if known
               else "every secret equally likely")
    fig.update_xaxes(title_text="coalition size", dtick=1, row=1, col=1)
    fig.update_xaxes(title_text="candidate secret", dtick=1, row=1, col=2)
    fig.update_yaxes(title_text="coalitions", row=1, col=1)
    fig.update_yaxes(title_text="polynomials that fit the shares", rangemode="tozero", row=1, col=2)
    fig.update_layout(template=TEMPLATE, height=400, barmode="stack", margin={"t": 80, "b": 110},
                      title=f"t = {threshold} of n = {n_parties}; holding {holders} shares: {verdict}",
                      legend=LEGEND_BELOW)
    return fig


def secure_aggregation(view: dict, *, dropouts: int) -> go.Figure:
    """What the server received (masked vectors) beside the sum it recovered and the plain sum.

    ``view`` holds ``aggregation`` (an ``mpc.SecureAggregation``) and ``plain_sum`` (the
    survivors' updates added in the clear, for comparison only).
    """
    agg = view["aggregation"]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.1,
                        subplot_titles=("what the server received (each value / 2⁶⁴)",
                                        "the sum it recovered"))
    fig.add_trace(go.Heatmap(z=agg.masked / 2.0**64, y=[f"client {u}" for u in agg.survivors],
                             colorscale="Greys", zmin=0, zmax=1, showscale=False,
                             hovertemplate="%{y}, value %{x}: %{z:.3f}<extra></extra>"), row=1, col=1)
    coordinate = np.arange(len(agg.total))
    fig.add_trace(go.Bar(x=coordinate, y=view["plain_sum"], name="survivors' sum in the clear",
                         marker_color=_CANNOT), row=1, col=2)
    fig.add_trace(go.Scatter(x=coordinate, y=agg.total, mode="markers", name="securely aggregated",
                             marker={"color": GAUSSIAN_COLOUR, "size": 9}), row=1, col=2)
    error = float(np.max(np.abs(agg.total - view["plain_sum"])))
    fig.update_xaxes(title_text="coordinate", row=1, col=1)
    fig.update_xaxes(title_text="coordinate", row=1, col=2)
    n = len(agg.survivors) + len(agg.dropped)
    fig.update_layout(template=TEMPLATE, height=420, margin={"t": 80, "b": 110}, legend=LEGEND_BELOW,
                      title=(f"{dropouts} of {n} clients dropped, threshold {agg.threshold}: "
                             f"largest difference from the plain sum {error:.1e}"))
    return fig


# --- explorers: thresholds and secure aggregation ------------------------------------------------


def threshold_explorer(threshold: int = 3, n_parties: int = 5, holders: int = 2) -> Explorer:
    """t and n of a Shamir sharing against which coalitions reconstruct, and what fewer shares reveal.

    The starting values must lie on the sliders: threshold in [1, 6], n_parties in [2, 10],
    holders in [0, 10].
    """
    threshold = check_int(threshold, "threshold", low=1, high=SHAMIR_MAX_THRESHOLD)
    n_parties = check_int(n_parties, "n_parties", low=2, high=SHAMIR_PRIME - 1)
    holders = check_int(holders, "holders", low=0, high=SHAMIR_PRIME - 1)
    controls = {
        "threshold": slider(w.IntSlider, "threshold t", value=threshold, min=1, max=SHAMIR_MAX_THRESHOLD),
        "n_parties": slider(w.IntSlider, "parties n", value=n_parties, min=2, max=SHAMIR_PRIME - 1),
        "holders": slider(w.IntSlider, "shares the coalition holds", value=holders, min=0,
                          max=SHAMIR_PRIME - 1),
    }

    def compute(threshold: int, n_parties: int, holders: int) -> dict:
        # Sliders may cross (t > n, more holders than parties): show the nearest valid sharing.
        n = max(n_parties, threshold, 2)
        return coalition_knowledge(threshold=threshold, n_parties=n, holders=min(holders, n),
                                   secret=SHAMIR_SECRET, prime=SHAMIR_PRIME, rng=0)

    def build(view: dict, threshold: int, n_parties: int, holders: int) -> go.Figure:
        n = len(view["sizes"])
        return coalitions(view, threshold=threshold, n_parties=n, holders=min(holders, n))

    return Explorer(controls, compute, build)


def secure_aggregation_explorer(updates: np.ndarray | None = None, *, dropouts: int = 0) -> Explorer:
    """How many clients drop out against what the server receives and the sum it still recovers.

    ``updates`` is an (n_clients, length) array of reals with n_clients in [3, 1000]; by default
    :func:`bank_updates` (10 clients, 12 numbers each). ``dropouts`` is where the slider starts,
    an int in [0, n_clients − (n_clients // 2 + 1)].
    """
    if updates is None:
        updates = bank_updates()
    try:
        updates = None if isinstance(updates, (str, bytes, dict)) else np.asarray(updates)
    except (TypeError, ValueError):   # ragged lists
        updates = None
    if updates is None or updates.ndim != 2:
        raise TypeError("updates must be an (n_clients, length) array of numbers")
    if updates.dtype.kind not in "iuf":
        raise TypeError(f"updates must be an (n_clients, length) array of numbers, got dtype {updates.dtype}")
    n = len(updates)
    if not 3 <= n <= mpc.MAX_PARTIES or updates.shape[1] < 1:
        raise ValueError(f"updates must have shape (n_clients, length) with n_clients in "
                         f"[3, {mpc.MAX_PARTIES}] and length >= 1, got {updates.shape}")
    most = n - (n // 2 + 1)      # the default threshold is a majority
    dropouts = check_int(dropouts, "dropouts", low=0, high=most)
    controls = {"dropouts": slider(w.IntSlider, "clients that drop out", value=dropouts, min=0,
                                   max=most)}

    def compute(dropouts: int) -> dict:
        return {"aggregation": mpc.secure_aggregate(updates, dropouts=range(dropouts), rng=0),
                "plain_sum": updates[dropouts:].sum(axis=0)}

    return Explorer(controls, compute, secure_aggregation)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"threshold": threshold_explorer,
                                                 "secure_aggregation": secure_aggregation_explorer}
