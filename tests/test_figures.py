"""Figures that read at a glance: every figure builder, drawn by plotly.js in a real browser.

What is drawn: every explorer of every lesson (``leptonkit.lessons.explorers()``, so a new
notebook's explorers are picked up without editing this file) at its defaults, in English and in
Simplified Chinese, and the shared builders of ``leptonkit.plots`` (``crack_time`` over a wide
and a narrow range of times, ``images_side_by_side``).

How: boxes of text can only be known from a text renderer, and a guess from font metrics would
have to model plotly's layout (automargins, subplot titles, legends) as well. So the figures are
drawn the way a learner's browser draws them: Debian's Chromium under Playwright (as in
``tests/test_browser.py``, no browser download, no network) opens a blank page, loads the
``plotly.min.js`` that ships inside the installed ``plotly`` package (the same plotly.js version
the notebook uses) and calls ``Plotly.newPlot`` with each figure's JSON, at two output widths
(a wide notebook and a narrow one). From the drawn SVG it reads ``getBoundingClientRect()`` of
every annotation (reference-line labels, subplot titles), of the title and of the legend, and
checks:

- no two of those boxes overlap (a 1-pixel tolerance for anti-aliasing);
- the figure is as wide as its output (responsive width: no fixed ``width`` anywhere);
- no tick label carries an SI prefix ("1T", "1p" years beside 10⁶⁰), no two tick labels of an axis
  overlap, and every log axis has ticks of its own (``plots.finish`` gives them: plotly's choice
  labels the minor ticks, "4 5 6 7 8 9 1 2").

Slider descriptions: ipywidgets cuts a description wider than its ``description_width`` with
"…" (``overflow: hidden; text-overflow: ellipsis`` in its CSS). Each control's description is
measured in the same page, in JupyterLab's UI font stack at its size (13 px; on Debian this
resolves to DejaVu Sans, wider than the fonts of most desktops, so the check errs on the safe
side), and must fit in the width the control gives it. The Chinese descriptions are the
catalogue's translations of the English ones (each description is a catalogue key).

The explorers are built once (about half a minute: some train a model on their first draw); the
drawing takes a few seconds. With ``CI=true`` a missing Chromium fails; elsewhere it skips.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import ipywidgets
import numpy as np
import plotly
import pytest

from leptonkit import crypto, i18n, lessons, plots

CHROMIUM = Path("/usr/bin/chromium")
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions"]
WIDTHS = (1100, 700)          # output width of a wide and of a narrow notebook, in CSS pixels
# JupyterLab's --jp-ui-font-family and --jp-widgets-font-size (the light theme)
UI_FONT = ('system-ui, -apple-system, blinkmacsystemfont, "Segoe UI", helvetica, arial, sans-serif, '
           '"Apple Color Emoji", "Segoe UI Emoji", "Segoe UI Symbol"')
UI_FONT_SIZE_PX = 13
CHECKBOX_PX = 28              # the box and its margin, left of a checkbox's description
SI_TICK = re.compile(r"^[−-]?\d+(\.\d+)?[yzafpnµmkMGTPEZY]$")

_MEASURE_FIGURE = """
async ([data, layout, width]) => {
  const host = document.getElementById('host');
  host.style.width = width + 'px';
  Plotly.purge(host);
  await Plotly.newPlot(host, data, layout);
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const boxes = [];
  host.querySelectorAll('g.annotation').forEach((g) => {
    const t = g.querySelector('text');
    if (t && t.textContent.trim()) boxes.push({what: 'annotation "' + t.textContent + '"', ...box(t)});
  });
  const title = host.querySelector('.gtitle');
  if (title && title.textContent.trim()) {
    boxes.push({what: 'title "' + title.textContent + '"', ...box(title)});
  }
  const legend = host.querySelector('g.legend');
  if (legend) boxes.push({what: 'the legend', ...box(legend.querySelector('.bg') || legend)});
  const ticks = [];
  host.querySelectorAll('g.xtick text, g.ytick text, g.x2tick text, g.y2tick text, g.x3tick text, '
                        + 'g.y3tick text').forEach((t) => {
    if (t.textContent.trim()) ticks.push({text: t.textContent, axis: t.parentNode.getAttribute('class'),
                                          ...box(t)});
  });
  const svg = host.querySelector('.main-svg').getBoundingClientRect();
  return {boxes, ticks, width: svg.width};
}
"""

_MEASURE_TEXT = """
([texts, font, size]) => texts.map((text) => {
  const span = document.createElement('span');
  span.style.cssText = `font-family: ${font}; font-size: ${size}px; white-space: nowrap; position: absolute;`;
  span.textContent = text;
  document.body.appendChild(span);
  const width = span.getBoundingClientRect().width;
  span.remove();
  return width;
})
"""


def _overlap(a: dict, b: dict, tolerance: float = 1.0) -> bool:
    return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > tolerance
            and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > tolerance)


# --- what is drawn -------------------------------------------------------------------------------


def _shared_figures() -> dict:
    bits = np.arange(8, 257)
    wide = plots.crack_time(bits, crypto.expected_crack_seconds(bits, 1e12), x_title="bits", highlight=56,
                            title="wide")
    cost = np.arange(10, 21)
    narrow = plots.crack_time(cost, 2.0**cost * 1e-6 * 2.0**39, x_title="log₂ N", highlight=14,
                              measured=cost <= 14, title="narrow")
    images = plots.images_side_by_side({"a": np.zeros((8, 8), np.uint8), "b": np.full((8, 8), 255, np.uint8)},
                                       title="images")
    return {"plots.crack_time (wide)": wide, "plots.crack_time (narrow)": narrow,
            "plots.images_side_by_side": images}


@pytest.fixture(scope="module")
def drawn():
    """Every figure (by name and language) and every control's description (by explorer and language)."""
    figures, descriptions = {}, {}
    before = i18n._chosen
    try:
        i18n.set_language("en")
        built = {name: factory() for name, factory in lessons.explorers().items()}
        for language in i18n.LANGUAGES:
            i18n.set_language(language)
            for name, explorer in built.items():
                figure = explorer._figure_for(explorer.values())   # the figure a slider move would draw
                figures[f"{name} ({language})"] = json.loads(figure.to_json())
                descriptions[f"{name} ({language})"] = [
                    (i18n._(control.description), _description_width(control))
                    for control in explorer.controls.values()]
            for name, figure in _shared_figures().items():
                figures[f"{name} ({language})"] = json.loads(figure.to_json())
    finally:
        i18n._chosen = before
    return figures, descriptions


def _description_width(control) -> float:
    if isinstance(control, ipywidgets.Checkbox):    # indent=False: the description follows the box
        return float(control.layout.width.removesuffix("px")) - CHECKBOX_PX
    return float(control.style.description_width.removesuffix("px"))


@pytest.fixture(scope="module")
def page():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is needed in CI")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": max(WIDTHS) + 40, "height": 900})
        local = ("about:", "data:")            # nothing leaves the machine
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(local)
                   else route.abort())
        page.set_content("<html><body style='margin: 0'><div id='host'></div></body></html>")
        page.add_script_tag(path=str(PLOTLY_JS))
        yield page
        browser.close()


@pytest.fixture(scope="module")
def measured(drawn, page):
    figures, _descriptions = drawn
    return {(name, width): page.evaluate(_MEASURE_FIGURE, [figure["data"], figure["layout"], width])
            for name, figure in figures.items() for width in WIDTHS}


# --- the checks ------------------------------------------------------------------------------------


def test_every_explorer_and_shared_builder_is_drawn(drawn):
    figures, _descriptions = drawn
    names = {name.rsplit(" (", 1)[0] for name in figures}
    assert set(lessons.explorers()) <= names and "plots.crack_time (wide)" in names
    assert len(figures) == 2 * (len(lessons.explorers()) + 3)


def test_no_label_overlaps_another(measured):
    """Annotations (reference-line labels, subplot titles), the title and the legend: no two overlap."""
    clashes = []
    for (name, width), found in measured.items():
        boxes = found["boxes"]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                if _overlap(a, b):
                    clashes.append(f"{name} at {width}px: {a['what']} overlaps {b['what']}")
    assert not clashes, "\n".join(clashes)


def test_figures_fill_the_output_width(measured):
    narrow = [f"{name}: {found['width']:.0f}px of {width}px" for (name, width), found in measured.items()
              if abs(found["width"] - width) > 1]
    assert not narrow, "figures that do not take the output's width:\n" + "\n".join(narrow)


def test_tick_labels_are_legible(measured):
    """No SI prefix on an axis ("1T", "1p" years beside 10⁶⁰: the template writes powers of ten) and no two
    tick labels of one axis on top of each other."""
    prefixed, clashes = [], []
    for (name, width), found in measured.items():
        ticks = found["ticks"]
        prefixed += [f"{name}: {t['text']!r} on {t['axis']}" for t in ticks if SI_TICK.match(t["text"])]
        for i, a in enumerate(ticks):
            for b in ticks[i + 1:]:
                if a["axis"] == b["axis"] and _overlap(a, b):
                    clashes.append(f"{name} at {width}px: ticks {a['text']!r} and {b['text']!r} overlap")
    assert not prefixed, "SI prefixes on an axis:\n" + "\n".join(prefixed)
    assert not clashes, "\n".join(clashes)


def test_log_axes_label_no_minor_ticks(drawn):
    """A log axis either labels its own ticks (``plots.finish`` gives it ``tickvals``) or none at all:
    plotly's own choice for a log axis spanning a decade or two labels the minor ticks 2 … 9."""
    loose = []
    for name, figure in drawn[0].items():
        for key, axis in figure["layout"].items():
            if not key.startswith(("xaxis", "yaxis")) or axis.get("type") != "log":
                continue
            unlabelled = axis.get("showticklabels") is False or axis.get("visible") is False
            if not (axis.get("tickvals") or unlabelled):
                loose.append(f"{name}: {key}")
    assert not loose, "log axes left to plotly's minor-tick labels:\n" + "\n".join(loose)


def test_no_slider_description_is_cut_off(drawn, page):
    _figures, descriptions = drawn
    cut = []
    for name, labels in descriptions.items():
        widths = page.evaluate(_MEASURE_TEXT, [[text for text, _room in labels], UI_FONT, UI_FONT_SIZE_PX])
        for (text, room), width in zip(labels, widths, strict=True):
            if np.ceil(width) > room:
                cut.append(f"{name}: {text!r} needs {width:.0f}px, has {room:.0f}px")
    assert not cut, "descriptions ipywidgets would cut off with …:\n" + "\n".join(cut)
