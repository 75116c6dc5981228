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

from .i18n import N_, _

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
_REFERENCE_LINES = [(1 / 365.25, N_("one day")), (1.0, N_("one year")),
                    (AGE_OF_UNIVERSE_YEARS, N_("age of the universe"))]
# A small white template: plotly's named templates are deep-copied into every figure, which
# alone costs an explorer ~20 ms per slider move.
_AXIS = {"gridcolor": "#ebebeb", "linecolor": "#444", "zerolinecolor": "#d0d0d0", "ticks": "outside"}
TEMPLATE = go.layout.Template(layout={"paper_bgcolor": "white", "plot_bgcolor": "white",
                                     "font": {"family": "Arial, sans-serif", "size": 13},
                                     "xaxis": _AXIS, "yaxis": _AXIS})
LAPLACE_COLOUR, GAUSSIAN_COLOUR = "#1f77b4", "#d62728"
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0}  # under the x-axis title


_UNITS = ((1, 60, N_("{value:.3g} second"), N_("{value:.3g} seconds")),
          (60, 60, N_("{value:.3g} minute"), N_("{value:.3g} minutes")),
          (3600, 24, N_("{value:.3g} hour"), N_("{value:.3g} hours")),
          (86400, 365.25, N_("{value:.3g} day"), N_("{value:.3g} days")))
_LARGE_YEARS = ((1, N_("{value:.3g} years")), (1e3, N_("{value:.3g} thousand years")),
                (1e6, N_("{value:.3g} million years")), (1e9, N_("{value:.3g} billion years")),
                (1e12, N_("{value:.3g} trillion years")))


def human_duration(seconds: float) -> str:
    """Say a duration the way a person would: ``"3 hours"``, ``"2.1 million years"``."""
    if not np.isfinite(seconds):
        return _("forever")
    for size, next_unit, one, many in _UNITS:
        if seconds < size * next_unit:
            value = seconds / size
            return _(one if value == 1 else many).format(value=value)
    years = seconds / SECONDS_PER_YEAR
    for size, words in _LARGE_YEARS:
        if years < size * 1000:
            return _(words).format(value=years / size)
    return _("{value:.2e} years").format(value=years)


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
                             marker={"symbol": symbols, "size": 7}, name=_("expected time to guess"),
                             hovertemplate=_("%{x}: %{y:.3g} years<extra></extra>")))
    fig.add_trace(go.Scatter(x=[x[i]], y=[years[i]], mode="markers", name=_("your choice"),
                             marker={"size": 14, "color": "crimson"}))
    for value, label in _REFERENCE_LINES:
        fig.add_hline(y=value, line={"dash": "dot", "color": "grey", "width": 1},
                      annotation_text=_(label), annotation_position="top left")
    average = _("{duration} on average").format(duration=human_duration(years[i] * SECONDS_PER_YEAR))
    fig.update_layout(template=TEMPLATE, height=420, margin={"t": 50, "b": 110},
                      title=(_("{title}: {average}").format(title=title, average=average) if title
                             else average),
                      xaxis_title=x_title, yaxis={"type": "log", "title": _("years (log scale)")},
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
