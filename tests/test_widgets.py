"""Explorers recompute their figure when a slider moves; builders are pure.

The explorers are gathered from every lesson's ``EXPLORERS`` (``leptonkit.lessons.explorers()``).
"""

from __future__ import annotations

import re

import ipywidgets
import numpy as np
import plotly.graph_objects as go
import pytest

from leptonkit import crypto, dp, he, lessons, mpc, plots, widgets
from leptonkit.lessons import (
    n00_welcome,
    n01_encryption,
    n02_laplace_vs_gaussian,
    n03_privacy_budget,
    n06_secret_sharing,
)

EXPLORERS = lessons.explorers()


@pytest.fixture(scope="module")
def kdf_table():
    return crypto.kdf_cost_table(measured_up_to=11, repeats=1)


@pytest.fixture(scope="module")
def paillier_table():
    return he.cost_table((1024, 2048), repeats=1)


def _explorer(name, kdf_table, paillier_table):
    tables = {"kdf_cost": kdf_table, "paillier_cost": paillier_table}
    return EXPLORERS[name](tables[name]) if name in tables else EXPLORERS[name]()


def test_every_lesson_declares_its_explorers():
    """Each lesson declares its own explorers, under names no other lesson uses (a new notebook's
    explorers are picked up here without editing this file)."""
    declared = [name for lesson in lessons.lessons() for name in lesson.EXPLORERS]
    assert len(declared) == len(set(declared)) == len(EXPLORERS), "two lessons declare the same explorer"
    for lesson in lessons.lessons():
        assert lesson.EXPLORERS, f"{lesson.__name__} declares no explorer"
        for factory in lesson.EXPLORERS.values():
            assert factory.__module__ == lesson.__name__


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_every_slider_move_changes_the_figure(name, kdf_table, paillier_table):
    explorer = _explorer(name, kdf_table, paillier_table)
    for control in explorer.controls.values():
        before = explorer.figure.to_json()
        if isinstance(control, ipywidgets.Checkbox):
            low, high = False, True
        elif isinstance(control, ipywidgets.SelectionSlider):
            low, high = control.options[0], control.options[-1]
        elif isinstance(control, ipywidgets.FloatLogSlider):
            low, high = control.base ** control.min, control.base ** control.max
        else:
            low, high = control.min, control.max
        control.value = high if control.value != high else low
        after = explorer.figure.to_json()
        assert after != before, f"moving {control.description} changed nothing"


def test_explorer_figures_run_plotlys_front_end_with_a_resize_observer():
    """An explorer's figure is a plain go.FigureWidget in Python; in the browser it runs plotly's own
    widget module (sent whole in ``_plotly_esm``) with a ResizeObserver that calls that module's
    ``FigureView.autosizeFigure``. Should a plotly release stop exporting those names, the figures
    would silently fall back to plotly's 700 px: this says so first."""
    figure = n02_laplace_vs_gaussian.mechanism_explorer().figure
    assert isinstance(figure, widgets.FigureWidget) and isinstance(figure, go.FigureWidget)
    state = figure.get_state()
    bundle = str(go.FigureWidget._esm)
    assert state["_plotly_esm"] == bundle and state["_esm"] == widgets._FILL_WIDTH_ESM
    assert "ResizeObserver" in state["_esm"] and 'model.get("_plotly_esm")' in state["_esm"]
    assert re.search(r"export\s*\{[^}]*\bas FigureView\b", bundle), "plotly's module exports no FigureView"
    for method in ("perform_render(){", "autosizeFigure(){"):
        assert method in bundle, f"plotly's FigureView has no {method[:-3]}"


def test_key_search_explorer_shows_the_library_result():
    explorer = n00_welcome.key_search_explorer(bits=56, log10_guesses_per_second=12)
    explorer.controls["bits"].value = 80
    curve, marker = explorer.figure.data
    years = crypto.expected_crack_seconds(80, 1e12) / plots.SECONDS_PER_YEAR
    assert marker.x == (80,) and marker.y[0] == pytest.approx(years)
    assert "19.2 thousand years" in explorer.figure.layout.title.text
    np.testing.assert_allclose(curve.y, crypto.expected_crack_seconds(n00_welcome.KEY_BITS_AXIS, 1e12)
                               / plots.SECONDS_PER_YEAR)


def test_kdf_explorer_reads_the_measured_table(kdf_table):
    explorer = n01_encryption.kdf_cost_explorer(kdf_table, log2_n=12, password_bits=40)
    curve, marker = explorer.figure.data
    expected = kdf_table["seconds"][2] * 2.0**39 / plots.SECONDS_PER_YEAR
    assert marker.y[0] == pytest.approx(expected)
    assert list(curve.marker.symbol[:3]) == ["circle", "circle", "circle-open"]


def test_human_duration():
    assert plots.human_duration(1) == "1 second"
    assert plots.human_duration(90) == "1.5 minutes"
    assert plots.human_duration(4 * 86400) == "4 days"
    assert plots.human_duration(2e6 * plots.SECONDS_PER_YEAR) == "2 million years"
    assert plots.human_duration(float("inf")) == "forever"
    assert plots.human_duration(1e30 * plots.SECONDS_PER_YEAR) == "1.00e+30 years"


def test_images_side_by_side_builds_one_heatmap_each():
    fig = plots.images_side_by_side({"a": np.zeros((4, 4), np.uint8), "b": np.ones((4, 4), np.uint8)})
    assert [t.type for t in fig.data] == ["heatmap", "heatmap"]


def test_mechanism_explorer_shows_compare_mechanisms():
    explorer = n02_laplace_vs_gaussian.mechanism_explorer(epsilon=1.0, delta=1e-5, sensitivity=1.0)
    explorer.controls["epsilon"].value = 2.0
    laplace_density = explorer.figure.data[0]
    b = dp.laplace_scale(1.0, 2.0)
    assert max(laplace_density.y) == pytest.approx(1 / (2 * b), rel=1e-3)
    assert "ε = 2" in explorer.figure.layout.title.text


def test_composition_explorer_marks_the_chosen_k():
    explorer = n03_privacy_budget.composition_explorer(epsilon=0.1, k=100)
    explorer.controls["k"].value = 1000
    marker = explorer.figure.data[-1]
    assert marker.x[0] == 1000 and marker.y[0] == pytest.approx(100.0)  # basic: kε


def test_threshold_explorer_counts_what_shares_reveal():
    explorer = n06_secret_sharing.threshold_explorer(threshold=3, n_parties=5, holders=2)
    counts = explorer.figure.data[2].y
    assert len(set(counts)) == 1 and "every secret equally likely" in explorer.figure.layout.title.text
    explorer.controls["holders"].value = 3
    counts = np.asarray(explorer.figure.data[2].y)
    assert counts[n06_secret_sharing.SHAMIR_SECRET] == 1 and counts.sum() == 1
    assert f"the secret is {n06_secret_sharing.SHAMIR_SECRET}" in explorer.figure.layout.title.text
    explorer.controls["threshold"].value = n06_secret_sharing.SHAMIR_MAX_THRESHOLD   # t > n: n follows
    assert len(explorer.figure.data[0].x) == n06_secret_sharing.SHAMIR_MAX_THRESHOLD


def test_secure_aggregation_explorer_recovers_the_survivors_sum():
    updates = np.random.default_rng(0).normal(size=(7, 5))
    explorer = n06_secret_sharing.secure_aggregation_explorer(updates)
    explorer.controls["dropouts"].value = 3
    recovered = np.asarray(explorer.figure.data[2].y)
    np.testing.assert_allclose(recovered, updates[3:].sum(axis=0), atol=7 * 2.0 ** -(mpc.FRACTIONAL_BITS + 1))
    assert len(explorer.figure.data[0].y) == 4
    assert "3 of 7 clients dropped" in explorer.figure.layout.title.text
