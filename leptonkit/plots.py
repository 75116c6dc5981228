"""Pure figure builders: data in, a plotly ``go.Figure`` out — no widgets, no state, no randomness.

Only what more than one lesson uses lives here: the kit's figure style (``TEMPLATE``,
``LEGEND_BELOW``, the mechanism colours), ``human_duration``, and the builders shared by several
notebooks. A builder that only one notebook draws is in that notebook's lesson module
(``leptonkit.lessons.nNN_*``). Explorers (``widgets.Explorer``) wire sliders to builders;
notebooks call them directly for static figures. Every builder returns a figure with a fixed
number of traces, so an explorer can copy a freshly built figure's data into its live
``FigureWidget``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "GAUSSIAN_COLOUR",
    "LAPLACE_COLOUR",
    "LEGEND_BELOW",
    "SECONDS_PER_YEAR",
    "TEMPLATE",
    "crack_time",
    "human_duration",
    "images_side_by_side",
]

SECONDS_PER_YEAR = 365.25 * 24 * 3600
AGE_OF_UNIVERSE_YEARS = 1.38e10  # Planck Collaboration 2018
_REFERENCE_LINES = [(1 / 365.25, "one day"), (1.0, "one year"),
                    (AGE_OF_UNIVERSE_YEARS, "age of the universe")]
# A small white template: plotly's named templates are deep-copied into every figure, which
# alone costs an explorer ~20 ms per slider move.
_AXIS = {"gridcolor": "#ebebeb", "linecolor": "#444", "zerolinecolor": "#d0d0d0", "ticks": "outside"}
TEMPLATE = go.layout.Template(layout={"paper_bgcolor": "white", "plot_bgcolor": "white",
                                     "font": {"family": "Arial, sans-serif", "size": 13},
                                     "xaxis": _AXIS, "yaxis": _AXIS})
LAPLACE_COLOUR, GAUSSIAN_COLOUR = "#1f77b4", "#d62728"
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0}  # under the x-axis title


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
    fig.update_layout(template=TEMPLATE, height=420, margin={"t": 50, "b": 110},
                      title=f"{head}{human_duration(years[i] * SECONDS_PER_YEAR)} on average",
                      xaxis_title=x_title, yaxis={"type": "log", "title": "years (log scale)"},
                      legend=LEGEND_BELOW)
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
    fig.update_layout(template=TEMPLATE, title=title, height=320, margin={"t": 70, "b": 10})
    return fig
