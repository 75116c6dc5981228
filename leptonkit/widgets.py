"""Live explorers: ipywidgets sliders wired to one leptonkit computation and one figure builder.

The pattern every notebook follows: on each slider move an :class:`Explorer` calls its
``compute`` (one library function), hands the result to its ``build`` (one pure figure builder)
and copies the new figure into its ``FigureWidget`` inside ``fig.batch_update()``, so the
browser redraws once. Only the shared machinery lives here — :class:`Explorer` and the slider
factories; each notebook's explorers are in its lesson module (``leptonkit.lessons.nNN_*``,
listed in that module's ``EXPLORERS``), the mathematics in the topic modules, the drawing in
``plots`` or the lesson. This module imports no topic module. Labels and figure text reach it already
in the learner's language: the lessons translate them with ``leptonkit.i18n._`` when they build them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

__all__ = ["DESCRIPTION_WIDTH", "Explorer", "selection_slider", "slider"]

# A description wider than DESCRIPTION_WIDTH is cut off with "…": tests/test_figures.py measures every
# explorer's descriptions, in English and Chinese, in the browser's font.
DESCRIPTION_WIDTH = "190px"
_SLIDER_LAYOUT = {"width": "450px"}
_SLIDER_STYLE = {"description_width": DESCRIPTION_WIDTH}


class Explorer:
    """Sliders driving one figure: ``build(compute(**values), **values)`` on every move.

    Parameters
    ----------
    controls
        Named value widgets (sliders); their names are the keyword arguments of ``compute``.
    compute
        Calls one leptonkit function with the slider values and returns its result.
    build
        A figure builder: takes the result and the slider values, returns a ``go.Figure``
        with the same number of traces every time.

    Attributes
    ----------
    figure : plotly.graph_objects.FigureWidget
        The live figure; tests and benchmarks read it after setting a control's ``value``.
    """

    def __init__(self, controls: Mapping[str, w.ValueWidget], compute: Callable[..., Any],
                 build: Callable[..., go.Figure]):
        self.controls = dict(controls)
        self._compute, self._build = compute, build
        self.figure = go.FigureWidget(self._figure_for(self.values()))
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.widget = w.VBox([w.HBox(list(self.controls.values()),
                                     layout={"flex_flow": "row wrap"}), self.figure])

    def values(self) -> dict[str, Any]:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self) -> None:
        """Recompute and redraw from the current slider values (what a slider move triggers)."""
        new = self._figure_for(self.values())
        if len(new.data) != len(self.figure.data):
            raise RuntimeError("a figure builder must return the same number of traces every time")
        with self.figure.batch_update():
            for trace, fresh in zip(self.figure.data, new.data, strict=True):
                trace.update(fresh.to_plotly_json(), overwrite=True)
            self.figure.layout.update(new.layout.to_plotly_json(), overwrite=True)

    def _figure_for(self, values: dict[str, Any]) -> go.Figure:
        return self._build(self._compute(**values), **values)

    def _on_change(self, _change: dict) -> None:
        self.update()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def slider(cls: type, description: str, **kwargs: Any) -> w.ValueWidget:
    """An ipywidgets slider of class ``cls`` in the kit's layout, updating while it is dragged.

    Parameters
    ----------
    cls
        ``ipywidgets.IntSlider``, ``FloatSlider``, ``FloatLogSlider``, …
    description
        The label shown to its left, already translated (``_("key length (bits)")``).
    **kwargs
        Passed on to ``cls``: ``value``, ``min``, ``max``, ``step``, …
    """
    return cls(description=description, continuous_update=True, layout=_SLIDER_LAYOUT,
               style=_SLIDER_STYLE, **kwargs)


def selection_slider(description: str, options: Sequence[Any], *, near: float) -> w.SelectionSlider:
    """A slider over ``options`` (the rows of a precomputed table), starting at the one nearest ``near``."""
    options = list(options)
    return w.SelectionSlider(description=description, options=options,
                             value=min(options, key=lambda o: abs(o - near)), continuous_update=True,
                             layout=_SLIDER_LAYOUT, style=_SLIDER_STYLE)
