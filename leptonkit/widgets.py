"""Live explorers: ipywidgets sliders wired to one leptonkit computation and one figure builder.

The pattern every notebook follows: on each slider move an :class:`Explorer` calls its
``compute`` (one library function), hands the result to its ``build`` (one pure figure builder)
and copies the new figure into its ``FigureWidget`` inside ``fig.batch_update()``, so the
browser redraws once. Only the shared machinery lives here — :class:`Explorer`, its
:class:`FigureWidget` (one that fills the output's width) and the slider factories; each
notebook's explorers are in its lesson module (``leptonkit.lessons.nNN_*``, listed in that module's
``EXPLORERS``), the mathematics in the topic modules, the drawing in
``plots`` or the lesson. This module imports no topic module. Labels and figure text reach it already
in the learner's language: the lessons translate them with ``leptonkit.i18n._`` when they build them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go
import traitlets

__all__ = ["DESCRIPTION_WIDTH", "Explorer", "FigureWidget", "selection_slider", "slider"]

# A description wider than DESCRIPTION_WIDTH is cut off with "…": tests/test_figures.py measures every
# explorer's descriptions, in English and Chinese, in the browser's font.
DESCRIPTION_WIDTH = "190px"
_SLIDER_LAYOUT = {"width": "450px"}
_SLIDER_STYLE = {"description_width": DESCRIPTION_WIDTH}


# The front end of :class:`FigureWidget`: plotly's own widget module (sent in ``_plotly_esm``, imported
# here as it is), with one addition. Plotly's anywidget ``render`` draws the figure with
# ``Plotly.newPlot`` before JupyterLab attaches the element to the page, so ``autosize`` finds no
# width and plotly takes its default, 700 px; and, unlike its older ipywidgets view (which resized on
# Lumino's ``after-attach``/``resize`` messages), nothing ever resizes it afterwards. So every view
# gets a ResizeObserver on its element that calls the view's own ``autosizeFigure`` (plotly's resize,
# which also tells Python the new size) whenever the element, attached and visible, is not as wide as
# the figure: once on being attached, then on every window or panel resize. The view is found through
# ``FigureView``, which plotly's module exports; a module without it (another plotly) is used unchanged.
_FILL_WIDTH_ESM = """\
const views = new WeakMap();   // element -> plotly's FigureView drawing into it

async function importPlotly(source) {
  const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
  try { return await import(url); } finally { URL.revokeObjectURL(url); }
}

export default () => {
  let plotly, canResize = false;
  return {
    async initialize(context) {
      const module = await importPlotly(context.model.get("_plotly_esm"));
      plotly = typeof module.default === "function" ? await module.default() : module.default;
      const view = module.FigureView?.prototype;
      if (typeof view?.perform_render === "function" && typeof view.autosizeFigure === "function") {
        const performRender = view.perform_render;
        view.perform_render = function (...args) {
          views.set(this.el, this);
          return performRender.apply(this, args);
        };
        canResize = typeof ResizeObserver === "function";
      }
      return plotly.initialize?.(context);
    },
    render(context) {
      const el = context.el, cleanup = plotly.render(context), view = views.get(el);
      if (!canResize || !view) return cleanup;
      const observer = new ResizeObserver(() => {
        const width = parseFloat(getComputedStyle(el).width);
        const drawn = el._fullLayout?.width;
        if (el.isConnected && width > 0 && !(Math.abs(width - drawn) <= 1)) view.autosizeFigure();
      });
      observer.observe(el);
      return () => { observer.disconnect(); return cleanup?.(); };
    },
  };
};
"""


class FigureWidget(go.FigureWidget):
    """A ``go.FigureWidget`` that takes the width of its output, and keeps it when the output is resized.

    Plotly's anywidget front end draws a figure at its default 700 px in JupyterLab and Voilà, however
    wide the output (see ``_FILL_WIDTH_ESM``); this class runs that same front end with a
    ResizeObserver added. Python sees a plain ``go.FigureWidget``: data, layout, ``batch_update`` and
    callbacks are plotly's. A figure with an explicit ``layout.width`` keeps it (plotly's resize
    leaves such figures alone).
    """

    _esm = _FILL_WIDTH_ESM
    _plotly_esm = traitlets.Unicode().tag(sync=True)

    @traitlets.default("_plotly_esm")
    def _default_plotly_esm(self) -> str:
        # plotly's widget module: the text anywidget would send as a go.FigureWidget's ``_esm``
        return str(go.FigureWidget._esm)


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
    figure : FigureWidget
        The live figure (a ``go.FigureWidget`` that fills its output's width); tests and benchmarks
        read it after setting a control's ``value``.
    """

    def __init__(self, controls: Mapping[str, w.ValueWidget], compute: Callable[..., Any],
                 build: Callable[..., go.Figure]):
        self.controls = dict(controls)
        self._compute, self._build = compute, build
        self.figure = FigureWidget(self._figure_for(self.values()))
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
