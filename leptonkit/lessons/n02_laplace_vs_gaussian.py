"""Lesson for notebooks/02_laplace_vs_gaussian.ipynb: the Laplace and Gaussian mechanisms.

Here: ``compare_mechanisms``, the exercise checkers 02.1–02.4, the mechanism explorer and its figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import special

from leptonkit import dp
from leptonkit._checks import check_int, check_real
from leptonkit.exercises import close_to, exercise
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, LEGEND_BELOW, TEMPLATE
from leptonkit.widgets import Explorer, slider

__all__ = ["EXPLORERS", "MAX_POINTS", "attack_success", "compare_mechanisms", "mechanism_comparison",
           "mechanism_explorer", "noise_per_coordinate", "samples_against_density"]

MAX_POINTS = 100_001   # compare_mechanisms: grid points of the density curves (a figure, not a table)


def compare_mechanisms(*, sensitivity: float, epsilon: float, delta: float,
                       points: int = 401) -> dict[str, Any]:
    """Laplace (ε-DP) and Gaussian ((ε, δ)-DP, analytic σ) side by side, for one query.

    Returns the two noise scales, their densities on a common grid, the expected absolute
    error and 95 % error bound of a published value, and the probability that an observer who
    sees one output guesses right which of two neighbouring datasets produced it (the best
    test's success, (1 + total variation)/2, with even prior odds). ``points`` is the number of
    grid points of the densities, an int in [11, 100 001]; Δ, ε and δ as in :mod:`leptonkit.dp`.
    """
    delta_f = check_real(sensitivity, "sensitivity", low=0.0, low_open=True)
    eps = check_real(epsilon, "epsilon", low=0.0, low_open=True)
    points = check_int(points, "points", low=11, high=MAX_POINTS)
    b = dp.laplace_scale(delta_f, eps)
    sigma = dp.gaussian_sigma(sensitivity=delta_f, epsilon=eps, delta=delta)
    x = np.linspace(-1, 1, points) * 4 * max(b * 1.5, sigma)
    return {
        "x": x,
        "laplace_scale": b,
        "gaussian_sigma": sigma,
        "laplace_density": np.exp(-np.abs(x) / b) / (2 * b),
        "gaussian_density": np.exp(-0.5 * (x / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi)),
        "laplace_mean_abs_error": b,
        "gaussian_mean_abs_error": sigma * math.sqrt(2 / math.pi),
        "laplace_error_95": b * math.log(20),
        "gaussian_error_95": 1.959963984540054 * sigma,
        "laplace_guess_probability": (2 - math.exp(-delta_f / (2 * b))) / 2,
        "gaussian_guess_probability": float(special.ndtr(delta_f / (2 * sigma))),
    }


# --- exercises -----------------------------------------------------------------------------


@exercise("02.1", hint="One customer can move a clipped sum by at most the larger of |lower| and "
                       "|upper|, by joining or leaving.")
def _clipped_sum_sensitivity(answer: Any) -> bool:
    return close_to(answer, 20_000.0, rel=1e-9)


@exercise("02.2", hint="Laplace noise with scale b exceeds t in absolute value with probability "
                       "exp(-t / b); here b = Δ/ε.")
def _laplace_tail(answer: Any) -> bool:
    return close_to(answer, math.exp(-5 / dp.laplace_scale(1.0, 0.5)), rel=0.01)


@exercise("02.3", hint="Set the explorer's Δ to 1 and move ε until the Laplace bar reads 60 %; or "
                       "solve 1 - exp(-ε/2)/2 = 0.6 for ε.")
def _largest_epsilon_for_sixty_percent(answer: Any) -> bool:
    return close_to(answer, 2 * math.log(1.25), rel=0.01)


@exercise("02.4", hint="dp.per_coordinate_noise_std([50], epsilon=1, delta=1e-5) gives both "
                       "standard deviations; divide Laplace's by Gaussian's.")
def _laplace_over_gaussian_at_50(answer: Any) -> bool:
    noise = dp.per_coordinate_noise_std([50], epsilon=1.0, delta=1e-5)
    return close_to(answer, float(noise["laplace"][0] / noise["gaussian"][0]), rel=0.02)


# --- figures -------------------------------------------------------------------------------


def mechanism_comparison(result: dict, *, epsilon: float, delta: float, sensitivity: float) -> go.Figure:
    """Laplace against Gaussian for one query: noise densities, errors, and an observer's odds.

    ``result`` is :func:`compare_mechanisms`. Three panels, six traces, always.
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
    fig.update_layout(template=TEMPLATE, height=430, barmode="group", margin={"t": 90, "b": 110},
                      title=f"ε = {epsilon:.3g}, δ = {delta:.0e}, Δ = {sensitivity:.3g}",
                      legend=LEGEND_BELOW)
    return fig


def samples_against_density(samples: np.ndarray, x: np.ndarray, density: np.ndarray, *,
                            title: str = "") -> go.Figure:
    """A histogram of samples (as a density) under the curve they should follow."""
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=samples, histnorm="probability density", name="samples",
                               marker_color="lightgrey", xbins={"size": (x[-1] - x[0]) / 80}))
    fig.add_trace(go.Scatter(x=x, y=density, name="the distribution promised",
                             line={"color": LAPLACE_COLOUR, "width": 2.5}))
    fig.update_layout(template=TEMPLATE, height=360, title=title, xaxis_title="noise",
                      margin={"t": 50, "b": 110}, legend=LEGEND_BELOW)
    return fig


def noise_per_coordinate(result: dict) -> go.Figure:
    """Per-coordinate noise of Laplace and Gaussian as the number of released counts grows.

    ``result`` is :func:`leptonkit.dp.per_coordinate_noise_std`.
    """
    fig = go.Figure()
    for key, colour in (("laplace", LAPLACE_COLOUR), ("gaussian", GAUSSIAN_COLOUR)):
        fig.add_trace(go.Scatter(x=result["dimensions"], y=result[key], name=key.capitalize(),
                                 line={"color": colour, "width": 2.5}))
    fig.update_layout(template=TEMPLATE, height=420, margin={"t": 50, "b": 110},
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
    fig.update_layout(template=TEMPLATE, height=380, title=title, margin={"t": 50, "b": 110},
                      yaxis={"range": [0.4, 1.08], "tickformat": ".0%"},
                      legend=LEGEND_BELOW)
    return fig


# --- explorer: Laplace against Gaussian -------------------------------------------------------


def mechanism_explorer(epsilon: float = 1.0, delta: float = 1e-5, sensitivity: float = 1.0) -> Explorer:
    """ε, δ and Δ against both mechanisms' noise, error, and an observer's odds of guessing.

    The starting values must lie on the sliders: ε in [0.01, 10], δ in [1e-10, 0.01], Δ in [0.5, 10].
    """
    epsilon = check_real(epsilon, "epsilon", low=0.01, high=10.0)
    delta = check_real(delta, "delta", low=1e-10, high=1e-2)
    sensitivity = check_real(sensitivity, "sensitivity", low=0.5, high=10.0)
    controls = {
        "epsilon": slider(w.FloatLogSlider, "ε (privacy loss)", value=epsilon, base=10, min=-2,
                          max=1, step=0.05),
        "delta": slider(w.FloatLogSlider, "δ (Gaussian only)", value=delta, base=10, min=-10,
                        max=-2, step=0.5, readout_format=".0e"),
        "sensitivity": slider(w.FloatSlider, "Δ (sensitivity)", value=sensitivity, min=0.5,
                              max=10.0, step=0.5),
    }

    def compute(epsilon: float, delta: float, sensitivity: float) -> dict:
        return compare_mechanisms(sensitivity=sensitivity, epsilon=epsilon, delta=delta)

    return Explorer(controls, compute, mechanism_comparison)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"mechanism": mechanism_explorer}
