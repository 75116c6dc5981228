"""Pure figure builders: data in, a plotly ``go.Figure`` out — no widgets, no state, no randomness.

``widgets`` wires sliders to these builders; notebooks call them directly for static figures.
Every builder returns a figure with a fixed number of traces, so an explorer can copy a freshly
built figure's data into its live ``FigureWidget``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "attack_success",
    "audit_chain",
    "coalitions",
    "composition",
    "compression_tradeoff",
    "crack_time",
    "encrypted_aggregation_cost",
    "fedavg_progress",
    "human_duration",
    "images_side_by_side",
    "mechanism_comparison",
    "noise_per_coordinate",
    "privacy_utility",
    "reidentification_tradeoff",
    "samples_against_density",
    "secure_aggregation",
]

SECONDS_PER_YEAR = 365.25 * 24 * 3600
AGE_OF_UNIVERSE_YEARS = 1.38e10  # Planck Collaboration 2018
_REFERENCE_LINES = [(1 / 365.25, "one day"), (1.0, "one year"),
                    (AGE_OF_UNIVERSE_YEARS, "age of the universe")]
# A small white template: plotly's named templates are deep-copied into every figure, which
# alone costs an explorer ~20 ms per slider move.
_AXIS = {"gridcolor": "#ebebeb", "linecolor": "#444", "zerolinecolor": "#d0d0d0", "ticks": "outside"}
_TEMPLATE = go.layout.Template(layout={"paper_bgcolor": "white", "plot_bgcolor": "white",
                                      "font": {"family": "Arial, sans-serif", "size": 13},
                                      "xaxis": _AXIS, "yaxis": _AXIS})
LAPLACE_COLOUR, GAUSSIAN_COLOUR = "#1f77b4", "#d62728"
_LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0}  # under the x-axis title


def human_duration(seconds: float) -> str:
    """Say a duration the way a person would: ``"3 hours"``, ``"2.1 million years"``."""
    if not np.isfinite(seconds):
        return "forever"
    for unit, size, next_unit in (("second", 1, 60), ("minute", 60, 60), ("hour", 3600, 24),
                                  ("day", 86400, 365.25)):
        if seconds < size * next_unit:
            value = seconds / size
            return f"{value:.3g} {unit}{'' if value == 1 else 's'}"
    years = seconds / SECONDS_PER_YEAR
    for word, size in (("", 1), (" thousand", 1e3), (" million", 1e6), (" billion", 1e9),
                       (" trillion", 1e12)):
        if years < size * 1000:
            return f"{years / size:.3g}{word} years"
    return f"{years:.2e} years"


def crack_time(x: np.ndarray, seconds: np.ndarray, *, x_title: str, highlight: float,
               measured: np.ndarray | None = None, title: str = "") -> go.Figure:
    """Expected time to guess a secret (log scale, in years) against ``x``, one point highlighted.

    Parameters
    ----------
    x, seconds
        The curve: for each ``x`` (key bits, or a KDF cost) the expected time in seconds.
    highlight
        The ``x`` of the point the reader chose; it is marked and its time is said in the title.
    measured
        Optional boolean mask: measured points are drawn solid, extrapolated ones hollow.
    """
    x = np.asarray(x, dtype=float)
    years = np.asarray(seconds, dtype=float) / SECONDS_PER_YEAR
    i = int(np.argmin(np.abs(x - highlight)))
    fig = go.Figure()
    symbols = None if measured is None else np.where(measured, "circle", "circle-open")
    fig.add_trace(go.Scatter(x=x, y=years, mode="lines+markers" if measured is not None else "lines",
                             marker={"symbol": symbols, "size": 7}, name="expected time to guess",
                             hovertemplate="%{x}: %{y:.3g} years<extra></extra>"))
    fig.add_trace(go.Scatter(x=[x[i]], y=[years[i]], mode="markers", name="your choice",
                             marker={"size": 14, "color": "crimson"}))
    for value, label in _REFERENCE_LINES:
        fig.add_hline(y=value, line={"dash": "dot", "color": "grey", "width": 1},
                      annotation_text=label, annotation_position="top left")
    head = f"{title}: " if title else ""
    fig.update_layout(template=_TEMPLATE, height=420, margin={"t": 50, "b": 110},
                      title=f"{head}{human_duration(years[i] * SECONDS_PER_YEAR)} on average",
                      xaxis_title=x_title, yaxis={"type": "log", "title": "years (log scale)"},
                      legend=_LEGEND_BELOW)
    return fig


def images_side_by_side(images: dict[str, np.ndarray], *, title: str = "") -> go.Figure:
    """Show grey-scale uint8 images next to each other, titled by their keys."""
    names = list(images)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.03)
    for col, name in enumerate(names, start=1):
        fig.add_trace(go.Heatmap(z=np.asarray(images[name])[::-1], colorscale="gray", zmin=0,
                                 zmax=255, showscale=False, hoverinfo="skip"), row=1, col=col)
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    fig.update_layout(template=_TEMPLATE, title=title, height=320, margin={"t": 70, "b": 10})
    return fig


# --- differential privacy (notebooks 02–03) ----------------------------------------------------


def mechanism_comparison(result: dict, *, epsilon: float, delta: float, sensitivity: float) -> go.Figure:
    """Laplace against Gaussian for one query: noise densities, errors, and an observer's odds.

    ``result`` is ``dp.compare_mechanisms(...)``. Three panels, six traces, always.
    """
    fig = make_subplots(rows=1, cols=3, column_widths=[0.5, 0.25, 0.25], horizontal_spacing=0.08,
                        subplot_titles=("noise added to a published value", "typical error",
                                        "an observer's best guess"))
    names = {"laplace": f"Laplace, b = {result['laplace_scale']:.3g}",
             "gaussian": f"Gaussian, σ = {result['gaussian_sigma']:.3g}"}
    for key, colour in (("laplace", LAPLACE_COLOUR), ("gaussian", GAUSSIAN_COLOUR)):
        fig.add_trace(go.Scatter(x=result["x"], y=result[f"{key}_density"], name=names[key],
                                 line={"color": colour, "width": 2.5}, legendgroup=key), row=1, col=1)
    for key, colour in (("laplace", LAPLACE_COLOUR), ("gaussian", GAUSSIAN_COLOUR)):
        fig.add_trace(go.Bar(x=["mean", "95 % below"],
                             y=[result[f"{key}_mean_abs_error"], result[f"{key}_error_95"]],
                             marker_color=colour, showlegend=False, legendgroup=key,
                             texttemplate="%{y:.3g}", textposition="outside"), row=1, col=2)
    for key, colour in (("laplace", LAPLACE_COLOUR), ("gaussian", GAUSSIAN_COLOUR)):
        p = result[f"{key}_guess_probability"]
        fig.add_trace(go.Bar(x=[key.capitalize()], y=[p], marker_color=colour, showlegend=False,
                             texttemplate="%{y:.1%}", textposition="outside"), row=1, col=3)
    fig.add_hline(y=0.5, line={"dash": "dot", "color": "grey"}, annotation_text="coin flip",
                  row=1, col=3)
    fig.update_yaxes(range=[0.45, 1.05], tickformat=".0%", row=1, col=3)
    fig.update_xaxes(title_text="noise", row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    fig.update_layout(template=_TEMPLATE, height=430, barmode="group", margin={"t": 90, "b": 110},
                      title=f"ε = {epsilon:.3g}, δ = {delta:.0e}, Δ = {sensitivity:.3g}",
                      legend=_LEGEND_BELOW)
    return fig


def samples_against_density(samples: np.ndarray, x: np.ndarray, density: np.ndarray, *,
                            title: str = "") -> go.Figure:
    """A histogram of samples (as a density) under the curve they should follow."""
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=samples, histnorm="probability density", name="samples",
                               marker_color="lightgrey", xbins={"size": (x[-1] - x[0]) / 80}))
    fig.add_trace(go.Scatter(x=x, y=density, name="the distribution promised",
                             line={"color": LAPLACE_COLOUR, "width": 2.5}))
    fig.update_layout(template=_TEMPLATE, height=360, title=title, xaxis_title="noise",
                      margin={"t": 50, "b": 110}, legend=_LEGEND_BELOW)
    return fig


def noise_per_coordinate(result: dict) -> go.Figure:
    """Per-coordinate noise of Laplace and Gaussian as the number of released counts grows."""
    fig = go.Figure()
    for key, colour in (("laplace", LAPLACE_COLOUR), ("gaussian", GAUSSIAN_COLOUR)):
        fig.add_trace(go.Scatter(x=result["dimensions"], y=result[key], name=key.capitalize(),
                                 line={"color": colour, "width": 2.5}))
    fig.update_layout(template=_TEMPLATE, height=420, margin={"t": 50, "b": 110},
                      title="one person changes each of d counts by one: noise per count",
                      xaxis={"type": "log", "title": "d, counts released together", "dtick": 1},
                      yaxis={"type": "log", "title": "noise standard deviation"})
    return fig


def attack_success(labels: list[str], rates: list[float], bounds: list[float], *,
                   title: str = "") -> go.Figure:
    """An attack's measured success rate per setting, beside what differential privacy allows."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=rates, name="attacker's success (measured)",
                         marker_color=GAUSSIAN_COLOUR, texttemplate="%{y:.1%}", textposition="outside"))
    fig.add_trace(go.Scatter(x=labels, y=bounds, name="most that ε allows", mode="markers+lines",
                             line={"color": "black", "dash": "dot"}))
    fig.add_hline(y=0.5, line={"dash": "dot", "color": "grey"}, annotation_text="coin flip")
    fig.update_layout(template=_TEMPLATE, height=380, title=title, margin={"t": 50, "b": 110},
                      yaxis={"range": [0.4, 1.08], "tickformat": ".0%"},
                      legend=_LEGEND_BELOW)
    return fig


def composition(curves: dict, *, k: int, epsilon: float) -> go.Figure:
    """Total ε against the number of queries k: basic, advanced and RDP accounting, k marked."""
    fig = go.Figure()
    styles = {"basic": ("basic: kε", "grey"), "advanced": ("advanced (DRV 2010)", LAPLACE_COLOUR),
              "rdp": ("RDP (Opacus)", GAUSSIAN_COLOUR)}
    i = int(np.argmin(np.abs(curves["k"] - k)))
    for key, (name, colour) in styles.items():
        fig.add_trace(go.Scatter(x=curves["k"], y=curves[key], name=name,
                                 line={"color": colour, "width": 2.5}))
    fig.add_trace(go.Scatter(x=[curves["k"][i]] * 3, y=[curves[key][i] for key in styles], mode="markers",
                             marker={"size": 11, "color": [c for _, c in styles.values()]},
                             showlegend=False))
    totals = ", ".join(f"{key} {curves[key][i]:.3g}" for key in styles)
    fig.update_layout(template=_TEMPLATE, height=420, margin={"t": 50, "b": 110},
                      title=f"{curves['k'][i]} queries at ε = {epsilon:.3g} each → total ε: {totals}",
                      xaxis={"type": "log", "title": "number of queries k", "dtick": 1},
                      yaxis={"type": "log", "title": "total ε"}, legend=_LEGEND_BELOW)
    return fig


# --- de-identification (notebook 08) ----------------------------------------------------------


def reidentification_tradeoff(tradeoff: dict, *, k: int) -> go.Figure:
    """Re-identification risk and information loss against Mondrian's k, the chosen k marked.

    ``tradeoff`` is ``attacks.reidentification_tradeoff(...)``.
    """
    ks = tradeoff["k"]
    i = int(np.argmin(np.abs(ks - k)))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ks, y=tradeoff["reidentification"], name="chance to name a patient",
                             mode="lines+markers", line={"color": GAUSSIAN_COLOUR, "width": 2.5}))
    fig.add_trace(go.Scatter(x=ks, y=tradeoff["information_loss"], name="information lost (NCP)",
                             mode="lines+markers", line={"color": LAPLACE_COLOUR, "width": 2.5}))
    chosen = [tradeoff["reidentification"][i], tradeoff["information_loss"][i]]
    fig.add_trace(go.Scatter(x=[ks[i], ks[i]], y=chosen,
                             mode="markers", marker={"size": 13, "color": [GAUSSIAN_COLOUR, LAPLACE_COLOUR]},
                             showlegend=False))
    fig.update_layout(template=_TEMPLATE, height=400, margin={"t": 50, "b": 110},
                      title=(f"k = {ks[i]}: {tradeoff['reidentification'][i]:.1%} chance to name a patient, "
                             f"{tradeoff['information_loss'][i]:.1%} information lost, "
                             f"l = {tradeoff['l_diversity'][i]:g}"),
                      xaxis={"type": "log", "title": "k (every record looks like at least k − 1 others)",
                             "tickvals": list(ks)},
                      yaxis={"tickformat": ".0%", "rangemode": "tozero"},
                      legend=_LEGEND_BELOW)
    return fig


# --- audit (notebook 10) ----------------------------------------------------------------------

_STATUS_COLOURS = {"ok": "#2ca02c", "first bad": "#d62728", "not reached": "#c7c7c7"}


def audit_chain(outcome: dict, *, seq: int, recompute_hashes: bool, use_anchor: bool) -> go.Figure:
    """The log as a row of records, coloured by what verify concluded: ok, first bad, not reached."""
    status = outcome["status"]
    fig = go.Figure(go.Scatter(
        x=list(range(len(status))), y=[0] * len(status), mode="markers+text",
        marker={"symbol": "square", "size": 44, "color": [_STATUS_COLOURS[s] for s in status],
                "line": {"width": [4 if i == seq else 0 for i in range(len(status))], "color": "black"}},
        text=[str(i) for i in range(len(status))], textfont={"color": "white", "size": 16},
        hovertext=status, hoverinfo="text"))
    how = ("edited and re-hashed" if recompute_hashes else "edited") + (", verified against an anchor"
                                                                        if use_anchor else "")
    fig.update_layout(template=_TEMPLATE, height=230, margin={"t": 70, "b": 20},
                      title=f"record {seq} {how}:<br>{outcome['message']}", title_font={"size": 14},
                      xaxis={"visible": False, "range": [-0.7, len(status) - 0.3]},
                      yaxis={"visible": False, "range": [-1, 1]}, showlegend=False)
    return fig


# --- DP-SGD (notebook 04) ------------------------------------------------------------------------


def privacy_utility(result: dict, *, epsilon: float) -> go.Figure:
    """DP-SGD's test accuracy and the membership attack's AUC against ε, the non-private model as lines.

    ``result`` is ``dpsgd.privacy_utility(...)``; the dotted curve is the most AUC any attack
    can reach against an ε-DP training run, e^ε/(1 + e^ε).
    """
    eps = result["epsilon"]
    i = int(np.argmin(np.abs(eps - epsilon)))
    bound = np.exp(eps) / (1 + np.exp(eps))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=eps, y=result["accuracy"], name="test accuracy (DP-SGD)", mode="lines+markers",
                             line={"color": LAPLACE_COLOUR, "width": 2.5}))
    fig.add_trace(go.Scatter(x=eps, y=result["auc"], name="attack AUC (DP-SGD)", mode="lines+markers",
                             line={"color": GAUSSIAN_COLOUR, "width": 2.5}))
    fig.add_trace(go.Scatter(x=eps, y=bound, name="most AUC ε allows", mode="lines",
                             line={"color": "black", "dash": "dot"}))
    fig.add_trace(go.Scatter(x=[eps[i], eps[i]], y=[result["accuracy"][i], result["auc"][i]],
                             mode="markers", showlegend=False,
                             marker={"size": 13, "color": [LAPLACE_COLOUR, GAUSSIAN_COLOUR]}))
    for value, colour, label in ((result["baseline_accuracy"], LAPLACE_COLOUR, "accuracy without DP"),
                                 (result["baseline_auc"], GAUSSIAN_COLOUR, "attack AUC without DP")):
        fig.add_hline(y=value, line={"dash": "dash", "color": colour, "width": 1},
                      annotation_text=label, annotation_position="bottom right")
    fig.update_layout(template=_TEMPLATE, height=420, margin={"t": 50, "b": 110},
                      title=(f"ε = {eps[i]:g}: accuracy {result['accuracy'][i]:.1%}, "
                             f"attack AUC {result['auc'][i]:.3f} (0.5 = guessing)"),
                      xaxis={"type": "log", "title": "ε of the whole training run (δ = 1e-5)",
                             "tickvals": list(eps)},
                      yaxis={"range": [0, 1.02]}, legend=_LEGEND_BELOW)
    return fig


# --- secure computation (notebooks 06–07) -------------------------------------------------------

_CAN, _CANNOT = "#2ca02c", "#c7c7c7"


def coalitions(view: dict, *, threshold: int, n_parties: int, holders: int) -> go.Figure:
    """Which coalitions can reconstruct a (t, n) secret, and what ``holders`` shares say about it.

    ``view`` is ``mpc.coalition_knowledge(...)``: left, coalitions of each size that can or
    cannot reconstruct; right, how many polynomials agree with the held shares for each candidate.
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
    fig.update_layout(template=_TEMPLATE, height=400, barmode="stack", margin={"t": 80, "b": 110},
                      title=f"t = {threshold} of n = {n_parties}; holding {holders} shares: {verdict}",
                      legend=_LEGEND_BELOW)
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
    fig.update_layout(template=_TEMPLATE, height=420, margin={"t": 80, "b": 110}, legend=_LEGEND_BELOW,
                      title=(f"{dropouts} of {n} clients dropped, threshold {agg.threshold}: "
                             f"largest difference from the plain sum {error:.1e}"))
    return fig


def encrypted_aggregation_cost(seconds: dict, *, bits: int, log10_values: float, clients: int) -> go.Figure:
    """The time each stage of Paillier aggregation takes, from ``he.aggregation_seconds``."""
    stages = list(seconds)
    times = [seconds[s] for s in stages]
    fig = go.Figure(go.Bar(x=times, y=stages, orientation="h", marker_color=LAPLACE_COLOUR,
                           text=[human_duration(t) for t in times], textposition="outside"))
    fig.update_layout(template=_TEMPLATE, height=300, margin={"t": 60, "b": 60, "l": 160},
                      title=(f"{clients} clients, {10 ** log10_values:,.0f} numbers each, "
                             f"{bits}-bit key: {human_duration(sum(times))} in all"),
                      xaxis={"type": "log", "title": "seconds (log scale, measured on this machine)"})
    return fig


# --- federated learning and compression (notebooks 05, 09) ---------------------------------------


def fedavg_progress(history: list, *, title: str = "", **_: object) -> go.Figure:
    """Accuracy of the global model by round, and the megabytes sent so far (up + down)."""
    rounds = [h["round"] for h in history]
    sent = np.cumsum([h["bytes_up"] + h["bytes_down"] for h in history]) / 1e6
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("test accuracy of the global model", "megabytes communicated"))
    fig.add_trace(go.Scatter(x=rounds, y=[h["accuracy"] for h in history], mode="lines+markers",
                             line={"color": LAPLACE_COLOUR, "width": 2.5}, showlegend=False), row=1, col=1)
    fig.add_trace(go.Scatter(x=rounds, y=sent, mode="lines+markers",
                             line={"color": GAUSSIAN_COLOUR, "width": 2.5}, showlegend=False), row=1, col=2)
    fig.update_xaxes(title_text="round", row=1, col=1)
    fig.update_xaxes(title_text="round", row=1, col=2)
    fig.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    fig.update_layout(template=_TEMPLATE, height=380, margin={"t": 80, "b": 60},
                      title=(f"{title}final accuracy {history[-1]['accuracy']:.1%} after {len(history)} "
                             f"rounds, {sent[-1]:.2f} MB sent"))
    return fig


def compression_tradeoff(frontier: dict, *, prune: float, bits: int) -> go.Figure:
    """Accuracy against model size for every (prune, bits) setting, the chosen one marked."""
    fig = go.Figure()
    for b in np.unique(frontier["bits"]):
        rows = frontier["bits"] == b
        fig.add_trace(go.Scatter(x=frontier["bytes"][rows] / 1e3, y=frontier["accuracy"][rows],
                                 mode="lines+markers", name=f"{b}-bit weights",
                                 text=[f"prune {f:.0%}" for f in frontier["prune"][rows]],
                                 hovertemplate="%{text}: %{x:.1f} kB, %{y:.1%}<extra></extra>"))
    i = int(np.argmin(np.abs(frontier["prune"] - prune) + 100 * (frontier["bits"] != bits)))
    fig.add_trace(go.Scatter(x=[frontier["bytes"][i] / 1e3], y=[frontier["accuracy"][i]], mode="markers",
                             marker={"size": 16, "color": "crimson", "symbol": "star"}, name="your choice"))
    dense = frontier["bytes"][(frontier["bits"] == 32) & (frontier["prune"] == 0)][0]
    fig.update_layout(template=_TEMPLATE, height=420, margin={"t": 50, "b": 110}, legend=_LEGEND_BELOW,
                      title=(f"prune {frontier['prune'][i]:.0%}, {frontier['bits'][i]}-bit: "
                             f"{frontier['bytes'][i] / 1e3:.1f} kB "
                             f"({dense / frontier['bytes'][i]:.1f}× smaller), "
                             f"accuracy {frontier['accuracy'][i]:.1%}"),
                      xaxis={"type": "log", "title": "model size (kB, log scale)"},
                      yaxis={"title": "test accuracy", "tickformat": ".0%"})
    return fig
