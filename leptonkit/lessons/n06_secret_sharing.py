"""Lesson for notebooks/06_secret_sharing.ipynb: secret sharing, Beaver triples, secure aggregation.

Here: the banks' data, ``coalition_knowledge``, the joint-uniformity test and a broken dealer it
catches, a careless dealer's reused triple, local truncation of shares, the checkers 06.1–06.5,
three explorers (thresholds, secure aggregation, the network meter) and their figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from leptonkit import mpc
from leptonkit._checks import RNG, check_int, check_real
from leptonkit.errors import InsufficientShares
from leptonkit.exercises import NotYet, close_to, exactly, exercise
from leptonkit.i18n import N_, _
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, NEUTRAL_COLOUR, PALETTE, finish, number
from leptonkit.widgets import Explorer, slider

__all__ = ["EXPLORERS", "EXPOSURES", "LAST_YEAR_EAST", "SHAMIR_MAX_THRESHOLD", "SHAMIR_PRIME",
           "SHAMIR_SECRET", "bank_updates", "broken_shares_insecure", "coalition_knowledge", "coalitions",
           "joint_uniformity", "network_cost", "network_cost_explorer", "reused_triple_openings",
           "secure_aggregation", "secure_aggregation_explorer", "threshold_explorer",
           "truncate_shares_locally"]

EXPOSURES = (120, 340, 95)   # the three banks' exposures, in millions
SHAMIR_PRIME = 11            # a tiny field, so every polynomial can be counted
SHAMIR_SECRET = 7
SHAMIR_MAX_THRESHOLD = 6     # 11^5 polynomials to count: still a few milliseconds
LAST_YEAR_EAST = 295.5       # East's exposure a year ago (millions): the second product of exercise 06.4
_ALPHA = 1e-4                # the joint test's level: a correct sharing fails it with this probability


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


# --- what n − 1 shares reveal: the joint test ----------------------------------------------------


def joint_uniformity(shares: np.ndarray, *, bits: int = 4) -> dict[str, float]:
    """χ² test that the rows of ``shares`` are *jointly* uniform, on their low ``bits`` bits.

    ``shares`` is a (coalition, samples) array of ``uint64`` shares, one row per party in the
    coalition. Taking every share mod 2^bits gives additive shares in the ring Z_2^bits, where
    all 2^(bits·coalition) tuples can be counted. Returns ``statistic``, ``cells`` and
    ``threshold``, the 1 − 10⁻⁴ quantile of χ² with cells − 1 degrees of freedom: a sharing
    whose tuples are uniform exceeds it with probability 10⁻⁴, so ``uniform`` is the verdict.
    """
    shares = np.asarray(shares, dtype=np.uint64)
    bits = check_int(bits, "bits", low=1, high=8)
    if shares.ndim != 2 or shares.shape[0] * bits > 16:
        raise ValueError(f"shares must be a (coalition, samples) array with coalition × bits <= 16, "
                         f"got shape {shares.shape} and bits = {bits}")
    low = (shares & np.uint64(2**bits - 1)).astype(np.int64)
    cells_of = np.zeros(low.shape[1], dtype=np.int64)
    for row in low:                                   # the tuple as one number in [0, 2^(bits · rows))
        cells_of = cells_of * 2**bits + row
    cells = 2 ** (bits * low.shape[0])
    expected = low.shape[1] / cells
    statistic = float(((np.bincount(cells_of, minlength=cells) - expected) ** 2 / expected).sum())
    threshold = float(stats.chi2.ppf(1 - _ALPHA, cells - 1))
    return {"statistic": statistic, "cells": cells, "threshold": threshold, "uniform": statistic < threshold}


def broken_shares_insecure(secret: int, samples: int, *, rng: RNG = 0) -> np.ndarray:
    """A broken dealer's three shares of ``secret``, ``samples`` times: (s − 2r − b, r, r + b).

    One uniform r and one coin b: the shares add up to s and each one alone is uniform over
    Z_2^64 (2r + b is), so a one-share histogram sees nothing wrong. But parties 0 and 1 together
    compute x₀ + 2·x₁ ∈ {s, s − 1}: they know the secret to within one. For the lesson only.
    """
    samples = check_int(samples, "samples", low=1, high=10**7)
    generator = np.random.default_rng(rng)
    r = generator.integers(0, 2**64, size=samples, dtype=np.uint64, endpoint=False)
    coin = generator.integers(0, 2, size=samples, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return np.stack([np.uint64(secret % 2**64) - np.uint64(2) * r - coin, r, r + coin])


# --- Beaver triples: one use only ----------------------------------------------------------------


def reused_triple_openings(*, rng: RNG = 60) -> list[dict[str, np.ndarray]]:
    """What every party saw when a careless dealer's one triple served two products.

    The regulator computed East's expected loss this year (exposure 340.125, fixed point) and a
    year ago (:data:`LAST_YEAR_EAST`), each times the same default probability 0.08, with one
    triple. Returns the two :func:`leptonkit.mpc.beaver_multiply` results, openings included.
    """
    generator = np.random.default_rng(rng)
    triple = mpc.beaver_triple(1, 3, rng=generator)
    y = mpc.additive_share(mpc.encode_fixed([0.08]), 3, rng=generator)
    return [mpc.beaver_multiply(mpc.additive_share(mpc.encode_fixed([x]), 3, rng=generator), y, triple)
            for x in (EXPOSURES[1] + 0.125, LAST_YEAR_EAST)]


def truncate_shares_locally(shares: np.ndarray, bits: int = mpc.FRACTIONAL_BITS) -> np.ndarray:
    """Each party divides its own share by 2^bits (an arithmetic shift of the signed share), alone.

    With two parties this is SecureML's truncation (Mohassel & Zhang 2017, §IV-A): right to
    within one unit except with a tiny probability. With three or more, the shares' signed sum
    usually wraps around 2^64, and the result is off by a multiple of 2^(64 − bits) — why CrypTen
    corrects for the wraps when there are more than two parties.
    """
    shares = np.asarray(shares, dtype=np.uint64)
    bits = check_int(bits, "bits", low=1, high=62)
    return (shares.view(np.int64) >> np.int64(bits)).view(np.uint64)


# --- exercises -----------------------------------------------------------------------------


@exercise("06.1", hint=N_("Share each exposure with mpc.additive_share(x, 3) (share j goes to bank j), "
                          "stack the three sharings into a 3 × 3 array and add down the sharings (axis=0): "
                          "entry j is what bank j publishes. Answer those three partial sums."))
def _partial_sums(answer: Any) -> bool:
    partial = np.asarray(answer, dtype=np.uint64)
    if partial.shape != (3,):
        raise NotYet(_("answer one partial sum per bank: shape (3,), not {shape}.").format(
            shape=partial.shape))
    if int(mpc.additive_reconstruct(partial)) != sum(EXPOSURES):
        raise NotYet(_("the partial sums do not add up to the total exposure."))
    if set(partial.tolist()) & {*EXPOSURES, sum(EXPOSURES), 0}:
        raise NotYet(_("a partial sum shows a bank's exposure or the total in the clear: use random "
                       "shares."))
    return True


@exercise("06.2", hint=N_("A coalition reconstructs when it has at least t members: add math.comb(5, k) "
                          "for k = 3, 4, 5 — or read the green bars of the explorer at t = 3, n = 5."))
def _coalitions_that_reconstruct(answer: Any) -> bool:
    expected = sum(math.comb(5, k) for k in range(3, 6))
    return exactly(answer, expected, _("{} is not the number of coalitions of at least 3 of the 5 banks."))


@exercise("06.3", hint=N_("x_shares = mpc.additive_share(np.array([6]), 3), likewise y = 7; triple = "
                          "mpc.beaver_triple(1, 3); answer beaver_multiply(x_shares, y_shares, "
                          "triple)['z']."))
def _beaver_product(answer: Any) -> bool:
    z = np.asarray(answer, dtype=np.uint64)
    if z.ndim != 2 or z.shape[0] != 3:
        raise NotYet(_("answer the three parties' shares of the product (shape (3, 1)), not shape "
                       "{shape}.").format(shape=z.shape))
    if mpc.additive_reconstruct(z).view(np.int64).tolist() != [42]:
        raise NotYet(_("these shares do not reconstruct to 6 × 7 = 42."))
    return True


@exercise("06.4", hint=N_("Write out both openings: d = x − a and d′ = x′ − a, with the same a. What is "
                          "d − d′? Compute it in the ring (uint64 subtraction wraps) and decode it with "
                          "mpc.decode_fixed, since x and x′ were encoded in fixed point."))
def _difference_from_a_reused_triple(answer: Any) -> bool:
    if isinstance(answer, np.ndarray) and answer.dtype == np.uint64:
        raise NotYet(_("that is still a ring element: decode it with mpc.decode_fixed to get millions."))
    value = float(np.asarray(answer, dtype=np.float64).reshape(-1)[0]) if np.size(answer) == 1 else None
    if value is None:
        raise NotYet(_("answer one number: East's exposure this year minus a year ago, in millions."))
    if value < 0:
        raise NotYet(_("that is a year ago minus this year: the sign is the other way round."))
    return close_to(value, EXPOSURES[1] + 0.125 - LAST_YEAR_EAST, rel=1e-5)


@exercise("06.5", hint=N_("The default threshold is a majority, n // 2 + 1; the server needs that many "
                          "survivors. Try mpc.secure_aggregate with more and more dropouts."))
def _most_dropouts(answer: Any) -> bool:
    updates = np.ones((10, 2))
    k = int(answer)
    try:
        mpc.secure_aggregate(updates, dropouts=range(k))
    except InsufficientShares:
        raise NotYet(_("with {k} dropouts the server cannot recover the sum.").format(k=k)) from None
    try:
        mpc.secure_aggregate(updates, dropouts=range(k + 1))
    except InsufficientShares:
        return True
    raise NotYet(_("the server still recovers the sum with {k} dropouts: find the largest number.").format(
        k=k + 1))


# --- figures ---------------------------------------------------------------------------------

_CAN, _CANNOT = PALETTE[2], NEUTRAL_COLOUR      # bluish green, grey


def coalitions(view: dict, *, threshold: int, n_parties: int, holders: int) -> go.Figure:
    """Which coalitions can reconstruct a (t, n) secret, and what ``holders`` shares say about it.

    ``view`` is :func:`coalition_knowledge`: left, coalitions of each size that can or cannot
    reconstruct; right, how many polynomials agree with the held shares for each candidate.
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=(_("coalitions of each size"),
                                        _("what {holders} shares say about the secret").format(
                                            holders=holders)))
    fig.add_trace(go.Bar(x=view["sizes"], y=view["can"], name=_("can reconstruct"), marker_color=_CAN),
                  row=1, col=1)
    fig.add_trace(go.Bar(x=view["sizes"], y=view["cannot"], name=_("learn nothing"), marker_color=_CANNOT),
                  row=1, col=1)
    counts = view["counts"]
    fig.add_trace(go.Bar(x=np.arange(len(counts)), y=counts, marker_color=LAPLACE_COLOUR, showlegend=False,
                         hovertemplate=_("secret %{x}: %{y} polynomials agree<extra></extra>")), row=1, col=2)
    known = np.count_nonzero(counts) == 1
    verdict = (_("the secret is {secret}").format(secret=int(np.argmax(counts))) if known
               else _("every secret equally likely"))
    fig.update_xaxes(title_text=_("coalition size"), dtick=1, row=1, col=1)
    fig.update_xaxes(title_text=_("candidate secret"), dtick=1, row=1, col=2)
    fig.update_yaxes(title_text=_("coalitions"), row=1, col=1)
    fig.update_yaxes(title_text=_("polynomials that fit the shares"), rangemode="tozero", row=1, col=2)
    fig.update_layout(barmode="stack")
    return finish(fig, height=400, legend=True, margin={"t": 80},
                  title=_("t = {t} of n = {n}; holding {holders} shares: {verdict}").format(
                      t=threshold, n=n_parties, holders=holders, verdict=verdict))


def secure_aggregation(view: dict, *, dropouts: int) -> go.Figure:
    """What the server received (masked vectors) beside the sum it recovered and the plain sum.

    ``view`` holds ``aggregation`` (an ``mpc.SecureAggregation``) and ``plain_sum`` (the
    survivors' updates added in the clear, for comparison only).
    """
    agg = view["aggregation"]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.1,
                        subplot_titles=(_("what the server received (each value / 2⁶⁴)"),
                                        _("the sum it recovered")))
    fig.add_trace(go.Heatmap(z=agg.masked / 2.0**64, y=[_("client {u}").format(u=u) for u in agg.survivors],
                             colorscale="Greys", zmin=0, zmax=1, showscale=False,
                             hovertemplate=_("%{y}, value %{x}: %{z:.3f}<extra></extra>")), row=1, col=1)
    coordinate = np.arange(len(agg.total))
    fig.add_trace(go.Bar(x=coordinate, y=view["plain_sum"], name=_("survivors' sum in the clear"),
                         marker_color=_CANNOT), row=1, col=2)
    fig.add_trace(go.Scatter(x=coordinate, y=agg.total, mode="markers", name=_("securely aggregated"),
                             marker={"color": GAUSSIAN_COLOUR, "size": 9}), row=1, col=2)
    error = float(np.max(np.abs(agg.total - view["plain_sum"])))
    fig.update_xaxes(title_text=_("coordinate"), row=1, col=1)
    fig.update_xaxes(title_text=_("coordinate"), row=1, col=2)
    n = len(agg.survivors) + len(agg.dropped)
    title = _("{dropouts} of {n} clients dropped, threshold {threshold}: largest difference from the plain "
              "sum {error}").format(dropouts=dropouts, n=n, threshold=agg.threshold, error=number(error, 2))
    return finish(fig, height=420, legend=True, margin={"t": 80}, title=title)


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
        "threshold": slider(w.IntSlider, _("threshold t"), value=threshold, min=1, max=SHAMIR_MAX_THRESHOLD),
        "n_parties": slider(w.IntSlider, _("parties n"), value=n_parties, min=2, max=SHAMIR_PRIME - 1),
        "holders": slider(w.IntSlider, _("shares the coalition holds"), value=holders, min=0,
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
    controls = {"dropouts": slider(w.IntSlider, _("clients that drop out"), value=dropouts, min=0,
                                   max=most)}

    def compute(dropouts: int) -> dict:
        return {"aggregation": mpc.secure_aggregate(updates, dropouts=range(dropouts), rng=0),
                "plain_sum": updates[dropouts:].sum(axis=0)}

    return Explorer(controls, compute, secure_aggregation)


def _megabytes(n: float) -> str:
    return f"{n / 1e6:,.3g} MB" if n >= 1e5 else f"{n / 1e3:,.3g} kB"


# the keys of mpc.protocol_costs, marked for the catalogue (the figure translates them)
_PROTOCOLS = (N_("additive sum"), N_("Beaver products"), N_("secure aggregation"), N_("SecAgg+"))


def network_cost(costs: dict, *, n_parties: int, log10_length: float, rtt_ms: float, depth: int) -> go.Figure:
    """The meter's figure: each protocol's wall time, split into latency (rounds × RTT) and transfer.

    ``costs`` is :func:`leptonkit.mpc.protocol_costs`; each bar is labelled with its rounds and
    the bytes one party sends and receives. On the right, the key agreements in all.
    """
    names = list(costs)
    shown = [_(p) for p in names]
    latency = [costs[p]["rounds"] * rtt_ms / 1000 for p in names]
    transfer = [costs[p]["seconds"] - lat for p, lat in zip(names, latency, strict=True)]
    labels = [_("{rounds} rounds, {size} per party").format(rounds=costs[p]["rounds"],
                                                             size=_megabytes(costs[p]["bytes_per_party"]))
              for p in names]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.68, 0.32], horizontal_spacing=0.2,
                        subplot_titles=(_("seconds: latency (rounds × RTT) + transfer"),
                                        _("key agreements in all")))
    fig.add_trace(go.Bar(y=shown, x=latency, orientation="h", name=_("latency"), marker_color=LAPLACE_COLOUR),
                  row=1, col=1)
    fig.add_trace(go.Bar(y=shown, x=transfer, orientation="h", name=_("transfer at 100 Mbit/s"),
                         marker_color=GAUSSIAN_COLOUR, text=labels, textposition="outside",
                         cliponaxis=False), row=1, col=1)
    fig.add_trace(go.Bar(y=shown, x=[costs[p]["key_agreements"] for p in names], orientation="h",
                         marker_color=_CANNOT, showlegend=False,
                         hovertemplate=_("%{y}: %{x:,} key agreements<extra></extra>")), row=1, col=2)
    # room on the right of the longest bar for its label, which would run into the next panel
    fig.update_xaxes(title_text=_("seconds"), range=[0, 1.7 * max(costs[p]["seconds"] for p in names)],
                     row=1, col=1)
    fig.update_xaxes(title_text=_("key agreements"), type="log", row=1, col=2)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_layout(barmode="stack")
    return finish(fig, height=420, legend=True, margin={"t": 80, "l": 140},
                  title=_("{n} parties, {length:,.0f} numbers each, RTT {rtt:g} ms, multiplicative depth "
                          "{depth}").format(n=n_parties, length=10 ** log10_length, rtt=rtt_ms, depth=depth))


def network_cost_explorer(n_parties: int = 100, log10_length: float = 3.0, rtt_ms: float = 100.0,
                          depth: int = 1) -> Explorer:
    """Parties, vector length, round-trip time and multiplicative depth against each protocol's cost.

    Calls :func:`leptonkit.mpc.protocol_costs` (bandwidth fixed at 100 Mbit/s). The starting
    values must lie on the sliders: n_parties in [3, 1000], log10_length in [0, 6], rtt_ms in
    [0, 300], depth in [1, 20].
    """
    n_parties = check_int(n_parties, "n_parties", low=3, high=mpc.MAX_PARTIES)
    depth = check_int(depth, "depth", low=1, high=20)
    log10_length = check_real(log10_length, "log10_length", low=0.0, high=6.0)
    rtt_ms = check_real(rtt_ms, "rtt_ms", low=0.0, high=300.0)
    controls = {
        "n_parties": slider(w.IntSlider, _("parties n"), value=n_parties, min=3, max=mpc.MAX_PARTIES),
        "log10_length": slider(w.FloatSlider, _("log₁₀ numbers each"), value=log10_length, min=0.0, max=6.0,
                               step=0.5),
        "rtt_ms": slider(w.FloatSlider, _("WAN round trip (ms)"), value=rtt_ms, min=0.0, max=300.0, step=5.0),
        "depth": slider(w.IntSlider, _("multiplicative depth"), value=depth, min=1, max=20),
    }

    def compute(n_parties: int, log10_length: float, rtt_ms: float, depth: int) -> dict:
        return mpc.protocol_costs(n_parties=n_parties, length=round(10 ** log10_length), depth=depth,
                                  rtt_ms=rtt_ms, mbit_per_s=100.0)

    return Explorer(controls, compute, network_cost)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"threshold": threshold_explorer,
                                                 "secure_aggregation": secure_aggregation_explorer,
                                                 "network_cost": network_cost_explorer}
