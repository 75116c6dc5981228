"""Lesson for notebooks/03_privacy_budget.ipynb: composition and the privacy budget.

Here: the exercise checkers 03.1–03.4 and the composition explorer with its figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from leptonkit import accounting, dp
from leptonkit.exercises import NotYet, close_to, exactly, exercise, just_enough
from leptonkit.plots import GAUSSIAN_COLOUR, LAPLACE_COLOUR, LEGEND_BELOW, TEMPLATE
from leptonkit.widgets import Explorer, slider

__all__ = ["COMPOSITION_K_MAX", "EXPLORERS", "composition", "composition_explorer"]

COMPOSITION_K_MAX = 1000


# --- exercises -----------------------------------------------------------------------------


@exercise("03.1", hint="Spend 0.15 at a time on a fresh PrivacyAccountant(1.0) inside a loop, and "
                       "count the spends until PrivacyBudgetExceeded is raised.")
def _spends_that_fit(answer: Any) -> bool:
    return exactly(answer, 6, "{} spends of 0.15 do not add up to the most that fits under 1.0.")


@exercise("03.2", hint="accounting.advanced_composition(0.05, 0.0, 200, delta_prime=1e-6) returns "
                       "(total ε, total δ); answer the ε.")
def _advanced_total(answer: Any) -> bool:
    return close_to(answer, accounting.advanced_composition(0.05, 0.0, 200, delta_prime=1e-6)[0],
                    rel=0.01)


@exercise("03.3", hint="accounting.noise_multiplier_for_epsilon(target_epsilon=3, sample_rate=0.01, "
                       "steps=2000, delta=1e-5).")
def _calibrated_noise(answer: Any) -> bool:
    eps = accounting.dpsgd_epsilon(noise_multiplier=float(answer), sample_rate=0.01, steps=2000,
                                   delta=1e-5)
    return just_enough(eps, 3.0)


@exercise("03.4", hint="One release at ε = 0.1 has standard deviation √2·Δ/ε; the average of k has "
                       "that over √k. Find the smallest k that brings it below 0.8.")
def _repeats_to_average_noise_away(answer: Any) -> bool:
    k = int(answer)
    sd = math.sqrt(2) * dp.laplace_scale(1.0, 0.1)
    if sd / math.sqrt(k) >= 0.8:
        raise NotYet(f"after {k} repeats the average still has standard deviation {sd / math.sqrt(k):.3f}.")
    if sd / math.sqrt(k - 1) < 0.8:
        raise NotYet(f"{k} repeats are enough, but fewer would do: find the smallest.")
    return True


# --- explorer: composition ---------------------------------------------------------------------


def composition(curves: dict, *, k: int, epsilon: float) -> go.Figure:
    """Total ε against the number of queries k: basic, advanced and RDP accounting, k marked.

    ``curves`` is :func:`leptonkit.accounting.composition_curves`.
    """
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
    fig.update_layout(template=TEMPLATE, height=420, margin={"t": 50, "b": 110},
                      title=f"{curves['k'][i]} queries at ε = {epsilon:.3g} each → total ε: {totals}",
                      xaxis={"type": "log", "title": "number of queries k", "dtick": 1},
                      yaxis={"type": "log", "title": "total ε"}, legend=LEGEND_BELOW)
    return fig


def composition_explorer(epsilon: float = 0.1, k: int = 100) -> Explorer:
    """Per-query ε and the number of queries against the total ε by three accountings."""
    controls = {
        "epsilon": slider(w.FloatLogSlider, "ε per query", value=epsilon, base=10, min=-2,
                          max=0, step=0.05),
        "k": slider(w.IntSlider, "number of queries k", value=k, min=1, max=COMPOSITION_K_MAX),
    }

    def compute(epsilon: float, k: int) -> dict:
        return accounting.composition_curves(epsilon=epsilon, k_max=COMPOSITION_K_MAX)

    return Explorer(controls, compute, composition)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"composition": composition_explorer}
