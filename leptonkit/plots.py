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
    "HIGHLIGHT_COLOUR",
    "LAPLACE_COLOUR",
    "LEGEND_BELOW",
    "NEUTRAL_COLOUR",
    "PALETTE",
    "SECONDS_PER_YEAR",
    "TEMPLATE",
    "crack_time",
    "finish",
    "human_duration",
    "images_side_by_side",
    "log_ticks",
    "number",
    "reference_line",
]

SECONDS_PER_YEAR = 365.25 * 24 * 3600
AGE_OF_UNIVERSE_YEARS = 1.38e10  # Planck Collaboration 2018
# Okabe & Ito (2008), "Color Universal Design": eight colours that people with any of the common
# colour-vision deficiencies can tell apart. The order is the order traces take them in.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
LAPLACE_COLOUR, GAUSSIAN_COLOUR = PALETTE[0], PALETTE[1]      # blue, vermillion
HIGHLIGHT_COLOUR = "#000000"     # the reader's choice: black, beside any palette colour
NEUTRAL_COLOUR = "#bbbbbb"       # "the others": grey bars and lines that are context only
# A small white template: plotly's named templates are deep-copied into every figure, which
# alone costs an explorer ~20 ms per slider move. No width anywhere: with ``autosize`` a figure
# takes the width of the output it is drawn in. Exponents are written 10ⁿ ("power"), never as SI
# prefixes: "1T years" next to 10⁶⁰ reads as a unit.
_AXIS = {"gridcolor": "#ebebeb", "linecolor": "#444", "zerolinecolor": "#d0d0d0", "ticks": "outside",
         "exponentformat": "power", "automargin": True}
TEMPLATE = go.layout.Template(layout={"autosize": True, "colorway": list(PALETTE),
                                     "paper_bgcolor": "white", "plot_bgcolor": "white",
                                     "font": {"family": "Arial, sans-serif", "size": 13},
                                     "title": {"x": 0.5, "xanchor": "center", "y": 1, "yref": "container",
                                               "yanchor": "top", "pad": {"t": 12}},
                                     "xaxis": _AXIS, "yaxis": _AXIS})
# Under the x axis's tick labels and title, left-aligned. :func:`finish` places it in pixels.
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "xanchor": "left", "x": 0, "y": -0.2}
_LEGEND_GAP_PX = {True: 62, False: 34}     # below the plot area: with an x-axis title, without
_TITLE_CHARACTERS = 80       # wider than this, a title takes two lines (a CJK character counts two)
_TITLE_PAD_PX, _TITLE_LINE_PX, _PANEL_LINE_PX = 12, 22, 17
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_REFERENCE_LINES = [(1 / 365.25, N_("one day"), "bottom left"), (1.0, N_("one year"), "top left"),
                    (AGE_OF_UNIVERSE_YEARS, N_("age of the universe"), "bottom right")]


def number(value: float, digits: int = 3) -> str:
    """``value`` as a person writes it in a title: ``100``, ``0.05``, ``12,500``, ``3 × 10⁻⁵``.

    At most ``digits`` significant digits, no trailing zeros, no ``e+02``: between 10⁻³ and 10⁶ the
    plain decimal (thousands grouped), beyond that a power of ten.
    """
    value = float(value)
    if not np.isfinite(value):
        return "∞" if value > 0 else ("−∞" if value < 0 else "NaN")
    if value == 0:
        return "0"
    sign = "−" if value < 0 else ""
    size = abs(value)
    rounded = float(f"{size:.{digits}g}")
    if 1e-3 <= rounded < 1e6:
        text = f"{rounded:,.{max(0, digits - 1 - int(np.floor(np.log10(rounded))))}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return sign + text
    exponent = int(np.floor(np.log10(rounded)))
    mantissa = float(f"{rounded / 10 ** exponent:.{digits}g}")
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return sign + (power if mantissa == 1 else f"{mantissa:g} × {power}")


def log_ticks(low: float, high: float, *, most: int = 8) -> tuple[list[float], list[str]]:
    """Tick values and labels for a log axis from ``low`` to ``high`` (both > 0): a person's ticks.

    Over two and a half decades or more: powers of ten only, every 1, 2, 3, 5, 10, … decades so that at most
    ``most`` are labelled; over fewer: 1, 2 and 5 times powers of ten (then every digit if that
    leaves fewer than two). Labels come from :func:`number` (``0.01``, ``1,000``, ``10⁶⁰``), never
    the minor-tick digits plotly prints by itself ("4 5 6 7 8 9 1 2").
    """
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 or high < low:
        raise ValueError(f"low and high must be finite with 0 < low <= high, got {low!r} and {high!r}")
    first, last = int(np.floor(np.log10(low) + 1e-9)), int(np.ceil(np.log10(high) - 1e-9))
    last = max(last, first + 1)
    if np.log10(high) - np.log10(low) >= 2.5:
        step = next(s for s in (1, 2, 3, 5, 10, 15, 20, 25, 50, 100, 200, 500, 1000)
                    if (last - first) / s <= most - 1)
        values = [10.0 ** k for k in range(first - first % step, last + 1, step)]
    else:
        values = []
        for mantissas in ((1, 2, 5), tuple(range(1, 10))):
            values = [m * 10.0 ** k for k in range(first, last + 1) for m in mantissas
                      if low * (1 - 1e-9) <= m * 10.0 ** k <= high * (1 + 1e-9)]
            if len(values) >= 2:
                break
    return values, [number(v) for v in values]


def _axis_data(fig: go.Figure, axis: str) -> np.ndarray:
    """Every positive finite value the traces put on layout axis ``axis`` ("xaxis", "yaxis2", …)."""
    letter, suffix = axis[0], axis[5:]
    values = []
    for trace in fig.data:
        if (getattr(trace, f"{letter}axis", None) or letter) != letter + suffix:
            continue
        data = getattr(trace, letter, None)
        if data is None:
            continue
        array = np.asarray(data, dtype=object).ravel()
        values.extend(v for v in array if isinstance(v, (int, float, np.integer, np.floating)))
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array) & (array > 0)]


def _wrap(text: str, most: float) -> str:
    """``text`` broken into two lines at the space (or, in Chinese, the character) nearest its middle
    when it is wider than ``most`` (a CJK character counts two)."""
    def width(part: str) -> int:
        return sum(2 if ord(c) >= 0x2E80 else 1 for c in part)

    if "<br>" in text or width(text) <= most:
        return text
    spaces = [i for i, c in enumerate(text) if c == " "]
    cuts = spaces or [i for i in range(1, len(text))
                      if ord(text[i]) >= 0x2E80 and text[i] not in "，。：；）"]
    if not cuts:
        return text
    cut = min(cuts, key=lambda i: abs(width(text[:i]) - width(text) / 2))
    return text[:cut].rstrip() + "<br>" + text[cut:].lstrip()


def finish(fig: go.Figure, *, height: int, title: str | None = None, legend: bool = False,
           margin: dict | None = None) -> go.Figure:
    """The kit's figure style, in one place: every builder ends with it.

    Sets the template (responsive width: no ``width``), the height and title, legible ticks on
    every log axis that has none of its own (:func:`log_ticks`, from the data the traces put on
    it or its fixed ``range``), and, when ``legend``, a horizontal legend just under the x axis —
    placed in pixels, so it sits as close under a 300-pixel figure as under a 600-pixel one.
    """
    margin = {"t": 60, "b": 50, "l": 60, "r": 30, **(margin or {})}
    layout = fig.layout
    for name in [k for k in layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = layout[name]
        if axis.type != "log" or axis.tickvals is not None or axis.dtick is not None:
            continue
        if axis.range is not None:
            low, high = 10.0 ** axis.range[0], 10.0 ** axis.range[1]
        else:
            data = _axis_data(fig, name)
            if not data.size:
                continue
            low, high = float(data.min()), float(data.max())
        shapes = [s for s in layout.shapes if (s[f"{name[0]}ref"] or "") == name[0] + name[5:]]
        for shape in shapes if axis.range is None else []:
            for end in (shape[f"{name[0]}0"], shape[f"{name[0]}1"]):
                if isinstance(end, (int, float)) and end > 0:
                    low, high = min(low, end), max(high, end)
        tickvals, ticktext = log_ticks(low, high)
        axis.update(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    # Subplot titles (make_subplots writes them as annotations over each panel): two lines when one
    # would run into its neighbour's.
    panel_titles = [a for a in layout.annotations if a.yanchor == "bottom" and a.xref == "paper"
                    and a.yref == "paper" and not a.showarrow]
    if len(panel_titles) > 1:
        for annotation in panel_titles:
            annotation.text = _wrap(annotation.text, 72 / len(panel_titles))
    # The title is pinned to the top (the template) and wrapped when a narrow notebook could not
    # show it whole; the top margin holds it and the panel titles under it, so neither overlaps.
    if title is not None:
        fig.update_layout(title={"text": _wrap(title, _TITLE_CHARACTERS)})
    text = layout.title.text or ""
    if text:
        lines = text.count("<br>") + 1
        panel_lines = max((a.text.count("<br>") + 1 for a in panel_titles), default=0)
        under = _PANEL_LINE_PX * panel_lines + 8 if panel_lines else 12
        needed = _TITLE_PAD_PX + _TITLE_LINE_PX * lines + under
        margin["t"] = max(margin["t"], needed)
    if legend:
        has_title = any(layout[k].title.text for k in layout.to_plotly_json() if k.startswith("xaxis"))
        gap = _LEGEND_GAP_PX[bool(has_title)]
        margin["b"] = max(margin["b"], gap + 48)
        plot_height = max(height - margin["t"] - margin["b"], 1)
        fig.update_layout(legend={**LEGEND_BELOW, "y": -gap / plot_height})
    fig.update_layout(template=TEMPLATE, height=height, margin=margin)
    return fig


def reference_line(fig: go.Figure, value: float, label: str, *, axis: str = "y", log: bool = False,
                   position: str = "top left", row: int | None = None, col: int | None = None,
                   colour: str = "grey", dash: str = "dot") -> go.Figure:
    """A dashed line at ``value`` across the plot, labelled at one end, above or below the line.

    ``position`` is ``"top left"``, ``"bottom right"``, …: which side of the line and which end the
    label takes, so that two close lines can be labelled on opposite sides and never overlap;
    ``"middle outside"`` writes it beyond the plot's right edge (keep ``margin["r"]`` for it).
    ``log`` says that the axis is logarithmic: plotly places a shape in data units but an
    annotation in log units there, which its own ``annotation_text`` gets wrong.
    """
    vertical, _space, end = position.partition(" ")
    if vertical not in ("top", "bottom", "middle") or end not in ("left", "right", "outside"):
        raise ValueError(f"position must be '<top|bottom|middle> <left|right|outside>', got {position!r}")
    where = {"x": value} if axis == "x" else {"y": value}
    line = {"dash": dash, "color": colour, "width": 1}
    (fig.add_vline if axis == "x" else fig.add_hline)(line=line, row=row, col=col, **where)
    shape = fig.layout.shapes[-1]
    at = float(np.log10(value)) if log else value
    font = {"size": 12, "color": "#444"}
    if axis == "y":
        side = {"top": "bottom", "bottom": "top"}.get(vertical, "middle")
        fig.add_annotation(xref=shape.xref, x=0 if end == "left" else 1,
                           xanchor="right" if end == "right" else "left", xshift=4 if end == "outside" else 0,
                           yref=shape.yref, y=at, yanchor=side, text=label, showarrow=False, font=font)
    else:
        fig.add_annotation(yref=shape.yref, y=0 if vertical == "bottom" else 1,
                           yanchor={"top": "top", "bottom": "bottom"}.get(vertical, "middle"),
                           xref=shape.xref, x=at, xanchor="right" if end == "left" else "left",
                           text=label, showarrow=False, font=font)
    return fig


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
                             marker={"size": 14, "color": HIGHLIGHT_COLOUR}))
    for value, label, position in _REFERENCE_LINES:    # "one day" under its line, "one year" over
        reference_line(fig, value, _(label), log=True, position=position)
    average = _("{duration} on average").format(duration=human_duration(years[i] * SECONDS_PER_YEAR))
    fig.update_layout(xaxis_title=x_title, yaxis={"type": "log", "title": _("years (log scale)")})
    return finish(fig, height=420, legend=True, margin={"t": 50},
                  title=(_("{title}: {average}").format(title=title, average=average) if title
                         else average))


def images_side_by_side(images: dict[str, np.ndarray], *, title: str = "") -> go.Figure:
    """Show grey-scale uint8 images next to each other, titled by their keys."""
    names = list(images)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.03)
    for col, name in enumerate(names, start=1):
        fig.add_trace(go.Heatmap(z=np.asarray(images[name])[::-1], colorscale="gray", zmin=0,
                                 zmax=255, showscale=False, hoverinfo="skip"), row=1, col=col)
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    return finish(fig, height=320, title=title, margin={"t": 70, "b": 10})
